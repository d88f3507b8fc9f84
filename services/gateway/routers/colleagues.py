"""The Colleagues directory of the Main group. A card carries only what its member shows: the fields
they hide are left out of the answer altogether, not sent empty."""

from __future__ import annotations

from fastapi import APIRouter, Path

from libs.contracts.onboarding import SERVICE, FindColleagues, GetColleague
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/colleagues", tags=["colleagues"], responses=PROBLEM_RESPONSES)


@router.get(
    "",
    response_model=FindColleagues.reply_model,
    response_model_exclude_none=True,
    summary="Find colleagues by the beginnings of words of their name, city, company, position, interests "
            "(members of the Main group)",
)
async def find_colleagues(bus: AuthBus, q: str | None = None, limit: int = 20, cursor: str | None = None):
    # the contract bounds q, limit and the cursor: what it refuses is answered 422 (problems.on_contract_error)
    return await bus.query(SERVICE, FindColleagues(q=q or None, limit=limit, cursor=cursor or None))


@router.get(
    "/{member_id}",
    response_model=GetColleague.reply_model,
    response_model_exclude_none=True,
    summary="A colleague's card: their name and the fields they show (members of the Main group)",
)
async def get_colleague(bus: AuthBus, member_id: str = Path(pattern=ID_PATTERN)):
    return await bus.query(SERVICE, GetColleague(member_id=member_id))
