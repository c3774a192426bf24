#!/usr/bin/env python3
"""Runs rempart's benchmarks and prints every figure beside a baseline
measured in the same run (see docs/benchmarks.md). Called by scripts/bench,
which installs the dependencies and builds Release first.

Everything runs on loopback against fresh instances in a temporary directory;
all data is synthetic (documentation domains, fiction phone numbers).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from loadstats import trend

OSDI_PATH = "/api/v1/people/person_signup_helper"
SEARCH_PATH = "/api/v1/supporters/search"
HERE = os.path.dirname(os.path.abspath(__file__))
# Seeds of the synthetic supporters: `supporters synth` and `rempart_bench
# gen-csv` (services/synth) make different people from different seeds.
SYNTH_SEED = 2026
CSV_SEED = 2027
AUDIT_HEAD = "SELECT coalesce(max(seq), 0) FROM audit_entries"
APPENDED = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0)"
# What --only names, in the order they run.
PARTS = ("intake", "crypto", "lookups", "big", "audit", "mailing", "token")
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
IMPORT_MAP = ("given_name=Prénom,family_name=Nom,email=Courriel,phone=Téléphone,"
              "postal_code=Code postal,locality=Ville,country=Pays")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def figures(text):
    """JSON lines {"figure", "value", "unit"} -> {figure: value}."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"figure"' in line:
            j = json.loads(line)
            out[j["figure"]] = j["value"]
    return out


def run_measured(cmd, env=None):
    """Runs cmd, returns (seconds, peak RSS MiB, stdout): wait4 gives the
    child's own ru_maxrss."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    if p.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({p.returncode}): {e.strip()[-400:]}")
    return seconds, ru.ru_maxrss / 1024.0, o


class Instance:
    """A fresh `rempart init` instance with the rate limit raised."""

    def __init__(self, rempart, root, name):
        self.rempart = rempart
        self.dir = os.path.join(root, name)
        self.config = os.path.join(self.dir, "rempart.toml")
        self.port = free_port()
        self.console_port = free_port()
        os.makedirs(self.dir)
        subprocess.run([rempart, "init", "--data", os.path.join(self.dir, "data"), "--keys",
                        os.path.join(self.dir, "keys"), "--config", self.config, "--region", "FR",
                        "--listen", f"127.0.0.1:{self.port}", "--console-listen",
                        f"127.0.0.1:{self.console_port}"], check=True, stdout=subprocess.DEVNULL)
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        # One client address (wrk on loopback) sends everything: lift the
        # per-address limit, which is what is measured here, not the limiter.
        text = re.sub(r"(?m)^rate_per_minute = .*$", "rate_per_minute = 1000000000", text)
        text = re.sub(r"(?m)^burst = .*$", "burst = 1000000000", text)
        # The exfiltration guard budgets the rows an actor sees masked and
        # the searches that find nobody, and locks past that: the API lookup
        # load is one token doing thousands of searches, so those budgets are
        # lifted (0 = no limit, every role's table too); every search is
        # still audited.
        for key in ("masked_rows_per_minute", "masked_rows_per_hour", "masked_rows_per_day",
                    "search_misses_per_minute", "search_misses_per_hour", "search_misses_per_day"):
            text, n = re.subn(rf"(?m)^{key} = \d+", f"{key} = 0", text)
            if n < 1:
                raise RuntimeError(f"rempart init wrote no [guard] {key} to lift")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)
        self.db = os.path.join(self.dir, "data", "rempart.db")
        self.inbox_db = os.path.join(self.dir, "data", "inbox.db")
        self.env = None  # of every process run on the instance: None, the bench's own

    def use_softhsm(self, label, pin):
        """Names in [keys] a SoftHSM2 token made for this instance: its own
        softhsm2.conf and token directory beside the instance's data
        (SOFTHSM2_CONF set in the environment of the instance's processes
        only) and a PIN file (mode 0600), as src/keys/test_support.hpp."""
        home = os.path.join(self.dir, "softhsm")
        os.makedirs(os.path.join(home, "tokens"))
        conf = os.path.join(home, "softhsm2.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"directories.tokendir = {home}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        pin_file = os.path.join(home, "pin")
        with os.fdopen(os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(pin + "\n")
        self.env = dict(os.environ, SOFTHSM2_CONF=conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin",
                        pin + "0"], check=True, stdout=subprocess.DEVNULL, env=self.env)
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        text, n = re.subn(r"(?m)^\[keys\]\n", f'[keys]\nprovider = "pkcs11"\nmodule = "{SOFTHSM_MODULE}"\n'
                          f'token = "{label}"\npin_file = "{pin_file}"\n', text)
        if n != 1:
            raise RuntimeError("rempart init wrote no [keys] table to name the token in")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def cli(self, *args):
        """A rempart command on this instance; its stdout."""
        r = subprocess.run([self.rempart, *args, "--config", self.config], capture_output=True, text=True,
                           env=self.env)
        if r.returncode != 0:
            raise RuntimeError(f"rempart {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        return r.stdout

    def token(self):
        """A read-masked API token (the scope that may search)."""
        r = subprocess.run([self.rempart, "admin", "token", "create", "--scope", "read-masked", "--name", "bench",
                            "--expires-days", "1", "--config", self.config], capture_output=True, text=True)
        m = re.search(r"(rmp_\S+)", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"admin token create failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        return m.group(1)

    def query(self, sql, db=None):
        c = sqlite3.connect(f"file:{db or self.db}?mode=ro", uri=True, timeout=30)
        try:
            return c.execute(sql).fetchone()[0]
        finally:
            c.close()

    def query_inbox(self, sql):
        """A query of the inbox file (the intake's one file)."""
        return self.query(sql, self.inbox_db)


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.build = opts.build
        self.rempart = os.path.join(self.build, "src", "cli", "rempart")
        self.tool = os.path.join(self.build, "bench", "rempart_bench")
        self.root = tempfile.mkdtemp(prefix="rempart-bench-")
        self.rows = []      # table rows
        self.raw = {}       # every figure measured
        self.notes = []
        self.perf = self.perf_works()

    # -- helpers ---------------------------------------------------------------
    def row(self, figure, value, unit, baseline_name=None, baseline=None, ratio=None, goal=None, ok=None):
        if ratio is None and baseline not in (None, 0) and value is not None:
            ratio = value / baseline
        self.rows.append(dict(figure=figure, value=value, unit=unit, baseline_name=baseline_name,
                              baseline=baseline, ratio=ratio, goal=goal, ok=ok))

    def perf_works(self):
        if shutil.which("perf") is None:
            return False
        r = subprocess.run(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_fdatasync", "true"],
                           capture_output=True, text=True)
        return r.returncode == 0 and "not supported" not in r.stderr and "<not" not in r.stderr

    def wrk(self, port, seconds, prefix):
        return self.wrk_result(self.wrk_start(port, seconds, prefix))

    def wrk_start(self, port, seconds, prefix, script="signup.lua", path=OSDI_PATH, connections=None,
                  threads=None, env=None):
        """Starts wrk in the background; wrk_result waits for its summary."""
        env = dict(os.environ, BENCH_PREFIX=prefix, **(env or {}))
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
                return j
        raise RuntimeError("wrk printed no summary: " + err[-300:])

    def start(self, cmd, env=None):
        # The log goes to a file: the console logs one line per request, which
        # would fill a pipe nobody reads during the load and stall the server.
        log_file = open(os.path.join(self.root, f"serve-{len(self.raw)}-{time.monotonic_ns()}.log"), "w")
        p = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True, env=env)
        p.log_file = log_file
        return p

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.log_file.close()

    # -- figures ---------------------------------------------------------------
    def http_ceiling(self):
        port = free_port()
        p = self.start([self.tool, "http-ceiling", "--port", str(port)])
        try:
            wait_port(port)
            self.wrk(port, 2, "c")  # warm-up
            cpu0 = cpu_seconds(p.pid)
            w = self.wrk(port, self.o.duration, "c")
            w["cpu_cores"] = (cpu_seconds(p.pid) - cpu0) / (w["duration_us"] / 1e6)
        finally:
            self.stop(p)
        self.raw["http_ceiling"] = w
        log(f"HTTP ceiling: {w['rps']:.0f} req/s, p99 {w['p99_us'] / 1000:.1f} ms")
        return w

    def count_fsyncs(self, pid):
        """Starts perf counting fsync/fdatasync per thread of pid."""
        if not self.perf:
            return None
        out = os.path.join(self.root, f"perf-{pid}.csv")
        p = subprocess.Popen(["perf", "stat", "-x,", "--per-thread", "-o", out, "-e",
                              "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync", "-p", str(pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return p, out

    def fsync_counts(self, handle):
        if handle is None:
            return None
        p, out = handle
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
        per_thread = {}
        with open(out, encoding="utf-8") as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) < 4 or "sys_enter_f" not in line:
                    continue
                try:
                    n = int(parts[1])
                except ValueError:
                    continue
                per_thread[parts[0]] = per_thread.get(parts[0], 0) + n
        return per_thread

    def signups(self, inst, role, seconds, prefix, label=""):
        """Durable sign-ups over HTTP against `serve --role role`."""
        p = self.start([self.rempart, "serve", "--config", inst.config, "--role", role], inst.env)
        try:
            wait_port(inst.port)
            self.wrk(inst.port, 1, prefix + "w")  # warm-up: connections, first batch, page cache
            # Every committed submission took an inbox id (AUTOINCREMENT, never
            # reused), folded or not: the sequence counts durable appends.
            before = inst.query_inbox(APPENDED)
            audit_before = inst.query(AUDIT_HEAD)
            handle = self.count_fsyncs(p.pid)
            cpu0 = cpu_seconds(p.pid)
            load = self.wrk_start(inst.port, seconds, prefix)
            samples = self.sample_inbox(inst, load) if role == "all" else []
            w = self.wrk_result(load)
            w["cpu_cores"] = (cpu_seconds(p.pid) - cpu0) / (w["duration_us"] / 1e6)
            fsyncs = self.fsync_counts(handle)
            # Audit entries committed during the load: one per folded
            # sign-up (role all), each in the fold's transaction.
            w["audit_entries"] = inst.query(AUDIT_HEAD) - audit_before
            backlog = inst.query_inbox("SELECT count(*) FROM inbox")
            drain_s = None
            if role == "all":
                t0 = time.monotonic()
                while inst.query_inbox("SELECT count(*) FROM inbox") > 0:
                    if time.monotonic() - t0 > 600:
                        raise RuntimeError("the inbox did not drain within 10 minutes")
                    time.sleep(0.02)
                drain_s = time.monotonic() - t0
            hwm = vm_hwm_mib(p.pid)
        finally:
            self.stop(p)
        w["backlog"] = backlog
        w["drain_s"] = drain_s
        if samples:
            w["backlog_max"] = max(n for _, n in samples)
            w["backlog_trend"] = trend(samples[len(samples) // 2:])
        w["rss_mib"] = hwm
        w["stored"] = inst.query_inbox(APPENDED) - before
        if fsyncs:
            # The writer thread commits far more often than the fold loop
            # (one commit per group vs. one per fold_batch items), so the
            # thread with the most fsyncs is the writer. Checkpoints add a
            # few fsyncs, so the group size is a slight underestimate.
            writer = max(fsyncs.values())
            w["commits"] = writer
            w["group"] = w["ok"] / writer if writer else None
        self.raw[f"signups_{role}{label}"] = w
        log(f"serve --role {role}: {w['rps']:.0f}/s, p50 {w['p50_us'] / 1000:.1f} ms, "
            f"p99 {w['p99_us'] / 1000:.1f} ms, backlog {backlog}, group {w.get('group')}")
        return w

    def sample_inbox(self, inst, load, every_s=0.25):
        """(seconds, items waiting in the inbox) every `every_s` while the
        wrk process `load` runs: whether the keeper keeps up shows as the
        backlog's trend, not as its size at one instant (it rises and falls
        by up to a fold pass at a time)."""
        samples = []
        c = sqlite3.connect(f"file:{inst.inbox_db}?mode=ro", uri=True, timeout=30)
        try:
            t0 = time.monotonic()
            while load.poll() is None:
                samples.append((time.monotonic() - t0, c.execute("SELECT count(*) FROM inbox").fetchone()[0]))
                time.sleep(every_s)
        finally:
            c.close()
        return samples

    def fold_alone(self, inst, limit_s, label="", poll_s=0.25):
        """Starts the keeper alone on an instance whose inbox holds a backlog
        and measures how fast it folds (open, validate, blind-index, merge,
        re-seal, commit), for at most limit_s seconds, from the keeper's
        start (the time it takes to open its keys included)."""
        backlog = inst.query_inbox("SELECT count(*) FROM inbox")
        if backlog == 0:
            return None
        p = self.start([self.rempart, "serve", "--config", inst.config, "--role", "keeper"], inst.env)
        try:
            t0 = time.monotonic()
            left = backlog
            while left > 0 and time.monotonic() - t0 < limit_s:
                time.sleep(poll_s)
                left = inst.query_inbox("SELECT count(*) FROM inbox")
            elapsed = time.monotonic() - t0
        finally:
            self.stop(p)
        rate = (backlog - left) / elapsed
        self.raw[f"fold_alone{label}"] = {"backlog": backlog, "folded": backlog - left, "seconds": elapsed,
                                          "rate": rate}
        log(f"keeper alone: folded {backlog - left} of {backlog} in {elapsed:.1f} s")
        return rate

    def tool_figures(self, *args, env=None, keep=True):
        """Runs rempart_bench, returns its figures (into self.raw too, with keep)."""
        r = subprocess.run([self.tool, *args], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"rempart_bench {args[0]} failed: {r.stderr.strip()[-300:]}")
        f = figures(r.stdout)
        if keep:
            self.raw.update(f)
        return f

    def intake(self):
        ceiling = self.http_ceiling()
        inst = Instance(self.rempart, self.root, "serve")
        full = self.signups(inst, "all", self.o.duration, "a")
        only_inst = Instance(self.rempart, self.root, "intake")
        only = self.signups(only_inst, "intake", self.o.duration, "i")
        fold_rate = self.fold_alone(only_inst, self.o.duration)
        group = full.get("group") or only.get("group")
        if group:
            group_note = f"group {group:.1f} (measured)"
        else:
            group = self.o.connections
            group_note = f"group {group} (assumed: perf unavailable)"
        st = self.tool_figures("storage-ceiling", "--db", os.path.join(self.root, "storage.db"), "--seconds",
                               str(max(3, self.o.duration // 2)), "--group", str(max(1, round(group))))
        storage = st["storage.rows_per_s"]
        lost = full["ok"] - full["stored"]

        self.row("sign-ups/s, HTTP, durable (serve --role all)", full["rps"], "/s", "HTTP ceiling (trivial 200)",
                 ceiling["rps"], goal="≥ 25,000/s and ≥ 0.40", ok=full["rps"] >= 25000 and full["rps"] >= 0.4 *
                 ceiling["rps"])
        self.row("  same, beside the storage ceiling", full["rps"], "/s",
                 f"bare SQLite, WAL+FULL, {group_note}", storage)
        self.row("  p50 latency", full["p50_us"] / 1000, "ms", "HTTP ceiling p50", ceiling["p50_us"] / 1000)
        self.row("  p99 latency", full["p99_us"] / 1000, "ms", "HTTP ceiling p99", ceiling["p99_us"] / 1000,
                 goal="≤ 10 ms", ok=full["p99_us"] <= 10000)
        self.row("  p99 latency beside one durable commit", full["p99_us"] / 1000, "ms",
                 "bare commit p99", st["storage.commit_p99"])
        self.row("  non-2xx answers / socket errors", full["status_errors"] + full["timeouts"] +
                 full["read_errors"] + full["connect_errors"], "", goal="0",
                 ok=full["status_errors"] + full["timeouts"] + full["read_errors"] + full["connect_errors"] == 0)
        self.row("  accepted (2xx) but not stored", max(0, lost), "", goal="0", ok=lost <= 0)
        self.row("  CPU used by serve during the load", full["cpu_cores"], "cores", "cores on the machine",
                 os.cpu_count())
        # CPU time per request: what a sign-up costs beside what the HTTP
        # layer alone costs (the trivial handler), both on serve's side.
        per_req = lambda w: 1e6 * w["cpu_cores"] / w["rps"] if w["rps"] else None
        self.row("  serve CPU per sign-up (role all)", per_req(full), "µs", "trivial handler CPU per request",
                 per_req(ceiling))
        self.row("sign-ups/s, intake role alone (no folding)", only["rps"], "/s", "HTTP ceiling (trivial 200)",
                 ceiling["rps"])
        self.row("  p99 latency, intake alone", only["p99_us"] / 1000, "ms", "HTTP ceiling p99",
                 ceiling["p99_us"] / 1000, goal="≤ 10 ms", ok=only["p99_us"] <= 10000)
        self.row("  CPU used by serve, intake alone", only["cpu_cores"], "cores", "cores on the machine",
                 os.cpu_count())
        self.row("  serve CPU per sign-up, intake alone", per_req(only), "µs", "trivial handler CPU per request",
                 per_req(ceiling))
        if full.get("group"):
            self.row("  mean group commit (serve --role all)", full["group"], "rows", "connections",
                     self.o.connections)
        if only.get("group"):
            self.row("  mean group commit (intake alone)", only["group"], "rows", "connections", self.o.connections)
        if full.get("backlog_trend") is not None:
            # Bounded: over the second half of the load the backlog does not
            # grow by more than 2 % of the sign-ups accepted meanwhile (a
            # keeper that trails the intake shows as a steady climb; one that
            # keeps up leaves a backlog that rises and falls by a pass).
            self.row("inbox backlog trend over the second half of the load", full["backlog_trend"], "items/s",
                     "sign-ups/s accepted", full["rps"], goal="≤ 0.02 (bounded)",
                     ok=full["backlog_trend"] <= 0.02 * full["rps"])
            self.row("  largest backlog seen during the load", full["backlog_max"], "items", "sign-ups accepted",
                     full["ok"])
        self.row("  inbox backlog at end of load", full["backlog"], "items", "sign-ups accepted", full["ok"])
        self.row("  time to drain it", full["drain_s"], "s")
        secs = full["duration_us"] / 1e6
        self.row("audit entries appended/s under the sign-up load (one per folded sign-up)",
                 full["audit_entries"] / secs, "entries/s", "sign-ups/s accepted", full["rps"])
        if fold_rate:
            self.row("fold rate, keeper alone on the intake-alone backlog", fold_rate, "/s",
                     "sign-ups/s, intake alone", only["rps"], goal="≥ 1 (keeps up)", ok=fold_rate >= only["rps"])
        self.row("peak RSS of serve under load", full["rss_mib"], "MiB", goal="≤ 200 MiB",
                 ok=full["rss_mib"] <= 200)

    # rempart_crypto_bench case -> figure key in self.raw (the names the
    # hand-timed `rempart_bench crypto` used, so results files stay comparable).
    CRYPTO_CASES = {
        "getrandom 24 B": "crypto.random_24B_us",
        "XChaCha20-Poly1305 encrypt 64 B": "crypto.aead_64B_us",
        "keyed BLAKE2b 32 B": "crypto.blake2b_keyed_us",
        "crypto_box_seal 32 B": "crypto.box_seal_us",
        "intake: parse+validate OSDI body": "intake.parse_validate_us",
        "intake: seal one submission": "intake.seal_us",
        "intake: seal_new one submission": "intake.seal_new_us",
        "intake: new batch": "intake.batch_create_us",
        "keeper: open+revalidate+2 blind indexes+re-seal": "keeper.open_validate_index_reseal_us",
        "keeper: open+2 blind indexes+re-seal": "keeper.open_index_reseal_us",
        "keeper: open only": "keeper.open_only_us",
        "keeper: revalidate only": "keeper.revalidate_only_us",
    }

    def crypto_figures(self):
        """Runs rempart_crypto_bench (Google Benchmark), returns {figure key:
        wall µs per operation}; cpu time and iterations go to self.raw too."""
        tool = os.path.join(self.build, "bench", "rempart_crypto_bench")
        min_time = "0.05" if self.o.smoke else "0.2" if self.o.quick else "0.5"
        # libbenchmark 1.7 takes --benchmark_min_time in seconds, as a plain number.
        r = subprocess.run([tool, "--benchmark_format=json", f"--benchmark_min_time={min_time}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"rempart_crypto_bench failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        to_us = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
        f, detail = {}, {}
        for b in json.loads(r.stdout)["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration":
                continue
            name = b.get("run_name", b["name"])
            if b.get("error_occurred"):
                raise RuntimeError(f"rempart_crypto_bench: {name}: {b.get('error_message', 'error')}")
            scale = to_us[b["time_unit"]]
            real_us, cpu_us = b["real_time"] * scale, b["cpu_time"] * scale
            detail[name] = {"real_us": real_us, "cpu_us": cpu_us, "iterations": b["iterations"]}
            if name in self.CRYPTO_CASES:
                f[self.CRYPTO_CASES[name]] = real_us
        missing = [n for n in self.CRYPTO_CASES if n not in detail]
        if missing:
            raise RuntimeError(f"rempart_crypto_bench reported no {', '.join(missing)}")
        self.raw.update(f)
        self.raw["crypto_gbench"] = {"min_time_s": float(min_time), "cases": detail}
        return f

    def crypto(self):
        f = self.crypto_figures()
        self.row("intake: parse + validate one OSDI body", f["intake.parse_validate_us"], "µs",
                 "keyed BLAKE2b (32 B)", f["crypto.blake2b_keyed_us"])
        # seal_new is what the intake writer runs per submission.
        self.row("intake: seal one submission", f["intake.seal_new_us"], "µs", "XChaCha20-Poly1305 (64 B)",
                 f["crypto.aead_64B_us"], goal="≤ 10 µs", ok=f["intake.seal_new_us"] <= 10)
        self.row("  new batch (two X25519), once per commit", f["intake.batch_create_us"], "µs",
                 "crypto_box_seal (32 B)", f["crypto.box_seal_us"])
        # The goal is the crypto per record; the fold also validates every
        # submission again (not cryptography), shown on the next line.
        self.row("keeper: open + 2 blind idx + re-seal", f["keeper.open_index_reseal_us"], "µs",
                 "XChaCha20-Poly1305 (64 B)", f["crypto.aead_64B_us"], goal="≤ 10 µs",
                 ok=f["keeper.open_index_reseal_us"] <= 10)
        self.row("  same with re-validation (the whole per-item work)", f["keeper.open_validate_index_reseal_us"],
                 "µs", "re-validation alone", f["keeper.revalidate_only_us"])
        self.row("  one getrandom (24 B), one per seal", f["crypto.random_24B_us"], "µs",
                 "XChaCha20-Poly1305 (64 B)", f["crypto.aead_64B_us"])

    def import_and_synth(self):
        n, phones = self.o.rows, self.o.phones
        csv_path = os.path.join(self.root, "export.csv")
        subprocess.run([self.tool, "gen-csv", "--out", csv_path, "--rows", str(n), "--phones", str(phones)],
                       check=True)
        # Each timed write starts with the disk quiet: without the sync, the
        # kernel writes back the previous step's dirty pages (the CSV, the
        # bare database) during the next one's commits.
        os.sync()
        base = self.tool_figures("import-baseline", "--csv", csv_path, "--db", os.path.join(self.root, "bare.db"),
                                 "--tx", "10000")
        inst = Instance(self.rempart, self.root, "import")
        os.sync()
        secs, rss, out = run_measured([self.rempart, "supporters", "import", csv_path, "--map", IMPORT_MAP,
                                       "--no-progress", "--config", inst.config])
        stored = inst.query("SELECT count(*) FROM supporters")
        if stored != n:
            self.notes.append(f"import stored {stored} supporters out of {n} rows")
        rate = n / secs
        self.raw.update({"import.seconds": secs, "import.rss_mib": rss, "import.stored": stored})
        goal_s = 3.0 * n / 120000
        self.row(f"import {n:,} CSV rows (process start included)", rate, "rows/s",
                 "bare SQLite inserts, 10k-row tx", base["import_base.insert_rows_per_s"],
                 goal="≥ 0.5", ok=rate >= 0.5 * base["import_base.insert_rows_per_s"])
        self.row("  same, wall time", secs, "s", goal=f"≤ {goal_s:.1f} s", ok=secs <= goal_s)
        self.row("  beside parsing the CSV alone", rate, "rows/s", "CSV parse only",
                 base["import_base.parse_rows_per_s"])
        self.row("  peak RSS of import", rss, "MiB")

        sinst = Instance(self.rempart, self.root, "synth")
        os.sync()
        secs, srss, _ = run_measured([self.rempart, "supporters", "synth", str(n), "--phones", str(phones),
                                      "--config", sinst.config])
        self.raw.update({"synth.seconds": secs, "synth.rss_mib": srss})
        self.row(f"synth {n:,} supporters", secs, "s")
        self.row("  same, rate", n / secs, "rows/s", "bare SQLite inserts, 10k-row tx",
                 base["import_base.insert_rows_per_s"])
        self.row("  peak RSS of synth", srss, "MiB")
        return sinst

    def inprocess_lookups(self, inst, n, phones, label="", seed=SYNTH_SEED):
        secs = "1" if self.o.quick else "3"
        threads = str(max(1, os.cpu_count() or 1))
        lk = self.tool_figures("lookup", "--config", inst.config, "--count", str(n), "--phones", str(phones),
                               "--seconds", secs, "--threads", threads, "--seed", str(seed))
        lb = self.tool_figures("lookup-baseline", "--db", inst.db, "--seconds", secs)
        lbt = self.tool_figures("lookup-baseline", "--db", inst.db, "--seconds", secs, "--threads", threads)
        self.raw[f"lookup{label}"] = {**lk, **lb, "lookup_base_threads.per_s": lbt["lookup_base.per_s"]}
        best = max(lk["lookup.read_per_s"], lk.get("lookup.read_mt_per_s", 0))
        self.row(f"lookup by e-mail, in process, read-only ({n:,} supporters), one thread", lk["lookup.read_per_s"],
                 "/s", "bare SQLite indexed blob lookup, one thread", lb["lookup_base.per_s"])
        if "lookup.read_mt_per_s" in lk:
            self.row(f"  same, {threads} threads (one connection each)", lk["lookup.read_mt_per_s"], "/s",
                     f"bare lookup, {threads} threads", lbt["lookup_base.per_s"], goal="≥ 100,000/s",
                     ok=best >= 100000)
        self.row("  same, audited search (what the API runs: masked, one commit each)", lk["lookup.search_per_s"],
                 "/s", "read-only lookup, one thread", lk["lookup.read_per_s"])
        self.row("  same, audited reveal (`supporters show`)", lk["lookup.per_s"], "/s", "read-only lookup, one thread",
                 lk["lookup.read_per_s"])
        return lk

    def emails_file(self, n, name, seed=SYNTH_SEED):
        path = os.path.join(self.root, f"emails-{name}.txt")
        with open(path, "w", encoding="utf-8") as f:
            subprocess.run([self.tool, "emails", "--count", str(n), "--sample", str(min(n, 5000)), "--seed",
                            str(seed)], stdout=f, check=True)
        return path

    def check_search(self, inst, token, email):
        """One search by hand before the load: the token works, the guard
        lets it through and the supporter is found (wrk only counts statuses)."""
        import urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{inst.console_port}{SEARCH_PATH}", method="POST",
                                     data=json.dumps({"kind": "email", "value": email}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            items = json.loads(r.read())["items"]
        if len(items) != 1:
            raise RuntimeError(f"an API search for a synthetic supporter found {len(items)} records")

    def api_lookups(self, inst, n, seconds, token, emails, connections):
        """Searches over the admin API against `serve --role keeper`."""
        p = self.start([self.rempart, "serve", "--config", inst.config, "--role", "keeper"])
        try:
            wait_port(inst.console_port)
            with open(emails, encoding="utf-8") as f:
                self.check_search(inst, token, f.readline().strip())
            env = {"BENCH_TOKEN": token, "BENCH_EMAILS": emails}
            self.wrk_result(self.wrk_start(inst.console_port, 1, "s", "search.lua", SEARCH_PATH, connections,
                                           1, env))  # warm-up
            cpu0 = cpu_seconds(p.pid)
            w = self.wrk_result(self.wrk_start(inst.console_port, seconds, "s", "search.lua", SEARCH_PATH,
                                               connections, 1, env))
            w["cpu_cores"] = (cpu_seconds(p.pid) - cpu0) / (w["duration_us"] / 1e6)
            w["rss_mib"] = vm_hwm_mib(p.pid)
        finally:
            self.stop(p)
        w["errors"] = w["status_errors"] + w["timeouts"] + w["read_errors"] + w["connect_errors"]
        log(f"API search ({n:,}): {w['rps']:.0f}/s, p50 {w['p50_us'] / 1000:.1f} ms, "
            f"p99 {w['p99_us'] / 1000:.1f} ms, errors {w['errors']}")
        return w

    def api_rows(self, w, n, lk, connections):
        self.row(f"lookup by e-mail over the admin API ({n:,} supporters, {connections} connections)", w["rps"],
                 "/s", "in process, audited search", lk["lookup.search_per_s"])
        self.row("  same, beside the in-process read-only lookup", w["rps"], "/s", "read-only lookup",
                 lk["lookup.read_per_s"])
        self.row("  p50 latency, API search", w["p50_us"] / 1000, "ms", "in process, audited search, mean",
                 lk["lookup.search_mean_us"] / 1000)
        self.row("  p99 latency, API search", w["p99_us"] / 1000, "ms")
        self.row("  non-2xx answers / socket errors, API search", w["errors"], "", goal="0", ok=w["errors"] == 0)
        self.row("  CPU used by serve --role keeper during the searches", w["cpu_cores"], "cores",
                 "cores on the machine", os.cpu_count())

    def lookups(self, inst):
        n, phones = self.o.rows, self.o.phones
        lk = self.inprocess_lookups(inst, n, phones)
        conns = self.o.api_connections
        w = self.api_lookups(inst, n, self.o.duration, inst.token(), self.emails_file(n, "synth"), conns)
        self.raw["api_search"] = w
        self.api_rows(w, n, lk, conns)
        emails = subprocess.run([self.tool, "emails", "--count", str(n), "--sample", str(self.o.shows)],
                                capture_output=True, text=True, check=True).stdout.split()
        show_ms = []
        for e in emails:
            s, _, _ = run_measured([self.rempart, "supporters", "show", "--email", e, "--config", inst.config])
            show_ms.append(s * 1000)
        start_ms = []
        for _ in range(len(emails)):
            s, _, _ = run_measured([self.rempart, "--help"])
            start_ms.append(s * 1000)
        self.raw.update({"show.ms": show_ms, "start.ms": start_ms})
        self.row("supporters show --email (process start included)", statistics.median(show_ms), "ms",
                 "rempart --help (process start)", statistics.median(start_ms))

    def import_and_lookups(self):
        log("import and synth ...")
        synth_inst = self.import_and_synth()
        log("lookups, in process and over the API ...")
        self.lookups(synth_inst)

    def big(self):
        """The large-base figures (full mode): synth, in-process and API
        lookups, and the peak RSS of serve holding the base while wrk drives
        sign-ups and API searches at once."""
        n = self.o.big_rows
        phones = min(50000, n // 6)
        inst = Instance(self.rempart, self.root, "big")
        # The large base is an import of a generated CSV export, so the same
        # step measures the import of n rows beside bare inserts of its cells.
        csv_path = os.path.join(self.root, "export-big.csv")
        subprocess.run([self.tool, "gen-csv", "--out", csv_path, "--rows", str(n), "--phones", str(phones),
                        "--seed", str(CSV_SEED)], check=True)
        log(f"bare inserts of {n:,} rows ...")
        os.sync()  # as in import_and_synth: each timed write starts with the disk quiet
        base = self.tool_figures("import-baseline", "--csv", csv_path, "--db",
                                 os.path.join(self.root, "bare-big.db"), "--tx", "10000")
        os.remove(os.path.join(self.root, "bare-big.db"))
        log(f"import {n:,} ...")
        os.sync()
        secs, rss, _ = run_measured([self.rempart, "supporters", "import", csv_path, "--map", IMPORT_MAP,
                                     "--no-progress", "--config", inst.config])
        os.remove(csv_path)
        stored = inst.query("SELECT count(*) FROM supporters")
        if stored != n:
            self.notes.append(f"the large import stored {stored} supporters out of {n} rows")
        self.raw.update({"big.import_seconds": secs, "big.import_rss_mib": rss,
                         "big.db_mib": os.path.getsize(inst.db) / 2**20, "big.import_base": base})
        self.row(f"import {n:,} CSV rows (process start included)", n / secs, "rows/s",
                 "bare SQLite inserts, 10k-row tx", base["import_base.insert_rows_per_s"], goal="≥ 0.5",
                 ok=n / secs >= 0.5 * base["import_base.insert_rows_per_s"])
        self.row("  same, wall time", secs, "s")
        self.row("  peak RSS of import", rss, "MiB")
        log(f"lookups at {n:,} ...")
        lk = self.inprocess_lookups(inst, n, phones, "_big", CSV_SEED)
        conns = self.o.api_connections
        token = inst.token()
        emails = self.emails_file(n, "big", CSV_SEED)
        w = self.api_lookups(inst, n, max(2, self.o.duration // 2), token, emails, conns)
        self.raw["api_search_big"] = w
        self.api_rows(w, n, lk, conns)

        log(f"serve --role all holding {n:,}, sign-ups and API searches at once ...")
        p = self.start([self.rempart, "serve", "--config", inst.config, "--role", "all"])
        try:
            wait_port(inst.port)
            wait_port(inst.console_port)
            env = {"BENCH_TOKEN": token, "BENCH_EMAILS": emails}
            before = inst.query_inbox(APPENDED)
            sw = self.wrk_start(inst.port, self.o.duration, "b")
            lw = self.wrk_start(inst.console_port, self.o.duration, "s", "search.lua", SEARCH_PATH, conns, 1, env)
            samples = self.sample_inbox(inst, sw)
            su, se = self.wrk_result(sw), self.wrk_result(lw)
            left = inst.query_inbox("SELECT count(*) FROM inbox")
            t0 = time.monotonic()
            while inst.query_inbox("SELECT count(*) FROM inbox") > 0 and time.monotonic() - t0 < 120:
                time.sleep(0.05)
            drain_s = time.monotonic() - t0
            hwm = vm_hwm_mib(p.pid)
        finally:
            self.stop(p)
        stored = inst.query_inbox(APPENDED) - before
        errors = sum(x["status_errors"] + x["timeouts"] + x["read_errors"] + x["connect_errors"] for x in (su, se))
        trend_big = trend(samples[len(samples) // 2:]) if samples else None
        self.raw["big_mixed"] = {"signups": su, "search": se, "rss_mib": hwm, "stored": stored,
                                 "backlog_trend": trend_big, "backlog_end": left, "drain_s": drain_s}
        log(f"mixed: sign-ups {su['rps']:.0f}/s, searches {se['rps']:.0f}/s, VmHWM {hwm:.1f} MiB")
        self.row(f"peak RSS of serve --role all holding {n:,} supporters, under load", hwm, "MiB",
                 goal="≤ 200 MiB", ok=hwm <= 200)
        self.row("  sign-ups/s during it", su["rps"], "/s")
        self.row("  API searches/s during it", se["rps"], "/s")
        self.row("  p99 latency of sign-ups / API searches", su["p99_us"] / 1000, "ms", "API search p99",
                 se["p99_us"] / 1000)
        # Whether the keeper keeps up on a large base with the console busy
        # (shown, not judged: the goal's run is the empty base's, above).
        if trend_big is not None:
            self.row("  inbox backlog trend over the second half of the load", trend_big, "items/s",
                     "sign-ups/s accepted", su["rps"])
        self.row("  inbox backlog at the end of it", left, "items", "sign-ups accepted", su["ok"])
        self.row("  time to drain it", drain_s, "s")
        self.row("  non-2xx answers / socket errors; accepted but not stored", errors + max(0, su["ok"] - stored),
                 "", goal="0", ok=errors == 0 and su["ok"] <= stored)
        self.row("  size of the database file", self.raw["big.db_mib"], "MiB")

    def audit(self):
        exe = None
        for dirpath, _, files in os.walk(self.build):
            if "audit_bench" in files:
                cand = os.path.join(dirpath, "audit_bench")
                if os.access(cand, os.X_OK):
                    exe = cand
                    break
        if exe is None:
            self.notes.append("audit: no audit_bench in this build")
            return
        r = subprocess.run([exe, str(self.o.audit_entries)], capture_output=True, text=True, cwd=self.root)
        f = figures(r.stdout)
        if r.returncode != 0 or not f:
            self.notes.append(f"audit: audit_bench failed ({r.returncode})")
            return
        for k, v in f.items():
            self.raw[f"audit:{k}"] = v
        n = self.o.audit_entries
        blake = f.get("audit_blake2b_per_s")
        self.row(f"audit: append, {n:,} entries in 1,000-entry transactions (in process)", f.get("audit_append_per_s"),
                 "entries/s", "BLAKE2b alone, same entries", blake)
        self.row(f"audit: verify {n:,} entries (chain, MACs, signed checkpoints)", f.get("audit_verify_per_s"),
                 "entries/s", "BLAKE2b alone, same entries", blake, goal="≥ 200,000/s",
                 ok=(f.get("audit_verify_per_s") or 0) >= 200000)
        self.row("  same, beside reading the entries alone", f.get("audit_verify_per_s"), "entries/s",
                 "scan of the entries", f.get("audit_scan_per_s"))
        if "audit_verify_resumed_100_ms" in f:
            self.row(f"  resumed after the {n:,} verified, 100 entries appended since (the auditor's page)",
                     f["audit_verify_resumed_100_ms"], "ms")
        for key, label in (("blast_radius_actor_ms", "one organiser"), ("blast_radius_ms_1M", "one organiser"),
                           ("blast_radius_window_ms", "one hour, everyone"),
                           ("blast_radius_window_ms_1M", "one hour, everyone")):
            if key in f:
                self.row(f"  blast radius over {n:,} entries, {label}", f[key], "ms")

    def mailing(self):
        """A mailing to ~recipients synthetic consents, opened, rendered and
        handed to Postfix's smtp-sink over [mailings].connections, beside
        as many pre-rendered messages over as many connections."""
        target = self.o.mail_recipients
        inst = Instance(self.rempart, self.root, "mailing")
        port = free_port()
        sink_cmd = ["/usr/sbin/smtp-sink"]
        if os.geteuid() == 0:
            sink_cmd += ["-u", "nobody"]  # it refuses to run as root
        sink = subprocess.Popen(sink_cmd + [f"127.0.0.1:{port}", "256"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            connections = 4
            with open(inst.config, encoding="utf-8") as f:
                text = f.read()
            text = re.sub(r"(?m)^approval_above = .*$", "approval_above = 100000000", text)
            text, n = re.subn(r"(?m)^batch = 100\b.*$", "batch = 1000", text)  # [mailings], not fold_batch
            text, m = re.subn(r"(?m)^connections = .*$", f"connections = {connections}", text)
            if n != 1 or m != 1:
                raise RuntimeError("rempart init wrote no [mailings] batch or connections to set")
            text += (f"\n[mail]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\nrequire_tls = false\n"
                     "from = \"nouvelles@mouvement.example\"\norganisation = \"Mouvement Exemple\"\n"
                     "links_base = \"https://signup.example.org\"\nper_minute = 1000000\n")
            with open(inst.config, "w", encoding="utf-8") as f:
                f.write(text)
            # synth gives 8 in 10 people an e-mail consent.
            people = target * 5 // 4
            subprocess.run([self.rempart, "supporters", "synth", str(people), "--phones", "0", "--config", inst.config],
                           check=True, stdout=subprocess.DEVNULL)
            os.sync()
            prep = self.tool_figures("mailing-prepare", "--config", inst.config)
            secs, rss, out = run_measured([self.tool, "mailing-send", "--config", inst.config])
            f = figures(out)
            sent = int(f["mailing.sent"])
            base = self.tool_figures("smtp-baseline", "--smtp", f"smtp://127.0.0.1:{port}", "--count", str(sent),
                                     "--connections", str(connections))
        finally:
            sink.terminate()
            sink.wait(timeout=10)
        self.raw.update(f)  # prep and base are in already (tool_figures)
        self.raw["mailing:process_seconds"] = secs
        self.raw["mailing:rss_mib"] = rss
        per_s = f["mailing.per_s"]
        self.row(f"mailing to {sent:,} synthetic supporters (opened, rendered, sent; {connections} connections)",
                 per_s, "messages/s", "pre-rendered, same sink and connections", base["smtp_base.per_s"])
        projected = 120000 / per_s if per_s else None
        self.row("  same, time for 120,000 at that rate", projected, "s", goal="≤ 60 s",
                 ok=projected is not None and projected <= 60)
        self.row("  CPU of the sender", f["mailing.cpu_s"] / max(sent, 1) * 1e6, "µs/message")
        self.row("  peak RSS of the sender (process start included)", rss, "MiB", goal="≤ 200 MiB", ok=rss <= 200)
        self.row("  drawing the recipients", prep["mailing.draw_s"], "s")

    def token_provider(self):
        """The fold rate and the reveals with the record keys in a PKCS#11
        token (SoftHSM2) beside the key file. Two fresh instances alike but
        for [keys]: one with the key file, one whose keyring `keys seal`
        sealed under a token; `keys rotate` on both, so that every record
        made afterwards (the synth base, the folded sign-ups) is under
        version 2, its data key wrapped by the token in the one and by the
        keyring in the other. Each step runs on the file's instance, then
        at once on the token's, so that the machine's drift falls on both."""
        if shutil.which("softhsm2-util") is None or not os.path.exists(SOFTHSM_MODULE):
            why = ("no SoftHSM2 (softhsm2-util, libsofthsm2.so: the softhsm2 package, which `scripts/deps test` "
                   "installs)")
            log(f"token provider: skipped, {why}")
            self.notes.append(f"token provider: skipped, {why}")
            return
        n = min(self.o.rows, 20000)
        phones = n // 6
        seconds = min(self.o.duration, 8)
        kinds = ("file", "token")
        insts = {}
        for kind in kinds:
            inst = Instance(self.rempart, self.root, f"keys-{kind}")
            if kind == "token":
                inst.use_softhsm("rempart-bench", "24681357")
                inst.cli("keys", "seal")
            inst.cli("keys", "rotate")
            inst.cli("supporters", "synth", str(n), "--phones", str(phones))
            insts[kind] = inst
        version = 2  # init made version 1, the rotation version 2

        fold, intake = {}, {}
        for kind in kinds:
            os.sync()
            intake[kind] = self.signups(insts[kind], "intake", seconds, "k", f"_{kind}")
        for kind in kinds:
            os.sync()
            fold[kind] = self.fold_alone(insts[kind], seconds if self.o.smoke else 4 * seconds, f"_{kind}", 0.05)
        # Every record is under version 2; the token's are wrapped by it
        # (wrap format 3, crypto/field_codec.hpp), the file's by the keyring.
        wraps = {}
        for kind in kinds:
            inst = insts[kind]
            total = inst.query("SELECT count(*) FROM supporters")
            other = inst.query("SELECT count(*) FROM supporters WHERE key_version != 2")  # `version`
            by_token = inst.query("SELECT count(*) FROM supporters WHERE substr(wrapped_key, 1, 1) = x'03'")
            wraps[kind] = {"records": total, "other_versions": other, "token_wrapped": by_token}
            expected = total if kind == "token" else 0
            if other != 0 or by_token != expected:
                raise RuntimeError(f"token provider: the {kind} instance holds {other} records not under version "
                                   f"{version} and {by_token} of {total} wrapped by a token (expected {expected})")
            log(f"token provider: {kind} instance, {total:,} records, all under key version {version}, "
                f"{by_token:,} wrapped by the token")

        secs = "1" if self.o.smoke else "2" if self.o.quick else "3"
        lookups = {}
        for kind in kinds:
            inst = insts[kind]
            lookups[kind] = self.tool_figures("lookup", "--config", inst.config, "--count", str(n), "--phones",
                                              str(phones), "--seconds", secs, "--threads", "1", "--modes",
                                              "read,reveal", env=inst.env, keep=False)
        alone = self.token_wrap_alone()
        shows = self.o.shows if self.o.smoke else max(self.o.shows, 10)
        emails = subprocess.run([self.tool, "emails", "--count", str(n), "--sample", str(shows)],
                                capture_output=True, text=True, check=True).stdout.split()
        show_ms = {kind: [] for kind in kinds}
        for e in emails:
            for kind in kinds:
                inst = insts[kind]
                s, _, _ = run_measured([self.rempart, "supporters", "show", "--email", e, "--config", inst.config],
                                       inst.env)
                show_ms[kind].append(s * 1000)
        self.raw["token_provider"] = {"records": n, "key_version": version, "wraps": wraps, "intake": intake,
                                      "fold": fold, "lookup": lookups, "show_ms": show_ms, "wrap_alone": alone}
        f, t = lookups["file"], lookups["token"]
        show = {kind: statistics.median(show_ms[kind]) for kind in kinds}
        log(f"token provider: fold {fold['token'] or 0:.0f}/s against {fold['file'] or 0:.0f}/s, "
            f"read {t['lookup.read_mean_us']:.1f} µs against {f['lookup.read_mean_us']:.1f}, "
            f"reveal {t['lookup.per_s']:.0f}/s against {f['lookup.per_s']:.0f}/s, "
            f"show {show['token']:.0f} ms against {show['file']:.0f} ms")

        self.row("record keys in a PKCS#11 token (SoftHSM2): fold rate, keeper alone on the intake-alone backlog",
                 fold["token"], "/s", "same, key file", fold["file"])
        if alone and fold["token"] and fold["file"]:
            self.row("  what the token adds to each folded item (1/rate, token's less the file's)",
                     1e6 / fold["token"] - 1e6 / fold["file"], "µs",
                     "one wrap in the token alone (rempart_token_bench)", alone["token_wrap"])
        self.row(f"  records wrapped by the token (version {version}, synth {n:,} + folded)",
                 wraps["token"]["token_wrapped"], "", "records", wraps["token"]["records"], goal="all",
                 ok=wraps["token"]["token_wrapped"] == wraps["token"]["records"])
        self.row("  lookup by e-mail + opening, in process, read-only, one thread, mean", t["lookup.read_mean_us"],
                 "µs", "same, key file", f["lookup.read_mean_us"])
        if alone:
            self.row("  same, what the token adds to each (token's mean less the file's)",
                     t["lookup.read_mean_us"] - f["lookup.read_mean_us"], "µs",
                     "one unwrap in the token alone (rempart_token_bench)", alone["token"])
            self.row("  one unwrap in the token alone (rempart_token_bench)", alone["token"], "µs",
                     "one unwrap in the key file alone", alone["file"])
        self.row("  audited reveal, in process, one thread", t["lookup.per_s"], "/s", "same, key file",
                 f["lookup.per_s"])
        self.row("  same, mean", t["lookup.mean_us"], "µs", "same, key file", f["lookup.mean_us"])
        self.row("  supporters show --email, p50 (process start included)", show["token"], "ms", "same, key file",
                 show["file"])

    def token_wrap_alone(self):
        """A data key's wrap and unwrap in a SoftHSM2 token and in the key
        file alone, µs, by rempart_token_bench (bench/token_gbench.cpp, with
        a token of its own), if this build has it (scripts/bench does not
        build it)."""
        exe = os.path.join(self.build, "bench", "rempart_token_bench")
        if not os.access(exe, os.X_OK):
            self.notes.append("token provider: no rempart_token_bench in this build, so no unwrap alone beside "
                              "(cmake --build BUILD --target rempart_token_bench)")
            return None
        min_time = "0.05" if self.o.smoke else "0.2"
        r = subprocess.run([exe, "--benchmark_format=json",
                            "--benchmark_filter=^BM_(TokenSeal|TokenOpen|FileWrap|FileUnwrap)$",
                            f"--benchmark_min_time={min_time}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"rempart_token_bench failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        to_us = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
        names = {"BM_TokenOpen": "token", "BM_FileUnwrap": "file", "BM_TokenSeal": "token_wrap",
                 "BM_FileWrap": "file_wrap"}
        out = {}
        for b in json.loads(r.stdout)["benchmarks"]:
            if b["name"] in names:
                out[names[b["name"]]] = b["real_time"] * to_us[b["time_unit"]]
        if set(out) != set(names.values()):
            raise RuntimeError(f"rempart_token_bench reported only {', '.join(sorted(out))}")
        return out

    # -- output ----------------------------------------------------------------
    def table(self):
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

        lines = ["| figure | value | baseline (same run) | baseline value | ratio | goal | met |",
                 "| --- | ---: | --- | ---: | ---: | --- | --- |"]
        for r in self.rows:
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
            met = "-" if r["ok"] is None else ("yes" if r["ok"] else "NO")
            lines.append(f"| {r['figure']} | {fmt(r['value'])} {r['unit']} | {r['baseline_name'] or '-'} | "
                         f"{fmt(r['baseline'])} | {ratio} | {r['goal'] or '-'} | {met} |")
        return "\n".join(lines)

    def run(self):
        started = time.monotonic()
        # Other work on the machine skews absolute figures (ratios less so).
        self.load_at_start = round(os.getloadavg()[0], 2)
        steps = [("intake", self.intake), ("crypto", self.crypto), ("lookups", self.import_and_lookups),
                 ("big", self.big if self.o.big_rows else None), ("audit", self.audit),
                 ("mailing", self.mailing), ("token", self.token_provider)]
        for name, fn in steps:
            if fn is None or (self.o.only and name not in self.o.only):
                continue
            log(f"{name} ...")
            fn()
        elapsed = time.monotonic() - started
        meta = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if self.o.quick else "full",
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "kernel": platform.release(),
            "wrk": f"-t{self.o.wrk_threads} -c{self.o.connections} -d{self.o.duration}s",
            "rows": self.o.rows,
            "big_rows": self.o.big_rows,
            "seconds": round(elapsed, 1),
            "loadavg_at_start": self.load_at_start,
            "perf_group_size": self.perf,
            "only": self.o.only,
        }
        table = self.table()
        print(f"\nrempart benchmarks, {meta['date']}, {meta['cpus']} CPUs ({meta['cpu']}), "
              f"{meta['mode']} mode, {meta['seconds']} s, load average at start {meta['loadavg_at_start']}\n")
        print(table)
        for n in self.notes:
            print(f"\nnote: {n}")
        with open(self.o.out, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "rows": self.rows, "raw": self.raw, "notes": self.notes}, f, indent=1)
        print(f"\nbench: results written to {os.path.abspath(self.o.out)}")

    def cleanup(self):
        if self.o.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_mib(pid):
    """Peak resident set of a live process."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024.0


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            return m.group(1).strip() if m else platform.machine()
    except OSError:
        return platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="Release build directory (with -DREMPART_BENCH=ON)")
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--quick", action="store_true", help="small N and short loads (~1 minute)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny N and 2 s loads: checks that every benchmark still runs (CI); figures mean little")
    ap.add_argument("--duration", type=int, help="seconds of each HTTP load (default 20, quick 4)")
    ap.add_argument("--rows", type=int, help="rows imported / synthesised (default 120000, quick 10000)")
    ap.add_argument("--phones", type=int, help="how many of them have a phone (default rows/6)")
    ap.add_argument("--big-rows", type=int,
                    help="supporters of the large base (synth, lookups, RSS of serve under load); "
                         "default 1000000 in full mode, 0 (skipped) in quick and smoke")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--api-connections", type=int, default=16, help="wrk connections of the admin API searches")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--shows", type=int, help="`supporters show` runs (default 20, quick 5)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instances")
    ap.add_argument("--only", metavar="PART,...", help="these parts alone, comma-separated: " + ",".join(PARTS))
    o = ap.parse_args()
    if o.only:
        o.only = o.only.split(",")
        unknown = [p for p in o.only if p not in PARTS]
        if unknown:
            ap.error(f"--only: no part {', '.join(unknown)} (parts: {','.join(PARTS)})")
    o.build = os.path.abspath(o.build)  # programs run with other working directories
    if o.smoke:
        o.quick = True
        o.duration = o.duration or 2
        o.rows = o.rows or 2000
        o.shows = o.shows or 2
    o.audit_entries = 20000 if o.smoke else 100000 if o.quick else 1000000
    o.duration = o.duration or (4 if o.quick else 20)
    o.rows = o.rows or (10000 if o.quick else 120000)
    o.phones = o.phones if o.phones is not None else min(50000, o.rows // 6)
    o.shows = o.shows or (5 if o.quick else 20)
    o.mail_recipients = 400 if o.smoke else 10000 if o.quick else 120000
    if o.big_rows is None:
        o.big_rows = 0 if o.quick else 1000000
    b = Bench(o)
    try:
        b.run()
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
