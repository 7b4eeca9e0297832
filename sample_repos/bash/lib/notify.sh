#!/usr/bin/env bash
# Notifications when a backup fails: mail, or a desktop notification when there is no mail.

# Sends a message to SNAPBACK_MAILTO, or shows it on the desktop.
# Usage: notify_failure SUBJECT BODY
notify_failure() {
  local subject="$1" body="$2"
  if [[ -n "${SNAPBACK_MAILTO:-}" ]] && command -v mail >/dev/null; then
    printf '%s\n' "$body" | mail -s "snapback: $subject" "$SNAPBACK_MAILTO"
  elif command -v notify-send >/dev/null; then
    notify-send --urgency=critical "snapback: $subject" "$body"
  else
    log warn "no way to send a notification: $subject"
  fi
}

# Reports the failing command and its status through notify_failure (an ERR trap).
on_error() {
  local status=$? command="$BASH_COMMAND"
  notify_failure "backup failed" "'$command' exited with status $status on $(hostname)"
}
