"""Commands: a member marks notifications read and sets their preferences; anyone holding a signed link
from an e-mail turns that kind off for its member (no sign-in: the signature names the member)."""

from __future__ import annotations

from libs.contracts import notifications as n
from libs.contracts.errors import NotFound
from libs.kit.rpc import Context, Done, signed_in
from libs.kit.service import Service, last_seq, meta_of
from services.notifications import domain as d
from services.notifications import texts
from services.notifications.domain import NOTIFICATION, PREFERENCES
from services.notifications.links import read_token
from services.notifications.outbox import Outbox
from services.notifications.projections import NOTIFICATIONS, NOTIFICATIONS_VIEW
from services.notifications.queries import preferences_view, unread_of
from services.notifications.settings import Settings

#: the most notifications "mark all read" marks at once (the page asks again for more)
MARK_ALL_MAX = 200


def register_handlers(svc: Service, settings: Settings, outbox: Outbox) -> None:
    @svc.command(n.MarkNotificationsRead)
    async def mark_notifications_read(cmd: n.MarkNotificationsRead, ctx: Context) -> Done:
        signed_in(ctx)
        me = ctx.actor.id
        ids = cmd.notification_ids
        if ids is None:
            docs = await svc.store.find(NOTIFICATIONS, {"member_id": me, "read": False}, limit=MARK_ALL_MAX)
            ids = tuple(doc["notification_id"] for doc in docs)
        # each named one is the caller's before any is marked: a request naming one that is not theirs (or
        # none at all) is refused whole, and marks nothing of what it named beside it
        unread = []
        for nid in dict.fromkeys(ids):
            state = (await svc.load(NOTIFICATION, nid))[0]
            if not state.raised or state.member_id != me:
                raise NotFound("notification_not_found")
            if not state.read:
                unread.append(nid)
        marked = [await svc.decide(NOTIFICATION, nid, d.MarkRead(me), meta_of(ctx)) for nid in unread]
        await svc.wait_read_back(marked, [NOTIFICATIONS_VIEW])
        return Done(last_seq(marked),
                    n.MarkedRead(marked=len(unread), unread=await unread_of(svc, me)))

    @svc.command(n.SetPreferences)
    async def set_preferences(cmd: n.SetPreferences, ctx: Context) -> Done:
        signed_in(ctx)
        me = ctx.actor.id
        channels = {str(k): v for k, v in cmd.channels.items()}
        done = await svc.decide(PREFERENCES, me, d.SetPreferences(
            me, channels, cmd.language, cmd.time_zone, cmd.quiet_hours, cmd.no_quiet_hours), meta_of(ctx))
        return Done(done.seq, await preferences_view(svc, outbox, me, done.state, cmd.lang))

    @svc.command(n.UnsubscribeByLink)
    async def unsubscribe_by_link(cmd: n.UnsubscribeByLink, ctx: Context) -> Done:
        member_id, kind = read_token(settings.unsubscribe_secret.get_secret_value(), cmd.token)
        done = await svc.decide(PREFERENCES, member_id, d.Unsubscribe(member_id, kind), meta_of(ctx))
        return Done(done.seq, n.UnsubscribeCheck(kind=kind, name=texts.kind_name(kind, cmd.lang),
                                                 channel=done.state.channel(kind)))
