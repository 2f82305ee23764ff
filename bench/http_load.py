"""HTTP load test of ``POST /match`` with locust (headless), at 1, 8 and 32 concurrent clients.

Starts the service (``python -m api``) on a free loopback port with a temporary database
(``EXPE_DB``) seeded from ``--profiles``, waits for ``/health``, warms it up, then runs locust
for ``--duration`` seconds per concurrency level and prints requests/s, p50/p95/p99 latency
and the error count; the service is stopped at the end. ``--url`` targets a service already
running instead (loopback only). Results also go to ``bench/out/http_load.json``::

    python bench/http_load.py [--profiles data/profiles.jsonl] [--requests data/requests.jsonl] \\
        [--users 1 8 32] [--duration 20]

Every client sends its next request as soon as the previous one is answered (no think
time). locust and the service share the machine's cores: figures are a floor.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
BIN = Path(sys.executable).parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any], timeout: float = 60.0) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        return response.status


def start_service(profiles: Path, workdir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        EXPE_DB=str(workdir / "expe.db"),
        EXPE_PROFILES=str(profiles),
        EXPE_INDEX_DIR=str(workdir / "index"),
        HOST="127.0.0.1",
        PORT=str(port),
        EXPE_LOG_LEVEL="warning",
    )
    for var in ("EXPE_READ_KEY", "EXPE_API_KEY"):
        env.pop(var, None)
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(url: str, proc: subprocess.Popen | None, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the service exited with code {proc.returncode}")
        try:
            health = get_json(f"{url}/health")
            if health.get("profiles"):
                return health
            last = str(health)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"service not ready after {timeout:.0f} s: {last}")


def stop_service(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session we started: uvicorn and its children
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_locust(url: str, users: int, duration: int, requests: Path, prefix: Path) -> dict[str, Any]:
    cmd = [
        str(BIN / "locust"),
        "-f",
        str(BENCH / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{duration}s",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    env = dict(os.environ, BENCH_REQUESTS=str(requests))
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=duration + 120)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no stats (exit {done.returncode}):\n{done.stderr[-2000:]}")
    with open(stats, newline="") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    row = rows.get("POST /match") or rows["Aggregated"]
    return {
        "users": users,
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "mean_ms": float(row["Average Response Time"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load test POST /match with locust at several concurrencies.")
    parser.add_argument(
        "--profiles",
        type=Path,
        default=ROOT / "data" / "profiles.jsonl",
        help="profiles seeding the temporary database",
    )
    parser.add_argument(
        "--requests", type=Path, default=ROOT / "data" / "requests.jsonl", help="JSON Lines whose texts are sent"
    )
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=int, default=20, help="seconds per concurrency level")
    parser.add_argument("--url", default=None, help="use this running service (loopback) instead of starting one")
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="expe-http-") as tmp:
        workdir = Path(tmp)
        proc = None
        if args.url:
            if urlparse(args.url).hostname not in LOOPBACK:
                parser.error("--url must be a loopback address (127.0.0.1, localhost, ::1)")
            url = args.url.rstrip("/")
        else:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = start_service(args.profiles.resolve(), workdir, port, workdir / "service.log")
        try:
            started = time.perf_counter()
            health = wait_ready(url, proc, args.ready_timeout)
            print(
                f"service ready at {url} in {time.perf_counter() - started:.1f} s: {health.get('profiles')} profiles",
                file=sys.stderr,
            )
            with open(args.requests, encoding="utf-8-sig") as fh:
                sample = [json.loads(line)["text"] for _, line in zip(range(20), fh, strict=False)]
            for text in sample:  # warm-up: caches, lazy imports
                post_json(f"{url}/match", {"text": text})
            results = []
            for users in args.users:
                result = run_locust(url, users, args.duration, args.requests, workdir / f"u{users}")
                results.append(result)
                print(
                    f"{users:>3} users: {result['rps']:.1f} req/s, p50 {result['p50_ms']:.0f} ms, "
                    f"p95 {result['p95_ms']:.0f} ms, errors {result['errors']}",
                    file=sys.stderr,
                )
        except BaseException:
            if proc is not None:
                print((workdir / "service.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            if proc is not None:
                stop_service(proc)

    print(
        f"\n== POST /match, locust headless, {args.duration} s per level, {os.cpu_count()} CPUs "
        f"(profiles: {health.get('profiles')})"
    )
    print(f"{'users':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
    for r in results:
        print(
            f"{r['users']:>5} {r['requests']:>9} {r['rps']:>8.1f} {r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f} "
            f"{r['p99_ms']:>7.0f} {r['errors']:>7}"
        )
    eight = next((r for r in results if r["users"] == 8), None)
    if eight:
        ok = eight["p95_ms"] < 50 and eight["errors"] == 0
        print(
            f"\ntarget (issue 5): p95 < 50 ms at 8 clients, no errors: {'PASS' if ok else 'FAIL'} "
            f"(p95 {eight['p95_ms']:.0f} ms, errors {eight['errors']})"
        )
    errors = sum(r["errors"] for r in results)
    (OUT / "http_load.json").write_text(
        json.dumps(
            {"url": url, "profiles": str(args.profiles), "duration_s": args.duration, "results": results}, indent=2
        )
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
