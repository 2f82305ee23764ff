"""The figures behind the re-ranking's and the explanation's shortcuts, each against what it
replaces, on the entries of real 32-request chunks (the first chunks of a block).

```sh
.venv/bin/python bench/rerank_figures.py [--profiles bench/out/profiles_10000_s7.jsonl] \
    [--requests bench/out/requests_20000_s7.jsonl] [--limit 2048]
```

Prints, least of many repetitions (microseconds per chunk): row sums by ``row_sums`` or
``np.bincount`` (the feedback's similarities: all the candidates' entries), and by scipy's
product or bincount on the candidates of 1 to 32 requests; the grouping of
``lone_expansions`` by a stable sort or ``np.unique``; the explanation's order by two stable
sorts or ``np.lexsort``; then the re-ranking (``Reranker.rescore``) and the explanation's
numpy part (``Explainer._top_terms``) in microseconds per request.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import timeit
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def least(fn: Callable[[], object], number: int = 20, repeat: int = 15) -> float:
    """Least wall time of one call of ``fn`` over ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "bench/out/requests_20000_s7.jsonl")
    parser.add_argument("--limit", type=int, default=2048)
    args = parser.parse_args()

    import numpy as np
    import scipy.sparse as sp

    from matching.data.loading import iter_request_blocks
    from matching.engine import build_matcher_from_file
    from matching.index.sparse import dense_rows, row_slices, row_sums
    from matching.retrieval import reranking
    from matching.retrieval.evidence import in_small_groups
    from matching.retrieval.filters import MatchFilters

    matcher = build_matcher_from_file(args.profiles)
    index, filters = matcher.index, MatchFilters(as_of=date(2026, 11, 26))
    calls: list[tuple] = []
    rescore = reranking.Reranker.rescore

    def recorded(self, *call):  # the re-ranking's inputs, as a batch passes them
        calls.append(call)
        return rescore(self, *call)

    reranking.Reranker.rescore = recorded  # type: ignore[method-assign]
    explained = []
    for block in itertools.islice(iter_request_blocks(args.requests, 1024), -(-args.limit // 1024)):
        queries = [matcher.query_analyzer.analyse(r["text"], r.get("language") or None) for r in block]
        vectors = matcher.query_analyzer.vectorize(queries)
        ranked = matcher._rank_vectors(vectors, filters, 10, None, np.array([q.evidence_terms for q in queries]))
        explained.append(ranked.hits)
    reranking.Reranker.rescore = rescore  # type: ignore[method-assign]
    n_requests = sum(call[1].shape[0] for call in calls)

    # One chunk of 32 requests' candidates, as rescore sees it.
    vectors, candidates = calls[0][0], calls[0][1]
    depth, n_terms = candidates.shape[1], index.n_terms
    rows = candidates[:32].ravel()
    offsets, columns, values = row_slices(index.matrix_, rows)
    owner = np.repeat(np.arange(len(rows)), np.diff(offsets))
    products = values * dense_rows(vectors, 0, 32).ravel().take((owner // depth) * n_terms + columns)
    weights = products.astype(np.float64) + values  # dense-ish, like the feedback's similarities
    print(f"chunk: {len(rows):,} candidate rows, {len(columns):,} entries")
    print(f"row sums: row_sums {1e6 * least(lambda: row_sums(offsets, columns, weights, n_terms)):7.1f} µs, ", end="")
    print(f"np.bincount {1e6 * least(lambda: np.bincount(owner, weights, len(rows))):7.1f} µs")
    # dense_rows on some rows of a block (its own writing) against scipy's slice and toarray.
    some = least(lambda: dense_rows(vectors, 32, 64))
    matrix = vectors.to_csr()
    sliced = least(lambda: matrix[32:64].toarray())
    print(f"dense rows 32:64 of {vectors.shape[0]}: dense_rows {1e6 * some:6.1f} µs, ", end="")
    print(f"slice and toarray {1e6 * sliced:6.1f} µs")
    # Where row_sums switches from bincount to scipy's product (_SCIPY_MIN_SUMMED): the two
    # on the candidates of 1 to 32 requests.
    for n_requests_summed in (1, 2, 4, 8, 32):
        end = int(offsets[n_requests_summed * depth])
        part = (offsets[: n_requests_summed * depth + 1], columns[:end], weights[:end])
        shape = (n_requests_summed * depth, n_terms)
        ones = np.ones(n_terms)

        def by_product(part=part, shape=shape, ones=ones) -> np.ndarray:
            return sp.csr_matrix((part[2], part[1], part[0]), shape=shape) @ ones

        def by_bincount(part=part, shape=shape) -> np.ndarray:
            return np.bincount(np.repeat(np.arange(shape[0]), np.diff(part[0])), part[2], shape[0])

        assert by_product().tobytes() == by_bincount().tobytes()
        print(
            f"  {n_requests_summed:2d} requests' candidates ({end:,} entries): scipy product "
            f"{1e6 * least(by_product):6.1f} µs, bincount {1e6 * least(by_bincount):6.1f} µs"
        )

    hit = np.flatnonzero(products != 0)
    codes = index.expansion_codes_.take((index.matrix_.indptr[rows] - offsets[:-1]).take(owner[hit]) + hit)
    expanded = np.flatnonzero(codes > 0)
    keys = owner[hit][expanded] * (len(index.expansion_phrases_) + 1) + codes[expanded]

    def by_stable_sort() -> np.ndarray:  # lone_expansions' grouping
        return in_small_groups(keys, 2)

    def by_unique() -> np.ndarray:
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return counts[inverse] < 2

    assert np.array_equal(by_stable_sort(), by_unique())
    stable, unique = least(by_stable_sort), least(by_unique)
    print(f"grouping {len(keys):,} keys: stable sort {1e6 * stable:7.1f} µs, np.unique {1e6 * unique:7.1f} µs")

    # The explanation's ordering of the ranked pairs of the first 32 requests (10 each), from
    # the hits the ranking kept.
    ranked = explained[0].select(np.arange(32 * 10))
    pairs = np.arange(ranked.n_pairs)
    evidence = np.flatnonzero(ranked.products != 0)
    owner, kept = np.repeat(pairs, np.diff(ranked.bounds))[evidence], ranked.products[evidence]

    def two_sorts() -> np.ndarray:
        by_product = np.argsort(-kept, kind="stable")
        return by_product.take(np.argsort(owner.astype(np.uint16).take(by_product), kind="stable"))

    assert np.array_equal(two_sorts(), np.lexsort((-kept, owner)))
    print(
        f"ordering {len(kept):,} products of {len(pairs)} pairs: two stable sorts {1e6 * least(two_sorts):7.1f} µs, ",
        end="",
    )
    print(f"np.lexsort {1e6 * least(lambda: np.lexsort((-kept, owner))):7.1f} µs")

    reranker, explainer = matcher._reranker(), matcher._explainer()

    def rescore_all() -> None:
        for call in calls:
            reranker.rescore(*call)

    def explain_all() -> None:
        for hits in explained:
            explainer._top_terms(hits)

    for name, fn in (("rescore", rescore_all), ("explanation (numpy)", explain_all)):
        print(f"{name:<20} {1e6 * least(fn, number=1) / n_requests:7.1f} µs/request ({n_requests:,} requests)")


if __name__ == "__main__":
    main()
