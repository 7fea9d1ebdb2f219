"""Placeholder: replaced by the real handler (owned by the lead engineer)."""

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {}
