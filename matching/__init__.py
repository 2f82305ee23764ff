"""EXPE-CT Match: rank labelled French expertise profiles against foreign cooperation requests.

The compact public API::

    from matching import load_profiles, build_matcher, MatchFilters
    matcher = build_matcher(load_profiles("data/profiles.jsonl"))
    result = matcher.search("Appui à la mise en place d'un service d'eau potable en zone rurale")
"""

__version__ = "0.1.0"

from matching.analysis.language import DetectedLanguage, detect_language  # noqa: E402
from matching.analysis.query import QueryAnalyzer  # noqa: E402
from matching.analysis.text import Analyzer, fold  # noqa: E402
from matching.data.loading import (  # noqa: E402
    DataError,
    iter_request_blocks,
    load_profiles,
    load_qrels,
    load_requests,
    validate_profile,
    validate_request,
)
from matching.data.taxonomy import HOLDER_TYPES, REGIONS, domain_codes, domains  # noqa: E402
from matching.engine import build_matcher, build_matcher_from_file  # noqa: E402
from matching.index.profiles import ProfileIndex  # noqa: E402
from matching.retrieval.filters import MatchFilters  # noqa: E402
from matching.retrieval.ranking import Match, MatchedTerm, Matcher, MatchResult  # noqa: E402

__all__ = [
    "__version__",
    "Analyzer",
    "DataError",
    "DetectedLanguage",
    "HOLDER_TYPES",
    "Match",
    "MatchFilters",
    "MatchResult",
    "MatchedTerm",
    "Matcher",
    "ProfileIndex",
    "QueryAnalyzer",
    "REGIONS",
    "build_matcher",
    "build_matcher_from_file",
    "detect_language",
    "domain_codes",
    "domains",
    "fold",
    "iter_request_blocks",
    "load_profiles",
    "load_qrels",
    "load_requests",
    "validate_profile",
    "validate_request",
]
