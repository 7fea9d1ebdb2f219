"""Integration fixtures: one moto server and one App Runner emulator per session, a fresh account per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.account import LocalAccount, LocalServers, local_servers, seed_account


@pytest.fixture(scope="session")
def servers() -> Iterator[LocalServers]:
    with local_servers() as running:
        yield running


@pytest.fixture
def account(servers: LocalServers) -> LocalAccount:
    servers.emulator.reset()
    servers.emulator.operation_seconds = 0.0
    return seed_account(servers)
