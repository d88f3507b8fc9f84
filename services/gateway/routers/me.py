from __future__ import annotations

from fastapi import APIRouter

from libs.contracts import groups, onboarding
from libs.contracts.base import Contract
from libs.contracts.onboarding import AcknowledgeRules, GetMember, SetProfileVisibility, UpdateProfile
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/me", tags=["me"], responses=PROBLEM_RESPONSES)


class Me(Contract):
    """Who I am: onboarding's record of me and the groups I am in (two services, one answer)."""

    member_id: str
    status: onboarding.Status
    roles: tuple[onboarding.Role, ...]
    groups: tuple[str, ...]
    rules_acknowledged: bool
    profile: onboarding.Profile
    missing: tuple[str, ...]
    moderator_message: str | None = None
    #: what my colleagues see of my profile besides my name
    visible_fields: tuple[onboarding.VisibleField, ...]


@router.get("", response_model=Me, summary="Who I am: status, roles, groups, profile")
async def me(bus: AuthBus):
    member = await bus.query(onboarding.SERVICE, GetMember(member_id=bus.member_id))
    mine = await bus.query(groups.SERVICE, groups.MemberGroups(member_id=bus.member_id))
    return {
        "member_id": member["member_id"],
        "status": member["status"],
        "roles": member["roles"],
        "groups": mine["groups"],
        "rules_acknowledged": member["rules_acknowledged"],
        "profile": member["profile"],
        "missing": member["missing"],
        "moderator_message": member["moderator_message"],
        "visible_fields": member["visible_fields"],
    }


@router.post("/rules-acknowledgement", response_model=AcknowledgeRules.reply_model,
             summary="I have read the community's rules")
async def acknowledge_rules(bus: AuthCommandBus):
    return await bus.command(onboarding.SERVICE, AcknowledgeRules())


@router.put(
    "/profile", response_model=UpdateProfile.reply_model, summary="Fill in my profile; the answer names what is missing"
)
async def update_profile(body: UpdateProfile, bus: AuthCommandBus):
    return await bus.command(onboarding.SERVICE, body)


@router.put(
    "/visibility",
    response_model=SetProfileVisibility.reply_model,
    summary="Choose which profile fields my colleagues see (the name always; the phone is hidden until chosen)",
)
async def set_visibility(body: SetProfileVisibility, bus: AuthCommandBus):
    return await bus.command(onboarding.SERVICE, body)
