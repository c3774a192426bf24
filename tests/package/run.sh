#!/usr/bin/env bash
# The Debian package, installed on this machine (as root, without systemd
# as PID 1, as in CI's Debian 12 container): its users, the owners and
# modes of every file and directory, both units checked by systemd-analyze
# (verify, and security rated OK or better), then both roles run as their
# users with their units' ExecStart lines: a sign-up over HTTP on loopback
# reaches the intake, the keeper folds it, and the intake's user can read
# neither the records' file nor the keeper keyring. Ends by purging the
# package and removing its users, leaving the machine as it was.
# Builds the .deb with scripts/package on the Release tree (build/release)
# the attack suite already built. docs/operations.md, "The Debian package".
set -euo pipefail
cd "$(dirname "$0")/../.."

units=(rempart-intake rempart-keeper)
fail() { echo "tests/package: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges a package and removes users"
# Never over a real installation: this test deletes what the package made.
if dpkg-query -W -f='${Status}' rempart 2>/dev/null | grep -q installed; then fail "rempart is installed already"; fi
for name in rempart-intake rempart-keeper; do
  if getent passwd "$name" >/dev/null; then fail "the user $name exists already"; fi
done
if getent group rempart-inbox >/dev/null; then fail "the group rempart-inbox exists already"; fi
for dir in /etc/rempart /var/lib/rempart; do [ ! -e "$dir" ] || fail "$dir exists already"; done

scripts/deps test
deb="$(scripts/package | tail -n1)"
echo "tests/package: built $deb in ${SECONDS} s"

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if dpkg-query -W -f='${Status}' rempart 2>/dev/null | grep -q 'ok installed\|config-files'; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq rempart >/dev/null 2>&1 || true
  fi
  rm -rf /etc/rempart /var/lib/rempart
  for name in rempart-intake rempart-keeper; do
    if getent passwd "$name" >/dev/null; then deluser --system --quiet "$name" >/dev/null 2>&1 || true; fi
  done
  for name in rempart-intake rempart-keeper rempart-inbox; do
    if getent group "$name" >/dev/null; then delgroup --system --quiet "$name" >/dev/null 2>&1 || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$PWD/$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install of the package"; }
# dpkg-shlibdeps named the runtime libraries.
dpkg-query -W -f='${Depends}' rempart | grep -q 'libsodium23' || fail "Depends lacks the runtime libraries"
for f in /usr/bin/rempart /usr/sbin/rempart-setup /usr/share/man/man1/rempart.1.gz \
         /usr/share/man/man1/rempart-serve.1.gz /usr/share/doc/rempart/operations.md \
         /usr/share/doc/rempart/README.md /usr/share/doc/rempart/examples/rempart.toml; do
  [ -f "$f" ] || fail "$f is not installed"
done

# ---- users and groups
for name in rempart-intake rempart-keeper; do
  getent passwd "$name" >/dev/null || fail "no user $name"
  [ "$(getent passwd "$name" | cut -d: -f7)" = /usr/sbin/nologin ] || fail "$name can log in"
  id -nG "$name" | tr ' ' '\n' | grep -qx rempart-inbox || fail "$name is not in the group rempart-inbox"
done
if id -nG rempart-intake | tr ' ' '\n' | grep -qx rempart-keeper; then fail "rempart-intake is in the keeper's group"; fi

# ---- owners and modes: expect PATH OWNER:GROUP MODE
expect() {
  local got
  got="$(stat -c '%U:%G %a' "$1")" || fail "$1 is missing"
  [ "$got" = "$2 $3" ] || fail "$1 is $got, want $2 $3"
}
expect_layout() {
  expect /etc/rempart root:root 755
  expect /etc/rempart/keeper rempart-keeper:rempart-keeper 700
  expect /etc/rempart/intake rempart-intake:rempart-intake 700
  expect /var/lib/rempart root:root 755
  expect /var/lib/rempart/keeper rempart-keeper:rempart-keeper 700
  expect /var/lib/rempart/intake rempart-intake:rempart-intake 700
  expect /var/lib/rempart/audit rempart-keeper:rempart-keeper 700
  expect /var/lib/rempart/inbox root:rempart-inbox 2770
  expect /var/lib/rempart/inbox/inbox.db rempart-keeper:rempart-inbox 660
  for role in keeper intake; do
    [ "$(readlink "/var/lib/rempart/$role/inbox.db")" = /var/lib/rempart/inbox/inbox.db ] ||
      fail "/var/lib/rempart/$role/inbox.db does not name the shared inbox"
  done
}
expect_layout

# ---- the units
for unit in "${units[@]}"; do
  file="/usr/lib/systemd/system/$unit.service"
  systemd-analyze verify "$file" >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "systemd-analyze verify $unit"; }
  if [ -s "$work/verify.log" ]; then cat "$work/verify.log" >&2; fail "systemd-analyze verify $unit has warnings"; fi
  verdict="$(systemd-analyze security --offline=true "$file" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: //p')"
  echo "tests/package: $unit.service exposure $verdict"
  case "$verdict" in
    *" SAFE"* | *" OK"*) ;;
    *) fail "$unit.service is rated '$verdict', worse than OK" ;;
  esac
done

# ---- first run, as docs/operations.md says: keys and configurations
# Port 0: each role listens on a free port and logs which.
rempart-setup --region FR --listen 127.0.0.1:0 --console-listen 127.0.0.1:0 >"$work/setup.log" ||
  { cat "$work/setup.log" >&2; fail "rempart-setup"; }
expect_layout
expect /etc/rempart/keeper/rempart.toml root:rempart-keeper 640
expect /etc/rempart/keeper/keys rempart-keeper:rempart-keeper 700
expect /etc/rempart/keeper/keys/keeper.keyring rempart-keeper:rempart-keeper 600
expect /etc/rempart/keeper/keys/intake.keyring rempart-keeper:rempart-keeper 600
expect /etc/rempart/intake/rempart.toml root:rempart-intake 640
expect /etc/rempart/intake/keys rempart-intake:rempart-intake 700
expect /etc/rempart/intake/keys/intake.keyring rempart-intake:rempart-intake 600
expect /var/lib/rempart/keeper/rempart.db rempart-keeper:rempart-keeper 600
expect /var/lib/rempart/audit/rempart-audit.checkpoints rempart-keeper:rempart-keeper 600
[ ! -e /etc/rempart/intake/keys/keeper.keyring ] || fail "the intake was given the keeper keyring"

# ---- both roles as their users, each with its unit's ExecStart line and
# what of the unit can be had without systemd: its user and groups, an
# empty capability bounding set, no new privileges, the umask, a clean
# environment, / as the working directory.
start_role() {  # start_role UNIT LOG: sets role_pid
  local file="/usr/lib/systemd/system/$1.service" user cmd
  user="$(sed -n 's/^User=//p' "$file")"
  cmd="$(sed -n 's/^ExecStart=//p' "$file")"
  local -a argv
  read -r -a argv <<<"$cmd"
  (cd / && umask 0077 &&
    exec setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --bounding-set=-all --inh-caps=-all \
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "${argv[@]}") >"$2" 2>&1 &
  role_pid=$!
  pids+=("$role_pid")
}
wait_for_log() {  # wait_for_log LOG PATTERN PID
  local _
  for _ in $(seq 300); do
    if grep -q "$2" "$1"; then return 0; fi
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; fail "the role stopped before logging '$2'"; }
    sleep 0.1
  done
  cat "$1" >&2
  fail "no '$2' within 30 s"
}
start_role rempart-keeper "$work/keeper.log"
keeper_pid=$role_pid
wait_for_log "$work/keeper.log" "keeper: folding the inbox" "$keeper_pid"
start_role rempart-intake "$work/intake.log"
intake_pid=$role_pid
wait_for_log "$work/intake.log" "intake listening on" "$intake_pid"
port="$(sed -n 's/.*intake listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/intake.log" | head -n1)"
[ -n "$port" ] || fail "no intake port in its log"

# A sign-up over HTTP (a reserved example.org address, no real person).
code="$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data '{"person":{"given_name":"Paquet","email_addresses":[{"address":"package-test@example.org","status":"subscribed"}]}}' \
  "http://127.0.0.1:$port/api/v1/people/person_signup_helper")"
[ "$code" = 202 ] || fail "the intake answered $code to a sign-up, want 202"

as_keeper() { (cd / && runuser -u rempart-keeper -- "$@"); }
count=""
for _ in $(seq 100); do
  count="$(as_keeper rempart supporters count --config /etc/rempart/keeper/rempart.toml 2>/dev/null)" || count=""
  [ "$count" = 1 ] && break
  sleep 0.1
done
[ "$count" = 1 ] || { cat "$work/keeper.log" >&2; fail "the keeper holds '$count' supporters after the sign-up, want 1"; }
echo "tests/package: a sign-up through the intake folded by the keeper (supporters count: $count)"
# SQLite's -wal and -shm of the shared inbox stay the group's.
for f in /var/lib/rempart/inbox/inbox.db-wal /var/lib/rempart/inbox/inbox.db-shm; do
  if [ -e "$f" ]; then
    case "$(stat -c '%G %a' "$f")" in
      "rempart-inbox 660") ;;
      *) fail "$f is $(stat -c '%U:%G %a' "$f"), want group rempart-inbox, mode 660" ;;
    esac
  fi
done

# ---- what the intake's user cannot do
as_intake() { (cd / && runuser -u rempart-intake -- "$@"); }
for f in /var/lib/rempart/keeper/rempart.db /etc/rempart/keeper/keys/keeper.keyring \
         /var/lib/rempart/audit/rempart-audit.checkpoints /etc/rempart/keeper/rempart.toml; do
  if as_intake cat "$f" >/dev/null 2>&1; then fail "the intake's user can read $f"; fi
done
if as_intake ls /var/lib/rempart/keeper >/dev/null 2>&1; then fail "the intake's user can list the keeper's data"; fi
if as_intake rempart supporters count --config /etc/rempart/intake/rempart.toml >/dev/null 2>&1; then
  fail "the intake's user can open the records"
fi
as_intake test -r /etc/rempart/intake/keys/intake.keyring || fail "the intake's user cannot read its own keyring"

# ---- SIGTERM: each role finishes its work and exits 0, as under systemd.
kill -TERM "$intake_pid" "$keeper_pid"
wait "$intake_pid" || fail "the intake exited $? on SIGTERM"
wait "$keeper_pid" || fail "the keeper exited $? on SIGTERM"
pids=()

# ---- purge: with the instance's data removed first, postrm leaves no
# directory behind; then the users go (Debian keeps system users on purge).
rm -rf /etc/rempart/keeper/* /etc/rempart/intake/* /var/lib/rempart/keeper/* /var/lib/rempart/audit/* \
       /var/lib/rempart/inbox/*
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq rempart >/dev/null 2>&1 || fail "apt-get purge"
for dir in /etc/rempart /var/lib/rempart; do [ ! -e "$dir" ] || fail "purge left $dir"; done
[ ! -e /usr/bin/rempart ] || fail "purge left /usr/bin/rempart"
# (deluser's stderr: a note that cron is not installed, on a bare machine)
for name in rempart-intake rempart-keeper; do
  deluser --system --quiet "$name" >/dev/null 2>&1 || fail "deluser $name"
done
for name in rempart-intake rempart-keeper rempart-inbox; do
  if getent group "$name" >/dev/null; then delgroup --system --quiet "$name" >/dev/null 2>&1 || fail "delgroup $name"; fi
done
for name in rempart-intake rempart-keeper; do
  if getent passwd "$name" >/dev/null; then fail "the user $name is still there"; fi
done
for name in rempart-intake rempart-keeper rempart-inbox; do
  if getent group "$name" >/dev/null; then fail "the group $name is still there"; fi
done
echo "tests/package: passed in ${SECONDS} s"
