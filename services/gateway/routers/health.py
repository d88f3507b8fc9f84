from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from libs.contracts.subjects import control_subject

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class ServiceReadiness(BaseModel):
    service: str
    ready: bool
    lag: int | None = None
    dead_letters: int | None = None
    stalled: list[str] | None = None
    error: str | None = None
    consumers: list[dict[str, Any]] = []


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    lag: int
    dead_letters: int
    services: list[ServiceReadiness]
    #: requests the gateway carries now, and those it refused as overloaded since it started
    in_flight: int = 0
    #: how many it carries at most now (it follows the load: docs/adr/0031)
    in_flight_bound: int | None = None
    refused_overloaded: int = 0


@router.get("/healthz", response_model=Health, summary="The gateway process is alive")
async def healthz():
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}},
            summary="Ready: the bus and every service answer and no consumer is stalled; "
                              "lag, stalls and dead letters per consumer")
async def readyz(request: Request):
    nc = request.app.state.nc
    settings = request.app.state.settings

    async def status_of(service: str) -> dict:
        try:
            msg = await nc.request(control_subject(service, "status"), b"{}", timeout=2.0)
            body = json.loads(msg.data)
            consumers = body.get("consumers", [])
            lag = sum(c.get("lag") or 0 for c in consumers)
            # stalled: held at one event by a passing cause (a store or bus fault); not running: dead
            stuck = [c["name"] for c in consumers if c.get("state") not in ("running", "standby")]
            if body.get("starting"):
                stuck.append("starting")
            out = {"service": service, "ready": not stuck, "lag": lag, "consumers": consumers,
                   "dead_letters": sum(c.get("dead_letters") or 0 for c in consumers)}
            if stuck:
                out["stalled"] = stuck
            return out
        except Exception as e:  # noqa: BLE001 - any failure means not ready
            return {"service": service, "ready": False, "error": type(e).__name__}

    services = await asyncio.gather(*(status_of(s) for s in settings.services))
    ready = nc is not None and nc.is_connected and all(s["ready"] for s in services)
    load = request.app.state.load
    if load.bound is not None:  # the bound as of now: a window that has ended is decided first
        load.bound.tick(time.monotonic(), load.in_flight)
    body = {"status": "ready" if ready else "not_ready", "lag": sum(s.get("lag", 0) for s in services),
            "dead_letters": sum(s.get("dead_letters", 0) for s in services), "services": services,
            "in_flight": load.in_flight, "in_flight_bound": load.bound.current if load.bound else None,
            "refused_overloaded": load.refused}
    return JSONResponse(body, status_code=200 if ready else 503)
