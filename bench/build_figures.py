"""The figures behind the index build's shortcuts, each against what it replaces (CPU time).

```sh
.venv/bin/python bench/build_figures.py [--profiles bench/out/profiles_10000_s7.jsonl]
```

Prints, best of a few runs: splitting the profiles' descriptions into words at once
(``split_texts``) or text by text (``Analyzer.words``); the head of wordfreq's word lists
(stop lists) read alone or with ``top_n_list``; Zipf frequencies of plain French words looked
up directly or with ``wordfreq.zipf_frequency``; ISO codes read from pycountry's files or from
its objects.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best(fn: Callable[[], object], runs: int = 5, before: Callable[[], object] | None = None) -> float:
    """Least CPU time of ``runs`` calls of ``fn`` (``before`` is called, untimed, before each)."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "bench/out/profiles_10000_s7.jsonl")
    args = parser.parse_args()

    import pycountry
    import wordfreq

    from matching.analysis.frequency import french_frequencies, zipf_frequency
    from matching.analysis.text import Analyzer, _top_words, split_texts
    from matching.data.loading import load_profiles
    from matching.data.records import _iso_codes

    texts = load_profiles(args.profiles)["description"].tolist()
    print(f"split {len(texts):,} descriptions    split_texts {best(lambda: split_texts(texts)):.3f} s, ", end="")
    print(f"Analyzer.words on each {best(lambda: [Analyzer.words(t) for t in texts]):.3f} s")

    def forget() -> None:
        wordfreq.get_frequency_list.cache_clear()
        wordfreq.top_n_list.cache_clear()

    for language in ("en", "ar"):
        head = best(lambda language=language: _top_words(language, 250), 3)
        whole = best(lambda language=language: wordfreq.top_n_list(language, 250), 3, forget)
        print(f"250 top words ({language})         head only {1000 * head:.1f} ms, top_n_list {1000 * whole:.1f} ms")

    french_frequencies()
    words = list(wordfreq.iter_wordlist("fr"))[5000:10000]
    ours = best(lambda: [zipf_frequency(w, "fr") for w in words], 3)
    theirs = best(lambda: [wordfreq.zipf_frequency(w, "fr") for w in words], 3, wordfreq._wf_cache.clear)
    print(f"Zipf frequency, {len(words):,} words   direct {1e6 * ours / len(words):.1f} µs, ", end="")
    print(f"wordfreq {1e6 * theirs / len(words):.1f} µs a word")

    files = best(lambda: (_iso_codes("639-3"), _iso_codes("3166-1")), 3)
    start = time.process_time()
    {lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    {c.alpha_2 for c in pycountry.countries}
    objects = time.process_time() - start  # once: pycountry keeps its objects
    print(f"ISO codes                     JSON files {1000 * files:.1f} ms, pycountry objects {1000 * objects:.1f} ms")


if __name__ == "__main__":
    main()
