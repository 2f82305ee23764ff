"""What a setting costs and buys: dev-set quality and single-process matching time, per variant.

Each variant is a list of ``NAME=VALUE`` settings applied to the matcher (attributes such as
``feedback_weight`` or ``rerank_depth``) or, for upper-case names, to the constants of
:mod:`matching.retrieval.ranking` (``DENSE_CHUNK_CELLS``, ``MAX_DENSE_CELLS``); values are Python literals::

    python bench/tuning.py speed --as-of 2026-11-26 "" "feedback_weight=0" "DENSE_CHUNK_CELLS=2097152"

prints, per variant, nDCG@10 on the bundled judged requests and the seconds to match the
synthetic 10,000 requests against the synthetic 10,000 profiles in this process (best of 2).

``growth`` streams synthetic requests through the query analyser of one process and prints its
RSS as it goes, for a given bound of the word and typo caches::

    python bench/tuning.py growth --cache-bound 50000 --requests 400000
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from synth import synth_profiles, synth_requests

from matching import MatchFilters, build_matcher, load_profiles
from matching.analysis.query import QueryAnalyzer
from matching.analysis.text import Analyzer
from matching.analytics.evaluation import evaluate
from matching.batch import run_batch
from matching.data.loading import load_qrels, load_requests
from matching.data.resources import data_path
from matching.retrieval import ranking

ROOT = Path(__file__).resolve().parent.parent


def _rss_mib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))


def _settings(variant: str) -> dict[str, Any]:
    pairs = [item.split("=", 1) for item in variant.split() if item]
    return {name: ast.literal_eval(value) for name, value in pairs}


def _apply(matchers: list[ranking.Matcher], settings: dict[str, Any], defaults: dict[str, Any]) -> None:
    for name, value in {**defaults, **settings}.items():
        if name.isupper():
            setattr(ranking, name, value)
        else:
            for matcher in matchers:
                setattr(matcher, name, value)
    for matcher in matchers:
        matcher._allowed_cache.clear()  # frequent terms depend on first_stage_max_df


def speed(args: argparse.Namespace) -> None:
    filters = MatchFilters(as_of=args.as_of)
    dev = build_matcher(load_profiles(data_path("profiles.jsonl")))
    requests, qrels = load_requests(ROOT / "data" / "requests.jsonl"), load_qrels(ROOT / "data" / "qrels.tsv")
    synthetic = build_matcher(load_profiles(synth_profiles(10_000)))
    backlog = synth_requests(10_000)
    variants = [_settings(v) for v in args.variants] or [{}]
    names = {name for v in variants for name in v}
    defaults = {n: getattr(ranking, n) if n.isupper() else getattr(dev, n) for n in names}
    run_batch(synthetic, backlog, io.StringIO(), filters, workers=1, progress=False)  # warm caches
    for variant, text in zip(variants, args.variants or [""], strict=True):
        _apply([dev, synthetic], variant, defaults)
        summary = evaluate(dev, requests, qrels, filters).summary()
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            run_batch(synthetic, backlog, io.StringIO(), filters, workers=1, progress=False)
            seconds.append(time.perf_counter() - started)
        print(
            f"{text or '(defaults)':40s} nDCG@10 {summary['ndcg@10'].iloc[0]:.3f}  "
            f"10,000 x 10,000 in one process: {min(seconds):.2f} s",
            flush=True,
        )


def growth(args: argparse.Namespace) -> None:
    Analyzer.max_cache_words = QueryAnalyzer.max_typo_cache = args.cache_bound
    analyzer = build_matcher(load_profiles(synth_profiles(10_000))).query_analyzer
    print(f"cache bound {args.cache_bound:,}: RSS {_rss_mib()} MiB before the first request", flush=True)
    started = time.perf_counter()
    with open(synth_requests(max(args.requests, 100_000)), encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            record = json.loads(line)
            analyzer.analyse(record["text"], record.get("language"))
            if n % args.every == 0:
                print(f"{n:>9,} requests  RSS {_rss_mib()} MiB  {time.perf_counter() - started:.0f} s", flush=True)
            if n >= args.requests:
                break


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("speed", help="quality and matching time per variant")
    p.add_argument("variants", nargs="*", help='settings such as "feedback_weight=0 rerank_depth=30"')
    p.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    p.set_defaults(func=speed)
    p = sub.add_parser("growth", help="RSS of one process analysing a stream of requests")
    p.add_argument("--cache-bound", type=int, default=Analyzer.max_cache_words)
    p.add_argument("--requests", type=int, default=400_000)
    p.add_argument("--every", type=int, default=50_000)
    p.set_defaults(func=growth)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
