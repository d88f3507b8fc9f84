"""Notifications (issue 17): the member's list with read / unread (/notifications), their preferences — a
channel per kind, the language of their e-mails, their time zone and quiet hours (/notifications/preferences)
— and the page an e-mail's unsubscribe link opens (/notifications/unsubscribe?token=…), which works without
signing in and asks before it turns the kind off (a mail scanner following the link changes nothing).

Each page is a call or two of the gateway's public API (/v1/notifications…, /v1/me/notification-preferences)
and a template; what a notification says comes from the API in the person's language."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.web.context import Form, Page
from services.web.pages import ID_PATTERN, _refused, _sign_in_first, _text

router = APIRouter(include_in_schema=False)

CHANNELS = ("in_app", "email_now", "digest", "off")
LANGUAGES = ("ru", "en")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_TOKEN = r"^[A-Za-z0-9_.\-]{10,300}$"
Token = Annotated[str, Query(pattern=_TOKEN)]
#: a page of the list
PAGE = 50


@router.get("/notifications")
async def notifications_page(ctx: Page, before: str | None = None, unread: bool = False) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    params: dict = {"limit": PAGE, "unread_only": "true" if unread else "false"}
    if before:
        params["before"] = before[:64]
    answer = await ctx.api("GET", "/v1/notifications", params=params)
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("notifications.html", page=answer.body, unread_only=unread)


@router.post("/notifications/read")
async def mark_read(ctx: Form) -> Response:
    """One notification (``notification_id``), or every unread one."""
    if (back := _sign_in_first(ctx)) is not None:
        return back
    one = _text(ctx, "notification_id", 64)
    body = {"notification_ids": [one]} if one and re.match(ID_PATTERN, one) else {}
    answer = await ctx.api("POST", "/v1/notifications/read", json=body)
    if not answer.ok:
        return await _refused(ctx, answer)
    if not one:
        ctx.session.say("ok", "ntf_all_read")
    return ctx.redirect("/notifications")


@router.get("/notifications/preferences")
async def preferences_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/me/notification-preferences")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("notification_preferences.html", prefs=answer.body, channels=CHANNELS,
                            languages=LANGUAGES, error=None, errors={})


@router.post("/notifications/preferences")
async def save_preferences(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    current = await ctx.api("GET", "/v1/me/notification-preferences")
    if not current.ok:
        return await _refused(ctx, current)
    channels = {}
    for item in current.body["kinds"]:
        chosen = _text(ctx, f"ch_{item['kind']}", 20)
        if chosen in CHANNELS and chosen != item["channel"]:
            channels[item["kind"]] = chosen
    body: dict = {"channels": channels}
    language = _text(ctx, "language", 5)
    if language in LANGUAGES:
        body["language"] = language
    zone = _text(ctx, "time_zone", 64)
    if zone:
        body["time_zone"] = zone
    errors = {}
    if _text(ctx, "quiet", 5) == "no":
        body["no_quiet_hours"] = True
    else:
        starts, ends = _text(ctx, "quiet_starts", 5), _text(ctx, "quiet_ends", 5)
        for name, value in (("quiet_starts", starts), ("quiet_ends", ends)):
            if not _CLOCK.match(value):
                errors[name] = ctx.t("ntf_clock_wrong")
        body["quiet_hours"] = {"starts": starts, "ends": ends}
    if not errors:
        answer = await ctx.api("PUT", "/v1/me/notification-preferences", json=body)
        if answer.ok:
            ctx.session.say("ok", "ntf_saved")
            return ctx.redirect("/notifications/preferences")
        if answer.status in (401, 403):
            return await _refused(ctx, answer)
        errors = answer.field_errors()
        if answer.code == "time_zone_unknown":
            errors["time_zone"] = answer.title or ""
        error = answer.title
    else:
        error = ctx.t("ntf_form_wrong")
    return await ctx.render("notification_preferences.html", status=422, prefs=current.body, channels=CHANNELS,
                            languages=LANGUAGES, error=error, errors=errors)


@router.get("/notifications/unsubscribe")
async def unsubscribe_page(ctx: Page, token: Token) -> Response:
    """No sign-in: the link is the credential. It only says what it would turn off, and asks."""
    answer = await ctx.api("GET", "/v1/notifications/unsubscribe", params={"token": token})
    if not answer.ok:
        return await ctx.refuse(answer.status if answer.status < 500 else 503, ctx.t("ntf_unsub_title"),
                                answer.title or ctx.t("unavailable_text"))
    return await ctx.render("notification_unsubscribe.html", check=answer.body, token=token, done=False)


@router.post("/notifications/unsubscribe")
async def unsubscribe(ctx: Form, token: Token) -> Response:
    answer = await ctx.api("POST", "/v1/notifications/unsubscribe", params={"token": token})
    if not answer.ok:
        return await ctx.refuse(answer.status if answer.status < 500 else 503, ctx.t("ntf_unsub_title"),
                                answer.title or ctx.t("unavailable_text"))
    return await ctx.render("notification_unsubscribe.html", check=answer.body, token=token, done=True)
