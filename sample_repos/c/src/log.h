#ifndef RINGLOG_LOG_H
#define RINGLOG_LOG_H

#include "ring.h"

/* Severity of a log line, lowest first. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Logs a formatted line at `level` through the global logger. */
#define LOGF(level, ...) log_write(&global_logger, (level), __VA_ARGS__)

typedef struct {
  struct ring buffer;
  enum log_level threshold;
  int echo_stderr;
} logger_t;

extern logger_t global_logger;

int log_open(logger_t *lg, size_t lines, enum log_level threshold);
int log_write(logger_t *lg, enum log_level level, const char *fmt, ...);
void log_dump(const logger_t *lg, FILE *out);
void log_set_echo(logger_t *lg, int on);

#endif
