"""The real audit_access_keys handler and `warden audit-keys` against moto's IAM, with back-dated keys."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from local.account import LocalAccount, Received
from local.demo_keys import add_user, clear_users, iam_backend
from local.invoke import fresh_container, invoke
from local.template import ROOT
from tests.events import load_event
from warden.domain.keys import Deactivation, DeactivationOutcome
from warden.messages.keys import deactivation_lines, findings_table, undo_lines
from warden.settings import get_settings
from warden.usecases.audit_keys import AuditResult, audit_access_keys
from warden.wiring import audit_keys_deps

pytestmark = pytest.mark.integration

FULL_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
WEEKLY = load_event("audit_access_keys", "weekly")


@pytest.fixture
def iam_account(account: LocalAccount) -> Iterator[LocalAccount]:
    """The test account with no IAM users but the test's own, and a credential report that AWS has ready."""
    clear_users()
    account.client("iam").generate_credential_report()
    yield account
    clear_users()


def audit(account: LocalAccount, event: dict[str, Any] | None = None, **env: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke("audit_access_keys", event or WEEKLY, {**account.env(), **env})
    (outcome,) = result["results"]
    return outcome


def statuses(account: LocalAccount, user: str) -> dict[str, str]:
    keys = account.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in keys}


def actions(account: LocalAccount) -> list[dict[str, Any]]:
    items = account.client("dynamodb").query(
        TableName=account.table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :action)",
        ExpressionAttributeValues={":pk": {"S": f"SERVICE#{account.service_arn}"}, ":action": {"S": "ACTION#"}},
    )["Items"]
    return [{key: next(iter(value.values())) for key, value in item.items()} for item in items]


def secrets(account: LocalAccount) -> list[str]:
    """Every secret access key moto holds: none may ever appear in what Warden sends or prints."""
    return [key.secret_access_key for user in iam_backend().users.values() for key in user.access_keys]


def assert_nothing_leaks(account: LocalAccount, *texts: str) -> None:
    for text in texts:
        assert FULL_KEY_ID.findall(text) == [], "a full access key id was shown"
        for secret in secrets(account):
            assert secret not in text, "a secret access key was shown"


def test_the_weekly_audit_deactivates_only_the_overdue_key_of_a_two_key_user(iam_account: LocalAccount) -> None:
    # Given deploy-bot with a 400-day key and a 5-day key, a healthy user, and deactivation after 180 days
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    add_user(iam_account, "dev-alice", [(12, 1)])
    # When the weekly schedule runs the audit
    outcome = audit(iam_account, KEY_DEACTIVATE_AFTER_DAYS="180")
    # Then exactly the old key is Inactive and the new one still Active
    assert outcome["outcome"] == "reported"
    assert statuses(iam_account, "deploy-bot") == {old: "Inactive", new: "Active"}
    suffix = old[-4:]
    assert [(d["user"], d["slot"], d["suffix"], d["outcome"]) for d in outcome["deactivations"]] == [
        ("deploy-bot", 1, f"…{suffix}", "done")
    ]
    # And one critical digest (tests/golden/texts/keys.deactivated.txt) names it by suffix, with the way back
    (received,) = iam_account.inbox()
    assert received.attributes == {"event": "keys.audit", "severity": "critical"}
    assert f"--access-key-id <the id ending in {suffix}> --status Active" in received.body
    # And the action log has it, without the full id
    (record,) = actions(iam_account)
    assert (record["action"], record["outcome"], record["actor"]) == ("key.deactivate", "done", "audit_access_keys")
    assert f"(…{suffix})" in record["reason"]
    assert_nothing_leaks(iam_account, received.subject, received.body, record["reason"], str(outcome))


def test_under_dry_run_nothing_is_deactivated_and_the_digest_says_what_would_be(iam_account: LocalAccount) -> None:
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    outcome = audit(iam_account, KEY_DEACTIVATE_AFTER_DAYS="180", DRY_RUN="true")
    assert statuses(iam_account, "deploy-bot") == {old: "Active", new: "Active"}
    assert [(d["outcome"], d["held_by"]) for d in outcome["deactivations"]] == [("would", "dry_run")]
    (received,) = iam_account.inbox()  # tests/golden/texts/keys.dry_run.txt
    assert f"<the id ending in {old[-4:]}>" not in received.body, "no undo for a key that was not deactivated"
    assert_nothing_leaks(iam_account, received.body)


def test_an_exempt_users_overdue_key_is_reported_and_left_alone(iam_account: LocalAccount) -> None:
    # Given a CI user tagged warden:exempt=true with a 400-day key
    (key,) = add_user(iam_account, "legacy-ci", [(400, 1)], tags={"warden:exempt": "true"})
    add_user(iam_account, "dev-bob", [(85, 2)])
    # When the audit runs with deactivation on
    outcome = audit(iam_account, KEY_DEACTIVATE_AFTER_DAYS="180")
    # Then the key stays Active and is counted as exempt (tags were read in bulk), next to the due key
    assert statuses(iam_account, "legacy-ci") == {key: "Active"}
    assert outcome["deactivations"] == []
    assert (outcome["counts"]["exempt"], outcome["counts"]["due"]) == (1, 1)
    (received,) = iam_account.inbox()  # tests/golden/texts/keys.exempt_listed.txt
    assert received.attributes["severity"] == "warning"


def test_every_class_is_found_in_a_moto_report(iam_account: LocalAccount) -> None:
    # Given keys 12, 85, 120 and 400 days old, one never used, and an old inactive key
    add_user(iam_account, "dev-alice", [(12, 1)])
    add_user(iam_account, "dev-bob", [(85, 2)])
    add_user(iam_account, "ci-runner", [(120, 1)])
    add_user(iam_account, "deploy-bot", [(400, 3)])
    add_user(iam_account, "old-laptop", [(30, None)])
    (retired,) = add_user(iam_account, "retired", [(200, 150)])
    iam_account.client("iam").update_access_key(UserName="retired", AccessKeyId=retired, Status="Inactive")
    # When the audit runs (deactivation off)
    outcome = audit(iam_account)
    # Then each key is in its class (the digest with deactivation off: tests/golden/texts/keys.findings.txt)
    assert outcome["counts"] == {
        "root key present": 0,
        "overdue": 2,
        "unused": 1,
        "due": 1,
        "delete me": 1,
        "exempt": 0,
        "ok": 1,
    }
    (received,) = iam_account.inbox()
    assert "moto" not in received.body
    assert "generated 2015-02-02 20:02 UTC" in received.body, "moto's fixed GeneratedTime is quoted, not hidden"


def test_without_a_report_the_audit_waits_for_one_and_then_audits(iam_account: LocalAccount) -> None:
    # Given no credential report yet (moto answers STARTED, then COMPLETE)
    iam_backend().credential_report = None
    add_user(iam_account, "dev-bob", [(85, 2)])
    # When the audit runs / Then it waited for the report and reported the due key
    outcome = audit(iam_account)
    assert outcome["counts"]["due"] == 1
    assert len(iam_account.inbox()) == 1


def test_a_clean_account_gets_one_short_digest_and_then_silence(iam_account: LocalAccount) -> None:
    add_user(iam_account, "dev-alice", [(12, 1), (30, 2)])
    first, second = audit(iam_account), audit(iam_account)
    assert (first["outcome"], second["outcome"]) == ("healthy", "healthy_quiet")
    assert first["active_keys"] == 2
    assert first["last_healthy_digest"] is None
    assert second["last_healthy_digest"] is not None, "the quiet run says when the last digest went out"
    (received,) = iam_account.inbox()  # tests/golden/texts/keys.healthy.txt
    assert received.attributes == {"event": "keys.audit", "severity": "info"}


def test_an_unknown_job_is_ignored_with_its_reason(iam_account: LocalAccount) -> None:
    outcome = audit(iam_account, {"job": "purge-images"})
    assert outcome["outcome"] == "ignored"
    assert outcome["reason"] == "ignored, because 'purge-images' is not a job of this function (it runs 'audit-keys')"
    assert iam_account.inbox() == []


def warden_cli(account: LocalAccount, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        **account.env(),
        "PYTHONPATH": str(ROOT / "layers" / "warden"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "warden", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def preview_audit(account: LocalAccount, **env: str) -> AuditResult:
    """The audit `warden audit-keys` runs by default (no digest, no change), in this process: its facts."""
    with fresh_container({**account.env(), **env}):
        settings = get_settings()
        return audit_access_keys(audit_keys_deps(settings), settings, datetime.now(UTC), notify=False, apply=False)


def test_the_cli_prints_the_audit_and_by_default_sends_and_changes_nothing(iam_account: LocalAccount) -> None:
    # Given an overdue key that the weekly run would deactivate
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    add_user(iam_account, "old-laptop", [(30, None)])
    # When an operator runs `warden audit-keys`
    run = warden_cli(iam_account, "audit-keys", KEY_DEACTIVATE_AFTER_DAYS="180")
    # Then it prints every key in a table and what --apply would do, in the renderer's words for the audit's facts
    assert run.returncode == 0, run.stderr
    preview = preview_audit(iam_account, KEY_DEACTIVATE_AFTER_DAYS="180")
    assert [(f.user, f.slot, f.kind.value, f.age_days) for f in preview.findings] == [
        ("deploy-bot", 1, "overdue", 400),
        ("old-laptop", 1, "unused", 30),
        ("deploy-bot", 2, "ok", 5),
    ]
    (held,) = preview.deactivations
    assert (held.suffix, held.outcome, held.held_by) == (f"…{old[-4:]}", "would", "preview")
    for line in [*findings_table(preview.findings, preview.deactivations).splitlines(), *deactivation_lines([held])]:
        assert line in run.stdout
    assert "No digest sent (use --notify to send one)." in run.stdout
    # And it changes and sends nothing
    assert statuses(iam_account, "deploy-bot") == {old: "Active", new: "Active"}
    assert iam_account.inbox() == []
    assert actions(iam_account) == []
    assert_nothing_leaks(iam_account, run.stdout, run.stderr)


def test_the_cli_with_notify_and_apply_does_what_the_weekly_run_does(iam_account: LocalAccount) -> None:
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    run = warden_cli(iam_account, "audit-keys", "--notify", "--apply", KEY_DEACTIVATE_AFTER_DAYS="180")
    assert run.returncode == 0, run.stderr
    assert statuses(iam_account, "deploy-bot") == {old: "Inactive", new: "Active"}
    assert "Digest sent: keys.audit (critical)." in run.stdout
    # And it prints how to re-activate the key it deactivated (tests/golden/texts/keys.cli_lines.txt)
    done = Deactivation(
        user="deploy-bot", slot=1, age_days=400, suffix=f"…{old[-4:]}", outcome=DeactivationOutcome.DONE, match="-"
    )
    for line in undo_lines([done]):
        assert line in run.stdout
    received: list[Received] = iam_account.inbox()
    assert len(received) == 1
    assert_nothing_leaks(iam_account, run.stdout, received[0].body)


@pytest.fixture
def scp_on_break_glass(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SCP denying iam:UpdateAccessKey on the user `break-glass`: moto's server (in this process) answers
    that call with IAM's 403 AccessDenied, as AWS does for an explicit deny in a service control policy."""
    from moto.core.exceptions import AccessDeniedError

    backend_type = type(iam_backend())
    allowed = backend_type.update_access_key

    def update_access_key(self: Any, user_name: str, access_key_id: str, status: str | None = None) -> Any:
        if user_name == "break-glass":
            raise AccessDeniedError(
                user_arn="arn:aws:sts::123456789012:assumed-role/warden-audit/audit_access_keys",
                action="iam:UpdateAccessKey with an explicit deny in a service control policy",
            )
        return allowed(self, user_name, access_key_id, status)

    monkeypatch.setattr(backend_type, "update_access_key", update_access_key)


@pytest.mark.usefixtures("scp_on_break_glass")
def test_an_scp_denying_one_users_key_change_is_reported_and_every_other_overdue_key_is_deactivated(
    iam_account: LocalAccount,
) -> None:
    # Given an overdue key on the SCP-protected break-glass user and on two others, deactivation after 180 days
    (guarded,) = add_user(iam_account, "break-glass", [(400, 200)])
    (ci,) = add_user(iam_account, "ci-runner", [(300, 1)])
    old, new = add_user(iam_account, "deploy-bot", [(400, 3), (5, 1)])
    # When the weekly audit runs
    outcome = audit(iam_account, KEY_DEACTIVATE_AFTER_DAYS="180")
    # Then the other users' overdue keys are deactivated, the break-glass key stays as it was
    assert statuses(iam_account, "ci-runner") == {ci: "Inactive"}
    assert statuses(iam_account, "deploy-bot") == {old: "Inactive", new: "Active"}
    assert statuses(iam_account, "break-glass") == {guarded: "Active"}
    # And the failure is reported: the user, the key by suffix, IAM's code, the call, and that a person must act
    failures = {d["user"]: (d["outcome"], d["suffix"], d["failure"]) for d in outcome["deactivations"]}
    assert failures == {
        "break-glass": (
            "failed",
            f"…{guarded[-4:]}",
            {
                "kind": "refused",
                "code": "AccessDenied",
                "operation": "UpdateAccessKey",
                "detail": failures["break-glass"][2]["detail"],
                "remedy": "by_hand",
            },
        ),
        "ci-runner": ("done", f"…{ci[-4:]}", None),
        "deploy-bot": ("done", f"…{old[-4:]}", None),
    }
    # And one digest tells it (tests/golden/texts/keys.update_failed.txt), naming the key by suffix
    (received,) = iam_account.inbox()
    assert received.attributes == {"event": "keys.audit", "severity": "critical"}
    assert f"…{guarded[-4:]}" in received.body
    assert_nothing_leaks(iam_account, received.subject, received.body, str(outcome))
