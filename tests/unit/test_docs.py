"""The README is a front door and the docs are true to the code (issue 14 §4, §6; issue 13's guarantees list).

- The README stays at most 12 KB, and its first screen sets a fresh machine up with exactly two commands.
- Each line of its Guarantees section names tests that exist, and a section of the safety page that exists.
- Every environment variable `settings.py` reads is documented exactly once, on the settings page; every stack
  parameter exactly once, on the deploy page; nothing documented there that the code no longer reads.
- The docs quote a benchmark figure only by name (`{{ keys.keys_users }}`), and every name is in a results file's
  `quoted` figures; the performance page holds no number of its own.
- Every link between README and pages lands on a page and a heading that exist.

`make docs` (part of `make test`) builds the site with `mkdocs build --strict`; these tests need no MkDocs.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SETTINGS = ROOT / "layers" / "warden" / "warden" / "settings.py"
LAYER = ROOT / "layers" / "warden" / "warden"
TEMPLATE = ROOT / "template.yaml"
README_LIMIT_BYTES = 12 * 1024
# A terminal's first screen: what a newcomer reads before scrolling.
FIRST_SCREEN_LINES = 24
SETUP_COMMANDS = ["make demo", "make test"]
TEST_REFERENCE = re.compile(r"`(?P<path>tests/[\w/]+\.py)(?:::(?P<function>\w+))?`")
SAFETY_LINK = re.compile(r"\]\(docs/safety\.md#(?P<anchor>[\w-]+)\)")
ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")
PARAMETER_NAME = re.compile(r"`([A-Z][A-Za-z0-9]+)`")


def load_hook() -> ModuleType:
    path = DOCS / "hooks" / "bench_figures.py"
    spec = importlib.util.spec_from_file_location("bench_figures", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = load_hook()


def pages() -> list[Path]:
    return sorted(path for path in DOCS.glob("*.md"))


def section(markdown: str, heading: str) -> str:
    """The text under `## heading`, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(?P<body>.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match is not None, f"no '## {heading}' section"
    return match["body"]


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of every Markdown table (header and separator rows left out), as cells."""
    rows: list[list[str]] = []
    lines = markdown.splitlines()
    for number, line in enumerate(lines):
        if not line.startswith("|") or re.fullmatch(r"\|[-:| ]+\|", line):
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if re.fullmatch(r"\|[-:| ]+\|", following):
            continue  # a header row
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs (and GitHub, for plain words) writes it."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s]+", "-", text)


def anchors(markdown: str) -> set[str]:
    without_code = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return {slug(match[1]) for match in re.finditer(r"^#{1,6} (.+)$", without_code, re.M)}


def defined_functions(path: Path) -> set[str]:
    """Every function defined in a file, at any depth (test classes included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def missing_tests(line: str, root: Path = ROOT) -> list[str]:
    """The test files and functions a guarantee line names that do not exist; every line must name one."""
    references = list(TEST_REFERENCE.finditer(line))
    if not references:
        return [f"names no test: {line[:80]}..."]
    problems: list[str] = []
    for reference in references:
        path = root / reference["path"]
        if not path.is_file():
            problems.append(f"{reference['path']} does not exist")
        elif reference["function"] and reference["function"] not in defined_functions(path):
            problems.append(f"{reference['path']} defines no {reference['function']}")
    return problems


def settings_read(source: str) -> list[str]:
    """The environment variables `Settings.from_env` reads, in order."""
    return re.findall(r"reader\.(?:required|optional)\(\s*\"([A-Z][A-Z0-9_]*)\"", source)


def template_parameters() -> list[str]:
    text = TEMPLATE.read_text()
    block = re.search(r"^Parameters:\n(?P<body>.*?)(?=^\S)", text, re.M | re.S)
    assert block is not None, "template.yaml has no Parameters section"
    return re.findall(r"^  ([A-Za-z][A-Za-z0-9]*):\s*$", block["body"], re.M)


def prose_numbers(markdown: str) -> list[str]:
    """Digits in a page's prose: outside code blocks, code spans, figure placeholders and link targets."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    text = FIGURES.PLACEHOLDER.sub("", text)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    # A digit inside a name (boto3, x86_64) is part of the name, not a figure.
    return re.findall(r"(?<![A-Za-z0-9_])\d(?:[\d,.]*\d)?", text)


# --- the README ----------------------------------------------------------------------------------------------


def test_the_readme_is_at_most_12_kb() -> None:
    # Given the README, Then it is a front door: at most 12,288 bytes
    size = len(README.read_bytes())
    assert size <= README_LIMIT_BYTES, f"README.md is {size:,} bytes; move detail into docs/"


def test_the_readme_first_screen_sets_up_a_fresh_machine_with_exactly_make_demo_and_make_test() -> None:
    # Given the README's first screen
    lines = README.read_text().splitlines()
    screen = "\n".join(lines[:FIRST_SCREEN_LINES])
    # When its code blocks are read, each command without its comment
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", screen, re.M | re.S)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    # Then exactly the two set-up commands are there, in one block that ends on the first screen
    assert [command for command in commands if command] == SETUP_COMMANDS
    assert screen.count("```") == 2, "the first screen holds one code block, complete"


def test_every_readme_guarantee_names_tests_that_exist_and_a_safety_section_that_exists() -> None:
    # Given the README's guarantees, one per line
    lines = [line for line in section(README.read_text(), "Guarantees").splitlines() if line.startswith("- ")]
    assert len(lines) >= 10, "the guarantees list lost its lines"
    safety = anchors((DOCS / "safety.md").read_text())
    for line in lines:
        # Then each names at least one test, and every test file and function it names exists
        assert missing_tests(line) == [], line
        # And it links to the safety page's section that says more
        links = [match["anchor"] for match in SAFETY_LINK.finditer(line)]
        assert links, f"no link to docs/safety.md: {line[:80]}"
        assert set(links) <= safety, f"docs/safety.md has no section {set(links) - safety}"


def test_a_guarantee_naming_a_test_that_does_not_exist_is_caught(tmp_path: Path) -> None:
    # Given a test file holding one test
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_x.py").write_text("class TestX:\n    def test_held(self):\n        pass\n")
    # Then a line naming it passes, and lines naming a missing function, a missing file or no test are caught
    assert missing_tests("- held. `tests/unit/test_x.py::test_held`", tmp_path) == []
    assert missing_tests("- held. `tests/unit/test_x.py::test_renamed`", tmp_path) == [
        "tests/unit/test_x.py defines no test_renamed"
    ]
    assert missing_tests("- held. `tests/unit/test_gone.py`", tmp_path) == ["tests/unit/test_gone.py does not exist"]
    assert missing_tests("- held by nothing", tmp_path) == ["names no test: - held by nothing..."]


def test_every_relative_link_of_the_readme_lands_on_a_file_that_exists() -> None:
    # Given every relative link of the README
    links = re.findall(r"\]\((?!https?://)([^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert links
    # Then each file it names exists
    assert [link for link in links if not (ROOT / link).is_file()] == []


# --- settings and parameters ---------------------------------------------------------------------------------


def test_every_setting_settings_py_reads_is_documented_exactly_once_on_the_settings_page() -> None:
    # Given what settings.py reads, and the first cell of every table row of the settings page
    read = settings_read(SETTINGS.read_text())
    assert len(read) >= 30, "settings.py's reader calls were not found: has the way settings are read changed?"
    documented = Counter(
        name for row in table_rows((DOCS / "settings.md").read_text()) for name in ENV_NAME.findall(row[0])
    )
    # Then each variable settings.py reads has exactly one row
    assert {name: documented[name] for name in read if documented[name] != 1} == {}
    # And no variable has two rows
    assert [name for name, count in documented.items() if count > 1] == []


def test_every_variable_the_settings_page_documents_is_read_by_the_code() -> None:
    # Given the variables the settings page documents, and the code and template that could read them
    documented = {name for row in table_rows((DOCS / "settings.md").read_text()) for name in ENV_NAME.findall(row[0])}
    code = "\n".join(path.read_text() for path in LAYER.rglob("*.py")) + TEMPLATE.read_text()
    # Then every one of them is named there: the page documents nothing the code stopped reading
    assert sorted(name for name in documented if f'"{name}"' not in code and f"{name}:" not in code) == []


def test_no_other_page_documents_a_setting_a_second_time() -> None:
    # Given what settings.py reads
    read = set(settings_read(SETTINGS.read_text()))
    for page in pages():
        if page.name == "settings.md":
            continue
        # Then no other page has a table row keyed by one of those variables
        keyed = {name for row in table_rows(page.read_text()) for name in ENV_NAME.findall(row[0])}
        assert sorted(keyed & read) == [], f"{page.name} documents settings again: link to settings.md"


def test_the_settings_page_names_only_parameters_the_template_has() -> None:
    # Given the parameter column of the settings page
    parameters = set(template_parameters())
    named = {
        name
        for row in table_rows((DOCS / "settings.md").read_text())
        if len(row) == 4
        for name in PARAMETER_NAME.findall(row[1])
    }
    assert named
    # Then each names a parameter of template.yaml
    assert sorted(named - parameters) == []


def test_every_stack_parameter_is_documented_exactly_once_on_the_deploy_page() -> None:
    # Given template.yaml's parameters, and the first cells of the deploy page's parameter table
    parameters = template_parameters()
    assert len(parameters) >= 30
    rows = table_rows(section((DOCS / "deploy.md").read_text(), "Parameters"))
    documented = Counter(name for row in rows for name in PARAMETER_NAME.findall(row[0]))
    # Then each parameter has exactly one row, and no row names a parameter the template lacks
    assert {name: documented[name] for name in parameters if documented[name] != 1} == {}
    assert sorted(set(documented) - set(parameters)) == []


# --- figures ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_every_figure_a_page_quotes_is_a_quoted_figure_of_a_results_file(page: Path) -> None:
    # Given a page and the results files as `make bench` left them
    results = FIGURES.load_results()
    # When its figure placeholders are read from the results, Then every one is found (else FigureError names it)
    rendered = FIGURES.render(page.read_text(), results)
    assert FIGURES.PLACEHOLDER.search(rendered) is None


def test_the_performance_page_quotes_figures_only_from_the_results() -> None:
    # Given the performance page's source
    source = (DOCS / "performance.md").read_text()
    # Then it reads its figures from the results files, and holds no number of its own in its prose
    assert len(FIGURES.PLACEHOLDER.findall(source)) >= 50
    assert prose_numbers(source) == []


def test_a_figure_no_results_file_carries_fails_the_page_naming_it() -> None:
    # Given results whose quoted figures hold one name
    results = {"keys": {"quoted": {"keys_users": 1000, "keys_ratio": 12.5}, "when": "2026-12-04T15:25:27+00:00"}}
    # Then a page quoting it reads the figure as prose prints it
    results["keys"]["method"] = "whole process against whole process"
    page = "{{ keys.keys_users }} users, {{ keys.keys_ratio }}×, {{ keys.when }}; {{ keys.method }}"
    assert FIGURES.render(page, results) == "1,000 users, 12.5×, 2026-12-04; whole process against whole process"
    assert FIGURES.render("${{ keys.keys_ratio:usd }}", results) == "$12.50"
    # And a page quoting a name, or a file, that is not there fails with what is missing
    with pytest.raises(FIGURES.FigureError, match="keys_calls"):
        FIGURES.render("{{ keys.keys_calls }}", results)
    with pytest.raises(FIGURES.FigureError, match="ecs"):
        FIGURES.render("{{ ecs.ecs_pause_calls }}", results)


def test_a_number_typed_into_the_performance_page_is_caught() -> None:
    # Given prose with a figure typed by hand beside one read from the results
    prose = "The audit made {{ keys.keys_calls }} calls in 0.69 s with boto3 (`python3.13`, [page](x.md#a1)), 2,001."
    # Then only the typed figures are reported
    assert prose_numbers(prose) == ["0.69", "2,001"]


# --- links between pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_every_link_between_pages_lands_on_a_page_and_heading_that_exist(page: Path) -> None:
    # Given the relative links of a page
    for target, anchor in re.findall(r"\]\((?!https?://)([\w.-]*\.md)?(?:#([\w-]+))?\)", page.read_text()):
        linked = DOCS / target if target else page
        # Then the page exists, and so does the heading the anchor names
        assert linked.is_file(), f"{page.name} links to a missing page {target}"
        if anchor:
            assert anchor in anchors(linked.read_text()), f"{page.name} links to a missing #{anchor} of {linked.name}"
