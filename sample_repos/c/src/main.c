#include <stdio.h>

#include "log.h"

struct config;
int config_load(const char *path, struct config *cfg);

/* Reads lines from stdin into the log and prints the last ones at exit. */
int main(int argc, char **argv) {
  char line[256];
  (void)argc;
  (void)argv;
  if (log_open(&global_logger, 100, LOG_INFO) != 0) {
    fprintf(stderr, "cannot allocate the log ring\n");
    return 1;
  }
  while (fgets(line, sizeof line, stdin) != NULL)
    LOGF(LOG_INFO, "%s", line);
  log_dump(&global_logger, stdout);
  ring_free(&global_logger.buffer);
  return 0;
}
