"""Every service of the platform, from the declaration each folder under services/ holds.

Tools read this (not the gateway, which imports no service: it reads the contracts catalog). A
folder without a declaration is an error here, so a service cannot be half added.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from libs.kit.declaration import Declaration

SERVICES_DIR = Path(__file__).resolve().parent


class Undeclared(LookupError):
    pass


def service_folders() -> list[str]:
    return sorted(p.name for p in SERVICES_DIR.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_"))


def _load() -> dict[str, Declaration]:
    out: dict[str, Declaration] = {}
    for name in service_folders():
        try:
            module = importlib.import_module(f"services.{name}.declaration")
        except ModuleNotFoundError as e:
            if e.name == f"services.{name}.declaration":
                raise Undeclared(f"services/{name}/ has no declaration.py: declare the service") from None
            raise
        declaration = getattr(module, "DECLARATION", None)
        if not isinstance(declaration, Declaration) or declaration.name != name:
            raise Undeclared(
                f"services/{name}/declaration.py must define DECLARATION = Declaration(name={name!r}, ...)"
            )
        out[name] = declaration
    return out


SERVICES: dict[str, Declaration] = _load()


def domain_services() -> list[Declaration]:
    return [d for d in SERVICES.values() if d.kind == "domain"]


def edge_services() -> list[Declaration]:
    return [d for d in SERVICES.values() if d.kind == "edge"]
