#!/usr/bin/env bash
# ctest `pg_failover`: a synchronous standby made with `pg_basebackup -R` on
# a second port is promoted while sign-ups keep coming; after rempart has
# reconnected, no acknowledged sign-up is missing (docs/postgresql.md, "High
# availability with the usual tools").
#
#   tests/pg/failover.sh [REMPART_BINARY]     (default build/asan/src/cli/rempart)
#
# It starts a PostgreSQL primary of its own (tests/support/pg_cluster.sh, not
# the shared cluster REMPART_TEST_PG names), runs `rempart init --backend
# postgresql` on it, makes a standby with pg_basebackup -R -X stream on a
# second port, waits until it streams, and makes it synchronous
# (synchronous_standby_names = '*', synchronous_commit = on): a commit
# acknowledged to rempart is then on the standby too. Then `rempart serve`
# (intake and keeper in one process, DSN naming both servers with
# target_session_attrs=read-write) takes sign-ups from several client threads,
# each with an e-mail address of its own, and each 303 (durable) is recorded.
# After FO_CRASH_AFTER s the primary is killed (pg_ctl stop -m immediate: a
# crash) and, FO_PROMOTE_DELAY s later, the standby promoted; the load goes
# on until FO_LOAD_SECONDS. Then, once the keeper has emptied the inbox on the
# new primary:
#
#   - sign-ups were acknowledged before the crash AND after the promotion
#     (rempart reconnected, with its backoff, to the new primary);
#   - every acknowledged address has a record: all of them in one read-only
#     pass (`supporters import --dry-run` on a file of every acknowledged
#     address plus one never sent: exactly that one "would be new"), and a
#     sample with `supporters show` (exit 0), the last acknowledged before the
#     crash and the first after the promotion among them;
#   - the intake records are no fewer than the acknowledged sign-ups, and no
#     more than the sign-ups sent (a 503 may hide a commit whose answer was
#     lost: never the reverse);
#   - `rempart audit verify` prints "audit log OK"; the server exits cleanly
#     and its log holds no sanitizer report.
#
# It prints what it saw: acknowledged before and after, 503s, connection
# errors, and the time without service. Both servers are stopped and the
# work directory removed at the end, also on failure (FO_KEEP=1 keeps the
# directory, servers stopped, for a look). Runs as root (the servers as the
# `postgres` user) or as an ordinary user; exits 77 (skipped) without
# PostgreSQL 15's binaries.
#
# Knobs (environment): FO_LOAD_SECONDS (18), FO_CRASH_AFTER (5),
# FO_PROMOTE_DELAY (2), FO_CLIENTS (4), FO_MAX_OUTAGE (20: most seconds from
# the promotion to the first acknowledgement), FO_SAMPLE (12), FO_KEEP, and
# FO_MODE: crash (the default, what ctest runs) or hang (the primary's
# processes are stopped with SIGSTOP instead: its connections stay open and
# silent, as a hung server's).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rempart="${1:-$root/build/asan/src/cli/rempart}"
bindir="${REMPART_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
pg_cluster="$root/tests/support/pg_cluster.sh"

load_seconds="${FO_LOAD_SECONDS:-18}"   # the whole load
crash_after="${FO_CRASH_AFTER:-5}"      # the primary's crash, from the load's start
promote_delay="${FO_PROMOTE_DELAY:-2}"  # from the crash to the promotion (a failover manager's detection)
clients="${FO_CLIENTS:-4}"              # client threads
max_outage="${FO_MAX_OUTAGE:-20}"       # most seconds from the promotion to the first sign-up acknowledged
sample="${FO_SAMPLE:-12}"               # random acknowledged addresses checked with `supporters show`
# How the primary fails: crash (pg_ctl stop -m immediate: its sockets close)
# or hang (SIGSTOP to every process of it: its sockets stay open and silent,
# as a hung server's or, roughly, a partitioned one's).
mode="${FO_MODE:-crash}"
case "$mode" in crash | hang) ;; *) echo "failover: FO_MODE is crash or hang" >&2; exit 2 ;; esac

# Nothing of another server's settings may leak into psql, pg_ctl or rempart.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGPASSFILE PGDATABASE PGSERVICE PGSERVICEFILE PGOPTIONS \
      PGDATA PGSSLMODE PGCONNECT_TIMEOUT PGTARGETSESSIONATTRS PGAPPNAME

say() { printf 'failover: %s\n' "$*" >&2; }
now() { date +%s.%N; }
# Seconds (3 decimals) from $1 to $2.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

for tool in initdb pg_ctl pg_basebackup psql postgres; do
  if [ ! -x "$bindir/$tool" ]; then
    say "SKIP: $bindir/$tool is missing (install postgresql-15)"
    exit 77
  fi
done
command -v python3 >/dev/null || { say "SKIP: python3 is missing"; exit 77; }
[ -x "$rempart" ] || { say "no rempart binary at $rempart (build it, or pass its path)"; exit 2; }

am_root=false
[ "$(id -u)" -eq 0 ] && am_root=true
as_server() {
  if $am_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

work="$(mktemp -d /tmp/rempart-fo.XXXXXX)"
chmod 0711 "$work"  # the postgres user enters it (never lists it)
p1="$work/p1"       # the primary (pg_cluster.sh)
p2="$work/p2"       # the standby
inst="$work/r"      # rempart's files
mkdir -m 0700 "$inst"
serve_pid=""
load_pid=""
t_start=$SECONDS
failed=true

stop_all() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$load_pid" ] && kill -0 "$load_pid" 2>/dev/null; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill "$serve_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  if $failed; then
    for log in "$inst/serve.log" "$p1/server.log" "$p2/server.log"; do
      if [ -s "$log" ]; then
        say "---- the last lines of $log"
        # Less the one-line-per-request warnings of the outage.
        grep -v 'shared sign-up limit did not answer\|route=signup status=503\|commit of [0-9]* submissions failed' "$log" |
          tail -n 30 >&2 || true
      fi
    done
  fi
  # A hung primary's processes (ours, by pid) go first, for good.
  if [ -s "$work/hung.pids" ]; then
    # shellcheck disable=SC2046
    kill -KILL $(cat "$work/hung.pids") 2>/dev/null || true
    sleep 0.5
  fi
  if [ -f "$p2/data/postmaster.pid" ]; then
    as_server "$bindir/pg_ctl" -D "$p2/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
  fi
  if [ -d "$p1" ]; then
    if [ "${FO_KEEP:-0}" = 1 ] && [ -f "$p1/data/postmaster.pid" ]; then
      as_server "$bindir/pg_ctl" -D "$p1/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
    elif [ "${FO_KEEP:-0}" != 1 ]; then
      "$pg_cluster" stop "$p1" >/dev/null 2>&1 || true
    fi
  fi
  if [ "${FO_KEEP:-0}" = 1 ]; then
    say "kept $work (servers stopped)"
  else
    rm -rf -- "$work"
  fi
  if $failed && [ "$rc" -eq 0 ]; then rc=1; fi
  exit "$rc"
}
trap stop_all EXIT
trap 'say "FAIL: line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  say "FAIL: $*"
  exit 1
}

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ---- the primary and rempart on it -------------------------------------------

"$pg_cluster" start "$p1" >/dev/null || die "the primary did not start"
port1="$(sed -n 's/^PGPORT=//p' "$p1/env")"
password="$(head -n1 "$p1/password")"
port2="$(free_port)"
while [ "$port2" = "$port1" ]; do port2="$(free_port)"; done

# One psql statement on 127.0.0.1:$1 as the superuser; prints the value.
sql() {
  PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 timeout 30 "$bindir/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"
}
# Polls `sql $1 $2` until it prints $3, for at most $4 s.
wait_for() {
  local deadline=$((SECONDS + $4)) out=""
  while [ $SECONDS -lt "$deadline" ]; do
    out="$(sql "$1" "$2" 2>/dev/null || true)"
    [ "$out" = "$3" ] && return 0
    sleep 0.2
  done
  say "waited $4 s on port $1 for [$2] to be '$3'; last: '$out'"
  return 1
}

dsn="host=127.0.0.1,127.0.0.1 port=$port1,$port2 dbname=postgres target_session_attrs=read-write connect_timeout=2"
config="$inst/rempart.toml"
timeout 60 "$rempart" init --data "$inst/data" --keys "$inst/keys" --config "$config" --backend postgresql --dsn "$dsn" \
  --admin-user postgres --admin-password-file "$p1/password" >"$inst/init.log" 2>&1 ||
  { cat "$inst/init.log" >&2; die "rempart init failed"; }
# One client address sends every sign-up: no rate limit may answer 429.
sed -i -e 's/^rate_per_minute = .*/rate_per_minute = 1000000/' -e 's/^burst = .*/burst = 100000/' "$config"
grep -q '^rate_per_minute = 1000000' "$config" && grep -q '^burst = 100000' "$config" ||
  die "could not raise [intake] rate_per_minute and burst in $config"

# ---- the standby ------------------------------------------------------------

mkdir -m 0700 "$p2"
$am_root && chown postgres: "$p2"
as_server mkdir -m 0700 "$p2/socket"
as_server timeout 60 env PGPASSWORD="$password" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port1" -U postgres -w \
  -D "$p2/data" -R -X stream -c fast >"$work/basebackup.log" 2>&1 ||
  { cat "$work/basebackup.log" >&2; die "pg_basebackup failed"; }
[ -f "$p2/data/standby.signal" ] || die "pg_basebackup -R wrote no standby.signal"
# The copy includes the primary's rempart_test.conf (port, socket directory):
# postgresql.auto.conf is read after it and wins. The standby waits for no
# standby of its own once promoted.
as_server tee -a "$p2/data/postgresql.auto.conf" >/dev/null <<EOF
port = $port2
unix_socket_directories = '$p2/socket'
cluster_name = 'rempart-standby'
synchronous_standby_names = ''
EOF
as_server "$bindir/pg_ctl" -D "$p2/data" -l "$p2/server.log" -w -t 60 -s start >&2 ||
  die "the standby did not start on port $port2"
wait_for "$port1" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 1 30 ||
  die "the standby does not stream from the primary"
sql "$port1" "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
sql "$port1" "SELECT pg_reload_conf()" >/dev/null
wait_for "$port1" "SELECT sync_state FROM pg_stat_replication" sync 30 || die "the standby did not become synchronous"
[ "$(sql "$port1" "SHOW synchronous_commit")" = on ] || die "synchronous_commit is not on at the primary"
[ "$(sql "$port2" "SELECT pg_is_in_recovery()")" = t ] || die "the standby is not in recovery"
say "primary on 127.0.0.1:$port1, standby ($(sql "$port1" "SELECT sync_state FROM pg_stat_replication")) on 127.0.0.1:$port2"

# ---- rempart serve ------------------------------------------------------------

: >"$inst/serve.log"  # there before the server's shell opens it: the loop below reads it at once
"$rempart" serve --config "$config" --listen 127.0.0.1:0 --console-listen 127.0.0.1:0 >"$inst/serve.log" 2>&1 &
serve_pid=$!
intake_port=""
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
  kill -0 "$serve_pid" 2>/dev/null || die "rempart serve exited at start"
  intake_port="$(sed -n 's/.*intake listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$inst/serve.log" | head -n1 || true)"
  if [ -n "$intake_port" ] && grep -q 'keeper: folding the inbox' "$inst/serve.log"; then break; fi
  sleep 0.2
done
[ -n "$intake_port" ] || die "rempart serve did not say where the intake listens"
say "rempart serve (pid $serve_pid), intake on 127.0.0.1:$intake_port"

# ---- the load ---------------------------------------------------------------

# Each client thread posts sign-ups, each with an address of its own, one
# connection per request, until the deadline; one line per request:
# start end status email (status: the HTTP code, or err:<why>).
cat >"$work/load.py" <<'EOF'
import http.client, sys, threading, time, urllib.parse

port, seconds, clients, out, tag = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
deadline = time.time() + seconds
lines, lock = [], threading.Lock()

def client(k):
    n = 0
    while time.time() < deadline:
        n += 1
        email = f"fo-{tag}-{k}-{n}@example.org"
        body = urllib.parse.urlencode({"email": email, "consent_email": "on"})
        t0 = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            c.request("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            status = str(r.status)
            c.close()
        except Exception as e:
            status = "err:" + type(e).__name__
            time.sleep(0.05)
        t1 = time.time()
        with lock:
            lines.append(f"{t0:.6f} {t1:.6f} {status} {email}\n")
        if status != "303":
            time.sleep(0.02)  # no hot loop while the service is down

threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    f.writelines(sorted(lines))
EOF
results="$work/results.txt"
tag="$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
python3 "$work/load.py" "$intake_port" "$load_seconds" "$clients" "$results" "$tag" &
load_pid=$!
t_load=$(now)
sleep "$crash_after"

if [ "$mode" = crash ]; then
  as_server "$bindir/pg_ctl" -D "$p1/data" -m immediate -w -t 30 -s stop >&2 || die "the primary could not be killed"
else
  postmaster="$(head -n1 "$p1/data/postmaster.pid")"
  echo "$postmaster $(ps -o pid= --ppid "$postmaster" | tr '\n' ' ')" >"$work/hung.pids"
  # shellcheck disable=SC2046
  kill -STOP $(cat "$work/hung.pids")
fi
t_crash=$(now)
say "primary $([ "$mode" = crash ] && echo "killed (immediate)" || echo "hung (SIGSTOP)") at +$(elapsed "$t_load" "$t_crash") s"
sleep "$promote_delay"
t_promote_begin=$(now)
as_server "$bindir/pg_ctl" -D "$p2/data" -w -t 30 -s promote >&2 || die "the standby could not be promoted"
t_promote=$(now)
[ "$(sql "$port2" "SELECT pg_is_in_recovery()")" = f ] || die "the promoted standby is still in recovery"
say "standby promoted at +$(elapsed "$t_load" "$t_promote") s"

wait "$load_pid" || die "the load script failed"
load_pid=""
[ -s "$results" ] || die "the load recorded nothing"
# While no server was writable (from the crash to the promotion's start) no
# sign-up can have been committed, so none may have been acknowledged.
impossible="$(awk -v c="$t_crash" -v p="$t_promote_begin" '$3 == "303" && $1 > c && $2 < p' "$results" | wc -l)"
[ "$impossible" -eq 0 ] || die "$impossible sign-ups sent and acknowledged while no server was writable"
kill -0 "$serve_pid" 2>/dev/null || die "rempart serve died during the failover"

# ---- what the clients saw -------------------------------------------------------

read -r sent acked acked_before acked_after acked_between n503 nerr nother first_fail first_after last_before < <(
  awk -v crash="$t_crash" -v promote="$t_promote" '
    BEGIN { first_fail = 0; first_after = 0; last_before = 0 }
    {
      sent++
      if ($3 == "303") {
        acked++
        if ($2 < crash) { before++; if ($2 > last_before) last_before = $2 }
        else if ($1 > promote) { after++; if (first_after == 0 || $2 < first_after) first_after = $2 }
        else between++
      } else {
        if ($3 == "503") n503++; else if ($3 ~ /^err:/) nerr++; else other++
        if ($2 >= crash - 1 && (first_fail == 0 || $2 < first_fail)) first_fail = $2
      }
    }
    END { printf "%d %d %d %d %d %d %d %d %.6f %.6f %.6f\n", sent, acked, before, after, between, n503, nerr, other, first_fail, first_after, last_before }
  ' "$results")
awk '$3 == "303" { print $4 }' "$results" >"$work/acked.txt"

say "sign-ups sent: $sent; acknowledged (303): $acked ($acked_before before the crash, $acked_between between crash and promotion, $acked_after sent after the promotion); 503: $n503; connection errors: $nerr; other answers: $nother"
[ "$nother" -eq 0 ] || { awk '$3 != "303" && $3 != "503" && $3 !~ /^err:/' "$results" | head -n 5 >&2; die "answers other than 303, 503 or a connection error"; }
[ "$acked_before" -gt 0 ] || die "no sign-up was acknowledged before the crash"
[ "$acked_after" -gt 0 ] || die "no sign-up sent after the promotion was acknowledged: rempart did not reconnect"
outage="n/a"
if [ "$first_fail" != "0.000000" ]; then outage="$(elapsed "$first_fail" "$first_after")"; fi
to_service="$(elapsed "$t_promote" "$first_after")"
awk -v d="$to_service" -v m="$max_outage" 'BEGIN { exit !(d <= m) }' ||
  die "the first acknowledgement after the promotion came $to_service s after it (more than $max_outage s)"

# ---- the keeper folds everything on the new primary ---------------------------

wait_for "$port2" "SELECT count(*) FROM rempart.inbox" 0 60 || die "the inbox on the new primary did not empty"
kill -TERM "$serve_pid"
serve_rc=0
for _ in $(seq 1 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$serve_pid" 2>/dev/null && die "rempart serve did not stop within 20 s of SIGTERM"
wait "$serve_pid" || serve_rc=$?
serve_pid=""
[ "$serve_rc" -eq 0 ] || die "rempart serve exited with status $serve_rc"
if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$inst/serve.log"; then
  grep -m5 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$inst/serve.log" >&2
  die "a sanitizer report in rempart serve's log"
fi

# ---- nothing acknowledged is missing ------------------------------------------

records="$(sql "$port2" "SELECT count(*) FROM rempart.supporters WHERE origin = 'intake'")"
[ "$records" -ge "$acked" ] || die "$records intake records for $acked acknowledged sign-ups: acknowledged sign-ups are missing"
[ "$records" -le "$sent" ] || die "$records intake records for $sent sign-ups sent"

# Every acknowledged address, read-only: a dry-run import finds each by its
# blind index ("would merge"); the one never sent "would be new".
never="fo-$tag-never-sent@example.org"
{ echo email; cat "$work/acked.txt"; echo "$never"; } >"$work/acked.csv"
timeout 120 "$rempart" supporters import "$work/acked.csv" --dry-run --no-progress --config "$config" >"$work/import.log" 2>&1 ||
  { cat "$work/import.log" >&2; die "supporters import --dry-run failed"; }
summary="$(grep 'dry run: [0-9,]* rows' "$work/import.log" | sed 's/\([0-9]\),\([0-9]\)/\1\2/g' || true)"  # 2,743 -> 2743
expect="dry run: $((acked + 1)) rows: 1 would be new, $acked would merge, 0 would be rejected"
case "$summary" in
  *"$expect"*) ;;
  *) cat "$work/import.log" >&2; die "not every acknowledged address has a record (expected '$expect')" ;;
esac

# And a sample by `supporters show`: the last acknowledged before the crash,
# the first after the promotion, random others; the never-sent one is absent.
{
  awk -v c="$t_crash" '$3 == "303" && $2 < c' "$results" | tail -n 3 | awk '{ print $4 }'
  awk -v p="$t_promote" '$3 == "303" && $1 > p && n++ < 3 { print $4 }' "$results"
  shuf -n "$sample" "$work/acked.txt"
} | sort -u >"$work/sample.txt"
checked=0
while read -r email; do
  timeout 30 "$rempart" supporters show --config "$config" --email "$email" --reason failover-test >/dev/null 2>"$work/show.err" ||
    { cat "$work/show.err" >&2; die "acknowledged $email: supporters show does not find it"; }
  checked=$((checked + 1))
done <"$work/sample.txt"
never_rc=0
timeout 30 "$rempart" supporters show --config "$config" --email "$never" --reason failover-test >/dev/null 2>&1 || never_rc=$?
[ "$never_rc" -ne 0 ] || die "supporters show finds $never, which was never sent"
[ "$never_rc" -eq 3 ] || die "supporters show of $never: exit status $never_rc, not 3 (no such supporter)"

timeout 60 "$rempart" audit verify --config "$config" >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; die "audit verify failed"; }
grep -q 'audit log OK' "$work/verify.log" || { cat "$work/verify.log" >&2; die "audit verify did not say 'audit log OK'"; }

failed=false
cat <<EOF
pg_failover: PASS in $((SECONDS - t_start)) s
  load: $clients clients for $load_seconds s; primary $([ "$mode" = crash ] && echo killed || echo hung) at +$(elapsed "$t_load" "$t_crash") s, standby promoted $(elapsed "$t_crash" "$t_promote") s later
  sent $sent; acknowledged $acked: $acked_before before the crash, $acked_between between crash and promotion, $acked_after sent after the promotion
  not acknowledged: $n503 answered 503, $nerr connection errors
  without service: $outage s from the first failure to the first acknowledgement after the promotion ($(elapsed "$t_crash" "$first_after") s from the crash, $to_service s from the promotion)
  last acknowledgement before the crash $(elapsed "$last_before" "$t_crash") s before it
  intake records on the new primary: $records (>= $acked acknowledged, <= $sent sent); inbox empty
  every acknowledged address found (import --dry-run), $checked of them also by supporters show; audit log OK
EOF
