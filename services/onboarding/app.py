"""Wiring: the bootstrap that binds handlers to their dependencies."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from libs.contracts import onboarding as c
from libs.contracts.base import Command
from libs.kit.service import Service
from services.onboarding import domain
from services.onboarding import handlers as h
from services.onboarding.accounts import Accounts
from services.onboarding.domain import INVITATION, MEMBER
from services.onboarding.my_data import register_my_data
from services.onboarding.policies import register_policies
from services.onboarding.projections import register_projections
from services.onboarding.queries import register_queries
from services.onboarding.settings import Settings

#: commands with more to them than one decision (handlers.py)
COMMANDS: dict[type[Command], Callable[..., Any]] = {
    c.IssueInvitation: h.issue_invitation,
    c.RegisterMember: h.register_member,
    c.EraseMember: h.erase_member,
    c.Login: h.login,
    c.RefreshTokens: h.refresh_tokens,
}


def register_decisions(svc: Service) -> None:
    """The commands that are one decision on one aggregate."""
    svc.handles(c.RevokeInvitation, INVITATION,
                to=lambda cmd, ctx: (cmd.token, domain.Revoke(ctx.actor, cmd.token)),
                reply=lambda done, cmd, ctx: c.InvitationRevokedReply(token=cmd.token))
    svc.handles(c.AcknowledgeRules, MEMBER,
                to=lambda cmd, ctx: (h.member_guard(ctx), domain.Acknowledge(ctx.actor.id)),
                reply=lambda done, cmd, ctx: c.StatusReply(status=done.state.status))
    svc.handles(
        c.UpdateProfile,
        MEMBER,
        to=lambda cmd, ctx: (h.member_guard(ctx), domain.EditProfile(ctx.actor.id, c.Profile(**cmd.model_dump()))),
        reply=lambda done, cmd, ctx: c.ProfileReport(
            complete=done.state.complete, missing=done.state.profile.missing(), status=done.state.status
        ),
    )
    svc.handles(
        c.SetProfileVisibility,
        MEMBER,
        to=lambda cmd, ctx: (h.member_guard(ctx), domain.ChooseVisibility(ctx.actor.id, cmd.visible)),
        reply=lambda done, cmd, ctx: c.VisibilitySet(visible=done.state.visible_fields),
    )
    svc.handles(
        c.DecideOnMember,
        MEMBER,
        to=lambda cmd, ctx: (cmd.member_id, domain.Decide(ctx.actor, cmd.member_id, cmd.decision, cmd.message)),
        reply=lambda done, cmd, ctx: c.DecisionTaken(member_id=cmd.member_id, status=done.state.status),
    )
    svc.handles(
        c.ChangeRoles,
        MEMBER,
        to=lambda cmd, ctx: (cmd.member_id, domain.AssignRoles(ctx.actor, cmd.member_id, cmd.roles)),
        reply=lambda done, cmd, ctx: c.RolesSet(member_id=cmd.member_id, roles=done.state.roles),
    )


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(c.SERVICE, settings, pii_writer=True, own_actors=True)
    deps = h.Deps(svc=svc, accounts=None, settings=settings)  # type: ignore[arg-type]  # needs the bus: set on start
    svc.resolve_actor = partial(h.resolve_actor, deps)

    for model, handler in COMMANDS.items():
        svc.command(model)(partial(handler, deps=deps))
    register_decisions(svc)
    register_projections(svc)
    register_queries(svc)
    register_policies(svc, deps)
    register_my_data(svc, deps)

    @svc.on_start
    async def open_accounts_and_bootstrap_admin() -> None:
        deps.accounts = Accounts(settings, svc.js)
        await deps.accounts.open()
        await h.bootstrap_admin(deps)

    return svc
