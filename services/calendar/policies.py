"""Reactions to events: the people of an event are told of its change or cancellation, a promoted member of
their place; a larger capacity promotes the first in line; a member who leaves the community gives up
their places (and the next in line gets them); an erased member's words leave the read models.

Whom to tell is read from the event's registrations aggregate (never a lagging read model); an item's id
is the causing event's and the member's, so a redelivered event tells nobody twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from libs.contracts import calendar as c
from libs.contracts.calendar import TeamConfirmed, TeamOfferExpired, TeamPlaceDeclined, TeamPlaceOffered, TeamWithdrawn
from libs.contracts.envelope import SYSTEM_ACTOR
from libs.contracts.onboarding import LEAVING_EVENTS, AccessRevoked, MemberErased
from libs.contracts.onboarding import SERVICE as ONBOARDING
from libs.contracts.subjects import events_of
from libs.kit.erasure import NotYet, caused_ids, caused_meta, forget_erased_authors, view_at
from libs.kit.eventstore import Meta, Recorded
from libs.kit.service import Service
from libs.kit.timers import Due, Timer
from services.calendar import domain as d
from services.calendar import games_domain as gd
from services.calendar.domain import AUTHOR, REGISTRATION, SEASON
from services.calendar.games_domain import GAME_TEAMS
from services.calendar.games_handlers import game_facts
from services.calendar.handlers import facts_of
from services.calendar.my_data import register_my_data
from services.calendar.projections import CALENDAR_VIEW, EVENTS, REGISTRATIONS
from services.calendar.settings import Settings


def register_policies(svc: Service, settings: Settings) -> None:
    register_my_data(svc)
    svc.tells_members = True
    forget_erased_authors(svc, AUTHOR)

    async def tell(rec: Recorded, member_ids, item: dict) -> None:
        event_id = str(rec.envelope.event_id)
        await svc.member_streams.tell_many([(member_id, {**item, "event_id": event_id}, f"{event_id}:{member_id}")
                                            for member_id in member_ids])

    @svc.policy("calendar_tells", [events_of(c.SERVICE)])
    async def when_an_event_changes_tell_its_people(rec: Recorded) -> None:
        e = rec.event
        match e:
            case c.EventChanged() | c.EventCancelled():
                regs, _ = await svc.load(REGISTRATION, e.event_id)
                season, _ = await svc.load(SEASON, e.season_id)
                plan = season.events[e.event_id].plan
                kind = "calendar_event_changed" if isinstance(e, c.EventChanged) else "calendar_event_cancelled"
                await tell(rec, (*regs.registered, *regs.waitlist), {
                    "kind": kind, "season_id": e.season_id, "calendar_event_id": e.event_id, "title": plan.title,
                    "starts_at": plan.starts_at.isoformat(), "revision": e.revision})
                if isinstance(e, c.EventChanged):
                    await svc.decide(REGISTRATION, e.event_id, d.ApplyCapacity(e.event_id, e.plan.capacity),
                                     caused_meta(rec), caused_ids(rec, "calendar:capacity"))
                    if e.plan.kind == "game":  # more teams may play: the places go down the line
                        await svc.decide(GAME_TEAMS, e.event_id, gd.ApplyMaxTeams(
                            e.event_id, game_facts(season, e.event_id), datetime.now(UTC),
                            settings.team_offer_hours), caused_meta(rec), caused_ids(rec, "calendar:max_teams"))
            case c.WaitlistPromoted():
                event = await svc.store.get(EVENTS, e.event_id)
                await tell(rec, (e.member_id,), {"kind": "calendar_waitlist_promoted", "calendar_event_id": e.event_id,
                                                 "season_id": event["season_id"] if event else None,
                                                 "title": event["plan"]["title"] if event else None})

    @svc.policy("calendar_leavers", [events_of(ONBOARDING, "member")], waits_for_views=True, types=LEAVING_EVENTS)
    async def when_member_leaves_the_community_free_their_places(rec: Recorded) -> None:
        """Revoked or erased: out of every event still open, so the next in line moves up."""
        e = rec.event
        if not isinstance(e, AccessRevoked | MemberErased):
            return
        member_id = rec.envelope.aggregate_id
        await view_at(svc, CALENDAR_VIEW, rec)  # every registration before this event is in the read model
        for row in await svc.store.find(REGISTRATIONS, {"member_id": member_id}, limit=10_000):
            event = await svc.store.get(EVENTS, row["event_id"])
            if event is None:
                continue
            season, _ = await svc.load(SEASON, event["season_id"])
            facts = facts_of(season, row["event_id"])
            if facts.status != "scheduled" or facts.season_phase != "open":
                continue  # over, cancelled: the place stays as history
            await svc.decide(REGISTRATION, row["event_id"],
                             d.Unregister(SYSTEM_ACTOR, row["event_id"], member_id, facts), caused_meta(rec),
                             caused_ids(rec, f"calendar:leave:{row['event_id']}"))

    def schedule(rec: Recorded) -> list[Due]:
        """An offered place lapses at its expiry, unless the team answers (or leaves) before."""
        e = rec.event
        match e:
            case TeamPlaceOffered():
                return [Due(f"{e.event_id}:{e.group_id}", e.expires_at)]
            case TeamConfirmed() | TeamOfferExpired() | TeamPlaceDeclined() | TeamWithdrawn():
                return [Due(f"{e.event_id}:{e.group_id}", None)]
        return []

    async def when_a_team_offer_runs_out_pass_the_place_on(timer: Timer) -> None:
        event_id, group_id = timer.key.split(":", 1)
        event = await svc.store.get(EVENTS, event_id)
        if event is None:
            raise NotYet(f"the {CALENDAR_VIEW} read model has no event {event_id} yet")
        season, _ = await svc.load(SEASON, event["season_id"])
        cause = f"hr-calendar-team-offer:{timer.key}:{timer.at.isoformat()}"
        meta = Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, cause)))
        await svc.decide(GAME_TEAMS, event_id, gd.ExpireTeamOffer(
            event_id, group_id, game_facts(season, event_id), datetime.now(UTC), settings.team_offer_hours), meta,
            lambda n: [uuid.uuid5(uuid.NAMESPACE_URL, f"{cause}:{i}") for i in range(n)])

    svc.timer("team_offers", [events_of(c.SERVICE, "game_teams")], schedule,
              when_a_team_offer_runs_out_pass_the_place_on)
