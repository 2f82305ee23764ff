"""Fit the calibration of shown scores (see :mod:`matching.retrieval.calibration`) on judged matches.

For every judged request of each collection, the top 10 of the engine (calibration off) give
one example each: its coverage (score over the request's ceiling), the request's own term
count, and whether the match was judged good (grade >= 2; unjudged counts as not good). A
logistic regression on all collections together gives the three coefficients to copy into
``matching/calibration.py``; the script then prints, per collection, how the calibrated
scores compare with the share of good matches (reliability), and the Brier score::

    python bench/calibrate.py [--collections all] [--as-of 2026-11-26]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's matching/, not the one the venv points at

from quality import available_collections, collection_paths  # noqa: E402

from matching import MatchFilters, build_matcher, load_profiles, load_qrels, load_requests  # noqa: E402
from matching.analytics.evaluation import RIGHT_GRADE  # noqa: E402
from matching.retrieval.calibration import ScoreCalibration, features_of  # noqa: E402


def examples(name: str, as_of: date) -> pd.DataFrame:
    """One row per (judged request, top-10 match): coverage, terms, good."""
    profiles_path, requests_path, qrels_path = collection_paths(name)
    matcher = build_matcher(load_profiles(profiles_path), calibration=None)
    requests, qrels = load_requests(requests_path), load_qrels(qrels_path)
    good = {
        (r, p) for r, p, g in qrels[["request_id", "profile_id", "grade"]].itertuples(index=False) if g >= RIGHT_GRADE
    }
    judged = requests[requests["id"].isin(set(qrels["request_id"]))]
    filters = MatchFilters(as_of=as_of)
    analyzer = matcher.query_analyzer
    rows = []
    for start in range(0, len(judged), 256):
        block = judged.iloc[start : start + 256]
        languages = [lang or None for lang in block.get("language", pd.Series([None] * len(block))).tolist()]
        queries = [analyzer.analyse(t, lang) for t, lang in zip(block["text"], languages, strict=True)]
        vectors = analyzer.vectorize(queries)
        evidence = np.array([q.evidence_terms for q in queries])
        picked, scores, _ = matcher._rank_vectors(vectors, filters, 10, evidence=evidence)
        coverage, relative = features_of(scores, vectors.dot(matcher.index.max_impact_))
        for b, request_id in enumerate(block["id"]):
            for k in range(picked.shape[1]):
                if picked[b, k] >= 0:
                    expert = matcher.index.metadata_.ids_[picked[b, k]]
                    rows.append(
                        {
                            "collection": name,
                            "coverage": coverage[b, k],
                            "relative": relative[b, k],
                            "terms": evidence[b],
                            "good": (request_id, expert) in good,
                        }
                    )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", nargs="+", default=["all"])
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    args = parser.parse_args(argv)
    names = available_collections() if args.collections == ["all"] else args.collections
    frame = pd.concat([examples(name, args.as_of) for name in names], ignore_index=True)
    # Each collection weighs the same, whatever its number of requests.
    weights = len(frame) / frame["collection"].nunique() / frame.groupby("collection")["good"].transform("size")
    features = np.column_stack([frame["coverage"], frame["relative"], np.log1p(frame["terms"])])
    model = LogisticRegression(C=10.0).fit(features, frame["good"], sample_weight=weights)
    calibration = ScoreCalibration(*(float(c) for c in (model.intercept_[0], *model.coef_[0])))
    print(
        f"ScoreCalibration(intercept={calibration.intercept:.3f}, coverage_coef={calibration.coverage_coef:.3f}, "
        f"relative_coef={calibration.relative_coef:.3f}, terms_coef={calibration.terms_coef:.3f})"
    )
    frame["p"] = model.predict_proba(features)[:, 1]
    bins = pd.cut(frame["p"], [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], include_lowest=True)
    table = frame.groupby(["collection", bins], observed=True).agg(
        matches=("good", "size"), shown=("p", "mean"), good=("good", "mean")
    )
    with pd.option_context("display.float_format", "{:.3f}".format, "display.max_rows", 200):
        print(table.to_string())
        brier = frame.groupby("collection").apply(lambda g: float(((g["p"] - g["good"]) ** 2).mean()))
        print("\nBrier score per collection:\n" + brier.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
