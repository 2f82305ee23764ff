"""Ranking quality of our engine and of the two peers (bm25s, tantivy) on one judged set.

Our engine is scored by :func:`matching.evaluation.evaluate` itself (the figures of
``python -m matching evaluate``); the peers by the same :func:`request_metrics`, on the
same judged requests, with the same judgments: judged profiles not valid on ``--as-of``
are dropped, and the peers, like ours, never return an expired label (they over-fetch
and filter). Prints a table overall, per request language and per request ``group``::

    python bench/quality.py --profiles data/profiles.jsonl --requests data/requests.jsonl \\
        --qrels data/qrels.tsv [--as-of 2026-11-26] [--per-request out.csv] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from peers import ENGINES, make_peer, read_profiles

from matching import MatchFilters, build_matcher, load_profiles, load_qrels, load_requests
from matching.evaluation import METRICS, evaluate, request_metrics

ROOT = Path(__file__).resolve().parent.parent
OURS = "ours"
BAR = {"all": 0.05, "fr": 0.03}  # nDCG@10 margin over the best peer (issue 2's quality bar)


def peer_metrics(engine: str, profiles_path: Path, todo: pd.DataFrame, judgments: dict[str, dict[str, int]],
                 as_of: date) -> tuple[pd.DataFrame, int, float]:
    """Per-request metrics of one peer; also the count of expired labels returned, and seconds."""
    base = read_profiles(profiles_path, as_of)
    started = time.perf_counter()
    peer = make_peer(engine).fit(base.texts)
    results = peer.search_many(todo["text"].tolist(), 10, base.valid)
    seconds = time.perf_counter() - started
    expired = sum(int(not base.valid[row]) for hits in results for row, _ in hits)
    rows = []
    for request_id, hits in zip(todo["id"], results, strict=True):
        ranked = [base.ids[row] for row, _ in hits]
        rows.append({"request_id": request_id, **request_metrics(ranked, judgments[request_id])})
    return pd.DataFrame(rows), expired, seconds


def our_expired(matcher, texts: list[str], filters: MatchFilters, valid_ids: set[str]) -> int:
    """Expired (or otherwise filtered-out) labels among our top 10 for ``texts``."""
    count = 0
    for start in range(0, len(texts), 256):
        for result in matcher.search_many(texts[start:start + 256], filters, top_k=10):
            count += sum(m.expert_id not in valid_ids for m in result.matches)
    return count


def summarise(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Mean metrics per engine, overall or per value of ``by``."""
    keys = ["engine"] if by is None else [by, "engine"]
    out = frame.groupby(keys, sort=False)[list(METRICS)].mean()
    out.insert(0, "requests", frame.groupby(keys, sort=False).size())
    if by is not None:  # each slice's engines together, slices by size
        slices = frame[by].value_counts().index
        engines = frame["engine"].unique()
        out = out.reindex([(s, e) for s in slices for e in engines if (s, e) in out.index])
    return out


def with_deltas(table: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Add, on our rows, nDCG@10 minus each peer's on the same slice."""
    table = table.copy()
    for engine in ENGINES:
        table[f"Δndcg10 vs {engine}"] = np.nan
    slices = [None] if by is None else table.index.get_level_values(0).unique()
    for s in slices:
        def key(engine: str, s=s):
            return engine if s is None else (s, engine)
        if key(OURS) not in table.index:
            continue
        for engine in ENGINES:
            if key(engine) in table.index:
                delta = table.at[key(OURS), "ndcg@10"] - table.at[key(engine), "ndcg@10"]
                table.at[key(OURS), f"Δndcg10 vs {engine}"] = delta
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Quality of our engine vs bm25s and tantivy on judged requests.")
    parser.add_argument("--profiles", type=Path, default=ROOT / "data" / "profiles.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "data" / "requests.jsonl")
    parser.add_argument("--qrels", type=Path, default=ROOT / "data" / "qrels.tsv")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="label validity date (default today)")
    parser.add_argument("--engines", nargs="+", default=[OURS, *ENGINES], choices=[OURS, *ENGINES])
    parser.add_argument("--per-request", type=Path, default=None, help="write per-request metrics to this CSV")
    parser.add_argument("--json", type=Path, default=None, help="write the summary tables to this JSON file")
    args = parser.parse_args(argv)
    as_of = args.as_of or date.today()
    filters = MatchFilters(as_of=as_of)

    profiles = load_profiles(args.profiles)
    requests = load_requests(args.requests)
    qrels = load_qrels(args.qrels)
    started = time.perf_counter()
    matcher = build_matcher(profiles)
    valid_ids = set(matcher.index.ids_[matcher.mask(filters)])
    report = evaluate(matcher, requests, qrels, filters)
    our_seconds = time.perf_counter() - started
    ours = report.per_request
    if ours.empty:
        print("no judged request has a valid judged profile: nothing to evaluate", file=sys.stderr)
        return 1
    # Same judged requests and judgments as evaluate(): valid profiles, grade > 0.
    judged = qrels[qrels["profile_id"].isin(valid_ids) & (qrels["grade"] > 0)]
    judgments = {rid: dict(zip(g["profile_id"], g["grade"], strict=True)) for rid, g in judged.groupby("request_id")}
    todo = requests[requests["id"].isin(set(ours["request_id"]))].reset_index(drop=True)
    meta = ours.set_index("request_id")[["language", "group"]]

    frames = []
    expired: dict[str, int] = {}
    seconds: dict[str, float] = {}
    if OURS in args.engines:
        frames.append(ours.assign(engine=OURS)[["request_id", "engine", *METRICS]])
        expired[OURS] = our_expired(matcher, todo["text"].tolist(), filters, valid_ids)
        seconds[OURS] = our_seconds
    for engine in (e for e in args.engines if e != OURS):
        frame, expired[engine], seconds[engine] = peer_metrics(engine, args.profiles, todo, judgments, as_of)
        frames.append(frame.assign(engine=engine)[["request_id", "engine", *METRICS]])
    frame = pd.concat(frames, ignore_index=True).join(meta, on="request_id")
    frame["group"] = frame["group"].replace("", "-")

    print(f"profiles: {args.profiles} ({len(profiles)}, {len(valid_ids)} valid on {as_of})")
    print(f"requests: {args.requests} ({len(todo)} judged of {len(requests)}); qrels: {args.qrels}")
    tables = {"overall": with_deltas(summarise(frame, None), None),
              "by language": with_deltas(summarise(frame, "language"), "language"),
              "by group": with_deltas(summarise(frame, "group"), "group")}
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200,
                           "display.max_columns", 20, "display.max_rows", 200):
        for title, table in tables.items():
            print(f"\n== {title}")
            print(table.to_string(na_rep=""))
    print("\nexpired labels returned (top 10 of judged requests): "
          + ", ".join(f"{e}={n}" for e, n in expired.items()))
    print("seconds (index + judged requests): " + ", ".join(f"{e}={s:.2f}" for e, s in seconds.items()))
    peers = [e for e in ENGINES if e in args.engines]
    verdicts = {}
    if OURS in args.engines and peers:
        overall = tables["overall"]
        best = max(overall.at[e, "ndcg@10"] for e in peers)
        margin_all = overall.at[OURS, "ndcg@10"] - best
        verdicts["all"] = margin_all
        fr = tables["by language"]
        if (("fr", OURS) in fr.index) and all(("fr", e) in fr.index for e in peers):
            verdicts["fr"] = fr.at[("fr", OURS), "ndcg@10"] - max(fr.at[("fr", e), "ndcg@10"] for e in peers)
        for scope, margin in verdicts.items():
            status = "PASS" if margin >= BAR[scope] else "FAIL"
            print(f"bar {scope}: ndcg@10 ours - best peer = {margin:+.3f} (needs >= +{BAR[scope]:.2f}) {status}")
        if expired.get(OURS):
            print("FAIL: our engine returned expired labels")
    if args.per_request:
        frame.to_csv(args.per_request, index=False)
    if args.json:
        payload = {
            "profiles": str(args.profiles), "requests": str(args.requests), "qrels": str(args.qrels),
            "as_of": as_of.isoformat(), "expired_returned": expired, "margins": verdicts,
            "tables": {t: json.loads(tab.reset_index().to_json(orient="records")) for t, tab in tables.items()},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
