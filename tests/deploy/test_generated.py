"""The per-service parts of the deploy files are generated from the service registry: the committed
files are that generation, and every domain service has its Deployment listed for kustomize."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploygen import manifests as deploygen
from services.registry import domain_services

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
