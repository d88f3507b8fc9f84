"""The pages. Each one is a call or two of the gateway's public API and a template."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path
from fastapi.responses import Response

from services.web.context import Ctx, Form, Page, safe_next
from services.web.gateway import Answer, forget
from services.web.session import LANG_COOKIE
from services.web.texts import LANGS

router = APIRouter(include_in_schema=False)
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def ID():  # noqa: N802 — one Path per route: FastAPI binds a shared one to the first parameter's name
    return Path(pattern=ID_PATTERN)

PROFILE_FIELDS = ("full_name", "city", "company", "position", "years_in_hr", "professional_interests", "phone",
                  "about")
VISIBLE_FIELDS = ("city", "company", "position", "years_in_hr", "professional_interests", "phone", "about")
REQUIRED_FIELDS = ("full_name", "city", "company", "position", "years_in_hr", "professional_interests", "phone")
ASSIGNABLE = ("moderator", "observer", "coordinator", "admin")
DECISIONS = ("grant", "request_changes", "decline", "revoke")
STATUSES = ("introduction", "pending_review", "changes_requested", "member", "declined", "revoked")
DEAD_INVITATION = ("invitation_unknown", "invitation_expired", "invitation_revoked", "invitation_exhausted")


def _sign_in_first(ctx: Ctx) -> Response | None:
    if ctx.session.signed_in:
        return None
    ctx.session.say("info", "login_required_page")
    return ctx.redirect(f"/login?next={quote(ctx.path, safe='')}")


async def _refused(ctx: Ctx, answer: Answer) -> Response:
    """A page the API will not give this person: its own words, and the status it said."""
    if answer.status == 403:
        return await ctx.refuse(403, ctx.t("forbidden_title"), answer.title or ctx.t("forbidden_text"))
    if answer.status == 404:
        return await ctx.refuse(404, ctx.t("not_found_title"), answer.title or ctx.t("not_found_text"))
    if answer.status >= 500:
        return await ctx.refuse(503, ctx.t("unavailable_title"), answer.title or ctx.t("unavailable_text"))
    return await ctx.refuse(answer.status, ctx.t("bad_request_title"), answer.title)


def _text(ctx: Ctx, name: str, limit: int = 5000) -> str:
    value = ctx.form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _secret(ctx: Ctx, name: str) -> str:
    """A password as typed (spaces are part of it), cut where the API would refuse it anyway."""
    value = ctx.form.get(name)
    return value[:1000] if isinstance(value, str) else ""


async def _me(ctx: Ctx) -> Answer:
    """Who I am; the navigation's roles and name follow what the platform says now."""
    answer = await ctx.api("GET", "/v1/me")
    if answer.ok:
        ctx.session.member_id = answer.body["member_id"]
        ctx.session.roles = list(answer.body["roles"])
        ctx.session.name = answer.body["profile"].get("full_name")
    return answer


# ------------------------------------------------------------------ language, sign-in


@router.get("/lang/{lang}")
async def switch_language(ctx: Page, lang: str, next: str | None = None) -> Response:
    response = ctx.redirect(safe_next(next))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=ctx.settings.cookies_secure, path="/")
    return response


@router.get("/login")
async def login_page(ctx: Page, next: str | None = None) -> Response:
    return await ctx.render("login.html", next=safe_next(next), email="", error=None)


@router.post("/login")
async def login(ctx: Form) -> Response:
    email, password, target = _text(ctx, "email", 320), _secret(ctx, "password"), safe_next(_text(ctx, "next"))
    answer = await ctx.api("POST", "/v1/auth/token", json={"email": email, "password": password})
    if not answer.ok:
        error = answer.title if answer.status in (401, 422, 429) else ctx.t("unavailable_text")
        return await ctx.render("login.html", status=answer.status if answer.status < 500 else 503, next=target,
                                email=email, error=error)
    _signed_in(ctx, answer.body)
    me = await _me(ctx)
    if me.ok and me.body["status"] == "introduction" and target == "/":
        target = "/rules" if not me.body["rules_acknowledged"] else "/profile"
    return ctx.redirect(target)


def _signed_in(ctx: Ctx, tokens: dict) -> None:
    ctx.session.sign_out()  # a new CSRF token with the new identity
    ctx.session.access, ctx.session.refresh = tokens["access_token"], tokens["refresh_token"]


@router.post("/logout")
async def logout(ctx: Form) -> Response:
    await forget(ctx.app.state.gateway, ctx.session, ctx.lang, ctx.address)
    ctx.session.sign_out()
    ctx.session.say("info", "signed_out")
    return ctx.redirect("/login")


# ------------------------------------------------------------------ joining


@router.get("/join/{token}")
async def join_page(ctx: Page, token: str = ID()) -> Response:
    state = await ctx.api("GET", f"/v1/invitations/{token}")
    if state.ok and not state.body["usable"]:
        return await _dead_invitation(ctx, ctx.t(f"dead_{state.body['reason']}"))
    if not state.ok:
        return await _refused(ctx, state)
    until = ctx.t("invitation_valid_until", when=ctx.when(state.body.get("expires_at")))
    return await ctx.render("join.html", token=token, values={}, errors={}, error=None, until=until)


async def _dead_invitation(ctx: Ctx, detail: str) -> Response:
    return await ctx.render("message.html", status=410, title=ctx.t("invitation_dead_title"), detail=detail,
                            hint=ctx.t("invitation_dead_hint"))


@router.post("/join/{token}")
async def join(ctx: Form, token: str = ID()) -> Response:
    values = {"full_name": _text(ctx, "full_name", 300), "email": _text(ctx, "email", 320)}
    consent = ctx.form.get("consent") == "yes"
    body = {**values, "password": _secret(ctx, "password"), "invitation_token": token,
            "consent_personal_data": consent}
    answer = await ctx.api("POST", "/v1/registrations", json=body)
    if answer.code in DEAD_INVITATION:  # spent or revoked since the page was opened
        return await _dead_invitation(ctx, ctx.t(f"dead_{answer.code}"))
    if not answer.ok:
        errors = answer.field_errors()
        if answer.code == "consent_required":
            errors["consent"] = ctx.t("consent_missing")
        elif answer.code == "email_taken":
            errors["email"] = answer.title
        error = None if errors and answer.code in ("invalid_fields", "consent_required", "email_taken") \
            else answer.title
        return await ctx.render("join.html", status=answer.status, token=token, values=values, errors=errors,
                                until=None, error=error or (ctx.t("fix_errors") if errors else None))
    tokens = await ctx.api("POST", "/v1/auth/token", json={"email": values["email"], "password": body["password"]})
    if tokens.ok:
        _signed_in(ctx, tokens.body)
        await _me(ctx)
        ctx.session.say("ok", "registered")
        return ctx.redirect("/rules")
    return ctx.redirect("/login")


# ------------------------------------------------------------------ home, rules, profile


@router.get("/")
async def home(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    me = await _me(ctx)
    if not me.ok:
        return await _refused(ctx, me)
    return await ctx.render("home.html", me=me.body)


@router.get("/rules")
async def rules_page(ctx: Page) -> Response:
    me = await _me(ctx) if ctx.session.signed_in else None
    return await ctx.render("rules.html", me=me.body if me is not None and me.ok else None)


@router.post("/rules")
async def acknowledge_rules(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("POST", "/v1/me/rules-acknowledgement")
    if not answer.ok:
        return await _refused(ctx, answer)
    ctx.session.say("ok", "rules_done")
    return ctx.redirect("/profile")


def _profile_values(me: dict) -> dict[str, str]:
    profile = me["profile"]
    values = {f: "" if profile.get(f) is None else str(profile[f]) for f in PROFILE_FIELDS}
    values["professional_interests"] = ", ".join(profile.get("professional_interests") or ())
    return values


async def _profile_page(ctx: Ctx, me: dict, values: dict, errors: dict, status: int = 200, error: str | None = None,
                  missing: list | None = None) -> Response:
    return await ctx.render("profile.html", status=status, me=me, values=values, errors=errors, error=error,
                            missing=me["missing"] if missing is None else missing, required=REQUIRED_FIELDS,
                            visible_fields=VISIBLE_FIELDS, visible=me.get("visible_fields") or ())


@router.get("/profile")
async def profile_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    me = await _me(ctx)
    if not me.ok:
        return await _refused(ctx, me)
    return await _profile_page(ctx, me.body, _profile_values(me.body), {})


@router.post("/profile")
async def save_profile(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {f: _text(ctx, f, 5000) for f in PROFILE_FIELDS}
    body: dict[str, Any] = {f: (values[f] or None) for f in PROFILE_FIELDS}
    interests = [i.strip() for i in values["professional_interests"].split(",") if i.strip()]
    body["professional_interests"] = interests or None
    answer = await ctx.api("PUT", "/v1/me/profile", json=body)
    me = await _me(ctx)
    if not me.ok:
        return await _refused(ctx, me)
    if not answer.ok:
        errors = answer.field_errors()
        return await _profile_page(ctx, me.body, values, errors, status=answer.status,
                                   error=ctx.t("fix_errors") if errors else answer.title)
    ctx.session.say("ok", "saved")
    return ctx.redirect("/profile")


@router.post("/profile/visibility")
async def save_visibility(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    chosen = [f for f in ctx.form_lists.get("visible", []) if f in VISIBLE_FIELDS]
    answer = await ctx.api("PUT", "/v1/me/visibility", json={"visible": chosen})
    if not answer.ok:
        return await _refused(ctx, answer)
    ctx.session.say("ok", "visibility_saved")
    return ctx.redirect("/profile#visibility")


# ------------------------------------------------------------------ moderation


@router.get("/moderation")
async def queue_page(ctx: Page) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/moderation/queue")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("queue.html", queue=answer.body)


async def _newcomer_page(ctx: Ctx, member_id: str, status: int = 200, error: str | None = None,
                         chosen: str | None = None, message: str = "") -> Response:
    member = await ctx.api("GET", f"/v1/members/{member_id}")
    if not member.ok:
        return await _refused(ctx, member)
    history = await ctx.api("GET", f"/v1/moderation/{member_id}/history")
    if not history.ok:
        return await _refused(ctx, history)
    return await ctx.render("newcomer.html", status=status, member=member.body, history=history.body["items"],
                            fields=PROFILE_FIELDS, decisions=DECISIONS, error=error, chosen=chosen, message=message)


@router.get("/moderation/{member_id}")
async def newcomer_page(ctx: Page, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    return await _newcomer_page(ctx, member_id)


@router.post("/moderation/{member_id}")
async def decide(ctx: Form, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    decision, message = _text(ctx, "decision", 40), _text(ctx, "message", 2000)
    if decision not in DECISIONS:
        return await _newcomer_page(ctx, member_id, 422, ctx.t("fix_errors"), None, message)
    answer = await ctx.api("POST", f"/v1/moderation/{member_id}/decision",
                           json={"decision": decision, "message": message or None})
    if answer.status in (403, 404):
        return await _refused(ctx, answer)
    if not answer.ok:
        return await _newcomer_page(ctx, member_id, answer.status, answer.title, decision, message)
    ctx.session.say("ok", "decision_done", what=ctx.t(f"decided_{decision}"))
    return ctx.redirect(f"/moderation/{member_id}")


# ------------------------------------------------------------------ invitations


@router.get("/invitations")
async def invitations_page(ctx: Page, inactive: bool = False) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", "/v1/invitations", params={"include_inactive": str(inactive).lower()})
    if not answer.ok:
        return await _refused(ctx, answer)
    link, ctx.session.created_link = ctx.session.created_link, None
    return await ctx.render("invitations.html", items=answer.body["items"], inactive=inactive, link=link, errors={},
                            values={"max_uses": "1", "expires_in_days": "14"})


@router.post("/invitations")
async def create_invitation(ctx: Form) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    values = {"max_uses": _text(ctx, "max_uses", 10), "expires_in_days": _text(ctx, "expires_in_days", 10)}
    answer = await ctx.api("POST", "/v1/invitations", json={k: v or None for k, v in values.items() if v})
    if answer.status in (401, 403):
        return await _refused(ctx, answer)
    if not answer.ok:
        listed = await ctx.api("GET", "/v1/invitations")
        return await ctx.render("invitations.html", status=answer.status,
                                items=listed.body["items"] if listed.ok else (), inactive=False, link=None,
                                errors=answer.field_errors(), values=values, error=answer.title)
    ctx.session.created_link = answer.body["url"]
    ctx.session.say("ok", "invitation_created")
    return ctx.redirect("/invitations")


@router.post("/invitations/{token}/revoke")
async def revoke_invitation(ctx: Form, token: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("DELETE", f"/v1/invitations/{token}")
    if not answer.ok:
        return await _refused(ctx, answer)
    ctx.session.say("ok", "revoked_done")
    return ctx.redirect("/invitations")


# ------------------------------------------------------------------ colleagues


@router.get("/colleagues")
async def colleagues_page(ctx: Page, q: str = "", cursor: str | None = None) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    params = {"q": q[:100]} if q.strip() else {}
    if cursor:
        params["cursor"] = cursor[:4096]
    answer = await ctx.api("GET", "/v1/colleagues", params=params)
    if answer.status == 422:
        return await ctx.render("colleagues.html", status=422, q=q[:100], items=(), next=None, error=answer.title)
    if not answer.ok:
        return await _refused(ctx, answer)
    more = answer.body.get("next_cursor")
    following = f"/colleagues?{urlencode({**params, 'cursor': more})}" if more else None
    return await ctx.render("colleagues.html", q=q[:100], items=answer.body["items"], next=following, error=None)


@router.get("/colleagues/{member_id}")
async def colleague_page(ctx: Page, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    answer = await ctx.api("GET", f"/v1/colleagues/{member_id}")
    if not answer.ok:
        return await _refused(ctx, answer)
    return await ctx.render("colleague.html", card=answer.body, fields=VISIBLE_FIELDS)


# ------------------------------------------------------------------ admin


@router.get("/admin/members")
async def members_page(ctx: Page, q: str = "", status: str = "", cursor: str | None = None) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    params: dict[str, str] = {"q": q[:100]} if q.strip() else {}
    if status in STATUSES:
        params["status"] = status
    if cursor:
        params["cursor"] = cursor[:4096]
    answer = await ctx.api("GET", "/v1/members", params=params)
    if answer.status == 422:
        return await ctx.render("members.html", status=422, q=q[:100], chosen=status, items=(), next=None,
                                statuses=STATUSES, assignable=ASSIGNABLE, error=answer.title, total=0)
    if not answer.ok:
        return await _refused(ctx, answer)
    more = answer.body.get("next_cursor")
    following = f"/admin/members?{urlencode({**params, 'cursor': more})}" if more else None
    return await ctx.render("members.html", q=q[:100], chosen=status, items=answer.body["items"], next=following,
                            statuses=STATUSES, assignable=ASSIGNABLE, error=None, total=answer.body.get("total", 0))


@router.post("/admin/members/{member_id}/roles")
async def set_roles(ctx: Form, member_id: str = ID()) -> Response:
    if (back := _sign_in_first(ctx)) is not None:
        return back
    roles = [r for r in dict.fromkeys(ctx.form_lists.get("roles", [])) if r in ASSIGNABLE]
    answer = await ctx.api("PUT", f"/v1/members/{member_id}/roles", json={"roles": roles})
    if not answer.ok:
        return await _refused(ctx, answer)
    if member_id == ctx.session.member_id:
        await _me(ctx)
    ctx.session.say("ok", "roles_saved")
    return ctx.redirect(safe_next(_text(ctx, "back"), "/admin/members"))
