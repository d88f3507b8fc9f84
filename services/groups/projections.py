"""Read models of groups: groups, memberships, join requests, and the names shown beside members."""

from __future__ import annotations

from libs.contracts import groups as c
from libs.contracts.groups import GroupCreated, MemberJoinedGroup, MemberLeftGroup, membership_id
from libs.contracts.onboarding import MemberErased, MemberRegistered, ProfileUpdated
from libs.contracts.subjects import events_of
from libs.kit.docstore.search import words
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service

GROUPS = "groups"
MEMBERS = "group_members"
REQUESTS = "join_requests"
DIRECTORY = "directory"


async def _patch(view: View, group_id: str, **fields) -> None:
    doc = await view.get(GROUPS, group_id)
    if doc is not None:
        await view.put(GROUPS, group_id, {**{k: v for k, v in doc.items() if not k.startswith("_")}, **fields})


def register_projections(svc: Service) -> None:
    @svc.projection("groups", [events_of("groups")], [GROUPS, MEMBERS, REQUESTS], version=2)
    async def when_group_event_update_groups(rec: Recorded, view: View) -> None:  # noqa: C901 — one case per event
        e = rec.event
        at = rec.envelope.occurred_at.isoformat()
        match e:
            case GroupCreated():
                await view.put(GROUPS, e.group_id, {"group_id": e.group_id, "kind": e.kind, "title_ru": e.title_ru,
                                                    "title_en": e.title_en})
            case MemberJoinedGroup() | c.MemberJoinedWorkingGroup():
                await view.put(MEMBERS, membership_id(e.group_id, e.member_id), {
                    "group_id": e.group_id, "member_id": e.member_id, "joined_at": at})
                await view.delete(REQUESTS, membership_id(e.group_id, e.member_id))
            case MemberLeftGroup() | c.MemberLeftWorkingGroup():
                await view.delete(MEMBERS, membership_id(e.group_id, e.member_id))
                if isinstance(e, c.MemberLeftWorkingGroup):
                    doc = await view.get(GROUPS, e.group_id)
                    if doc is not None and e.member_id in doc.get("coordinators", []):
                        await _patch(view, e.group_id,
                                     coordinators=[m for m in doc["coordinators"] if m != e.member_id])
            case c.WorkingGroupProposed():
                await view.put(GROUPS, e.group_id, {
                    "group_id": e.group_id, "kind": "working", "title_ru": e.title, "title_en": e.title,
                    "title": e.title, "description": e.description, "group_type": e.group_type,
                    "status": "proposed", "settings": e.settings.model_dump(), "proposed_by": e.proposed_by,
                    "coordinators": [], "words": words(e.title), "created_at": at})
            case c.WorkingGroupApproved():
                await _patch(view, e.group_id, status="active")
            case c.WorkingGroupDeclined():
                await _patch(view, e.group_id, status="declined")
            case c.WorkingGroupArchived():
                await _patch(view, e.group_id, status="archived")
                for r in await view.find(REQUESTS, {"group_id": e.group_id}):
                    await view.delete(REQUESTS, membership_id(e.group_id, r["member_id"]))
            case c.GroupSettingsChanged():
                await _patch(view, e.group_id, settings=e.settings.model_dump())
            case c.CoordinatorAppointed() | c.CoordinatorRemoved():
                doc = await view.get(GROUPS, e.group_id)
                if doc is not None:
                    rest = [m for m in doc.get("coordinators", []) if m != e.member_id]
                    await _patch(view, e.group_id, coordinators=rest + [e.member_id]
                                 if isinstance(e, c.CoordinatorAppointed) else rest)
            case c.JoinRequested():
                await view.put(REQUESTS, membership_id(e.group_id, e.member_id), {
                    "group_id": e.group_id, "member_id": e.member_id, "message": e.message, "requested_at": at})
            case c.JoinRequestApproved() | c.JoinRequestRejected():
                await view.delete(REQUESTS, membership_id(e.group_id, e.member_id))

    @svc.projection("directory", [events_of("onboarding", "member")], [DIRECTORY])
    async def when_member_named_update_directory(rec: Recorded, view: View) -> None:
        e = rec.event
        member_id = rec.envelope.aggregate_id
        match e:
            case MemberRegistered() | ProfileUpdated():
                await view.put(DIRECTORY, member_id, {"member_id": member_id, "display_name": e.full_name})
            case MemberErased():
                await view.delete(DIRECTORY, member_id)
