#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for rempart's tests (scripts/test starts
# one for the ctest stage), also usable by hand:
#
#   tests/support/pg_cluster.sh start DIR   # makes and starts a cluster in DIR
#   tests/support/pg_cluster.sh stop DIR    # stops it (fast mode) and removes DIR
#
#   eval "$(tests/support/pg_cluster.sh start /tmp/pg)"; export PGHOST PGPORT PGUSER PGPASSWORD; psql
#
# The tests find the cluster through REMPART_TEST_PG and
# REMPART_TEST_PG_PASSWORD_FILE only (scripts/test sets them); to run them by
# hand, outside scripts/test:
#
#   tests/support/pg_cluster.sh start /tmp/rempart-pg >/dev/null
#   export REMPART_TEST_PG="host=127.0.0.1 port=$(sed -n 's/^PGPORT=//p' /tmp/rempart-pg/env) user=postgres dbname=postgres"
#   export REMPART_TEST_PG_PASSWORD_FILE=/tmp/rempart-pg/password
#
# `start` wants DIR missing or empty. It runs initdb with the superuser
# "postgres" and a random password, then starts the server listening on
# 127.0.0.1 (a free port) and on a Unix socket in DIR/socket. TCP logins
# (127.0.0.1, databases and replication) take a password (scram-sha-256);
# the socket trusts whoever can reach it (the server's user and root only).
# It prints, and writes to DIR/env (mode 0600):
#
#   PGHOST=127.0.0.1
#   PGPORT=<port>
#   PGUSER=postgres
#   PGPASSWORD=<password>
#
# and keeps the password alone in DIR/password (mode 0600, one line ended by
# a newline).
# Nothing else goes to stdout. Run as root, the server runs as the
# `postgres` system user (PostgreSQL refuses root); run as anyone else, as
# that user. DIR holds: data/ (the cluster), socket/, server.log, initdb.log.
# The binaries come from /usr/lib/postgresql/15/bin (Debian's postgresql-15),
# or from $REMPART_PG_BINDIR.
#
# Made for tests, not for data: fsync and full_page_writes are off (a
# crash of the machine may lose or corrupt it); synchronous_commit stays on.
# wal_level = replica with 4 WAL senders, so a test can make a standby with
# pg_basebackup. A failed start prints the end of the server's log on stderr
# and exits non-zero, leaving DIR for a look (`stop DIR` removes it).
set -euo pipefail

bindir="${REMPART_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
server_user=postgres

usage() {
  echo "usage: tests/support/pg_cluster.sh start|stop DIR" >&2
  exit 2
}
die() {
  echo "pg_cluster: $*" >&2
  exit 1
}

[ $# -eq 2 ] || usage
action="$1"
dir="$2"
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac
dir="${dir%/}"
# The path goes into postgresql.conf and a socket path (at most 107 bytes).
[[ "$dir" =~ ^[A-Za-z0-9_./+-]+$ ]] || die "DIR must be a plain path (letters, digits, _ . / + -): $dir"
[ "${#dir}" -le 80 ] || die "DIR is too long for a Unix socket path: $dir"

# What the caller's environment says about some other server must not leak
# into initdb, pg_ctl or the check below.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGPASSFILE PGDATABASE PGSERVICE PGSERVICEFILE PGOPTIONS \
      PGDATA PGSSLMODE PGCONNECT_TIMEOUT PGTARGETSESSIONATTRS

am_root=false
[ "$(id -u)" -eq 0 ] && am_root=true

# Runs a command as the server's user, from / (which that user can enter).
as_server() {
  if $am_root; then
    (cd / && runuser -u "$server_user" -- "$@")
  else
    "$@"
  fi
}

log_tail() {
  if [ -s "$1" ]; then
    echo "pg_cluster: the last lines of $1:" >&2
    tail -n 40 "$1" >&2
  fi
}

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

marker=".rempart-pg-cluster"

start() {
  for tool in initdb pg_ctl postgres psql; do
    [ -x "$bindir/$tool" ] || die "$bindir/$tool is missing: install postgresql-15 (scripts/deps test)"
  done
  if $am_root; then
    getent passwd "$server_user" >/dev/null || die "no '$server_user' system user to run the server as"
    command -v runuser >/dev/null || die "runuser (util-linux) is needed to run the server as '$server_user'"
  fi
  if [ -e "$dir" ]; then
    [ -d "$dir" ] || die "$dir exists and is not a directory"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty (a cluster already there? stop it first)"
  fi
  mkdir -p "$dir"
  chmod 0700 "$dir"
  touch "$dir/$marker"
  mkdir "$dir/data" "$dir/socket"
  chmod 0700 "$dir/data" "$dir/socket"
  : >"$dir/server.log"
  : >"$dir/initdb.log"
  local pwfile="$dir/initdb.pw"
  local password
  password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  [ "${#password}" -eq 48 ] || die "could not make a password"
  (umask 077 && printf '%s\n' "$password" >"$pwfile")
  if $am_root; then
    # The server's user enters DIR, never lists it, and owns what it writes.
    chmod 0711 "$dir"
    chown "$server_user": "$dir/data" "$dir/socket" "$dir/server.log" "$dir/initdb.log" "$pwfile"
    as_server test -w "$dir/data" ||
      die "the '$server_user' user cannot reach $dir (a parent directory closed to others?): choose a DIR under /tmp"
  fi

  local locale=(--no-locale)
  if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=(--locale=C.UTF-8); fi
  if ! as_server "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-local=trust \
         --auth-host=scram-sha-256 --encoding=UTF8 "${locale[@]}" --no-sync --no-instructions \
         >>"$dir/initdb.log" 2>&1; then
    rm -f "$pwfile"
    log_tail "$dir/initdb.log"
    die "initdb failed in $dir/data"
  fi
  rm -f "$pwfile"
  (umask 077 && printf '%s\n' "$password" >"$dir/password")

  cat >"$dir/data/pg_hba.conf" <<'EOF'
# tests/support/pg_cluster.sh: the socket trusts whoever reaches it (its
# directory is the server user's, mode 0700); TCP on the loopback only,
# with a password.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
local   replication  all                  trust
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
  cat >>"$dir/data/postgresql.conf" <<'EOF'

# tests/support/pg_cluster.sh: a throwaway cluster for tests.
include 'rempart_test.conf'
EOF
  if $am_root; then chown "$server_user": "$dir/data/pg_hba.conf"; fi

  local port attempt started=false
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    cat >"$dir/data/rempart_test.conf" <<EOF
# Written by tests/support/pg_cluster.sh.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
cluster_name = 'rempart-test'
password_encryption = scram-sha-256
max_connections = 200
shared_buffers = 128MB
# Speed over safety: a crash of the machine may lose this cluster. Commits
# still wait for their WAL to be written (synchronous_commit).
fsync = off
full_page_writes = off
synchronous_commit = on
# A standby can be made from it (pg_basebackup).
wal_level = replica
max_wal_senders = 4
EOF
    if $am_root; then chown "$server_user": "$dir/data/rempart_test.conf"; fi
    if as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start >&2; then
      started=true
      break
    fi
    # Whatever got half up goes down before a retry or the report.
    as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
    # Another process took the port between its choice and the bind: again.
    if grep -q 'could not bind IPv4 address\|Address already in use' "$dir/server.log"; then
      echo "pg_cluster: port $port was taken, trying another (attempt $attempt)" >&2
      continue
    fi
    break
  done
  if ! $started; then
    log_tail "$dir/server.log"
    die "the server did not start (DIR $dir left for a look; remove it with: $0 stop $dir)"
  fi

  # The credentials printed below must work: a password login over TCP.
  if ! PGPASSWORD="$password" PGCONNECT_TIMEOUT=10 "$bindir/psql" -X -w -q -A -t -h 127.0.0.1 -p "$port" \
         -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>"$dir/check.err"; then
    cat "$dir/check.err" >&2
    as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
    log_tail "$dir/server.log"
    die "the server started but refused the password login on 127.0.0.1:$port"
  fi
  rm -f "$dir/check.err"

  local env
  env="PGHOST=127.0.0.1
PGPORT=$port
PGUSER=postgres
PGPASSWORD=$password"
  (umask 077 && printf '%s\n' "$env" >"$dir/env")
  printf '%s\n' "$env"
  # By hand (not through eval or a pipe): where it is and how to stop it.
  if [ -t 1 ]; then
    echo "pg_cluster: PostgreSQL on 127.0.0.1:$port and $dir/socket; stop it with: $0 stop $dir" >&2
  fi
}

stop() {
  if [ ! -e "$dir" ]; then
    echo "pg_cluster: $dir does not exist: nothing to stop" >&2
    return 0
  fi
  [ -f "$dir/$marker" ] || die "$dir was not made by pg_cluster.sh start: not touching it"
  # pg_ctl status: 0 running, 3 not running (a stale postmaster.pid too).
  if [ -f "$dir/data/postmaster.pid" ] && as_server "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    if ! as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 -s stop >&2; then
      as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >&2 ||
        die "the server in $dir/data does not stop; $dir is left in place"
    fi
  fi
  rm -rf -- "$dir"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
