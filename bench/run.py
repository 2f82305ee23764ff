"""Speed and memory of our engine side by side with bm25s and tantivy, in one run, on the same files.

For each engine, on synthetic corpora from ``bench/synth.py``:

- **index build** (in-process, after loading the file) and **single-query latency** p50/p95
  (in-process, one request at a time, after a warm-up), each in a fresh subprocess per
  repetition so that no cache survives between repetitions;
- **whole-process batch**: a subprocess that loads the files, builds the index, answers every
  request and writes the output CSV (ours: ``python -m matching batch``; peers:
  ``bench/peers.py batch``): wall time, requests/s, peak memory. Peak memory is the peak of
  the summed PSS of the process tree (smaps_rollup, polled every 100 ms or 20 times the poll's
  own duration, whichever is longer, so that polling takes at most a twentieth of a core from
  the engine measured; forked workers sharing the index copy-on-write are not double counted),
  and the largest single process's max RSS
  (``wait4``'s ``ru_maxrss``);
- **backlog scaling** (ours only): the same batch with a growing backlog, to check that peak
  memory stays flat;
- the **ratio** ours/peer of each figure, and the issue-5 targets.

Medians over ``--repeat`` repetitions, the engines measured in turn within each repetition
(the machine's speed drifts by tens of percent over minutes). Results are printed as tables and written as JSON to
``bench/out/results_<mode>.json``::

    python bench/run.py --quick          # about 3 minutes
    python bench/run.py --full           # every size, backlog up to 1,000,000 requests
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil
from synth import OUT, SOURCE_PROFILES, SOURCE_REQUESTS, synth_profiles, synth_requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
ENGINES = ("ours", "bm25s", "tantivy")
PEERS = ("bm25s", "tantivy")
MiB = 1024 * 1024


@dataclass
class Mode:
    """What one run measures."""

    inproc_sizes: list[int]
    batch_sizes: list[int]  # profile counts for the whole-process batch
    batch_requests: int
    backlogs: list[int]  # our engine only
    backlog_profiles: int
    repeat: int
    queries: int  # single queries timed per in-process run
    batch_repeat: dict[str, int] = field(default_factory=dict)  # per engine, else ``repeat``


MODES = {
    "quick": Mode(
        inproc_sizes=[1000, 10000],
        batch_sizes=[10000],
        batch_requests=20000,
        backlogs=[2000, 20000],
        backlog_profiles=1000,
        repeat=3,
        queries=150,
        batch_repeat={"ours": 2, "bm25s": 2, "tantivy": 1},
    ),
    "full": Mode(
        inproc_sizes=[1000, 10000, 100000],
        batch_sizes=[1000, 10000, 100000],
        batch_requests=20000,
        backlogs=[100000, 1000000],
        backlog_profiles=10000,
        repeat=3,
        queries=300,
    ),
}


# ---------------------------------------------------------------------------- in-process worker
def inproc(engine: str, profiles: Path, requests: Path, n_queries: int, as_of: date) -> dict[str, Any]:
    """Build time and single-query latencies of one engine, in this process."""
    import json as _json

    with open(requests, encoding="utf-8") as fh:
        texts = [_json.loads(line)["text"] for _, line in zip(range(n_queries + 10), fh, strict=False)]
    if engine == "ours":
        from matching import MatchFilters, build_matcher, load_profiles

        started = time.perf_counter()
        frame = load_profiles(profiles)
        loaded = time.perf_counter()
        matcher = build_matcher(frame)
        built = time.perf_counter()
        filters = MatchFilters(as_of=as_of)

        def one(text: str) -> object:
            return matcher.search(text, filters, top_k=10)
    else:
        from peers import make_peer, read_profiles

        started = time.perf_counter()
        base = read_profiles(profiles, as_of)
        loaded = time.perf_counter()
        peer = make_peer(engine).fit(base.texts)
        built = time.perf_counter()

        def one(text: str) -> object:
            return peer.search_many([text], 10, base.valid)

    for text in texts[:10]:  # warm-up
        one(text)
    times = []
    for text in texts[10:]:
        t0 = time.perf_counter()
        one(text)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "load_s": loaded - started,
        "build_s": built - loaded,
        "p50_ms": _percentile(times, 50),
        "p95_ms": _percentile(times, 95),
        "rss_mb": psutil.Process().memory_info().rss / MiB,
    }


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# ---------------------------------------------------------------------------- subprocess measurement
def _pss(process: psutil.Process) -> int:
    """Proportional set size in bytes: ``/proc/PID/smaps_rollup`` (cheap), else psutil's full scan."""
    try:
        with open(f"/proc/{process.pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return process.memory_full_info().pss


def measure(cmd: list[str], interval: float = 0.1) -> dict[str, Any]:
    """Run ``cmd``; return wall seconds, peak tree PSS, max RSS of one process, exit code, stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            try:
                root = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                total = 0
                polled = time.perf_counter()
                try:
                    for p in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error, OSError):
                            total += _pss(p)
                except psutil.Error:
                    break
                peak = max(peak, total)
                # Reading PSS walks the page tables of every process polled: about 35 ms for our
                # two batch processes, 4 ms for bm25s's one (2026-12-03). Every 100 ms, that was a
                # third of a core taken from the engine measured on a 2-core machine; the poll
                # now takes at most a twentieth of one core, whatever the engine.
                done.wait(max(interval, 20 * (time.perf_counter() - polled)))

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        stdout = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        thread.join()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {
        "wall_s": wall,
        "peak_pss_mb": peak / MiB,
        "max_rss_mb": usage.ru_maxrss / 1024,
        "returncode": proc.returncode,
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr": stderr,
    }


def run_inproc(engine: str, profiles: Path, requests: Path, n_queries: int, as_of: date) -> dict[str, Any]:
    cmd = [
        PYTHON,
        str(BENCH / "run.py"),
        "_inproc",
        "--engine",
        engine,
        "--profiles",
        str(profiles),
        "--requests",
        str(requests),
        "--queries",
        str(n_queries),
        "--as-of",
        as_of.isoformat(),
    ]
    result = measure(cmd, interval=0.5)
    if result["returncode"] != 0:
        raise RuntimeError(f"{engine} in-process run failed:\n{result['stderr'][-3000:]}")
    return json.loads(result["stdout"].strip().splitlines()[-1])


def batch_cmd(
    engine: str, profiles: Path, requests: Path, out: Path, as_of: date, args: argparse.Namespace
) -> list[str]:
    if engine == "ours":
        cmd = [
            PYTHON,
            "-m",
            "matching",
            "batch",
            "--profiles",
            str(profiles),
            "--requests",
            str(requests),
            "--out",
            str(out),
            "--quiet",
            "--as-of",
            as_of.isoformat(),
        ]
        return cmd + (["--workers", str(args.workers)] if args.workers else [])
    cmd = [
        PYTHON,
        str(BENCH / "peers.py"),
        "batch",
        "--engine",
        engine,
        "--profiles",
        str(profiles),
        "--requests",
        str(requests),
        "--out",
        str(out),
        "--as-of",
        as_of.isoformat(),
    ]
    return cmd + (["--threads", str(args.bm25s_threads)] if engine == "bm25s" else [])


def run_batch(
    engine: str, profiles: Path, requests: Path, n_requests: int, as_of: date, args: argparse.Namespace
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        out = Path(tmp) / f"{engine}.csv"
        result = measure(batch_cmd(engine, profiles, requests, out, as_of, args))
        if result["returncode"] != 0:
            raise RuntimeError(f"{engine} batch failed:\n{result['stderr'][-3000:]}")
        with open(out, "rb") as fh:
            rows = sum(1 for _ in fh) - 1
    return {
        "wall_s": result["wall_s"],
        "req_per_s": n_requests / result["wall_s"],
        "peak_pss_mb": result["peak_pss_mb"],
        "max_rss_mb": result["max_rss_mb"],
        "rows": rows,
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["runs"] = len(runs)
    out["all"] = {k: [round(r[k], 4) for r in runs] for k in keys}
    return out


# ---------------------------------------------------------------------------- report
def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(title: str, rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"\n== {title}", "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def comparison(
    title: str, results: dict[str, dict[int, dict]], metric: str, engines: list[str], digits: int = 2
) -> str:
    header = ["size", *engines] + [f"ours/{p}" for p in engines if p != "ours" and "ours" in engines]
    rows = []
    sizes = sorted({s for e in engines for s in results.get(e, {})})
    for size in sizes:
        values = {e: results.get(e, {}).get(size, {}).get(metric) for e in engines}
        row = [f"{size:,}"] + [_fmt(values[e], digits) for e in engines]
        for p in engines:
            if p != "ours" and "ours" in engines:
                ok = values["ours"] is not None and values[p]
                row.append(_fmt(values["ours"] / values[p], 2) if ok else "-")
        rows.append(row)
    return table(title, rows, header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Our engine vs bm25s and tantivy: build, latency, batch, memory.")
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("_inproc", help=argparse.SUPPRESS)
    w.add_argument("--engine", choices=ENGINES, required=True)
    w.add_argument("--profiles", type=Path, required=True)
    w.add_argument("--requests", type=Path, required=True)
    w.add_argument("--queries", type=int, default=200)
    w.add_argument("--as-of", type=date.fromisoformat, required=True)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick", help="(default) ~3 minutes")
    group.add_argument("--full", action="store_const", dest="mode", const="full", help="every size, 1M backlog")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (median reported)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="label validity date (default today)")
    parser.add_argument("--source-profiles", type=Path, default=SOURCE_PROFILES)
    parser.add_argument("--source-requests", type=Path, default=SOURCE_REQUESTS)
    parser.add_argument("--workers", type=int, default=None, help="our batch workers (default: the CLI's)")
    parser.add_argument("--bm25s-threads", type=int, default=0, help="bm25s retrieval threads (0: one)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["inproc", "batch", "backlog"])
    parser.set_defaults(mode="quick")
    args = parser.parse_args(argv)
    if args.command == "_inproc":
        print(json.dumps(inproc(args.engine, args.profiles, args.requests, args.queries, args.as_of)))
        return 0

    mode = MODES[args.mode]
    repeat = args.repeat or mode.repeat
    as_of = args.as_of or date.today()
    engines = [e for e in ENGINES if e in args.engines]
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)

    path = OUT / f"results_{args.mode}.json"

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)
        path.write_text(json.dumps(results, indent=2))  # partial results survive an interrupted run

    results: dict[str, Any] = {
        "mode": args.mode,
        "as_of": as_of.isoformat(),
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "inproc": {},
        "batch": {},
        "backlog": {},
    }

    sizes = sorted(set(mode.inproc_sizes) | set(mode.batch_sizes) | {mode.backlog_profiles})
    profiles = {n: synth_profiles(n, args.seed, args.source_profiles) for n in sizes}
    backlogs = sorted(set(mode.backlogs) | {mode.batch_requests, max(mode.queries + 10, 1000)})
    requests = {n: synth_requests(n, args.seed, args.source_requests) for n in backlogs}
    log(f"corpora ready in {OUT}")
    query_file = requests[max(mode.queries + 10, 1000)]

    if "inproc" not in args.skip:
        for size in mode.inproc_sizes:
            # The engines in turn, repetition by repetition: the machine's speed drifts over
            # minutes, and a ratio of engines each timed in its own spell measured the drift.
            inproc_runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
            for _ in range(repeat):
                for engine in engines:
                    inproc_runs[engine].append(run_inproc(engine, profiles[size], query_file, mode.queries, as_of))
            for engine in engines:
                results["inproc"].setdefault(engine, {})[size] = median_of(inproc_runs[engine])
                r = results["inproc"][engine][size]
                log(
                    f"in-process {engine} @ {size:,}: build {r['build_s']:.2f} s, p50 {r['p50_ms']:.2f} ms, "
                    f"p95 {r['p95_ms']:.2f} ms"
                )
    if "batch" not in args.skip:
        n_req = mode.batch_requests
        for size in mode.batch_sizes:
            reps = {e: mode.batch_repeat.get(e, repeat) if args.repeat is None else repeat for e in engines}
            batch_runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
            files = (profiles[size], requests[n_req], n_req, as_of, args)
            for i in range(max(reps.values())):  # in turn, as above
                for engine in engines:
                    if i < reps[engine]:
                        batch_runs[engine].append(run_batch(engine, *files))
            for engine in engines:
                results["batch"].setdefault(engine, {})[size] = median_of(batch_runs[engine])
                r = results["batch"][engine][size]
                log(
                    f"batch {engine}: {n_req:,} requests × {size:,} profiles: {r['wall_s']:.2f} s, "
                    f"{r['req_per_s']:,.0f} req/s, peak PSS {r['peak_pss_mb']:.0f} MiB, "
                    f"max RSS {r['max_rss_mb']:.0f} MiB"
                )
    if "backlog" not in args.skip and "ours" in engines:
        for n_req in mode.backlogs:
            r = run_batch("ours", profiles[mode.backlog_profiles], requests[n_req], n_req, as_of, args)
            results["backlog"][n_req] = r
            log(
                f"backlog ours: {n_req:,} requests × {mode.backlog_profiles:,} profiles: {r['wall_s']:.1f} s, "
                f"{r['req_per_s']:,.0f} req/s, peak PSS {r['peak_pss_mb']:.0f} MiB, max RSS {r['max_rss_mb']:.0f} MiB"
            )

    report(results, engines, mode)
    path.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {path} (total {time.perf_counter() - started:.0f} s)")
    return 0


def report(results: dict[str, Any], engines: list[str], mode: Mode) -> None:
    inproc, batch, backlog = results["inproc"], results["batch"], results["backlog"]
    print(f"\nmode {results['mode']}, {results['cpus']} CPUs, medians of repetitions, as of {results['as_of']}")
    if inproc:
        print(comparison("index build, in-process (s), by profile count", inproc, "build_s", engines))
        print(comparison("single query p50 (ms)", inproc, "p50_ms", engines))
        print(comparison("single query p95 (ms)", inproc, "p95_ms", engines))
    if batch:
        n = mode.batch_requests
        print(
            comparison(f"whole-process batch of {n:,} requests: wall (s), by profile count", batch, "wall_s", engines)
        )
        print(comparison("whole-process batch: requests/s", batch, "req_per_s", engines, 0))
        print(comparison("whole-process batch: peak PSS of the process tree (MiB)", batch, "peak_pss_mb", engines, 0))
        print(comparison("whole-process batch: max RSS of one process (MiB)", batch, "max_rss_mb", engines, 0))
    if backlog:
        rows = [
            [
                f"{n:,}",
                _fmt(r["wall_s"], 1),
                _fmt(r["req_per_s"], 0),
                _fmt(r["peak_pss_mb"], 0),
                _fmt(r["max_rss_mb"], 0),
            ]
            for n, r in sorted(backlog.items())
        ]
        print(
            table(
                f"backlog scaling, ours, {mode.backlog_profiles:,} profiles",
                rows,
                ["requests", "wall s", "req/s", "peak PSS MiB", "max RSS MiB"],
            )
        )
    checks = []
    ours_b, bm = batch.get("ours", {}).get(10000), batch.get("bm25s", {}).get(10000)
    if ours_b and bm:
        speed = bm["wall_s"] / ours_b["wall_s"]
        checks.append((f"batch 20k × 10k: ours {speed:.2f}× bm25s's speed (>= 1, aim 1.5)", speed >= 1.0))
        mem = ours_b["peak_pss_mb"] / bm["peak_pss_mb"]
        checks.append((f"batch 20k × 10k: peak PSS ours/bm25s = {mem:.2f} (<= 1.5)", mem <= 1.5))
        rss = ours_b["max_rss_mb"] / bm["max_rss_mb"]
        checks.append((f"batch 20k × 10k: max RSS ours/bm25s = {rss:.2f} (<= 1.5)", rss <= 1.5))
    ours_q = inproc.get("ours", {}).get(10000)
    peers_q = [inproc[p][10000]["p50_ms"] for p in PEERS if 10000 in inproc.get(p, {})]
    if ours_q and peers_q:
        ratio = ours_q["p50_ms"] / min(peers_q)
        checks.append((f"single query p50 @ 10k: ours/faster peer = {ratio:.2f} (<= 3)", ratio <= 3.0))
    if backlog:
        peaks = [r["peak_pss_mb"] for _, r in sorted(backlog.items())]
        checks.append((f"backlog peak PSS max {max(peaks):.0f} MiB (< 1024)", max(peaks) < 1024))
        growth = peaks[-1] / peaks[0]
        checks.append(
            (
                f"backlog peak PSS {min(backlog):,} -> {max(backlog):,} requests: ×{growth:.2f} (flat: <= 1.15)",
                growth <= 1.15,
            )
        )
    if checks:
        print("\n== targets (issue 5)")
        for text, ok in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    results["checks"] = [{"check": t, "pass": ok} for t, ok in checks]


if __name__ == "__main__":
    sys.exit(main())
