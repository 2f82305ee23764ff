"""Word frequencies (wordfreq), looked up directly where wordfreq's own look-up is needlessly slow."""

from __future__ import annotations

import math
import re

# wordfreq is imported where it is used: its import (langcodes, ftfy) took a tenth of a second
# of a one-off ``match``, which may never meet a word it must look up.

__all__ = ["french_frequencies", "french_frequencies_loaded", "zipf_frequency"]

# Lower-case French words of letters only, precomposed: wordfreq's French tokeniser reads each
# as one token, unchanged (no case folding, normalisation, digits or apostrophes to handle).
_PLAIN_FRENCH = re.compile(r"[a-zàâäæçéèêëîïôöœùûüÿ]+")


def french_frequencies() -> dict[str, float]:
    """wordfreq's French frequency table, asked for with the arguments wordfreq itself uses
    (``zipf_frequency``), so that its cache holds one copy (35 MiB), not two."""
    global _french
    if _french is None:
        from wordfreq import get_frequency_dict

        _french = get_frequency_dict("fr", "best")
    return _french


def french_frequencies_loaded() -> bool:
    """Whether :func:`french_frequencies` was read in this process (0.3 s with wordfreq's import)."""
    return _french is not None


_french: dict[str, float] | None = None


def zipf_frequency(word: str, language: str) -> float:
    """``wordfreq.zipf_frequency(word, language)``, the same value.

    A plain lower-case French word is looked up in the frequency table with wordfreq's own
    arithmetic: wordfreq would first tokenise it (three times slower: bench/README.md; the
    lexicons and the index look up thousands of words). Any other word goes to wordfreq.
    """
    import wordfreq
    from wordfreq import freq_to_zipf, zipf_to_freq

    if language != "fr" or not _PLAIN_FRENCH.fullmatch(word):
        return wordfreq.zipf_frequency(word, language)
    minimum = zipf_to_freq(0.0)
    freq = french_frequencies().get(word)
    if freq is None:
        value = minimum
    else:
        # As wordfreq's _word_frequency for one token: 1 / (1 / f), at least the minimum,
        # rounded to three significant digits.
        unrounded = max(1.0 / (1.0 / freq), minimum)
        value = round(unrounded, math.floor(-math.log(unrounded, 10)) + 3) if unrounded else 0.0
    return round(freq_to_zipf(value), 2)
