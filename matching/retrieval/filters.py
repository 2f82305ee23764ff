"""Filters on profiles: domains, languages, countries, holder types, regions, label validity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from matching.data.labels import resolve_as_of
from matching.data.taxonomy import canonical_region, domain_codes
from matching.index.profiles import ProfileIndex

__all__ = ["FILTER_FIELDS", "FilterField", "MatchFilters", "Widget", "filter_field"]


#: How the staff page asks for a filter: a box per choice, a free text of codes, or a list.
Widget = Literal["checkboxes", "text", "select"]


@dataclass(frozen=True, slots=True)
class FilterField:
    """One list filter of :class:`MatchFilters`, described once for every door.

    ``name`` is the :class:`MatchFilters` attribute and the API's field; ``description`` the
    API schema's description and the CLI's help; ``option`` the CLI's repeatable option (its
    values ``metavar``); ``label_fr`` the French label of the workbooks' summary (None: not
    shown there).

    The staff page's form: ``form`` the field's name, ``widget`` how it is asked for (the
    choices of checkboxes and select lists come from the page), ``form_label`` its French
    label (a fieldset's legend for checkboxes), ``form_hint`` a French hint shown under the
    label and tied to the widget by ``aria-describedby``, ``form_blank`` a select list's
    first option, meaning no constraint.
    """

    name: str
    description: str
    option: str
    metavar: str
    form: str
    label_fr: str | None
    widget: Widget
    form_label: str
    form_hint: str | None = None
    form_blank: str | None = None


#: The list filters, in the order the doors show them.
FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField(
        "domains",
        "Domain codes (see /domains)",
        "--domain",
        "CODE",
        "domaines",
        "Domaines retenus",
        widget="checkboxes",
        form_label="Domaines",
    ),
    FilterField(
        "languages",
        "Experts' working languages (ISO 639-1)",
        "--language",
        "CODE",
        "langues",
        "Langues des experts",
        widget="checkboxes",
        form_label="Langues de travail des experts",
    ),
    FilterField(
        "countries",
        "Countries of past cooperation (ISO 3166-1)",
        "--country",
        "CODE",
        "pays",
        "Pays de coopération",
        widget="text",
        form_label="Pays de coopération",
        form_hint="Codes ISO à deux lettres, séparés par des virgules (ex. SN, MA).",
    ),
    FilterField(
        "regions",
        "French regions of the holders",
        "--region",
        "NAME",
        "region",
        None,
        widget="select",
        form_label="Région",
        form_blank="Toutes les régions",
    ),
    FilterField(
        "holder_types",
        "commune, intercommunalite, …",
        "--holder-type",
        "TYPE",
        "type",
        None,
        widget="select",
        form_label="Type de collectivité",
        form_blank="Tous les types",
    ),
)


def filter_field(name: str) -> FilterField:
    """The :data:`FILTER_FIELDS` entry named ``name``."""
    return next(f for f in FILTER_FIELDS if f.name == name)


@dataclass(frozen=True)
class MatchFilters:
    """Which profiles may be returned.

    Each list filter keeps profiles having at least one of the listed values; an empty list
    means no constraint. Labels not valid on ``as_of`` (default: today) are excluded unless
    ``include_expired`` is set, in which case labels not yet started are excluded still.
    """

    domains: Sequence[str] = ()
    languages: Sequence[str] = ()
    countries: Sequence[str] = ()
    regions: Sequence[str] = ()
    holder_types: Sequence[str] = ()
    as_of: date | None = None
    include_expired: bool = False

    def __post_init__(self) -> None:
        # Tuples make filters hashable, so the ranking can cache their masks.
        for name in (f.name for f in FILTER_FIELDS):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    def as_of_date(self) -> date:
        return resolve_as_of(self.as_of)

    def mask(self, index: ProfileIndex) -> np.ndarray:
        """Boolean array of shape (n_profiles,): True where a profile passes every filter."""
        as_of = np.datetime64(self.as_of_date(), "D")
        meta = index.metadata_
        keep = meta.label_start_ <= as_of
        if not self.include_expired:
            keep &= as_of <= meta.label_end_
        if self.domains:
            codes = domain_codes()
            wanted = [codes.index(c.upper()) for c in self.domains if c.upper() in codes]
            keep &= meta.domain_matrix_[:, wanted].any(axis=1) if wanted else False
        if self.languages:
            keep &= _any_of(meta.languages_, meta.language_matrix_, [c.lower() for c in self.languages])
        if self.countries:
            keep &= _any_of(meta.countries_, meta.country_matrix_, [c.upper() for c in self.countries])
        if self.regions:
            keep &= np.isin(meta.regions_, [canonical_region(r) for r in self.regions])
        if self.holder_types:
            keep &= np.isin(meta.holder_types_, [h.lower() for h in self.holder_types])
        return keep


def _any_of(codes: dict[str, int], matrix, wanted: list[str]) -> np.ndarray:
    columns = [codes[c] for c in wanted if c in codes]
    if not columns:
        return np.zeros(matrix.shape[0], dtype=bool)
    return np.asarray(matrix[:, columns].sum(axis=1)).ravel() > 0
