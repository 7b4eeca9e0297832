#!/usr/bin/env bash
# Remote targets written as user@host:/path, reached over ssh.

# Succeeds when the target is remote (has a host part).
remote_target() {
  [[ "$1" == *:* ]]
}

# Runs a command in the target's directory on its host.
# Usage: remote_run TARGET COMMAND...
remote_run() {
  local target="$1"
  shift
  local host="${target%%:*}" dir="${target#*:}"
  ssh -o BatchMode=yes "$host" "cd $(printf '%q' "$dir") && $(printf '%q ' "$@")"
}

# Copies a directory to the remote target with rsync over ssh, retrying twice
# when the connection drops.
remote_sync() {
  local src="$1" dest="$2"
  shift 2
  local attempt
  for attempt in 1 2 3; do
    if rsync -e "ssh -o BatchMode=yes" "$@" "$src" "$dest"; then
      return 0
    fi
    log warn "rsync to $dest failed (attempt $attempt), retrying"
    sleep $((attempt * 5))
  done
  die "could not copy to $dest"
}
