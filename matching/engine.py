"""Assembling a ready-to-use :class:`Matcher` from profiles and the bundled lexicons."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from matching.analysis.lexicon import load_acronyms, load_glossary, load_thesaurus
from matching.analysis.query import QueryAnalyzer
from matching.data.resources import data_path
from matching.index.profiles import ProfileIndex
from matching.retrieval.domain_prior import DomainPrior
from matching.retrieval.ranking import Matcher

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_matcher", "build_matcher_from_file", "lexicon_files", "paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or loading a matcher, then hand the
    memory the build freed back to the system.

    A build allocates hundreds of thousands of long-lived objects (vocabulary, lexicons, index
    metadata) and no garbage cycles: each full collection it triggers traverses all of them
    for nothing (0.7 s of a 10,000-profile build: bench/README.md). Reference counting still
    frees memory meanwhile; the collector's previous state is restored on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        release_freed_memory()


def release_freed_memory() -> None:
    """Return the free pages of the C heap to the system, where the C library can (glibc's
    ``malloc_trim``; elsewhere nothing happens).

    glibc keeps memory freed by small allocations for later ones: the build's transient
    objects (the descriptions' word lists, the entries' arrays before the sparse matrix) left
    about 100 MiB of a 10,000-profile batch process's resident memory unused for the whole
    batch, and inherited by the processes it forks (bench/README.md). A fraction of a
    millisecond on a trimmed heap.
    """
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    # Opened once: each handle ctypes opens is a small cycle of objects, which a command (its
    # collector off, see matching.cli.run) would keep to its end, one per build or load.
    try:
        return ctypes.CDLL(None)  # the symbols already loaded in the process: its C library's
    except (OSError, TypeError):  # TypeError: Windows' ctypes wants a library name
        return None


def lexicon_files() -> dict[str, Path]:
    """The lexicon files the engine uses (those present in the data folder)."""
    files = {name: data_path(f"{name}.csv") for name in ("glossary", "thesaurus", "acronyms")}
    return {name: path for name, path in files.items() if path.exists()}


def build_matcher(
    profiles: pd.DataFrame,
    *,
    use_glossary: bool = True,
    use_thesaurus: bool = True,
    use_expansion: bool = True,
    use_domain_prior: bool = True,
    use_acronyms: bool = True,
    query_options: dict | None = None,
    index_options: dict | None = None,
    **matcher_options,
) -> Matcher:
    """Fit the index, the query analyser and the domain prior on ``profiles``.

    Parameters
    ----------
    profiles : DataFrame from :func:`matching.load_profiles`
    use_glossary, use_thesaurus, use_expansion, use_domain_prior, use_acronyms : bool
        Switch the cross-lingual glossary, the everyday-words thesaurus on requests, the same
        thesaurus expanding profiles (document expansion), the domain prior and the acronyms
        (for ablations; all on by default).
    query_options, index_options : dict, optional
        Passed to :class:`QueryAnalyzer` and :class:`ProfileIndex`.
    **matcher_options
        Passed to :class:`Matcher` (``prior_weight``, ``feedback_weight``, ``rerank_depth``,
        ``first_stage_max_df``, ``explain_terms``...).
    """
    with paused_gc():
        return _build_matcher(
            profiles,
            use_glossary=use_glossary,
            use_thesaurus=use_thesaurus,
            use_expansion=use_expansion,
            use_domain_prior=use_domain_prior,
            use_acronyms=use_acronyms,
            query_options=query_options,
            index_options=index_options,
            **matcher_options,
        )


def _build_matcher(
    profiles: pd.DataFrame,
    *,
    use_glossary: bool,
    use_thesaurus: bool,
    use_expansion: bool,
    use_domain_prior: bool,
    use_acronyms: bool,
    query_options: dict | None,
    index_options: dict | None,
    **matcher_options,
) -> Matcher:
    files = lexicon_files()
    expansion = load_thesaurus(files["thesaurus"], reverse=True) if use_expansion and "thesaurus" in files else None
    index = ProfileIndex(**{"expansion": expansion, **(index_options or {})}).fit(profiles)
    glossary = load_glossary(files["glossary"]) if use_glossary and "glossary" in files else None
    thesaurus = load_thesaurus(files["thesaurus"]) if use_thesaurus and "thesaurus" in files else None
    acronyms = load_acronyms(files["acronyms"]) if use_acronyms and "acronyms" in files else None
    analyzer = QueryAnalyzer(glossary=glossary, thesaurus=thesaurus, acronyms=acronyms, **(query_options or {}))
    analyzer.fit(index)
    prior = DomainPrior().fit(index) if use_domain_prior else None
    return Matcher(index, analyzer, prior, **matcher_options)


def build_matcher_from_file(path: str | Path, **options) -> Matcher:
    """Load profiles from ``path`` (JSON Lines or CSV) and build a matcher on them."""
    # Here, not at the top: a saved index is loaded through this module without pandas.
    from matching.data.loading import load_profiles

    with paused_gc():
        return build_matcher(load_profiles(path), **options)
