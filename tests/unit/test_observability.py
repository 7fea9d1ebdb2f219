"""Tracing is opt-in and costs no import when off; log lines are masked for secrets."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warden.observability import NoTracing, PowertoolsTracing, RedactingFormatter, logger, make_tracer, tracing_enabled

LAYER = Path(__file__).resolve().parents[2] / "layers" / "warden"
FUNCTIONS = LAYER.parents[1] / "functions"


def handler(event: dict[str, str], context: object) -> str:
    return "done"


def test_by_default_the_tracer_returns_the_handler_itself() -> None:
    tracer = make_tracer({})
    assert isinstance(tracer, NoTracing)
    assert tracer.capture_lambda_handler(handler) is handler
    assert tracing_enabled({"WARDEN_TRACING": "false"}) is False


def test_with_warden_tracing_on_and_the_sdk_installed_powertools_tracer_wraps_the_handler() -> None:
    pytest.importorskip("aws_xray_sdk")
    tracer = make_tracer({"WARDEN_TRACING": "true"})
    assert isinstance(tracer, PowertoolsTracing)
    assert tracer.capture_lambda_handler(handler) is not handler


@pytest.mark.parametrize("function", sorted(path.parent.name for path in FUNCTIONS.glob("*/app.py")))
def test_importing_a_handler_loads_neither_the_x_ray_sdk_nor_boto3(function: str) -> None:
    # Given a fresh interpreter with the deployed environment (tracing off)
    code = (
        "import sys, importlib.util; sys.path[:0] = [sys.argv[1], sys.argv[2]];"
        "spec = importlib.util.spec_from_file_location('app', sys.argv[3]);"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module);"
        "print(sorted(m for m in ('aws_xray_sdk', 'boto3', 'botocore.session') if m in sys.modules))"
    )
    root = LAYER.parents[1]
    env = {**os.environ, "WARDEN_TRACING": "false", "POWERTOOLS_TRACE_DISABLED": "true"}
    app = root / "functions" / function / "app.py"
    result = subprocess.run(
        [sys.executable, "-c", code, str(LAYER), str(root), str(app)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # When its module is imported (Lambda's init phase) / Then the heavy imports wait until they are used
    assert result.stdout.strip() == "[]"


def test_log_lines_mask_secret_looking_strings_and_secret_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Warden's logger writing to a buffer, and a secret value known from the environment
    monkeypatch.setattr(RedactingFormatter, "known", frozenset({"correct-horse-battery"}))
    handler_of_logger = next(h for h in logging.getLogger(logger.name).handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    previous = handler_of_logger.setStream(buffer)
    try:
        # When a message and an extra key hold secrets
        logger.warning(
            "got sk_live_abcdefghijkl", extra={"tag": "pw correct-horse-battery", "key": "AKIAIOSFODNN7EXAMPLE"}
        )
    finally:
        handler_of_logger.setStream(previous)
    # Then the line is still JSON, with each secret masked
    line = json.loads(buffer.getvalue().splitlines()[-1])
    assert line["message"] == "got [redacted]"
    assert line["tag"] == "pw [redacted]"
    assert line["key"] == "…MPLE"
