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
