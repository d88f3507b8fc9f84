from __future__ import annotations

from libs.contracts.groups import SERVICE
from libs.kit.service import Service
from services.groups.calendar_policies import register_calendar_policies
from services.groups.chat_handlers import register_chat_handlers
from services.groups.chat_policies import register_chat_policies
from services.groups.chat_projections import register_chat_projections
from services.groups.chat_queries import register_chat_queries
from services.groups.drive_handlers import Buckets, register_drive_handlers
from services.groups.drive_policies import register_drive_policies
from services.groups.drive_projections import register_drive_projections
from services.groups.drive_queries import register_drive_queries
from services.groups.handlers import register_handlers
from services.groups.policies import register_policies
from services.groups.projections import register_projections
from services.groups.queries import register_queries
from services.groups.roles_projections import register_roles_projections
from services.groups.settings import Settings
from services.groups.task_handlers import register_task_handlers
from services.groups.task_policies import register_task_policies
from services.groups.task_projections import register_task_projections
from services.groups.task_queries import register_task_queries


def bootstrap(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    svc = Service(SERVICE, settings)
    register_handlers(svc, settings)
    register_projections(svc)
    register_roles_projections(svc)
    register_queries(svc, settings)
    register_policies(svc)
    register_chat_handlers(svc)
    register_chat_projections(svc)
    register_chat_queries(svc)
    register_chat_policies(svc)
    buckets = Buckets()
    register_drive_handlers(svc, settings, buckets)
    register_drive_projections(svc)
    register_drive_queries(svc, settings)
    register_drive_policies(svc, buckets)
    svc.keeps_files = True
    register_task_handlers(svc)
    register_task_projections(svc)
    register_task_queries(svc)
    register_task_policies(svc)
    register_calendar_policies(svc)
    return svc
