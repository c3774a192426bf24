#!/usr/bin/env python3
"""rempart's benchmarks on the PostgreSQL backend (docs/benchmarks.md,
"PostgreSQL"). Called by `scripts/bench --postgres` (after bench/run.py),
`scripts/bench --postgres-only` and `scripts/bench --smoke`, which install
the dependencies and build Release first.

A throwaway PostgreSQL 15 cluster (tests/support/pg_cluster.sh) made durable
for the run (fsync and full_page_writes back on, synchronous_commit on), one
fresh database and `rempart init --backend postgresql` instance per step, on
loopback; every figure beside a baseline measured on the same server in the
same run: bare pipelined INSERTs (pgbench), a bare COPY, bare indexed
lookups. It also measures the CPU of rempart and of every PostgreSQL server
process per sign-up and per folded item, from which it predicts the rate of
N intake nodes on machines of their own, and the inbox's dead tuples under a
steady load. All data is synthetic (documentation domains, fiction phones).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from loadstats import trend
from run import (CSV_SEED, IMPORT_MAP, OSDI_PATH, SEARCH_PATH, cpu_model, cpu_seconds, free_port, vm_hwm_mib,
                 wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PG_BIN = os.environ.get("REMPART_PG_BINDIR", "/usr/lib/postgresql/15/bin")
PG_CLUSTER = os.path.join(ROOT, "tests", "support", "pg_cluster.sh")
# The database roles rempart logs in as ([storage] intake_user, keeper_user
# as `rempart init` writes them).
INTAKE_USER = "rempart_intake"
KEEPER_USER = "rempart_keeper"
# What the schema makes autovacuum wait for on the inbox (0001_schema.sql).
INBOX_VACUUM_THRESHOLD = 5000
# Server settings of the run, beside the test cluster's own (pg_cluster.sh):
# durable as SQLite's synchronous=FULL is, and sized for a million records.
SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "on",
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "track_functions": "pl",
}
# The environment variables libpq reads: none of the caller's may reach a
# client of the run's cluster, nor rempart.
PG_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGDATABASE", "PGSERVICE",
          "PGSERVICEFILE", "PGOPTIONS", "PGSSLMODE", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"bench pg: {msg}", file=sys.stderr, flush=True)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in PG_ENV}
    env.update(extra)
    return env


def per_us(seconds, count):
    """CPU seconds per unit, in µs; None without units."""
    return 1e6 * seconds / count if count else None


def run_timed(cmd, env=None):
    """Runs cmd; returns (wall s, CPU s of the child, peak RSS MiB, stdout)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env or clean_env())
        _, status, ru = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({code}): {e.strip()[-400:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, o


class Session:
    """One psql process kept open: a query in, its rows out (unaligned,
    tuples only), so that sampling costs no process start."""

    def __init__(self, cluster, db):
        self.err = tempfile.TemporaryFile("w+")
        self.p = subprocess.Popen([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p",
                                   str(cluster.port), "-U", "postgres", "-d", db],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                  env=cluster.env())
        self.queries = 0

    def rows(self, sql):
        self.p.stdin.write(sql.strip().rstrip(";") + ";\n\\echo @@end\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line == "@@end":
                break
            if line:
                out.append(line.split("|"))
        else:
            raise RuntimeError(f"psql ended: {self.error()}")
        self.queries += 1
        return out

    def error(self):
        self.err.seek(0)
        return self.err.read().strip()[-400:]

    def one(self, sql):
        r = self.rows(sql)
        if not r:
            raise RuntimeError(f"no answer to {sql[:80]!r}: {self.error()}")
        v = r[0][0]
        if v == "":
            return None
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v

    def close(self):
        if self.err.closed:
            return
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()
        self.err.close()


class Cluster:
    """A throwaway cluster made by tests/support/pg_cluster.sh, then made
    durable (SETTINGS) and restarted with its own options."""

    def __init__(self, naptime=None):
        self.naptime = naptime
        # The server's user must reach the directory: one of its own under
        # /tmp (pg_cluster.sh opens it to others for traversal only).
        self.dir = tempfile.mkdtemp(prefix="rempart-bpg-", dir="/tmp")
        self.port = None
        self.password = None
        self.statements = False
        self.started = False

    def as_server(self, cmd):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + cmd
        return cmd

    def env(self):
        return clean_env(PGPASSWORD=self.password)

    @property
    def password_file(self):
        return os.path.join(self.dir, "password")

    def start(self):
        r = subprocess.run([PG_CLUSTER, "start", self.dir], capture_output=True, text=True, env=clean_env())
        if r.returncode != 0:
            raise RuntimeError(f"pg_cluster.sh start failed: {r.stderr.strip()[-600:]}")
        self.started = True
        env = dict(line.split("=", 1) for line in r.stdout.split())
        self.port = int(env["PGPORT"])
        self.password = env["PGPASSWORD"]
        settings = dict(SETTINGS)
        if self.naptime:
            settings["autovacuum_naptime"] = self.naptime
        lib = subprocess.run([os.path.join(PG_BIN, "pg_config"), "--pkglibdir"], capture_output=True, text=True)
        if lib.returncode == 0 and os.path.exists(os.path.join(lib.stdout.strip(), "pg_stat_statements.so")):
            settings["shared_preload_libraries"] = "pg_stat_statements"
            self.statements = True
        self.psql("postgres", *(f"ALTER SYSTEM SET {k} = '{v}'" for k, v in settings.items()))
        # Restarted as pg_cluster.sh started it: postmaster.opts keeps its
        # command line, rempart_test.conf its port and socket; ALTER SYSTEM's
        # postgresql.auto.conf is read after them.
        data = os.path.join(self.dir, "data")
        r = subprocess.run(self.as_server([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l",
                                           os.path.join(self.dir, "server.log"), "-w", "-t", "60", "-s",
                                           "restart"]), capture_output=True, text=True, cwd="/", env=clean_env())
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {r.stderr.strip()[-400:]}")
        with open(os.path.join(data, "postmaster.pid"), encoding="utf-8") as f:
            self.postmaster = int(f.readline())
        self.settings = {}
        for k in list(SETTINGS) + ["autovacuum_naptime", "wal_level", "max_connections"]:
            self.settings[k] = self.psql("postgres", f"SHOW {k}").strip()
        for k, v in SETTINGS.items():
            if self.settings[k].lower() != v.lower():
                raise RuntimeError(f"the server did not take {k} = {v} (it has {self.settings[k]})")
        if self.statements:
            self.psql("postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def stop(self):
        if os.path.isdir(self.dir):
            # Thrown away: no shutdown checkpoint (seconds of writes with
            # fsync on); then pg_cluster.sh removes the directory.
            subprocess.run(self.as_server([os.path.join(PG_BIN, "pg_ctl"), "-D", os.path.join(self.dir, "data"),
                                           "-m", "immediate", "-w", "-t", "60", "-s", "stop"]),
                           capture_output=True, text=True, cwd="/", env=clean_env())
            subprocess.run([PG_CLUSTER, "stop", self.dir], capture_output=True, text=True, env=clean_env())
            if os.path.isdir(self.dir) and not os.listdir(self.dir):
                os.rmdir(self.dir)

    def psql(self, db, *sql):
        cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
               "-p", str(self.port), "-U", "postgres", "-d", db]
        for s in sql:
            cmd += ["-c", s]
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env())
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()[-400:]}")
        return r.stdout

    def createdb(self, name):
        subprocess.run([os.path.join(PG_BIN, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", name], check=True, env=self.env())

    def cpu(self):
        """CPU seconds of the whole server so far: the postmaster, its live
        children (backends, walwriter, checkpointer, autovacuum...) and the
        children it has reaped (a backend that exited)."""
        total = 0
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat", encoding="utf-8") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(d) == self.postmaster:
                total += sum(int(x) for x in fields[11:15])
            elif int(fields[1]) == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / CLK_TCK

    def pgbench(self, db, script, clients, seconds, defines=()):
        cmd = [os.path.join(PG_BIN, "pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-n",
               "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), "-f", script]
        for d in defines:
            cmd += ["-D", d]
        cpu0 = self.cpu()
        r = subprocess.run(cmd + [db], capture_output=True, text=True, env=self.env())
        cpu = self.cpu() - cpu0
        if r.returncode != 0:
            raise RuntimeError(f"pgbench failed ({r.returncode}): {(r.stderr + r.stdout).strip()[-400:]}")
        tps = float(re.search(r"tps = ([0-9.]+)", r.stdout).group(1))
        lat = re.search(r"latency average = ([0-9.]+) ms", r.stdout)
        done = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
        return {"tps": tps, "latency_ms": float(lat.group(1)) if lat else None, "transactions": done,
                "clients": clients, "seconds": seconds, "pg_cpu_s": cpu}


class Instance:
    """A fresh `rempart init --backend postgresql` instance in a database of
    its own, with the per-address sign-up limit and the guard's masked-row
    and search-miss budgets lifted (one client address, one API token), as
    bench/run.py's Instance does."""

    def __init__(self, bench, name):
        self.b = bench
        self.name = name
        self.dir = os.path.join(bench.root, name)
        self.config = os.path.join(self.dir, "rempart.toml")
        self.port = free_port()
        self.console_port = free_port()
        os.makedirs(self.dir)
        bench.cluster.createdb(name)
        subprocess.run([bench.rempart, "init", "--data", os.path.join(self.dir, "data"), "--keys",
                        os.path.join(self.dir, "keys"), "--config", self.config, "--region", "FR", "--listen",
                        f"127.0.0.1:{self.port}", "--console-listen", f"127.0.0.1:{self.console_port}",
                        "--backend", "postgresql", "--dsn", f"host=127.0.0.1 port={bench.cluster.port} dbname={name}",
                        "--admin-user", "postgres", "--admin-password-file", bench.cluster.password_file],
                       check=True, stdout=subprocess.DEVNULL, env=clean_env())
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"(?m)^rate_per_minute = .*$", "rate_per_minute = 1000000000", text)
        text = re.sub(r"(?m)^burst = .*$", "burst = 1000000000", text)
        for key in ("masked_rows_per_minute", "masked_rows_per_hour", "masked_rows_per_day",
                    "search_misses_per_minute", "search_misses_per_hour", "search_misses_per_day"):
            text, n = re.subn(rf"(?m)^{key} = \d+", f"{key} = 0", text)
            if n < 1:
                raise RuntimeError(f"rempart init wrote no [guard] {key} to lift")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)
        self.s = Session(bench.cluster, name)
        bench.sessions.append(self.s)

    def q(self, sql):
        return self.s.one(sql)

    def inbox(self):
        return self.q("SELECT count(*) FROM rempart.inbox")

    def appended(self):
        # Every insert into the inbox takes an id of its identity sequence.
        return self.q("SELECT coalesce(last_value, 0) FROM pg_sequences "
                      "WHERE schemaname = 'rempart' AND sequencename = 'inbox_id_seq'")

    def supporters(self):
        return self.q("SELECT count(*) FROM rempart.supporters")

    def close(self):
        self.s.close()


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.build = opts.build
        self.rempart = os.path.join(self.build, "src", "cli", "rempart")
        self.tool = os.path.join(self.build, "bench", "rempart_bench")
        self.root = tempfile.mkdtemp(prefix="rempart-bench-pg-")
        self.cluster = Cluster(opts.autovacuum_naptime)
        self.rows = []
        self.raw = {}
        self.notes = []
        self.procs = []
        self.sessions = []
        self.mon = None

    # -- helpers ---------------------------------------------------------------
    def row(self, figure, value, unit, baseline_name=None, baseline=None, ratio=None, auto=True):
        """A table row; the ratio is value / baseline unless `auto` is off
        (a baseline column holding another quantity of the same thing)."""
        if auto and ratio is None and baseline not in (None, 0) and value is not None:
            ratio = value / baseline
        self.rows.append(dict(figure=figure, value=value, unit=unit, baseline_name=baseline_name,
                              baseline=baseline, ratio=ratio))

    def start(self, cmd, tag):
        log_path = os.path.join(self.root, f"{tag}-{time.monotonic_ns()}.log")
        log_file = open(log_path, "w")
        p = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True, env=clean_env())
        p.log_file, p.log_path = log_file, log_path
        self.procs.append(p)
        return p

    def stop(self, p, kill=False):
        """Stops a rempart process and returns the CPU seconds it used in its
        whole life. SIGTERM lets it finish what is in flight, and a keeper
        then folds the whole inbox first (services::FoldLoop::stop): with a
        backlog left, `kill` sends SIGKILL instead. On PostgreSQL a keeper
        that dies leaves the items it had claimed in the inbox, unfolded;
        the count after the kill is what was committed."""
        cpu = None
        if p.returncode is None:
            p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            end = time.monotonic() + 60
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    cpu = ru.ru_utime + ru.ru_stime
                    break
                if time.monotonic() > end:
                    p.kill()
                    _, status, ru = os.wait4(p.pid, 0)
                    p.returncode = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.01)
        p.log_file.close()
        if p in self.procs:
            self.procs.remove(p)
        if p.returncode not in (0, -signal.SIGTERM) and not (kill and p.returncode == -signal.SIGKILL):
            with open(p.log_path, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-600:]
            raise RuntimeError(f"rempart exited with {p.returncode}: {tail}")
        return cpu

    def serve(self, inst, role, extra=()):
        return self.start([self.rempart, "serve", "--config", inst.config, "--role", role, *extra], f"serve-{role}")

    def wrk_start(self, port, seconds, prefix, script="signup.lua", path=OSDI_PATH, connections=None, threads=None,
                  env=None):
        env = clean_env(BENCH_PREFIX=prefix, **(env or {}))
        cmd = ["wrk", f"-t{threads or self.o.wrk_threads}", f"-c{connections or self.o.connections}",
               f"-d{seconds}s", "--timeout", "10s", "-s", os.path.join(HERE, script),
               f"http://127.0.0.1:{port}{path}"]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def wrk_result(self, p):
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"wrk failed ({p.returncode}): {err.strip()[-300:]}")
        for line in out.splitlines():
            if line.startswith('{"wrk"'):
                j = json.loads(line)
                j["rps"] = j["requests"] / (j["duration_us"] / 1e6)
                j["ok"] = j["requests"] - j["status_errors"]
                j["bad"] = j["status_errors"] + j["timeouts"] + j["read_errors"] + j["connect_errors"]
                return j
        raise RuntimeError("wrk printed no summary: " + err[-300:])

    def wait_backends_gone(self, db, timeout=15):
        """After rempart stopped: its server backends have exited, so their
        statistics are flushed (an idle backend may hold them ~10 s)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            n = self.mon.one(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' "
                             f"AND usename IN ('{INTAKE_USER}', '{KEEPER_USER}')")
            if n == 0:
                return
            time.sleep(0.05)
        self.notes.append(f"rempart's connections to {db} were still open {timeout} s after it stopped")

    def snapshot(self, db, inst=None):
        """Server counters for database db: commits, WAL, and (with
        pg_stat_statements) statements per rempart role. Taken before a
        step and after rempart stopped (see wait_backends_gone)."""
        s = {"pg_cpu": self.cluster.cpu(), "t": time.monotonic()}
        r = self.mon.rows(f"SELECT xact_commit, xact_rollback, tup_inserted, tup_deleted FROM pg_stat_database "
                          f"WHERE datname = '{db}'")[0]
        s.update(xact_commit=int(r[0]), xact_rollback=int(r[1]), tup_inserted=int(r[2]), tup_deleted=int(r[3]))
        r = self.mon.rows("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal")[0]
        s.update(wal_records=int(r[0]), wal_bytes=int(r[1]), wal_write=int(r[2]), wal_sync=int(r[3]))
        if self.cluster.statements:
            for role, calls, ms in self.mon.rows(
                    "SELECT r.rolname, sum(s.calls), sum(s.total_exec_time) FROM pg_stat_statements s "
                    "JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid "
                    f"WHERE d.datname = '{db}' GROUP BY 1"):
                s[f"calls:{role}"] = int(calls)
                s[f"exec_ms:{role}"] = float(ms)
            r = self.mon.rows("SELECT coalesce(sum(s.calls), 0), coalesce(sum(s.total_exec_time), 0) "
                              "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                              f"WHERE d.datname = '{db}' AND s.query LIKE '%rempart_take_token%'")[0]
            s["token_calls"], s["token_ms"] = int(r[0]), float(r[1])
        elif inst is not None:
            # The same calls, from the function statistics (track_functions).
            r = inst.s.rows("SELECT coalesce(sum(calls), 0), coalesce(sum(self_time), 0) FROM pg_stat_user_functions "
                            "WHERE funcname = 'rempart_take_token'")[0]
            s["token_calls"], s["token_ms"] = int(r[0]), float(r[1])
        return s

    def statements(self, db, role):
        """{queryid: (calls, exec ms, text)} of one role in db, if
        pg_stat_statements is there."""
        if not self.cluster.statements:
            return {}
        return {r[0]: (int(r[1]), float(r[2]), "|".join(r[3:])) for r in self.mon.rows(
            "SELECT s.queryid, s.calls, s.total_exec_time, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90) "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
            f"WHERE d.datname = '{db}' AND r.rolname = '{role}'")}

    @staticmethod
    def top_statements(before, after, n=8):
        """The statements that took the most server time between two
        `statements` readings."""
        d = []
        for qid, (calls, ms, q) in after.items():
            c0, m0, _ = before.get(qid, (0, 0.0, q))
            if calls > c0:
                d.append({"calls": calls - c0, "exec_ms": round(ms - m0, 1), "query": q})
        return sorted(d, key=lambda x: -x["exec_ms"])[:n]

    @staticmethod
    def delta(a, b):
        return {k: b[k] - a.get(k, 0) for k in b if isinstance(b[k], (int, float))}

    # -- sign-ups --------------------------------------------------------------
    def warm_up(self, inst, role):
        """A short load on a serve of its own before the measured one, so
        that the server's caches are warm and none of its statistics are
        still pending when the measured run's counters are read."""
        if self.o.smoke:
            return
        p = self.serve(inst, role)
        try:
            wait_port(inst.port)
            self.wrk_result(self.wrk_start(inst.port, 1, inst.name + "w"))
        finally:
            self.stop(p)
        self.wait_backends_gone(inst.name)

    def signups(self, inst, role, seconds, prefix):
        """Durable sign-ups over HTTP against `serve --role role`: rate,
        latency, rempart's and the server's CPU, commits and WAL."""
        self.warm_up(inst, role)
        before_inbox, before_sup, before_seq = inst.inbox(), inst.supporters(), inst.appended()
        snap0 = self.snapshot(inst.name, inst)
        p = self.serve(inst, role)
        samples = []
        try:
            wait_port(inst.port)
            cpu0, pg0 = cpu_seconds(p.pid), self.cluster.cpu()
            load = self.wrk_start(inst.port, seconds, prefix)
            if role == "all":
                t0 = time.monotonic()
                while load.poll() is None:
                    samples.append((time.monotonic() - t0, inst.inbox()))
                    time.sleep(0.25)
            w = self.wrk_result(load)
            secs = w["duration_us"] / 1e6
            w["cpu_cores"] = (cpu_seconds(p.pid) - cpu0) / secs
            w["pg_cpu_cores"] = (self.cluster.cpu() - pg0) / secs
            w["backlog_end"] = inst.inbox()
            if role == "all":
                # How fast the keeper takes the backlog down once the load
                # stops (bounded: on PostgreSQL it may trail the intake).
                t0 = time.monotonic()
                cap = self.o.drain_cap
                while inst.inbox() > 0 and time.monotonic() - t0 < cap:
                    time.sleep(0.25)
                w["drain_s"] = time.monotonic() - t0
                w["backlog_after_drain"] = inst.inbox()
            w["rss_mib"] = vm_hwm_mib(p.pid)
        finally:
            self.stop(p, kill=role == "all" and inst.inbox() > 0)
        self.wait_backends_gone(inst.name)
        d = self.delta(snap0, self.snapshot(inst.name, inst))
        w["db"] = d
        # Every insert into the inbox took an id of its identity sequence,
        # folded or not, as the AUTOINCREMENT sequence counts them on SQLite
        # (an id is also spent by an insert that failed: then the client
        # got no 2xx). Intake alone, the inbox's growth counts them too.
        w["stored"] = inst.appended() - before_seq
        w["inbox_growth"] = inst.inbox() - before_inbox
        w["supporters_growth"] = inst.supporters() - before_sup
        if samples:
            w["backlog_max"] = max(n for _, n in samples)
            w["backlog_trend"] = trend(samples[len(samples) // 2:])
        log(f"serve --role {role}: {w['rps']:.0f}/s, p99 {w['p99_us'] / 1000:.1f} ms, "
            f"rempart {w['cpu_cores']:.2f} cores, PostgreSQL {w['pg_cpu_cores']:.2f} cores, "
            f"inbox at the end {w['backlog_end']}")
        return w

    def intake_model(self, w):
        """Per sign-up: commits, group size, statements, WAL (intake alone:
        its only transactions are its group commits and the shared limit's
        calls, which write an UNLOGGED table and so wait for no fsync)."""
        d = w["db"]
        stored = w["stored"]
        commits = d["xact_commit"] - d.get("token_calls", 0)
        m = {"commits": commits, "group": stored / commits if commits > 0 else None,
             "wal_bytes_per_signup": d["wal_bytes"] / stored if stored else None,
             "wal_syncs": d["wal_sync"], "token_calls": d.get("token_calls")}
        if "calls:" + INTAKE_USER in d:
            m["statements_per_signup"] = d["calls:" + INTAKE_USER] / stored if stored else None
            m["exec_us_per_signup"] = 1000 * d["exec_ms:" + INTAKE_USER] / stored if stored else None
        if d.get("token_calls"):
            m["token_exec_us"] = 1000 * d["token_ms"] / d["token_calls"]
        return m

    def sizes(self, inst):
        """Mean sizes of the sealed inbox items the load stored."""
        r = inst.s.rows("SELECT round(avg(length(wrapped_key))), round(avg(length(fields))), count(*) "
                        "FROM rempart.inbox")[0]
        if int(r[2]) == 0:
            return 73, 259
        return int(r[0]), int(r[1])

    # -- folds -----------------------------------------------------------------
    def fill(self, inst, items, prefix):
        """Adds about `items` sign-ups to the inbox with the intake alone."""
        rate = max(self.raw.get("intake_alone", {}).get("rps", 2000), 500)
        secs = max(1, int(items / rate + 0.999))
        p = self.serve(inst, "intake")
        try:
            wait_port(inst.port)
            self.wrk_result(self.wrk_start(inst.port, secs, prefix))
        finally:
            self.stop(p)
        self.wait_backends_gone(inst.name)

    def fold(self, inst, keepers, cap):
        """`keepers` serve --role keeper processes at once on the backlog:
        items folded per second until it is empty or `cap` seconds pass."""
        backlog = inst.inbox()
        snap0 = self.snapshot(inst.name)
        st0 = self.statements(inst.name, KEEPER_USER)
        pg0 = self.cluster.cpu()
        wall0 = time.time()  # the keepers' logs carry local wall-clock times
        procs = [self.serve(inst, "keeper", ["--console-listen", "127.0.0.1:0"]) for _ in range(keepers)]
        t0 = time.monotonic()
        cpu = 0.0
        samples = []  # (s, keepers' CPU s, server CPU s, items left)
        try:
            left = backlog
            while left > 0 and time.monotonic() - t0 < cap:
                time.sleep(0.25)
                left = inst.inbox()
                samples.append((time.monotonic() - t0, sum(cpu_seconds(p.pid) for p in procs),
                                self.cluster.cpu() - pg0, left))
        finally:
            # Killed at the cap (a keeper stopped would go on folding its
            # backlog for up to FoldLoop::kStopBudget): what counts is what
            # they committed by then.
            kill = inst.inbox() > 0
            for p in procs:
                cpu += self.stop(p, kill=kill) or 0.0
        elapsed = time.monotonic() - t0
        pg_cpu = self.cluster.cpu() - pg0
        self.wait_backends_gone(inst.name)
        d = self.delta(snap0, self.snapshot(inst.name))
        top = self.top_statements(st0, self.statements(inst.name, KEEPER_USER))
        left = inst.inbox()  # what was folded until the keepers stopped
        folded = backlog - left
        passes = []
        for p in procs:
            with open(p.log_path, encoding="utf-8", errors="replace") as f:
                passes += [(m.group(1), int(m.group(2)), float(m.group(3))) for m in re.finditer(
                    r"(?m)^(\S+) info keeper: folded (\d+) submissions.*?write lock held ([0-9.]+) ms", f.read())]
        f = {"keepers": keepers, "backlog": backlog, "folded": folded, "seconds": elapsed,
             "rate_count": folded / elapsed if elapsed else None, "keeper_cpu_s": cpu, "pg_cpu_s": pg_cpu,
             "keeper_cpu_life_s": cpu, "pg_cpu_life_s": pg_cpu, "passes": len(passes), "db": d,
             "top_statements": top}
        # The CPU up to the first sample after the last commit: a pass cut
        # off by the kill at the cap did work for nothing, not for the items
        # counted (without samples: the processes' whole lives).
        after_last = [x for x in samples if x[3] == left]
        if after_last and folded:
            f["keeper_cpu_s"], f["pg_cpu_s"] = after_last[0][1], after_last[0][2]
        # The rate: items committed per second from the keepers' start to
        # their last commit, by their logs (each pass commits up to
        # fold_batch items at once, so a count at the cap would be off by up
        # to a pass); the count at the stop, if no pass was logged.
        f["rate"] = f["rate_count"]
        if passes:
            last = max(datetime.datetime.fromisoformat(t).timestamp() for t, _, _ in passes)
            if last > wall0:
                f["rate"] = sum(n for _, n, _ in passes) / (last - wall0)
        items_logged = sum(n for _, n, _ in passes)
        if items_logged:
            # From the moment the claimed items are opened to the commit:
            # the writes, under the writers' lock once the first audit entry
            # takes it (with two keepers, also the wait for the other's).
            f["write_us_per_item"] = 1000 * sum(ms for _, _, ms in passes) / items_logged
        if "calls:" + KEEPER_USER in d and folded:
            f["statements_per_item"] = d["calls:" + KEEPER_USER] / folded
            f["exec_us_per_item"] = 1000 * d["exec_ms:" + KEEPER_USER] / folded
        log(f"{keepers} keeper(s): folded {folded} of {backlog} in {elapsed:.1f} s "
            f"({f['rate'] or 0:.0f}/s), keepers {cpu:.1f} CPU s, PostgreSQL {pg_cpu:.1f} CPU s")
        return f

    def intake_and_folds(self):
        inst = Instance(self, "rb_all")
        full = self.signups(inst, "all", self.o.duration, "a")
        self.raw["signups_all"] = full
        inst.close()
        inst = Instance(self, "rb_intake")
        only = self.signups(inst, "intake", self.o.duration, "i")
        self.raw["intake_alone"] = only
        only["model"] = self.intake_model(only)
        wk, fd = self.sizes(inst)
        self.raw["inbox_item_bytes"] = {"wrapped_key": wk, "fields": fd}

        one = self.fold(inst, 1, self.o.fold_seconds)
        self.raw["fold_one"] = one
        # Two keepers get a backlog at least as large as the one keeper had
        # left to it, so neither runs dry before the cap.
        want = max(one["folded"] * 2.5, 1000)
        if inst.inbox() < want:
            self.fill(inst, want - inst.inbox(), "r")
        two = self.fold(inst, 2, self.o.fold_seconds)
        self.raw["fold_two"] = two
        inst.close()
        return full, only, one, two, (wk, fd)

    # -- bare ceilings ---------------------------------------------------------
    def insert_ceiling(self, group, sizes):
        """Bare pipelined group commits of inbox-size rows (pgbench): G
        inserts and a COMMIT in one round trip, as the intake writer sends
        its groups, with 1, 2 and 8 clients (one client per intake node)."""
        self.cluster.createdb("bare")
        self.cluster.psql("bare", "CREATE TABLE bare_inbox (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                          "batch_uid BYTEA NOT NULL, item_uid BYTEA NOT NULL UNIQUE, wrapped_key BYTEA NOT NULL, "
                          "fields BYTEA NOT NULL, received_at BIGINT NOT NULL)",
                          "CREATE INDEX bare_inbox_batch ON bare_inbox(batch_uid)")
        script = os.path.join(self.root, "insert.sql")
        ins = ("INSERT INTO bare_inbox (batch_uid, item_uid, wrapped_key, fields, received_at) VALUES "
               "(sha256(int8send(:b)), uuid_send(gen_random_uuid()), decode(:wk, 'hex'), decode(:fd, 'hex'), "
               "1767225600);\n")
        with open(script, "w", encoding="utf-8") as f:
            f.write("\\set b random(1, 9223372036854775806)\n\\startpipeline\nBEGIN;\n" + ins * group +
                    "COMMIT;\n\\endpipeline\n")
        wk, fd = sizes
        defines = [f"wk={os.urandom(wk).hex()}", f"fd={os.urandom(fd).hex()}"]
        out = {}
        for clients in self.o.ceiling_clients:
            r = self.cluster.pgbench("bare", script, clients, self.o.ceiling_seconds, defines)
            r["rows_per_s"] = r["tps"] * group
            r["pg_cpu_us_per_row"] = per_us(r["pg_cpu_s"], r["transactions"] * group)
            out[clients] = r
            log(f"bare INSERT ceiling, {clients} client(s), group {group}: {r['rows_per_s']:.0f} rows/s, "
                f"commit {r['latency_ms']} ms")
            self.cluster.psql("bare", "TRUNCATE bare_inbox")
        self.raw["insert_ceiling"] = {"group": group, "row_bytes": 32 + 16 + wk + fd + 8,
                                      "by_clients": {str(k): v for k, v in out.items()}}
        return out

    # -- the inbox under a steady load ----------------------------------------
    def steady(self, fold_rate):
        """A steady, paced role-all load: the inbox's dead tuples, size and
        autovacuum runs, sampled every second."""
        inst = Instance(self, "rb_steady")
        target = max(50, min(500, 0.5 * (fold_rate or 400)))
        conns = 4
        delay = max(2, int(conns * 1000 / target))
        rel = "'rempart.inbox'::regclass"
        stat = (f"SELECT n_dead_tup, n_live_tup, autovacuum_count, vacuum_count, pg_total_relation_size({rel}), "
                f"(SELECT count(*) FROM rempart.inbox) FROM pg_stat_user_tables WHERE relid = {rel}")
        p = self.serve(inst, "all")
        samples = []
        try:
            wait_port(inst.port)
            load = self.wrk_start(inst.port, self.o.steady_seconds, "d", connections=conns, threads=1,
                                  env={"BENCH_DELAY_MS": str(delay)})
            t0 = time.monotonic()
            while load.poll() is None:
                r = inst.s.rows(stat)[0]
                samples.append((time.monotonic() - t0, *(int(x) for x in r)))
                time.sleep(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))
            w = self.wrk_result(load)
            r = inst.s.rows(stat)[0]
            samples.append((time.monotonic() - t0, *(int(x) for x in r)))
        finally:
            self.stop(p, kill=inst.inbox() > 0)
        inst.close()
        dead = [s[1] for s in samples]
        size = [s[5] for s in samples]
        st = {"rate": w["rps"], "seconds": w["duration_us"] / 1e6, "target": target, "connections": conns,
              "delay_ms": delay, "bad": w["bad"], "dead_max": max(dead), "dead_end": dead[-1],
              "size_start": size[0], "size_end": size[-1], "size_max": max(size),
              "autovacuums": samples[-1][3] - samples[0][3], "backlog_max": max(s[6] for s in samples),
              "naptime": self.cluster.settings.get("autovacuum_naptime"),
              "samples": [list(s) for s in samples]}
        self.raw["steady"] = st
        log(f"steady load {st['rate']:.0f}/s for {st['seconds']:.0f} s: dead tuples max {st['dead_max']}, "
            f"inbox {st['size_start'] / 2**20:.2f} -> {st['size_end'] / 2**20:.2f} MiB, "
            f"{st['autovacuums']} autovacuum(s)")
        return st

    # -- import, bare COPY and inserts -----------------------------------------
    def bare_files(self, n, wk, fd, phones):
        """The same number of rows as the import, of its records' mean sizes,
        as a COPY file and as a file of row INSERTs in 10,000-row
        transactions; e-mail index i is sha256 of i (int8send), as the
        lookup baseline draws them."""
        pool = os.urandom(1 << 20).hex()
        span = len(pool) // 2 - 64
        pos = [0]

        def rnd(nbytes):
            pos[0] = (pos[0] * 1103515245 + 12345) % span
            return pool[2 * pos[0]:2 * (pos[0] + nbytes)]

        copy_path = os.path.join(self.root, "bare.copy")
        ins_path = os.path.join(self.root, "bare-inserts.sql")
        every = max(1, n // phones) if phones else 0
        bs = "\\\\x"
        with open(copy_path, "w", encoding="ascii") as c, open(ins_path, "w", encoding="ascii") as s:
            for i in range(n):
                if i % 10000 == 0:
                    if i:
                        s.write("COMMIT;\n")
                    s.write("BEGIN;\n")
                rid = hashlib.blake2b(i.to_bytes(8, "big"), digest_size=16).hexdigest()
                em = hashlib.sha256(i.to_bytes(8, "big", signed=True)).hexdigest()
                ph = hashlib.sha256(b"p" + i.to_bytes(8, "big")).hexdigest() if every and i % every == 0 else None
                k, fl = rnd(wk), rnd(fd)
                at = 1767225600 + i
                # COPY's text format doubles a backslash; \\N is its NULL.
                ph_copy = f"{bs}{ph}" if ph else "\\N"
                c.write(f"{bs}{rid}\t1\t{bs}{k}\t{bs}{fl}\t{bs}{em}\t{ph_copy}\t{at}\n")
                ph_sql = f"'\\x{ph}'" if ph else "NULL"
                s.write(f"INSERT INTO bare_ins VALUES ('\\x{rid}', 1, '\\x{k}', '\\x{fl}', '\\x{em}', {ph_sql}, {at});\n")
            s.write("COMMIT;\n")
        return copy_path, ins_path

    def import_and_bare(self):
        n = self.o.import_rows
        phones = min(50000, n // 6)
        csv_path = os.path.join(self.root, "export.csv")
        subprocess.run([self.tool, "gen-csv", "--out", csv_path, "--rows", str(n), "--phones", str(phones),
                        "--seed", str(CSV_SEED)], check=True, stdout=subprocess.DEVNULL)
        inst = Instance(self, "rb_import")
        snap0 = self.snapshot(inst.name)
        st0 = self.statements(inst.name, KEEPER_USER)
        os.sync()  # each timed write starts with the disk quiet (bench/run.py)
        log(f"import {n:,} rows ...")
        wall, cpu, rss, _ = run_timed([self.rempart, "supporters", "import", csv_path, "--map", IMPORT_MAP,
                                       "--no-progress", "--config", inst.config])
        self.wait_backends_gone(inst.name)
        d = self.delta(snap0, self.snapshot(inst.name))
        os.remove(csv_path)
        stored = inst.supporters()
        if stored != n:
            self.notes.append(f"import stored {stored} supporters out of {n} rows")
        r = inst.s.rows("SELECT round(avg(length(wrapped_key))), round(avg(length(fields))), "
                        "count(phone_index), pg_total_relation_size('rempart.supporters') FROM rempart.supporters")[0]
        wk, fd, with_phone = int(r[0]), int(r[1]), int(r[2])
        imp = {"rows": n, "stored": stored, "seconds": wall, "rate": n / wall, "cpu_s": cpu, "rss_mib": rss,
               "pg_cpu_s": d["pg_cpu"], "record_bytes": {"wrapped_key": wk, "fields": fd},
               "supporters_bytes": int(r[3]), "db_bytes": int(inst.q(f"SELECT pg_database_size('{inst.name}')"))}
        if "calls:" + KEEPER_USER in d:
            imp["statements_per_row"] = d["calls:" + KEEPER_USER] / n
            imp["exec_us_per_row"] = 1000 * d["exec_ms:" + KEEPER_USER] / n
            imp["top_statements"] = self.top_statements(st0, self.statements(inst.name, KEEPER_USER))
        self.raw["import"] = imp
        log(f"import: {n / wall:.0f} rows/s ({wall:.1f} s)")

        log("bare COPY and row INSERTs of as many rows ...")
        copy_path, ins_path = self.bare_files(n, wk, fd, with_phone)
        cols = ("(id BYTEA PRIMARY KEY, key_version BIGINT NOT NULL, wrapped_key BYTEA NOT NULL, "
                "fields BYTEA NOT NULL, email_index BYTEA UNIQUE, phone_index BYTEA UNIQUE, created_at BIGINT NOT NULL)")
        self.cluster.psql("bare", f"CREATE TABLE bare_supporters {cols}", f"CREATE TABLE bare_ins {cols}")
        env = self.cluster.env()
        psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                str(self.cluster.port), "-U", "postgres", "-d", "bare"]
        os.sync()
        pg0 = self.cluster.cpu()
        copy_s, _, _, _ = run_timed(psql + ["-c", f"\\copy bare_supporters FROM '{copy_path}'"], env)
        copy_pg = self.cluster.cpu() - pg0
        os.sync()
        pg0 = self.cluster.cpu()
        ins_s, _, _, _ = run_timed(psql + ["-f", ins_path], env)
        ins_pg = self.cluster.cpu() - pg0
        os.remove(copy_path)
        os.remove(ins_path)
        self.cluster.psql("bare", "DROP TABLE bare_ins", "VACUUM ANALYZE bare_supporters")
        got = int(self.cluster.psql("bare", "SELECT count(*) FROM bare_supporters"))
        if got != n:
            raise RuntimeError(f"the bare COPY stored {got} rows of {n}")
        base = {"copy_s": copy_s, "copy_rate": n / copy_s, "copy_pg_cpu_s": copy_pg,
                "inserts_s": ins_s, "inserts_rate": n / ins_s, "inserts_pg_cpu_s": ins_pg}
        self.raw["import_base"] = base
        log(f"bare COPY {n / copy_s:.0f} rows/s, bare row INSERTs {n / ins_s:.0f} rows/s")
        return inst, imp, base

    # -- lookups ---------------------------------------------------------------
    def lookups(self, inst, n):
        """Audited searches by e-mail over the admin API on the imported
        base (the product's only lookup path on PostgreSQL that a benchmark
        can drive: `rempart_bench lookup` opens SQLite), `supporters show`,
        and bare indexed lookups on the bare COPY table of as many rows."""
        token_out = subprocess.run([self.rempart, "admin", "token", "create", "--scope", "read-masked", "--name",
                                    "bench", "--expires-days", "1", "--config", inst.config], capture_output=True,
                                   text=True, env=clean_env())
        m = re.search(r"(rmp_\S+)", token_out.stdout)
        if token_out.returncode != 0 or not m:
            raise RuntimeError(f"admin token create failed: {token_out.stderr.strip()[-300:]}")
        token = m.group(1)
        emails = os.path.join(self.root, "emails.txt")
        with open(emails, "w", encoding="utf-8") as f:
            subprocess.run([self.tool, "emails", "--count", str(n), "--sample", str(min(n, 5000)), "--seed",
                            str(CSV_SEED)], stdout=f, check=True)
        with open(emails, encoding="utf-8") as f:
            sample = [line.strip() for line in f if line.strip()]
        conns = self.o.api_connections
        env = {"BENCH_TOKEN": token, "BENCH_EMAILS": emails}
        p = self.serve(inst, "keeper")
        try:
            wait_port(inst.console_port)
            self.check_search(inst, token, sample[0])
            if not self.o.smoke:  # warm-up
                self.wrk_result(self.wrk_start(inst.console_port, 1, "s", "search.lua", SEARCH_PATH, conns, 1, env))
            cpu0, pg0 = cpu_seconds(p.pid), self.cluster.cpu()
            w = self.wrk_result(self.wrk_start(inst.console_port, self.o.lookup_seconds, "s", "search.lua",
                                               SEARCH_PATH, conns, 1, env))
            w["cpu_s"] = cpu_seconds(p.pid) - cpu0
            w["pg_cpu_s"] = self.cluster.cpu() - pg0
        finally:
            self.stop(p)
        self.raw["api_search"] = w
        log(f"API search: {w['rps']:.0f}/s, p99 {w['p99_us'] / 1000:.1f} ms, errors {w['bad']}")
        show_ms = []
        for e in sample[1:1 + self.o.shows]:
            s, _, _, _ = run_timed([self.rempart, "supporters", "show", "--email", e, "--config", inst.config])
            show_ms.append(s * 1000)
        self.raw["show_ms"] = show_ms

        lookup = os.path.join(self.root, "lookup.sql")
        with open(lookup, "w", encoding="utf-8") as f:
            f.write(f"\\set n random(0, {n - 1})\n"
                    "SELECT wrapped_key, fields FROM bare_supporters WHERE email_index = sha256(int8send(:n));\n")
        audited = os.path.join(self.root, "lookup-audited.sql")
        self.cluster.psql("bare", "CREATE TABLE bare_audit (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                          "at BIGINT NOT NULL, details BYTEA NOT NULL)")
        with open(audited, "w", encoding="utf-8") as f:
            f.write(f"\\set n random(0, {n - 1})\nBEGIN;\n"
                    "SELECT wrapped_key, fields FROM bare_supporters WHERE email_index = sha256(int8send(:n));\n"
                    "INSERT INTO bare_audit (at, details) VALUES (:n, decode(:ad, 'hex'));\nCOMMIT;\n")
        secs = self.o.ceiling_seconds
        cores = os.cpu_count() or 1
        base = {"read_1": self.cluster.pgbench("bare", lookup, 1, secs),
                f"read_{cores}": self.cluster.pgbench("bare", lookup, cores, secs),
                f"audited_{conns}": self.cluster.pgbench("bare", audited, conns, secs,
                                                         [f"ad={os.urandom(256).hex()}"])}
        self.raw["lookup_base"] = base
        return w, show_ms, base

    def check_search(self, inst, token, email):
        import urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{inst.console_port}{SEARCH_PATH}", method="POST",
                                     data=json.dumps({"kind": "email", "value": email}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            items = json.loads(r.read())["items"]
        if len(items) != 1:
            raise RuntimeError(f"an API search for an imported supporter found {len(items)} records")

    # -- the model -------------------------------------------------------------
    def model(self, only, one, two, ceiling, group):
        """What the CPU and commit figures predict for N intake nodes (and
        K keepers) on machines of their own, each with --node-cores cores,
        and a database server with --db-cores: the least of the rates each
        resource allows, and which one that is."""
        node_cores, db_cores = self.o.node_cores, self.o.db_cores
        secs = only["duration_us"] / 1e6
        c_r = per_us(only["cpu_cores"] * secs, only["ok"])         # rempart intake CPU per sign-up
        c_p = per_us(only["pg_cpu_cores"] * secs, only["ok"])      # server CPU per sign-up
        c_k = per_us(one["keeper_cpu_s"], one["folded"])           # keeper CPU per folded item
        c_pf = per_us(one["pg_cpu_s"], one["folded"])              # server CPU per folded item
        lock_us = one.get("write_us_per_item")                     # serial part of a fold
        m = {"node_cores": node_cores, "db_cores": db_cores, "rempart_us_per_signup": c_r,
             "pg_us_per_signup": c_p, "keeper_us_per_item": c_k, "pg_us_per_item": c_pf,
             "write_us_per_item": lock_us, "group": group}
        m["node_rate"] = 1e6 * node_cores / c_r if c_r else None
        m["db_signup_rate"] = 1e6 * db_cores / c_p if c_p else None
        m["db_with_fold_rate"] = 1e6 * db_cores / (c_p + c_pf) if c_p and c_pf else None
        m["keeper_rate"] = 1e6 * node_cores / c_k if c_k else None
        m["lock_rate"] = 1e6 / lock_us if lock_us else None
        commit_ceiling = {int(k): v["rows_per_s"] for k, v in ceiling.items()}
        rtt = self.o.rtt_us
        # Over a network, each statement of the fold's write phase waits one
        # round trip more than on loopback, under the writers' lock.
        if lock_us and one.get("statements_per_item") is not None:
            m["lock_rate_network"] = 1e6 / (lock_us + one["statements_per_item"] * rtt)
        m["rtt_us"] = rtt
        preds = []
        for n in (1, 2, 4, 8):
            # The bare ceiling with one client per node, measured for 1, 2
            # and 8: the best measured with at most as many clients (more
            # writers never commit fewer rows than fewer writers could).
            near = max([k for k in commit_ceiling if k <= n] or [min(commit_ceiling)],
                       key=lambda k: commit_ceiling[k])
            bounds = {"intake nodes' CPU": n * m["node_rate"] if m["node_rate"] else None,
                      "server CPU": m["db_signup_rate"],
                      f"server's bare INSERT ceiling ({near} client{'s' if near > 1 else ''})": commit_ceiling[near]}
            bounds = {k: v for k, v in bounds.items() if v}
            intake_bound = min(bounds, key=bounds.get)
            fold_bounds = {"intake": bounds[intake_bound],
                           "keepers' CPU (2 keepers)": 2 * m["keeper_rate"] if m["keeper_rate"] else None,
                           "writers' lock": m.get("lock_rate_network") or m["lock_rate"],
                           "server CPU, sign-ups and folds": m["db_with_fold_rate"]}
            fold_bounds = {k: v for k, v in fold_bounds.items() if v}
            fold_bound = min(fold_bounds, key=fold_bounds.get)
            preds.append({"nodes": n, "signups": bounds[intake_bound], "bound": intake_bound,
                          "sustained_with_2_keepers": fold_bounds[fold_bound],
                          "sustained_bound": intake_bound if fold_bound == "intake" else fold_bound})
        m["predictions"] = preds
        m["two_keepers_ratio"] = two["rate"] / one["rate"] if one.get("rate") and two.get("rate") else None
        self.raw["model"] = m
        return m

    # -- run -------------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        self.load_at_start = round(os.getloadavg()[0], 2)
        log(f"cluster in {self.cluster.dir} (fsync and full_page_writes on) ...")
        self.cluster.start()
        self.mon = Session(self.cluster, "postgres")
        self.sessions.append(self.mon)
        if not self.cluster.statements:
            self.notes.append("pg_stat_statements is not available: no statement counts")

        phases = {}
        mark = [started]

        def phase(name):
            now = time.monotonic()
            phases[name] = round(now - mark[0], 1)
            mark[0] = now

        phase("cluster")
        log("sign-ups, intake alone, folds ...")
        full, only, one, two, sizes = self.intake_and_folds()
        phase("signups_and_folds")
        group = only["model"].get("group")
        g = max(1, round(group)) if group else 25
        log("bare INSERT ceiling ...")
        ceiling = self.insert_ceiling(g, sizes)
        phase("insert_ceiling")
        log("the inbox under a steady load ...")
        st = self.steady(one.get("rate"))
        phase("steady")
        inst, imp, ibase = self.import_and_bare()
        phase("import")
        log("lookups ...")
        api, show_ms, lbase = self.lookups(inst, self.o.import_rows)
        inst.close()
        phase("lookups")
        mdl = self.model(only, one, two, ceiling, g)

        self.table_rows(full, only, one, two, ceiling, g, group, st, imp, ibase, api, show_ms, lbase, mdl)
        elapsed = time.monotonic() - started
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "smoke" if self.o.smoke else "quick" if self.o.quick else "full",
            "cpus": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
            "wrk": f"-t{self.o.wrk_threads} -c{self.o.connections} -d{self.o.duration}s",
            "import_rows": self.o.import_rows, "seconds": round(elapsed, 1),
            "loadavg_at_start": self.load_at_start, "loadavg_at_end": round(os.getloadavg()[0], 2),
            "server": self.cluster.settings, "pg_stat_statements": self.cluster.statements,
            "phase_seconds": phases,
        }
        print(f"\nrempart on PostgreSQL, {meta['date']}, {meta['cpus']} CPUs ({meta['cpu']}), {meta['mode']} mode, "
              f"{meta['seconds']} s, load average {meta['loadavg_at_start']} at the start, "
              f"{meta['loadavg_at_end']} at the end; server: fsync {self.cluster.settings['fsync']}, "
              f"full_page_writes {self.cluster.settings['full_page_writes']}, synchronous_commit "
              f"{self.cluster.settings['synchronous_commit']}\n")
        print(self.table())
        print("\n" + self.model_table(mdl))
        for n in self.notes:
            print(f"\nnote: {n}")
        with open(self.o.out, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "rows": self.rows, "raw": self.raw, "notes": self.notes}, f, indent=1)
        print(f"\nbench pg: results written to {os.path.abspath(self.o.out)}")

    def table_rows(self, full, only, one, two, ceiling, g, group, st, imp, ibase, api, show_ms, lbase, mdl):
        c1 = ceiling[min(ceiling)]
        gnote = f"group {g}" + (" (measured)" if group else " (assumed)")
        us = lambda w, cores: per_us(w[cores] * w["duration_us"] / 1e6, w["ok"])
        self.row("durable sign-ups/s over HTTP (serve --role all)", full["rps"], "/s",
                 f"bare pipelined INSERTs, 1 client, {gnote}", c1["rows_per_s"])
        self.row("  p50 / p99 latency", full["p50_us"] / 1000, "ms", "p99", full["p99_us"] / 1000, auto=False)
        self.row("  non-2xx answers / socket errors", full["bad"], "")
        self.row("  accepted (2xx) but not stored", max(0, full["ok"] - full["stored"]), "")
        self.row("  rempart CPU per sign-up (role all)", us(full, "cpu_cores"), "µs")
        self.row("  PostgreSQL CPU per sign-up (role all, folds included)", us(full, "pg_cpu_cores"), "µs")
        if full.get("backlog_trend") is not None:
            self.row("  inbox backlog trend over the second half of the load", full["backlog_trend"], "items/s",
                     "sign-ups/s accepted", full["rps"])
        self.row("  inbox backlog at the end of the load", full["backlog_end"], "items", "sign-ups accepted",
                 full["ok"])
        self.row(f"  same, {full['drain_s']:.1f} s later (drain capped at {self.o.drain_cap} s)",
                 full["backlog_after_drain"], "items")
        self.row("durable sign-ups/s, intake role alone", only["rps"], "/s",
                 f"bare pipelined INSERTs, 1 client, {gnote}", c1["rows_per_s"])
        self.row("  p99 latency, intake alone", only["p99_us"] / 1000, "ms", "bare group commit, mean",
                 c1["latency_ms"])
        self.row("  accepted (2xx) but not stored, intake alone", max(0, only["ok"] - only["stored"]), "")
        im = only["model"]
        self.row("  rempart CPU per sign-up, intake alone", us(only, "cpu_cores"), "µs")
        self.row("  PostgreSQL CPU per sign-up, intake alone", us(only, "pg_cpu_cores"), "µs",
                 "bare pipelined INSERT, per row", c1["pg_cpu_us_per_row"])
        secs = only["duration_us"] / 1e6
        if im.get("commits"):
            self.row("  group commits/s of the intake writer", im["commits"] / secs, "/s",
                     "bare, 1 client, commits/s", c1["tps"])
            self.row("  mean group commit", im["group"], "rows", "connections", self.o.connections)
        self.row("  WAL fsyncs/s (server)", im["wal_syncs"] / secs, "/s")
        self.row("  WAL bytes per sign-up", im["wal_bytes_per_signup"], "B")
        if im.get("statements_per_signup") is not None:
            self.row("  statements per sign-up (intake's role)", im["statements_per_signup"], "")
        if im.get("token_calls") is not None:
            self.row("  shared rate limit: rempart_take_token calls per sign-up",
                     (im["token_calls"] or 0) / only["stored"] if only["stored"] else None, "",
                     "server time per call, µs", im.get("token_exec_us"), auto=False)
        for k in sorted(ceiling):
            if k != min(ceiling):
                self.row(f"  bare pipelined INSERT ceiling, {k} clients, {gnote}", ceiling[k]["rows_per_s"], "rows/s",
                         "1 client", c1["rows_per_s"])
        self.row("fold rate, one keeper (intake-alone backlog)", one["rate"], "/s", "sign-ups/s, intake alone",
                 only["rps"])
        self.row("fold rate, two keepers", two["rate"], "/s", "one keeper", one["rate"])
        self.row("  keeper CPU per folded item (one keeper)", per_us(one["keeper_cpu_s"], one["folded"]), "µs",
                 "two keepers", per_us(two["keeper_cpu_s"], two["folded"]))
        self.row("  PostgreSQL CPU per folded item (one keeper)", per_us(one["pg_cpu_s"], one["folded"]), "µs",
                 "two keepers", per_us(two["pg_cpu_s"], two["folded"]))
        if one.get("write_us_per_item"):
            self.row("  write phase per item (the opened items written and committed, under the writers' lock)", one["write_us_per_item"],
                     "µs", "two keepers (with the wait)", two.get("write_us_per_item"))
        if one.get("statements_per_item") is not None:
            self.row("  statements per folded item", one["statements_per_item"], "", "server time per item, µs",
                     one["exec_us_per_item"], auto=False)
        self.row(f"inbox under a steady load ({st['rate']:.0f} sign-ups/s, role all, {st['seconds']:.0f} s): "
                 "most dead tuples seen", st["dead_max"], "rows", "autovacuum threshold (inbox)",
                 INBOX_VACUUM_THRESHOLD)
        self.row("  dead tuples at the end", st["dead_end"], "rows")
        self.row("  inbox size (table + indexes + TOAST): start / end", st["size_start"] / 2**20, "MiB", "end",
                 st["size_end"] / 2**20)
        self.row(f"  autovacuum runs on the inbox (autovacuum_naptime {st['naptime']})", st["autovacuums"], "")
        self.row("  largest backlog seen", st["backlog_max"], "items")
        n = imp["rows"]
        self.row(f"import {n:,} CSV rows (process start included; row inserts, no COPY)", imp["rate"], "rows/s",
                 "bare COPY, same rows' sizes and unique indexes", ibase["copy_rate"])
        self.row("  same, beside bare row INSERTs (one round trip each, 10,000-row transactions)", imp["rate"],
                 "rows/s", "bare row INSERTs", ibase["inserts_rate"])
        self.row("  same, wall time", imp["seconds"], "s", "bare COPY", ibase["copy_s"])
        self.row("  rempart CPU per row", per_us(imp["cpu_s"], n), "µs")
        self.row("  PostgreSQL CPU per row", per_us(imp["pg_cpu_s"], n), "µs", "bare COPY, per row",
                 per_us(ibase["copy_pg_cpu_s"], n))
        if imp.get("statements_per_row") is not None:
            self.row("  statements per row", imp["statements_per_row"], "", "server time per row, µs",
                     imp["exec_us_per_row"], auto=False)
        self.row("  peak RSS of import", imp["rss_mib"], "MiB")
        conns = self.o.api_connections
        cores = os.cpu_count() or 1
        self.row(f"lookup by e-mail over the admin API ({n:,} supporters, {conns} connections; audited: "
                 "one commit each)", api["rps"], "/s", f"bare indexed lookup + durable 256 B insert, {conns} clients",
                 lbase[f"audited_{conns}"]["tps"])
        self.row("  same, beside a bare indexed lookup (read-only)", api["rps"], "/s",
                 f"bare, {cores} client{'s' if cores > 1 else ''}", lbase[f"read_{cores}"]["tps"])
        self.row("  bare indexed lookup, one client", lbase["read_1"]["tps"], "/s")
        self.row("  p50 / p99 latency, API search", api["p50_us"] / 1000, "ms", "p99", api["p99_us"] / 1000, auto=False)
        self.row("  non-2xx answers / socket errors, API search", api["bad"], "")
        self.row("  serve CPU per search / PostgreSQL CPU per search", per_us(api["cpu_s"], api["ok"]), "µs",
                 "PostgreSQL", per_us(api["pg_cpu_s"], api["ok"]), auto=False)
        if show_ms:
            self.row("supporters show --email (process start included), median", statistics.median(show_ms), "ms")
        for p in mdl["predictions"]:
            self.row(f"model: {p['nodes']} intake node(s) on machines of their own ({mdl['node_cores']} cores each, "
                     f"server {mdl['db_cores']} cores)", p["signups"], "/s", f"bound by: {p['bound']}", None)

    def table(self):
        lines = ["| figure | value | baseline (same run) | baseline value | ratio |", "| --- | ---: | --- | ---: | ---: |"]
        for r in self.rows:
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
            lines.append(f"| {r['figure']} | {fmt(r['value'])} {r['unit']} | {r['baseline_name'] or '-'} | "
                         f"{fmt(r['baseline'])} | {ratio} |")
        return "\n".join(lines)

    def model_table(self, m):
        lines = [f"Model (per sign-up: rempart {fmt(m['rempart_us_per_signup'])} µs, PostgreSQL "
                 f"{fmt(m['pg_us_per_signup'])} µs; per folded item: keeper {fmt(m['keeper_us_per_item'])} µs, "
                 f"PostgreSQL {fmt(m['pg_us_per_item'])} µs, write phase {fmt(m['write_us_per_item'])} µs; "
                 f"{m['node_cores']}-core nodes, {m['db_cores']}-core server):", "",
                 "| intake nodes | sign-ups/s | bound by | sustained, folded by 2 keepers | bound by |",
                 "| ---: | ---: | --- | ---: | --- |"]
        for p in m["predictions"]:
            lines.append(f"| {p['nodes']} | {fmt(p['signups'])} | {p['bound']} | "
                         f"{fmt(p['sustained_with_2_keepers'])} | {p['sustained_bound']} |")
        lines.append("")
        lines.append(f"one node's CPU allows {fmt(m['node_rate'])}/s; the server's CPU {fmt(m['db_signup_rate'])} "
                     f"sign-ups/s ({fmt(m['db_with_fold_rate'])}/s with their folds); one keeper's CPU "
                     f"{fmt(m['keeper_rate'])} folds/s; the writers' lock {fmt(m['lock_rate'])} folds/s on loopback, "
                     f"{fmt(m.get('lock_rate_network'))}/s with a {fmt(m['rtt_us'])} µs round trip to the server")
        return "\n".join(lines)

    def cleanup(self):
        for p in list(self.procs):
            try:
                self.stop(p)
            except Exception:  # noqa: BLE001 - cleaning up after a failure
                pass
        for s in self.sessions:
            s.close()
        if self.cluster.started:
            t0 = time.monotonic()
            self.cluster.stop()
            log(f"cluster stopped and removed in {time.monotonic() - t0:.1f} s")
        elif os.path.isdir(self.cluster.dir) and not os.listdir(self.cluster.dir):
            os.rmdir(self.cluster.dir)
        if self.o.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="Release build directory (with -DREMPART_BENCH=ON)")
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--quick", action="store_true", help="10,000 rows, 4 s loads (~2 minutes)")
    ap.add_argument("--smoke", action="store_true", help="tiny N and 2 s loads: checks that it runs (CI)")
    ap.add_argument("--duration", type=int, help="seconds of each sign-up load (default 20, quick 4, smoke 2)")
    ap.add_argument("--fold-seconds", type=int, help="cap of each fold measure (default 20, quick 4, smoke 2)")
    ap.add_argument("--drain-cap", type=int, help="seconds the role-all run waits for the inbox to drain "
                                                  "after its load (default 10, quick 3, smoke 1)")
    ap.add_argument("--steady-seconds", type=int, help="the steady load for dead tuples (default 90, quick 10, "
                                                       "smoke 2)")
    ap.add_argument("--autovacuum-naptime", help="the server's autovacuum_naptime for the run, e.g. 10s "
                                                 "(default: PostgreSQL's, 1min)")
    ap.add_argument("--import-rows", type=int, help="rows imported, and of the lookups' base (default 200000, "
                                                    "quick 10000, smoke 500); 1000000 for the large base "
                                                    "(~10 minutes more here)")
    ap.add_argument("--ceiling-seconds", type=int, help="each pgbench run (default 8, quick 3, smoke 1)")
    ap.add_argument("--lookup-seconds", type=int, help="the API search load (default 10, quick 3, smoke 1)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--api-connections", type=int, default=16)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--shows", type=int, help="`supporters show` runs (default 10, quick 5, smoke 1)")
    ap.add_argument("--node-cores", type=int, default=os.cpu_count() or 1,
                    help="cores of an intake or keeper node in the model (default: this machine's)")
    ap.add_argument("--db-cores", type=int, default=os.cpu_count() or 1,
                    help="cores of the database server in the model (default: this machine's)")
    ap.add_argument("--rtt-us", type=float, default=100,
                    help="network round trip between a keeper and the server in the model, µs (default 100)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instances")
    o = ap.parse_args()
    o.build = os.path.abspath(o.build)
    if o.smoke:
        o.quick = True
    pick = lambda v, full, quick, smoke: v if v is not None else smoke if o.smoke else quick if o.quick else full
    o.duration = pick(o.duration, 20, 4, 2)
    o.fold_seconds = pick(o.fold_seconds, 20, 4, 2)
    o.drain_cap = pick(o.drain_cap, 10, 3, 1)
    o.steady_seconds = pick(o.steady_seconds, 90, 10, 2)
    o.import_rows = pick(o.import_rows, 200000, 10000, 500)
    o.ceiling_seconds = pick(o.ceiling_seconds, 8, 3, 1)
    o.lookup_seconds = pick(o.lookup_seconds, 10, 3, 1)
    o.shows = pick(o.shows, 10, 5, 1)
    o.ceiling_clients = [1] if o.smoke else [1, 2, 8]
    b = Bench(o)
    try:
        b.run()
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
