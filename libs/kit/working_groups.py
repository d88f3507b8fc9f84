"""A read model of the groups service's working groups, for services that act on them: which groups
there are (title, type, status, coordinators, visibility: a group shown to its members only is not
shown to anyone else) and who is in them. The calendar reads it for group feeds
and game teams, the roles service for vacancies and picks; both keep it from the groups' events in their
own store (collections ``wgroups`` and ``wmembers``, projection ``working_groups``)."""

from __future__ import annotations

from libs.contracts import groups as g
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View

WGROUPS = "wgroups"
WMEMBERS = "wmembers"
GROUPS_VIEW = "working_groups"


def membership_key(group_id: str, member_id: str) -> str:
    return f"{group_id}:{member_id}"


def _plain(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def keep_working_groups(svc) -> None:
    """Register the projection on ``svc`` (a libs.kit.service.Service)."""

    @svc.projection(GROUPS_VIEW, [events_of(g.SERVICE, "working_group")], [WGROUPS, WMEMBERS], version=2)
    async def when_working_group_changed_keep_its_members(rec: Recorded, view: View) -> None:
        e = rec.event
        match e:
            case g.WorkingGroupProposed():
                await view.put(WGROUPS, e.group_id, {"key": e.group_id, "group_id": e.group_id, "title": e.title,
                                                     "group_type": e.group_type, "status": "proposed",
                                                     "coordinators": [], "visibility": e.settings.visibility})
            case g.GroupSettingsChanged():
                doc = await view.get(WGROUPS, e.group_id)
                if doc is not None:
                    await view.put(WGROUPS, e.group_id, {**_plain(doc), "visibility": e.settings.visibility})
            case g.WorkingGroupApproved() | g.WorkingGroupArchived() | g.WorkingGroupDeclined():
                doc = await view.get(WGROUPS, e.group_id)
                status = {g.WorkingGroupApproved: "active", g.WorkingGroupArchived: "archived"}.get(type(e),
                                                                                                     "declined")
                if doc is not None:
                    coordinators = list(doc.get("coordinators") or [])
                    if isinstance(e, g.WorkingGroupApproved) and e.coordinator_id not in coordinators:
                        coordinators.append(e.coordinator_id)
                    await view.put(WGROUPS, e.group_id, {**_plain(doc), "status": status,
                                                         "coordinators": coordinators})
            case g.CoordinatorAppointed() | g.CoordinatorRemoved():
                doc = await view.get(WGROUPS, e.group_id)
                if doc is not None:
                    others = [m for m in doc.get("coordinators") or [] if m != e.member_id]
                    now = [*others, e.member_id] if isinstance(e, g.CoordinatorAppointed) else others
                    await view.put(WGROUPS, e.group_id, {**_plain(doc), "coordinators": now})
            case g.MemberJoinedWorkingGroup():
                key = membership_key(e.group_id, e.member_id)
                await view.put(WMEMBERS, key, {"key": key, "group_id": e.group_id, "member_id": e.member_id})
            case g.MemberLeftWorkingGroup():
                await view.delete(WMEMBERS, membership_key(e.group_id, e.member_id))
