"""One interactive search, from raw request text to presented results (API and staff page)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from matching.analysis.language import DetectedLanguage, detect_language
from matching.data.labels import resolve_as_of
from matching.data.loading import MAX_TEXT_CHARS
from matching.retrieval.filters import MatchFilters
from matching.retrieval.presentation import ResultView, present
from matching.retrieval.ranking import Matcher

__all__ = ["MAX_TEXT_CHARS", "SearchQuery", "SearchOutcome", "clean_text", "run_search"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Request text safe to analyse: lone surrogates and control characters replaced."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(" ", text)


@dataclass(frozen=True)
class SearchQuery:
    text: str
    top_k: int = 10
    as_of: date | None = None
    domains: Sequence[str] = ()
    languages: Sequence[str] = ()
    countries: Sequence[str] = ()
    regions: Sequence[str] = ()
    holder_types: Sequence[str] = ()
    include_expired: bool = False
    language: str | None = None
    max_per_holder: int | None = None

    def filters(self) -> MatchFilters:
        return MatchFilters(
            domains=tuple(self.domains),
            languages=tuple(self.languages),
            countries=tuple(self.countries),
            regions=tuple(self.regions),
            holder_types=tuple(self.holder_types),
            as_of=resolve_as_of(self.as_of),
            include_expired=self.include_expired,
        )


@dataclass(frozen=True)
class SearchOutcome:
    text: str
    language: DetectedLanguage
    as_of: date
    results: list[ResultView] = field(default_factory=list)


def run_search(matcher: Matcher | None, query: SearchQuery, highlights: bool = False) -> SearchOutcome:
    """Rank profiles for ``query``; an empty store (``matcher`` None) gives no results."""
    text = clean_text(query.text)
    filters = query.filters()
    as_of = filters.as_of_date()
    if matcher is None:
        language = DetectedLanguage(query.language, 1.0) if query.language else detect_language(text)
        return SearchOutcome(text, language, as_of)
    result = matcher.search(
        text, filters, top_k=query.top_k, language=query.language, max_per_holder=query.max_per_holder
    )
    return SearchOutcome(text, result.language, as_of, present(matcher, result, as_of, highlights))
