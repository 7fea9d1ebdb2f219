"""`warden pause` prints what keeps costing while the service is paused, as every pause notification says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from local.account import LocalAccount
from warden.domain.costs import SECTION, CostItem, CostLine
from warden.messages.service import cost_line

pytestmark = pytest.mark.integration


def test_the_operators_pause_prints_what_keeps_billing(account: LocalAccount) -> None:
    # Given a RUNNING App Runner service, When the operator pauses it from the CLI
    paused = account.warden("pause", "--reason", "investigating")
    # Then the output says the compute stops and what does not, with the figures, as the messages word them
    assert paused.returncode == 0, paused.stderr
    assert f"{SECTION}:" in paused.stdout
    assert cost_line(CostLine(item=CostItem.APP_RUNNER_COMPUTE, monthly_usd=Decimal(0))) in paused.stdout
    assert cost_line(CostLine(item=CostItem.SHARED, monthly_usd=None)) in paused.stdout
