#!/usr/bin/env bash
# Reading the key=value configuration file.

# Loads the configuration file into CFG_* variables, with defaults,
# and checks that the source directory exists.
config_load() {
  local file="$1" key value
  CFG_SOURCE=""
  CFG_TARGET=""
  CFG_KEEP=7
  CFG_EXCLUDE=()
  [[ -r "$file" ]] || die "cannot read config file $file"
  while IFS='=' read -r key value; do
    key="$(trim "$key")"
    [[ -z "$key" || "$key" == \#* ]] && continue
    value="$(trim "$value")"
    case "$key" in
      source) CFG_SOURCE="$value" ;;
      target) CFG_TARGET="$value" ;;
      keep) CFG_KEEP="$value" ;;
      exclude) CFG_EXCLUDE+=("$value") ;;
      *) log warn "unknown config key: $key" ;;
    esac
  done <"$file"
  [[ -d "$CFG_SOURCE" ]] || die "source directory not found: $CFG_SOURCE"
  [[ -n "$CFG_TARGET" ]] || die "no target configured"
}

# Removes leading and trailing whitespace from its argument.
trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}
