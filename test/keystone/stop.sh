#!/usr/bin/env bash
# Stops the test Keystone started by start.sh and waits until it is gone. Data stays for a quick
# restart unless --clean is given. Uses the same KEYSTONE_DIR as start.sh.
set -euo pipefail

# shellcheck source=test/keystone/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

clean=0
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    *)
      echo "usage: $0 [--clean]" >&2
      exit 2
      ;;
  esac
done

stop_server() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$pid_file"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid ignored SIGTERM for 30 s; killing its process group"
    # setsid made the master a group leader, so its workers go with it.
    kill -KILL -- "-$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$pid_file"
}

take_lock
users="$(live_leases | tr '\n' ' ')"
[[ -z "$users" ]] || say "test runs (pids ${users% }) are still using this Keystone; stopping it anyway"
stop_server
if ((clean)); then
  for name in "${generated[@]}"; do rm -rf "${state_dir:?}/$name"; done
  rm -f "$state_dir/.lock"
  rmdir "$state_dir" 2>/dev/null || true
  say "removed the data in $state_dir"
fi
