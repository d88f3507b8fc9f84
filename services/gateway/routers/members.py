from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts.onboarding import SERVICE, ChangeRoles, EraseMember, GetMember, Role
from services.gateway.deps import AuthBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/members", tags=["members"], responses=PROBLEM_RESPONSES)
MemberId = Path(min_length=1, max_length=64)


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] = Field(min_length=1)


@router.get("/{member_id}", summary="A member's onboarding record (the member or a moderator)")
async def get_member(bus: AuthBus, member_id: str = MemberId):
    return await bus.query(SERVICE, GetMember(member_id=member_id))


@router.put("/{member_id}/roles", summary="Set a member's roles (admin)")
async def set_roles(body: RolesIn, bus: AuthBus, member_id: str = MemberId):
    return await bus.command(SERVICE, ChangeRoles(member_id=member_id, roles=tuple(body.roles)))


@router.delete("/{member_id}", summary="Erase a member: their personal data becomes unreadable everywhere (admin)")
async def erase(bus: AuthBus, member_id: str = MemberId):
    return await bus.command(SERVICE, EraseMember(member_id=member_id))
