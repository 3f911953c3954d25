#!/usr/bin/env bash
# Starts a throwaway Keystone for the integration tests, or reuses the one already running, and prints
# its auth URL on stdout (progress goes to stderr). State lives in KEYSTONE_DIR (default .keystone/).
#   KEYSTONE_PORT (default 5391), KEYSTONE_ADMIN_PASSWORD (default kaizen-test-admin),
#   KEYSTONE_READY_TIMEOUT seconds (default 90).
set -euo pipefail

# shellcheck source=test/keystone/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

port="${KEYSTONE_PORT:-5391}"
admin_password="${KEYSTONE_ADMIN_PASSWORD:-kaizen-test-admin}"
ready_timeout="${KEYSTONE_READY_TIMEOUT:-90}"
auth_url="http://127.0.0.1:$port/v3"
packages=(python3-keystone uwsgi-core uwsgi-plugin-python3)

# Prints the HTTP status of GET url, or 000 when nothing answers.
http_status() {
  if command -v curl >/dev/null; then
    curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" || true
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) })
      .then((r) => console.log(r.status), () => console.log("000"))' "$1"
  fi
}

packages_missing() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 0
  done
  return 1
}

install_packages() {
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  say "installing ${packages[*]} (about a minute on a bare machine)"
  # The lock timeout lets a machine that is still finishing its own apt run be waited for, not failed.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${packages[@]}" >&2
}

wipe_generated() {
  local name
  for name in "${generated[@]}"; do
    # A half-configured directory is rebuilt, but the leases of runs waiting for it stay.
    [[ "$name" == leases ]] || rm -rf "${state_dir:?}/$name"
  done
}

manage() {
  /usr/bin/keystone-manage --config-file "$state_dir/keystone.conf" "$@" >>"$state_dir/manage.log" 2>&1
}

write_config() {
  mkdir -p "$state_dir/policy.d"
  # An empty policy keeps Keystone's built-in defaults while making sure nothing is read from /etc/keystone.
  echo '{}' >"$state_dir/policy.yaml"
  cat >"$state_dir/keystone.conf" <<CONF
[DEFAULT]
use_stderr = true

[database]
connection = sqlite:///$state_dir/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $state_dir/fernet-keys

[fernet_receipts]
key_repository = $state_dir/fernet-keys

[credential]
key_repository = $state_dir/credential-keys

[identity]
# bcrypt's default cost makes every token take most of a second; this instance guards nothing.
password_hash_rounds = 4

[cache]
enabled = true
backend = dogpile.cache.memory

[oslo_policy]
policy_file = $state_dir/policy.yaml
policy_dirs = $state_dir/policy.d
CONF
}

configure() {
  say "configuring a new Keystone in $state_dir"
  wipe_generated
  write_config
  local user group
  user="$(id -un)"
  group="$(id -gn)"
  manage db_sync &
  local db_sync=$!
  manage fernet_setup --keystone-user "$user" --keystone-group "$group" &
  local fernet=$!
  manage credential_setup --keystone-user "$user" --keystone-group "$group" &
  local credential=$!
  local failed=0
  wait "$db_sync" || failed=1
  wait "$fernet" || failed=1
  wait "$credential" || failed=1
  if ((failed)); then
    say "keystone-manage failed; see $state_dir/manage.log"
    tail -n 20 "$state_dir/manage.log" >&2
    exit 1
  fi
  # With SQLite's default journal, the write that follows a token issue waits 5 s and fails with
  # "database is locked"; WAL mode persists in the file.
  /usr/bin/python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' \
    "$state_dir/keystone.db"
  touch "$state_dir/configured"
}

# Bootstrap is idempotent; it runs again only when the port (endpoint URLs) or the admin password changed.
bootstrap() {
  local fingerprint
  fingerprint="$(printf '%s\n%s\n' "$port" "$admin_password" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$state_dir/bootstrapped" && "$(cat "$state_dir/bootstrapped")" == "$fingerprint" ]]; then
    return 0
  fi
  say "bootstrapping admin user, project, roles and catalog (region RegionOne)"
  if ! manage bootstrap --bootstrap-username admin --bootstrap-password "$admin_password" \
    --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
    --bootstrap-region-id RegionOne --bootstrap-admin-url "$auth_url/" \
    --bootstrap-public-url "$auth_url/" --bootstrap-internal-url "$auth_url/"; then
    say "keystone-manage bootstrap failed; see $state_dir/manage.log"
    tail -n 20 "$state_dir/manage.log" >&2
    exit 1
  fi
  echo "$fingerprint" >"$state_dir/bootstrapped"
}

launch() {
  rm -f "$pid_file"
  # One process, one thread: threads break SQLite and several processes lock it. setsid keeps the
  # server alive after this shell. Every inherited descriptor is closed: a server holding our lock
  # would block the next caller, and one holding a caller's pipe would keep that caller waiting forever.
  (
    local fd
    for fd in $(ls "/proc/$BASHPID/fd"); do
      if ((fd > 2)); then { exec {fd}>&-; } 2>/dev/null || true; fi
    done
    cd "$state_dir"
    OS_KEYSTONE_CONFIG_DIR="$state_dir" OS_KEYSTONE_CONFIG_FILES=keystone.conf \
      exec setsid /usr/bin/uwsgi-core --plugins python3 --http-socket "127.0.0.1:$port" \
      --wsgi-file /usr/bin/keystone-wsgi-public --master --lazy-apps --processes 1 --threads 1 \
      --die-on-term --need-app --vacuum --pidfile "$pid_file" \
      --add-header "Connection: close" \
      </dev/null >"$state_dir/keystone.log" 2>&1
  ) &
  disown
}

wait_until_ready() {
  local deadline=$((SECONDS + ready_timeout))
  local status
  while ((SECONDS < deadline)); do
    status="$(http_status "$auth_url")"
    [[ "$status" == 200 ]] && return 0
    # A server that died while starting will not get better: report at once.
    if [[ -s "$pid_file" ]] && ! running_pid >/dev/null; then break; fi
    sleep 0.2
  done
  say "Keystone did not become ready at $auth_url within ${ready_timeout}s; last lines of $state_dir/keystone.log:"
  tail -n 30 "$state_dir/keystone.log" >&2 || true
  exit 1
}

main() {
  take_lock
  local status pid
  status="$(http_status "$auth_url")"
  if [[ "$status" == 200 ]]; then
    if pid="$(running_pid)"; then
      say "reusing the running Keystone (pid $pid)"
    else
      say "something already answers GET $auth_url with 200 but was not started from $state_dir; reusing it"
    fi
    echo "$auth_url"
    return 0
  fi
  if pid="$(running_pid)"; then
    say "Keystone (pid $pid) is running but not answering yet; waiting"
    wait_until_ready
    echo "$auth_url"
    return 0
  fi
  if [[ "$status" != 000 ]]; then
    say "port $port answers HTTP $status and is not this Keystone; choose another with KEYSTONE_PORT"
    exit 1
  fi

  packages_missing && install_packages
  if [[ -f "$state_dir/configured" ]]; then
    say "restarting on the existing data in $state_dir"
    write_config
  else
    configure
  fi
  bootstrap
  launch
  wait_until_ready
  say "ready: $auth_url (pid $(running_pid || echo '?'))"
  echo "$auth_url"
}

main "$@"
