"""Read handlers: a member's notifications (newest first, in their language, with read / unread and the
e-mail's state) and preferences, and what an unsubscribe link would turn off (anonymous: the link's
signature is the only credential)."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts import notifications as n
from libs.kit.rpc import Context, signed_in
from libs.kit.service import Service
from services.notifications import texts
from services.notifications.domain import PREFERENCES, Preferences
from services.notifications.links import read_token
from services.notifications.outbox import Outbox
from services.notifications.projections import NOTIFICATIONS, NOTIFICATIONS_VIEW
from services.notifications.settings import Settings


def view_of(doc: dict, lang: str) -> n.NotificationView:
    params = dict(doc["params"])
    return n.NotificationView(notification_id=doc["notification_id"], kind=doc["kind"], params=params,
                              raised_at=datetime.fromisoformat(doc["raised_at"]), read=doc["read"],
                              link=texts.link(doc["kind"], params), title=texts.title(doc["kind"], params, lang),
                              email=doc.get("email"))


async def unread_of(svc: Service, member_id: str) -> int:
    return await svc.store.count(NOTIFICATIONS, {"member_id": member_id, "read": False})


async def preferences_view(svc: Service, outbox: Outbox, member_id: str, prefs: Preferences,
                           lang: str) -> n.PreferencesView:
    return n.PreferencesView(
        member_id=member_id,
        kinds=tuple(n.KindPreference(kind=k, name=texts.kind_name(k, lang), channel=prefs.channel(k),
                                     default=n.DEFAULT_CHANNELS[k]) for k in n.KINDS),
        language=prefs.language, time_zone=prefs.time_zone, quiet_hours=prefs.quiet_hours,
        email_available=outbox.available, address_known=await outbox.address_known(member_id))


def register_queries(svc: Service, settings: Settings, outbox: Outbox) -> None:
    @svc.query(n.ListNotifications, reads=[NOTIFICATIONS_VIEW])
    async def list_notifications(q: n.ListNotifications, ctx: Context) -> n.NotificationPage:
        signed_in(ctx)
        where: dict = {"member_id": ctx.actor.id}
        if q.unread_only:
            where["read"] = False
        if q.before is not None:
            # stored in UTC's ISO form: compared as strings, so the bound is written the same way
            where["raised_at"] = {"$lt": q.before.astimezone(UTC).isoformat()}
        docs = await svc.store.find(NOTIFICATIONS, where, sort=[("raised_at", -1)], limit=q.limit + 1)
        more = len(docs) > q.limit
        items = tuple(view_of(doc, q.lang) for doc in docs[:q.limit])
        return n.NotificationPage(items=items, unread=await unread_of(svc, ctx.actor.id),
                                  next_before=items[-1].raised_at if more else None)

    @svc.query(n.GetPreferences)
    async def get_preferences(q: n.GetPreferences, ctx: Context) -> n.PreferencesView:
        signed_in(ctx)
        prefs, _ = await svc.load(PREFERENCES, ctx.actor.id)
        return await preferences_view(svc, outbox, ctx.actor.id, prefs, q.lang)

    @svc.query(n.CheckUnsubscribeLink)
    async def check_unsubscribe_link(q: n.CheckUnsubscribeLink, ctx: Context) -> n.UnsubscribeCheck:
        member_id, kind = read_token(settings.unsubscribe_secret.get_secret_value(), q.token)
        prefs, _ = await svc.load(PREFERENCES, member_id)
        return n.UnsubscribeCheck(kind=kind, name=texts.kind_name(kind, q.lang), channel=prefs.channel(kind))
