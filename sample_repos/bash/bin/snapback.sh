#!/usr/bin/env bash
# snapback: incremental backups of a directory to a local or remote target,
# with retention of the last N snapshots.
set -euo pipefail

SNAPBACK_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../lib/log.sh
source "$SNAPBACK_HOME/lib/log.sh"
source "$SNAPBACK_HOME/lib/config.sh"
source "$SNAPBACK_HOME/lib/snapshot.sh"
source "$SNAPBACK_HOME/lib/remote.sh"
source "$SNAPBACK_HOME/lib/lock.sh"
source "$SNAPBACK_HOME/lib/notify.sh"

trap on_error ERR

# Prints the command-line help.
usage() {
  cat <<USAGE
Usage: snapback [-c config] <command>

Commands:
  backup     take a snapshot of the source directory
  list       list the snapshots, newest first
  sizes      show the disk usage of each snapshot
  prune      delete snapshots beyond the retention count
  restore ID restore snapshot ID into the current directory
USAGE
}

# Parses the options and runs one command.
main() {
  local config_file="${SNAPBACK_CONFIG:-$HOME/.config/snapback.conf}"
  while getopts ":c:vh" opt; do
    case "$opt" in
      c) config_file="$OPTARG" ;;
      v) LOG_LEVEL=debug ;;
      h) usage; exit 0 ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  shift $((OPTIND - 1))

  config_load "$config_file"
  case "${1:-}" in
    backup) with_lock snapshot_create ;;
    list) snapshot_list ;;
    sizes) snapshot_sizes ;;
    prune) with_lock snapshot_prune "$CFG_KEEP" ;;
    restore) snapshot_restore "${2:?snapshot id required}" ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
