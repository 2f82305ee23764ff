"""Filtering and paging the stored profiles, for the profile list of the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from matching.data.taxonomy import canonical_region

__all__ = ["ProfileQuery", "select_profiles"]


@dataclass(frozen=True)
class ProfileQuery:
    """Which profiles to list. List filters keep a profile having any listed value; empty means any."""

    domains: Sequence[str] = ()
    languages: Sequence[str] = ()
    countries: Sequence[str] = ()
    regions: Sequence[str] = ()
    holder_types: Sequence[str] = ()
    valid_on: date | None = None

    def accepts(self, profile: dict[str, Any]) -> bool:
        checks = (
            (self.domains, profile["domains"], str.upper),
            (self.languages, profile["languages"], str.lower),
            (self.countries, profile["countries"], str.upper),
        )
        for wanted, values, norm in checks:
            if wanted and not {norm(w) for w in wanted} & set(values):
                return False
        if self.regions and profile["region"] not in {canonical_region(r) for r in self.regions}:
            return False
        if self.holder_types and profile["holder_type"] not in {h.lower() for h in self.holder_types}:
            return False
        return not (self.valid_on and not profile["label_start"] <= self.valid_on <= profile["label_end"])


def select_profiles(
    profiles: list[dict[str, Any]], query: ProfileQuery, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """``(total matching, the page of profiles from offset)``, in the given order."""
    kept = [p for p in profiles if query.accepts(p)]
    return len(kept), kept[offset : offset + limit]
