#!/usr/bin/env bats

setup() {
  source "$BATS_TEST_DIRNAME/../lib/log.sh"
  source "$BATS_TEST_DIRNAME/../lib/config.sh"
}

@test "trim removes surrounding whitespace" {
  run trim "  a b  "
  [ "$output" = "a b" ]
}

@test "remote targets have a host part" {
  source "$BATS_TEST_DIRNAME/../lib/remote.sh"
  remote_target "me@host:/backups"
  ! remote_target "/backups"
}
