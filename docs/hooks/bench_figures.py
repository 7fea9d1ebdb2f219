"""MkDocs hook: the docs quote benchmark figures by name, and the build reads each from bench/results/.

A page writes `{{ keys.keys_users }}`: the figure `keys_users` of the `quoted` section of
`bench/results/keys.json` (bench/__init__.py: the named figures the docs may quote, rounded as prose prints
them). `{{ performance.perf_cost_usd:usd }}` prints dollars and cents. `{{ keys.when }}` is the day that file
was written, and `{{ keys.method }}` a sentence the file says
about itself (a top-level string). So no page holds a measured number of its own: a new `make bench` run
changes the site without an edit, and a figure the results no longer carry fails `mkdocs build --strict` (and
tests/unit/test_docs.py) with its page, file and name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PLACEHOLDER = re.compile(r"\{\{\s*(?P<file>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z0-9_]+)(?::(?P<format>usd))?\s*\}\}")


class FigureError(ValueError):
    """A page quotes a figure that no results file carries."""


def load_results(results: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """Every results file, by name without `.json`."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(results.glob("*.json"))}


def figure(results: Mapping[str, Mapping[str, Any]], file: str, name: str, style: str | None = None) -> str:
    """The figure as prose prints it (`usd`: as dollars and cents), or FigureError saying what is missing."""
    if file not in results:
        raise FigureError(f"no bench/results/{file}.json (known: {', '.join(sorted(results))})")
    document = results[file]
    if name == "when":
        return str(document.get("when", ""))[:10] or _missing(file, name)
    quoted = document.get("quoted")
    if isinstance(document.get(name), str) and not (isinstance(quoted, Mapping) and name in quoted):
        # A sentence the benchmark wrote about itself (`method`, `note`): quoted as it says it, never a number.
        return str(document[name])
    if not isinstance(quoted, Mapping):
        raise FigureError(f"bench/results/{file}.json has no 'quoted' figures (run its benchmark again)")
    if name not in quoted:
        raise FigureError(f"bench/results/{file}.json quotes no '{name}' (it quotes: {', '.join(sorted(quoted))})")
    value = quoted[name]
    if style == "usd" and isinstance(value, int | float) and not isinstance(value, bool):
        # Cents, or the first significant digits of less than a cent ($0.004).
        return f"{value:,.2f}" if value == 0 or abs(value) >= 0.01 else f"{value:.1g}"
    return _prose(value)


def render(markdown: str, results: Mapping[str, Mapping[str, Any]]) -> str:
    """The page with every placeholder replaced; FigureError listing every figure that is missing."""
    problems: dict[str, None] = {}  # in page order, each said once

    def replace(match: re.Match[str]) -> str:
        try:
            return figure(results, match["file"], match["name"], match["format"])
        except FigureError as error:
            problems[str(error) if "'quoted'" in str(error) else f"{match[0]}: {error}"] = None
            return match[0]

    rendered = PLACEHOLDER.sub(replace, markdown)
    if problems:
        raise FigureError("; ".join(problems))
    return rendered


def _prose(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{int(value):,}" if value.is_integer() else f"{value:,}"
    return str(value)


def _missing(file: str, name: str) -> str:
    raise FigureError(f"bench/results/{file}.json has no '{name}'")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """MkDocs calls this for every page; a page without placeholders is returned as it is."""
    if PLACEHOLDER.search(markdown) is None:
        return markdown
    try:
        return render(markdown, load_results())
    except FigureError as error:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"{page.file.src_path}: {error}") from None
