"""Expert profiles: list, read, history; create, update and withdraw (API key required)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from matching.data.listing import ProfileQuery, select_profiles
from matching.retrieval.presentation import label_status

from ..deps import LiveDep, ReadAccess, StoreDep, WriteAccess
from ..schemas import (
    ErrorOut,
    ExpertCreate,
    ExpertFields,
    ExpertOut,
    ExpertPage,
    HistoryEntry,
    ProblemsOut,
    WithdrawnOut,
)

router = APIRouter(prefix="/experts", tags=["experts"], dependencies=[ReadAccess])

IdPath = Annotated[str, Path(min_length=1, max_length=200, description="Expert profile id", examples=["EXP-0001"])]
Codes = Annotated[list[str], Query(max_length=50)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such (active) profile"}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong X-API-Key"},
    503: {"model": ErrorOut, "description": "Writes disabled: no EXPE_API_KEY configured"},
}


def _out(profile: dict[str, Any]) -> dict[str, Any]:
    return {**profile, "label_status": label_status(profile["label_end"], date.today())}


@router.get("", response_model=ExpertPage, summary="List active profiles, filtered and paginated")
def list_experts(
    store: StoreDep,
    domain: Codes = [],  # noqa: B006 - FastAPI copies query defaults
    language: Codes = [],  # noqa: B006
    country: Codes = [],  # noqa: B006
    region: Codes = [],  # noqa: B006
    holder_type: Codes = [],  # noqa: B006
    valid_on: Annotated[date | None, Query(description="Only labels valid on this date")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExpertPage:
    query = ProfileQuery(domain, language, country, region, holder_type, valid_on)
    total, page = select_profiles(store.active(), query, offset, limit)
    return ExpertPage(total=total, offset=offset, limit=limit, items=[ExpertOut(**_out(p)) for p in page])


@router.get("/{expert_id}", response_model=ExpertOut, responses=NOT_FOUND, summary="One active profile")
def get_expert(expert_id: IdPath, store: StoreDep) -> ExpertOut:
    return ExpertOut(**_out(store.get(expert_id)))


@router.get(
    "/{expert_id}/history",
    response_model=list[HistoryEntry],
    responses=NOT_FOUND,
    summary="Every recorded change to a profile, withdrawals included",
)
def expert_history(expert_id: IdPath, store: StoreDep) -> list[HistoryEntry]:
    return [HistoryEntry(**h) for h in store.history(expert_id)]


@router.post(
    "",
    response_model=ExpertOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteAccess],
    responses={**WRITE_ERRORS, 409: {"model": ProblemsOut, "description": "Id already used"}},
    summary="Add a labelled profile",
)
def create_expert(body: ExpertCreate, store: StoreDep, live: LiveDep) -> ExpertOut:
    profile = store.create({"id": body.id, **body.record()})
    live.refresh()
    return ExpertOut(**_out(profile))


@router.put(
    "/{expert_id}",
    response_model=ExpertOut,
    dependencies=[WriteAccess],
    responses={**WRITE_ERRORS, **NOT_FOUND},
    summary="Replace a profile's content",
)
def update_expert(expert_id: IdPath, body: ExpertFields, store: StoreDep, live: LiveDep) -> ExpertOut:
    profile = store.update(expert_id, body.record())
    live.refresh()
    return ExpertOut(**_out(profile))


@router.delete(
    "/{expert_id}",
    response_model=WithdrawnOut,
    dependencies=[WriteAccess],
    responses={**WRITE_ERRORS, **NOT_FOUND, 409: {"model": ErrorOut, "description": "Already withdrawn"}},
    summary="Withdraw a label (kept in the history, not erased)",
)
def withdraw_expert(
    expert_id: IdPath,
    store: StoreDep,
    live: LiveDep,
    reason: Annotated[str, Query(max_length=500, description="Why it is withdrawn")] = "",
) -> WithdrawnOut:
    profile = store.withdraw(expert_id, reason)
    live.refresh()
    return WithdrawnOut(**_out(profile))
