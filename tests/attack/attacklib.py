"""Shared helpers of the attack suite (stdlib only).

Each attack script starts its own fresh `rempart serve` in a temporary
directory (Instance), talks to it over loopback only, counts its checks in a
Tally and ends with the plain closing line `N passed, N failed`.

Adding an intake endpoint to attack means adding an Endpoint to ENDPOINTS
below: the payload corpus, the leak scanner and the sqlmap stage all iterate
over that list. The admin console has its own stage (console_scan.py) built on
the helpers at the end: accounts and tokens through the CLI, TOTP codes of
steps an account has not used yet (fresh_code), the two-step sign-in over
HTTP, form posts and API calls carrying a session or a bearer token,
self-enrolment by link, and the instance's alerts read back from a JSONL
file sink (Instance.alert_file, alerts, wait_alert) and its accounts from
`admin list` (Instance.accounts).

`Instance(backend="postgresql")` keeps the records in a fresh database of the
PostgreSQL cluster run.sh starts once for the attack stages (PgServer, found
through REMPART_ATTACK_PG and REMPART_ATTACK_PG_PASSWORD_FILE); the database
is dropped with the instance. Its extra checks (Instance.pg_checks): no table
but those a sign-up writes changed, the schema and its grants are as init left
them, the intake's role cannot read, and the server logged no error.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ROOT / "build" / "asan" / "src" / "cli" / "rempart"


DEFAULT_CLI_BINARY = ROOT / "build" / "release" / "src" / "cli" / "rempart"


def binary() -> Path:
    """The binary that serves: the sanitizer build, so a memory error under
    attack is a failure and not a silent corruption."""
    return Path(os.environ.get("REMPART_BIN", str(DEFAULT_BINARY)))


def cli_binary() -> Path:
    """The binary for operator commands (init, count, show). The Release
    build answers a `supporters show` in ~70 ms against ~1 s for the
    sanitizer build, which decides how many records a run can verify."""
    p = os.environ.get("REMPART_CLI_BIN")
    if p:
        return Path(p)
    return DEFAULT_CLI_BINARY if DEFAULT_CLI_BINARY.exists() else binary()


# ---------------------------------------------------------------------------
# Counting checks


class Tally:
    """Counts checks; prints failures at once and the closing line at the end."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.started = time.monotonic()

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL [{self.name}] {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def note(self, text: str) -> None:
        print(f"[{self.name}] {text}", flush=True)

    def finish(self) -> int:
        took = time.monotonic() - self.started
        print(f"[{self.name}] took {took:.1f} s", flush=True)
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------
# A fresh instance of the real binary


@dataclass
class Instance:
    """`rempart init` in a temp dir, config edits, `rempart serve` on port 0."""

    intake: dict = field(default_factory=dict)  # [intake] keys to override
    role: str = "all"
    backend: str = "sqlite"  # or "postgresql": a fresh database of PgServer.from_env()
    dir: Path = field(init=False)
    config: Path = field(init=False)
    proc: subprocess.Popen | None = field(init=False, default=None)
    port: int = field(init=False, default=0)  # intake (0 when the role serves none)
    console_port: int = field(init=False, default=0)  # console (0 when the role serves none)
    log_path: Path = field(init=False)
    pg: "PgServer | None" = field(init=False, default=None)
    database: str = field(init=False, default="")  # postgresql: this instance's database
    pg_log_from: int = field(init=False, default=0)  # where the server log is checked from

    def __post_init__(self) -> None:
        if self.backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unknown backend {self.backend!r}")
        if self.backend == "postgresql":
            self.pg = PgServer.from_env()
        # tmpfs when there is one: every accepted sign-up waits for a durable
        # commit, and fsync on a real disk would make the scans disk-bound.
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.dir = Path(tempfile.mkdtemp(prefix="rempart-attack-", dir=base))
        self.config = self.dir / "rempart.toml"
        self.log_path = self.dir / "serve.log"
        args = ["init", "--data", str(self.dir / "data"), "--keys", str(self.dir / "keys"),
                "--config", str(self.config), "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"]
        if self.pg is not None:
            # The roles rempart_owner, _keeper and _intake are the cluster's:
            # init gives the keeper and the intake new passwords, so one
            # instance of the cluster at a time (the stages run in turn).
            self.database = f"rempart_attack_{os.getpid()}_{os.urandom(3).hex()}"
            self.pg_log_from = self.pg.log_mark()
            try:
                self.pg.createdb(self.database)
            except RuntimeError:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise
            args += ["--backend", "postgresql", "--dsn", f"{self.pg.dsn} dbname={self.database}",
                     "--admin-user", "postgres", "--admin-password-file", str(self.pg.password_file)]
        r = self.cli(args, with_config=False)
        if r.returncode != 0:
            self.cleanup()
            raise RuntimeError(f"rempart init failed: {r.stderr}")
        if self.intake:
            self.edit_section("intake", self.intake)

    def edit_section(self, section: str, values: dict) -> None:
        """Replaces or adds `key = value` lines in [section] of the TOML file."""
        lines = self.config.read_text().splitlines()
        out, current, done = [], None, set()

        def flush_missing():
            for k, v in values.items():
                if k not in done:
                    out.append(f"{k} = {toml_value(v)}")
                    done.add(k)

        for line in lines:
            m = re.match(r"^\s*\[([^\]]+)\]\s*(?:#.*)?$", line)  # a header may carry a comment
            if m:
                if current == section:
                    flush_missing()
                current = m.group(1)
                out.append(line)
                continue
            km = re.match(r"^\s*([A-Za-z_]+)\s*=", line)
            if current == section and km and km.group(1) in values:
                out.append(f"{km.group(1)} = {toml_value(values[km.group(1)])}")
                done.add(km.group(1))
                continue
            out.append(line)
        if current == section:
            flush_missing()
        elif len(done) < len(values):
            out.append(f"[{section}]")
            flush_missing()
        self.config.write_text("\n".join(out) + "\n")

    def cli(self, args: list[str], with_config: bool = True, timeout: float = 120,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        cmd = [str(cli_binary())] + args
        if with_config:
            cmd += ["--config", str(self.config)]
        return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              encoding="utf-8", errors="replace")

    # -- console accounts, tokens and seed records (through the operator CLI) --

    def add_account(self, name: str, role: str, password: str | None = None) -> "Account":
        """`admin add NAME --role ROLE --password-stdin`; the account with its
        TOTP secret and recovery codes as printed (once) by the CLI."""
        password = password or "Zq-" + os.urandom(9).hex() + "-battery-staple"
        r = self.cli(["admin", "add", name, "--role", role, "--password-stdin"], stdin=password + "\n")
        if r.returncode != 0:
            raise RuntimeError(f"admin add {name} failed: {r.stderr}")
        m = re.search(r"otpauth://\S*[?&]secret=([A-Z2-7]+)", r.stdout)
        if not m:
            raise RuntimeError(f"admin add {name}: no otpauth URI in the output")
        recovery = re.findall(r"^\s+([a-z0-9]{4}(?:-[a-z0-9]{4}){3})\s*$", r.stdout, re.M)
        return Account(name, role, password, m.group(1), recovery)

    def create_token(self, scope: str, label: str = "attack", days: int = 30) -> str:
        """`admin token create`; the bearer token (rmp_...) printed once."""
        r = self.cli(["admin", "token", "create", "--scope", scope, "--name", label, "--expires-days", str(days)])
        m = re.search(r"\b(rmp_\S+)", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"admin token create failed: {r.stderr}")
        return m.group(1)

    def import_supporters(self, rows: list[dict]) -> None:
        """Writes rows (given_name, family_name, email, phone, postal_code,
        tags) to a CSV file and imports it with `supporters import`."""
        import csv
        path = self.dir / f"import-{time.monotonic_ns()}.csv"
        cols = ["given_name", "family_name", "email", "phone", "postal_code", "tags"]
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for row in rows:
                w.writerow([row.get(c, "") for c in cols])
        r = self.cli(["supporters", "import", str(path), "--no-progress"])
        if r.returncode != 0:
            raise RuntimeError(f"supporters import failed: {r.stderr[-500:]}")

    def console_enabled(self) -> bool:
        import tomllib
        try:
            conf = tomllib.loads(self.config.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            return True
        return bool(conf.get("console", {}).get("enabled", True))

    def start(self, timeout: float = 60) -> int:
        """Starts `serve` and waits for every listener its role opens; the
        intake port (console_port is set too when the console is served)."""
        want_intake = self.role in ("all", "intake")
        want_console = self.role in ("all", "keeper") and self.console_enabled()
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(binary()), "serve", "--config", str(self.config), "--role", self.role],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            m = re.search(r"intake listening on 127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
            m = re.search(r"console listening on 127\.0\.0\.1:(\d+)", text)
            if m:
                self.console_port = int(m.group(1))
            if (self.port or not want_intake) and (self.console_port or not want_console):
                return self.port
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("rempart serve did not start:\n" + self.log())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def count(self) -> tuple[int, str]:
        """(supporters, stderr); stderr mentions submissions still in the inbox."""
        r = self.cli(["supporters", "count"])
        if r.returncode != 0:
            raise RuntimeError("supporters count failed: " + r.stderr)
        return int(r.stdout.strip()), r.stderr

    def wait_folded(self, timeout: float = 60) -> int:
        """Waits until the keeper has folded the whole inbox; the count."""
        deadline = time.monotonic() + timeout
        n, err = self.count()
        while "inbox" in err and time.monotonic() < deadline:
            time.sleep(0.3)
            n, err = self.count()
        return n

    def show(self, kind: str, value: str) -> dict | None:
        r = self.cli(["supporters", "show", f"--{kind}", value, "--json"])
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def stop_and_check(self, tally: "Tally") -> None:
        """Stops the server and records that it stopped cleanly and that the
        sanitizers reported nothing."""
        code = self.stop()
        tally.check(code == 0, "server stops cleanly", f"exit {code}")
        log = self.log()
        tally.check("AddressSanitizer" not in log and "runtime error:" not in log, "no sanitizer report",
                    log[-3000:])
        if self.pg is not None:
            errors = self.pg.log_errors(self.pg_log_from)
            tally.check(not errors, "PostgreSQL logged no error, up to serve's stop", "\n".join(errors[:10]))

    def check_log_clean(self, tally: "Tally") -> None:
        """What serve logged under attack holds no SQL or database error
        text (the PostgreSQL store names a statement constant and a SQLSTATE
        class, never the server's message) and no e-mail address."""
        log = self.log()
        bad = [f"{what}: {m.group(0)!r}" for pat, what in LEAK_PATTERNS[:3] for m in [pat.search(log.encode())] if m]
        tally.check(not bad, "serve's log holds no SQL or database error text", str(bad))
        emails = re.findall(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", log)
        tally.check(not emails, "serve's log holds no e-mail address", str(emails[:3]))

    def alert_file(self) -> Path:
        """Adds a JSONL file sink to [alerts] (the serve and CLI alerts both
        land there); its path."""
        path = self.dir / "alerts.jsonl"
        self.edit_section("alerts", {"file": str(path)})
        return path

    def alerts(self) -> list[tuple[str, dict | None]]:
        """Every line of the alert file: (raw line, parsed JSON or None)."""
        path = self.dir / "alerts.jsonl"
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append((line, json.loads(line)))
            except ValueError:
                out.append((line, None))
        return out

    def wait_alert(self, match: Callable[[dict], bool], timeout: float = 5) -> dict | None:
        """The first alert `match` accepts, waiting up to `timeout` seconds
        (sinks deliver on their own threads)."""
        deadline = time.monotonic() + timeout
        while True:
            for _, a in self.alerts():
                if a is not None and match(a):
                    return a
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)

    def accounts(self) -> dict[str, dict]:
        """`admin list` as name -> {role, state, failures, reason}."""
        r = self.cli(["admin", "list"])
        if r.returncode != 0:
            raise RuntimeError("admin list failed: " + r.stderr[-500:])
        out = {}
        for line in r.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) < 5:
                continue
            m = re.search(r"\(([^)]*)\)\s*$", line)
            out[parts[0]] = {"role": parts[1], "state": parts[2], "failures": int(parts[3]),
                             "reason": m.group(1) if m else ""}
        return out

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("REMPART_ATTACK_KEEP"):
            print(f"kept {self.dir}" + (f" and the database {self.database}" if self.database else ""), flush=True)
            return
        if self.pg is not None and self.database:
            r = self.pg.run("dropdb", ["--force", "--if-exists", self.database])
            if r.returncode != 0:
                print(f"dropdb {self.database} failed: {r.stderr.strip()}", flush=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- PostgreSQL: what the store holds and who may read it --------------------

    def pg_sql(self, sql: str) -> str:
        """`sql` as the cluster's superuser on this instance's database; its
        unaligned output (raises on an error)."""
        assert self.pg is not None
        r = self.pg.psql(self.database, sql)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout

    def pg_snapshot(self) -> tuple[str, dict[str, int]]:
        """(every relation and function of the schema with its owner and
        grants, column grants, the rempart roles' attributes and memberships,
        as one text; the row count of each table), before and after an attack."""
        schema = self.pg_sql(
            "SELECT format('%s %s %s %s', c.relkind, c.relname, pg_get_userbyid(c.relowner), c.relacl) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rempart' "
            "UNION ALL SELECT format('c %s.%s %s', c.relname, a.attname, a.attacl) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'rempart' AND a.attacl IS NOT NULL "
            "UNION ALL SELECT format('f %s %s %s %s', p.oid::regprocedure, pg_get_userbyid(p.proowner), "
            "p.prosecdef, p.proacl) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'rempart' "
            "UNION ALL SELECT format('role %s %s %s %s %s %s', r.rolname, r.rolsuper, r.rolcreaterole, "
            "r.rolcreatedb, r.rolbypassrls, (SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) "
            "FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid)) "
            "FROM pg_roles r WHERE r.rolname LIKE 'rempart%' ORDER BY 1")
        tables = self.pg_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'rempart' ORDER BY 1").split()
        counts: dict[str, int] = {}
        if tables:
            out = self.pg_sql(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM rempart.{t}" for t in tables))
            for line in out.splitlines():
                name, _, n = line.partition("|")
                counts[name] = int(n)
        return schema, counts

    def pg_checks(self, tally: "Tally", before: tuple[str, dict[str, int]], may_grow: set[str]) -> None:
        """After an attack, with serve still running and the inbox folded:
        the schema and grants are as before; only the tables in `may_grow`
        changed, and none shrank; the inbox is empty; the keeper's count
        is the table's; the intake's role cannot read (SQLSTATE 42501); the
        server logged no error."""
        schema, counts = self.pg_snapshot()
        tally.check(schema == before[0], "schema, owners, grants and roles unchanged",
                    "\n".join(sorted(set(schema.splitlines()) ^ set(before[0].splitlines())))[:1500])
        changed = {t: (before[1].get(t), n) for t, n in counts.items() if before[1].get(t) != n}
        tally.note("rows changed: " + ", ".join(f"{t} {a or 0} -> {b}" for t, (a, b) in sorted(changed.items())))
        unexpected = {t: v for t, v in changed.items() if t not in may_grow}
        tally.check(not unexpected, "no table changed but those a sign-up writes", str(unexpected))
        shrunk = {t: v for t, v in changed.items() if t not in ("inbox", "intake_rate") and (v[0] or 0) > v[1]}
        tally.check(not shrunk, "no table lost rows", str(shrunk))
        tally.check(counts.get("inbox") == 0, "the inbox is empty once folded", str(counts.get("inbox")))
        n, _ = self.count()
        tally.check(n == counts.get("supporters"), "supporters count equals the table's rows",
                    f"{n} vs {counts.get('supporters')}")
        errors = self.pg.log_errors(self.pg_log_from)
        tally.check(not errors, "PostgreSQL logged no error during the attack", "\n".join(errors[:10]))
        # The intake's own login, as the attacker who owns the intake host
        # would use it: it connects, and every read is refused.
        password = (self.dir / "rempart-pg-intake.pass").read_text().splitlines()[0]
        r = self.pg.psql(self.database, "SELECT 1", user="rempart_intake", password=password)
        tally.check(r.returncode == 0 and r.stdout.strip() == "1", "the intake's role logs in", r.stderr.strip())
        for sql in ("SELECT * FROM rempart.inbox", "SELECT count(*) FROM rempart.supporters"):
            r = self.pg.psql(self.database, sql, user="rempart_intake", password=password)
            tally.check(r.returncode != 0 and "42501" in r.stderr and "permission denied" in r.stderr,
                        f"the intake's role cannot run: {sql}", (r.stdout + r.stderr).strip()[:300])
        # The refusals above are logged by the server; the check after
        # serve's stop starts after them.
        self.pg_log_from = self.pg.log_mark()

    def secrets(self) -> list[bytes]:
        """Byte strings from the key files (and, with PostgreSQL, the
        database passwords init wrote beside them) that must never reach a
        response."""
        out: list[bytes] = []
        for p in list((self.dir / "keys").glob("*")) + list(self.dir.glob("rempart-pg-*.pass")):
            if p.is_file():
                data = p.read_bytes()
                # Any 12-byte window of a key file, as text or raw, would be a
                # leak; sample windows across the file to keep the scan cheap.
                for tok in re.findall(rb"[A-Za-z0-9+/=_-]{16,}", data):
                    out.append(tok[:16])
                for i in range(0, max(0, len(data) - 12), 8):
                    out.append(data[i:i + 12])
        return out


# ---------------------------------------------------------------------------
# The PostgreSQL cluster of the attack stages


# The tables of the PostgreSQL schema an anonymous sign-up may change: the
# inbox it enters and the fold empties, the intake's batches and rate
# buckets, what the fold writes for a new or merged supporter, and the audit
# log (with its checkpoints) that also records each `supporters show` of the
# checks. Any other table changing (accounts, sessions, tokens, honeytokens,
# the outbox, exports ...) fails payloads-pg and sqlmap-pg.
PG_SIGNUP_TABLES = {"inbox", "intake_batches", "intake_rate", "supporters", "supporter_search_tokens",
                    "supporter_tags", "consent_events", "consent_wordings", "supporter_day_counts",
                    "tag_day_counts", "audit_entries", "audit_checkpoints"}


@dataclass
class PgServer:
    """The cluster run.sh starts once (tests/support/pg_cluster.sh) for the
    stages that run on PostgreSQL, found through the environment:
    REMPART_ATTACK_PG, libpq keywords naming the server only ("host=127.0.0.1
    port=P": no user, password or database), REMPART_ATTACK_PG_PASSWORD_FILE,
    the superuser's (postgres) password, and REMPART_ATTACK_PG_LOG, the
    server's log (optional; its ERROR lines are checked when given). The
    client tools get the password in their own environment only."""

    dsn: str
    host: str
    port: str
    password_file: Path
    log: Path | None

    @classmethod
    def from_env(cls) -> "PgServer":
        dsn = os.environ.get("REMPART_ATTACK_PG", "").strip()
        pw = os.environ.get("REMPART_ATTACK_PG_PASSWORD_FILE", "")
        if not dsn or not pw:
            raise RuntimeError("--backend postgresql needs REMPART_ATTACK_PG and REMPART_ATTACK_PG_PASSWORD_FILE "
                               "(tests/attack/run.sh sets them; docs/security-testing.md)")
        kv = dict(part.partition("=")[::2] for part in dsn.split())
        if set(kv) & {"user", "password", "dbname"}:
            raise RuntimeError("REMPART_ATTACK_PG names the server only (no user, password or dbname)")
        log = os.environ.get("REMPART_ATTACK_PG_LOG")
        return cls(dsn, kv.get("host", "127.0.0.1"), kv.get("port", "5432"), Path(pw), Path(log) if log else None)

    def password(self) -> str:
        return self.password_file.read_text().splitlines()[0]

    @staticmethod
    def tool(name: str) -> str:
        bindir = Path(os.environ.get("REMPART_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
        return str(bindir / name) if (bindir / name).exists() else name

    def run(self, tool: str, args: list[str], user: str = "postgres", password: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGPASSWORD=password if password is not None else self.password(), PGCONNECT_TIMEOUT="10")
        return subprocess.run([self.tool(tool), "-h", self.host, "-p", self.port, "-U", user, "-w"] + args,
                              env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              encoding="utf-8", errors="replace")

    def createdb(self, name: str) -> None:
        r = self.run("createdb", ["-E", "UTF8", "-T", "template0", name])
        if r.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {r.stderr.strip()}")

    def psql(self, database: str, sql: str, user: str = "postgres",
             password: str | None = None) -> subprocess.CompletedProcess:
        """One statement; unaligned, tuples only; errors with their SQLSTATE."""
        return self.run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                                 "-d", database, "-c", sql], user=user, password=password)

    def log_mark(self) -> int:
        try:
            return self.log.stat().st_size if self.log else 0
        except FileNotFoundError:
            return 0

    def log_errors(self, start: int) -> list[str]:
        """ERROR, FATAL and PANIC lines the server logged since `start` (a
        statement of rempart's that failed: a syntax error would mean a
        payload reached the SQL text), each with its STATEMENT line."""
        if self.log is None:
            return []
        with open(self.log, "rb") as f:
            f.seek(start)
            lines = f.read().decode("utf-8", "replace").splitlines()
        out = []
        for i, line in enumerate(lines):
            if re.search(r"\b(ERROR|FATAL|PANIC):", line):
                out.append(line)
                if i + 1 < len(lines) and "STATEMENT:" in lines[i + 1]:
                    out.append("  " + lines[i + 1][:300])
        return out


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


# ---------------------------------------------------------------------------
# Raw HTTP over loopback


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def connect(port: int, source: str | None = None, timeout: float = 10) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_responses(sock: socket.socket, expect: int = 1, timeout: float = 10) -> tuple[list[Response], bool]:
    """Reads up to `expect` responses; also whether the peer closed."""
    sock.settimeout(timeout)
    buf = b""
    out: list[Response] = []
    closed = False
    deadline = time.monotonic() + timeout
    while len(out) < expect:
        r, used = parse_response(buf)
        if r is not None:
            out.append(r)
            buf = buf[used:]
            continue
        if time.monotonic() > deadline:
            break
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not chunk:
            closed = True
            r, used = parse_response(buf)
            if r is not None:
                out.append(r)
            break
        buf += chunk
    return out, closed


def parse_response(buf: bytes) -> tuple[Response | None, int]:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
    if not m:
        raise ValueError(f"not an HTTP response: {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    length = 0
    for k, v in headers:
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "transfer-encoding":
            raise ValueError("the server never sends chunked answers")
    start = end + 4
    if len(buf) < start + length:
        return None, 0
    body = buf[start:start + length]
    return Response(int(m.group(1)), m.group(2), headers, body, buf[:start + length]), start + length


def exchange(port: int, raw: bytes, expect: int = 1, source: str | None = None,
             timeout: float = 10) -> tuple[list[Response], bool]:
    """Sends raw bytes on a fresh connection; the answers and whether it closed."""
    s = connect(port, source, timeout)
    try:
        try:
            s.sendall(raw)
        except (ConnectionResetError, BrokenPipeError):
            pass
        return read_responses(s, expect, timeout)
    finally:
        s.close()


def request(port: int, method: str, target: str, body: bytes = b"", content_type: str | None = None,
            headers: dict | None = None, source: str | None = None, timeout: float = 10) -> Response | None:
    h = {"Host": "127.0.0.1", "Connection": "close"}
    if content_type:
        h["Content-Type"] = content_type
    if body or method in ("POST", "PUT"):
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    raw = f"{method} {target} HTTP/1.1\r\n".encode() + b"".join(
        f"{k}: {v}\r\n".encode("latin-1") for k, v in h.items()) + b"\r\n" + body
    rs, _ = exchange(port, raw, 1, source, timeout)
    return rs[0] if rs else None


# ---------------------------------------------------------------------------
# What no response may ever carry

LEAK_PATTERNS = [
    (re.compile(rb"(?i)\bselect\b.{0,80}\bfrom\b"), "SQL text"),
    (re.compile(rb"(?i)\binsert\s+into\b"), "SQL text"),
    (re.compile(rb"(?i)\b(sqlite|sqlite3|postgres|syntax error|no such (table|column))"), "database name or error"),
    (re.compile(rb"(?i)(/work/|/home/|/root/|/usr/|/tmp/|/etc/|/var/|\.cpp\b|\.hpp\b|\.toml\b|\.keyring\b)"), "file path"),
    (re.compile(rb"(?i)(boost|beast|asio|libsodium|sodium|spdlog|nlohmann|libphonenumber|icu4c|libidn|rempart/?\d)"), "library name"),
    (re.compile(rb"(?i)\b(version\s*[0-9]|v\d+\.\d+\.\d+|\d+\.\d+\.\d+)"), "version string"),
    (re.compile(rb"(?i)(stack trace|traceback|backtrace|terminate called|what\(\)|std::|exception|addresssanitizer|runtime error|segmentation)"), "stack trace or exception"),
]


def leaks(resp: Response, secrets: list[bytes] = ()) -> list[str]:
    """Reasons this response leaks something; empty when it is clean."""
    found = []
    for pat, what in LEAK_PATTERNS:
        if pat.search(resp.raw):
            found.append(what)
    for name in ("server", "x-powered-by", "via", "x-aspnet-version"):
        if resp.header(name) is not None:
            found.append(f"{name} header")
    for s in secrets:
        if s and s in resp.raw:
            found.append("key material")
            break
    return found


# ---------------------------------------------------------------------------
# The endpoints under attack, and how to fill each field with a payload

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
OSDI_PATH = "/api/v1/people/person_signup_helper"


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    content_type: str | None
    fields: list[str]  # names a payload can go into
    # build(values) -> body bytes, where values maps field -> bytes
    build: Callable[[dict], bytes]
    base: Callable[[int], dict]  # a valid submission, unique per n
    accepted: tuple[int, ...] = ()  # statuses that mean "stored"
    sqlmap_data: Callable[[], str] | None = None  # body for sqlmap (None: GET)
    stores: dict = field(default_factory=dict)  # field -> stored person key


def base_person(n: int) -> dict:
    # Numbers of the French 02 61 91 range: the corpus holds 01 99 00 ones,
    # which must not collide with these (a collision is a legitimate merge).
    return {
        "given_name": b"Atta",
        "family_name": b"Quant",
        "email": f"attack{n}@example.org".encode(),
        "phone": f"+3326191{n % 10000:04d}".encode(),
        "postal_code": b"75011",
        "locality": b"Paris",
        "country": b"FR",
        "tag": b"attack",
        "consent_email": b"on",
        "consent_sms": b"",
    }


def form_body(values: dict) -> bytes:
    from urllib.parse import quote_plus
    parts = []
    for k, v in values.items():
        if v is None:
            continue
        name = k if isinstance(k, bytes) else k.encode()
        parts.append(quote_plus(name).encode() + b"=" + quote_plus(v).encode())
    return b"&".join(parts)


def jstr(v: bytes) -> bytes:
    """A JSON string for v; invalid UTF-8 goes in raw (the parser must refuse it)."""
    try:
        return json.dumps(v.decode("utf-8")).encode()
    except UnicodeDecodeError:
        return b'"' + v.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def osdi_body(values: dict) -> bytes:
    """values: field -> bytes (a JSON string) or ("raw", bytes) for a raw JSON token."""

    def val(k):
        v = values.get(k)
        if isinstance(v, tuple):
            return v[1]
        return jstr(v) if v is not None else None

    person = []
    for k in ("given_name", "family_name", "additional_name", "honorific_prefix", "gender"):
        if values.get(k) is not None:
            person.append(b'"' + k.encode() + b'":' + val(k))
    if values.get("email") is not None:
        person.append(b'"email_addresses":[{"address":' + val("email") + b',"primary":true,"status":"subscribed"}]')
    if values.get("phone") is not None:
        person.append(b'"phone_numbers":[{"number":' + val("phone") + b',"number_type":"Mobile","sms_capable":true}]')
    addr = []
    for k in ("postal_code", "locality", "country"):
        if values.get(k) is not None:
            addr.append(b'"' + k.encode() + b'":' + val(k))
    if addr:
        person.append(b'"postal_addresses":[{' + b",".join(addr) + b"}]")
    for k, v in values.items():
        if isinstance(k, bytes):  # a payload used as a member name
            person.append(jstr(k) + b":" + (jstr(v) if not isinstance(v, tuple) else v[1]))
    parts = [b'"person":{' + b",".join(person) + b"}"]
    if values.get("tag") is not None:
        parts.append(b'"add_tags":[' + val("tag") + b"]")
    consent = []
    for k, name in (("consent_email", b"email"), ("consent_sms", b"sms")):
        v = values.get(k)
        if isinstance(v, tuple):
            consent.append(b'"' + name + b'":' + v[1])
        elif v is not None:  # a payload: a string where a boolean belongs
            consent.append(b'"' + name + b'":' + jstr(v))
    if consent:
        parts.append(b'"consent":{' + b",".join(consent) + b"}")
    return b"{" + b",".join(parts) + b"}"


def osdi_base(n: int) -> dict:
    v = base_person(n)
    v["additional_name"] = b"Mid"  # OSDI name rempart accepts and drops
    v["consent_email"] = ("raw", b"true")
    v["consent_sms"] = ("raw", b"false")
    return v


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        name="form",
        method="POST",
        path="/signup",
        content_type=FORM_TYPE,
        fields=["given_name", "family_name", "email", "phone", "postal_code", "locality", "country", "tag",
                "consent_email", "consent_sms"],
        build=form_body,
        base=base_person,
        accepted=(303,),
        sqlmap_data=lambda: form_body(base_person(0)).decode(),
    ),
    Endpoint(
        name="osdi",
        method="POST",
        path=OSDI_PATH,
        content_type=JSON_TYPE,
        fields=["given_name", "family_name", "email", "phone", "postal_code", "locality", "country", "tag",
                "additional_name", "consent_email"],
        build=osdi_body,
        base=osdi_base,
        accepted=(202,),
        sqlmap_data=lambda: osdi_body(osdi_base(0)).decode(),
    ),
    Endpoint(
        name="page",
        method="GET",
        path="/",
        content_type=None,
        fields=[],
        build=lambda v: b"",
        base=lambda n: {},
        accepted=(200,),
    ),
]


# ---------------------------------------------------------------------------
# The admin console (docs/console.md): accounts, two-step sign-in, sessions


@dataclass
class Account:
    name: str
    role: str
    password: str
    secret: str  # base32 TOTP secret from the otpauth:// URI
    recovery: list[str]
    # The server refuses a TOTP step it has already seen (sign-in and step-up
    # alike): the latest step this account may have spent, kept conservatively.
    last_step: int = -1


@dataclass
class Session:
    account: Account
    cookie: str  # "rempart_session=VALUE", ready for a Cookie header
    csrf: str  # form field `csrf` / header X-CSRF-Token
    home: str = ""  # where the sign-in sent the account (Location of the 303)
    actor: str = ""  # "account:<hex>" from /api/v1/me
    signin_step: int = -1  # the TOTP step the sign-in spent
    source: str | None = None  # the loopback address it signed in from

    @property
    def value(self) -> str:
        return self.cookie.partition("=")[2]


def totp(secret: str, at: float | None = None) -> str:
    """The TOTP code of secret at time `at` (now), computed by oathtool."""
    cmd = ["oathtool", "--totp", "-b", secret]
    if at is not None:
        cmd += ["--now", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError("oathtool failed: " + r.stderr)
    return r.stdout.strip()


TOTP_STEP = 30


def totp_step(secret: str, step: int) -> str:
    """RFC 6238 (HMAC-SHA1, 6 digits) for one 30 s step, in Python: what an
    attacker's script (and sqlmap's --eval, TOTP_EVAL) computes. The stage
    checks it against oathtool once."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    d = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = d[-1] & 15
    return "%06d" % ((struct.unpack(">I", d[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def current_step(at: float | None = None) -> int:
    return int(time.time() if at is None else at) // TOTP_STEP


def totp_eval(secret: str, variable: str = "code", placeholder: str = "CODE") -> str:
    """sqlmap --eval code that puts the code of the current step into
    `variable` when it holds `placeholder` (an injected value stays). The
    current step's code is always inside the server's +-1 window, so it is
    either accepted (once per step) or a replay (409, not counted): sqlmap's
    hundreds of requests never count toward the account's lock."""
    return ("import hmac as _h, hashlib as _hl, base64 as _b, struct as _s, time as _t; "
            f"_d = _h.new(_b.b32decode('{secret}'), _s.pack('>Q', int(_t.time()) // {TOTP_STEP}), _hl.sha1).digest(); "
            "_o = _d[-1] & 15; "
            f"{variable} = ('%06d' % ((_s.unpack('>I', _d[_o:_o + 4])[0] & 0x7fffffff) % 1000000)) "
            f"if {variable} == '{placeholder}' else {variable}")


def fresh_code(account: Account, margin: float = 5.0, earliest: bool = True, spend: bool = True) -> str:
    """A code the server accepts for `account` now: of a step later than any
    it may have spent, inside the server's +-1 step window for the next
    `margin` seconds (how long the request may take to be checked). With
    `earliest`, the step before the current one when it is still safely in
    the window, so up to three codes are usable at once; otherwise the
    current step or later. Sleeps (at most one step) when none is usable yet.
    Marks the step spent, unless `spend` is false (for a request the server
    must refuse before it reads the code: the same code then stays usable)."""
    while True:
        now = time.time()
        low = current_step(now + margin) - (1 if earliest else 0)
        high = current_step(now) + 1
        step = max(account.last_step + 1, low)
        if step <= high:
            if spend:
                account.last_step = step
            return totp_step(account.secret, step)
        time.sleep(max(0.05, (step - 1) * TOTP_STEP - now + 0.05))


def wrong_code(account: Account) -> str:
    """Six digits that are no code of `account` anywhere near now."""
    near = {totp_step(account.secret, current_step() + d) for d in range(-3, 4)}
    n = int(totp_step(account.secret, current_step()))
    while True:
        n = (n + 500009) % 1000000
        code = "%06d" % n
        if code not in near:
            return code


def console_request(port: int, method: str, target: str, body: bytes = b"", content_type: str | None = None,
                    session: Session | None = None, headers: dict | None = None, source: str | None = None,
                    timeout: float = 30) -> Response | None:
    """A request to the console, with the session cookie when given (and its
    X-CSRF-Token on API posts; forms carry `csrf` in their body)."""
    h = {}
    if session is not None:
        h["Cookie"] = session.cookie
        if method == "POST" and target.startswith("/api/"):
            h["X-CSRF-Token"] = session.csrf
    h.update(headers or {})
    return request(port, method, target, body, content_type, h, source, timeout)


PENDING_RE = re.compile(rb'name="pending" value="([^"]+)"')


def login_pending(port: int, name: str, password: str, source: str | None = None) -> str | None:
    """Step one of the sign-in: the hidden `pending` id of the code form."""
    r = request(port, "POST", "/login", form_body({"name": name.encode(), "password": password.encode()}),
                FORM_TYPE, source=source, timeout=30)
    if r is None or r.status != 200:
        return None
    m = PENDING_RE.search(r.body)
    return m.group(1).decode() if m else None


def sign_in(port: int, account: Account, source: str | None = None, earliest: bool = True) -> Session:
    """Both sign-in steps over HTTP, then GET /api/v1/me for the CSRF token.
    The code is of a step this account has not spent (fresh_code; waits when
    needed); the sign-in itself runs Argon2id under the sanitizers, hence the
    wide margin."""
    pending = login_pending(port, account.name, account.password, source)
    if pending is None:
        raise RuntimeError(f"sign-in of {account.name}: no code form")
    code = fresh_code(account, margin=15.0, earliest=earliest)
    step = account.last_step
    r = request(port, "POST", "/login/code", form_body({"pending": pending.encode(), "code": code.encode()}),
                FORM_TYPE, source=source, timeout=30)
    cookie = (r.header("set-cookie") or "").split(";")[0] if r is not None else ""
    if r is None or r.status != 303 or not cookie.startswith("rempart_session="):
        raise RuntimeError(f"sign-in of {account.name} failed: {r.status if r else 'no answer'}")
    session = Session(account, cookie, "", home=r.header("location") or "", signin_step=step, source=source)
    me = console_request(port, "GET", "/api/v1/me", session=session, source=source)
    if me is None or me.status != 200:
        raise RuntimeError(f"sign-in of {account.name}: /api/v1/me answered {me.status if me else 'nothing'}")
    j = json.loads(me.body)
    session.csrf = j["csrf_token"]
    session.actor = j.get("actor", "")
    return session


def post_form(port: int, session: Session, target: str, fields: dict | None = None, code: str | None = None,
              timeout: float = 30) -> Response | None:
    """A console form post as `session` (from its own address), with its
    `csrf` field and, when given, the step-up `code`."""
    values = {k: (v if isinstance(v, bytes) else str(v).encode()) for k, v in (fields or {}).items()}
    values["csrf"] = session.csrf.encode()
    if code is not None:
        values["code"] = code.encode()
    return console_request(port, "POST", target, form_body(values), FORM_TYPE, session=session,
                           source=session.source, timeout=timeout)


def api_call(port: int, method: str, target: str, body: dict | None = None, session: Session | None = None,
             token: str | None = None, source: str | None = None, timeout: float = 30) -> Response | None:
    """A JSON API call with a session (and its X-CSRF-Token) or a bearer token."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    src = source if source is not None else (session.source if session else None)
    return console_request(port, method, target, data, JSON_TYPE if body is not None else None, session=session,
                           headers=headers, source=src, timeout=timeout)


ENROL_LINK_RE = re.compile(rb"/enrol\?code=(rmpe_[A-Za-z0-9_-]+)")
OTPAUTH_SECRET_RE = re.compile(rb"otpauth://[^\s\"<]*?[?&](?:amp;)?secret=([A-Z2-7]+)")


def enrol(port: int, link_code: str, name: str, role: str, source: str | None = None,
          password: str | None = None) -> tuple[Account | None, list[Response]]:
    """Self-enrolment with a link, as its owner would: the password twice,
    then the first code of the new authenticator. The account (None if any
    step failed) and the answers of the three steps."""
    password = password or "Zq-" + os.urandom(9).hex() + "-owner-chosen"
    answers = []
    r = request(port, "GET", "/enrol?code=" + link_code, source=source, timeout=30)
    answers.append(r)
    if r is None or r.status != 200:
        return None, answers
    r = request(port, "POST", "/enrol", form_body({"code": link_code.encode(), "password": password.encode(),
                                                   "password2": password.encode()}),
                FORM_TYPE, source=source, timeout=60)
    answers.append(r)
    m = OTPAUTH_SECRET_RE.search(r.body) if r is not None and r.status == 200 else None
    if m is None:
        return None, answers
    acct = Account(name, role, password, m.group(1).decode(), [])
    r = request(port, "POST", "/enrol/confirm", form_body({"code": link_code.encode(),
                                                           "totp": fresh_code(acct).encode()}),
                FORM_TYPE, source=source, timeout=30)
    answers.append(r)
    if r is None or r.status != 303:
        return None, answers
    return acct, answers


def die_unless_binary() -> None:
    if not binary().exists():
        print(f"missing {binary()}: build it first (scripts/test does)", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
