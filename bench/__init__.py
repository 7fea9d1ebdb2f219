"""Benchmarks (`make bench`): each writes its figures to bench/results/<name>.json; tests never time anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def write_results(path: Path, results: dict[str, Any]) -> int:
    """Writes the results file, prints it and where it went; returns the exit status (0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    return 0
