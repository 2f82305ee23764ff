"""Command line: ``python -m matching`` or ``expe-match`` (match, batch, evaluate)."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from matching.data.labels import resolve_as_of
from matching.data.records import DataError
from matching.data.resources import data_path
from matching.retrieval.filters import FILTER_FIELDS, MatchFilters

__all__ = ["main", "run"]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date (YYYY-MM-DD)") from None


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _matcher(args: argparse.Namespace, with_detector: bool = False):
    """The matcher the command asks for: a saved index, else one built here; with the language
    model loaded if ``with_detector`` (by another process while the index is built)."""
    from matching.analysis import language
    from matching.data.persistence import load_or_build
    from matching.engine import build_matcher_from_file

    if args.index_dir:
        return load_or_build(args.profiles, args.index_dir, log=_log)
    if not with_detector:
        return build_matcher_from_file(args.profiles)
    with language.loaded_meanwhile():
        return build_matcher_from_file(args.profiles)


def _filters(args: argparse.Namespace) -> MatchFilters:
    lists = {f.name: tuple(getattr(args, f.name) or ()) for f in FILTER_FIELDS}
    return MatchFilters(**lists, as_of=resolve_as_of(args.as_of), include_expired=args.include_expired)


def _cmd_match(args: argparse.Namespace) -> int:
    matcher = _matcher(args)
    result = matcher.search(args.text, _filters(args), top_k=args.top_k, max_per_holder=args.max_per_holder)
    meta = matcher.index.metadata_
    fields = meta.fields_
    if args.json:
        payload = {
            "language": result.language.code,
            "language_confidence": result.language.confidence,
            "results": [
                {
                    "rank": m.rank,
                    "expert_id": m.expert_id,
                    "score": round(m.score, 4),
                    "holder": fields["holder"][m.row],
                    "title": fields["title"][m.row],
                    "domains": list(fields["domains"][m.row]),
                    "label_end": str(meta.label_end_[m.row]),
                    "matched_terms": [t.label() for t in m.matched_terms],
                }
                for m in result.matches
            ],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(f"language: {result.language.code} ({result.language.confidence:.2f})")
    if not result.matches:
        print("no matching profile")
    for m in result.matches:
        row = m.row
        print(f"{m.rank:>2}. {m.score:.3f}  {m.expert_id}  {fields['title'][row]}")
        print(
            f"    {fields['holder'][row]} ({fields['holder_type'][row]}, {fields['region'][row]}) · "
            f"{', '.join(fields['domains'][row])} · label until {meta.label_end_[row]}"
        )
        print(f"    matched: {', '.join(t.label() for t in m.matched_terms)}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from matching.batch import BLOCK_SIZE, needs_language_model, run_batch

    # The requests' first block is read (and checked) before the build: bad input fails at once.
    matcher = _matcher(args, with_detector=needs_language_model(args.requests, sheet=args.sheet))
    summary = run_batch(
        matcher,
        args.requests,
        args.out,
        _filters(args),
        top_k=args.top_k,
        block_size=args.block_size or BLOCK_SIZE,
        workers=args.workers,
        progress=not args.quiet,
        sheet=args.sheet,
    )
    _log(f"{summary} -> {args.out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from matching.analytics.evaluation import evaluate
    from matching.data.loading import load_qrels, load_requests

    matcher = _matcher(args)
    report = evaluate(matcher, load_requests(args.requests), load_qrels(args.qrels), _filters(args))
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(report.summary().to_string())
        print()
        print("by request language:")
        print(report.summary("language").to_string())
        if report.per_request["group"].astype(bool).any():
            print()
            print("by request group:")
            print(report.summary("group").to_string())
    if args.per_request:
        report.per_request.to_csv(args.per_request, index=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="expe-match", description="EXPE-CT Match: rank labelled expertise profiles.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, index_default: str | None) -> None:
        p.add_argument(
            "--profiles",
            type=Path,
            default=data_path("profiles.jsonl"),
            help="profiles file, JSON Lines, CSV or .xlsx (default: the bundled profiles)",
        )
        p.add_argument("--as-of", type=_date, default=None, help="label validity date (default: today)")
        p.add_argument("--include-expired", action="store_true", help="also return expired labels")
        for field in FILTER_FIELDS:  # the list filters, described once (matching.retrieval.filters)
            p.add_argument(
                field.option,
                action="append",
                dest=field.name,
                metavar=field.metavar,
                help=f"keep profiles with one of these: {field.description} (repeatable)",
            )
        p.add_argument(
            "--index-dir",
            default=index_default,
            help="folder of the saved index, reused while profiles are unchanged"
            + (f" (default: {index_default})" if index_default else " (default: build in memory)"),
        )

    p = sub.add_parser("match", help="rank profiles for one request")
    p.add_argument("text", help="the request text")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--max-per-holder", type=int, default=None, help="at most this many results per holder")
    p.add_argument("--json", action="store_true", help="print JSON")
    common(p, "var/index")
    p.set_defaults(func=_cmd_match)

    p = sub.add_parser("batch", help="match a backlog of requests into a CSV, JSON Lines or Excel file")
    p.add_argument("--requests", required=True, type=Path, help="requests file: CSV, JSON Lines or .xlsx")
    p.add_argument("--sheet", default=None, help="worksheet of an .xlsx requests file (default: the first)")
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output file: .csv, .jsonl (JSON Lines) or .xlsx (a workbook with a summary)",
    )
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--block-size", type=int, help="requests scored together (default 256)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: usable cores, at most 4)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    common(p, None)
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("evaluate", help="ranking quality against graded judgments")
    p.add_argument("--requests", required=True, type=Path)
    p.add_argument("--qrels", required=True, type=Path, help="TSV: request_id, profile_id, grade")
    p.add_argument("--per-request", type=Path, default=None, help="also write per-request metrics to this CSV")
    common(p, None)
    p.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "top_k", 1) < 1:
        _log("error: --top-k must be at least 1")
        return 2
    try:
        return args.func(args)
    except DataError as exc:
        _log(f"error: {exc}")
        return 2


def run() -> NoReturn:
    """The command's entry point (``expe-match``, ``python -m matching``): :func:`main`, then exit.

    A command is one short process: the garbage collector stays off while it runs, and every
    object is frozen out of its reach before the process exits. Its collections would traverse
    the index's objects for no garbage: 56–83 ms of a one-off ``match``'s 0.6 s, 151 ms of a
    batch's parent process, and the interpreter's last collections took half a second after a
    batch over 10,000 profiles (bench/README.md). A batch collects each block's young
    generations itself (:mod:`matching.batch`). Not done in :func:`main`, which a notebook or a
    test may call and then go on.
    """
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
