#!/usr/bin/env bash
# Snapshots: each is a directory named by its timestamp; unchanged files are
# hard links into the previous snapshot (rsync --link-dest).

# The rsync --exclude options for the configured patterns.
exclude_args() {
  local pattern
  for pattern in "${CFG_EXCLUDE[@]}"; do
    printf -- '--exclude=%s\n' "$pattern"
  done
}

# Takes a new snapshot of CFG_SOURCE into CFG_TARGET.
function snapshot_create {
  local id previous
  id="$(date '+%Y%m%d-%H%M%S')"
  previous="$(snapshot_list | head -n 1)"
  local -a args=(-a --delete)
  mapfile -t -O "${#args[@]}" args < <(exclude_args)
  [[ -n "$previous" ]] && args+=("--link-dest=../$previous")
  log info "creating snapshot $id"
  if remote_target "$CFG_TARGET"; then
    remote_sync "$CFG_SOURCE/" "$CFG_TARGET/$id" "${args[@]}"
  else
    rsync "${args[@]}" "$CFG_SOURCE/" "$CFG_TARGET/$id"
  fi
  log info "snapshot $id done"
}

# Lists snapshot ids, newest first.
function snapshot_list() {
  if remote_target "$CFG_TARGET"; then
    remote_run "$CFG_TARGET" ls -1 | sort -r
  else
    ls -1 "$CFG_TARGET" 2>/dev/null | sort -r
  fi
}

# Deletes all but the newest KEEP snapshots.
# Usage: snapshot_prune KEEP
snapshot_prune() {
  local keep="$1" id
  snapshot_list | tail -n +"$((keep + 1))" | while read -r id; do
    log info "pruning snapshot $id"
    if remote_target "$CFG_TARGET"; then
      remote_run "$CFG_TARGET" rm -rf -- "$id"
    else
      rm -rf -- "${CFG_TARGET:?}/$id"
    fi
  done
}

# Copies snapshot ID back into the current directory.
snapshot_restore() {
  local id="$1"
  snapshot_list | grep -qx -- "$id" || die "no such snapshot: $id"
  log info "restoring snapshot $id into $PWD"
  rsync -a "$CFG_TARGET/$id/" ./
}

# Prints the disk usage of each snapshot in human-readable units.
snapshot_sizes() {
  if remote_target "$CFG_TARGET"; then
    remote_run "$CFG_TARGET" du -sh -- *
  else
    (cd "$CFG_TARGET" && du -sh -- *)
  fi
}
