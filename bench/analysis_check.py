"""Request analysis on the synthetic requests: its speed, and a fingerprint of what it gives.

Builds the matcher of the 10,000 synthetic profiles, analyses 4,096 synthetic requests (their
language declared; run once first, so that the word caches are warm), then prints the time per
request (per 128-request chunk, the best of 5 runs, summed: noisy on a shared machine, compare
alternating runs), the time of language detection alone (py3langid text by text, and the block
scan of ``detect_languages``), and a SHA-1 of the analysed queries of those requests (declared,
then detected in blocks of 256) and of the bundled dev requests (detected, then declared):
language, weights, origins and own counts, in their order, pickled. A change meant to leave
analysis alone must leave the fingerprint alone. Last, the median search of 2,400 unseen
requests, their language detected by the block scan or by py3langid's walk, in turn by pairs::

    .venv/bin/python bench/analysis_check.py
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pickle
import statistics
import sys
import time
import timeit
from datetime import date
from pathlib import Path

from synth import synth_profiles, synth_requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's code, whichever the venv installed

from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts  # noqa: E402

from matching.analysis.language import CANDIDATES, DETECTION_CHARS, _identifier  # noqa: E402
from matching.data.loading import iter_request_blocks  # noqa: E402
from matching.engine import build_matcher_from_file  # noqa: E402
from matching.retrieval.filters import MatchFilters  # noqa: E402


def main() -> None:
    matcher = build_matcher_from_file(synth_profiles(10_000))
    blocks = iter_request_blocks(synth_requests(20_000), 1024)
    requests = [r for block in itertools.islice(blocks, 4) for r in block]
    with open(ROOT / "data" / "requests.jsonl", encoding="utf-8") as fh:
        dev = [json.loads(line) for line in fh]
    analyzer = matcher.query_analyzer
    analyzer.warm_up(True)

    def run(items: list[dict], declared: bool = True) -> list:
        return [analyzer.analyse(r["text"], r.get("language") if declared else None) for r in items]

    def run_blocks(items: list[dict]) -> list:  # detected, a block at a time, as a batch does
        blocks = [[r["text"] for r in items[i : i + 256]] for i in range(0, len(items), 256)]
        return [q for texts in blocks for q in analyzer.analyse_many(texts)]

    run(requests)
    total = 0.0
    for start in range(0, len(requests), 128):
        chunk = requests[start : start + 128]
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            run(chunk)
            best = min(best, time.perf_counter() - started)
        total += best
    print(f"analyse warm (sum of per-chunk minima): {total / len(requests) * 1000:.4f} ms/request")
    # Language detection alone: py3langid text by text, and the block scan, 256 texts at a time.
    stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    stock.set_languages(list(CANDIDATES))
    openings = [r["text"][:DETECTION_CHARS] for r in requests]
    one_by_one = min(timeit.repeat(lambda: [stock.classify(t) for t in openings], number=1, repeat=3))
    identifier = _identifier()
    by_block = min(
        timeit.repeat(
            lambda: [identifier.classify_many(openings[i : i + 256]) for i in range(0, len(openings), 256)],
            number=1,
            repeat=3,
        )
    )
    print(
        f"detection: py3langid one by one {one_by_one / len(openings) * 1e6:.1f} µs/request, "
        f"block scan {by_block / len(openings) * 1e6:.1f} µs/request"
    )

    # One text at a time (a staff member's request): its features counted by the block scan or
    # by py3langid's walk, each text once, in turn (a text timed over and over would find the
    # transition table's rows it reads in cache, which the first sight of a request does not).
    def least(fn) -> float:
        return min(timeit.repeat(fn, number=1, repeat=5))

    encoded = [identifier._encode(t) for t in openings[:400]]
    tables = (stock.tk_nextmove, stock._rowbase, stock.tk_output)
    one_text: dict[str, list[float]] = {"block scan": [], "py3langid's walk": []}
    for i, e in enumerate(encoded):
        pair = [
            ("block scan", lambda e=e: identifier._count_features([e])),
            ("py3langid's walk", lambda e=e: visit_counts(*tables, e)),
        ]
        for name, fn in pair if i % 2 else pair[::-1]:  # each first in turn
            started = time.perf_counter()
            fn()
            one_text[name].append(time.perf_counter() - started)
    print("one text's features, each text once (median): ", end="")
    print(", ".join(f"{name} {statistics.median(times) * 1e6:.1f} µs" for name, times in one_text.items()))
    encoded = encoded[:200]
    # Scores from py3langid's float16 rows and from the identifier's float32 rows (equal).
    visits = [v for v in identifier._count_features(encoded) if v]
    half = least(lambda: [stock._sparse_score(v, stock.nb_ptc) for v in visits]) / len(visits)
    single = least(lambda: [identifier._sparse_score(v, identifier.nb_ptc) for v in visits]) / len(visits)
    print(f"scores: float16 rows {half * 1e6:.1f} µs, float32 rows {single * 1e6:.1f} µs")
    digest = hashlib.sha1()
    for q in run(requests) + run_blocks(requests) + run(dev, False) + run(dev):
        state = (q.language, list(q.weights.items()), list(q.origins.items()), list(q.own_counts.items()))
        digest.update(pickle.dumps(state))
    print("fingerprint", digest.hexdigest())

    # Whole searches of requests seen for the first time, their language detected by the scan or
    # by py3langid's walk, interleaved by pairs of requests in one process (the machine's drift
    # then hits both alike): why one text is scanned too.
    filters = MatchFilters(as_of=date(2026, 11, 26))
    unseen = [r["text"] for block in itertools.islice(blocks, 3) for r in block][:2400]
    identifier_type = type(identifier)
    scan = identifier_type.classify_many
    searches: dict[str, list[float]] = {"scanned": [], "walked": []}
    try:
        for i, text in enumerate(unseen):
            name = "scanned" if i // 2 % 2 == 0 else "walked"
            identifier_type.classify_many = scan if name == "scanned" else _walked  # type: ignore[method-assign]
            started = time.perf_counter()
            matcher.search(text, filters, top_k=10)
            searches[name].append(time.perf_counter() - started)
    finally:
        identifier_type.classify_many = scan  # type: ignore[method-assign]
    print("one request's search, its language detected, median: ", end="")
    print(", ".join(f"{name} {statistics.median(times) * 1e3:.3f} ms" for name, times in searches.items()))


def _walked(identifier: LanguageIdentifier, texts: list[str]) -> list[tuple[str, float]]:
    return [identifier.classify(text) for text in texts]


if __name__ == "__main__":
    main()
