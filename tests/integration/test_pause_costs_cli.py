"""`warden pause` prints what keeps costing while the service is paused, as every pause notification says."""

from __future__ import annotations

import pytest

from local.account import LocalAccount

pytestmark = pytest.mark.integration


def test_the_operators_pause_prints_what_keeps_billing(account: LocalAccount) -> None:
    # Given a RUNNING App Runner service, When the operator pauses it from the CLI
    paused = account.warden("pause", "--reason", "investigating")
    # Then the output says the compute stops and what does not, with the figures
    assert paused.returncode == 0, paused.stderr
    assert "Still billed while paused:" in paused.stdout
    assert "App Runner compute: $0.00 a month" in paused.stdout
    assert "monthly figure unknown" in paused.stdout
