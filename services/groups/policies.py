"""Reactions to onboarding's events: who belongs to the base groups.

Event ids are derived from the causing event, so a redelivered cause
re-sends the very same events and the log stores them once.
"""

from __future__ import annotations

import uuid

from libs.contracts.groups import (
    INTRODUCTION,
    MAIN,
    SERVICE,
    GroupCreated,
    MemberJoinedGroup,
    MemberLeftGroup,
    membership_id,
)
from libs.contracts.onboarding import AccessGranted, AccessRevoked, MemberErased, MemberRegistered
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Aggregate, Service
from services.groups import domain

MEMBERSHIP = Aggregate(SERVICE, "membership", domain.Membership, domain.evolve_membership,
                       events=(MemberJoinedGroup, MemberLeftGroup))
GROUP = Aggregate(SERVICE, "group", domain.Group, domain.evolve_group, events=(GroupCreated,))


def _ids(rec: Recorded, step: str):
    return lambda n: [uuid.uuid5(rec.envelope.event_id, f"{step}:{i}") for i in range(n)]


def _meta(rec: Recorded) -> Meta:
    return Meta(actor="system", correlation_id=rec.envelope.correlation_id, causation_id=str(rec.envelope.event_id))


async def _join(svc: Service, rec: Recorded, group_id: str, member_id: str, reason: str) -> None:
    await svc.execute(
        MEMBERSHIP,
        membership_id(group_id, member_id),
        lambda s: domain.join(group_id, member_id, reason, s),
        _meta(rec),
        _ids(rec, f"join:{group_id}"),
    )


async def _leave(svc: Service, rec: Recorded, group_id: str, member_id: str, reason: str) -> None:
    await svc.execute(
        MEMBERSHIP,
        membership_id(group_id, member_id),
        lambda s: domain.leave(group_id, member_id, reason, s),
        _meta(rec),
        _ids(rec, f"leave:{group_id}"),
    )


def register_policies(svc: Service) -> None:
    @svc.policy("base_groups", [events_of("onboarding", "member")])
    async def when_member_registered_or_granted_place_in_base_groups(rec: Recorded) -> None:
        e = rec.event
        match e:
            case MemberRegistered() if "guest" in e.roles:
                await _join(svc, rec, INTRODUCTION, e.member_id, "registered")
            case AccessGranted():
                await _join(svc, rec, MAIN, e.member_id, "access_granted")
                await _leave(svc, rec, INTRODUCTION, e.member_id, "access_granted")
            case AccessRevoked():
                await _leave(svc, rec, MAIN, e.member_id, "access_revoked")
            case MemberErased():
                for group_id in (INTRODUCTION, MAIN):
                    await _leave(svc, rec, group_id, e.member_id, "erased")

    @svc.on_start
    async def create_base_groups() -> None:
        for group_id in (INTRODUCTION, MAIN):
            await svc.execute(
                GROUP,
                group_id,
                lambda s, g=group_id: domain.create_base_group(g, s),
                Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "hr-mnenie:bootstrap:groups"))),
                lambda n, g=group_id: [uuid.uuid5(uuid.NAMESPACE_URL, f"hr-mnenie:group:{g}:{i}") for i in range(n)],
            )
