"""Wiring: the bootstrap that binds handlers to their dependencies."""

from __future__ import annotations

from functools import partial

from libs.contracts import onboarding as c
from libs.kit.service import Service
from services.onboarding import handlers as h
from services.onboarding.accounts import Accounts
from services.onboarding.policies import register_policies
from services.onboarding.projections import register_projections
from services.onboarding.queries import register_queries
from services.onboarding.settings import Settings

COMMANDS = {
    c.IssueInvitation: h.issue_invitation,
    c.RevokeInvitation: h.revoke_invitation,
    c.RegisterMember: h.register_member,
    c.AcknowledgeRules: h.acknowledge_rules,
    c.UpdateProfile: h.update_profile,
    c.DecideOnMember: h.decide_on_member,
    c.ChangeRoles: h.change_roles,
    c.EraseMember: h.erase_member,
    c.Login: h.login,
    c.RefreshTokens: h.refresh_tokens,
}


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(c.SERVICE, settings, pii_writer=True, own_actors=True)
    deps = h.Deps(svc=svc, accounts=None, settings=settings)  # accounts need the bus: set on start
    svc.resolve_actor = partial(h.resolve_actor, deps)

    for model, handler in COMMANDS.items():
        svc.command(model)(partial(handler, deps=deps))
    register_queries(svc)
    register_projections(svc)
    register_policies(svc, deps)

    @svc.on_start
    async def open_accounts_and_bootstrap_admin() -> None:
        deps.accounts = Accounts(settings, svc.js)
        await deps.accounts.open()
        await h.bootstrap_admin(deps)

    return svc
