"""EXPE-CT Match: rank labelled French expertise profiles against foreign cooperation requests.

The compact public API::

    from matching import load_profiles, build_matcher, MatchFilters
    matcher = build_matcher(load_profiles("data/profiles.jsonl"))
    result = matcher.search("Appui à la mise en place d'un service d'eau potable en zone rurale")
"""

__version__ = "0.1.0"

import importlib

#: Public names and the module each comes from. They are imported on first use (PEP 562), so
#: that ``import matching`` costs nothing and a door loads only what it needs.
_EXPORTS = {
    "DetectedLanguage": "matching.analysis.language",
    "detect_language": "matching.analysis.language",
    "QueryAnalyzer": "matching.analysis.query",
    "Analyzer": "matching.analysis.text",
    "fold": "matching.analysis.text",
    "DataError": "matching.data.loading",
    "iter_request_blocks": "matching.data.loading",
    "load_profiles": "matching.data.loading",
    "load_qrels": "matching.data.loading",
    "load_requests": "matching.data.loading",
    "validate_profile": "matching.data.loading",
    "validate_request": "matching.data.loading",
    "HOLDER_TYPES": "matching.data.taxonomy",
    "REGIONS": "matching.data.taxonomy",
    "domain_codes": "matching.data.taxonomy",
    "domains": "matching.data.taxonomy",
    "build_matcher": "matching.engine",
    "build_matcher_from_file": "matching.engine",
    "ProfileIndex": "matching.index.profiles",
    "MatchFilters": "matching.retrieval.filters",
    "Match": "matching.retrieval.ranking",
    "MatchedTerm": "matching.retrieval.ranking",
    "Matcher": "matching.retrieval.ranking",
    "MatchResult": "matching.retrieval.ranking",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'matching' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
