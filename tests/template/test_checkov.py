"""checkov on template.yaml and its nested templates: no failed check, and every skipped check justified in place.

checkov lives in a virtual environment of its own (.venv-checkov, from requirements/checkov.lock; `make test`
creates it): its pins conflict with the dev tools and the SAM CLI. The test finds it through WARDEN_CHECKOV
(exported by the Makefile), else .venv-checkov/bin/checkov, and skips loudly, saying how to get it, without it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from local.template import MANAGED_POLICY_TYPE, ROOT, resources_of_type, template_paths

pytestmark = pytest.mark.template

CHECKOV_MISSING = (
    "CHECKOV NOT INSTALLED, the checkov scan of template.yaml did NOT run: `make test` installs it into "
    ".venv-checkov from requirements/checkov.lock (or set WARDEN_CHECKOV to a checkov executable)"
)
CHECK_ID = re.compile(r"^CKV2?_AWS_[0-9]+$")
MIN_COMMENT_WORDS = 6
NO_COMMENT = {"", "no comment provided"}  # what checkov reports for a skip without a comment


def find_checkov() -> Path | None:
    configured = os.environ.get("WARDEN_CHECKOV")
    candidate = Path(configured) if configured else ROOT / ".venv-checkov" / "bin" / "checkov"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def written_skips(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, check id) -> comment, for every `Metadata.checkov.skip` entry of the template."""
    skips: dict[tuple[str, str], str] = {}
    for logical_id, resource in template["Resources"].items():
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[(logical_id, str(entry.get("id", "")))] = str(entry.get("comment") or "").strip()
    return skips


@pytest.fixture(scope="module")
def scan(tool_env: dict[str, str]) -> dict[str, Any]:
    checkov = find_checkov()
    if checkov is None:
        warnings.warn(CHECKOV_MISSING, stacklevel=1)
        pytest.skip(CHECKOV_MISSING)
    # Every template file: checkov does not follow a nested application's Location by itself.
    files = [argument for path in template_paths() for argument in ("-f", str(path))]
    command = [
        str(checkov),
        *files,
        "--framework",
        "cloudformation",
        "--skip-download",  # no guideline download: the scan runs offline
        "--output",
        "json",
    ]
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=ROOT, env=tool_env, capture_output=True, text=True, timeout=600, check=False
    )
    seconds = time.monotonic() - started
    # checkov exits 1 when a check fails; the JSON report is on stdout either way.
    assert completed.returncode in (0, 1), (
        f"checkov exited {completed.returncode} after {seconds:.1f}s:\n{completed.stderr[-3000:]}"
    )
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    (cloudformation,) = [entry for entry in reports if entry.get("check_type") == "cloudformation"]
    return dict(cloudformation)


def label(check: dict[str, Any]) -> str:
    return f"{check['check_id']} on {check['resource']}: {check.get('check_name', '')}"


def test_every_checkov_skip_in_the_template_names_a_check_and_says_why(template: dict[str, Any]) -> None:
    # Given every skip written in the template's Metadata (no checkov needed for this one)
    skips = written_skips(template)
    assert skips, "the template's checkov skips are gone: was Metadata.checkov.skip renamed?"

    # Then each names a checkov check and carries a real sentence explaining why it does not apply
    for (logical_id, check_id), comment in skips.items():
        assert CHECK_ID.match(check_id), f"{logical_id}: {check_id!r} is not a checkov check id"
        assert len(comment.split()) >= MIN_COMMENT_WORDS, f"{logical_id} skips {check_id} without saying why"


def test_checkov_finds_no_failed_check_in_the_template(scan: dict[str, Any]) -> None:
    # Given the scan / Then nothing failed and the template parsed
    failed = scan["results"].get("failed_checks", [])
    assert failed == [], "checkov failed checks:\n" + "\n".join(label(check) for check in failed)
    assert scan["summary"]["parsing_errors"] == 0


def test_checkov_scanned_every_function_and_every_resource(scan: dict[str, Any], template: dict[str, Any]) -> None:
    # Given the checks that ran (passed or skipped) / Then every SAM function was among the scanned resources
    results = scan["results"]
    scanned = {check["resource"] for kind in ("passed_checks", "skipped_checks") for check in results.get(kind, [])}
    functions = {
        f"AWS::Serverless::Function.{name}" for name in resources_of_type(template, "AWS::Serverless::Function")
    }
    assert functions <= scanned, f"not scanned: {sorted(functions - scanned)}"
    # And it parsed the nested templates' resources too (those of the stack as deployed, less a few it skips)
    assert scan["summary"]["resource_count"] >= len(template["Resources"]) - 5


def test_checkov_ran_its_iam_checks_on_every_policy_and_role(scan: dict[str, Any], template: dict[str, Any]) -> None:
    # Given the resources checkov ran a check on
    results = scan["results"]
    checked = {check["resource"] for kind in ("passed_checks", "skipped_checks") for check in results.get(kind, [])}
    # Then every managed policy and role of the stack is among them: checkov skips, silently, a policy document
    # that holds a conditional (Fn::If) statement, so a grant there would escape its IAM checks
    iam = {
        f"{resource_type}.{name}"
        for resource_type in (MANAGED_POLICY_TYPE, "AWS::IAM::Role")
        for name in resources_of_type(template, resource_type)
    }
    assert iam
    assert iam <= checked, f"checkov ran no check on: {sorted(iam - checked)}"


def test_every_check_checkov_skipped_is_justified_in_place_and_no_skip_is_stale(
    scan: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given what checkov skipped and what the template says it skips
    skipped = scan["results"].get("skipped_checks", [])
    written = written_skips(template)

    # Then every skipped check has its comment (from the template), and every written skip was used
    for check in skipped:
        comment = str(check.get("check_result", {}).get("suppress_comment") or "").strip()
        assert comment.lower() not in NO_COMMENT, f"{label(check)} is skipped without a comment"
    used = {(check["resource"].split(".", 1)[1], check["check_id"]) for check in skipped}
    assert used == set(written), (
        f"skips that match no check (stale, remove them): {sorted(set(written) - used)}; "
        f"skipped but not written in the template: {sorted(used - set(written))}"
    )
