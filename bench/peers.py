"""Baseline engines doing the same job as ours on the same files: bm25s and tantivy.

- **bm25s**: BM25 with bm25s's own tokeniser, French stop words (the ``stop-words``
  package, the one our engine uses too) and the French Snowball stemmer (PyStemmer).
- **tantivy**: BM25 with tantivy's built-in French stemming tokenizer ``fr_stem``
  (lower-casing and Snowball French stemming, no stop words, no accent folding).

Both index one field per profile, ``title + description + contact``, and are queried with
the request text as written (for tantivy, reduced to its words, so that no character of the
request is taken for query syntax). Both return the top k profiles *valid* on ``as_of``:
they over-fetch, drop expired labels, and fetch again when too few valid ones were left.

This module is both a library (:func:`make_peer`, :func:`read_profiles`) and the
whole-process batch job used by ``bench/run.py``::

    python bench/peers.py batch --engine bm25s --profiles P --requests R --out O [--as-of DATE]

which loads the files, builds the index, answers every request (streamed in blocks) and
writes ``request_id,rank,expert_id,score`` rows to a CSV file, like ``python -m matching batch``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = [
    "ENGINES",
    "PeerProfiles",
    "Peer",
    "Bm25sPeer",
    "TantivyPeer",
    "make_peer",
    "read_profiles",
    "iter_jsonl_blocks",
    "profile_text",
]

ENGINES = ("bm25s", "tantivy")
LABEL_YEARS = 3
_WORD = re.compile(r"\w+")


# ---------------------------------------------------------------------------- data
def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON Lines file (UTF-8, a BOM tolerated), blank lines skipped."""
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON Lines or CSV file (list fields of CSV separated by ``;``)."""
    if str(path).lower().endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            yield from csv.DictReader(fh, dialect=dialect)
    else:
        yield from read_jsonl(path)


def iter_jsonl_blocks(path: str | Path, block_size: int) -> Iterator[list[dict[str, Any]]]:
    """Stream records in blocks of ``block_size``."""
    block: list[dict[str, Any]] = []
    for record in read_records(path):
        block.append(record)
        if len(block) >= block_size:
            yield block
            block = []
    if block:
        yield block


def profile_text(record: dict[str, Any]) -> str:
    """What the peers index: title, description and contact, one field."""
    return "\n".join(str(record.get(f) or "") for f in ("title", "description", "contact"))


def _label_end(start: date, end: str | None) -> date:
    if end:
        return date.fromisoformat(str(end)[:10])
    try:
        return start.replace(year=start.year + LABEL_YEARS)
    except ValueError:  # 29 February
        return start.replace(year=start.year + LABEL_YEARS, day=28)


@dataclass
class PeerProfiles:
    """Profiles as the peers see them: ids, indexed texts, and label validity on ``as_of``."""

    ids: list[str]
    texts: list[str]
    valid: np.ndarray  # bool, shape (n_profiles,)


def read_profiles(path: str | Path, as_of: date | None = None) -> PeerProfiles:
    """Read a profiles file; ``valid`` marks labels valid on ``as_of`` (default today)."""
    as_of = as_of or date.today()
    ids, texts, valid = [], [], []
    for record in read_records(path):
        start = date.fromisoformat(str(record["label_start"])[:10])
        end = _label_end(start, record.get("label_end"))
        ids.append(str(record["id"]))
        texts.append(profile_text(record))
        valid.append(start <= as_of <= end)
    return PeerProfiles(ids, texts, np.asarray(valid, dtype=bool))


# ---------------------------------------------------------------------------- engines
class Peer(Protocol):
    name: str

    def fit(self, texts: Sequence[str]) -> Peer: ...

    def search_many(
        self, queries: Sequence[str], k: int = 10, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        """Top ``k`` (row, score) per query, best first, only rows where ``allowed``."""
        ...


def _filtered(hits: list[tuple[int, float]], allowed: np.ndarray | None, k: int) -> list[tuple[int, float]]:
    if allowed is None:
        return hits[:k]
    return [(row, score) for row, score in hits if allowed[row]][:k]


def _initial_fetch(k: int, n_docs: int, allowed: np.ndarray | None) -> int:
    if allowed is None:
        return min(k, n_docs)
    blocked = int(n_docs - allowed.sum())
    # Expired labels are a small share of a base: 2k + 10 leaves k valid ones almost always.
    return min(n_docs, k + min(blocked, k + 10))


class Bm25sPeer:
    """bm25s (numpy backend unless numba is installed) with French stop words and stemmer."""

    name = "bm25s"

    def __init__(self, n_threads: int = 0) -> None:
        import bm25s
        import Stemmer
        from stop_words import get_stop_words

        self._bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("french")
        self.stopwords = get_stop_words("fr")
        self.n_threads = n_threads

    def _tokenize(self, texts: Sequence[str], ids: bool) -> Any:
        return self._bm25s.tokenize(
            list(texts), stopwords=self.stopwords, stemmer=self.stemmer, return_ids=ids, show_progress=False
        )

    def fit(self, texts: Sequence[str]) -> Bm25sPeer:
        self.retriever = self._bm25s.BM25()
        self.retriever.index(self._tokenize(texts, True), show_progress=False)
        self.n_docs = len(texts)
        return self

    def _retrieve(self, tokens: list[list[str]], fetch: int) -> tuple[np.ndarray, np.ndarray]:
        docs, scores = self.retriever.retrieve(tokens, k=fetch, show_progress=False, n_threads=self.n_threads)
        return docs, scores

    def search_many(
        self, queries: Sequence[str], k: int = 10, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        tokens = self._tokenize(queries, False)
        out: list[list[tuple[int, float]]] = [[] for _ in queries]
        todo = list(range(len(queries)))
        fetch = _initial_fetch(k, self.n_docs, allowed)
        while todo:
            docs, scores = self._retrieve([tokens[i] for i in todo], fetch)
            again = []
            for j, i in enumerate(todo):
                hits = [(int(d), float(s)) for d, s in zip(docs[j], scores[j], strict=True) if s > 0]
                out[i] = _filtered(hits, allowed, k)
                if len(out[i]) < k and len(hits) == fetch and fetch < self.n_docs:
                    again.append(i)
            todo, fetch = again, min(self.n_docs, fetch * 4)
        return out


class TantivyPeer:
    """tantivy in memory, one text field with the ``fr_stem`` tokenizer, BM25 scoring."""

    name = "tantivy"

    def __init__(self, heap_bytes: int = 100_000_000) -> None:
        import tantivy

        self._tantivy = tantivy
        self.heap_bytes = heap_bytes

    def fit(self, texts: Sequence[str]) -> TantivyPeer:
        tv = self._tantivy
        builder = tv.SchemaBuilder()
        builder.add_text_field("text", stored=False, tokenizer_name="fr_stem")
        builder.add_integer_field("row", stored=False, indexed=False, fast=True)
        self.index = tv.Index(builder.build())
        writer = self.index.writer(self.heap_bytes, 1)
        for row, text in enumerate(texts):
            writer.add_document(tv.Document(text=text, row=row))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.n_docs = len(texts)
        return self

    def query(self, text: str) -> Any:
        """The request's words only (lower-cased: no AND/OR/NOT operators, no syntax)."""
        words = _WORD.findall(text.lower())
        if not words:
            return self._tantivy.Query.empty_query()
        query, _errors = self.index.parse_query_lenient(" ".join(words), ["text"])
        return query

    def _search(self, query: Any, fetch: int) -> list[tuple[int, float]]:
        hits = self.searcher.search(query, fetch, count=False).hits
        if not hits:
            return []
        rows = self.searcher.fast_field_values("row", [address for _score, address in hits])
        return [(int(r), float(score)) for r, (score, _address) in zip(rows, hits, strict=True)]

    def search_many(
        self, queries: Sequence[str], k: int = 10, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        out = []
        first = _initial_fetch(k, self.n_docs, allowed)
        for text in queries:
            query, fetch = self.query(text), first
            while True:
                hits = self._search(query, fetch)
                kept = _filtered(hits, allowed, k)
                if len(kept) >= k or len(hits) < fetch or fetch >= self.n_docs:
                    break
                fetch = min(self.n_docs, fetch * 4)
            out.append(kept)
        return out


def make_peer(name: str, **options: Any) -> Peer:
    """A fresh, unfitted peer engine by name (see :data:`ENGINES`)."""
    if name == "bm25s":
        return Bm25sPeer(**options)
    if name == "tantivy":
        return TantivyPeer(**options)
    raise ValueError(f"unknown peer engine '{name}' (expected one of {', '.join(ENGINES)})")


# ---------------------------------------------------------------------------- whole-process batch
def run_batch(
    engine: str,
    profiles: Path,
    requests: Path,
    out: Path,
    as_of: date | None,
    top_k: int,
    block_size: int,
    n_threads: int,
) -> tuple[int, float]:
    """Load, index, answer every request, write CSV; return (requests, seconds)."""
    started = time.perf_counter()
    base = read_profiles(profiles, as_of)
    peer = make_peer(engine, n_threads=n_threads) if engine == "bm25s" else make_peer(engine)
    peer.fit(base.texts)
    n = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("request_id", "rank", "expert_id", "score"))
        for block in iter_jsonl_blocks(requests, block_size):
            results = peer.search_many([str(r["text"]) for r in block], top_k, base.valid)
            for record, hits in zip(block, results, strict=True):
                rid = record["id"]
                writer.writerows(
                    (rid, rank, base.ids[row], round(score, 4)) for rank, (row, score) in enumerate(hits, start=1)
                )
            n += len(block)
    return n, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peer engines (bm25s, tantivy) as whole-process batch jobs.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("batch", help="load, index, answer every request, write CSV")
    p.add_argument("--engine", choices=ENGINES, required=True)
    p.add_argument("--profiles", type=Path, required=True)
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="label validity date (default today)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--block-size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=0, help="bm25s retrieval threads (0: one)")
    args = parser.parse_args(argv)
    n, seconds = run_batch(
        args.engine, args.profiles, args.requests, args.out, args.as_of, args.top_k, args.block_size, args.threads
    )
    print(
        f"{args.engine}: {n:,} requests in {seconds:.2f} s ({n / seconds:,.0f} requests/s) -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
