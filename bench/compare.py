"""Two versions of the engine timed in turn in one process: their difference, not the machine's drift.

```sh
.venv/bin/python bench/compare.py main .              # the working tree against main
.venv/bin/python bench/compare.py HEAD~3 HEAD --mode block --limit 6144
```

Each of ``A`` and ``B`` is a git revision, or ``.`` for the working tree. Its ``matching/`` and
``data/`` are copied into a temporary folder, the package renamed (``matching_a``,
``matching_b``: every ``matching`` import in its sources rewritten), so that both load side by
side. Each builds its matcher on ``--profiles``; then:

- ``--mode single`` (the default): after 10 requests to warm up, ``Matcher.search`` on each of
  ``--limit`` requests (language not declared, top 10, as ``bench/run.py``'s single query), A
  then B on one request, B then A on the next;
- ``--mode block``: ``match_block`` on blocks of 256 requests (languages as the file declares
  them, as a batch), the two in turn by block, the collector off as in a batch's worker; one
  block to warm up.

Prints each version's median, p95, mean and slowest request or block, the median of the paired
differences (B − A) and how often B was faster. The slowest shows what moved a mean: a one-time
cost, such as wordfreq's table, which the process reads once, at the first look-alike either
version meets, or a collection of the collector's oldest generation. ``bench/run.py`` times each engine in its own
process, minutes apart: the machine's speed drifts by a third in that time (bench/README.md),
more than most changes. The two versions share the process (its caches, its collector), so the
figures are each version's cost next to the other, not alone.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_IMPORTS = re.compile(r"\b(from|import) matching\b|([\"'])matching\.")


def copy_version(revision: str, name: str, into: Path) -> None:
    """``matching/`` and ``data/`` of ``revision`` (``.``: the working tree) into ``into``, the
    package renamed ``name``."""
    if revision == ".":
        files = {
            p.relative_to(ROOT): p.read_bytes()
            for folder in ("matching", "data")
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
    else:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "matching", "data"],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            files = {Path(m.name): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    root = into / name
    for path, content in files.items():
        # The package's own folder takes the new name; data/ stays beside it, where
        # matching.data.resources looks for it (the package's parent folder).
        target = root / path.relative_to("matching") if path.parts[0] == "matching" else into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py":
            text = _IMPORTS.sub(lambda m: f"{m[1]} {name}" if m[1] else f"{m[2]}{name}.", content.decode("utf-8"))
            content = text.encode("utf-8")
        target.write_bytes(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="git revision, or . for the working tree")
    parser.add_argument("b", help="git revision, or . for the working tree")
    parser.add_argument("--mode", choices=["single", "block"], default="single")
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    parser.add_argument("--requests", type=Path, help="default: requests_1000_s7 (single), requests_20000_s7 (block)")
    parser.add_argument("--limit", type=int, default=300, help="requests timed (default 300)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    args = parser.parse_args()
    default = "requests_1000_s7.jsonl" if args.mode == "single" else "requests_20000_s7.jsonl"
    requests_path = args.requests or ROOT / "bench/out" / default
    warm_up = 256 if args.mode == "block" else 10  # one block, or 10 requests
    with open(requests_path, encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(args.limit + warm_up), fh, strict=False)]

    with tempfile.TemporaryDirectory() as folder:
        versions: list[tuple[Any, Any, Any]] = []
        for revision, name in ((args.a, "matching_a"), (args.b, "matching_b")):
            copy_version(revision, name, Path(folder) / name)
            sys.path.insert(0, str(Path(folder) / name))
            package = importlib.import_module(name)
            matcher = package.build_matcher(package.load_profiles(args.profiles))
            filters = package.MatchFilters(as_of=args.as_of)
            versions.append((matcher, filters, importlib.import_module(f"{name}.batch").match_block))
        times = _single(versions, records) if args.mode == "single" else _blocks(versions, records)

    unit = "ms per request" if args.mode == "single" else "ms per block of 256"
    print(f"{args.mode}, {len(times[0])} timed, {unit}:")
    for revision, values in zip((args.a, args.b), times, strict=True):
        ordered = sorted(values)
        print(
            f"  {revision:>12}  median {statistics.median(ordered):7.3f}  p95 {ordered[int(0.95 * len(ordered))]:7.3f}"
            f"  mean {statistics.fmean(ordered):7.3f}  max {ordered[-1]:7.3f}"
        )
    differences = [b - a for a, b in zip(*times, strict=True)]
    faster = sum(d < 0 for d in differences)
    print(f"  B − A: median {statistics.median(differences):+.3f}; B faster in {faster} of {len(differences)}")


def _single(versions: list[tuple[Any, Any, Any]], records: list[dict]) -> list[list[float]]:
    texts = [r["text"] for r in records]
    for text in texts[:10]:
        for matcher, filters, _ in versions:
            matcher.search(text, filters, top_k=10)
    times: list[list[float]] = [[], []]
    for i, text in enumerate(texts[10:]):
        for k in (0, 1) if i % 2 == 0 else (1, 0):
            matcher, filters, _ = versions[k]
            started = time.perf_counter()
            matcher.search(text, filters, top_k=10)
            times[k].append(1e3 * (time.perf_counter() - started))
    return times


def _blocks(versions: list[tuple[Any, Any, Any]], records: list[dict]) -> list[list[float]]:
    blocks = [records[i : i + 256] for i in range(0, len(records), 256)]
    for matcher, filters, match_block in versions:
        matcher.prepare(filters)
        match_block(matcher, blocks[0], filters, 10)
    gc.collect()
    gc.freeze()
    gc.disable()
    times: list[list[float]] = [[], []]
    for i, requests in enumerate(blocks[1:]):
        for k in (0, 1) if i % 2 == 0 else (1, 0):
            matcher, filters, match_block = versions[k]
            started = time.perf_counter()
            match_block(matcher, requests, filters, 10)
            times[k].append(1e3 * (time.perf_counter() - started))
            gc.collect(0)  # as a batch's worker does after each block
    return times


if __name__ == "__main__":
    main()
