#!/usr/bin/env python3
"""Checks the PostgreSQL statements (src/store/postgres/statements.hpp)
against the schema (src/store/migrations/postgres/) on a live server.

Static checks (no server needed; --static-only runs only these):
  - every Sql constant of the SQLite store (store/sqlite/statements.hpp and
    the other non-test store/sqlite/*.cpp) has a PostgreSQL constant of the
    same name, unless the list at the end of the PostgreSQL header names it
    as omitted;
  - each PostgreSQL statement's parameters are $1..$N without a gap, and N
    is the highest parameter number of its SQLite counterpart;
  - no SQLite-only syntax is left (?N, INDEXED BY, group_concat, ...).

On the server (psql, connection from the environment: PGHOST, PGPORT,
PGUSER, PGDATABASE, ...; PGUSER must be able to SET ROLE to the roles):
  - as the keeper role, every keeper statement PREPAREs (no parameter of
    unknown type), EXECUTEs with NULL parameters inside a rolled-back
    transaction with no error but a NOT NULL violation (so no permission
    error), and has result columns of type bigint, text or bytea only, as
    many as its SQLite counterpart's (its SQLite form is prepared through
    libsqlite3, ctypes, on in-memory databases made from the SQLite
    migrations);
  - as the intake role, its statements run, and everything else is refused:
    reading the inbox, any other table, any other function;
  - as the keeper role, changing the audit log, a honeytoken or the inbox,
    or deleting from the breach register, is refused, and so is the intake's rate limit and any DDL.

--setup first makes, on an empty database, the three roles (NOLOGIN, when
missing) and the schema, and applies the numbered migrations then grants.sql twice
as the owner role.

Environment (optional): REMPART_OWNER_ROLE, REMPART_KEEPER_ROLE,
REMPART_INTAKE_ROLE (default rempart_owner, rempart_keeper, rempart_intake).
The schema is "rempart" (rempart_take_token names it in its search_path).
Exit status: 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_HEADER = ROOT / "src/store/postgres/statements.hpp"
SQLITE_HEADER = ROOT / "src/store/sqlite/statements.hpp"
SQLITE_DIR = ROOT / "src/store/sqlite"
PG_MIGRATIONS = ROOT / "src/store/migrations/postgres"
SQLITE_MIGRATIONS = ROOT / "src/store/migrations/sqlite"
SQLITE_INBOX_MIGRATIONS = ROOT / "src/store/migrations/sqlite_inbox"

SCHEMA = "rempart"
OWNER = os.environ.get("REMPART_OWNER_ROLE", "rempart_owner")
KEEPER = os.environ.get("REMPART_KEEPER_ROLE", "rempart_keeper")
INTAKE = os.environ.get("REMPART_INTAKE_ROLE", "rempart_intake")

# Statements that are not the keeper's, or not to be run with NULLs.
TRANSACTION = {"kBegin", "kBeginReadOnlySnapshot", "kCommit", "kRollback"}
OWNER_ONLY = {"kCreateSchemaMigrations", "kInsertSchemaMigration", "kMigrationLock", "kSetupSettings"}
INTAKE_ONLY = {"kInsertBatch", "kInsertInboxItem", "kTakeSignupToken"}
# Result types the store reads; kTakeSignupToken's is a double.
RESULT_TYPES = {"bigint", "text", "bytea"}
RESULT_TYPE_EXCEPTIONS = {"kTakeSignupToken": {"double precision"}}
# SQLite-only syntax that must not be left in a PostgreSQL statement.
SQLITE_ISMS = [
    (re.compile(r"\?\d*"), "a ?N parameter"),
    (re.compile(r"(?i)\bINDEXED\s+BY\b"), "INDEXED BY"),
    (re.compile(r"(?i)\bgroup_concat\s*\("), "group_concat"),
    (re.compile(r"(?i)\bifnull\s*\("), "ifnull"),
    (re.compile(r"(?i)\biif\s*\("), "iif"),
    (re.compile(r"(?i)\bhex\s*\("), "hex()"),
    (re.compile(r"(?i)\browid\b"), "rowid"),
    (re.compile(r"(?i)\bINSERT\s+OR\b"), "INSERT OR ..."),
    (re.compile(r"(?i)\bLIMIT\s+-"), "a negative LIMIT"),
    (re.compile(r"(?i)\bPRAGMA\b"), "PRAGMA"),
    (re.compile(r"(?i)\bunixepoch\s*\(|\bstrftime\s*\("), "SQLite date functions"),
    (re.compile(r"(?i)\bmax\s*\([^()]*,"), "scalar max(a, b)"),
    (re.compile(r"(?i)\bmin\s*\([^()]*,"), "scalar min(a, b)"),
]

failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)
    print("FAIL: " + msg)


# ---- A small C++ reader: comments, string literals, #define/#undef ---------------

_TOKEN = re.compile(
    r'(?P<str>(?:u8|u|U|L)?"(?:[^"\\\n]|\\.)*")'
    r"|(?P<chr>'(?:[^'\\\n]|\\.)*')"
    r"|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<num>\d[\w.]*)"
    r"|(?P<ws>\s+)"
    r"|(?P<punct>::|.)",
    re.S,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", "?": "?", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v"}


def strip_comments(src: str) -> str:
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            out.append(" ")
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, str]]:
    toks = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind != "ws":
            toks.append((kind, m.group()))
    return toks


def decode_literal(tok: str) -> str:
    body = tok[tok.index('"') + 1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            e = body[i + 1]
            if e == "x":
                m = re.match(r"[0-9A-Fa-f]+", body[i + 2:])
                out.append(chr(int(m.group(), 16)))
                i += 2 + len(m.group())
                continue
            if e in "01234567" and e != "0" or (e == "0" and i + 2 < len(body) and body[i + 2] in "01234567"):
                m = re.match(r"[0-7]{1,3}", body[i + 1:])
                out.append(chr(int(m.group(), 8)))
                i += 1 + len(m.group())
                continue
            out.append(_ESCAPES.get(e, e))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Macro:
    def __init__(self, params: list[str] | None, body: list[tuple[str, str]]):
        self.params = params
        self.body = body


def split_args(toks: list[tuple[str, str]], start: int) -> tuple[list[list[tuple[str, str]]], int]:
    """toks[start] is '('; returns the top-level comma-separated arguments and
    the index after the matching ')'."""
    depth, args, cur, i = 0, [], [], start
    while True:
        t = toks[i]
        if t[1] in "({[" and t[0] == "punct":
            depth += 1
            if depth > 1:
                cur.append(t)
        elif t[1] in ")}]" and t[0] == "punct":
            depth -= 1
            if depth == 0:
                args.append(cur)
                return args, i + 1
            cur.append(t)
        elif t == ("punct", ",") and depth == 1:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
        i += 1


def expand(toks: list[tuple[str, str]], macros: dict[str, Macro], active: frozenset = frozenset()) -> list:
    out, i = [], 0
    while i < len(toks):
        kind, val = toks[i]
        m = macros.get(val) if kind == "id" and val not in active else None
        if m is None:
            out.append(toks[i])
            i += 1
            continue
        if m.params is None:
            out.extend(expand(m.body, macros, active | {val}))
            i += 1
            continue
        if i + 1 >= len(toks) or toks[i + 1] != ("punct", "("):
            out.append(toks[i])
            i += 1
            continue
        args, i = split_args(toks, i + 1)
        args = [expand(a, macros, active) for a in args]
        if args == [[]] and not m.params:
            args = []
        if len(args) != len(m.params):
            raise ValueError(f"macro {val}: {len(args)} arguments for {len(m.params)}")
        bound = dict(zip(m.params, args))
        body = []
        for t in m.body:
            body.extend(bound[t[1]] if t[0] == "id" and t[1] in bound else [t])
        out.extend(expand(body, macros, active | {val}))
    return out


def read_sql_constants(path: Path, macros: dict[str, Macro] | None = None) -> dict[str, str]:
    """Every `Sql kX{"kX", <string literals and macros>}` of a C++ file, with
    its text: the literals concatenated after expanding the file's macros."""
    macros = {} if macros is None else macros
    src = strip_comments(path.read_text(encoding="utf-8"))
    src = re.sub(r"\\\n", " ", src)  # line continuations (directives only, here)
    found: dict[str, str] = {}
    pending: list[tuple[str, str]] = []

    def scan(tokens: list[tuple[str, str]]) -> None:
        i = 0
        while i < len(tokens):
            if (tokens[i] == ("id", "Sql") and i + 2 < len(tokens) and tokens[i + 1][0] == "id"
                    and tokens[i + 2] == ("punct", "{")):
                name = tokens[i + 1][1]
                args, j = split_args(tokens, i + 2)
                if len(args) != 2:
                    raise ValueError(f"{path.name}: {name}: expected {{name, text}}")
                label = "".join(decode_literal(t[1]) for t in args[0] if t[0] == "str")
                if label != name:
                    fail(f"{path.name}: {name} is labelled {label!r}")
                body = expand(args[1], macros)
                bad = [t[1] for t in body if t[0] != "str"]
                if bad:
                    raise ValueError(f"{path.name}: {name}: not a string literal: {' '.join(bad)}")
                if name in found:
                    fail(f"{path.name}: {name} defined twice")
                found[name] = "".join(decode_literal(t[1]) for t in body)
                i = j
            else:
                i += 1

    for line in src.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#"):
            # A statement may span lines: scan what came before the directive
            # only once it is complete (directives never split a constant here).
            m = re.match(r"#\s*(define|undef)\s+([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$", stripped)
            if m and m.group(1) == "define":
                params = None
                if m.group(3) is not None:
                    params = [p.strip() for p in m.group(3)[1:-1].split(",") if p.strip()]
                macros[m.group(2)] = Macro(params, tokenize(m.group(4)))
            elif m and m.group(1) == "undef":
                scan(pending)
                pending = []
                macros.pop(m.group(2), None)
            continue
        pending.extend(tokenize(line))
        # Flush at a statement's end so that later #undefs do not matter.
        if pending and pending[-1] == ("punct", ";"):
            scan(pending)
            pending = []
    scan(pending)
    return found


def omitted_names(path: Path) -> set[str]:
    names, inside = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if "with no counterpart here" in line:
            inside = True
            continue
        if inside:
            m = re.match(r"^//\s+(k[A-Z]\w*)\s*$", line.strip())
            if m:
                names.add(m.group(1))
    return names


def params_of(text: str, marker: str) -> list[int]:
    return sorted({int(n) for n in re.findall(re.escape(marker) + r"(\d+)", text)})


# ---- Static checks -------------------------------------------------------------

def static_checks(pg: dict[str, str], lite: dict[str, str], omitted: set[str]) -> None:
    for name in sorted(lite):
        if name not in pg and name not in omitted:
            fail(f"{name}: SQLite statement without a PostgreSQL counterpart (nor listed as omitted)")
    for name in sorted(omitted):
        if name not in lite:
            fail(f"{name}: listed as omitted, but no SQLite statement has that name")
        if name in pg:
            fail(f"{name}: listed as omitted, yet defined")
    for name, text in sorted(pg.items()):
        # A '?' inside a quoted literal would be fine; there is none.
        for pattern, what in SQLITE_ISMS:
            if pattern.search(re.sub(r"'[^']*'", "''", text)):
                fail(f"{name}: SQLite syntax left: {what}")
        nums = params_of(text, "$")
        if nums and nums != list(range(1, nums[-1] + 1)):
            missing = sorted(set(range(1, nums[-1] + 1)) - set(nums))
            fail(f"{name}: parameters not consecutive from $1 (missing {missing})")
        if name in lite:
            lite_max = max(params_of(lite[name], "?"), default=0)
            if (nums[-1] if nums else 0) != lite_max:
                fail(f"{name}: highest parameter ${nums[-1] if nums else 0}, SQLite's ?{lite_max}")
    new = sorted(set(pg) - set(lite))
    print(f"static: {len(pg)} PostgreSQL statements, {len(lite)} SQLite ones, {len(omitted)} omitted;"
          f" PostgreSQL only: {', '.join(new)}")


# ---- SQLite result columns --------------------------------------------------------

def sqlite_column_counts(lite: dict[str, str]) -> dict[str, int]:
    """How many result columns each SQLite statement has: prepared (never
    run) through libsqlite3 itself (ctypes), on in-memory databases made
    from the SQLite migrations. Empty when libsqlite3 cannot be loaded."""
    import ctypes
    import ctypes.util

    path = ctypes.util.find_library("sqlite3")
    if path is None:
        print("note: libsqlite3 not found; result columns not compared with SQLite's")
        return {}
    lib = ctypes.CDLL(path)
    lib.sqlite3_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.sqlite3_exec.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.c_char_p)]
    lib.sqlite3_prepare_v2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.sqlite3_column_count.argtypes = [ctypes.c_void_p]
    lib.sqlite3_finalize.argtypes = [ctypes.c_void_p]
    lib.sqlite3_errmsg.argtypes = [ctypes.c_void_p]
    lib.sqlite3_errmsg.restype = ctypes.c_char_p
    func_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
    lib.sqlite3_create_function_v2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                               ctypes.c_void_p, func_type, ctypes.c_void_p, ctypes.c_void_p,
                                               ctypes.c_void_p]
    # Only needed to prepare the segment statements; never called.
    noop = func_type(lambda ctx, argc, argv: None)
    dbs = []
    for folder in (SQLITE_MIGRATIONS, SQLITE_INBOX_MIGRATIONS):
        db = ctypes.c_void_p()
        if lib.sqlite3_open(b":memory:", ctypes.byref(db)) != 0:
            raise RuntimeError("sqlite3_open failed")
        lib.sqlite3_create_function_v2(db, b"rempart_tags_match", 4, 1, None, noop, None, None, None)
        scripts = [f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.sql"))]
        scripts.append("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                       " name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
        for script in scripts:
            if lib.sqlite3_exec(db, script.encode(), None, None, None) != 0:
                raise RuntimeError(f"SQLite migration failed: {lib.sqlite3_errmsg(db).decode()}")
        dbs.append(db)
    counts = {}
    for name, text in lite.items():
        for db in dbs:
            stmt = ctypes.c_void_p()
            raw = text.encode()
            if lib.sqlite3_prepare_v2(db, raw, len(raw), ctypes.byref(stmt), None) == 0 and stmt.value:
                counts[name] = lib.sqlite3_column_count(stmt)
                lib.sqlite3_finalize(stmt)
                break
    lib.sqlite3_close.argtypes = [ctypes.c_void_p]
    for db in dbs:  # before `noop` goes
        lib.sqlite3_close(db)
    return counts


# ---- The server ----------------------------------------------------------------------

def psql(script: str, *, stop_on_error: bool = False, single_tx: bool = False) -> tuple[str, list[tuple[int, str, str]]]:
    """Runs `script` in one psql session; returns its output and its errors
    as (line, SQLSTATE, message)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as f:
        f.write("\\set VERBOSITY verbose\n" + script)
        path = f.name
    try:
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", f"ON_ERROR_STOP={1 if stop_on_error else 0}", "-f", path]
        if single_tx:
            cmd.insert(1, "-1")
        r = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
    finally:
        os.unlink(path)
    errors = []
    for line in r.stderr.splitlines():
        m = re.match(r"^psql:.*?:(\d+): (?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}): (.*)$", line)
        if m:
            errors.append((int(m.group(1)) - 1, m.group(2), m.group(3)))  # -1: the \set line
        elif line.startswith("psql:") and ("could not connect" in line or "error:" in line):
            errors.append((0, "08000", line))
    if r.returncode != 0 and not errors:
        errors.append((0, "XX000", r.stderr.strip() or f"psql exited with {r.returncode}"))
    return r.stdout, errors


def setup() -> None:
    pg = read_sql_constants(PG_HEADER)
    roles = ", ".join(f"'{r}'" for r in (OWNER, KEEPER, INTAKE))
    # Every numbered migration in order, as `rempart migrate` applies them.
    migrations = "\n".join(f"\\i {f}" for f in sorted(PG_MIGRATIONS.glob("[0-9]*.sql")))
    script = f"""
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY[{roles}] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
GRANT {OWNER}, {KEEPER}, {INTAKE} TO CURRENT_USER;
CREATE SCHEMA {SCHEMA} AUTHORIZATION {OWNER};
SET ROLE {OWNER};
SET search_path = {SCHEMA};
{pg['kCreateSchemaMigrations']};
{migrations}
\\i {PG_MIGRATIONS / 'grants.sql'}
\\i {PG_MIGRATIONS / 'grants.sql'}
"""
    _, errors = psql(script, stop_on_error=True, single_tx=True)
    for line, state, msg in errors:
        fail(f"setup: {state} {msg}")
    if not errors:
        print("setup: roles, schema, the migrations, grants.sql (twice): done")


def null_args(n: int) -> str:
    return "(" + ", ".join(["NULL"] * n) + ")" if n else ""


def check_keeper(pg: dict[str, str], lite_cols: dict[str, int]) -> None:
    names = [n for n in sorted(pg) if n not in TRANSACTION | OWNER_ONLY | INTAKE_ONLY]
    lines = [f"SET ROLE {KEEPER};", f"SET search_path = {SCHEMA};"]
    where: dict[int, tuple[str, str]] = {}

    def add(line: str, name: str, what: str) -> None:
        lines.append(line)
        where[len(lines)] = (name, what)

    for name in names:
        text, lname = pg[name], name.lower()
        n = max(params_of(text, "$"), default=0)
        add(f"PREPARE {lname} AS {text};", name, "prepare")
        lines.append(f"\\echo @@desc {name}")
        add(f"EXECUTE {lname}{null_args(n)} \\gdesc", name, "describe")
        lines.append("BEGIN;")
        add(f"EXECUTE {lname}{null_args(n)} \\g /dev/null", name, "execute")
        lines.append("ROLLBACK;")
    lines.append("\\echo @@params")
    lines.append("SELECT name || '|' || parameter_types::text FROM pg_prepared_statements ORDER BY name;")
    out, errors = psql("\n".join(lines) + "\n")

    for line, state, msg in errors:
        name, what = where.get(line, ("?", f"line {line}"))
        # Run with NULLs, an insert may break a NOT NULL: the privileges were
        # checked before.
        if what == "execute" and state == "23502":
            continue
        fail(f"keeper {name} ({what}): {state} {msg}")

    # Result columns.
    current, cols = None, {}
    section = None
    ptypes = {}
    for line in out.splitlines():
        if line.startswith("@@desc "):
            current, section = line.split(" ", 1)[1], "desc"
            cols[current] = []
            continue
        if line == "@@params":
            section = "params"
            continue
        if section == "desc" and current and "|" in line:
            cols[current].append(line.split("|", 1))
        elif section == "params" and "|" in line:
            k, v = line.split("|", 1)
            ptypes[k] = v
    by_lower = {n.lower(): n for n in names}
    for name in names:
        got = cols.get(name, [])
        allowed = RESULT_TYPES | RESULT_TYPE_EXCEPTIONS.get(name, set())
        for col, typ in got:
            if typ not in allowed:
                fail(f"keeper {name}: result column {col!r} is {typ}")
        if name in lite_cols and lite_cols[name] != len(got):
            fail(f"keeper {name}: {len(got)} result columns, SQLite's {lite_cols[name]}")
    for lname, types in ptypes.items():
        if "unknown" in types:
            fail(f"keeper {by_lower.get(lname, lname)}: a parameter of unknown type: {types}")
    print(f"keeper: {len(names)} statements prepared, described and run")
    if os.environ.get("REMPART_CHECK_VERBOSE"):
        for lname, types in sorted(ptypes.items()):
            name = by_lower.get(lname, lname)
            print(f"  {name}: params {types}; columns {', '.join(t for _, t in cols.get(name, []))}")


def expect(lines: list[str], where: dict[int, str], sql: str, label: str) -> None:
    lines.append("BEGIN;")
    lines.append(sql)
    where[len(lines)] = label
    lines.append("ROLLBACK;")


def check_refusals(pg: dict[str, str]) -> None:
    # Statements each role must be able to run, with real values.
    ok_lines = [f"SET ROLE {INTAKE};", f"SET search_path = {SCHEMA};"]
    ok_where: dict[int, str] = {}

    def ok(sql: str, label: str) -> None:
        ok_lines.append(sql)
        ok_where[len(ok_lines)] = label

    ok("BEGIN;", "intake BEGIN")
    for name in ("kInsertBatch", "kInsertInboxItem", "kTakeSignupToken"):
        ok(f"PREPARE {name.lower()} AS {pg[name]};", f"intake PREPARE {name}")
    batch = r"'\xc0ffee'::bytea, 1, '\x01'::bytea, 1000"
    item = r"'\xc0ffee'::bytea, '\xbeef'::bytea, '\x02'::bytea, '\x03'::bytea, 1001"
    for _ in range(2):  # the second time: the ON CONFLICT path
        ok(f"EXECUTE kinsertbatch({batch});", "intake kInsertBatch")
        ok(f"EXECUTE kinsertinboxitem({item});", "intake kInsertInboxItem")
    ok("EXECUTE ktakesignuptoken('check:198.51.100.7', 1, 2, NULL) \\g /dev/null", "intake kTakeSignupToken")
    ok("ROLLBACK;", "intake ROLLBACK")
    _, errors = psql("\n".join(ok_lines) + "\n")
    for line, state, msg in errors:
        fail(f"{ok_where.get(line, f'line {line}')}: {state} {msg}")

    # What each role must be refused (42501, insufficient_privilege).
    lines: list[str] = []
    where: dict[int, str] = {}
    lines += [f"SET ROLE {INTAKE};", f"SET search_path = {SCHEMA};"]
    intake_refused = [
        "SELECT * FROM inbox",
        "SELECT uid FROM intake_batches",
        "SELECT count(*) FROM inbox",
        "SELECT * FROM intake_rate",
        "DELETE FROM inbox",
        "DELETE FROM intake_batches",
        "UPDATE inbox SET received_at = 0",
        r"INSERT INTO inbox (id, batch_uid, item_uid, wrapped_key, fields, received_at)"
        r" VALUES (1, '\x00', '\x01', '\x02', '\x03', 0)",
        r"INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at)"
        r" VALUES ('\x00', 1, '\x01', 0) RETURNING uid",
        r"INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at)"
        r" VALUES ('\x00', 1, '\x01', 0) ON CONFLICT (uid) DO NOTHING",
        "SELECT count(*) FROM supporters",
        "SELECT count(*) FROM audit_entries",
        "INSERT INTO folded_items (item_uid, folded_at) VALUES ('\\x00', 0)",
        "SELECT rempart_tags_match('', '', '', '')",
        "CREATE TABLE intake_scratch (a int)",
        "TRUNCATE inbox",
    ]
    for sql in intake_refused:
        expect(lines, where, sql + ";", f"intake: {sql}")
    lines += ["RESET ROLE;", f"SET ROLE {KEEPER};", f"SET search_path = {SCHEMA};"]
    keeper_refused = [
        "UPDATE audit_entries SET at = 0",
        "DELETE FROM audit_entries",
        "UPDATE audit_checkpoints SET at = 0",
        "DELETE FROM audit_checkpoints",
        "UPDATE honeytokens SET planted_at = 0",
        "DELETE FROM breach_register",
        r"INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
        r" VALUES ('\x00', '\x01', '\x02', '\x03', 0)",
        r"INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at) VALUES ('\x00', 1, '\x01', 0)",
        "UPDATE inbox SET received_at = 0",
        "UPDATE inbox SET fields = '\\x00'",
        "UPDATE intake_batches SET created_at = 0",
        "SELECT * FROM intake_rate",
        "SELECT rempart_take_token('k', 1, 1, NULL)",
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)",
        "DELETE FROM schema_migrations",
        "CREATE TABLE keeper_scratch (a int)",
        "CREATE FUNCTION keeper_scratch() RETURNS int LANGUAGE sql RETURN 1",
        "ALTER TABLE supporters ADD COLUMN scratch int",
        "DROP TABLE segments",
        "TRUNCATE supporters",
        "TRUNCATE audit_entries",
    ]
    for sql in keeper_refused:
        expect(lines, where, sql + ";", f"keeper: {sql}")
    _, errors = psql("\n".join(lines) + "\n")
    refused = {line: state for line, state, _ in errors}
    for line, label in where.items():
        state = refused.get(line)
        if state != "42501":
            fail(f"{label}: not refused (SQLSTATE {state or 'none: it ran'})")
    print(f"refusals: {len(intake_refused)} for the intake, {len(keeper_refused)} for the keeper checked")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setup", action="store_true", help="make the roles and schema on an empty database first")
    ap.add_argument("--static-only", action="store_true", help="only the checks that need no server")
    args = ap.parse_args()

    pg = read_sql_constants(PG_HEADER)
    lite: dict[str, str] = {}
    lite_macros: dict[str, Macro] = {}
    lite.update(read_sql_constants(SQLITE_HEADER, lite_macros))
    for cpp in sorted(SQLITE_DIR.glob("*.cpp")):
        if cpp.name.endswith("_test.cpp"):
            continue
        lite.update(read_sql_constants(cpp, dict(lite_macros)))
    static_checks(pg, lite, omitted_names(PG_HEADER))
    if not args.static_only:
        if args.setup:
            setup()
        if not failures:
            check_keeper(pg, sqlite_column_counts(lite))
            check_refusals(pg)
    print(f"{len(failures)} failure(s)" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
