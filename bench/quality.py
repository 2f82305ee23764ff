"""Ranking quality of our engine and of the two peers (bm25s, tantivy) on judged sets.

Our engine is scored by :func:`matching.analytics.evaluation.evaluate` itself (the figures of
``python -m matching evaluate``); the peers by the same :func:`request_metrics`, on the
same judged requests, with the same judgments: judged profiles not valid on ``--as-of``
are dropped, and the peers, like ours, never return an expired label (they over-fetch
and filter). Prints a table overall, per request language and per request ``group``::

    python bench/quality.py --profiles data/profiles.jsonl --requests data/requests.jsonl \\
        --qrels data/qrels.tsv [--as-of 2026-11-26] [--per-request out.csv] [--json out.json]

or on several collections at once, one compact table (a row per collection, and the bundled
set's language and group slices; nDCG@10, MRR@10 and recall@10 of every engine, and ours minus
the best peer)::

    python bench/quality.py --collections all --as-of 2026-11-26 [--json out.json]

A collection is ``dev`` (the bundled ``data/`` files) or a folder of ``bench/collections/`` holding
``profiles.jsonl``, ``requests.jsonl`` and ``qrels.tsv`` (``--list-collections`` names them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from peers import ENGINES, make_peer, read_profiles

ROOT = Path(__file__).resolve().parent.parent
# Score this checkout's matching/, not the one the venv has installed (an editable install points
# at another checkout; `python bench/quality.py` puts bench/, not the checkout, on sys.path).
sys.path.insert(0, str(ROOT))

from matching import MatchFilters, build_matcher, load_profiles, load_qrels, load_requests  # noqa: E402
from matching.analytics.evaluation import METRICS, evaluate, request_metrics  # noqa: E402

COLLECTIONS_DIR = ROOT / "bench" / "collections"
DEV = "dev"
OURS = "ours"
WIDE_METRICS = {"ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "recall@10": "recall@10"}
BAR = {"all": 0.05, "fr": 0.03}  # nDCG@10 margin over the best peer (issue 2's quality bar)


def peer_metrics(
    engine: str, profiles_path: Path, todo: pd.DataFrame, judgments: dict[str, dict[str, int]], as_of: date
) -> tuple[pd.DataFrame, int, float]:
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
        for result in matcher.search_many(texts[start : start + 256], filters, top_k=10):
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


@dataclass
class Scored:
    """Per-request metrics of every engine on one judged set, and what the run cost."""

    frame: pd.DataFrame  # request_id, engine, metrics..., language, group
    expired: dict[str, int]
    seconds: dict[str, float]
    profiles: int
    valid: int
    requests: int
    judged: int


def collection_paths(name: str) -> tuple[Path, Path, Path]:
    """Profiles, requests and judgments of a named collection (``dev``: the bundled files)."""
    folder = ROOT / "data" if name == DEV else COLLECTIONS_DIR / name
    return folder / "profiles.jsonl", folder / "requests.jsonl", folder / "qrels.tsv"


def available_collections() -> list[str]:
    """``dev`` then every folder of ``bench/collections`` with the three files, by name."""
    found = sorted(
        d.name for d in COLLECTIONS_DIR.iterdir() if d.is_dir() and all(p.is_file() for p in collection_paths(d.name))
    )
    return [DEV, *found]


def score(profiles_path: Path, requests_path: Path, qrels_path: Path, as_of: date, engines: list[str]) -> Scored | None:
    """Run every engine on one judged set (None when no judged request has a valid judged profile)."""
    filters = MatchFilters(as_of=as_of)
    profiles = load_profiles(profiles_path)
    requests = load_requests(requests_path)
    qrels = load_qrels(qrels_path)
    started = time.perf_counter()
    matcher = build_matcher(profiles)
    valid_ids = set(matcher.index.metadata_.ids_[filters.mask(matcher.index)])
    report = evaluate(matcher, requests, qrels, filters)
    our_seconds = time.perf_counter() - started
    ours = report.per_request
    if ours.empty:
        return None
    # Same judged requests and judgments as evaluate(): valid profiles, grade > 0.
    judged = qrels[qrels["profile_id"].isin(valid_ids) & (qrels["grade"] > 0)]
    judgments = {rid: dict(zip(g["profile_id"], g["grade"], strict=True)) for rid, g in judged.groupby("request_id")}
    todo = requests[requests["id"].isin(set(ours["request_id"]))].reset_index(drop=True)
    meta = ours.set_index("request_id")[["language", "group"]]

    frames = []
    expired: dict[str, int] = {}
    seconds: dict[str, float] = {}
    if OURS in engines:
        frames.append(ours.assign(engine=OURS)[["request_id", "engine", *METRICS]])
        expired[OURS] = our_expired(matcher, todo["text"].tolist(), filters, valid_ids)
        seconds[OURS] = our_seconds
    for engine in (e for e in engines if e != OURS):
        frame, expired[engine], seconds[engine] = peer_metrics(engine, profiles_path, todo, judgments, as_of)
        frames.append(frame.assign(engine=engine)[["request_id", "engine", *METRICS]])
    frame = pd.concat(frames, ignore_index=True).join(meta, on="request_id")
    frame["group"] = frame["group"].replace("", "-")
    return Scored(frame, expired, seconds, len(profiles), len(valid_ids), len(requests), len(todo))


def margins(tables: dict[str, pd.DataFrame], engines: list[str]) -> dict[str, float]:
    """nDCG@10 of ours minus the best peer's, overall and on French requests (the issue-2 bar's scopes)."""
    peers = [e for e in ENGINES if e in engines]
    verdicts: dict[str, float] = {}
    if OURS not in engines or not peers:
        return verdicts
    overall = tables["overall"]
    verdicts["all"] = overall.at[OURS, "ndcg@10"] - max(overall.at[e, "ndcg@10"] for e in peers)
    fr = tables["by language"]
    if (("fr", OURS) in fr.index) and all(("fr", e) in fr.index for e in peers):
        verdicts["fr"] = fr.at[("fr", OURS), "ndcg@10"] - max(fr.at[("fr", e), "ndcg@10"] for e in peers)
    return verdicts


def print_bar(verdicts: dict[str, float], expired: dict[str, int]) -> None:
    for scope, margin in verdicts.items():
        status = "PASS" if margin >= BAR[scope] else "FAIL"
        print(f"bar {scope}: ndcg@10 ours - best peer = {margin:+.3f} (needs >= +{BAR[scope]:.2f}) {status}")
    if expired.get(OURS):
        print("FAIL: our engine returned expired labels")


def wide_rows(name: str, frame: pd.DataFrame, engines: list[str], slices: bool) -> list[dict]:
    """One row per (collection, slice): requests, then each metric of each engine, then ours - best peer."""
    parts: list[tuple[str, pd.DataFrame]] = [(name, frame)]
    if slices:
        for by in ("language", "group"):
            for value in frame[by].value_counts().index:
                parts.append((f"{name} · {by[:4]} {value}", frame[frame[by] == value]))
    peers = [e for e in ENGINES if e in engines]
    rows = []
    for label, part in parts:
        means = part.groupby("engine")[list(WIDE_METRICS)].mean()
        row: dict = {"collection": label, "requests": int(part["request_id"].nunique())}
        for metric, title in WIDE_METRICS.items():
            for engine in engines:
                row[f"{title} {engine}"] = float(means.at[engine, metric])
        if OURS in engines and peers:
            best = max(means.at[e, "ndcg@10"] for e in peers)
            row["nDCG@10 ours-best"] = float(means.at[OURS, "ndcg@10"] - best)
        rows.append(row)
    return rows


def run_collections(
    names: list[str], as_of: date, engines: list[str], per_request: Path | None, json_path: Path | None
) -> int:
    """Score every named collection, then print one table with a row per collection (and the language and
    group slices of dev and of any collection whose requests carry a ``group``)."""
    rows: list[dict] = []
    frames: list[pd.DataFrame] = []
    summary: dict[str, dict] = {}
    dev_bar: tuple[dict[str, float], dict[str, int]] | None = None
    for name in names:
        paths = collection_paths(name)
        scored = score(*paths, as_of, engines)
        if scored is None:
            print(f"{name}: no judged request has a valid judged profile, skipped", file=sys.stderr)
            continue
        print(
            f"{name}: {scored.profiles} profiles ({scored.valid} valid), {scored.judged} judged requests of "
            f"{scored.requests}; seconds "
            + ", ".join(f"{e}={t:.1f}" for e, t in scored.seconds.items())
            + "; expired returned "
            + ", ".join(f"{e}={n}" for e, n in scored.expired.items()),
            flush=True,
        )
        rows += wide_rows(name, scored.frame, engines, slices=name == DEV or bool((scored.frame["group"] != "-").any()))
        frames.append(scored.frame.assign(collection=name))
        tables = {"overall": summarise(scored.frame, None), "by language": summarise(scored.frame, "language")}
        verdicts = margins(tables, engines)
        if name == DEV:
            dev_bar = (verdicts, scored.expired)
        summary[name] = {
            "profiles": str(paths[0].relative_to(ROOT)),
            "requests": str(paths[1].relative_to(ROOT)),
            "qrels": str(paths[2].relative_to(ROOT)),
            "profile_count": scored.profiles,
            "valid_profiles": scored.valid,
            "judged_requests": scored.judged,
            "seconds": scored.seconds,
            "expired_returned": scored.expired,
            "margins": verdicts,
        }
    if not rows:
        return 1
    table = pd.DataFrame(rows).set_index("collection")
    print(f"\n== as of {as_of}: mean over judged requests (ours-best: our nDCG@10 minus the best peer's)")
    with pd.option_context(
        "display.float_format",
        "{:.3f}".format,
        "display.width",
        250,
        "display.max_columns",
        30,
        "display.max_rows",
        200,
    ):
        print(table.to_string(na_rep=""))
    if dev_bar is not None:
        print()
        print_bar(*dev_bar)
    if per_request:
        pd.concat(frames, ignore_index=True).to_csv(per_request, index=False)
    if json_path:
        payload = {
            "as_of": as_of.isoformat(),
            "engines": engines,
            "collections": summary,
            "table": json.loads(table.reset_index().to_json(orient="records")),
        }
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Quality of our engine vs bm25s and tantivy on judged requests.")
    parser.add_argument("--profiles", type=Path, default=ROOT / "data" / "profiles.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "data" / "requests.jsonl")
    parser.add_argument("--qrels", type=Path, default=ROOT / "data" / "qrels.tsv")
    parser.add_argument(
        "--collections",
        nargs="+",
        default=None,
        metavar="NAME",
        help="score these collections ('all', 'dev', or folders of bench/collections) "
        "into one table, instead of --profiles/--requests/--qrels",
    )
    parser.add_argument("--list-collections", action="store_true", help="print the collection names and exit")
    parser.add_argument("--which", action="store_true", help="print which matching/ package is scored and exit")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="label validity date (default today)")
    parser.add_argument("--engines", nargs="+", default=[OURS, *ENGINES], choices=[OURS, *ENGINES])
    parser.add_argument("--per-request", type=Path, default=None, help="write per-request metrics to this CSV")
    parser.add_argument("--json", type=Path, default=None, help="write the summary tables to this JSON file")
    args = parser.parse_args(argv)
    as_of = args.as_of or date.today()
    known = available_collections()
    if args.which:
        print(Path(sys.modules["matching"].__file__).parent)
        return 0
    if args.list_collections:
        print("\n".join(known))
        return 0
    if args.collections:
        names = known if "all" in args.collections else list(dict.fromkeys(args.collections))
        unknown = [n for n in names if n not in known]
        if unknown:
            parser.error(f"unknown collection(s) {', '.join(unknown)}; known: {', '.join(known)}")
        return run_collections(names, as_of, args.engines, args.per_request, args.json)

    scored = score(args.profiles, args.requests, args.qrels, as_of, args.engines)
    if scored is None:
        print("no judged request has a valid judged profile: nothing to evaluate", file=sys.stderr)
        return 1
    frame, expired, seconds = scored.frame, scored.expired, scored.seconds
    print(f"profiles: {args.profiles} ({scored.profiles}, {scored.valid} valid on {as_of})")
    print(f"requests: {args.requests} ({scored.judged} judged of {scored.requests}); qrels: {args.qrels}")
    tables = {
        "overall": with_deltas(summarise(frame, None), None),
        "by language": with_deltas(summarise(frame, "language"), "language"),
        "by group": with_deltas(summarise(frame, "group"), "group"),
    }
    with pd.option_context(
        "display.float_format",
        "{:.3f}".format,
        "display.width",
        200,
        "display.max_columns",
        20,
        "display.max_rows",
        200,
    ):
        for title, table in tables.items():
            print(f"\n== {title}")
            print(table.to_string(na_rep=""))
    print("\nexpired labels returned (top 10 of judged requests): " + ", ".join(f"{e}={n}" for e, n in expired.items()))
    print("seconds (index + judged requests): " + ", ".join(f"{e}={s:.2f}" for e, s in seconds.items()))
    verdicts = margins(tables, args.engines)
    print_bar(verdicts, expired)
    if args.per_request:
        frame.to_csv(args.per_request, index=False)
    if args.json:
        payload = {
            "profiles": str(args.profiles),
            "requests": str(args.requests),
            "qrels": str(args.qrels),
            "as_of": as_of.isoformat(),
            "expired_returned": expired,
            "margins": verdicts,
            "tables": {t: json.loads(tab.reset_index().to_json(orient="records")) for t, tab in tables.items()},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
