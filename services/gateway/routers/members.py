from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts.onboarding import SERVICE, AssignableRole, ChangeRoles, EraseMember, GetMember, ListMembers, Status
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/members", tags=["members"], responses=PROBLEM_RESPONSES)
MemberId = Path(pattern=ID_PATTERN, description="a member id: letters, digits, - and _")


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: assigned roles only ("member" follows from the moderators' decision); [] for an ordinary member
    roles: list[AssignableRole] = Field(max_length=4)


@router.get(
    "",
    response_model=ListMembers.reply_model,
    summary="Everyone registered, in the order they registered, by words of the name and by status "
            "(moderators and admins)",
)
async def list_members(bus: AuthBus, q: str | None = None, status: Status | None = None, limit: int = 50,
                       cursor: str | None = None):
    return await bus.query(SERVICE, ListMembers(q=q or None, status=status, limit=limit, cursor=cursor or None))


@router.get(
    "/{member_id}",
    response_model=GetMember.reply_model,
    summary="A member's onboarding record (the member or a moderator)",
)
async def get_member(bus: AuthBus, member_id: str = MemberId):
    return await bus.query(SERVICE, GetMember(member_id=member_id))


@router.put("/{member_id}/roles", response_model=ChangeRoles.reply_model, summary="Set a member's roles (admin)")
async def set_roles(body: RolesIn, bus: AuthCommandBus, member_id: str = MemberId):
    return await bus.command(SERVICE, ChangeRoles(member_id=member_id, roles=tuple(body.roles)))


@router.delete(
    "/{member_id}",
    response_model=EraseMember.reply_model,
    summary="Erase a member: their personal data becomes unreadable everywhere (admin)",
)
async def erase(bus: AuthCommandBus, member_id: str = MemberId):
    return await bus.command(SERVICE, EraseMember(member_id=member_id))
