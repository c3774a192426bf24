#!/usr/bin/env bash
# The attack stages of scripts/test, after the unit and end-to-end tests:
# Release build + hardening check, HTTP abuse, payload corpus and sqlmap
# (each on SQLite, then on PostgreSQL: payloads-pg, sqlmap-pg), the admin
# console (signed-in sqlmap and raw checks), fuzz.
# Every stage runs even if an earlier one failed; a summary with each
# stage's time closes the output, and the exit code is non-zero if any
# stage failed. Usage: tests/attack/run.sh [ASAN_BUILD_DIR]   (from the
# repository root; default build/asan). FUZZ_SECONDS (default 10) sets the
# time per fuzz target; REMPART_ATTACK_STAGES="abuse payloads" runs a subset;
# REMPART_RELEASE_DIR (default build/release) is where the Release CLI is built.
# The -pg stages share one throwaway PostgreSQL cluster
# (tests/support/pg_cluster.sh), started before the first of them and
# stopped when this script ends; each makes a database of its own there.
set -uo pipefail
cd "$(dirname "$0")/../.."

asan="${1:-build/asan}"
case "$asan" in /*) ;; *) asan="$PWD/$asan" ;; esac
release="${REMPART_RELEASE_DIR:-build/release}"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
stages="release ${REMPART_ATTACK_STAGES:-hardening abuse payloads payloads-pg sqlmap sqlmap-pg console fuzz}"
export REMPART_BIN="$asan/src/cli/rempart"
export REMPART_CLI_BIN="$PWD/$release/src/cli/rempart"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

summary=()
failed=0
passed=0
stage() {
  local name="$1"
  shift
  case " $stages " in *" $name "*) ;; *) return 0 ;; esac
  echo "=== attack stage: $name"
  local start=$SECONDS
  if "$@"; then
    summary+=("$(printf '%-12s ok      %4d s' "$name" $((SECONDS - start)))")
    passed=$((passed + 1))
  else
    summary+=("$(printf '%-12s FAILED  %4d s' "$name" $((SECONDS - start)))")
    failed=$((failed + 1))
  fi
}

# One build at a time on this machine (others may be building too).
build_release() {
  flock /tmp/rempart-build.lock sh -c 'cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DREMPART_TESTS=OFF >/dev/null &&
    cmake --build "$1" --target rempart -j"$(nproc)" >/dev/null' build_release "$release"
}

# The PostgreSQL cluster of the -pg stages: started once, by the first of
# them (a failed start fails that stage and the next), stopped at exit. The
# stages find it through REMPART_ATTACK_PG (server only), the superuser's
# password file and the server's log (attacklib.PgServer); nothing sets
# PGPASSWORD or the like for anything else.
pg_cluster="$PWD/tests/support/pg_cluster.sh"
pg_dir=""
pg_state=none
fuzz_build_pid=""
cleanup() {
  if [ -n "$pg_dir" ]; then "$pg_cluster" stop "$pg_dir" || rmdir "$pg_dir" 2>/dev/null || true; fi
  pg_dir=""
  # The background fuzz build, if it still runs: its whole process group.
  if [ -n "$fuzz_build_pid" ]; then kill -- -"$fuzz_build_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
with_pg() {
  if [ "$pg_state" = none ]; then
    pg_state=failed
    pg_dir="$(mktemp -d /tmp/rempart-attack-pg.XXXXXX)" &&
      "$pg_cluster" start "$pg_dir" >/dev/null &&
      pg_state=up
    if [ "$pg_state" = up ]; then
      local pg_port
      pg_port="$(sed -n 's/^PGPORT=//p' "$pg_dir/env")"
      export REMPART_ATTACK_PG="host=127.0.0.1 port=$pg_port" \
             REMPART_ATTACK_PG_PASSWORD_FILE="$pg_dir/password" REMPART_ATTACK_PG_LOG="$pg_dir/server.log"
      echo "attack: PostgreSQL cluster on 127.0.0.1:$pg_port ($pg_dir)"
    fi
  fi
  if [ "$pg_state" != up ]; then
    echo "attack: no PostgreSQL cluster (tests/support/pg_cluster.sh start failed)" >&2
    return 1
  fi
  "$@"
}

# The Release binary is both what the hardening check inspects and the fast
# operator CLI the other stages use to read the store back.
stage release build_release
stage hardening "$py" tests/attack/check_hardening.py "$release/src/cli/rempart" "$release"
stage abuse timeout -k 10 600 "$py" tests/attack/http_abuse.py
stage payloads timeout -k 10 600 "$py" tests/attack/payloads.py
stage payloads-pg with_pg timeout -k 10 600 "$py" tests/attack/payloads.py --backend postgresql
# The fuzz stage's clang build starts here, at the lowest priority, and
# takes what CPU the sqlmap and console stages leave (one sqlmap process and
# one server at a time); the fuzz stage waits for it (scripts/fuzz takes the
# build lock). Measured on 2 cores: those stages take about 150 s longer,
# the fuzz stage about 290 s less. Not earlier: the payload stages'
# read-back (a CLI process per record) keeps both cores busy.
case " $stages " in *" fuzz "*)
  setsid nice -n 19 scripts/fuzz --build-only >/dev/null 2>&1 &
  fuzz_build_pid=$! ;;
esac
stage sqlmap timeout -k 10 900 "$py" tests/attack/sqlmap_scan.py
stage sqlmap-pg with_pg timeout -k 10 900 "$py" tests/attack/sqlmap_scan.py --backend postgresql
stage console timeout -k 10 600 "$py" tests/attack/console_scan.py
stage fuzz timeout -k 10 900 scripts/fuzz "${FUZZ_SECONDS:-10}"

echo "=== attack stages"
for line in "${summary[@]}"; do echo "  $line"; done
echo "attack: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
