#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

logger_t global_logger;

/* Short upper-case name of a level, as printed in front of each line. */
static const char *level_name(enum log_level level) {
  switch (level) {
  case LOG_DEBUG: return "DEBUG";
  case LOG_INFO: return "INFO";
  case LOG_WARN: return "WARN";
  default: return "ERROR";
  }
}

/* Prepares a logger keeping the last `lines` lines at or above `threshold`. */
int log_open(logger_t *lg, size_t lines, enum log_level threshold) {
  lg->threshold = threshold;
  lg->echo_stderr = 0;
  return ring_init(&lg->buffer, lines);
}

/*
 * Formats a line with a timestamp and level prefix and stores it in the ring.
 * Lines below the threshold are dropped; returns -1 if the line cannot be stored.
 */
int log_write(logger_t *lg, enum log_level level, const char *fmt, ...) {
  char line[512];
  int n;
  va_list ap;

  if (level < lg->threshold)
    return 0;
  n = snprintf(line, sizeof line, "%ld %s ", (long)time(NULL), level_name(level));
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  if (lg->echo_stderr)
    fprintf(stderr, "%s\n", line);
  return ring_push(&lg->buffer, line);
}

/* Prints the stored lines to `out`, oldest first. */
void log_dump(const logger_t *lg, FILE *out) {
  size_t age = lg->buffer.count;
  while (age-- > 0)
    fprintf(out, "%s\n", ring_get(&lg->buffer, age));
}

/* Turns copying each stored line to stderr on or off. */
void log_set_echo(logger_t *lg, int on) {
  lg->echo_stderr = on != 0;
}
