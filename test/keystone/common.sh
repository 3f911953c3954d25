# Shared by start.sh and stop.sh: where the state lives and how to tell our server from a stale pidfile.
# shellcheck shell=bash

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${KEYSTONE_DIR:-$repo_root/.keystone}"
mkdir -p "$state_dir"
state_dir="$(cd "$state_dir" && pwd)"
pid_file="$state_dir/uwsgi.pid"
# Everything start.sh and the test setup write, named one by one so that a wipe can never reach a file
# they did not make (KEYSTONE_DIR may point anywhere).
generated=(keystone.conf policy.yaml policy.d keystone.db keystone.db-wal keystone.db-shm keystone.db-journal
  fernet-keys credential-keys manage.log keystone.log uwsgi.pid configured bootstrapped leases)

# A pidfile can outlive its process (reboot, kill -9) and the pid can be reused by anything, so
# only a live uwsgi that was started with this very pidfile counts as ours.
running_pid() {
  local pid
  [[ -s "$pid_file" ]] || return 1
  pid="$(tr -d '[:space:]' <"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  grep -qaF -- "$pid_file" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Serialises start and stop between callers (two test runs, a developer's shell); waits rather than fails.
take_lock() {
  exec {lock_fd}>"$state_dir/.lock"
  if ! flock -w 240 "$lock_fd"; then
    echo "keystone: another start/stop has held $state_dir/.lock for 4 minutes; giving up" >&2
    exit 1
  fi
}

say() { echo "keystone: $*" >&2; }

# Test runs using this Keystone leave leases/<pid> (see test/global-setup.ts); prints the live ones.
live_leases() {
  local lease
  for lease in "$state_dir"/leases/*; do
    [[ -e "$lease" ]] || continue
    kill -0 "${lease##*/}" 2>/dev/null && echo "${lease##*/}"
  done
  return 0
}
