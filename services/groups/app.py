from __future__ import annotations

from libs.contracts.groups import SERVICE
from libs.kit.service import Service
from services.groups.handlers import register_handlers
from services.groups.policies import register_policies
from services.groups.projections import register_projections
from services.groups.queries import register_queries
from services.groups.settings import Settings


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_handlers(svc, settings)
    register_projections(svc)
    register_queries(svc, settings)
    register_policies(svc)
    return svc
