"""Where a batch's time goes, stage by stage, in one process (no profiler overhead).

```sh
.venv/bin/python bench/stages.py [--profiles bench/out/profiles_10000_s7.jsonl] \
    [--requests bench/out/requests_20000_s7.jsonl] [--limit 4096] [--as-of 2026-11-26]
```

Prints the build's parts (loading, lexicons, index, analyser, prior), then, over blocks of
1,024 requests: request analysis, vectorising, ranking, explanation and formatting rows, in
seconds and milliseconds per request.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    parser.add_argument("--requests", type=Path, default=ROOT / "bench/out/requests_20000_s7.jsonl")
    parser.add_argument("--limit", type=int, default=4096)
    parser.add_argument("--block", type=int, default=1024)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    args = parser.parse_args()

    t0 = time.perf_counter()
    import numpy as np

    from matching.analysis.lexicon import load_acronyms, load_glossary, load_thesaurus
    from matching.analysis.query import QueryAnalyzer
    from matching.batch import match_block
    from matching.data.loading import iter_request_blocks, load_profiles
    from matching.engine import lexicon_files
    from matching.index.profiles import ProfileIndex
    from matching.retrieval.domain_prior import DomainPrior
    from matching.retrieval.filters import MatchFilters
    from matching.retrieval.ranking import Matcher

    build: dict[str, float] = {"imports": time.perf_counter() - t0}

    def timed(name: str, fn):
        start = time.perf_counter()
        value = fn()
        build[name] = time.perf_counter() - start
        return value

    profiles = timed("load profiles", lambda: load_profiles(args.profiles))
    files = lexicon_files()
    expansion = timed("expansion lexicon", lambda: load_thesaurus(files["thesaurus"], reverse=True))
    index = timed("index fit", lambda: ProfileIndex(expansion=expansion).fit(profiles))
    glossary = timed("glossary", lambda: load_glossary(files["glossary"]))
    thesaurus = timed("thesaurus", lambda: load_thesaurus(files["thesaurus"]))
    acronyms = timed("acronyms", lambda: load_acronyms(files["acronyms"]))
    analyzer = timed(
        "analyser fit", lambda: QueryAnalyzer(glossary=glossary, thesaurus=thesaurus, acronyms=acronyms).fit(index)
    )
    prior = timed("domain prior", lambda: DomainPrior().fit(index))
    matcher = Matcher(index, analyzer, prior)
    filters = MatchFilters(as_of=args.as_of)
    timed("filtered index", lambda: matcher.prepare(filters))
    # Word frequencies (typo correction) and the language model apart: a batch whose requests
    # all declare their language loads only the former.
    timed("word frequencies", lambda: analyzer.warm_up(detection=False))
    timed("language model", lambda: analyzer.warm_up(detection=True))
    for name, seconds in build.items():
        print(f"build  {name:<20} {seconds:7.3f} s")
    print(f"build  {'total':<20} {sum(build.values()):7.3f} s")

    stages = dict.fromkeys(["analyse", "vectorize", "rank", "explain", "rows"], 0.0)
    n = 0
    blocks = itertools.islice(iter_request_blocks(args.requests, args.block), -(-args.limit // args.block))
    for block in blocks:
        texts = [r["text"] for r in block]
        langs = [r.get("language") or None for r in block]
        t = time.perf_counter()
        queries = [analyzer.analyse(x, lang) for x, lang in zip(texts, langs, strict=True)]
        stages["analyse"] += time.perf_counter() - t
        t = time.perf_counter()
        vectors = analyzer.vectorize(queries)
        evidence = np.array([q.evidence_terms for q in queries])
        stages["vectorize"] += time.perf_counter() - t
        t = time.perf_counter()
        ranked = matcher._rank_vectors(vectors, filters, 10, None, evidence)
        stages["rank"] += time.perf_counter() - t
        t = time.perf_counter()
        matcher._explainer().explain(ranked.rows, ranked.hits, queries)
        stages["explain"] += time.perf_counter() - t
        t = time.perf_counter()
        match_block(matcher, block, filters, 10)
        stages["rows"] += time.perf_counter() - t
        n += len(block)
    whole = stages.pop("rows")
    stages["rows (format)"] = whole - sum(stages.values())
    for name, seconds in stages.items():
        print(f"match  {name:<20} {seconds:7.3f} s  {1000 * seconds / n:6.3f} ms/request")
    print(f"match  {'total (match_block)':<20} {whole:7.3f} s  {1000 * whole / n:6.3f} ms/request  ({n:,} requests)")


if __name__ == "__main__":
    main()
