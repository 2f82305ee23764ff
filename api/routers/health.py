"""GET /health: is the service serving, on how many profiles, from which index."""

from __future__ import annotations

from datetime import date

import numpy as np
from fastapi import APIRouter

from ..deps import LiveDep, StoreDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Service status")
def health(live: LiveDep, store: StoreDep) -> HealthOut:
    snapshot = live.current
    valid = 0
    if snapshot.matcher is not None:
        valid = int(snapshot.matcher.index.metadata_.valid_mask(np.datetime64(date.today(), "D")).sum())
    counts = store.counts()
    return HealthOut(
        status="degraded" if live.last_error else "ok",
        profiles=snapshot.n_profiles,
        valid_labels=valid,
        withdrawn=counts["withdrawn"],
        index_built_at=snapshot.built_at,
        index_revision=snapshot.revision,
        store_revision=store.revision(),
        rebuilding=live.rebuilding,
        last_rebuild_error=live.last_error,
    )
