"""The per-service parts of the deploy files are generated from the service registry: the committed
files are that generation, and every domain service has its Deployment listed for kustomize. The edge
services' parts are written by hand (compose's gateway and web blocks, gateway.yaml, web.yaml): each
is there all the same, with what its settings require in production."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploygen import manifests as deploygen
from services.registry import domain_services, edge_services

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_deploy_files_are_the_generated_ones():
    assert deploygen.main(["--check"]) == 0, "deploy files are stale: run make deploy-files"


def test_every_domain_service_is_deployed_in_compose_and_kubernetes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    for d in domain_services():
        assert d.name in compose["services"], d.name
        assert f"{d.name}.yaml" in kustomization["resources"], d.name
        [deployment] = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / f"{d.name}.yaml").read_text()))
        assert deployment["spec"]["replicas"] == d.replicas >= 2  # single-active consumers take over
        env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        for field in d.settings.PRODUCTION_REQUIRED:
            assert f"HRM_{field.upper()}" in env, (d.name, field)


def test_every_edge_service_is_deployed_in_compose_and_kubernetes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    assert {d.name for d in edge_services()} == {"gateway", "web"}
    for d in edge_services():
        assert compose["services"][d.name]["command"] == [d.module], d.name
        assert f"{d.name}.yaml" in kustomization["resources"], d.name
        deployments = [doc for doc in yaml.safe_load_all((ROOT / "deploy" / "k8s" / f"{d.name}.yaml").read_text())
                       if doc["kind"] == "Deployment"]
        [deployment] = deployments
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [d.module], d.name
        env = {e["name"] for e in container["env"]}
        for field in d.settings.PRODUCTION_REQUIRED:
            assert f"HRM_{field.upper()}" in env, (d.name, field)
            assert f"HRM_{field.upper()}" in compose["services"][d.name]["environment"], (d.name, field)
