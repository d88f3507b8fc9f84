from __future__ import annotations

from libs.contracts.calendar import SERVICE
from libs.kit.service import Service
from services.calendar.games_handlers import register_games_handlers
from services.calendar.handlers import register_handlers
from services.calendar.policies import register_policies
from services.calendar.projections import register_projections
from services.calendar.queries import register_queries
from services.calendar.season_reports import register_season_reports
from services.calendar.settings import Settings


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_handlers(svc, settings)
    register_projections(svc)
    register_season_reports(svc)
    register_queries(svc, settings)
    register_games_handlers(svc, settings)
    register_policies(svc, settings)
    return svc
