#!/usr/bin/env bash
# One run at a time: a lock file held with flock while a command runs.

LOCK_FILE="${XDG_RUNTIME_DIR:-/tmp}/snapback.lock"

# Runs a command while holding the lock; fails at once if another run holds it.
# Usage: with_lock COMMAND...
with_lock() {
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    die "another snapback run is in progress"
  fi
  # Releases the lock when the shell exits, however it exits.
  release_lock() {
    flock -u 9
    rm -f "$LOCK_FILE"
  }
  trap release_lock EXIT
  "$@"
}
