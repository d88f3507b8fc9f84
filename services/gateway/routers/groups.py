from __future__ import annotations

from fastapi import APIRouter, Path

from libs.contracts.groups import SERVICE, GroupMembers
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/groups", tags=["groups"], responses=PROBLEM_RESPONSES)


@router.get(
    "/{group_id}/members",
    response_model=GroupMembers.reply_model,
    summary="Members of a group (its members and moderators)",
)
async def members(bus: AuthBus, group_id: str = Path(pattern=ID_PATTERN), limit: int = 200):
    return await bus.query(SERVICE, GroupMembers(group_id=group_id, limit=max(1, min(limit, 1000))))
