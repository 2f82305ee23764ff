"""The programme's fixed domain taxonomy, French regions and holder types."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache

from matching.analysis.text import fold
from matching.data.resources import data_path

__all__ = ["Domain", "domains", "domain_codes", "HOLDER_TYPES", "REGIONS", "canonical_region"]

HOLDER_TYPES: tuple[str, ...] = (
    "commune",
    "intercommunalite",
    "departement",
    "region",
    "association",
    "autre",
)

REGIONS: tuple[str, ...] = (
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
    "Outre-mer",
)
_REGION_KEYS = {fold(r).replace("-", " "): r for r in REGIONS}


@lru_cache(maxsize=1024)  # a handful of region names recur on every profile
def canonical_region(value: str) -> str:
    """Spell a known region the official way (accents, hyphens); other values pass through."""
    key = " ".join(fold(value).replace("-", " ").split())
    return _REGION_KEYS.get(key, value.strip())


@dataclass(frozen=True, slots=True)
class Domain:
    """One domain of the taxonomy: fixed code, French label, one-line French description."""

    code: str
    label: str
    description: str


@cache
def domains() -> tuple[Domain, ...]:
    """The taxonomy, read once from ``data/domains.csv``."""
    with open(data_path("domains.csv"), encoding="utf-8-sig", newline="") as fh:
        return tuple(Domain(r["code"], r["label"], r["description"]) for r in csv.DictReader(fh))


@cache
def domain_codes() -> tuple[str, ...]:
    """The domain codes, in taxonomy order."""
    return tuple(d.code for d in domains())
