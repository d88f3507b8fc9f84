"""Read models of groups: groups, memberships, join requests and invitations, calls, the Main group's
announcements, and the names shown beside members. Members' own words (a request's message, a call's
topic, an announcement, a decline's reason) are kept here in clear for reading, and scrubbed when their
author is erased (``AuthorErased``, appended once the author's key is gone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.contracts import groups as c
from libs.contracts.groups import SERVICE, GroupCreated, MemberJoinedGroup, MemberLeftGroup, membership_id
from libs.contracts.onboarding import MemberErased, MemberRegistered, ProfileUpdated
from libs.contracts.subjects import events_of
from libs.kit.docstore.search import words
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service

GROUPS = "groups"
MEMBERS = "group_members"
REQUESTS = "join_requests"
INVITATIONS = "group_invitations"
CALLS = "calls"
ANNOUNCEMENTS = "announcements"
DIRECTORY = "directory"


async def _patch(view: View, group_id: str, **fields) -> None:
    doc = await view.get(GROUPS, group_id)
    if doc is not None:
        await view.put(GROUPS, group_id, {**_plain(doc), **fields})


def utc_text(moment: datetime) -> str:
    """One zone and one format for every stored time, so that they sort and compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _forget_author(view: View, member_id: str) -> None:
    for r in await view.find(REQUESTS, {"member_id": member_id}):
        await view.put(REQUESTS, membership_id(r["group_id"], member_id), {**_plain(r), "message": None})
    for g in await view.find(GROUPS, {"declined_by": member_id}):
        await view.put(GROUPS, g["group_id"], {**_plain(g), "declined_reason": None})
    for call in await view.find(CALLS, {"scheduled_by": member_id}):
        await view.put(CALLS, call["call_id"], {**_plain(call), "topic": None})
    for a in await view.find(ANNOUNCEMENTS, {"author_id": member_id}):
        await view.delete(ANNOUNCEMENTS, a["announcement_id"])


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def register_projections(svc: Service) -> None:
    @svc.projection("groups", [events_of("groups")], [GROUPS, MEMBERS, REQUESTS, INVITATIONS, CALLS, ANNOUNCEMENTS],
                    version=3)
    async def when_group_event_update_groups(rec: Recorded, view: View) -> None:  # noqa: C901 — one case per event
        e = rec.event
        at = rec.envelope.occurred_at.isoformat()
        published = utc_text(rec.envelope.occurred_at)
        match e:
            case GroupCreated():
                await view.put(GROUPS, e.group_id, {"group_id": e.group_id, "kind": e.kind, "title_ru": e.title_ru,
                                                    "title_en": e.title_en})
            case MemberJoinedGroup() | c.MemberJoinedWorkingGroup():
                await view.put(MEMBERS, membership_id(e.group_id, e.member_id), {
                    "group_id": e.group_id, "member_id": e.member_id, "joined_at": at})
                await view.delete(REQUESTS, membership_id(e.group_id, e.member_id))
                await view.delete(INVITATIONS, membership_id(e.group_id, e.member_id))
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
                await _patch(view, e.group_id, status="declined", declined_by=e.declined_by,
                             declined_reason=e.reason)
            case c.WorkingGroupArchived():
                await _patch(view, e.group_id, status="archived")
                for collection in (REQUESTS, INVITATIONS):
                    for r in await view.find(collection, {"group_id": e.group_id}):
                        await view.delete(collection, membership_id(e.group_id, r["member_id"]))
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
            case c.JoinRequestApproved() | c.JoinRequestRejected() | c.JoinRequestWithdrawn():
                await view.delete(REQUESTS, membership_id(e.group_id, e.member_id))
            case c.MemberInvitedToGroup():
                await view.put(INVITATIONS, membership_id(e.group_id, e.member_id), {
                    "group_id": e.group_id, "member_id": e.member_id, "invited_by": e.invited_by,
                    "invited_at": at})
            case c.GroupInvitationWithdrawn():
                await view.delete(INVITATIONS, membership_id(e.group_id, e.member_id))
            case c.CallRoomAssigned():
                await _patch(view, e.group_id, room=e.room)
            case c.CallScheduled():
                ends = e.starts_at + timedelta(minutes=e.duration_minutes)
                await view.put(CALLS, e.call_id, {
                    "call_id": e.call_id, "group_id": e.group_id, "topic": e.topic,
                    "starts_at": utc_text(e.starts_at), "ends_at": utc_text(ends),
                    "duration_minutes": e.duration_minutes, "scheduled_by": e.scheduled_by})
            case c.CallCancelled():
                await view.delete(CALLS, e.call_id)
            case c.AnnouncementPosted():
                if e.title is not None and e.body is not None:  # else its author is erased: nothing to show
                    await view.put(ANNOUNCEMENTS, e.announcement_id, {
                        "announcement_id": e.announcement_id, "source": "moderator", "author_id": e.author_id,
                        "title": e.title, "body": e.body, "published_at": published})
            case c.AnnouncementPublished():
                await view.put(ANNOUNCEMENTS, e.announcement_id, {
                    "announcement_id": e.announcement_id, "source": SERVICE, "topic": e.topic,
                    "ref_id": e.ref_id, "params": dict(e.params), "published_at": published})
            case c.AnnouncementWithdrawn():
                await view.delete(ANNOUNCEMENTS, e.announcement_id)
            case c.AuthorErased():
                await _forget_author(view, e.member_id)

    @svc.projection("directory", [events_of("onboarding", "member")], [DIRECTORY],
                    types=(MemberRegistered, ProfileUpdated, MemberErased))
    async def when_member_named_update_directory(rec: Recorded, view: View) -> None:
        e = rec.event
        member_id = rec.envelope.aggregate_id
        match e:
            case MemberRegistered() | ProfileUpdated():
                await view.put(DIRECTORY, member_id, {"member_id": member_id, "display_name": e.full_name})
            case MemberErased():
                await view.delete(DIRECTORY, member_id)
