"""A service is a declaration (DESIGN.md §1): what every tool that lists services needs to know of
one, in one place — its name, its kind, its contracts, its settings, how it is built and run.

Each service folder declares itself in ``services/<name>/declaration.py``; ``services/registry.py``
collects them, and everything that lists services reads it: the contracts catalog, AsyncAPI,
`make run`, `hrm`, the benchmarks, the test and chaos harnesses, the permission matrix, `/readyz`,
the NATS permissions and the per-service blocks of the deploy files (generated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from libs.contracts.base import ServiceContracts


@dataclass(frozen=True)
class Declaration:
    name: str
    #: domain: on the bus only (commands, queries, events); edge: serves HTTP to people or programs
    kind: Literal["domain", "edge"]
    #: the settings class it validates at start (HRM_* variables)
    settings: type
    #: domain services: bootstrap(settings) -> Service, wired but not started
    bootstrap: Callable[..., Any] | None = None
    #: domain services: its part of libs/contracts
    contracts: ServiceContracts | None = None
    #: edge services: app(settings) -> an ASGI application
    app: Callable[..., Any] | None = None
    #: one line for people: what it does (headers of the generated deploy files)
    description: str = ""
    #: what `make run` colours its lines with
    colour: str = "\033[37m"
    #: settings a deployment must give besides those its settings class requires in production
    deploy_required: tuple[str, ...] = ()
    #: settings a deployment sets to a value: field -> (compose default, Kubernetes value)
    deploy_defaults: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: processes in a cluster (single-active consumers take over from each other, docs/adr/0012)
    replicas: int = 2
    memory_request: str = "128Mi"
    memory_limit: str = "256Mi"

    def __post_init__(self) -> None:
        if self.kind == "domain" and (self.bootstrap is None or self.contracts is None):
            raise ValueError(f"{self.name}: a domain service declares its bootstrap and contracts")
        if self.kind == "edge" and self.app is None:
            raise ValueError(f"{self.name}: an edge service declares its app")
        if self.contracts is not None and self.contracts.service != self.name:
            raise ValueError(f"{self.name}: declares the contracts of {self.contracts.service}")

    @property
    def module(self) -> str:
        """What `python -m` runs."""
        return f"services.{self.name}"
