#!/usr/bin/env python3
"""The transcript-import benchmark: `cost-tracker import claude-code|openclaw` on
generated trees, on SQLite and Postgres, checked against the trees' ground truth and
compared with ccusage.

    run_import_bench.py --binary PATH --workdir DIR [--size 1G] [--backends sqlite,postgres]
                        [--importers claude-code,openclaw] [--reuse] [--no-ccusage]

Steps:
 1. Generates WORKDIR/trees/claude-code-<size>/ and openclaw-<size>/ with
    gen_agent_logs.py (beside this script; --reuse keeps a tree whose expected.json was
    written with the same parameters).
 2. For each backend and importer: a fresh database (SQLite: WORKDIR/db/<importer>.db;
    Postgres: database ct_import_bench_<importer> at --pg-url, dropped and created with
    psql), `cost-tracker migrate`, then the full import, then the same import again
    (nothing changed), each measured: wall time, peak RSS (os.wait4's ru_maxrss, no
    /usr/bin/time needed), CPU time. After each import the database totals
    (SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens),
    SUM(cache_write_5m_tokens+cache_write_1h_tokens), SUM(cache_read_tokens) FROM
    usage_records, plus the 1-hour cache writes and the calls per session_type) must
    equal expected.json, and the report's files, lines and calls must match the tree.
 3. ccusage (npm ccusage@20.0.24, installed into ~/.cache/cost-tracker/ccusage when
    missing; skipped with a message when it cannot be): `ccusage claude daily --json
    --offline` with CLAUDE_CONFIG_DIR=<claude tree> and TZ=UTC (the claude subcommand,
    so that no other agent's data on this machine is read), and `ccusage openclaw daily
    --json --offline --open-claw-path <openclaw tree>`: time, peak RSS, and whether its
    token totals agree with ours and with expected.json.
 4. Prints a table with the targets (full import <= 20 s per GiB of tree, i.e. 20 s for
    --size 1G; re-run <= 1 s; peak RSS <= 300 MiB) and writes WORKDIR/results.json.

Exit status: 1 when a run failed or a total disagrees with expected.json; missed
targets and ccusage differences are reported, not fatal (--strict-ccusage makes a
ccusage disagreement fatal). Sizes are powers of 1024 (1G = 1 GiB, MiB/s = 2^20 B/s).
The trees are read from the page cache (they were just written or read): these are
warm-cache numbers.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "gen_agent_logs.py")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
from gen_agent_logs import GENERATOR_VERSION, fmt_size, parse_size  # noqa: E402

GIB = 1 << 30
MIB = 1 << 20
TARGET_FULL_S_PER_GIB = 20.0
TARGET_RERUN_S = 1.0
TARGET_RSS_MIB = 300.0
CCUSAGE_VERSION = "20.0.24"  # 20.0.26 ships without its linux-x64 binary
CCUSAGE_PREFIX = os.path.join(os.path.expanduser("~"), ".cache", "cost-tracker", "ccusage")
SCRUBBED_ENV = ("DATABASE_URL", "COST_TRACKER_API_KEY")
SCRUBBED_PREFIXES = ("OPENCLAW_", "CLAUDE_", "IMPORT_")

TOTALS_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(input_tokens),0), COALESCE(SUM(output_tokens),0), "
    "COALESCE(SUM(cache_write_5m_tokens+cache_write_1h_tokens),0), COALESCE(SUM(cache_read_tokens),0), "
    "COALESCE(SUM(cache_write_1h_tokens),0) FROM usage_records"
)
TYPES_SQL = "SELECT session_type, COUNT(*) FROM usage_records GROUP BY session_type ORDER BY session_type"
TOTAL_FIELDS = ("calls", "input", "output", "cache_creation", "cache_read", "cache_creation_1h")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- processes


def measure(cmd, env=None, cwd=None, stdout_path=None, stderr_path=None, timeout=None):
    """Runs cmd; returns rc, wall seconds, peak RSS (MiB, the process and its waited-for
    children), user and system CPU seconds."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    killed = []
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = None
        if timeout:
            def kill():
                killed.append(True)
                try:
                    proc.send_signal(signal.SIGKILL)
                except OSError:
                    pass
            timer = threading.Timer(timeout, kill)
            timer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for f in (out, err):
            if f is not subprocess.DEVNULL:
                f.close()
    return {
        "rc": proc.returncode,
        "timed_out": bool(killed),
        "wall_s": round(wall, 3),
        "rss_mib": round(ru.ru_maxrss / 1024, 1),  # ru_maxrss is KiB on Linux
        "user_s": round(ru.ru_utime, 2),
        "sys_s": round(ru.ru_stime, 2),
    }


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


def binary_env(database_url):
    env = {k: v for k, v in os.environ.items()
           if k not in SCRUBBED_ENV and not k.startswith(SCRUBBED_PREFIXES)}
    env["DATABASE_URL"] = database_url
    env.setdefault("RUST_LOG", "warn")
    return env


# ----------------------------------------------------------------------------- trees


def tree_bytes(root):
    """Bytes of the transcripts (every file but expected.json and the stores' JSON)."""
    total = files = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name == "expected.json" or name.endswith(".meta.json") or name == "sessions.json":
                continue
            total += os.path.getsize(os.path.join(dirpath, name))
            files += 1
    return total, files


def generate(kind, path, size, seed, files, dup, agents, reuse):
    want = {"kind": kind, "target_bytes": size, "seed": seed,
            "files": files if kind == "claude-code" else None,
            "dup": dup if kind == "claude-code" else None,
            "agents": agents if kind == "openclaw" else None}
    exp_path = os.path.join(path, "expected.json")
    if reuse and os.path.exists(exp_path):
        with open(exp_path) as f:
            expected = json.load(f)
        have = {k: expected.get("params", {}).get(k) for k in want}
        if have == want and expected.get("generator_version") == GENERATOR_VERSION:
            log(f"reusing {path} (generated in {expected.get('generated_seconds')} s)")
            return expected, True
        log(f"not reusing {path}: it was generated with {have}, version {expected.get('generator_version')}")
    cmd = [sys.executable, GENERATOR, kind, path, "--bytes", str(size), "--seed", str(seed), "--force"]
    if kind == "claude-code":
        cmd += ["--files", str(files), "--dup", str(dup)]
    else:
        cmd += ["--agents", str(agents)]
    log("generating: " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(exp_path) as f:
        return json.load(f), False


# ----------------------------------------------------------------------------- databases


class Sqlite:
    name = "sqlite"

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "db")
        os.makedirs(self.dir, exist_ok=True)

    def fresh(self, importer):
        path = os.path.join(self.dir, importer + ".db")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        self.path = path
        return "sqlite://" + path

    def query(self, sql):
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return [tuple(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()

    def size_bytes(self):
        return sum(os.path.getsize(self.path + s) for s in ("", "-wal") if os.path.exists(self.path + s))


class Postgres:
    name = "postgres"

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.query_string = parts.query
        if not shutil.which("psql"):
            raise RuntimeError("psql is not installed (apt-get install postgresql-client)")
        self.admin("SELECT 1")

    def url(self, db):
        return self.base + "/" + db + ("?" + self.query_string if self.query_string else "")

    def psql(self, db, sql):
        r = subprocess.run(["psql", self.url(db), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "|", "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql {db}: {r.stderr.strip()}")
        return r.stdout

    def admin(self, sql):
        return self.psql("postgres", sql)

    def fresh(self, importer):
        self.db = "ct_import_bench_" + importer.replace("-", "_")
        self.admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        self.admin(f"CREATE DATABASE {self.db}")
        return self.url(self.db)

    def query(self, sql):
        rows = []
        for line in self.psql(self.db, sql).splitlines():
            if line:
                rows.append(tuple(int(x) if x.lstrip("-").isdigit() else x for x in line.split("|")))
        return rows

    def size_bytes(self):
        return int(self.psql(self.db, f"SELECT pg_database_size('{self.db}')").strip())


def db_totals(store):
    row = store.query(TOTALS_SQL)[0]
    totals = {k: int(v or 0) for k, v in zip(TOTAL_FIELDS, row)}
    types = {str(t): int(n) for t, n in store.query(TYPES_SQL)}
    return totals, types


def expected_totals(expected):
    t = expected["tokens"]
    return {"calls": expected["calls"], "input": t["input"], "output": t["output"],
            "cache_creation": t["cache_creation"], "cache_read": t["cache_read"],
            "cache_creation_1h": t["cache_creation_1h"]}


def compare(got, want):
    """The fields that differ: {field: (got, want)}."""
    return {k: (got.get(k, 0), want.get(k, 0)) for k in sorted(set(got) | set(want))
            if got.get(k, 0) != want.get(k, 0)}


# ----------------------------------------------------------------------------- imports


def read_report(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    try:
        return json.loads(text)
    except ValueError:
        start = text.find("{")
        try:
            return json.loads(text[start:]) if start >= 0 else None
        except ValueError:
            return None


def brief_report(report):
    if not report:
        return None
    keep = ("files_scanned", "files_unchanged", "files_restarted", "lines_read", "calls", "created",
            "updated", "unchanged", "duration_ms")
    out = {k: report.get(k) for k in keep}
    out["skipped"] = {k: v.get("count") for k, v in (report.get("skipped") or {}).items()}
    out["errors"] = report.get("errors") or []
    out["unreadable_roots"] = report.get("unreadable_roots") or []
    return out


def import_run(args, store, importer, tree, expected, logs):
    """migrate, full import, re-run, with their checks."""
    result = {"backend": store.name, "importer": importer, "failures": [], "warnings": []}
    fail = result["failures"].append
    warn = result["warnings"].append
    try:
        url = store.fresh(importer)
    except Exception as err:  # noqa: BLE001
        fail(f"could not create the database: {err}")
        return result
    env = binary_env(url)
    cwd = os.path.join(args.workdir, "run")  # an empty directory: no .env is read
    os.makedirs(cwd, exist_ok=True)
    stem = os.path.join(logs, f"{store.name}-{importer}")
    m = measure([args.binary, "migrate"], env, cwd, stem + "-migrate.out", stem + "-migrate.err", 600)
    result["migrate"] = m
    if m["rc"] != 0:
        fail(f"cost-tracker migrate exited {m['rc']}: {tail(stem + '-migrate.err')}")
        return result
    cmd = [args.binary, "import", importer, "--root", tree]
    want = expected_totals(expected)
    want_types = {k: v for k, v in expected["by_session_type"].items() if v}
    for phase in ("full", "rerun"):
        log(f"{store.name} {importer}: {phase} import ...")
        m = measure(cmd, env, cwd, f"{stem}-{phase}.json", f"{stem}-{phase}.err", args.timeout)
        report = read_report(f"{stem}-{phase}.json")
        m["report"] = brief_report(report)
        m["mib_per_s"] = round(expected["bytes"] / MIB / max(m["wall_s"], 1e-9), 1)
        result[phase] = m
        log(f"  {m['wall_s']} s, {m['mib_per_s']} MiB/s, peak RSS {m['rss_mib']} MiB")
        if m["timed_out"]:
            fail(f"{phase}: killed after {args.timeout} s")
        if m["rc"] != 0:
            fail(f"{phase}: exited {m['rc']}: {tail(stem + '-' + phase + '.err')}")
        if report is None:
            fail(f"{phase}: no JSON report on stdout (see {stem}-{phase}.json)")
            return result
        if report.get("errors") or report.get("unreadable_roots"):
            fail(f"{phase}: the report has errors: {(report.get('errors') or report.get('unreadable_roots'))[:3]}")
        try:
            totals, types = db_totals(store)
        except Exception as err:  # noqa: BLE001
            fail(f"{phase}: could not read the totals: {err}")
            return result
        m["db_totals"] = totals
        m["db_session_types"] = types
        diff = compare(totals, want)
        if diff:
            fail(f"{phase}: database totals differ from expected.json: "
                 + ", ".join(f"{k} {g} != {w}" for k, (g, w) in diff.items()))
        diff = compare(types, want_types)
        if diff:
            fail(f"{phase}: calls per session_type differ: "
                 + ", ".join(f"{k} {g} != {w}" for k, (g, w) in diff.items()))
        rep = expected["importer_report"]
        if phase == "full":
            checks = {"files_scanned": expected["files"], "lines_read": expected["lines"],
                      "calls": rep["calls"], "created": expected["calls"]}
            for field, value in checks.items():
                if report.get(field) != value:
                    fail(f"full: report {field} = {report.get(field)}, expected {value}")
            skipped = {k: (v or {}).get("count", 0) for k, v in (report.get("skipped") or {}).items()}
            for field in ("synthetic_model", "error_turn", "gateway_injected"):
                if field in rep and skipped.get(field, 0) != rep[field]:
                    warn(f"full: report skipped.{field} = {skipped.get(field, 0)}, the tree has {rep[field]}")
            if importer == "claude-code" and report.get("updated") != rep.get("larger_after_smaller"):
                warn(f"full: report updated = {report.get('updated')}; the tree has "
                     f"{rep.get('larger_after_smaller')} calls whose larger version comes later in import order")
        else:
            if report.get("created") or report.get("updated"):
                fail(f"rerun: created {report.get('created')}, updated {report.get('updated')} on an unchanged tree")
            if report.get("lines_read"):
                warn(f"rerun: read {report.get('lines_read')} lines of an unchanged tree")
            if report.get("files_unchanged") != report.get("files_scanned"):
                warn(f"rerun: {report.get('files_unchanged')} of {report.get('files_scanned')} files unchanged")
    try:
        result["db_bytes"] = store.size_bytes()
    except Exception:  # noqa: BLE001
        pass
    return result


# ----------------------------------------------------------------------------- ccusage


def ccusage_binary(prefix, version, install):
    """The ccusage executable (the native binary when the platform package is there), or
    (None, why)."""
    pkg = os.path.join(prefix, "node_modules", "ccusage", "package.json")

    def installed():
        try:
            with open(pkg) as f:
                return json.load(f).get("version")
        except (OSError, ValueError):
            return None

    if installed() != version:
        if not install:
            return None, f"ccusage {version} is not installed in {prefix}"
        npm = shutil.which("npm")
        if not npm:
            return None, "npm is not installed"
        log(f"installing ccusage@{version} into {prefix} ...")
        try:
            r = subprocess.run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund",
                                f"ccusage@{version}"], capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return None, "npm install timed out"
        if r.returncode != 0 or installed() != version:
            return None, "npm install failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower())
    native = os.path.join(prefix, "node_modules", "@ccusage", f"ccusage-{sys.platform}-{machine}",
                          "bin", "ccusage")
    if os.access(native, os.X_OK):
        return native, None
    wrapper = os.path.join(prefix, "node_modules", ".bin", "ccusage")
    if os.access(wrapper, os.X_OK):
        return wrapper, None
    return None, f"no ccusage executable under {prefix}"


def ccusage_run(exe, importer, tree, expected, logs, timeout):
    env = dict(os.environ)
    env["TZ"] = "UTC"
    for k in list(env):
        if k.startswith(("CLAUDE_", "OPENCLAW_")):
            del env[k]
    if importer == "claude-code":
        cmd = [exe, "claude", "daily", "--json", "--offline"]
        env["CLAUDE_CONFIG_DIR"] = tree
    else:
        cmd = [exe, "openclaw", "daily", "--json", "--offline", "--open-claw-path", tree]
    stem = os.path.join(logs, f"ccusage-{importer}")
    log(f"ccusage {importer}: {' '.join(cmd[1:])} ...")
    m = measure(cmd, env, None, stem + ".json", stem + ".err", timeout)
    m["command"] = " ".join(["ccusage"] + cmd[1:]) + (f"  (CLAUDE_CONFIG_DIR={tree}, TZ=UTC)"
                                                     if importer == "claude-code" else "  (TZ=UTC)")
    m["mib_per_s"] = round(expected["bytes"] / MIB / max(m["wall_s"], 1e-9), 1)
    log(f"  {m['wall_s']} s, peak RSS {m['rss_mib']} MiB")
    if m["rc"] != 0:
        m["error"] = f"exited {m['rc']}: {tail(stem + '.err')}"
        return m
    try:
        with open(stem + ".json") as f:
            data = json.load(f)
    except ValueError as err:
        m["error"] = f"not JSON: {err}"
        return m
    t = data.get("totals") or {}
    m["totals"] = {"input": t.get("inputTokens"), "output": t.get("outputTokens"),
                   "cache_creation": t.get("cacheCreationTokens"), "cache_read": t.get("cacheReadTokens"),
                   "total": t.get("totalTokens"), "cost_usd": t.get("totalCost")}
    days = data.get("daily") or []
    m["days"] = len(days)
    summed = {f: sum(d.get(k) or 0 for d in days) for f, k in (
        ("input", "inputTokens"), ("output", "outputTokens"), ("cache_creation", "cacheCreationTokens"),
        ("cache_read", "cacheReadTokens"))}
    if any(summed[f] != m["totals"][f] for f in summed):
        m["daily_sum_differs"] = summed
    return m


# ----------------------------------------------------------------------------- output


def mark(ok):
    return "ok" if ok else "MISS"


def print_table(res):
    size = res["size_bytes"]
    full_target = TARGET_FULL_S_PER_GIB * size / GIB
    print()
    print(f"Import benchmark: --size {res['size']}, binary {res['binary']}")
    if res["debug_binary"]:
        print("  (a debug build: the targets are for the release build)")
    print()
    print(f"{'tree':<12} {'MiB':>9} {'files':>7} {'lines':>10} {'calls':>9} {'dup lines':>9} {'generated':>12}")
    for kind, t in res["trees"].items():
        gen = "reused" if t["reused"] else f"{t['generated_seconds']} s"
        print(f"{kind:<12} {t['bytes'] / MIB:>9.1f} {t['files']:>7} {t['lines']:>10} {t['calls']:>9} "
              f"{t['duplicate_lines']:>9} {gen:>12}")
        if not t["reused"]:
            print(f"{'':<12} generator: {t['generated_mib_per_s']} MiB/s, "
                  f"{t['generated_seconds'] * GIB / max(t['bytes'], 1):.1f} s per GiB")
    print()
    head = (f"{'backend':<9} {'importer':<12} {'migrate s':>9} {'full s':>9} {'MiB/s':>7} {'RSS MiB':>8} "
            f"{'re-run s':>9} {'re-run RSS':>10} {'DB MiB':>7}  totals")
    print(head)
    print("-" * len(head))
    for r in res["runs"]:
        f, rr = r.get("full") or {}, r.get("rerun") or {}

        def cell(v, w, fmt="{:.2f}"):
            return f"{fmt.format(v) if v is not None else '-':>{w}}"
        totals = "FAIL" if r["failures"] else "ok"
        print(f"{r['backend']:<9} {r['importer']:<12} {cell((r.get('migrate') or {}).get('wall_s'), 9)} "
              f"{cell(f.get('wall_s'), 9)} {cell(f.get('mib_per_s'), 7, '{:.1f}')} "
              f"{cell(f.get('rss_mib'), 8, '{:.0f}')} {cell(rr.get('wall_s'), 9)} "
              f"{cell(rr.get('rss_mib'), 10, '{:.0f}')} {cell(r['db_bytes'] / MIB if r.get('db_bytes') else None, 7, '{:.0f}')}  "
              f"{totals}")
        if f.get("wall_s") is not None:
            print(f"{'':<22} targets: full {mark(f['wall_s'] <= full_target)}, "
                  f"re-run {mark(rr.get('wall_s', 1e9) <= TARGET_RERUN_S)}, "
                  f"RSS {mark(max(f.get('rss_mib', 0), rr.get('rss_mib', 0)) <= TARGET_RSS_MIB)}")
        for msg in r["failures"]:
            print(f"{'':<22} FAIL: {msg}")
        for msg in r["warnings"]:
            print(f"{'':<22} note: {msg}")
    print()
    print(f"targets: full import <= {TARGET_FULL_S_PER_GIB:.0f} s per GiB (here {full_target:.2f} s), "
          f"re-run <= {TARGET_RERUN_S:.0f} s, peak RSS <= {TARGET_RSS_MIB:.0f} MiB")
    cc = res.get("ccusage")
    if not cc:
        return
    print()
    if cc.get("skipped"):
        print(f"ccusage: skipped ({cc['skipped']})")
        return
    print(f"ccusage {cc['version']} ({cc['executable']}):")
    for importer, c in cc["runs"].items():
        print(f"  {importer}: {c['command']}")
        if c.get("error"):
            print(f"    FAILED: {c['error']}")
            continue
        print(f"    {c['wall_s']:.2f} s, {c['mib_per_s']} MiB/s, peak RSS {c['rss_mib']:.0f} MiB, "
              f"{c['days']} days; tokens in/out/cache write/cache read = "
              f"{c['totals']['input']}/{c['totals']['output']}/{c['totals']['cache_creation']}/"
              f"{c['totals']['cache_read']}, cost ${c['totals']['cost_usd']}")
        d = c["vs_expected"]
        print(f"    vs expected.json: {'agree' if not d else 'DIFFER ' + json.dumps(d)}")
        for backend, d in c["vs_ours"].items():
            print(f"    vs ours ({backend}): {'agree' if not d else 'DIFFER ' + json.dumps(d)}")
        if c.get("explanation"):
            print(f"    explained: {c['explanation']}")
        elif c["vs_expected"]:
            print("    not explained by the known ccusage differences: look at the tree")
        for backend, ratio in c["time_ratio"].items():
            word = "faster" if ratio >= 1 else "slower"
            print(f"    time ccusage / ours ({backend} full import) = {ratio:.2f} "
                  f"(ours {max(ratio, 1 / ratio):.2f}x {word})")
        if c.get("note"):
            print(f"    note: {c['note']}")


def machine_info():
    info = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / (1 << 20), 1)
    except OSError:
        pass
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--binary", required=True, help="the cost-tracker binary (the release build)")
    p.add_argument("--workdir", required=True, help="trees, databases, logs and results.json go here")
    p.add_argument("--size", default="1G", help="size of each tree (default 1G)")
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--importers", default="claude-code,openclaw")
    p.add_argument("--reuse", action="store_true", help="keep trees generated earlier with the same parameters")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--files", type=int, help="claude-code session files (default 2000 per GiB)")
    p.add_argument("--dup", type=float, default=0.4)
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
                   help="Postgres server (the database part is ignored)")
    p.add_argument("--no-ccusage", action="store_true")
    p.add_argument("--ccusage-prefix", default=CCUSAGE_PREFIX, help=f"npm prefix of ccusage (default {CCUSAGE_PREFIX})")
    p.add_argument("--no-install", action="store_true", help="do not npm install ccusage when it is missing")
    p.add_argument("--strict-ccusage", action="store_true", help="fail when ccusage's totals differ")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    args = p.parse_args()

    args.binary = os.path.abspath(args.binary)
    args.workdir = os.path.abspath(args.workdir)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"not an executable: {args.binary}")
    size = parse_size(args.size)
    files = args.files or max(10, round(2000 * size / GIB))
    importers = [i for i in args.importers.split(",") if i]
    backends = [b for b in args.backends.split(",") if b]
    for i in importers:
        if i not in ("claude-code", "openclaw"):
            sys.exit(f"unknown importer {i}")
    for b in backends:
        if b not in ("sqlite", "postgres"):
            sys.exit(f"unknown backend {b}")
    os.makedirs(args.workdir, exist_ok=True)
    logs = os.path.join(args.workdir, "logs")
    os.makedirs(logs, exist_ok=True)
    label = fmt_size(size)

    res = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "binary": args.binary,
        "debug_binary": f"{os.sep}debug{os.sep}" in args.binary,
        "size": label,
        "size_bytes": size,
        "machine": machine_info(),
        "targets": {"full_import_s_per_gib": TARGET_FULL_S_PER_GIB, "full_import_s": TARGET_FULL_S_PER_GIB * size / GIB,
                    "rerun_s": TARGET_RERUN_S, "peak_rss_mib": TARGET_RSS_MIB},
        "trees": {},
        "runs": [],
    }
    try:
        res["binary_mtime"] = datetime.fromtimestamp(os.path.getmtime(args.binary), timezone.utc).isoformat(
            timespec="seconds")
    except OSError:
        pass

    trees, expecteds = {}, {}
    for kind in importers:
        path = os.path.join(args.workdir, "trees", f"{kind}-{label}")
        expected, reused = generate(kind, path, size, args.seed, files, args.dup, args.agents, args.reuse)
        actual_bytes, actual_files = tree_bytes(path)
        if actual_bytes != expected["bytes"] or actual_files != expected["files"]:
            sys.exit(f"{path} does not match its expected.json ({actual_bytes} B in {actual_files} files, "
                     f"expected {expected['bytes']} B in {expected['files']}): delete it and run again")
        trees[kind], expecteds[kind] = path, expected
        res["trees"][kind] = {
            "path": path, "reused": reused, "bytes": expected["bytes"], "files": expected["files"],
            "lines": expected["lines"], "calls": expected["calls"],
            "duplicate_lines": expected.get("duplicate_lines", expected.get("repeated_lines", 0)),
            "generated_seconds": expected["generated_seconds"],
            "generated_mib_per_s": expected["generated_mib_per_s"],
        }

    failed = False
    for backend in backends:
        try:
            store = Sqlite(args.workdir) if backend == "sqlite" else Postgres(args.pg_url)
        except Exception as err:  # noqa: BLE001
            for kind in importers:
                res["runs"].append({"backend": backend, "importer": kind, "warnings": [],
                                    "failures": [f"backend unavailable: {err}"]})
            failed = True
            continue
        for kind in importers:
            r = import_run(args, store, kind, trees[kind], expecteds[kind], logs)
            res["runs"].append(r)
            failed |= bool(r["failures"])

    if not args.no_ccusage:
        exe, why = ccusage_binary(args.ccusage_prefix, CCUSAGE_VERSION, not args.no_install)
        if exe is None:
            log(f"ccusage skipped: {why}")
            res["ccusage"] = {"skipped": why}
        else:
            cc = {"version": CCUSAGE_VERSION, "executable": exe, "runs": {}}
            for kind in importers:
                c = ccusage_run(exe, kind, trees[kind], expecteds[kind], logs, args.timeout)
                if not c.get("error"):
                    t = c["totals"]
                    mine = {k: t[k] for k in ("input", "output", "cache_creation", "cache_read")}
                    want = {k: v for k, v in expected_totals(expecteds[kind]).items() if k in mine}
                    c["vs_expected"] = compare(mine, want)
                    variant = (expecteds[kind].get("ccusage_variants") or {}).get("daily")
                    if c["vs_expected"] and variant:
                        vt = {k: variant["tokens"][k] for k in mine}
                        c["explained"] = not compare(mine, vt)
                        if c["explained"]:
                            c["explanation"] = (
                                f"equal to expected.json's ccusage_variants.daily: in {variant['calls_differing']} "
                                f"calls {expecteds[kind]['ccusage_variants']['why']} "
                                f"({variant['output_difference']:+d} output tokens)")
                    c["vs_ours"] = {}
                    c["time_ratio"] = {}
                    for r in res["runs"]:
                        if r["importer"] != kind or not (r.get("full") or {}).get("db_totals"):
                            continue
                        ours = {k: r["full"]["db_totals"][k] for k in mine}
                        c["vs_ours"][r["backend"]] = compare(mine, ours)
                        c["time_ratio"][r["backend"]] = round(c["wall_s"] / max(r["full"]["wall_s"], 1e-9), 2)
                    if kind == "openclaw":
                        c["note"] = (f"expected estimated cost (sum of usage.cost.total) "
                                     f"${expecteds[kind].get('estimated_cost_usd')}")
                    if args.strict_ccusage and not c.get("explained") and (
                            c["vs_expected"] or any(c["vs_ours"].values())):
                        failed = True
                elif args.strict_ccusage:
                    failed = True
                cc["runs"][kind] = c
            res["ccusage"] = cc

    res["ok"] = not failed
    res["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = os.path.join(args.workdir, "results.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print_table(res)
    print(f"\nresults: {out}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
