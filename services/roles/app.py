from __future__ import annotations

from libs.contracts.roles import SERVICE
from libs.kit.service import Service
from services.roles.handlers import register_handlers
from services.roles.policies import register_policies
from services.roles.projections import register_projections
from services.roles.queries import register_queries
from services.roles.settings import Settings


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_projections(svc)
    register_queries(svc, settings)
    register_handlers(svc, settings)
    register_policies(svc, settings)
    return svc
