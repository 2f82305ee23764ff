"""Where one request's time goes (the staff page's and the API's case, and bench/run.py's
"single query"), stage by stage, in one process.

```sh
.venv/bin/python bench/single_request.py [--profiles bench/out/profiles_10000_s7.jsonl] \
    [--requests bench/out/requests_1000_s7.jsonl] [--limit 150] [--as-of 2026-11-26]
```

Builds the matcher, answers 10 requests to warm up, then, on the next ``--limit`` requests
(language not declared, as bench/run.py asks them):

- the median time of ``Matcher.search`` on each request's first sight (its new words analysed)
  and second (every cache warm), and of analysis alone, first and second;
- each stage of a request seen for the first time (``--limit`` more requests), timed once in
  the order of a search, median over the requests;
- each stage of a warm request, least of 7 calls, averaged over the requests: language
  detection, analysis (language declared), vectorising, the first stage (candidates'
  scores and their selection), the domain prior, the re-ranking, explanation.
- the copies of rows a request makes, each way the code could make them (the first stage's
  postings, the feedback's 3 profiles, the 50 candidates), and its weights as plain rows
  (``SparseRows``) or as a scipy matrix: made, and multiplied by the terms' highest impacts and
  by the domain centroids; least of 7 calls, averaged over the requests.

Compare checkouts by running it on each in turn, more than once: the machine's speed drifts.
"""

# The timed lambdas run within their loop's iteration: late binding of its variables is harmless.
# ruff: noqa: B023

from __future__ import annotations

import argparse
import json
import sys
import time
import timeit
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "bench/out/requests_1000_s7.jsonl")
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    args = parser.parse_args()

    import numpy as np

    from matching import MatchFilters, build_matcher, load_profiles
    from matching.analysis.language import detect_language
    from matching.retrieval.candidates import best_columns, first_stage_scores

    with open(args.requests, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(2 * args.limit + 10), fh, strict=False)]
    matcher = build_matcher(load_profiles(args.profiles))
    filters = MatchFilters(as_of=args.as_of)
    for text in texts[:10]:
        matcher.search(text, filters, top_k=10)
    texts, unseen = texts[10 : args.limit + 10], texts[args.limit + 10 :]
    analyzer = matcher.query_analyzer

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    first, second, analysed_first, analysed_second = [], [], [], []
    half = len(texts) // 2
    for text in texts[:half]:  # whole searches, first and second sight
        first.append(timed(lambda: matcher.search(text, filters, top_k=10)))
        second.append(timed(lambda: matcher.search(text, filters, top_k=10)))
    for text in texts[half:]:  # analysis alone, first and second sight
        analysed_first.append(timed(lambda: analyzer.analyse(text)))
        analysed_second.append(timed(lambda: analyzer.analyse(text)))
    median = lambda values: 1e3 * float(np.median(values))  # noqa: E731
    print(f"search, median ms: first sight {median(first):.3f}, second {median(second):.3f}")
    print(f"analysis, median ms: first sight {median(analysed_first):.3f}, second {median(analysed_second):.3f}")

    # Each stage of a request seen for the first time, timed once, in the order a search runs
    # them: what a staff member's request costs. Each stage then finds the caches as the
    # previous one left them (a warm stage timed on its own, below, finds its data in cache).
    explainer = matcher._explainer()
    first_stages: dict[str, list[float]] = {}
    for text in unseen:
        times = []
        started = time.perf_counter()
        detected = analyzer._detect([text])[0]
        times.append(time.perf_counter())
        query = analyzer._analyse(text, detected)
        times.append(time.perf_counter())
        vector = analyzer.vectorize([query])
        evidence = np.array([query.evidence_terms])
        times.append(time.perf_counter())
        ranked = matcher._rank_vectors(vector, filters, 10, None, evidence)
        times.append(time.perf_counter())
        explainer.explain(ranked.rows, ranked.hits, [query])
        times.append(time.perf_counter())
        names = ("detection", "analysis", "vectorising", "ranking", "explanation")
        for name, before, after in zip(names, [started, *times[:-1]], times, strict=True):
            first_stages.setdefault(name, []).append(after - before)
        first_stages.setdefault("all five", []).append(times[-1] - started)
    print(f"first-sight stages, timed once in a search's order, median over {len(unseen)} requests (µs):")
    for name, values in first_stages.items():
        print(f"  {name:22s} {1e3 * median(values):8.1f}")

    def least(fn) -> float:
        return min(timeit.repeat(fn, number=1, repeat=7))

    allowed_rows, postings, frequent = matcher._allowed(filters)
    reranker = matcher._reranker()
    stages: dict[str, float] = {}
    for text in texts:
        query = analyzer.analyse(text)
        language = query.language.code
        vector = analyzer.vectorize([query])
        evidence = np.array([query.evidence_terms])
        partial = first_stage_scores(vector, postings, frequent)
        depth = min(len(allowed_rows), matcher.rerank_depth)
        candidates = allowed_rows[best_columns(partial, depth)]
        confidence = np.minimum(1.0, evidence / matcher.confident_terms)[:, None]
        prior = reranker.prior_factor(vector, candidates, confidence)
        ranked = matcher._rank_vectors(vector, filters, 10, None, evidence)
        for name, fn in (
            ("detection", lambda: detect_language(text)),
            ("analysis (declared)", lambda: analyzer.analyse(text, language)),
            ("vectorising", lambda: analyzer.vectorize([query])),
            ("first stage", lambda: first_stage_scores(vector, postings, frequent)),
            ("selection", lambda: best_columns(partial, depth)),
            ("domain prior", lambda: reranker.prior_factor(vector, candidates, confidence)),
            ("re-ranking", lambda: reranker.rescore(vector, candidates, prior, confidence)),
            ("ranking in all", lambda: matcher._rank_vectors(vector, filters, 10, None, evidence)),
            ("explanation", lambda: explainer.explain(ranked.rows, ranked.hits, [query])),
            ("search in all", lambda: matcher.search(text, filters, top_k=10)),
        ):
            stages[name] = stages.get(name, 0.0) + least(fn)
    print(f"warm stages, least of 7 calls, mean over {len(texts)} requests (µs):")
    for name, total in stages.items():
        print(f"  {name:22s} {1e6 * total / len(texts):8.1f}")

    # The row copies of a request, each way (the choices of matching/index/sparse.py), and its
    # weights as plain rows (QueryAnalyzer.vectorize) or as the scipy matrix they once were.
    import scipy.sparse as sp

    from matching.index.sparse import SparseRows, long_rows, row_entries, row_slices
    from matching.retrieval.candidates import kept_entries

    matrix, copies = matcher.index.matrix_, {}
    max_impact, centroids = matcher.index.max_impact_, matcher.domain_prior.centroids_by_term_
    for text in texts:
        query = analyzer.analyse(text)
        vector = analyzer.vectorize([query])
        terms = vector.indices[kept_entries(vector, frequent)]
        candidates = allowed_rows[best_columns(first_stage_scores(vector, postings, frequent), depth)][0]
        as_matrix = vector.to_csr()

        def scipy_matrix() -> sp.csr_matrix:
            weights, n = query.weights, len(query.weights)
            indices = np.fromiter(weights.keys(), dtype=np.int32, count=n)
            data = np.fromiter(weights.values(), dtype=np.float32, count=n)
            made = sp.csr_matrix((data, indices, np.array([0, n], dtype=np.int32)), shape=vector.shape)
            made.sort_indices()
            return made

        for name, fn in (
            ("postings: long_rows", lambda: long_rows(postings, terms)),
            ("postings: row_entries", lambda: row_entries(postings, terms)),
            ("3 profiles: long_rows", lambda: long_rows(matrix, candidates[:3])),
            ("3 profiles: row_entries", lambda: row_entries(matrix, candidates[:3])),
            ("50 profiles: long_rows", lambda: long_rows(matrix, candidates)),
            ("50 profiles: row_slices", lambda: row_slices(matrix, candidates)),
            ("weights: SparseRows", lambda: SparseRows.from_rows([query.weights], vector.n_columns)),
            ("weights: scipy matrix", scipy_matrix),
            ("ceilings: SparseRows", lambda: vector.dot(max_impact)),
            ("ceilings: scipy", lambda: as_matrix @ max_impact),
            ("domains: SparseRows", lambda: vector.dot(centroids)),
            ("domains: scipy", lambda: as_matrix @ centroids),
        ):
            copies[name] = copies.get(name, 0.0) + least(fn)
    print(f"row copies and request weights, least of 7 calls, mean over {len(texts)} requests (µs):")
    for name, total in copies.items():
        print(f"  {name:24s} {1e6 * total / len(texts):8.1f}")


if __name__ == "__main__":
    main()
