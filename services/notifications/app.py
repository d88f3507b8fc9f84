from __future__ import annotations

from libs.contracts.notifications import SERVICE
from libs.kit.service import Service
from services.notifications.channels import Channel
from services.notifications.handlers import register_handlers
from services.notifications.outbox import register_outbox
from services.notifications.policies import register_policies
from services.notifications.projections import register_projections
from services.notifications.queries import register_queries
from services.notifications.settings import Settings


def bootstrap(settings: Settings | None = None, channel: Channel | None = None) -> Service:
    """``channel``: another e-mail channel than the SMTP one the settings describe (none: those)."""
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_projections(svc)
    outbox = register_outbox(svc, settings, channel)
    register_queries(svc, settings, outbox)
    register_handlers(svc, settings, outbox)
    register_policies(svc, settings, outbox)
    return svc
