"""Command handlers that do more than one decision: registration (three stores), erasure (the log,
then the key store and the e-mail index), sign-in and token refresh (no decision at all), and the
invitation whose token the handler draws. The one-decision commands are declared in app.py with
``Service.handles``. Plain functions; ``app.bootstrap`` binds their dependencies."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from uuid6 import uuid7

from libs.contracts.envelope import Actor
from libs.contracts.errors import DomainError, Unauthorized
from libs.contracts.onboarding import (
    Erased,
    EraseMember,
    InvitationCreated,
    IssueInvitation,
    Login,
    RefreshTokens,
    Registered,
    RegisterMember,
)
from libs.kit.eventstore import Meta
from libs.kit.rpc import Context, Done
from libs.kit.service import Service, meta_of
from services.onboarding import domain
from services.onboarding.accounts import Accounts
from services.onboarding.domain import INVITATION, MEMBER
from services.onboarding.settings import Settings


@dataclass
class Deps:
    svc: Service
    accounts: Accounts
    settings: Settings


def now() -> datetime:
    return datetime.now(UTC)


def member_guard(ctx: Context) -> str:
    if ctx.actor.id in ("anonymous", "system"):
        raise Unauthorized("login_required")
    return ctx.actor.id


async def issue_invitation(cmd: IssueInvitation, ctx: Context, deps: Deps) -> Done:
    token = secrets.token_urlsafe(24)
    done = await deps.svc.decide(
        INVITATION, token, domain.Issue(ctx.actor, token, cmd.max_uses, cmd.expires_in_days, now()), meta_of(ctx))
    return Done(done.seq, InvitationCreated(token=token, url=f"{deps.settings.invitation_base_url.rstrip('/')}/{token}",
                                            expires_at=done.state.expires_at, max_uses=done.state.max_uses))


#: a reservation this old whose member was never recorded belongs to a registration that died
ORPHANED_RESERVATION_S = 120.0


async def register_member(cmd: RegisterMember, ctx: Context, deps: Deps) -> Done:
    """Three steps over three stores: reserve the e-mail, spend one use of the
    invitation, then record the member. A refusal or failure on the way
    releases the address; a process that dies on the way leaves a reservation
    no member holds, which a later registration takes over (and one spent use
    of the invitation, which stays spent)."""
    domain.require_consent(cmd.consent_personal_data)
    member_id = str(uuid7())
    email = cmd.email.lower()
    # the invitation first: without a usable one, nothing is told about the e-mail
    invitation, _ = await deps.svc.load(INVITATION, cmd.invitation_token)
    domain.decide_invitation(domain.Use(cmd.invitation_token, member_id, now()), invitation)
    await _claim_email(deps, email, member_id)
    try:
        # the slow step before anything is written: a request whose deadline passes meanwhile
        # appends nothing at all (libs/kit/scope.py)
        password_hash = await deps.accounts.hash_password(cmd.password)
        await deps.svc.decide(INVITATION, cmd.invitation_token, domain.Use(cmd.invitation_token, member_id, now()),
                              meta_of(ctx))
        done = await deps.svc.decide(
            MEMBER, member_id,
            domain.Register(member_id, cmd.invitation_token, email, cmd.full_name.strip(), password_hash, True),
            Meta(actor=member_id, correlation_id=ctx.correlation_id),
        )
    except Exception:
        # a lost acknowledgement may hide a stored member: keep its address then
        state, _ = await deps.svc.load(MEMBER, member_id)
        if not state.exists:
            await deps.accounts.release_email(email)
        raise
    return Done(done.seq, Registered(member_id=member_id, status=done.state.status))


async def _claim_email(deps: Deps, email: str, member_id: str) -> None:
    try:
        await deps.accounts.reserve_email(email, member_id)
        return
    except DomainError:
        held = await deps.accounts.reservation(email)
        if held is None:  # released meanwhile: one more try
            await deps.accounts.reserve_email(email, member_id)
            return
        holder, reserved_at, revision = held
        if time.time() - reserved_at < ORPHANED_RESERVATION_S:
            raise
        state, _ = await deps.svc.load(MEMBER, holder)
        if state.exists:
            raise
        await deps.accounts.take_over_email(email, member_id, revision)


async def erase_member(cmd: EraseMember, ctx: Context, deps: Deps) -> Done:
    """Record the erasure, then shred: the e-mail index entry and the member's key.

    Safe to repeat: a second call finds the member erased and only finishes
    the shredding; a process that dies in between leaves it to the policy
    ``when_member_erased_finish_the_erasure``.
    """
    state, _ = await deps.svc.load(MEMBER, cmd.member_id)
    email = state.email
    # an erasure must not lose to a stream of updates of the same member: more attempts than other commands
    done = await deps.svc.decide(MEMBER, cmd.member_id, domain.Erase(ctx.actor, cmd.member_id), meta_of(ctx),
                                 attempts=50)
    await finish_erasure(deps, cmd.member_id, email)
    return Done(done.seq, Erased(member_id=cmd.member_id))


async def finish_erasure(deps: Deps, member_id: str, email: str | None = None) -> None:
    await deps.accounts.release_member(member_id, email)
    await deps.svc.vault.shred(member_id)


async def login(cmd: Login, ctx: Context, deps: Deps) -> Done:
    """After ``login_max_failures`` failures an e-mail is locked for that address: even the right password is
    refused (docs/adr/0007)."""
    address = ctx.client_address
    failures = await deps.accounts.throttle_login(cmd.email, address)
    member_id = await deps.accounts.member_by_email(cmd.email)
    state = domain.Member()
    if member_id:
        state, _ = await deps.svc.load(MEMBER, member_id)
    ok = await deps.accounts.verify_password(state.password_hash, cmd.password)
    if not ok or state.erased or not member_id:
        await deps.accounts.login_failed(cmd.email, address)
        raise Unauthorized("bad_credentials")
    if failures:
        await deps.accounts.login_succeeded(cmd.email, address)
    return Done(None, await deps.accounts.issue_tokens(member_id, state.roles))


async def refresh_tokens(cmd: RefreshTokens, ctx: Context, deps: Deps) -> Done:
    member_id = await deps.accounts.spend_refresh(cmd.refresh_token)
    state, _ = await deps.svc.load(MEMBER, member_id)
    if not state.exists or state.erased:
        raise Unauthorized("invalid_token")
    return Done(None, await deps.accounts.issue_tokens(member_id, state.roles))


async def resolve_actor(deps: Deps, member_id: str) -> Actor | None:
    """Onboarding owns the members: their current roles come straight from the aggregate."""
    state, _ = await deps.svc.load(MEMBER, member_id)
    if not state.exists or state.erased:
        return None
    return Actor(id=member_id, roles=state.roles)


async def bootstrap_admin(deps: Deps) -> None:
    """Create the first admin from settings, once; replicas racing agree on one id."""
    email = deps.settings.admin_email.lower()
    existing = await deps.accounts.member_by_email(email)
    if existing:
        return
    member_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "hr-mnenie:admin:" + deps.accounts.email_key(email)))
    try:
        await deps.accounts.reserve_email(email, member_id)
    except DomainError:
        return
    password_hash = await deps.accounts.hash_password(deps.settings.admin_password.get_secret_value())
    await deps.svc.decide(
        MEMBER, member_id, domain.BootstrapAdmin(member_id, email, password_hash),
        Meta(actor="system", correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"hr-mnenie:bootstrap:{member_id}"))),
    )
