"""Reactions to onboarding's events: who belongs to the base groups.

Event ids are derived from the causing event, so a redelivered cause
re-sends the very same events and the log stores them once.
"""

from __future__ import annotations

import uuid

from libs.contracts.envelope import SYSTEM_ACTOR
from libs.contracts.groups import INTRODUCTION, MAIN, membership_id
from libs.contracts.onboarding import AccessDeclined, AccessGranted, AccessRevoked, MemberErased, MemberRegistered
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from services.groups.domain import GROUP, MEMBERSHIP, WORKING_GROUP, CreateBaseGroup, Join, Leave, LeaveGroup
from services.groups.projections import MEMBERS


def _ids(rec: Recorded, step: str):
    return lambda n: [uuid.uuid5(rec.envelope.event_id, f"{step}:{i}") for i in range(n)]


def _meta(rec: Recorded) -> Meta:
    return Meta(actor="system", correlation_id=rec.envelope.correlation_id, causation_id=str(rec.envelope.event_id))


async def _membership(svc: Service, rec: Recorded, command: Join | Leave) -> None:
    step = f"{'join' if isinstance(command, Join) else 'leave'}:{command.group_id}"
    await svc.decide(MEMBERSHIP, membership_id(command.group_id, command.member_id), command, _meta(rec),
                     _ids(rec, step))


def register_policies(svc: Service) -> None:
    @svc.policy("base_groups", [events_of("onboarding", "member")])
    async def when_member_registered_or_granted_place_in_base_groups(rec: Recorded) -> None:
        e = rec.event
        match e:
            case MemberRegistered() if "guest" in e.roles:
                await _membership(svc, rec, Join(INTRODUCTION, e.member_id, "registered"))
            case AccessGranted():
                await _membership(svc, rec, Join(MAIN, e.member_id, "access_granted"))
                await _membership(svc, rec, Leave(INTRODUCTION, e.member_id, "access_granted"))
            case AccessRevoked():
                await _membership(svc, rec, Leave(MAIN, e.member_id, "access_revoked"))
            case MemberErased():
                for group_id in (INTRODUCTION, MAIN):
                    await _membership(svc, rec, Leave(group_id, e.member_id, "erased"))

    @svc.policy("working_groups", [events_of("onboarding", "member")])
    async def when_main_access_lost_leave_every_working_group(rec: Recorded) -> None:
        """Only Main-group members are in working groups: whoever leaves Main leaves them all. The groups
        are read from the read model; a membership it has not shown yet is one this event precedes."""
        e = rec.event
        if not isinstance(e, AccessRevoked | AccessDeclined | MemberErased):
            return
        member_id = rec.envelope.aggregate_id
        for row in await svc.store.find(MEMBERS, {"member_id": member_id}):
            group_id = row["group_id"]
            if group_id in (INTRODUCTION, MAIN):
                continue
            await svc.decide(WORKING_GROUP, group_id, LeaveGroup(SYSTEM_ACTOR, group_id, member_id, "main_access_lost"),
                             _meta(rec), _ids(rec, f"leave:{group_id}"))

    @svc.on_start
    async def create_base_groups() -> None:
        for group_id in (INTRODUCTION, MAIN):
            await svc.decide(
                GROUP, group_id, CreateBaseGroup(group_id),
                Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "hr-mnenie:bootstrap:groups"))),
                lambda n, g=group_id: [uuid.uuid5(uuid.NAMESPACE_URL, f"hr-mnenie:group:{g}:{i}")  # type: ignore[misc]
                                       for i in range(n)],
            )
