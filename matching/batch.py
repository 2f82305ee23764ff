"""Batch matching of request backlogs, streamed in blocks, in parallel, with a progress bar.

Requests are read, scored and written block by block, so memory stays bounded whatever the
backlog's size. Each block is scored as one sparse product (see :mod:`matching.retrieval.ranking`).
With several workers, blocks are scored in forked processes that share the fitted index
copy-on-write; output keeps the input order. The output file appears only when the whole
backlog succeeded (written aside, then renamed): a rejected input leaves nothing behind.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from matching.data.loading import iter_request_blocks
from matching.retrieval.filters import FILTER_FIELDS, MatchFilters
from matching.retrieval.ranking import Matcher

__all__ = [
    "BATCH_COLUMNS",
    "BLOCK_SIZE",
    "BatchSummary",
    "batch_rows",
    "match_block",
    "needs_language_model",
    "run_batch",
    "write_rows",
]

#: Requests read, scored and handed to a worker together. Each block is scored in steps of
#: about a million (request, profile) cells anyway, so smaller blocks cost little per request,
#: and they shorten the end of a run, where one process waits for the other's last block.
BLOCK_SIZE = 256

BATCH_COLUMNS = ("request_id", "rank", "expert_id", "score", "holder", "title", "language", "matched_terms")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: requests read, result rows written, seconds, requests per second."""

    requests: int
    rows: int
    seconds: float
    output: str | None = None

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return (
            f"{self.requests:,} requests, {self.rows:,} result rows in {self.seconds:.2f} s "
            f"({self.requests_per_second:,.0f} requests/s)"
        )


def match_block(matcher: Matcher, requests: list[dict[str, Any]], filters: MatchFilters, top_k: int) -> list[tuple]:
    """Result rows (see :data:`BATCH_COLUMNS`) for one block of validated requests."""
    results = matcher.search_many(
        [r["text"] for r in requests], filters, top_k, [r.get("language") or None for r in requests]
    )
    meta = matcher.index.metadata_
    # Scores, holders and titles of the whole block at once: numpy's per-call cost, paid per
    # request, outweighed the work on its ten rows.
    matches = [m for result in results for m in result.matches]
    rows = np.fromiter((m.row for m in matches), dtype=np.int64, count=len(matches))
    scores = np.round(np.fromiter((m.score for m in matches), dtype=np.float64, count=len(matches)), 4).tolist()
    holders = meta.holders_[rows].tolist()
    titles = meta.fields_["title"][rows].tolist()
    out = []
    i = 0
    for request, result in zip(requests, results, strict=True):
        request_id, language = request["id"], result.language.code
        for m in result.matches:
            out.append(
                (
                    request_id,
                    m.rank,
                    m.expert_id,
                    scores[i],
                    holders[i],
                    titles[i],
                    language,
                    [t.label() for t in m.matched_terms],
                )
            )
            i += 1
    return out


def batch_rows(
    matcher: Matcher,
    requests: str | Path | bytes,
    filters: MatchFilters | None = None,
    top_k: int = 10,
    block_size: int = BLOCK_SIZE,
    name: str | None = None,
    sheet: str | None = None,
) -> tuple[int, list[tuple]]:
    """``(requests read, result rows)`` for every request of ``requests``, in memory, in this
    process (for a small upload answered as JSON). Rows as :func:`match_block` returns them.
    Raises :class:`matching.DataError` on bad input."""
    filters = filters or MatchFilters()
    n_requests, rows = 0, []
    for block in iter_request_blocks(requests, block_size, name=name, sheet=sheet):
        rows.extend(match_block(matcher, block, filters, top_k))
        n_requests += len(block)
    return n_requests, rows


# Forked workers find the matcher here (inherited copy-on-write, never pickled).
_WORKER_STATE: tuple[Matcher, MatchFilters, int, str] | None = None


def _work(block: list[dict[str, Any]]) -> tuple[int, int, Any]:
    """Match one block and format its rows: ``(requests, rows, text)``. Workers send text back,
    which pickles far faster than the rows' tuples and leaves the parent only the writing.
    For a workbook (written by the parent alone), the rows and a brief of each request."""
    assert _WORKER_STATE is not None
    matcher, filters, top_k, fmt = _WORKER_STATE
    if fmt == "xlsx":
        from matching.data.workbook import request_brief

        rows = match_block(matcher, block, filters, top_k)
        return len(block), len(rows), (rows, [request_brief(r) for r in block])
    buffer = io.StringIO()
    n_rows = write_rows(buffer, match_block(matcher, block, filters, top_k), fmt, header=False)
    return len(block), n_rows, buffer.getvalue()


def _pool_work(block: list[dict[str, Any]]) -> tuple[int, int, Any]:
    """:func:`_work` in a pool's process, which then collects the block's garbage."""
    try:
        return _work(block)
    finally:
        _collect_block()


def _collected(results: Iterator[tuple[int, int, Any]]) -> Iterator[tuple[int, int, Any]]:
    """``results``, this process collecting its garbage after each (its own blocks' and its I/O's)."""
    for result in results:
        yield result
        _collect_block()


def _collect_block() -> None:
    """Collect a block's garbage cycles, then freeze what survived it.

    A batch runs with the collector off (see :func:`_results`): its automatic collections cost
    6–7% of the matching, most of it full collections traversing the caches that requests fill
    (words, typos, lexicon hits), which hold no cycles. After each block, the young generations
    alone are collected (the block's few cycles: about ten objects), then the survivors,
    mostly new cache entries, are frozen out of later collections (bench/README.md). Frozen
    objects are still freed by reference counting when a cache is emptied.
    """
    gc.collect(1)
    gc.freeze()


def _results(
    blocks: Iterable[list[dict]], matcher: Matcher, filters: MatchFilters, top_k: int, workers: int, fmt: str
) -> Iterator[tuple[int, int, Any]]:
    global _WORKER_STATE
    _WORKER_STATE = (matcher, filters, top_k, fmt)
    matcher.prepare(filters)  # builds the filtered inverted index once, shared by forked workers
    blocks = iter(blocks)
    first = next(blocks, [])
    # The language model (54 MiB) is loaded only when requests leave their language out,
    # as far as the first block tells; a later block without one loads it in its worker.
    matcher.query_analyzer.warm_up(detection=_leaves_language_out(first))
    blocks = itertools.chain([first], blocks) if first else blocks
    # Frozen objects are skipped by the garbage collector: its collections do not traverse the
    # index, lexicons and models, and forked workers never write to (and thus copy) the pages
    # they inherit. The collector is off meanwhile, in the workers too (they fork with it off):
    # each block's cycles are collected after it instead (see _collect_block).
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        if workers <= 1 or "fork" not in mp.get_all_start_methods():
            yield from _collected(map(_work, blocks))
            return
        with mp.get_context("fork").Pool(workers - 1) as pool:
            yield from _collected(_in_order(blocks, pool, workers))
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _leaves_language_out(block: list[dict[str, Any]]) -> bool:
    return any(not r.get("language") for r in block)


def needs_language_model(requests: str | Path, sheet: str | None = None) -> bool:
    """True when the first block of the requests file ``requests`` has a request without a
    language, so that a batch over it loads the language model. Only that block is read (and
    checked: raises :class:`matching.DataError` on bad input, as the batch would)."""
    blocks = iter_request_blocks(requests, BLOCK_SIZE, sheet=sheet)
    try:
        return _leaves_language_out(next(blocks, []))
    finally:
        blocks.close()  # the file is closed now, not when the generator is collected


def _in_order(blocks: Iterator[list[dict]], pool: Any, workers: int) -> Iterator[tuple[int, int, Any]]:
    """Results of every block, in input order, from the pool's ``workers - 1`` processes and
    from this one: a block goes to the pool while it has fewer than two blocks per process
    to work on, else it is matched here meanwhile. The parent (which also reads and writes)
    thus works instead of waiting, and one process fewer holds its own copy of the caches and
    buffers.

    Finished blocks at the head are handed on at once; the parent waits for the pool only when
    ``4 * workers`` blocks are in flight, and at the end, for the pool's last blocks: the
    smaller the blocks, the shorter that idle tail (bench/README.md). Memory stays bounded by
    the blocks in flight."""
    pending: deque[Any] = deque()
    for block in blocks:
        while pending and _done(pending[0]):
            yield _result(pending.popleft())
        while len(pending) >= 4 * workers:
            yield _result(pending.popleft())
        queued = sum(1 for item in pending if not _done(item))
        if queued < 2 * (workers - 1):
            pending.append(pool.apply_async(_pool_work, (block,)))
        else:
            pending.append(_work(block))
    while pending:
        yield _result(pending.popleft())


def _done(item: Any) -> bool:
    return isinstance(item, tuple) or item.ready()


def _result(item: Any) -> tuple[int, int, Any]:
    return item if isinstance(item, tuple) else item.get()


#: What ``json.dumps(record, ensure_ascii=False)`` uses, built once: given any non-default
#: argument, ``json.dumps`` builds a new encoder at every call.
_JSON_LINE = json.JSONEncoder(ensure_ascii=False)


def write_rows(fh: IO[str], rows: Iterable[tuple], fmt: str, header: bool = True) -> int:
    """Write result rows as CSV or JSON Lines; return how many were written."""
    n = 0
    if fmt == "jsonl":
        encode = _JSON_LINE.encode
        for row in rows:
            fh.write(encode(dict(zip(BATCH_COLUMNS, row, strict=True))) + "\n")
            n += 1
        return n
    writer = csv.writer(fh, lineterminator="\n")
    if header:
        writer.writerow(BATCH_COLUMNS)
    write = fh.write
    for request_id, rank, expert_id, score, holder, title, language, terms in rows:
        fields = (request_id, rank, expert_id, score, holder, title, language, "; ".join(terms))
        # The csv module quotes a field (minimal quoting, no escape character) only when it
        # holds the delimiter, the quote character, CR or LF, and writes None as nothing;
        # without any of these, its line is the fields joined by commas (str() of numbers
        # too), built here at a fraction of its cost.
        line = f"{request_id},{rank},{expert_id},{score},{holder},{title},{language},{fields[-1]}\n"
        plain = line.count(",") == len(fields) - 1 and line.count("\n") == 1 and '"' not in line and "\r" not in line
        if plain and None not in fields:
            write(line)
        else:
            writer.writerow(fields)
        n += 1
    return n


def run_batch(
    matcher: Matcher,
    requests: str | Path | bytes,
    out: str | Path | IO[str] | IO[bytes],
    filters: MatchFilters | None = None,
    top_k: int = 10,
    block_size: int = BLOCK_SIZE,
    workers: int | None = None,
    progress: bool = True,
    fmt: str | None = None,
    name: str | None = None,
    sheet: str | None = None,
) -> BatchSummary:
    """Match every request of ``requests`` (path or bytes; CSV, JSON Lines or .xlsx, ``sheet``
    naming the worksheet) and write the results to ``out``.

    ``fmt`` is ``"csv"``, ``"jsonl"`` or ``"xlsx"`` (default: from ``out``'s extension, else
    CSV); for ``"xlsx"``, ``out`` is a path or a binary file (see :mod:`matching.data.workbook`).
    ``name`` is the input's name in error messages (default: its path, or "upload").
    ``workers`` defaults to the number of usable cores (at most 4).
    Raises :class:`matching.DataError` on bad input, leaving no output file.
    """
    filters = filters or MatchFilters()
    if workers is None:
        workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if fmt is None:
        lower = str(out).lower() if isinstance(out, (str, Path)) else ""
        fmt = "jsonl" if lower.endswith((".jsonl", ".ndjson")) else "xlsx" if lower.endswith(".xlsx") else "csv"
    started = time.perf_counter()
    n_requests = n_rows = 0
    bar = tqdm(desc="matching", unit=" requests", disable=not progress, file=sys.stderr, smoothing=0.1)

    def stream_workbook(fh: IO[bytes]) -> None:
        nonlocal n_requests, n_rows
        from matching.data.workbook import ResultWorkbook

        book = ResultWorkbook(matcher)
        try:
            blocks = iter_request_blocks(requests, block_size, name=name, sheet=sheet)
            for count, rows, (result_rows, briefs) in _results(blocks, matcher, filters, top_k, workers, fmt):
                book.add(result_rows, briefs)
                n_rows += rows
                n_requests += count
                bar.update(count)
        except BaseException:
            book.discard()
            raise
        source = name or (Path(requests).name if isinstance(requests, (str, Path)) else "upload")
        book.close(fh, source, time.perf_counter() - started, top_k, _options_fr(filters))

    def stream(fh: IO[str]) -> None:
        nonlocal n_requests, n_rows
        blocks = iter_request_blocks(requests, block_size, name=name, sheet=sheet)
        write_rows(fh, (), fmt, header=True)
        for count, rows, text in _results(blocks, matcher, filters, top_k, workers, fmt):
            fh.write(text)
            n_rows += rows
            n_requests += count
            bar.update(count)

    try:
        if isinstance(out, (str, Path)):
            path = Path(out)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            try:
                if fmt == "xlsx":
                    with open(fd, "wb") as binary:
                        stream_workbook(binary)
                else:
                    with open(fd, "w", encoding="utf-8", newline="") as fh:
                        stream(fh)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        elif fmt == "xlsx":
            stream_workbook(out)  # type: ignore[arg-type]
        else:
            stream(out)  # type: ignore[arg-type]
    finally:
        bar.close()
    target = str(out) if isinstance(out, (str, Path)) else None
    return BatchSummary(n_requests, n_rows, time.perf_counter() - started, target)


def _options_fr(filters: MatchFilters) -> dict[str, str]:
    """The run's filters, for the summary sheet (French, as the staff read it)."""
    options = {
        "Labels valides au": filters.as_of_date().strftime("%d/%m/%Y"),
        "Labels expirés inclus": "oui" if filters.include_expired else "non",
    }
    for field in FILTER_FIELDS:
        values = getattr(filters, field.name)
        if field.label_fr is not None and values:
            options[field.label_fr] = ", ".join(values)
    return options
