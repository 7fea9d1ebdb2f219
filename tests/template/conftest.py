"""Fixtures for the template tests: the parsed templates, the SAM CLI and the environment to run it in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT, TEMPLATE_PATH, load_stack, load_template, template_paths

SAM_MISSING = "SAM CLI not installed: run `make test`, which installs it into .venv-sam"


def find_sam_cli() -> Path | None:
    """`WARDEN_SAM` (set by the Makefile), else the project's .venv-sam, else `sam` on PATH."""
    configured = os.environ.get("WARDEN_SAM")
    if configured:
        if Path(configured).is_file():
            return Path(configured)
        resolved = shutil.which(configured)
        return Path(resolved) if resolved else Path(configured)
    project_sam = ROOT / ".venv-sam" / "bin" / "sam"
    if project_sam.is_file() and os.access(project_sam, os.X_OK):
        return project_sam
    found = shutil.which("sam")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The stack as deployed: template.yaml with its nested applications (templates/*.yaml) inlined."""
    return load_stack()


@pytest.fixture(scope="session")
def top_level() -> dict[str, Any]:
    """template.yaml alone: where the contracts live (functions, parameters, environment, the state table)."""
    return load_template()


@pytest.fixture(scope="session")
def template_text() -> str:
    return TEMPLATE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def template_texts() -> dict[str, str]:
    """Every template file's text (template.yaml and the nested ones), by its path relative to the project."""
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in template_paths()}


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    sam = find_sam_cli()
    if sam is None or not sam.is_file():
        pytest.skip(f"{SAM_MISSING} (looked at $WARDEN_SAM, {ROOT / '.venv-sam/bin/sam'} and PATH)")
    return sam


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """The caller's environment (PATH, PYENV_VERSION, ...) plus settings that keep AWS tools offline."""
    return {
        **os.environ,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }
