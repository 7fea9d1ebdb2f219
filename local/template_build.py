"""Assemble `template.yaml` from its parts under templates/src/, one file per concern: `make template`.

`python -m local.template_build` writes template.yaml; `--check` writes nothing and exits 1, with a diff, when
template.yaml is not what the parts assemble to. template.yaml stays committed: `sam deploy`, every linter and every
test read it, and an upgrade needs every released resource in it under its logical id (docs/architecture.md).

A part is a YAML document holding some of the template's sections (`Parameters:`, `Resources:`, ...), written as
they appear in template.yaml, after a header comment saying what the concern is (the header stays in the part).
The assembler works on text, never through a YAML load and dump: comments survive (`# star-reason:` and the
`# region-reason:` notes are read by the tests, the others explain the IAM) and so does every indentation. It joins
the parts in `PARTS` order: the sections in CloudFormation's order, each part's entries of a section after the
previous parts' ones. Only these mappings take entries from several parts: the sections, `Metadata` and its
`AWS::CloudFormation::Interface`, whose `ParameterGroups` list and `ParameterLabels` join too. Anything else written
twice (a resource, a parameter, a property) is an error, so each one comes from exactly one part.

A family, what YAML would write as a loop if it could (CloudFormation's `Fn::ForEach` hides its resources from
checkov), is written once, with one row per member; every `((column))` in the block takes the row's value:

      #@ for each | Function      | alarm
      #@          | OnAlarm       | on-alarm
      #@          | RunSchedule   | run-schedule
      #@ do
      ((Function))ErrorsAlarm:
        ...
      #@ done

The members come out in the rows' order, a blank line apart. A column the block never names, a `((name))` that is
no column, or a row of the wrong width is an error.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = [
    "FIRST_LINE",
    "MAX_PART_BYTES",
    "PARTS",
    "SOURCE",
    "TARGET",
    "Assembly",
    "PartError",
    "assemble",
    "expand_families",
    "header",
    "main",
]

ROOT: Final[Path] = Path(__file__).resolve().parent.parent
SOURCE: Final[Path] = ROOT / "templates" / "src"
TARGET: Final[Path] = ROOT / "template.yaml"
FIRST_LINE: Final[str] = "# generated from templates/src/ by `make template`: edit the parts, not this file."
# A part is read alone, in one sitting: tests/template/test_template_parts.py holds every part under this size.
MAX_PART_BYTES: Final[int] = 20_000

# The parts in the order their entries appear in template.yaml; tests/template/test_template_parts.py checks that
# this names every file under templates/src/.
PARTS: Final[tuple[str, ...]] = (
    "stack.yaml",
    "parameters/fleet.yaml",
    "parameters/enforcement.yaml",
    "parameters/working-hours.yaml",
    "parameters/access-keys.yaml",
    "parameters/health-alarms.yaml",
    "parameters/image-purge.yaml",
    "parameters/release.yaml",
    "parameters/notifications.yaml",
    "parameters/created-budget.yaml",
    "parameters/chat.yaml",
    "conditions.yaml",
    "globals.yaml",
    "topics.yaml",
    "state.yaml",
    "alarms-apprunner.yaml",
    "alarms-ecs.yaml",
    "alarms-billing.yaml",
    "self-watching.yaml",
    "iam.yaml",
    "functions/on_budget_alert.yaml",
    "functions/run_schedule.yaml",
    "functions/audit_access_keys.yaml",
    "functions/on_alarm.yaml",
    "functions/purge_images.yaml",
    "functions/on_deployment.yaml",
    "functions/deliver_chat.yaml",
    "log-groups.yaml",
    "dashboard.yaml",
    "nested-applications.yaml",
    "outputs.yaml",
)

# CloudFormation's order of the top-level sections.
SECTIONS: Final[tuple[str, ...]] = (
    "AWSTemplateFormatVersion",
    "Transform",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Globals",
    "Resources",
    "Outputs",
)
# The mappings (by their path of keys) that several parts may add entries to; lists at these paths are joined.
_JOINED: Final[frozenset[tuple[str, ...]]] = frozenset(
    {
        (),
        ("Metadata",),
        ("Metadata", "AWS::CloudFormation::Interface"),
        ("Metadata", "AWS::CloudFormation::Interface", "ParameterGroups"),
        ("Metadata", "AWS::CloudFormation::Interface", "ParameterLabels"),
        ("Parameters",),
        ("Rules",),
        ("Mappings",),
        ("Conditions",),
        ("Resources",),
        ("Outputs",),
    }
)

# A mapping key at the start of a line: what precedes the first ": " (or a ":" ending the line). Keys such as
# AWS::CloudFormation::Interface hold colons of their own.
_KEY: Final[re.Pattern[str]] = re.compile(r"^(?P<indent> *)(?P<key>[^\s#'\"\-][^\s]*?|[^\s#'\"\-].*?[^\s]):(?: |$)")
_PLACEHOLDER: Final[re.Pattern[str]] = re.compile(r"\(\(([A-Za-z_][A-Za-z0-9_-]*)\)\)")
_DIRECTIVE: Final[re.Pattern[str]] = re.compile(r"^ *#@(?P<rest>.*)$")


class PartError(ValueError):
    """A part cannot be assembled: the message names the part and the line."""


@dataclass
class _Entry:
    """One key of a mapping: the comment and blank lines before it, its own line and every line under it."""

    key: str
    value: str  # what follows the key on its line: empty (or a comment) when the value is the block below
    lead: list[str]
    lines: list[str]
    part: str

    def is_block(self) -> bool:
        return not self.value or self.value.startswith("#")

    def body(self) -> list[str]:
        return self.lines[1:]


@dataclass(frozen=True)
class Assembly:
    """The assembled template.yaml text, and the part each entry of each section came from."""

    text: str
    origins: dict[tuple[str, str], str] = field(default_factory=dict)


# --- reading a part ---------------------------------------------------------------------------------------------


def header(text: str) -> list[str]:
    """The part's header: its leading comment lines (directives excluded), up to the first other line."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#") or _DIRECTIVE.match(line):
            break
        lines.append(line)
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment_or_blank(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def expand_families(text: str, part: str) -> str:
    """`text` with each `#@ for each` family written out, one member per row."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        directive = _DIRECTIVE.match(lines[index])
        if directive is None:
            _no_placeholder(lines[index], part, index)
            out.append(lines[index])
            index += 1
            continue
        index = _expand_one(lines, index, part, out)
    return "\n".join(out) + "\n"


def _no_placeholder(line: str, part: str, index: int) -> None:
    found = _PLACEHOLDER.search(line)
    if found:
        raise PartError(f"{part}:{index + 1}: (({found[1]})) outside a `#@ for each` family")


def _cells(rest: str) -> list[str]:
    return [cell.strip() for cell in rest.split("|")[1:]]


def _expand_one(lines: list[str], start: int, part: str, out: list[str]) -> int:
    """Write the family that starts at `lines[start]` into `out`; return the index after its `#@ done`."""
    first = _DIRECTIVE.match(lines[start])
    assert first is not None
    rest = first["rest"].strip()
    if not rest.startswith("for each"):
        raise PartError(f"{part}:{start + 1}: expected `#@ for each | <column> | ...`, found {lines[start]!r}")
    columns = _cells(rest.removeprefix("for each"))
    if not columns or any(not column for column in columns) or len(set(columns)) != len(columns):
        raise PartError(f"{part}:{start + 1}: a family needs distinct, non-empty column names")
    rows: list[list[str]] = []
    index = start + 1
    while index < len(lines) and (match := _DIRECTIVE.match(lines[index])) and match["rest"].strip().startswith("|"):
        cells = _cells(match["rest"].strip())
        if len(cells) != len(columns):
            raise PartError(f"{part}:{index + 1}: {len(cells)} values for the {len(columns)} columns {columns}")
        rows.append(cells)
        index += 1
    do = _DIRECTIVE.match(lines[index]) if index < len(lines) else None
    if do is None or do["rest"].strip() != "do" or not rows:
        raise PartError(f"{part}:{index + 1}: a family's rows end with `#@ do` (and it needs at least one row)")
    body_start = index + 1
    index = body_start
    while index < len(lines) and not _DIRECTIVE.match(lines[index]):
        index += 1
    done = _DIRECTIVE.match(lines[index]) if index < len(lines) else None
    if done is None or done["rest"].strip() != "done":
        raise PartError(f"{part}:{index + 1}: a family's block ends with `#@ done`")
    body = lines[body_start:index]
    named = {name for line in body for name in _PLACEHOLDER.findall(line)}
    if named != set(columns):
        raise PartError(
            f"{part}:{start + 1}: the block names {sorted(named)}, the columns are {sorted(columns)}: "
            "every column once or more, nothing else"
        )
    while body and not body[-1].strip():
        body.pop()
    for number, row in enumerate(rows):
        if number:
            out.append("")
        out.extend(_fill(line, dict(zip(columns, row, strict=True))) for line in body)
    return index + 1


def _fill(line: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match[1]], line)


def _parse_mapping(lines: list[str], part: str, where: str) -> list[_Entry]:
    """The entries of a block mapping: `lines` are its body, its keys at the indent of the first content line.

    Blank lines, and comments no deeper than the keys, go with the key that follows them; deeper comments and
    anything after the last key stay with the entry they follow.
    """
    content = [line for line in lines if not _is_comment_or_blank(line)]
    if not content:
        return []
    indent = _indent(content[0])
    entries: list[_Entry] = []
    pending: list[str] = []
    for line in lines:
        blank = not line.strip()
        comment = line.lstrip().startswith("#")
        if blank or (comment and _indent(line) <= indent):
            pending.append(line)
            continue
        if comment or _indent(line) > indent:
            if not entries:
                raise PartError(f"{part}: {where}: {line.strip()!r} comes before any key")
            entries[-1].lines.extend([*pending, line])
            pending = []
            continue
        key = _KEY.match(line)
        if key is None or len(key["indent"]) != indent:
            raise PartError(f"{part}: {where}: expected a key at indent {indent}, found {line!r}")
        entries.append(_Entry(key=key["key"], value=line[key.end() :].strip(), lead=pending, lines=[line], part=part))
        pending = []
    if pending:
        if not entries:
            raise PartError(f"{part}: {where}: comments without a key")
        entries[-1].lines.extend(pending)
    return entries


# --- joining the parts ------------------------------------------------------------------------------------------


def _is_sequence(body: list[str]) -> bool:
    content = [line for line in body if not _is_comment_or_blank(line)]
    return bool(content) and content[0].lstrip().startswith("- ")


def _separated(lines: list[str]) -> list[str]:
    """`lines` with a blank line first: how the parts' entries of a section (or the sections) are kept apart."""
    return lines if lines and not lines[0].strip() else ["", *lines]


def _join(into: list[_Entry], entries: list[_Entry], path: tuple[str, ...]) -> None:
    """Add `entries` (one part's) to the mapping `into` (the previous parts'): new keys after, shared ones joined."""
    for number, entry in enumerate(entries):
        existing = next((known for known in into if known.key == entry.key), None)
        if existing is None:
            if number == 0 and into and into[-1].part != entry.part and len(path) == 1:
                entry = _Entry(entry.key, entry.value, _separated(entry.lead), entry.lines, entry.part)
            into.append(entry)
            continue
        inner = (*path, entry.key)
        where = "/".join(inner)
        if inner not in _JOINED or not (existing.is_block() and entry.is_block()):
            raise PartError(f"{where} is written in both {existing.part} and {entry.part}: write it in one part")
        if any(line.strip() for line in entry.lead):
            raise PartError(f"{entry.part}: the comment before {where} would be lost: {existing.part} writes it first")
        if _is_sequence(existing.body()) != _is_sequence(entry.body()):
            raise PartError(f"{where}: a list in one of {existing.part} and {entry.part}, a mapping in the other")
        if _is_sequence(existing.body()):
            existing.lines.extend(entry.body())
        else:
            children = _parse_mapping(existing.body(), existing.part, where)
            _join(children, _parse_mapping(entry.body(), entry.part, where), inner)
            existing.lines[1:] = list(_render(children))
        existing.part = entry.part  # the last part that wrote into it: the next part's entries are kept apart


def _render(entries: list[_Entry]) -> Iterator[str]:
    for entry in entries:
        yield from entry.lead
        yield from entry.lines


def _part_entries(source: Path, part: str) -> list[_Entry]:
    path = source / part
    text = path.read_text(encoding="utf-8")
    if not header(text):
        raise PartError(f"{part}: a part starts with a header comment saying what its concern is")
    lines = expand_families(text, part).splitlines()[len(header(text)) :]
    while lines and not lines[-1].strip():
        lines.pop()
    entries = _parse_mapping(lines, part, "top level")
    if entries and not any(line.strip() for line in entries[0].lead):
        entries[0].lead = []
    unknown = [entry.key for entry in entries if entry.key not in SECTIONS]
    if unknown:
        raise PartError(f"{part}: {unknown} are not sections of a template ({', '.join(SECTIONS)})")
    return entries


def assemble(source: Path = SOURCE, parts: Sequence[str] = PARTS) -> Assembly:
    """template.yaml's text as the parts in `source` make it, and where each section's entries come from."""
    joined: list[_Entry] = []
    origins: dict[tuple[str, str], str] = {}
    for part in parts:
        entries = _part_entries(source, part)
        for entry in entries:
            if entry.is_block():
                for child in _parse_mapping(entry.body(), part, entry.key):
                    origins[(entry.key, child.key)] = part
        _join(joined, entries, ())
    joined.sort(key=lambda entry: SECTIONS.index(entry.key))
    lines = [FIRST_LINE]
    for number, entry in enumerate(joined):
        lead = entry.lead
        if number and (entry.is_block() or joined[number - 1].part != entry.part):
            lead = _separated(lead)
        lines.extend(lead)
        lines.extend(entry.lines)
    return Assembly(text="\n".join(lines) + "\n", origins=origins)


# --- the command ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, source: Path = SOURCE, target: Path = TARGET) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.template_build", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 with a diff if template.yaml differs from the parts"
    )
    arguments = parser.parse_args(argv)
    try:
        assembled = assemble(source).text
    except PartError as error:
        print(f"template_build: {error}", file=sys.stderr)
        return 2
    current = target.read_text(encoding="utf-8") if target.is_file() else ""
    if arguments.check:
        if current == assembled:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            assembled.splitlines(keepends=True),
            fromfile=f"{target.name} (as committed)",
            tofile=f"{target.name} (assembled from templates/src/)",
        )
        sys.stdout.writelines(diff)
        print(
            f"\n{target.name} is not what templates/src/ assembles to: edit the parts, then run `make template`.",
            file=sys.stderr,
        )
        return 1
    if current != assembled:
        target.write_text(assembled, encoding="utf-8")
        print(f"wrote {target.name} from {len(PARTS)} parts in templates/src/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
