"""What must hold after every chaos scenario.

1. The log: every acknowledged command's events are in it exactly once, no
   event id appears twice, no command is in it by halves, no policy reaction
   is missing, nothing went to the dead-letter stream.
2. The read models: after the consumers settle, every projection equals a
   fresh rebuild from the log.
3. Recovery: the gateway is ready and new commands succeed (see the tests).
4. The calendar: for each event, never more registered than its capacity, nobody both registered and in
   line, the line promoted first come first served and no place left free while someone waits; every
   acknowledged registration is in the event's registrations (or was given up by an acknowledged
   cancellation, or taken away when its member left), and the read model says the same.
5. The roles: replayed from the log, no vacancy ever held over its capacity, no member ever over the
   window's maximum of picks, every pick appended to the member and the vacancy together (or neither);
   every acknowledged pick held (or given up by an acknowledged release, or by the member's leaving), and
   each group's board as the roles service serves it equals that replay.
6. The feedback (issue 15): replayed from the log, every piece written once and then only edited, nothing
   written or edited on a piece after its publication, every piece of a closed round published exactly
   once (after the close, never before), what is published the piece's last words; every acknowledged write
   in the log (checked with the others in 1.), acknowledged writes of one piece in the order they were
   answered, none sent after its round's close was acknowledged and yet appended; and each team's feedback
   as the feedback service serves it (to a moderator, drafts too, and to a member of the team, published
   only) equals that replay, words included (the words of the call whose event is the piece's last).
7. The notifications: replayed from the log, each raised once (its id the one its cause, kind and member
   derive), every decision on a newcomer told to them and every completed profile to the admin, an e-mail
   queued exactly when it goes by e-mail at once, sent at most once and in the member's language, and every queued one whose time came
   sent or dropped with a reason once the fault healed; the mail server received every e-mail recorded sent, at
   the member's address, and each Message-ID once — but where the scenario opened the gap ADR 0023 names (the
   outbox dying, or unable to record, between the server's acceptance and EmailSent): a copy sent again then
   carries the same Message-ID.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.contracts.notifications import notification_id_of
from libs.contracts.subjects import DEADLETTER_STREAM, EVENTS_STREAM, NOTIFY_ROOT, NOTIFY_STREAM, control_subject
from tests.chaos.harness import ADMIN_EMAIL, ADMIN_PASSWORD, SERVICES, Received, Supervisor
from tests.chaos.load import Call

#: what one command may append to one aggregate: all of a set, or nothing
WHOLE = {
    "invite": [("InvitationIssued",)],
    "register": [("InvitationUsed",), ("ConsentGiven", "MemberRegistered")],
    "rules": [("RulesAcknowledged",)],
    "profile": [("ProfileUpdated",), ("ProfileCompleted", "ProfileUpdated")],
    "decision": [("AccessGranted",), ("ChangesRequested",), ("AccessDeclined",)],
    "group": [("CallRoomAssigned", "CoordinatorAppointed", "MemberJoinedWorkingGroup", "WorkingGroupApproved",
               "WorkingGroupProposed")],
    "join": [("MemberJoinedWorkingGroup",)],
    "call": [("CallScheduled",)],
    "message": [("MessagePosted",)],
    "task": [("TaskCreated",)],
    "task_status": [("TaskStatusChanged",)],
    "upload": [("FileUploaded",)],
    # the load's season: started, its event drafted, the grid published
    "season": [("SeasonPlanningStarted",), ("GridEventAdded",), ("EventScheduled", "SeasonOpened")],
    "cal_register": [("EventRegistered",), ("RegistrationWaitlisted",)],
    # a place given up moves the first in line up in the same append
    "cal_cancel": [("RegistrationCancelled",), ("RegistrationCancelled", "WaitlistPromoted")],
    # the season whose closing opens the load's pick window
    "window": [("SeasonPlanningStarted",), ("GridEventAdded",), ("EventScheduled", "SeasonOpened"), ("SeasonClosed",)],
    "capacity": [("VacancyCapacitySet",)],
    # one decision over two aggregates: the member's picks and the vacancy, each its own event
    "pick": [("RoleTaken",), ("VacancyOccupied",)],
    "unpick": [("RoleReleased",), ("VacancyFreed",)],
    # a member's own notification preferences (nothing when they are as asked already), and read marks
    "prefs": [("PreferencesChanged",)],
    "mark_read": [("NotificationMarkedRead",)],
    # the feedback game: its season and event, the observers' role, their place at the game, rounds, words
    "game": [("SeasonPlanningStarted",), ("GridEventAdded",), ("EventScheduled", "SeasonOpened")],
    "observer_role": [("RolesChanged",)],
    "fb_assign": [("ObserverAssigned",)],
    "fb_open": [("RoundOpened",)],
    "fb_close": [("RoundClosed",)],
    "fb_write": [("FeedbackWritten",), ("FeedbackEdited",)],
}
#: calls of the load's set-up whose events are not held to account (the game's teams, retried until done)
SETUP = {"setup"}
#: per kind, what a command appends over all its aggregates together: the whole decision or nothing
ACROSS = {"pick": ("RoleTaken", "VacancyOccupied"), "unpick": ("RoleReleased", "VacancyFreed")}
#: what a registration's answer says the caller holds, by the event it appended
PLACE = {"EventRegistered": "registered", "RegistrationWaitlisted": "waitlisted"}
DECISION_EVENT = {"grant": "AccessGranted", "request_changes": "ChangesRequested", "decline": "AccessDeclined"}


@dataclass(frozen=True)
class Entry:
    seq: int
    subject: str
    msg_id: str | None
    envelope: dict

    @property
    def type(self) -> str:
        return self.envelope.get("type", "?")


async def connect(sup: Supervisor):
    return await nats.connect(sup.nats_url.split(","), connect_timeout=2, max_reconnect_attempts=20,
                              reconnect_time_wait=0.5)


async def read_log(sup: Supervisor) -> list[Entry]:
    """Every message of the event stream, from sequence 1 up to its last when asked, through an ephemeral
    consumer. The log may grow meanwhile (a policy still reacting, a timer firing): what came after the
    snapshot is left for the next read, so the count compared is the snapshot's."""
    nc = await connect(sup)
    try:
        js = nc.jetstream(timeout=10)
        state = (await js.stream_info(EVENTS_STREAM)).state
        total, last = state.messages, state.last_seq
        sub = await js.pull_subscribe(
            "hr.evt.>", stream=EVENTS_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
                                  inactive_threshold=30.0, num_replicas=1, mem_storage=True),
        )
        out: list[Entry] = []
        unavailable = 0
        while len(out) < total:
            try:
                msgs = await sub.fetch(1000, timeout=2)
            except nats.errors.TimeoutError:
                break
            except nats.js.errors.ServiceUnavailableError:
                # the checker's own consumer, made just after a cluster's recovery, without a leader yet
                unavailable += 1
                if unavailable > 20:
                    raise
                await asyncio.sleep(0.5)
                continue
            for m in msgs:
                if m.metadata.sequence.stream > last:
                    break
                try:
                    env = json.loads(m.data)
                except ValueError:
                    env = {"type": "<garbage>"}
                out.append(Entry(m.metadata.sequence.stream, m.subject, (m.headers or {}).get("Nats-Msg-Id"), env))
            if out and out[-1].seq >= last:
                break
        await sub.unsubscribe()
        assert len(out) == total, f"read {len(out)} of {total} messages of {EVENTS_STREAM}"
        return out
    finally:
        await nc.close()


async def read_member_streams(sup: Supervisor) -> dict[str, list[dict]]:
    """Every item told to every member (HR_NOTIFY), by subject, in order."""
    nc = await connect(sup)
    try:
        js = nc.jetstream(timeout=10)
        total = (await js.stream_info(NOTIFY_STREAM)).state.messages
        sub = await js.pull_subscribe(
            f"{NOTIFY_ROOT}.>", stream=NOTIFY_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
                                  inactive_threshold=30.0, num_replicas=1, mem_storage=True),
        )
        out: dict[str, list[dict]] = defaultdict(list)
        read = 0
        while read < total:
            try:
                msgs = await sub.fetch(1000, timeout=2)
            except nats.errors.TimeoutError:
                break
            for m in msgs:
                out[m.subject].append(json.loads(m.data))
            read += len(msgs)
        await sub.unsubscribe()
        assert read == total, f"read {read} of {total} messages of {NOTIFY_STREAM}"
        return out
    finally:
        await nc.close()


def check_streams(streams: dict[str, list[dict]], log: list[Entry], calls: list[Call]) -> list[str]:
    """Every acknowledged message reached its group's coordinator's stream exactly once, and nobody was
    told anything twice, whatever was killed meanwhile."""
    problems = []
    for subject, items in streams.items():
        # one cause may tell a member two things (the task assigned to them, and their notification of it)
        told = Counter((i["kind"], i.get("notification_id") or i["event_id"]) for i in items)
        twice = [k for k, n in told.items() if n > 1]
        if twice:
            problems.append(f"{subject} was told {len(twice)} things twice, e.g. {twice[:3]}")
    # every notification raised was told on its member's stream once (an erased member's stream is gone)
    erased = {e.subject.rsplit(".", 1)[1] for e in log if e.type == "MemberErased"}
    for e in log:
        if e.type != "NotificationRaised" or e.envelope["payload"]["member_id"] in erased:
            continue
        p = e.envelope["payload"]
        items = [i for i in streams.get(f"{NOTIFY_ROOT}.{p['member_id']}", [])
                 if i["kind"] == "notification" and i.get("notification_id") == p["notification_id"]]
        if len(items) != 1:
            problems.append(f"notification {p['notification_id']} ({p['kind']}) told {len(items)} times on the"
                            f" stream of {p['member_id']}")
    coordinator = {e.envelope["payload"]["group_id"]: e.envelope["payload"]["member_id"]
                   for e in log if e.type == "CoordinatorAppointed"}
    # a message posted, a task assigned to the coordinator: (the item's kind, the id it carries)
    told_as = {"message": ("message_posted", "message_id"), "task": ("task_assigned", "task_id")}
    for call in calls:
        if call.kind not in told_as or not call.ok:
            continue
        kind, ref = told_as[call.kind]
        subject = f"{NOTIFY_ROOT}.{coordinator.get(call.body['group_id'])}"
        items = [i for i in streams.get(subject, []) if i["kind"] == kind and i[ref] == call.body[ref]]
        if len(items) != 1:
            problems.append(f"acknowledged {call.kind} {call.body[ref]} told {len(items)} times on {subject}")
    return problems


def check_log(log: list[Entry], calls: list[Call]) -> tuple[list[str], list[str]]:
    """(problems, notes): problems fail the test; notes are reported."""
    problems: list[str] = []
    notes: list[str] = []

    # no event twice: neither the dedup header nor the envelope's event id
    for what, ids in (("Nats-Msg-Id", [e.msg_id for e in log]), ("event_id", [e.envelope.get("event_id") for e in log])):
        dup = {i: n for i, n in Counter(ids).items() if n > 1}
        if dup:
            problems.append(f"{len(dup)} {what}s appear more than once, e.g. {list(dup.items())[:3]}")
    missing_header = [e.seq for e in log if e.msg_id != e.envelope.get("event_id")]
    if missing_header:
        problems.append(f"{len(missing_header)} events without Nats-Msg-Id = event_id, e.g. seqs {missing_header[:5]}")

    by_cid: dict[str, list[Entry]] = defaultdict(list)
    by_subject: dict[str, list[Entry]] = defaultdict(list)
    for e in log:
        by_subject[e.subject].append(e)
        # a command's own events (a policy's, made of them, carry the same correlation id as "system")
        if e.subject.startswith("hr.evt.onboarding.") or (
                e.subject.startswith(("hr.evt.groups.working_group.", "hr.evt.groups.message.",
                                      "hr.evt.groups.task.", "hr.evt.groups.drive.", "hr.evt.calendar.season.",
                                      "hr.evt.calendar.registration.", "hr.evt.roles.picks.",
                                      "hr.evt.roles.vacancy.", "hr.evt.feedback.game.",
                                      "hr.evt.feedback.feedback.", "hr.evt.notifications.preferences.",
                                      "hr.evt.notifications.notification."))
                and e.envelope.get("actor") != "system"):
            by_cid[e.envelope.get("correlation_id")].append(e)

    def types(entries) -> list[str]:
        return sorted(e.type for e in entries)

    # nothing by halves, and nothing twice, for every command the load sent
    for call in calls:
        if call.kind in SETUP:
            continue
        mine = by_cid.get(call.cid, [])
        per_subject: dict[str, list[Entry]] = defaultdict(list)
        for e in mine:
            per_subject[e.subject].append(e)
        for subject, entries in per_subject.items():
            if tuple(types(entries)) not in WHOLE[call.kind]:
                problems.append(f"{call.kind} {call.cid} ({'ok' if call.ok else call.status}) left {types(entries)}"
                                f" on {subject}")
            seqs = [e.seq for e in entries]
            if len(entries) > 1 and [e.envelope.get("aggregate_version") for e in entries] != sorted(
                    e.envelope.get("aggregate_version") for e in entries):
                problems.append(f"{call.kind} {call.cid}: events out of order at {seqs}")
        if call.kind in ACROSS and types(mine) not in ([], sorted(ACROSS[call.kind])):
            problems.append(f"{call.kind} {call.cid} ({'ok' if call.ok else call.status}) left {types(mine)}:"
                            f" one aggregate without the other")
        if not call.ok:
            if call.kind == "register" and mine and "MemberRegistered" not in types(mine):
                notes.append(f"failed registration {call.cid} ({call.status}) spent its invitation but made no member")
            continue
        got = types(mine)
        match call.kind:
            case "invite":
                ok = got == ["InvitationIssued"] and mine[0].subject.endswith("." + call.body["token"])
            case "register":
                ok = got == ["ConsentGiven", "InvitationUsed", "MemberRegistered"] and any(
                    e.subject.endswith("." + call.body["member_id"]) for e in mine if e.type == "MemberRegistered")
            case "rules":
                ok = got == ["RulesAcknowledged"]
            case "profile":
                ok = got in (["ProfileUpdated"], ["ProfileCompleted", "ProfileUpdated"])
            case "decision":
                ok = got == [DECISION_EVENT[call.params["decision"]]] and mine[0].subject.endswith(
                    "." + call.params["member_id"])
            case "group":
                ok = (got == list(WHOLE["group"][0])
                      and all(e.subject.endswith("." + call.body["group_id"]) for e in mine))
            case "task" | "task_status":
                who = {"task": "created_by", "task_status": "changed_by"}[call.kind]
                ok = (got == list(WHOLE[call.kind][0]) and mine[0].envelope["payload"].get(who) == call.params[
                    "member_id"] and mine[0].subject.endswith("." + call.body["task_id"]))
            case "upload":
                payload = mine[0].envelope["payload"] if mine else {}
                ok = (got == ["FileUploaded"] and payload.get("uploaded_by") == call.params["member_id"]
                      and payload.get("file_id") == call.body["file_id"]
                      and payload.get("sha256") == call.params["sha256"])
            case "season" | "window" | "game":
                ok = tuple(got) in WHOLE[call.kind] and all(
                    e.subject == f"hr.evt.calendar.season.{call.params['season_id']}" for e in mine)
            case "capacity":  # nothing when an earlier try, whose answer was lost, set it already
                ok = got in ([], ["VacancyCapacitySet"]) and all(e.subject == "hr.evt.roles.vacancy." + vacancy_of(
                    call.params) for e in mine)
            case "pick" | "unpick":
                p = call.params
                ok = (got == sorted(ACROSS[call.kind]) and {e.subject for e in mine} == {
                    f"hr.evt.roles.picks.{p['member_id']}", "hr.evt.roles.vacancy." + vacancy_of(p)} and all(
                    e.envelope["payload"].get("member_id") == p["member_id"] for e in mine))
            case "observer_role":
                ok = got == ["RolesChanged"] and mine[0].subject.endswith("." + call.params["member_id"])
            case "fb_assign":  # nothing when an earlier try, whose answer was lost, assigned them already
                ok = got in ([], ["ObserverAssigned"]) and all(
                    e.subject == f"hr.evt.feedback.game.{call.params['game_id']}" for e in mine)
            case "fb_open" | "fb_close":
                # the round a close closed is the log's (the load's idea of the open round may lag)
                ok = (got == list(WHOLE[call.kind][0]) and mine[0].subject == f"hr.evt.feedback.game."
                      f"{call.params['game_id']}" and (call.kind == "fb_close" or mine[0].envelope["payload"][
                          "round_no"] == call.params["round_no"]))
            case "fb_write":
                p = call.params
                payload = mine[0].envelope["payload"] if mine else {}
                ok = (len(mine) == 1 and got[0] in ("FeedbackWritten", "FeedbackEdited")
                      and mine[0].subject == "hr.evt.feedback.feedback." + piece_of(p)
                      and all(payload.get(k) == p[k] for k in ("observer_id", "group_id", "round_no", "quality",
                                                                "role")))
            case "cal_register":
                ok = (len(mine) == 1 and got[0] in PLACE and mine[0].envelope["payload"].get("member_id") ==
                      call.params["member_id"] and mine[0].subject.endswith("." + call.params["event_id"])
                      and call.body.get("my_status") == PLACE[got[0]])
            case "cal_cancel":
                left = [e for e in mine if e.type == "RegistrationCancelled"]
                ok = (tuple(got) in WHOLE["cal_cancel"] and left[0].envelope["payload"].get("member_id") ==
                      call.params["member_id"]) or (not got and any(  # gone already: taken away when they left
                          e.type == "RegistrationCancelled" and e.envelope["payload"].get("member_id") ==
                          call.params["member_id"] for e in by_subject.get(
                              f"hr.evt.calendar.registration.{call.params['event_id']}", [])))
            case "prefs":  # nothing when they were as asked already (the admin's, again by the probe)
                ok = got in ([], ["PreferencesChanged"]) and all(
                    e.subject == f"hr.evt.notifications.preferences.{call.params['member_id']}" for e in mine)
            case "mark_read":  # each one marked theirs, as many as the answer says
                ok = (set(got) <= {"NotificationMarkedRead"} and len(mine) == call.body.get("marked") and all(
                    e.envelope["payload"].get("member_id") == call.params["member_id"] for e in mine))
            case "join" | "call" | "message":
                who = {"join": "member_id", "call": "scheduled_by", "message": "author_id"}[call.kind]
                ok = got == list(WHOLE[call.kind][0]) and mine[0].envelope["payload"].get(who) == call.params["member_id"]
            case _:
                ok = False
        if not ok:
            problems.append(f"acknowledged {call.kind} {call.cid} {call.params} has events {got} in the log")

    # per aggregate: one registration, one decision that binds, an invitation used at most max_uses times
    for subject, entries in by_subject.items():
        t = Counter(e.type for e in entries)
        if subject.startswith("hr.evt.onboarding.member."):
            if t["MemberRegistered"] != 1:
                problems.append(f"{subject}: {t['MemberRegistered']} MemberRegistered")
            if t["AccessGranted"] + t["AccessDeclined"] > 1:
                problems.append(f"{subject}: decided twice {dict(t)}")
        if subject.startswith("hr.evt.groups.task.") and (t["TaskCreated"] != 1 or t["TaskStatusChanged"] > 1):
            problems.append(f"{subject}: a task created {t['TaskCreated']} times, moved {t['TaskStatusChanged']}")
        if subject.startswith("hr.evt.groups.drive."):
            files = Counter(e.envelope["payload"].get("file_id") for e in entries if e.type == "FileUploaded")
            twice = [f for f, n in files.items() if n > 1]
            if twice:
                problems.append(f"{subject}: files uploaded more than once {twice[:3]}")
        if subject.startswith("hr.evt.onboarding.invitation.") and t["InvitationUsed"] > 1:
            problems.append(f"{subject}: a single-use invitation used {t['InvitationUsed']} times")

    # the groups policy reacted to every registration and grant, once
    def joins(group: str, member: str, kind: str) -> int:
        return sum(1 for e in by_subject.get(f"hr.evt.groups.membership.{group}:{member}", []) if e.type == kind)

    for subject, entries in by_subject.items():
        if not subject.startswith("hr.evt.onboarding.member."):
            continue
        member = subject.rsplit(".", 1)[1]
        kinds = {e.type for e in entries}
        reg = next((e for e in entries if e.type == "MemberRegistered"), None)
        if reg and "guest" in reg.envelope.get("payload", {}).get("roles", []):
            if joins("introduction", member, "MemberJoinedGroup") != 1:
                problems.append(f"{member}: registered, but joined introduction "
                                f"{joins('introduction', member, 'MemberJoinedGroup')} times")
            if "AccessGranted" in kinds and (joins("main", member, "MemberJoinedGroup") != 1
                                             or joins("introduction", member, "MemberLeftGroup") != 1):
                problems.append(f"{member}: granted, but main/introduction membership events are "
                                f"{by_subject.get(f'hr.evt.groups.membership.main:{member}')}")
    # nobody outside the Main group is in a working group
    for subject, entries in by_subject.items():
        if not subject.startswith("hr.evt.groups.working_group."):
            continue
        inside: set[str] = set()
        for e in entries:
            member = e.envelope.get("payload", {}).get("member_id")
            if e.type == "MemberJoinedWorkingGroup" and e.envelope["payload"].get("via") != "coordinator":
                inside.add(member)
            elif e.type == "MemberLeftWorkingGroup":
                inside.discard(member)
        for member in inside:
            kinds = {e.type for e in by_subject.get(f"hr.evt.onboarding.member.{member}", [])}
            if "AccessGranted" not in kinds or kinds & {"AccessRevoked", "MemberErased"}:
                problems.append(f"{member} is in {subject} but not in the Main group: {sorted(kinds)}")
    return problems, notes


def vacancy_of(params: dict) -> str:
    """The vacancy aggregate's id of a pick's call (season, group, role)."""
    return f"{params['season_id']}:{params['group_id']}:{params['role']}"


@dataclass
class Places:
    """One event's registrations, as its aggregate's events in the log make them."""

    capacity: int | None = None
    registered: set[str] = field(default_factory=set)
    line: list[str] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)


def replay_places(log: list[Entry]) -> tuple[dict[str, Places], list[str]]:
    """Every event's places, replayed from the log, and what went wrong on the way: more registered than the
    capacity, someone registered and in line at once (or twice), a promotion out of turn."""
    places: dict[str, Places] = defaultdict(Places)
    problems: list[str] = []
    for e in log:
        payload = e.envelope.get("payload", {})
        if e.subject.startswith("hr.evt.calendar.season.") and e.type in ("EventScheduled", "EventChanged"):
            places[payload["event_id"]].capacity = payload["plan"]["capacity"]
        if not e.subject.startswith("hr.evt.calendar.registration."):
            continue
        event_id, member = e.subject.rsplit(".", 1)[1], payload.get("member_id")
        p = places[event_id]
        match e.type:
            case "EventRegistered" | "RegistrationWaitlisted":
                if member in p.registered or member in p.line:
                    problems.append(f"event {event_id}: {member} holds a place twice ({e.type} at {e.seq})")
                p.registered.add(member) if e.type == "EventRegistered" else p.line.append(member)
            case "WaitlistPromoted":
                if not p.line or p.line[0] != member:
                    problems.append(f"event {event_id}: {member} promoted at {e.seq} out of turn; line {p.line[:3]}")
                if member in p.line:
                    p.line.remove(member)
                p.registered.add(member)
            case "RegistrationCancelled":
                held = p.line if payload.get("waitlisted") else p.registered
                if member not in held:
                    problems.append(f"event {event_id}: {member} gave up at {e.seq} a place they did not hold")
                p.line.remove(member) if payload.get("waitlisted") and member in p.line else p.registered.discard(member)
                p.cancelled.add(member)
        if p.capacity is not None and len(p.registered) > p.capacity:
            problems.append(f"event {event_id}: {len(p.registered)} registered of {p.capacity} places at {e.seq}")
        if p.registered & set(p.line):
            problems.append(f"event {event_id}: {sorted(p.registered & set(p.line))[:3]} registered and in line")
    return places, problems


def check_calendar(log: list[Entry], calls: list[Call]) -> list[str]:
    """The places of every event hold (see replay_places), no place is free while someone waits, and every
    acknowledged registration is there — or was given up by a cancellation the member asked (acknowledged, or
    in the log though its answer was lost), or taken away because its member left the community (revoked,
    erased)."""
    places, problems = replay_places(log)
    for event_id, p in places.items():
        if p.capacity is not None and p.line and len(p.registered) < p.capacity:
            problems.append(f"event {event_id}: {p.capacity - len(p.registered)} places free while "
                            f"{len(p.line)} wait")
    given_up = {(c.params["event_id"], c.params["member_id"]) for c in calls if c.kind == "cal_cancel" and c.ok}
    # a cancellation the member asked whose answer was lost (a 503, a 504 outcome_unknown) and that happened
    cancels = {c.cid for c in calls if c.kind == "cal_cancel"}
    given_up |= {(e.subject.rsplit(".", 1)[1], e.envelope["payload"]["member_id"]) for e in log
                 if e.type == "RegistrationCancelled" and e.envelope.get("correlation_id") in cancels}
    left = {e.subject.rsplit(".", 1)[1] for e in log if e.type in ("AccessRevoked", "MemberErased")}
    registrations = [c for c in calls if c.kind == "cal_register" and c.ok]
    for call in registrations:
        event_id, member = call.params["event_id"], call.params["member_id"]
        p = places.get(event_id, Places())
        if member in p.registered or member in p.line or (event_id, member) in given_up:
            continue
        if member in left and member in p.cancelled:
            continue
        problems.append(f"acknowledged registration of {member} for {event_id} ({call.body.get('my_status')}) "
                        f"is not in its registrations")
    if not registrations and any(c.kind == "season" and c.ok for c in calls):
        problems.append("the load's members registered for nothing: the calendar was never exercised")
    return problems


def calendar_summary(log: list[Entry]) -> str:
    """What the calendar's load made of its events: places, the line, promotions, places given up."""
    places, _ = replay_places(log)
    t = Counter(e.type for e in log if e.subject.startswith("hr.evt.calendar.registration."))
    return "; ".join(f"{event_id[-6:]}: {len(p.registered)}/{p.capacity} registered, {len(p.line)} in line"
                     for event_id, p in places.items()) + (
        f"; {t['WaitlistPromoted']} promoted, {t['RegistrationCancelled']} given up")

async def check_calendar_reads(base_url: str, log: list[Entry]) -> list[str]:
    """The read model's places and line of each event are the log's."""
    places, _ = replay_places(log)
    seasons = {e.envelope["payload"]["event_id"]: e.envelope["payload"]["season_id"] for e in log
               if e.type == "EventScheduled"}
    problems = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        token = (await client.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                 ).json()["access_token"]
        for event_id, p in places.items():
            r = await client.get(f"/v1/seasons/{seasons.get(event_id)}/events/{event_id}",
                                 headers={"Authorization": f"Bearer {token}"})
            got = r.json() if r.status_code == 200 else {}
            if (got.get("registered"), got.get("waitlisted")) != (len(p.registered), len(p.line)):
                problems.append(f"event {event_id} reads {r.status_code} {got.get('registered')} registered, "
                                f"{got.get('waitlisted')} in line; the log has {len(p.registered)}, {len(p.line)}")
    return problems

@dataclass
class Roles:
    """The roles as the log makes them: each vacancy's holders and capacity, each member's picks per season."""

    #: vacancy id (season:group:role) -> holders in order, and its capacity (None: the window's default)
    holders: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    capacity: dict[str, int] = field(default_factory=dict)
    #: (member, season) -> the (group, role) they hold
    picks: dict[tuple[str, str], set[tuple[str, int]]] = field(default_factory=lambda: defaultdict(set))
    #: season -> the window's maximum of picks and its default capacity of a group's role
    max_picks: dict[str, int] = field(default_factory=dict)
    group_capacity: dict[str, int] = field(default_factory=dict)
    #: (member, vacancy) given up by the platform because the member left the group or the community
    left: set[tuple[str, str]] = field(default_factory=set)


def replay_roles(log: list[Entry]) -> tuple[Roles, list[str]]:
    """Every vacancy and every member's picks, replayed from the log, and what went wrong on the way: a vacancy
    held over its capacity (or by someone twice), a member over the window's maximum, an event whose holders
    are not the replay's, a pick given up that was not held."""
    r, problems = Roles(), []
    for e in log:
        if not e.subject.startswith("hr.evt.roles."):
            continue
        p = e.envelope.get("payload", {})
        if e.type == "PickWindowOpened":
            r.max_picks[p["season_id"]], r.group_capacity[p["season_id"]] = p["max_picks"], p["group_capacity"]
            continue
        if "role" not in p:
            continue
        vacancy = f"{p['season_id']}:{p['group_id'] or 'coordination'}:{p['role']}"
        held = r.holders[vacancy]
        match e.type:
            case "VacancyOccupied":
                if p["member_id"] in held:
                    problems.append(f"vacancy {vacancy}: {p['member_id']} holds it twice (seq {e.seq})")
                held.append(p["member_id"])
                r.capacity[vacancy] = p["capacity"]
            case "VacancyFreed":
                if p["member_id"] not in held:
                    problems.append(f"vacancy {vacancy}: {p['member_id']} freed a place they did not hold (seq {e.seq})")
                else:
                    held.remove(p["member_id"])
                r.capacity[vacancy] = p["capacity"]
            case "VacancyCapacitySet":
                r.capacity[vacancy] = p["capacity"]
            case "RoleTaken":
                mine = r.picks[(p["member_id"], p["season_id"])]
                mine.add((p["group_id"] or "coordination", p["role"]))
                most = r.max_picks.get(p["season_id"])
                if most is not None and len(mine) > most:
                    problems.append(f"{p['member_id']} holds {len(mine)} roles of {p['season_id']}, at most {most}"
                                    f" (seq {e.seq})")
            case "RoleReleased":
                mine = r.picks[(p["member_id"], p["season_id"])]
                if (p["group_id"] or "coordination", p["role"]) not in mine:
                    problems.append(f"{p['member_id']} gave up role {p['role']} they did not hold (seq {e.seq})")
                mine.discard((p["group_id"] or "coordination", p["role"]))
                if p.get("reason") in ("left_group", "left_community"):
                    r.left.add((p["member_id"], vacancy))
        if e.type.startswith("Vacancy"):
            if len(held) > r.capacity[vacancy]:
                problems.append(f"vacancy {vacancy}: {len(held)} holders of {r.capacity[vacancy]} places (seq {e.seq})")
            if sorted(p.get("holders", [])) != sorted(held):
                problems.append(f"vacancy {vacancy}: the event says {p.get('holders')}, the replay {held} (seq {e.seq})")
    # the two sides of every decision agree: who holds a vacancy is who has it among their picks
    by_picks: dict[str, set[str]] = defaultdict(set)
    for (member, season), mine in r.picks.items():
        for group, role in mine:
            by_picks[f"{season}:{group}:{role}"].add(member)
    for vacancy in set(by_picks) | {v for v, h in r.holders.items() if h}:
        if by_picks.get(vacancy, set()) != set(r.holders.get(vacancy, [])):
            problems.append(f"vacancy {vacancy}: held by {sorted(r.holders.get(vacancy, []))}, in the picks of "
                            f"{sorted(by_picks.get(vacancy, set()))}")
    return r, problems


def check_roles(log: list[Entry], calls: list[Call]) -> list[str]:
    """The replay holds (see replay_roles), and every acknowledged pick is held — or was given up by a release
    the member asked (acknowledged, or in the log though its answer was lost), or by the platform when its
    member left."""
    roles, problems = replay_roles(log)
    released = {(c.params["member_id"], vacancy_of(c.params)) for c in calls if c.kind == "unpick" and c.ok}
    # a release the member asked whose answer was lost (a 503, a 504 outcome_unknown) and that happened
    unpicks = {c.cid for c in calls if c.kind == "unpick"}
    released |= {(e.envelope["payload"]["member_id"], vacancy_of({
        **e.envelope["payload"], "group_id": e.envelope["payload"]["group_id"] or "coordination"}))
        for e in log if e.type == "RoleReleased" and e.envelope.get("correlation_id") in unpicks}
    picks = [c for c in calls if c.kind == "pick" and c.ok]
    for call in picks:
        member, vacancy = call.params["member_id"], vacancy_of(call.params)
        if member in roles.holders.get(vacancy, []) or (member, vacancy) in released | roles.left:
            continue
        problems.append(f"acknowledged pick of {vacancy} by {member} is not among its holders")
    if not picks and any(c.kind == "window" and c.ok for c in calls):
        problems.append("the load's members picked no role: the roles service was never exercised")
    return problems


def roles_summary(log: list[Entry]) -> str:
    roles, _ = replay_roles(log)
    t = Counter(e.type for e in log if e.subject.startswith("hr.evt.roles."))
    full = sum(1 for v, h in roles.holders.items() if h and len(h) >= roles.capacity.get(v, 1))
    return (f"{t['RoleTaken']} picks, {t['RoleReleased']} given up, {full} vacancies full, "
            f"{sum(len(h) for h in roles.holders.values())} places held")


async def check_roles_reads(base_url: str, log: list[Entry]) -> list[str]:
    """Each group's board, as the roles service serves it after the disruption, is the log's replay: every
    role's holders and capacity."""
    roles, _ = replay_roles(log)
    boards = {tuple(v.rsplit(":", 1)[0].split(":", 1)) for v in roles.holders if not v.split(":")[1] == "coordination"}
    problems = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        token = (await client.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                 ).json()["access_token"]
        for season_id, group_id in sorted(boards):
            r = await client.get(f"/v1/groups/{group_id}/roles", params={"season_id": season_id},
                                 headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 200:
                problems.append(f"the board of {group_id} in {season_id} reads {r.status_code} {r.text[:200]}")
                continue
            for v in r.json()["vacancies"]:
                vacancy = f"{season_id}:{group_id}:{v['role']}"
                capacity = roles.capacity.get(vacancy, roles.group_capacity.get(season_id))
                if sorted(v["holders"]) != sorted(roles.holders.get(vacancy, [])) or v["capacity"] != capacity:
                    problems.append(f"the board shows role {v['role']} of {group_id} in {season_id} held by "
                                    f"{sorted(v['holders'])} of {v['capacity']}; the log has "
                                    f"{sorted(roles.holders.get(vacancy, []))} of {capacity}")
    return problems


def piece_of(params: dict) -> str:
    """The feedback aggregate's id of a write's call (game, round, team, observer)."""
    return f"{params['game_id']}:{params['round_no']}:{params['group_id']}:{params['observer_id']}"


#: what a publication repeats of the piece's last words (the parts themselves are sealed in the log)
PIECE_FIELDS = ("game_id", "round_no", "group_id", "observer_id", "quality", "role")


@dataclass
class Piece:
    """One piece of feedback as the log makes it: its writes and edits, and its publications, in log order."""

    writes: list[Entry] = field(default_factory=list)
    published: list[Entry] = field(default_factory=list)

    @property
    def last(self) -> dict:
        return self.writes[-1].envelope["payload"]


@dataclass
class Games:
    """The feedback of the games as the log makes it."""

    pieces: dict[str, Piece] = field(default_factory=lambda: defaultdict(Piece))
    #: (game, round) -> its RoundClosed
    closed: dict[tuple[str, int], Entry] = field(default_factory=dict)
    #: writes and edits appended after their round's close: decided on the round still open an instant before
    #: (ADR 0022), and published when they land
    late: list[Entry] = field(default_factory=list)


def replay_feedback(log: list[Entry]) -> tuple[Games, list[str]]:
    """Every piece of feedback, replayed from the log, and what went wrong: a piece written twice or edited
    before it was written, changed after its publication, published twice, before its round closed, or with
    other facts than its last words; a piece of a closed round never published."""
    g, problems = Games(), []
    for e in log:
        if not e.subject.startswith("hr.evt.feedback."):
            continue
        p = e.envelope.get("payload", {})
        match e.type:
            case "RoundClosed":
                key = (p["game_id"], p["round_no"])
                if key in g.closed:
                    problems.append(f"round {p['round_no']} of {p['game_id']} closed twice (seq {e.seq})")
                g.closed.setdefault(key, e)
            case "FeedbackWritten" | "FeedbackEdited":
                piece = g.pieces[p["feedback_id"]]
                if piece.published:
                    problems.append(f"feedback {p['feedback_id']}: {e.type} at seq {e.seq} after its publication "
                                    f"at seq {piece.published[0].seq}")
                if (e.type == "FeedbackWritten") != (not piece.writes):
                    problems.append(f"feedback {p['feedback_id']}: {e.type} at seq {e.seq} after "
                                    f"{len(piece.writes)} writes")
                if (p["game_id"], p["round_no"]) in g.closed:
                    g.late.append(e)
                piece.writes.append(e)
            case "FeedbackPublished":
                piece = g.pieces[p["feedback_id"]]
                if not piece.writes:
                    problems.append(f"feedback {p['feedback_id']} published (seq {e.seq}) but never written")
                elif any(p.get(k) != piece.last.get(k) for k in PIECE_FIELDS):
                    problems.append(f"feedback {p['feedback_id']} published as {[p.get(k) for k in PIECE_FIELDS]}, "
                                    f"its last words say {[piece.last.get(k) for k in PIECE_FIELDS]}")
                if (p["game_id"], p["round_no"]) not in g.closed:
                    problems.append(f"feedback {p['feedback_id']} published (seq {e.seq}) before its round closed")
                piece.published.append(e)
    for feedback_id, piece in g.pieces.items():
        if len(piece.published) > 1:
            problems.append(f"feedback {feedback_id} published {len(piece.published)} times (seqs "
                            f"{[e.seq for e in piece.published]})")
        if piece.writes and not piece.published and (piece.last["game_id"], piece.last["round_no"]) in g.closed:
            problems.append(f"feedback {feedback_id} of round {piece.last['round_no']}, closed at seq "
                            f"{g.closed[(piece.last['game_id'], piece.last['round_no'])].seq}, was never published")
    return g, problems


def check_feedback(log: list[Entry], calls: list[Call]) -> list[str]:
    """The replay holds (see replay_feedback); the acknowledged writes of a piece are in the log in the order
    they were answered; and no write sent after its round's close was acknowledged changed the piece."""
    games, problems = replay_feedback(log)
    writes = [c for c in calls if c.kind == "fb_write"]
    seq_of = {e.envelope.get("correlation_id"): e.seq for p in games.pieces.values() for e in p.writes}
    by_piece: dict[str, list[Call]] = defaultdict(list)
    for c in writes:
        if c.ok:
            by_piece[piece_of(c.params)].append(c)
    for feedback_id, acked in by_piece.items():
        seqs = [seq_of[c.cid] for c in sorted(acked, key=lambda c: c.t) if c.cid in seq_of]
        if seqs != sorted(seqs):
            problems.append(f"feedback {feedback_id}: acknowledged writes in the log out of the order they were "
                            f"answered (seqs {seqs})")
    # the moment each round's close was acknowledged (the round it closed is the log's)
    closes = {c.cid: c for c in calls if c.kind == "fb_close" and c.ok}
    acked_close = {key: closes[e.envelope.get("correlation_id")].t for key, e in games.closed.items()
                   if e.envelope.get("correlation_id") in closes}
    by_cid = {c.cid: c for c in writes}
    for e in games.late:
        call = by_cid.get(e.envelope.get("correlation_id"))
        key = (e.envelope["payload"]["game_id"], e.envelope["payload"]["round_no"])
        if call is not None and key in acked_close and call.sent > acked_close[key]:
            problems.append(f"feedback {e.envelope['payload']['feedback_id']}: a write sent "
                            f"{call.sent - acked_close[key]:.3f}s after its round's close was acknowledged changed "
                            f"it (seq {e.seq}, the close at seq {games.closed[key].seq})")
    if not any(c.ok for c in writes) and any(c.kind == "fb_open" and c.ok for c in calls):
        problems.append("the load's observers wrote no feedback: the feedback service was never exercised")
    return problems


def feedback_summary(log: list[Entry], calls: list[Call]) -> str:
    games, _ = replay_feedback(log)
    t = Counter(e.type for e in log if e.subject.startswith("hr.evt.feedback."))
    refused = Counter(c.body.get("code") for c in calls if c.kind == "fb_write" and c.expected)
    return (f"{len(games.pieces)} pieces, {t['FeedbackWritten']} written, {t['FeedbackEdited']} edits, "
            f"{t['RoundClosed']} of {t['RoundOpened']} rounds closed, {t['FeedbackPublished']} published, "
            f"{len(games.late)} appended just after their round's close; writes refused by their rule "
            f"{dict(refused)}")


async def check_feedback_reads(base_url: str, log: list[Entry], calls: list[Call],
                               team_readers: dict[str, str]) -> list[str]:
    """Each team's feedback, as the feedback service serves it after the disruption, is the log's replay: to a
    moderator every piece with its status, facts and words (those of the call whose event is the piece's last);
    to a member of the team (``team_readers``: group -> token) the published ones."""
    games, _ = replay_feedback(log)
    words_of = {c.cid: c.params["words"] for c in calls if c.kind == "fb_write"}
    by_team: dict[tuple[str, str], dict[str, Piece]] = defaultdict(dict)
    for feedback_id, piece in games.pieces.items():
        if piece.writes:
            by_team[(piece.last["game_id"], piece.last["group_id"])][feedback_id] = piece
    problems = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        token = (await client.post("/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                 ).json()["access_token"]
        for (game_id, group_id), pieces in sorted(by_team.items()):
            url = f"/v1/games/{game_id}/teams/{group_id}/feedback"
            r = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 200:
                problems.append(f"the feedback of {group_id} in {game_id} reads {r.status_code} {r.text[:200]}")
                continue
            items = {i["feedback_id"]: i for i in r.json()["items"]}
            if set(items) != set(pieces):
                problems.append(f"the feedback of {group_id} in {game_id} serves {sorted(set(items) - set(pieces))} "
                                f"the log has not and lacks {sorted(set(pieces) - set(items))}")
            for feedback_id in sorted(set(items) & set(pieces)):
                piece, got = pieces[feedback_id], items[feedback_id]
                want = {"status": "published" if piece.published else "draft",
                        **{k: piece.last[k] for k in PIECE_FIELDS}}
                words = words_of.get(piece.writes[-1].envelope.get("correlation_id"))
                if words:
                    want.update(words)
                if {k: got.get(k) for k in want} != want:
                    problems.append(f"feedback {feedback_id} is served as "
                                    f"{ {k: got.get(k) for k in want if got.get(k) != want[k]} }; the log has "
                                    f"{ {k: v for k, v in want.items() if got.get(k) != v} }")
            member = team_readers.get(group_id)
            if member:
                r = await client.get(url, headers={"Authorization": f"Bearer {member}"})
                seen = {i["feedback_id"] for i in r.json().get("items", [])} if r.status_code == 200 else None
                published = {f for f, p in pieces.items() if p.published}
                if seen != published:
                    problems.append(f"a member of {group_id} reads {r.status_code} "
                                    f"{sorted(seen) if seen is not None else r.text[:200]}; published in the log: "
                                    f"{sorted(published)}")
    return problems


async def check_files(base_url: str, calls: list[Call], tokens: dict[str, str], most: int = 10,
                      erased: set[str] = frozenset()) -> list[str]:
    """Acknowledged uploads come back byte for byte (their digest), whatever was killed meanwhile; an
    uploader the scenario erased is refused (401) with the token they had."""
    problems = []
    uploads = [c for c in calls if c.kind == "upload" and c.ok]
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        for call in uploads[-most:]:
            token = tokens.get(call.params["member_id"])
            r = await client.get(f"/v1/groups/{call.params['group_id']}/files/{call.body['file_id']}/content",
                                 headers={"Authorization": f"Bearer {token}"})
            if call.params["member_id"] in erased:
                if r.status_code != 401:
                    problems.append(f"upload {call.body['file_id']} of an erased member reads back as "
                                    f"{r.status_code} with their old token")
                continue
            if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != call.params["sha256"]:
                problems.append(f"acknowledged upload {call.body['file_id']} reads back as {r.status_code}, "
                                f"{len(r.content)} bytes")
    return problems


async def deadletters(sup: Supervisor) -> int:
    nc = await connect(sup)
    try:
        return (await nc.jetstream(timeout=10).stream_info(DEADLETTER_STREAM)).state.messages
    finally:
        await nc.close()


# ---------------------------------------------------------------- projections


async def statuses(nc) -> dict[str, list[dict]]:
    out = {}
    for svc in SERVICES:
        out[svc] = json.loads((await nc.request(control_subject(svc, "status"), b"{}", timeout=5)).data)["consumers"]
    return out


async def settle(sup: Supervisor, timeout: float = 60.0) -> None:
    """Until every consumer of every service has applied the whole log, and the log stands still."""
    nc = await connect(sup)
    try:
        js = nc.jetstream(timeout=10)
        deadline = time.monotonic() + timeout
        last_seq, quiet, st = None, 0, None
        while time.monotonic() < deadline:
            try:
                st = await statuses(nc)
                seq = (await js.stream_info(EVENTS_STREAM)).state.last_seq
            except Exception as e:  # noqa: BLE001 - a service may still be recovering
                st, seq = repr(e), None
            # a channel's lag is the e-mails and digests waiting for their time (a digest, the next morning): the
            # outbox is waited for by wait_outbox, not here
            idle = isinstance(st, dict) and all(c["lag"] == 0 and "rebuild" not in c for cs in st.values() for c in cs
                                                if c.get("kind") != "channel")
            quiet = quiet + 1 if idle and seq == last_seq else 0
            if quiet >= 3:
                return
            last_seq = seq
            await asyncio.sleep(0.2)
        raise TimeoutError(f"consumers did not settle in {timeout}s: {st}")
    finally:
        await nc.close()


def snapshot(sup: Supervisor) -> dict[str, dict]:
    """Every read-model document of every service, read straight from its SQLite file (read-only)."""
    out = {}
    for svc in SERVICES:
        f = Path(sup.data_dir) / f"hr_{svc}.sqlite3"
        conn = sqlite3.connect(f"file:{f}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("SELECT coll, id, body FROM docs ORDER BY coll, id").fetchall()
        finally:
            conn.close()
        out[svc] = {(coll, id_): _unsealed(json.loads(body)) for coll, id_, body in rows}
    return out


def _unsealed(doc: dict) -> dict:
    """A value sealed with a member's key (the notifications' copy of an address) is sealed with a fresh nonce
    each time a projection writes it: compared as sealed or not, never byte for byte."""
    if isinstance(doc.get("sealed"), str) and doc["sealed"]:
        return {**doc, "sealed": "<sealed>"}
    return doc


async def rebuild_all(sup: Supervisor) -> None:
    nc = await connect(sup)
    try:
        for svc in SERVICES:
            reply = json.loads((await nc.request(control_subject(svc, "rebuild"), b"{}", timeout=30)).data)
            assert reply.get("ok"), reply
    finally:
        await nc.close()


def diff(before: dict, after: dict, limit: int = 5) -> list[str]:
    out = []
    for svc in before:
        b, a = before[svc], after.get(svc, {})
        for key in sorted(set(b) | set(a)):
            if b.get(key) != a.get(key):
                out.append(f"{svc} {key}: live={b.get(key)} rebuilt={a.get(key)}")
    return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])


async def check_projections(sup: Supervisor, log: list[Entry]) -> list[str]:
    """Settle, snapshot, rebuild every projection from the log, settle, compare."""
    problems = []
    await settle(sup)
    live = snapshot(sup)
    members = {e.subject.rsplit(".", 1)[1] for e in log if e.type == "MemberRegistered"}
    seen = {k[1] for k in live["onboarding"] if k[0] == "members"}
    if members - seen:
        problems.append(f"{len(members - seen)} registered members missing from onboarding's read model")
    await rebuild_all(sup)
    await asyncio.sleep(0.3)
    await settle(sup)
    rebuilt = snapshot(sup)
    problems += diff(live, rebuilt)
    return problems


# ---------------------------------------------------------------- notifications

NTF_NOTIFICATION = "hr.evt.notifications.notification."
NTF_DIGEST = "hr.evt.notifications.digest."
#: what a decision on a newcomer tells them
TOLD_OF_DECISION = {"AccessGranted": "access_granted", "AccessDeclined": "access_declined",
                    "ChangesRequested": "changes_requested"}


def _when(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def outbox_waiting(log: list[Entry], now: float) -> list[str]:
    """The notifications whose e-mail was queued, whose time has come, and that are neither sent nor dropped."""
    due: dict[str, float] = {}
    for e in log:
        if not e.subject.startswith(NTF_NOTIFICATION):
            continue
        nid = e.subject[len(NTF_NOTIFICATION):]
        if e.type in ("EmailQueued", "EmailDeferred"):
            due[nid] = _when(e.envelope["payload"]["send_after"])
        elif e.type in ("EmailSent", "EmailDropped"):
            due[nid] = float("inf")
    return [nid for nid, at in due.items() if at <= now]


async def wait_outbox(sup: Supervisor, timeout: float = 60.0) -> list[Entry]:
    """Until every e-mail whose time has come is sent or dropped (the fault healed, the outbox caught up); the
    log then."""
    deadline = time.monotonic() + timeout
    while True:
        log = await read_log(sup)
        waiting = outbox_waiting(log, time.time())
        if not waiting or time.monotonic() > deadline:
            return log
        await asyncio.sleep(1.0)


def no_resend(copies: list[Received]) -> bool:
    return False


def check_notifications(log: list[Entry], calls: list[Call], received: list[Received], admin_id: str | None,
                        resend_ok: Callable[[list[Received]], bool] = no_resend) -> tuple[list[str], list[str]]:
    """(problems, notes) of the notifications replayed from the log, and of what the mail server received.
    ``resend_ok(copies)``: whether this scenario may have sent one e-mail's copies (same Message-ID) more than
    once — only where the outbox could die or fail between the server's acceptance and recording it."""
    problems: list[str] = []
    notes: list[str] = []
    now = time.time()
    by_nid: dict[str, list[Entry]] = defaultdict(list)
    by_digest: dict[str, list[Entry]] = defaultdict(list)
    for e in log:
        if e.subject.startswith(NTF_NOTIFICATION):
            by_nid[e.subject[len(NTF_NOTIFICATION):]].append(e)
        elif e.subject.startswith(NTF_DIGEST):
            by_digest[e.subject[len(NTF_DIGEST):]].append(e)

    raised: dict[str, dict] = {}
    message_ids: dict[str, str] = {}  # Message-ID -> the member it is for, of every e-mail queued or digest sent
    sent: dict[str, str] = {}  # Message-ID recorded sent -> notification or digest
    # each member's language as their preferences said at each point of the log (Russian unless they chose)
    language: dict[str, str] = {}
    for e in log:
        if e.type == "PreferencesChanged":
            language[e.envelope["payload"]["member_id"]] = e.envelope["payload"]["language"]
        elif e.type == "EmailSent":
            p = e.envelope["payload"]
            if p["language"] != language.get(p["member_id"], "ru"):
                problems.append(f"notification {p['notification_id']} was sent in {p['language']}, its member's"
                                f" preferences said {language.get(p['member_id'], 'ru')}")
    for nid, entries in by_nid.items():
        t = Counter(e.type for e in entries)
        raise_ = next((e for e in entries if e.type == "NotificationRaised"), None)
        if t["NotificationRaised"] != 1 or entries[0].type != "NotificationRaised":
            problems.append(f"notification {nid}: raised {t['NotificationRaised']} times, first {entries[0].type}")
        if raise_ is None:
            continue
        p = raise_.envelope["payload"]
        raised[nid] = p
        cause = raise_.envelope.get("causation_id")
        if cause and notification_id_of(cause, p["kind"], p["member_id"]) != nid:
            problems.append(f"notification {nid} is not the one its cause {cause}, {p['kind']} and {p['member_id']}"
                            " derive")
        if t["EmailSent"] > 1 or t["EmailSent"] + t["EmailDropped"] > 1 or t["EmailQueued"] > 1:
            problems.append(f"notification {nid}: its e-mail {dict(t)}")
        queued = t["EmailQueued"] == 1
        if queued != (p["channel"] == "email_now"):
            problems.append(f"notification {nid} goes by {p['channel']} but its e-mail was queued {t['EmailQueued']}"
                            " times")
        if (t["EmailSent"] or t["EmailDropped"] or t["EmailDeferred"]) and not queued:
            problems.append(f"notification {nid}: an e-mail never queued was {dict(t)}")
        if queued:
            message_ids[f"<{nid}@"] = p["member_id"]
        for e in entries:
            if e.type == "EmailSent":
                sent[e.envelope["payload"]["message_id"]] = nid
            if e.type == "EmailDropped" and not e.envelope["payload"].get("reason"):
                problems.append(f"notification {nid}: dropped with no reason")
    for nid in outbox_waiting(log, now):
        problems.append(f"notification {nid}: its e-mail was due and is neither sent nor dropped after the fault")
    for digest_id, entries in by_digest.items():
        t = Counter(e.type for e in entries)
        if t["DigestSent"] + t["DigestDropped"] > 1:
            problems.append(f"digest {digest_id}: {dict(t)}")
        for e in entries:
            if e.type == "DigestSent":
                sent[e.envelope["payload"]["message_id"]] = digest_id
                message_ids[f"<{digest_id}@"] = digest_id.rsplit("_", 1)[0]

    # nothing acknowledged lost: every decision on a newcomer told them, every completed profile the admin
    told = {(p["member_id"], p["kind"], nid) for nid, p in raised.items()}
    for e in log:
        member = e.subject.rsplit(".", 1)[1]
        if e.type in TOLD_OF_DECISION:
            kind = TOLD_OF_DECISION[e.type]
            want = (member, kind, notification_id_of(e.envelope["event_id"], kind, member))
        elif e.type == "ProfileCompleted" and admin_id:
            want = (admin_id, "new_applicant", notification_id_of(e.envelope["event_id"], "new_applicant", admin_id))
        else:
            continue
        if want not in told:
            problems.append(f"{e.type} {e.envelope['event_id']} told {want[0]} nothing ({want[1]})")

    # the mail server: every e-mail recorded sent received, at its member's address, each Message-ID once but
    # where the scenario opened the gap (a copy sent again carries the same Message-ID)
    address = {call.body["member_id"]: call.params["email"] for call in calls
               if call.kind == "register" and call.ok}
    if admin_id:
        address[admin_id] = ADMIN_EMAIL
    copies: dict[str, list[Received]] = defaultdict(list)
    for r in received:
        copies[r.message_id].append(r)
    sent_in = {e.envelope["payload"]["message_id"]: e.envelope["payload"]["language"] for e in log
               if e.type in ("EmailSent", "DigestSent")}
    for mid, of in sent.items():
        if mid not in copies:
            problems.append(f"{of}: recorded sent as {mid}, never received by the mail server")
        elif any(r.language != sent_in[mid] for r in copies[mid]):
            problems.append(f"{of}: recorded sent in {sent_in[mid]}, received as {[r.language for r in copies[mid]]}")
    resent = 0
    for mid, got in copies.items():
        member = next((m for prefix, m in message_ids.items() if mid.startswith(prefix)), None)
        if member is None:
            problems.append(f"the mail server received {mid}, no e-mail queued nor digest sent")
            continue
        if member in address and any(r.recipients != (address[member],) for r in got):
            problems.append(f"{mid} for {member} went to {[r.recipients for r in got]}")
        if len(got) > 1:
            if resend_ok(got):
                resent += 1
            else:
                problems.append(f"the mail server received {mid} {len(got)} times (this scenario opened no gap)")
    if resent:
        notes.append(f"{resent} e-mails received again with the same Message-ID (the gap ADR 0023 names)")
    return problems, notes


def notifications_summary(log: list[Entry], received: list[Received]) -> str:
    t = Counter(e.type for e in log if e.subject.startswith((NTF_NOTIFICATION, NTF_DIGEST)))
    dropped = Counter(e.envelope["payload"].get("reason") for e in log if e.type == "EmailDropped")
    return (f"{t['NotificationRaised']} raised, {t['EmailQueued']} e-mails queued, {t['EmailSent']} sent, "
            f"{t['EmailDropped']} dropped {dict(dropped)}, {t['NotificationMarkedRead']} marked read, "
            f"{t['DigestItemAdded']} digest items; the mail server received {len(received)} messages, "
            f"{len({r.message_id for r in received})} Message-IDs")
