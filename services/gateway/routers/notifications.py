"""Notifications: a member's list (newest first, in their language) with read / unread, marking read,
their preferences (a channel per kind, language, time zone, quiet hours), and the unsubscribe link from an
e-mail, which works without signing in (its signature names the member and the kind): GET says what it
turns off, POST turns it off (also RFC 8058's one-click POST a mail client sends)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from libs.contracts import notifications as c
from libs.contracts.notifications import SERVICE
from libs.contracts.types import Id
from services.gateway.deps import AnonBus, AnonCommandBus, AuthBus, AuthCommandBus
from services.gateway.i18n import language
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["notifications"], responses=PROBLEM_RESPONSES)
Lang = Annotated[str | None, Header()]
Token = Annotated[str, Query(min_length=10, max_length=300, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: none: every unread one (up to 200 at a time)
    notification_ids: tuple[Id, ...] | None = Field(default=None, max_length=200)


class PreferencesIn(BaseModel):
    """What SetPreferences takes from a client (the language of the answer's words comes from
    Accept-Language)."""

    model_config = ConfigDict(extra="forbid")
    channels: dict[c.Kind, c.Channel] = {}
    language: c.Language | None = None
    time_zone: c.ZoneName | None = None
    quiet_hours: c.QuietHours | None = None
    no_quiet_hours: bool = False


@router.get("/v1/notifications", response_model=c.ListNotifications.reply_model,
            summary="My notifications, newest first, with the unread count; page with `before`")
async def list_notifications(bus: AuthBus, unread_only: bool = False, before: AwareDatetime | None = None,
                             limit: Annotated[int, Query(ge=1, le=200)] = 50, accept_language: Lang = None):
    return await bus.query(SERVICE, c.ListNotifications(unread_only=unread_only, before=before, limit=limit,
                                                        lang=language(accept_language)))


@router.post("/v1/notifications/read", response_model=c.MarkNotificationsRead.reply_model,
             summary="Mark my notifications read: those named, or every unread one")
async def mark_read(body: ReadIn, bus: AuthCommandBus):
    return await bus.command(SERVICE, c.MarkNotificationsRead(notification_ids=body.notification_ids))


@router.get("/v1/me/notification-preferences", response_model=c.GetPreferences.reply_model,
            summary="My notification preferences: a channel per kind, language, time zone, quiet hours")
async def get_preferences(bus: AuthBus, accept_language: Lang = None):
    return await bus.query(SERVICE, c.GetPreferences(lang=language(accept_language)))


@router.put("/v1/me/notification-preferences", response_model=c.SetPreferences.reply_model,
            summary="Change my notification preferences (the kinds not named keep their channel)")
async def set_preferences(body: PreferencesIn, bus: AuthCommandBus, accept_language: Lang = None):
    return await bus.command(SERVICE, c.SetPreferences(**body.model_dump(exclude_unset=True),
                                                       lang=language(accept_language)))


@router.get("/v1/notifications/unsubscribe", response_model=c.CheckUnsubscribeLink.reply_model,
            summary="What an unsubscribe link from an e-mail turns off (no sign-in: the link is signed)")
async def check_unsubscribe(token: Token, bus: AnonBus, accept_language: Lang = None):
    return await bus.query(SERVICE, c.CheckUnsubscribeLink(token=token, lang=language(accept_language)))


@router.post("/v1/notifications/unsubscribe", response_model=c.UnsubscribeByLink.reply_model,
             summary="Turn off the kind an e-mail's unsubscribe link names (no sign-in; RFC 8058 one-click)")
async def unsubscribe(token: Token, bus: AnonCommandBus, accept_language: Lang = None):
    return await bus.command(SERVICE, c.UnsubscribeByLink(token=token, lang=language(accept_language)))
