"""Each function is granted exactly the IAM actions its adapters declare: no more, no fewer."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import load_template
from warden.adapters import apprunner, budgets, dynamodb, sns

pytestmark = pytest.mark.template

# Which adapters each function's use case is wired with (warden/wiring.py).
WIRING = {
    "OnBudgetAlertFunction": (apprunner, budgets, sns, dynamodb),
    "RunScheduleFunction": (apprunner, budgets, sns, dynamodb),
}
# Statements that serve Lambda itself rather than an adapter (the on-failure destination).
LAMBDA_OWN = {"SendFailedEventsToQueue"}


def granted(function: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for policy in function["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []):
            if statement.get("Sid") in LAMBDA_OWN:
                continue
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


@pytest.mark.parametrize("logical_id", sorted(WIRING))
def test_a_function_is_granted_exactly_what_its_adapters_declare(logical_id: str) -> None:
    # Given the function in the template and the adapters it is wired with
    function = load_template()["Resources"][logical_id]
    declared = set().union(*(adapter.IAM_ACTIONS for adapter in WIRING[logical_id]))
    # When the granted actions are compared with the declared ones
    actions = granted(function)
    # Then nothing is granted that no adapter calls, and nothing called is missing
    assert actions - declared == set(), "granted but never called"
    assert declared - actions == set(), "called but not granted"


def test_every_function_in_the_template_is_covered_by_this_check() -> None:
    functions = {
        logical_id
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert functions == set(WIRING)
