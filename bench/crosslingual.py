"""Cross-lingual quality: each translated request against the French request it adapts.

The dev requests in a foreign language carry ``adapted_from``, the id of a French request
asking for the same thing (same judgments). This prints, per language, the mean nDCG@10 and
hit@5 of the adapted requests next to those of their French originals::

    .venv/bin/python bench/crosslingual.py --as-of 2026-11-26

``--arabic-stemmer none`` analyses Arabic with normalisation and clitic stripping only, to
compare with Snowball's Arabic stemmer (the default).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import pandas as pd

from matching import MatchFilters, build_matcher, load_profiles, load_qrels, load_requests
from matching.analysis.text import get_analyzer
from matching.analytics.evaluation import evaluate
from matching.data.resources import data_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=Path, default=data_path("profiles.jsonl"))
    parser.add_argument("--requests", type=Path, default=data_path("requests.jsonl"))
    parser.add_argument("--qrels", type=Path, default=data_path("qrels.tsv"))
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--arabic-stemmer", choices=("snowball", "none"), default="snowball")
    args = parser.parse_args()
    if args.arabic_stemmer == "none":
        # The shared analyser is what the glossary and the requests are both analysed with.
        get_analyzer("ar")._stemmer = None

    with open(args.requests, encoding="utf-8") as fh:
        adapted = {r["id"]: r["adapted_from"] for r in map(json.loads, fh) if r.get("adapted_from")}
    matcher = build_matcher(load_profiles(args.profiles))
    report = evaluate(
        matcher, load_requests(args.requests), load_qrels(args.qrels), MatchFilters(as_of=args.as_of)
    ).per_request.set_index("request_id")
    pairs = pd.DataFrame(
        [
            {
                "language": report.at[rid, "language"],
                "french ndcg@10": report.at[src, "ndcg@10"],
                "adapted ndcg@10": report.at[rid, "ndcg@10"],
                "french hit@5": report.at[src, "hit@5"],
                "adapted hit@5": report.at[rid, "hit@5"],
            }
            for rid, src in adapted.items()
            if rid in report.index and src in report.index
        ]
    )
    summary = pairs.groupby("language").mean()
    summary.insert(0, "pairs", pairs.groupby("language").size())
    summary["gap ndcg@10"] = summary["french ndcg@10"] - summary["adapted ndcg@10"]
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(summary.to_string())


if __name__ == "__main__":
    main()
