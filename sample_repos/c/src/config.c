#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Settings read from a `key = value` file. */
struct config {
  size_t ring_lines;
  enum log_level threshold;
  int echo;
};

/* Parses a level name such as "warn"; unknown names mean LOG_INFO. */
static enum log_level parse_level(const char *value) {
  if (strcmp(value, "debug") == 0) return LOG_DEBUG;
  if (strcmp(value, "warn") == 0) return LOG_WARN;
  if (strcmp(value, "error") == 0) return LOG_ERROR;
  return LOG_INFO;
}

/* Strips leading and trailing blanks in place and returns the start. */
static char *trim(char *s) {
  char *end;
  while (*s == ' ' || *s == '\t')
    s++;
  end = s + strlen(s);
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
    *--end = '\0';
  return s;
}

/*
 * Loads settings from `path` into `cfg`, keeping defaults for missing keys.
 * Lines starting with '#' are comments. Returns -1 if the file cannot be opened.
 */
int config_load(const char *path, struct config *cfg) {
  char buf[256];
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  while (fgets(buf, sizeof buf, f) != NULL) {
    char *eq = strchr(buf, '=');
    char *key = trim(buf);
    if (*key == '#' || eq == NULL)
      continue;
    *eq = '\0';
    key = trim(buf);
    if (strcmp(key, "lines") == 0)
      cfg->ring_lines = (size_t)strtoul(trim(eq + 1), NULL, 10);
    else if (strcmp(key, "level") == 0)
      cfg->threshold = parse_level(trim(eq + 1));
    else if (strcmp(key, "echo") == 0)
      cfg->echo = atoi(trim(eq + 1));
  }
  fclose(f);
  return 0;
}
