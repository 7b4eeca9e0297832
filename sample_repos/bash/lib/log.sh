#!/usr/bin/env bash
# Leveled logging to stderr, with timestamps.

LOG_LEVEL="${LOG_LEVEL:-info}"

# The numeric rank of a level name: debug < info < warn < error.
_log_rank() {
  case "$1" in
    debug) echo 0 ;;
    info) echo 1 ;;
    warn) echo 2 ;;
    *) echo 3 ;;
  esac
}

# Logs a message at a level if LOG_LEVEL lets it through.
# Usage: log LEVEL MESSAGE...
log() {
  local level="$1"
  shift
  if (( $(_log_rank "$level") >= $(_log_rank "$LOG_LEVEL") )); then
    printf '%s [%s] %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$level" "$*" >&2
  fi
}

# Logs an error and exits with status 1.
die() {
  log error "$@"
  exit 1
}
