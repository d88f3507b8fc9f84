"""Fixtures that start real components: nats-server with JetStream on a free
port, the services on SQLite, the gateway over real HTTP."""

from __future__ import annotations

import pytest

from libs.kit.natsserver import NatsServer
from tests.platform_harness import Platform


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory):
    server = NatsServer(tmp_path_factory.mktemp("jetstream")).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_nats(tmp_path):
    """A server of its own, for tests that stop or restart it."""
    server = NatsServer(tmp_path / "js").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def platform(nats_server, tmp_path_factory):
    p = await Platform(nats_server.url, tmp_path_factory.mktemp("data")).start()
    yield p
    await p.stop()


@pytest.fixture(scope="session")
async def production_platform(tmp_path_factory):
    """The platform with HRM_ENV=production settings: fresh real secrets, no development defaults.
    On a nats-server of its own: beside `platform` on one server, the two would share subjects,
    queue groups and durable consumers (each answering the other's requests). In production the
    services create no streams: the provisioning step runs first, as it does in a deployment."""
    import nats

    from libs.contracts.subjects import inbox_prefix
    from libs.kit.provision import provision

    server = NatsServer(tmp_path_factory.mktemp("jetstream-production")).start()
    try:
        p = Platform(server.url, tmp_path_factory.mktemp("data-production"), env="production")
        nc = await nats.connect(server.url, name="hr-provision", inbox_prefix=inbox_prefix("provision"))
        try:
            await provision(nc, kek=p.settings["groups"].kek)
        finally:
            await nc.close()
        await p.start()
        try:
            yield p
        finally:
            await p.stop()
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter):
    """A browser suite that did not run is said at the end of the run, where nobody misses it. Read off the
    skip reports (in this process or, under pytest-xdist, sent by the workers)."""
    from tests.web.conftest import NOT_RUN

    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        if NOT_RUN in reason:
            reasons.append(reason.split(f"{NOT_RUN}: ", 1)[-1])
    if reasons:
        terminalreporter.write_sep("!", NOT_RUN, red=True, bold=True)
        for reason in dict.fromkeys(reasons):
            terminalreporter.write_line(f"  {reason}", red=True)
