"""GET /coverage: where the labelled expertise stands (the figures of the coverage notebooks)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from matching.analytics import coverage
from matching.data.labels import resolve_as_of
from matching.data.loading import REQUEST_FIELDS, load_requests
from matching.data.resources import data_path
from matching.data.taxonomy import domains as taxonomy

from ..deps import ReadAccess, StoreDep

router = APIRouter(tags=["coverage"], dependencies=[ReadAccess])

DEMAND_FILE = "requests.jsonl"


class DomainRow(BaseModel):
    code: str = Field(examples=["EAU"])
    label: str = Field(examples=["Eau potable et assainissement"])
    counts: list[int] = Field(description="Valid labelled profiles per region, in the order of `regions`")
    total: int = Field(description="Valid labelled profiles covering the domain")


class CalendarMonth(BaseModel):
    month: str = Field(examples=["2027-01"])
    expiring: int = Field(description="Labels valid on `as_of` that end this month")
    still_valid: int = Field(description="Labels valid on `as_of` still valid at the month's end, without renewal")


class LabelsOut(BaseModel):
    valid: int = Field(description="Valid beyond the next six months")
    expiring: int = Field(description="Valid, but ending within six months")
    expired: int
    not_started: int
    calendar: list[CalendarMonth]


class CountryOut(BaseModel):
    code: str = Field(examples=["SN"])
    name: str = Field(examples=["Sénégal"])
    requests: int = Field(description="Requests received from the country (sample backlog)")
    profiles: int = Field(description="Valid labelled profiles whose holders cooperated with the country")
    profiles_any: int = Field(description="The same, expired and future labels included")
    little_experience: bool = Field(description="Requests, but at most `max_profiles` valid profiles with experience")


class CoverageOut(BaseModel):
    as_of: date
    profiles: int = Field(description="Active profiles in the store")
    regions: list[str]
    domains: list[DomainRow] = Field(description="Domains × regions, valid labels only")
    labels: LabelsOut
    countries: list[CountryOut] = Field(description="Most requests first")
    demand_source: str | None = Field(description="Requests file the demand is counted on (none: no demand data)")


@lru_cache(maxsize=4)
def _read_requests(path: str, mtime: float) -> pd.DataFrame:
    return load_requests(path)


def get_demand() -> tuple[pd.DataFrame, str | None]:
    """Requests counted as demand: the bundled sample backlog, when present."""
    path = data_path(DEMAND_FILE)
    if not path.exists():
        return pd.DataFrame(columns=list(REQUEST_FIELDS)), None
    return _read_requests(str(path), path.stat().st_mtime), DEMAND_FILE


DemandDep = Annotated[tuple[pd.DataFrame, str | None], Depends(get_demand)]


def _domain_rows(table: pd.DataFrame) -> list[DomainRow]:
    labels = {d.code: d.label for d in taxonomy()}
    return [
        DomainRow(code=code, label=labels.get(code, code), counts=row.tolist(), total=int(row.sum()))
        for code, row in table.iterrows()
    ]


@router.get("/coverage", response_model=CoverageOut, summary="Expertise by domain × region, label calendar, countries")
def get_coverage(
    store: StoreDep,
    demand: DemandDep,
    as_of: Annotated[date | None, Query(description="Date labels are judged on (default today)")] = None,
    months: Annotated[int, Query(ge=1, le=36, description="Months of label calendar")] = 12,
    max_profiles: Annotated[int, Query(ge=0, le=100, description="'Little experience' cut-off")] = 1,
) -> CoverageOut:
    as_of = resolve_as_of(as_of)
    profiles = store.snapshot().frame()
    requests, source = demand
    table = coverage.expertise_by_domain_region(profiles, as_of)
    status = coverage.label_status(profiles, as_of)["profiles"]
    calendar = coverage.label_calendar(profiles, as_of, months).reset_index()
    countries = coverage.country_demand(profiles, requests, as_of, max_profiles).reset_index()
    return CoverageOut(
        as_of=as_of,
        profiles=len(profiles),
        regions=list(table.columns),
        domains=_domain_rows(table),
        labels=LabelsOut(
            **{k: int(v) for k, v in status.items()},
            calendar=calendar[["month", "expiring", "still_valid"]].to_dict("records"),
        ),
        countries=countries.rename(columns={"country": "code"}).to_dict("records"),
        demand_source=source,
    )
