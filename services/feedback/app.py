from __future__ import annotations

from libs.contracts.feedback import SERVICE
from libs.kit.service import Service
from services.feedback.handlers import register_handlers
from services.feedback.policies import register_policies
from services.feedback.projections import register_projections
from services.feedback.queries import register_queries
from services.feedback.settings import Settings


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_projections(svc)
    register_queries(svc, settings)
    register_handlers(svc, settings)
    register_policies(svc, settings)
    return svc
