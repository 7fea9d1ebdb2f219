"""template.yaml by concern: the parts under templates/src/ and the assembler that joins them (`make template`).

template.yaml is generated and committed: these tests keep it equal to what the parts assemble to (so nobody edits
it directly), keep every part small enough to read alone and saying what it is, and give each resource one part.
The assembler's own rules (joining, families, errors) are checked on small parts written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.template import TEMPLATE_PATH, load_text
from local.template_build import (
    FIRST_LINE,
    MAX_PART_BYTES,
    PARTS,
    SOURCE,
    PartError,
    assemble,
    expand_families,
    header,
    main,
)

PART_PATHS = [SOURCE / part for part in PARTS]


def test_template_yaml_is_what_the_parts_assemble_to() -> None:
    # Given the committed template.yaml and the parts under templates/src/
    committed = TEMPLATE_PATH.read_text(encoding="utf-8")

    # When the parts are assembled
    assembled = assemble().text

    # Then they are the same text: an edit made in template.yaml itself would be lost at the next `make template`
    assert committed == assembled, (
        "template.yaml differs from what templates/src/ assembles to: edit the parts, then run `make template` "
        "(`python -m local.template_build --check` shows the difference)"
    )
    assert committed.splitlines()[0] == FIRST_LINE


def test_the_parts_list_names_every_file_under_templates_src_once() -> None:
    # Given the files under templates/src/ / Then the assembler's PARTS names each of them, once (none left out)
    on_disk = sorted(str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*") if path.is_file())
    assert sorted(PARTS) == on_disk
    assert len(set(PARTS)) == len(PARTS)


@pytest.mark.parametrize("path", PART_PATHS, ids=lambda path: str(path.relative_to(SOURCE)))
def test_each_part_is_small_enough_to_read_alone_and_starts_by_saying_what_it_is(path: Path) -> None:
    # Given a part
    text = path.read_text(encoding="utf-8")

    # Then it is under the size read in one sitting
    assert len(text.encode("utf-8")) < MAX_PART_BYTES, f"{path.name}: split it by concern"
    # And it opens with a header comment of a sentence or more, not with a key or a family's directive
    lines = header(text)
    assert lines, f"{path.name} starts without a header comment"
    assert len(" ".join(lines).split()) >= 8, f"{path.name}: the header says too little: {lines}"


def test_every_resource_comes_from_exactly_one_part(top_level: dict[str, Any]) -> None:
    # Given where each entry of each section comes from
    origins = assemble().origins
    from_parts = {key for section, key in origins if section == "Resources"}

    # Then every resource of template.yaml has a part, and every part's resource is in template.yaml
    assert from_parts == set(top_level["Resources"])
    # And no resource is written in two parts: the assembler refuses it (shown on written parts below)
    counts: dict[str, int] = {}
    for part in PARTS:
        single = assemble(SOURCE, [part]).origins
        for section, key in single:
            if section == "Resources":
                counts[key] = counts.get(key, 0) + 1
    assert {key: count for key, count in counts.items() if count != 1} == {}


# --- the assembler's rules, on parts written here ---------------------------------------------------------------


def write_parts(folder: Path, parts: dict[str, str]) -> list[str]:
    for name, text in parts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return list(parts)


TOPIC_PART = """# The topic: where notifications go.

Resources:
  # Why the topic exists (a comment the template keeps).
  Topic:
    Type: AWS::SNS::Topic
"""
QUEUE_PART = """# The queue, and the parameter that names it.

Parameters:
  QueueName:
    Type: String

Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref QueueName  # star-reason: kept on its line
"""


def test_parts_join_section_by_section_in_order_keeping_comments_and_indentation(tmp_path: Path) -> None:
    # Given two parts, each with some sections
    parts = write_parts(tmp_path, {"topic.yaml": TOPIC_PART, "queue.yaml": QUEUE_PART})

    # When they are assembled
    assembly = assemble(tmp_path, parts)

    # Then the sections come in CloudFormation's order, each part's entries after the previous part's, the
    # comments and indentation as written, the headers left in the parts
    assert assembly.text == (
        f"{FIRST_LINE}\n"
        "Parameters:\n"
        "  QueueName:\n"
        "    Type: String\n"
        "\n"
        "Resources:\n"
        "  # Why the topic exists (a comment the template keeps).\n"
        "  Topic:\n"
        "    Type: AWS::SNS::Topic\n"
        "\n"
        "  Queue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: !Ref QueueName  # star-reason: kept on its line\n"
    )
    assert assembly.origins == {
        ("Resources", "Topic"): "topic.yaml",
        ("Parameters", "QueueName"): "queue.yaml",
        ("Resources", "Queue"): "queue.yaml",
    }


def test_a_resource_written_in_two_parts_is_refused(tmp_path: Path) -> None:
    # Given two parts that both write the resource Topic
    parts = write_parts(tmp_path, {"a.yaml": TOPIC_PART, "b.yaml": TOPIC_PART.replace("Why", "How")})

    # When they are assembled / Then the assembler names the resource and both parts
    with pytest.raises(PartError, match=r"Resources/Topic is written in both a\.yaml and b\.yaml"):
        assemble(tmp_path, parts)


def test_a_part_without_a_header_comment_is_refused(tmp_path: Path) -> None:
    # Given a part that starts with its section / When assembled / Then it is refused
    parts = write_parts(tmp_path, {"bare.yaml": TOPIC_PART.split("\n", 2)[2]})
    with pytest.raises(PartError, match="header comment"):
        assemble(tmp_path, parts)


def test_the_console_groups_and_labels_of_several_parts_join_in_order(tmp_path: Path) -> None:
    # Given two parts, each with a parameter, its console group and its label
    def part(name: str) -> str:
        return (
            f"# The {name} parameter.\n\n"
            f"Parameters:\n  {name}:\n    Type: String\n\n"
            "Metadata:\n  AWS::CloudFormation::Interface:\n    ParameterGroups:\n"
            f"      - Label:\n          default: {name} group\n        Parameters:\n          - {name}\n"
            f"    ParameterLabels:\n      {name}:\n        default: The {name}\n"
        )

    parts = write_parts(tmp_path, {"first.yaml": part("First"), "second.yaml": part("Second")})

    # When they are assembled
    template = load_text(assemble(tmp_path, parts).text)

    # Then the console metadata holds both groups, in the parts' order, and both labels
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    assert interface["ParameterGroups"] == [
        {"Label": {"default": "First group"}, "Parameters": ["First"]},
        {"Label": {"default": "Second group"}, "Parameters": ["Second"]},
    ]
    assert interface["ParameterLabels"] == {"First": {"default": "The First"}, "Second": {"default": "The Second"}}
    assert list(template["Parameters"]) == ["First", "Second"]


FAMILY = """  #@ for each | Function | alarm
  #@          | OnAlarm  | on-alarm
  #@          | RunJobs  | run-jobs
  #@ do
  ((Function))ErrorsAlarm:
    Properties:
      AlarmName: !Sub ${AWS::StackName}-self-errors-((alarm))
      Value: !Ref ((Function))Function
  #@ done
"""


def test_a_family_is_written_out_once_per_row_with_the_rows_values() -> None:
    # Given a family of two rows / When it is expanded
    expanded = expand_families(FAMILY, "family.yaml")

    # Then each row made one member, a blank line apart, every placeholder replaced
    assert expanded == (
        "  OnAlarmErrorsAlarm:\n"
        "    Properties:\n"
        "      AlarmName: !Sub ${AWS::StackName}-self-errors-on-alarm\n"
        "      Value: !Ref OnAlarmFunction\n"
        "\n"
        "  RunJobsErrorsAlarm:\n"
        "    Properties:\n"
        "      AlarmName: !Sub ${AWS::StackName}-self-errors-run-jobs\n"
        "      Value: !Ref RunJobsFunction\n"
    )


@pytest.mark.parametrize(
    ("family", "message"),
    [
        (FAMILY.replace("((alarm))", "((name))"), r"names \['Function', 'name'\]"),
        (FAMILY.replace("| run-jobs", "| run-jobs | extra"), "3 values for the 2 columns"),
        (FAMILY.replace("  #@ done\n", ""), "ends with `#@ done`"),
        ("  Key: ((Function))\n", "outside a `#@ for each` family"),
    ],
    ids=["unknown placeholder", "row of the wrong width", "no done", "placeholder outside a family"],
)
def test_a_family_written_wrong_is_refused(family: str, message: str) -> None:
    # Given a family with a mistake / When it is expanded / Then the assembler says what is wrong
    with pytest.raises(PartError, match=message):
        expand_families(family, "family.yaml")


def test_check_writes_nothing_and_exits_1_with_a_diff_when_template_yaml_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a target that differs from what the real parts assemble to
    target = tmp_path / "template.yaml"
    target.write_text("edited by hand\n", encoding="utf-8")

    # When --check runs
    status = main(["--check"], target=target)

    # Then it fails with a diff, and leaves the file alone
    assert status == 1
    assert "-edited by hand" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == "edited by hand\n"

    # And without --check it writes the assembly, after which --check passes
    assert main([], target=target) == 0
    assert target.read_text(encoding="utf-8") == assemble().text
    assert main(["--check"], target=target) == 0
