"""Robustness fixtures: one moto server and App Runner emulator for the tier, a fresh account per test."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import pytest

import local.account
from local.account import LocalAccount, LocalServers, local_servers, seed_account


@pytest.fixture(scope="session")
def robustness_servers() -> Iterator[LocalServers]:
    with local_servers() as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def _template_read_once() -> Iterator[None]:
    """Seeding an account parses template.yaml (pure-Python YAML, up to 0.7 s); this tier seeds one per test."""
    original = local.account.load_template
    parsed = functools.cache(original)

    def load_template(*args: Any, **kwargs: Any) -> Any:
        return copy.deepcopy(parsed(*args, **kwargs))

    local.account.load_template = load_template  # type: ignore[assignment]
    try:
        yield
    finally:
        local.account.load_template = original


@pytest.fixture
def account(robustness_servers: LocalServers) -> LocalAccount:
    robustness_servers.emulator.reset()
    robustness_servers.emulator.operation_seconds = 0.0
    return seed_account(robustness_servers)
