"""Request and response models of the API (with examples, so /docs is a usable manual)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from matching.retrieval.filters import filter_field
from matching.retrieval.search import MAX_TEXT_CHARS

Code = Annotated[str, Field(min_length=1, max_length=100)]
CodeList = Annotated[list[Code], Field(max_length=50)]

_EXPERT_EXAMPLE: dict[str, Any] = {
    "holder": "Communauté d'agglomération du Val de Sorne",
    "holder_type": "intercommunalite",
    "region": "Bourgogne-Franche-Comté",
    "title": "Réhabilitation de décharges sauvages et fermeture de sites de dépôt",
    "description": "Depuis 2018, la direction des déchets a résorbé 14 dépôts sauvages : diagnostic, "
    "évacuation, couverture, suivi des lixiviats et reconversion en espaces verts.",
    "domains": ["DECH", "ENV"],
    "languages": ["fr", "es"],
    "countries": ["SN", "MA"],
    "label_start": "2025-03-15",
    "label_end": None,
    "contact": "Direction des déchets",
}


class ErrorOut(BaseModel):
    detail: str = Field(examples=["Expert profile 'EXP-9999' does not exist."])


class ProblemOut(BaseModel):
    loc: list[str | int] = Field(
        description="Where: body or file, then the sheet (workbooks), line or row, column (workbooks, CSV), field",
        examples=[["body", "id"]],
    )
    msg: str = Field(examples=["an expert profile with id 'EXP-0999' already exists"])
    type: str = Field(examples=["value_error"])


class ProblemsOut(BaseModel):
    """A refusal naming each problem and its field."""

    detail: list[ProblemOut]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="'degraded' when the last index rebuild failed")
    profiles: int = Field(description="Active profiles in the serving index", examples=[220])
    valid_labels: int = Field(description="Of which labels valid today", examples=[190])
    withdrawn: int = Field(description="Withdrawn labels kept in the store", examples=[2])
    index_built_at: str | None = Field(examples=["2026-11-26T09:12:03+00:00"])
    index_revision: int = Field(description="Store revision the serving index reflects", examples=[3])
    store_revision: int = Field(description="Latest store revision", examples=[3])
    rebuilding: bool
    last_rebuild_error: str | None = None


class DomainOut(BaseModel):
    code: str = Field(examples=["EAU"])
    label: str = Field(examples=["Eau potable et assainissement"])
    description: str = Field(examples=["Adduction et distribution d'eau potable, assainissement…"])


class ExpertFields(BaseModel):
    """A profile's content. Codes: domains from /domains, ISO 639-1 languages, ISO 3166-1 countries."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXPERT_EXAMPLE]})

    holder: str = Field(min_length=1, max_length=300)
    holder_type: str = Field(
        min_length=1, max_length=40, description="commune, intercommunalite, departement, region, association or autre"
    )
    region: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(min_length=1, max_length=10_000)
    domains: Annotated[list[Code], Field(min_length=1, max_length=3)]
    languages: CodeList = Field(default_factory=list, description="Working languages (default: ['fr'])")
    countries: CodeList = Field(default_factory=list)
    label_start: date
    label_end: date | None = Field(None, description="Default: label_start + 3 years")
    contact: str = Field("", max_length=300)

    def record(self) -> dict[str, Any]:
        """As a plain record for :func:`matching.validate_profile`."""
        data = self.model_dump()
        data["label_start"] = self.label_start.isoformat()
        data["label_end"] = self.label_end.isoformat() if self.label_end else None
        return data


class ExpertCreate(ExpertFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "EXP-0999", **_EXPERT_EXAMPLE}]})

    id: str = Field(min_length=1, max_length=200, examples=["EXP-0999"])


class ExpertOut(BaseModel):
    id: str = Field(examples=["EXP-0001"])
    holder: str
    holder_type: str
    region: str
    title: str
    description: str
    domains: list[str]
    languages: list[str]
    countries: list[str]
    label_start: date
    label_end: date
    contact: str
    label_status: Literal["valid", "expiring", "expired"] = Field(
        description="'expiring' when the label ends within six months"
    )


class WithdrawnOut(ExpertOut):
    withdrawn_at: str = Field(examples=["2026-11-26T10:02:11+00:00"])


class ExpertPage(BaseModel):
    total: int = Field(description="Profiles matching the filters", examples=[42])
    offset: int = Field(examples=[0])
    limit: int = Field(examples=[50])
    items: list[ExpertOut]


class HistoryEntry(BaseModel):
    seq: int
    action: Literal["seed", "create", "update", "withdraw"]
    at: str
    note: str
    profile: dict[str, Any]


class MatchRequest(BaseModel):
    """A request to rank profiles for. List filters keep profiles having any listed value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": (
                        "Notre commune souhaite fermer la décharge à ciel ouvert près du marché et organiser le tri."
                    ),
                    "top_k": 10,
                    "as_of": "2026-11-26",
                    "domains": ["DECH"],
                    "languages": [],
                    "countries": [],
                    "regions": [],
                    "holder_types": [],
                    "include_expired": False,
                }
            ]
        }
    )

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The request, in any language")
    top_k: int = Field(10, ge=1, le=100, description="Number of results")
    as_of: date | None = Field(None, description="Date labels must be valid on (default: today)")
    # The list filters: names and descriptions from matching.retrieval.filters.FILTER_FIELDS.
    domains: CodeList = Field(default_factory=list, description=filter_field("domains").description)
    languages: CodeList = Field(default_factory=list, description=filter_field("languages").description)
    countries: CodeList = Field(default_factory=list, description=filter_field("countries").description)
    regions: CodeList = Field(default_factory=list, description=filter_field("regions").description)
    holder_types: CodeList = Field(default_factory=list, description=filter_field("holder_types").description)
    include_expired: bool = Field(False, description="Also return expired labels")
    language: Literal["fr", "en", "es", "pt", "ar"] | None = Field(None, description="Skip language detection")
    max_per_holder: int | None = Field(None, ge=1, le=10, description="At most this many results per holder")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


class MatchedTermOut(BaseModel):
    term: str = Field(examples=["décharge"])
    via: str = Field(description="request, typo, glossary, cognate, thesaurus or abbreviation", examples=["thesaurus"])
    source: str = Field(
        description="The request's words it came from, and the entry they were rewritten into",
        examples=["tas d'ordures → décharge"],
    )
    words: str = Field(description="The request's words it came from", examples=["tas d'ordures"])
    target: str | None = Field(
        default=None,
        description="The glossary or thesaurus entry the words were rewritten "
        "into (null for the request's own word, a typo or a cognate)",
        examples=["décharge"],
    )
    contribution: float = Field(description="Part of the score", examples=[0.0812])
    label: str = Field(description="Readable form", examples=["décharge ← tas d'ordures"])


class MatchResultOut(BaseModel):
    rank: int = Field(examples=[1])
    expert_id: str = Field(examples=["EXP-0065"])
    score: float = Field(ge=0, le=1, examples=[0.2611])
    holder: str
    title: str
    domains: list[str] = Field(examples=[["DECH", "ENV"]])
    label_end: date
    label_status: Literal["valid", "expiring", "expired"]
    matched_terms: list[MatchedTermOut]


class MatchResponse(BaseModel):
    results: list[MatchResultOut] = Field(description="Ordered by rank")
    count: int
    as_of: date
    language: str = Field(description="Detected ISO 639-1 language of the request", examples=["fr"])
    language_name: str = Field(description="Its French name", examples=["français"])
    language_confidence: float = Field(ge=0, le=1, examples=[0.98])
    language_supported: bool
    notice: str | None = Field(None, description="Set when matching is not reliable for this language")


class BatchRow(BaseModel):
    request_id: str
    rank: int
    expert_id: str
    score: float
    holder: str
    title: str
    language: str
    matched_terms: list[str]


class BatchResponse(BaseModel):
    requests: int
    rows: int
    results: list[BatchRow]
