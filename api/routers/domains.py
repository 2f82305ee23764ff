"""GET /domains: the programme's domain taxonomy."""

from __future__ import annotations

from fastapi import APIRouter

from matching.data.taxonomy import domains as taxonomy

from ..deps import ReadAccess
from ..schemas import DomainOut

router = APIRouter(tags=["domains"], dependencies=[ReadAccess])


@router.get("/domains", response_model=list[DomainOut], summary="The domain taxonomy")
def list_domains() -> list[DomainOut]:
    return [DomainOut(code=d.code, label=d.label, description=d.description) for d in taxonomy()]
