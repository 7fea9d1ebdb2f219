"""Benchmarks (`make bench`): each writes its figures to bench/results/<name>.json; tests never time anything.

Every results file starts with the same three keys:
- `quoted`: the named figures the README and docs may quote (`"ecs_pause_calls": 22`), each taken from the
  measurements further down the same file, rounded as prose would print it. A figure the docs quote should be
  one of these; the docs' test checks it.
- `host`: python, machine, cores and the load average (1, 5, 15 minutes) when the file was written. Timings
  on a shared machine move with its load; call counts, sizes and ratios measured back to back do not.
- `code`: a hash of the product measured (the layer's package, the functions, template.yaml), the git commit
  and how many product files differed from it (the figures are of uncommitted code when > 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

Quoted = Mapping[str, int | float | str | bool]


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages (runnable processes; compare with the core count)."""
    return [round(value, 2) for value in os.getloadavg()]


def host() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15_min": load_average(),
    }


def code_version() -> dict[str, Any]:
    """The commit the figures were measured on (read-only git commands; none when git is not there)."""

    def git(*args: str) -> str | None:
        try:
            completed = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return completed.stdout if completed.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    # The product as measured, committed or not: equal hashes mean the same code, whatever the commit.
    digest = hashlib.sha256()
    for path in sorted(product_files()):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    status = git("status", "--porcelain", "--", "layers", "functions", "template.yaml")
    return {
        "product_sha256": digest.hexdigest(),
        "commit": commit.strip() if commit else None,
        "product_files_changed_since_commit": None if status is None else len(status.splitlines()),
    }


def product_files() -> list[Path]:
    """Warden's own code and template: the layer's package, the functions and template.yaml."""
    sources = [*(ROOT / "layers" / "warden" / "warden").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    return [*sources, ROOT / "template.yaml"]


# The product when this benchmark process started: the figures are of one version of the code only when it
# is still the same one when they are written (others may edit the tree meanwhile).
AT_START = code_version()


def write_results(path: Path, results: dict[str, Any], *, quoted: Quoted, show: bool = True) -> int:
    """Writes the results file (quoted figures, host, code, then `results`), prints it (or, unless `show`,
    only its quoted figures) and where it went; returns the exit status (0)."""
    code = code_version()
    document = {
        "quoted": quoted,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": host(),
        "code": {**code, "product_unchanged_while_measuring": code["product_sha256"] == AT_START["product_sha256"]},
        **results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document if show else {"quoted": quoted}, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    return 0
