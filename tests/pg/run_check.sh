#!/usr/bin/env bash
# ctest `pg_statements`: tests/pg/check_statements.py on a database of its
# own (rempart_check, made anew) of the test cluster scripts/test starts,
# found through REMPART_TEST_PG and REMPART_TEST_PG_PASSWORD_FILE.
set -euo pipefail
: "${REMPART_TEST_PG:?run through scripts/test, which starts a PostgreSQL cluster}"
: "${REMPART_TEST_PG_PASSWORD_FILE:?run through scripts/test}"
PGHOST="$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$REMPART_TEST_PG")"
PGPORT="$(sed -n 's/.*port=\([^ ]*\).*/\1/p' <<<"$REMPART_TEST_PG")"
PGUSER=postgres
PGPASSWORD="$(head -n1 "$REMPART_TEST_PG_PASSWORD_FILE")"
export PGHOST PGPORT PGUSER PGPASSWORD
dropdb --if-exists rempart_check
createdb -E UTF8 -T template0 rempart_check
PGDATABASE=rempart_check exec python3 "$(dirname "$0")/check_statements.py" --setup
