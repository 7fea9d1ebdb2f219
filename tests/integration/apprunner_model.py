"""Check raw App Runner JSON against botocore's model, and talk to an endpoint without botocore.

The App Runner emulator is only useful if what it sends is what the real API sends. These helpers
hold it to botocore's ``apprunner`` 2020-05-15 model: every required member present, no member the
shape does not know, enum values from the enum, and the right JSON type for every member, walked
recursively. Raw responses are fetched with urllib so botocore's lenient parser cannot hide a
mistake.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StringShape,
    StructureShape,
)

MODEL: ServiceModel = botocore.session.get_session().get_service_model("apprunner")

# Patterns in the model that the real service does not honour: ServiceId is 32 hex digits without
# dashes, while the model's pattern describes a dashed UUID (its length constraint, 32, is right).
UNRELIABLE_PATTERNS = frozenset({"ServiceId"})


def operation_model(operation: str) -> OperationModel:
    return MODEL.operation_model(operation)


def enum_values(shape_name: str) -> list[str]:
    shape = MODEL.shape_for(shape_name)
    assert isinstance(shape, StringShape), f"{shape_name} is not a string shape"
    return list(shape.enum)


def declared_error_codes(operation: str) -> set[str]:
    """The error codes the model lists for ``operation``."""
    return {shape.name for shape in operation_model(operation).error_shapes}


def modelled_error_codes() -> set[str]:
    """Every error shape the App Runner model defines, whichever operation declares it."""
    return {shape.name for shape in MODEL.error_shapes}


def expected_error_status(code: str) -> int:
    """HTTP status the model implies for an error code (httpStatusCode, else 500 for faults, 400)."""
    metadata = MODEL.shape_for(code).metadata
    error = metadata.get("error")
    if isinstance(error, dict) and "httpStatusCode" in error:
        return int(error["httpStatusCode"])
    return 500 if metadata.get("fault") else 400


def output_problems(operation: str, payload: Any) -> list[str]:
    """Everything in ``payload`` that contradicts the output shape of ``operation``."""
    problems: list[str] = []
    shape = operation_model(operation).output_shape
    if shape is None:
        if payload not in ({}, None):
            problems.append(f"{operation} has no output shape but the response is {payload!r}")
        return problems
    _walk(shape, payload, operation, problems)
    return problems


def assert_matches_output_shape(operation: str, payload: Any) -> None:
    problems = output_problems(operation, payload)
    assert not problems, f"{operation} response breaks the botocore model:\n  " + "\n  ".join(problems)


def _walk(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    def problem(text: str) -> None:
        problems.append(f"{path}: {text} (shape {shape.name}, value {value!r})")

    metadata = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            problem("expected a JSON object")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(f"{path}.{name}: required member missing (shape {shape.name})")
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                problems.append(f"{path}.{name}: member unknown to shape {shape.name}")
            elif member_value is not None:
                _walk(member, member_value, f"{path}.{name}", problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            problem("expected a JSON array")
            return
        _check_size(len(value), metadata, problem)
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{index}]", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problem("expected a JSON object (map)")
            return
        for key, item in value.items():
            _walk(shape.key, key, f"{path}<key>", problems)
            _walk(shape.value, item, f"{path}[{key!r}]", problems)
    elif shape.type_name == "string":
        if not isinstance(value, str):
            problem("expected a string")
            return
        enum = shape.enum if isinstance(shape, StringShape) else []
        if enum and value not in enum:
            problem(f"not one of the enum values {enum}")
        _check_size(len(value), metadata, problem)
        pattern = metadata.get("pattern")
        if pattern and shape.name not in UNRELIABLE_PATTERNS and re.fullmatch(pattern, value) is None:
            problem(f"does not match the pattern {pattern}")
    elif shape.type_name in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problem("expected an integer")
            return
        if "min" in metadata and value < metadata["min"]:
            problem(f"below the minimum {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            problem(f"above the maximum {metadata['max']}")
    elif shape.type_name == "boolean":
        if not isinstance(value, bool):
            problem("expected a boolean")
    elif shape.type_name == "timestamp":
        if not isinstance(value, int | float) or isinstance(value, bool):
            problem("expected epoch seconds as a JSON number")
    elif shape.type_name in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            problem("expected a number")
    else:
        problem(f"shape type {shape.type_name} is not handled by this checker")


def _check_size(size: int, metadata: dict[str, Any], problem: Any) -> None:
    if "min" in metadata and size < metadata["min"]:
        problem(f"shorter than the minimum length {metadata['min']}")
    if "max" in metadata and size > metadata["max"]:
        problem(f"longer than the maximum length {metadata['max']}")


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> str | None:
        return self.body.get("__type") if isinstance(self.body, dict) else None


def raw_call(url: str, operation: str, params: dict[str, Any] | None = None) -> RawResponse:
    """POST one App Runner request the way botocore frames it and return the undecoded answer."""
    request = urllib.request.Request(
        url + "/",
        data=json.dumps(params or {}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AppRunner.{operation}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return _raw(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _raw(error.code, dict(error.headers.items()), error.read())


def _raw(status: int, headers: dict[str, str], body: bytes) -> RawResponse:
    lowered = {name.lower(): value for name, value in headers.items()}
    return RawResponse(status, lowered, json.loads(body) if body else None)
