"""The layering rule, enforced: functions -> usecases -> domain <- adapters; only adapters import boto3."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "warden" / "warden"
AWS_SDK = {"boto3", "botocore", "mypy_boto3_apprunner", "mypy_boto3_budgets", "mypy_boto3_sns", "mypy_boto3_dynamodb"}


def imported_roots(path: Path) -> set[str]:
    """Top-level modules a file imports (`warden.domain.x` counts as `warden.domain`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {".".join(name.split(".")[:2]) if name.startswith("warden.") else name.split(".")[0] for name in names}


def modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("path", modules("domain") + modules("models"), ids=lambda p: p.name)
def test_the_domain_and_models_import_only_the_standard_library_pydantic_and_each_other(path: Path) -> None:
    # Given a domain or model module, When its imports are read
    foreign = {
        name
        for name in imported_roots(path)
        if name not in sys.stdlib_module_names
        and name not in {"pydantic", "pydantic_core", "__future__", "warden.domain", "warden.models", "warden.errors"}
    }
    # Then nothing outside the standard library, pydantic (and its core) and the domain itself is imported
    assert foreign == set(), f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_only_adapters_import_the_aws_sdk() -> None:
    # Given every module of the layer and every handler
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        if "adapters" in path.parts:
            continue
        if imported_roots(path) & AWS_SDK:
            offenders.append(str(path.relative_to(ROOT)))
    # Then boto3 and botocore appear only in warden/adapters
    assert offenders == []


@pytest.mark.parametrize("path", modules("usecases"), ids=lambda p: p.name)
def test_use_cases_do_not_reach_for_adapters(path: Path) -> None:
    assert "warden.adapters" not in imported_roots(path)


@pytest.mark.parametrize("path", sorted((ROOT / "functions").glob("*/app.py")), ids=lambda p: p.parent.name)
def test_handlers_are_thin(path: Path) -> None:
    # Given a handler, Then it defines just the handler (plus small helpers) and stays short
    tree = ast.parse(path.read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert "lambda_handler" in {function.name for function in functions}
    assert len(path.read_text().splitlines()) <= 80
