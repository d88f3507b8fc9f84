"""One registry of services: every folder is declared, and what each declaration says agrees with the
contracts catalog, the service's own registrations and the lists other parts keep."""

from __future__ import annotations

import uuid

import pytest

import services
from libs.contracts.registry import CATALOG
from services import registry
from services.gateway.settings import Settings as GatewaySettings


def test_every_service_folder_is_declared():
    assert set(registry.service_folders()) == set(registry.SERVICES)


def test_a_folder_without_a_declaration_is_refused(tmp_path, monkeypatch):
    """In a copy of services/ (the real folders linked, one undeclared folder added), never in the real one:
    another test worker, or a service started meanwhile, would find the stray folder there and fail."""
    for name in registry.service_folders():
        (tmp_path / name).symlink_to(registry.SERVICES_DIR / name, target_is_directory=True)
    folder = tmp_path / f"zz{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    monkeypatch.setattr(registry, "SERVICES_DIR", tmp_path)
    monkeypatch.setattr(services, "__path__", [*services.__path__, str(tmp_path)])
    with pytest.raises(registry.Undeclared, match=folder.name):
        registry._load()


def test_the_domain_services_are_the_contracts_catalog():
    assert {d.name for d in registry.domain_services()} == {c.service for c in CATALOG}
    for d in registry.domain_services():
        assert d.contracts in CATALOG


@pytest.mark.parametrize("name", [d.name for d in registry.domain_services()])
def test_a_service_handles_exactly_its_contracts(name):
    declaration = registry.SERVICES[name]
    svc = declaration.bootstrap(declaration.settings())
    subjects = svc.subjects
    assert sorted(subjects["commands"]) == sorted(f"hr.cmd.{name}.{c.type_name}" for c in declaration.contracts.commands)
    assert sorted(subjects["queries"]) == sorted(f"hr.qry.{name}.{q.type_name}" for q in declaration.contracts.queries)


def test_readiness_asks_every_domain_service():
    assert set(GatewaySettings().services) == {d.name for d in registry.domain_services()}
