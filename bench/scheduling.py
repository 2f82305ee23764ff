"""How busy a batch keeps the cores: matching wall time, CPU of the parent and of the forked
worker, and how long the parent waited for the pool (in-process, the matcher built first).

```sh
.venv/bin/python bench/scheduling.py [--profiles bench/out/profiles_10000_s7.jsonl] \
    [--requests bench/out/requests_20000_s7.jsonl] [--block-size 256 1024] [--workers 2]
```
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "bench/out/requests_20000_s7.jsonl")
    parser.add_argument("--block-size", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    args = parser.parse_args()

    import matching.batch as batch
    from matching.engine import build_matcher_from_file
    from matching.retrieval.filters import MatchFilters

    matcher = build_matcher_from_file(args.profiles)
    waited = [0.0, 0]
    result = batch._result

    def timed_result(item: Any) -> tuple[int, int, Any]:
        if batch._done(item):
            return result(item)
        started = time.perf_counter()
        value = result(item)
        waited[0] += time.perf_counter() - started
        waited[1] += 1
        return value

    batch._result = timed_result  # type: ignore[assignment]
    for block_size in args.block_size:
        waited[:] = [0.0, 0]
        parent, child = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            batch.run_batch(
                matcher,
                args.requests,
                Path(tmp) / "out.csv",
                MatchFilters(as_of=args.as_of),
                block_size=block_size,
                workers=args.workers,
                progress=False,
            )
        wall = time.perf_counter() - started
        parent = _cpu(resource.RUSAGE_SELF) - parent
        child = _cpu(resource.RUSAGE_CHILDREN) - child
        print(
            f"blocks of {block_size:>5}: matching {wall:6.2f} s wall, CPU parent {parent:6.2f} s, "
            f"workers {child:6.2f} s, cores busy {(parent + child) / wall:.2f}, "
            f"parent waited {waited[0]:.2f} s ({waited[1]} waits)"
        )


if __name__ == "__main__":
    main()
