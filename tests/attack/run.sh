#!/usr/bin/env bash
# The attack stages of scripts/test, after the unit and end-to-end tests:
# Release build + hardening check, HTTP abuse, payload corpus, sqlmap, the
# admin console (signed-in sqlmap and raw checks), fuzz.
# Every stage runs even if an earlier one failed; a summary with each
# stage's time closes the output, and the exit code is non-zero if any
# stage failed. Usage: tests/attack/run.sh [ASAN_BUILD_DIR]   (from the
# repository root; default build/asan). FUZZ_SECONDS (default 10) sets the
# time per fuzz target; REMPART_ATTACK_STAGES="abuse payloads" runs a subset;
# REMPART_RELEASE_DIR (default build/release) is where the Release CLI is built.
set -uo pipefail
cd "$(dirname "$0")/../.."

asan="${1:-build/asan}"
release="${REMPART_RELEASE_DIR:-build/release}"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
stages="release ${REMPART_ATTACK_STAGES:-hardening abuse payloads sqlmap console fuzz}"
export REMPART_BIN="$PWD/$asan/src/cli/rempart"
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
    summary+=("$(printf '%-10s ok      %4d s' "$name" $((SECONDS - start)))")
    passed=$((passed + 1))
  else
    summary+=("$(printf '%-10s FAILED  %4d s' "$name" $((SECONDS - start)))")
    failed=$((failed + 1))
  fi
}

build_release() {
  cmake -S . -B "$release" -DCMAKE_BUILD_TYPE=Release -DREMPART_TESTS=OFF >/dev/null &&
    cmake --build "$release" --target rempart -j"$(nproc)" >/dev/null
}

# The Release binary is both what the hardening check inspects and the fast
# operator CLI the other stages use to read the store back.
stage release build_release
stage hardening "$py" tests/attack/check_hardening.py "$release/src/cli/rempart" "$release"
stage abuse timeout -k 10 600 "$py" tests/attack/http_abuse.py
stage payloads timeout -k 10 600 "$py" tests/attack/payloads.py
stage sqlmap timeout -k 10 900 "$py" tests/attack/sqlmap_scan.py
stage console timeout -k 10 600 "$py" tests/attack/console_scan.py
stage fuzz timeout -k 10 900 scripts/fuzz "${FUZZ_SECONDS:-10}"

echo "=== attack stages"
for line in "${summary[@]}"; do echo "  $line"; done
echo "attack: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
