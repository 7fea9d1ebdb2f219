"""The CLI for a stack that guards a fleet: `warden status` lists it, `--service NAME|ARN` chooses one service.

The real `python -m warden` in a subprocess, against moto's server and the App Runner emulator. The fleet is
what the state table holds: written as the reconcile writes it (`StateTable.save_fleet`), or by the reconcile
itself (run_schedule's `reconcile` job).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from local.account import IMAGE, LocalAccount
from local.ecs import CLUSTER, seed_ecs_service
from local.invoke import invoke
from warden.adapters.dynamodb import StateTable
from warden.domain.claims import Claim, ClaimReason
from warden.domain.fleet import BUDGET_TAG, GUARD_TAG, HOURS_TAG, FleetMember, FleetRecord

pytestmark = pytest.mark.integration

BERLIN = "MON-FRI 08:00-18:00 Europe/Berlin"
TAGGED = {GUARD_TAG: "true"}


def store_fleet(account: LocalAccount, *members: FleetMember) -> None:
    """The fleet as the last reconcile stored it."""
    state(account).save_fleet(FleetRecord(members=members).model_dump_json())


def state(account: LocalAccount) -> StateTable:
    return StateTable(account.table_name, account.client("dynamodb"))


def status_of(account: LocalAccount, arn: str) -> str:
    return str(account.client("apprunner").describe_service(ServiceArn=arn)["Service"]["Status"])


def claim_keys(account: LocalAccount, arn: str) -> list[str]:
    return [claim.key for claim in state(account).list_claims(arn)]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warden: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def row(stdout: str, first_cell: str) -> list[str]:
    """The table line of one service, split into its cells (columns are two or more spaces apart)."""
    (line,) = [line for line in stdout.splitlines() if line.startswith(first_cell + " ")]
    return cells(line)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("  ") if cell.strip()]


@pytest.fixture
def fleet(account: LocalAccount) -> dict[str, str]:
    """SERVICE_ARN's consultation-app (listed) and two tagged App Runner services: web-b with its own budget and
    hours, web-c paused."""
    arns = {
        "consultation-app": account.service_arn,
        "web-b": account.emulator.seed_service("web-b", IMAGE, tags=TAGGED),
        "web-c": account.emulator.seed_service("web-c", IMAGE, status="PAUSED", tags=TAGGED),
    }
    store_fleet(
        account,
        FleetMember(arn=arns["consultation-app"], listed=True),
        FleetMember(arn=arns["web-b"], tags={**TAGGED, BUDGET_TAG: "team-b-monthly", HOURS_TAG: BERLIN}),
        FleetMember(arn=arns["web-c"], tags=TAGGED),
    )
    return arns


# --- the fleet list -----------------------------------------------------------------------------------------


def test_status_lists_every_service_with_its_platform_state_claims_budget_and_hours(
    account: LocalAccount, fleet: dict[str, str]
) -> None:
    # Given web-c held paused by the budget and the schedule, and the stack's own hours on
    now = datetime.now(UTC)
    for reason in (ClaimReason.BUDGET, ClaimReason.SCHEDULE):
        state(account).add_claim(fleet["web-c"], Claim.new(reason, owner="test", evidence="seeded", now=now))
    # When the operator asks for the status without --service
    result = account.warden("status", WORKING_HOURS_ENABLED="true", SCHEDULE_TIMEZONE="Europe/Paris")
    # Then one line a service, in fleet order, says what each is and who holds it
    assert result.returncode == 0, result.stderr
    stack_hours = "MON-FRI 08:00-18:00 Europe/Paris (stack)"
    assert row(result.stdout, "consultation-app") == [
        "consultation-app",
        "App Runner",
        "RUNNING",
        "-",
        account.budget_name,
        stack_hours,
    ]
    assert row(result.stdout, "web-b") == ["web-b", "App Runner", "RUNNING", "-", "team-b-monthly", f"{BERLIN} (tag)"]
    assert row(result.stdout, "web-c") == [
        "web-c",
        "App Runner",
        "PAUSED",
        "budget, schedule",
        account.budget_name,
        stack_hours,
    ]
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["service", "platform", "state", "claims", "budget", "hours"]
    assert [line.split()[0] for line in lines[2:5]] == ["consultation-app", "web-b", "web-c"]
    # And it ends with how to see one service in full, and the single-service report is not printed
    assert "3 services guarded (1 listed, 2 tagged warden:guard)." in result.stdout
    assert lines[-1] == "Details of one service: warden status --service <name>"
    assert "Last actions" not in result.stdout


def test_without_working_hours_the_list_says_off(account: LocalAccount, fleet: dict[str, str]) -> None:
    result = account.warden("status")
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "consultation-app")[-1] == "off"
    assert row(result.stdout, "web-b")[-1] == f"{BERLIN} (tag)"


def test_an_ecs_service_says_ecs_from_its_target_facts(account: LocalAccount, fleet: dict[str, str]) -> None:
    # Given an ECS service in the fleet too (no scalable target: the session's moto is shared with the ECS tests)
    ecs_arn = seed_ecs_service(account, "fleet-ecs-web", scaling=None)
    store_fleet(
        account,
        FleetMember(arn=fleet["consultation-app"], listed=True),
        FleetMember(arn=fleet["web-b"], tags=TAGGED),
        FleetMember(arn=ecs_arn, tags=TAGGED),
    )
    # When the fleet is listed
    try:
        result = account.warden("status")
    finally:
        account.client("ecs").delete_service(cluster=CLUSTER, service="fleet-ecs-web", force=True)
    # Then it shows with its platform and state like the App Runner services
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "fleet-ecs-web")[:4] == ["fleet-ecs-web", "ECS", "RUNNING", "-"]
    assert row(result.stdout, "web-b")[:3] == ["web-b", "App Runner", "RUNNING"]


def test_a_service_that_cannot_be_described_says_why_in_its_cell_and_the_others_still_show(
    account: LocalAccount, fleet: dict[str, str]
) -> None:
    # Given a stored member whose App Runner service no longer exists
    ghost = "arn:aws:apprunner:us-east-1:123456789012:service/ghost-app/" + "0" * 32
    store_fleet(
        account,
        FleetMember(arn=fleet["consultation-app"], listed=True),
        FleetMember(arn=ghost, tags=TAGGED),
        FleetMember(arn=fleet["web-b"], tags=TAGGED),
    )
    # When the fleet is listed
    result = account.warden("status")
    # Then the list is printed, the ghost's state cell says why, and the others show their state
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "ghost-app")[2] == "not found: Service with the provided ARN doesn't exist"
    assert row(result.stdout, "consultation-app")[2] == "RUNNING"
    assert row(result.stdout, "web-b")[2] == "RUNNING"


def test_a_malformed_tag_is_shown_under_the_list(account: LocalAccount, fleet: dict[str, str]) -> None:
    store_fleet(
        account,
        FleetMember(arn=fleet["consultation-app"], listed=True),
        FleetMember(arn=fleet["web-b"], tags={**TAGGED, HOURS_TAG: "weekdays"}),
    )
    result = account.warden("status")
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "web-b")[-1] == "off"  # the stack's setting applies
    assert "Tag problem  web-b: warden:hours='weekdays'" in result.stdout


def test_with_no_service_guarded_status_says_how_to_guard_one(account: LocalAccount) -> None:
    # Given a stack that lists no service and a fleet without members
    result = account.warden("status", SERVICE_ARN="")
    # Then one line says so and how to guard one, exit 0
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().count("\n") == 0
    assert result.stdout.startswith("No service is guarded yet")
    assert "warden:guard=true" in result.stdout
    assert "SERVICE_ARN" in result.stdout


def test_a_single_tagged_service_without_service_arn_is_shown_in_full(account: LocalAccount) -> None:
    # Given no SERVICE_ARN, and the one service the reconcile found tagged
    store_fleet(account, FleetMember(arn=account.service_arn, tags=TAGGED))
    # When the operator asks for the status
    result = account.warden("status", SERVICE_ARN="")
    # Then it is the one service's report, as for a single-service stack
    assert result.returncode == 0, result.stderr
    assert "consultation-app  RUNNING" in result.stdout
    assert "Last actions" in result.stdout


# --- choosing one service ------------------------------------------------------------------------------------


def test_pause_with_service_pauses_only_that_service(account: LocalAccount, fleet: dict[str, str]) -> None:
    # When the operator pauses web-b by name
    paused = account.warden("pause", "--service", "web-b", "--reason", "load test")
    # Then web-b alone is paused, with a manual claim on it alone
    assert paused.returncode == 0, paused.stderr
    assert status_of(account, fleet["web-b"]) == "PAUSED"
    assert status_of(account, fleet["consultation-app"]) == "RUNNING"
    assert claim_keys(account, fleet["web-b"]) == ["manual"]
    assert claim_keys(account, fleet["consultation-app"]) == []
    assert claim_keys(account, fleet["web-c"]) == []
    assert [call["params"]["ServiceArn"] for call in account.emulator.calls("PauseService")] == [fleet["web-b"]]
    # And the list shows who holds it, history --service its action, resume --service undoes it
    assert row(account.warden("status").stdout, "web-b")[2:4] == ["PAUSED", "manual"]
    history = account.warden("history", "--service", "web-b")
    assert "load test" in history.stdout
    assert "(no actions recorded)" in account.warden("history", "--service", "web-c").stdout
    resumed = account.warden("resume", "--service", fleet["web-b"])
    assert resumed.returncode == 0, resumed.stderr
    assert status_of(account, fleet["web-b"]) == "RUNNING"
    assert claim_keys(account, fleet["web-b"]) == []


def test_status_with_service_shows_that_service_in_full_with_its_tagged_budget(
    account: LocalAccount, fleet: dict[str, str]
) -> None:
    result = account.warden("status", "--service", "web-b")
    assert result.returncode == 0, result.stderr
    assert "web-b  RUNNING" in result.stdout
    assert fleet["web-b"] in result.stdout
    assert "Budget    team-b-monthly: unavailable" in result.stdout  # its warden:budget tag, not BUDGET_NAME
    assert "Last actions" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("pause", "--reason", "x"),
        ("resume",),
        ("history",),
        ("move", "--from", "arn:aws:apprunner:us-east-1:123456789012:service/old-app/" + "1" * 32),
        ("doctor",),
        ("purge-images", "--plan"),
        ("release", "v9.9.9", "--plan"),
        ("rollback", "--plan"),
    ],
)
def test_a_command_about_one_service_refuses_to_guess_among_several(
    account: LocalAccount, fleet: dict[str, str], command: tuple[str, ...]
) -> None:
    # When a command that acts on one service runs without --service on a fleet of three
    line = one_line_error(account.warden(*command))
    # Then one line says to choose, naming the services, and nothing changed
    assert "--service" in line
    assert "consultation-app, web-b, web-c" in line
    assert account.emulator.calls("PauseService") == []
    assert account.emulator.calls("ResumeService") == []


@pytest.mark.parametrize(
    "command",
    [("status",), ("pause", "--reason", "x"), ("resume",), ("history",), ("doctor",), ("rollback", "--plan")],
)
def test_an_unknown_service_name_is_one_line_naming_the_guarded_ones(
    account: LocalAccount, fleet: dict[str, str], command: tuple[str, ...]
) -> None:
    line = one_line_error(account.warden(*command, "--service", "nobody-app"))
    assert "nobody-app" in line
    assert "consultation-app, web-b, web-c" in line
    assert account.emulator.calls("PauseService") == []


def test_an_unguarded_arn_is_refused_even_though_the_service_exists(
    account: LocalAccount, fleet: dict[str, str]
) -> None:
    # Given an App Runner service in the account that the stack does not guard
    stranger = account.emulator.seed_service("stranger-app", IMAGE)
    # When the operator names it by ARN
    line = one_line_error(account.warden("pause", "--service", stranger, "--reason", "x"))
    # Then Warden refuses: it acts only on what it guards
    assert f"--service {stranger}: no guarded service has that name or ARN" in line
    assert status_of(account, stranger) == "RUNNING"
    assert account.emulator.calls("PauseService") == []


def test_an_ambiguous_name_lists_the_candidates_arns_and_an_arn_chooses(account: LocalAccount) -> None:
    # Given the App Runner consultation-app and an ECS service of the same name, both guarded
    ecs_arn = seed_ecs_service(account)
    store_fleet(
        account,
        FleetMember(arn=account.service_arn, listed=True),
        FleetMember(arn=ecs_arn, tags=TAGGED),
    )
    # When the operator names it
    line = one_line_error(account.warden("pause", "--service", "consultation-app", "--reason", "x"))
    # Then one line lists both ARNs, and nothing is paused
    assert account.service_arn in line
    assert ecs_arn in line
    assert "by ARN" in line
    assert account.emulator.calls("PauseService") == []
    # And the list shows both, with the ARNs to choose by (a shared name selects neither), and an ARN chooses one
    listed = account.warden("status")
    assert listed.returncode == 0, listed.stderr
    platforms = [cells(line)[:2] for line in listed.stdout.splitlines() if line.startswith("consultation-app ")]
    assert platforms == [["consultation-app", "App Runner"], ["consultation-app", "ECS"]]
    assert f"Same name    consultation-app: choose one by ARN: {account.service_arn}, {ecs_arn}" in listed.stdout
    assert "(x2: by ARN)" in one_line_error(account.warden("history"))
    chosen = account.warden("status", "--service", ecs_arn)
    assert chosen.returncode == 0, chosen.stderr
    assert f"service/{CLUSTER}/consultation-app" in chosen.stdout


def test_with_no_service_guarded_a_command_says_how_to_guard_one(account: LocalAccount) -> None:
    line = one_line_error(account.warden("pause", "--reason", "x", SERVICE_ARN=""))
    assert "no service is guarded yet" in line
    assert "warden:guard=true" in line


# --- the fleet the reconcile stored ----------------------------------------------------------------------------


def test_a_service_tagged_in_app_runner_is_listed_after_the_reconcile(account: LocalAccount) -> None:
    # Given a second App Runner service tagged warden:guard=true with its own budget
    tagged = account.emulator.seed_service("web-tagged", IMAGE, tags={**TAGGED, BUDGET_TAG: "tagged-monthly"})
    # When the reconcile runs, as its schedule runs it
    invoke("run_schedule", {"job": "reconcile"}, account.env())
    # Then the operator sees both, and can act on the tagged one by name
    result = account.warden("status")
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "consultation-app")[:3] == ["consultation-app", "App Runner", "RUNNING"]
    assert row(result.stdout, "web-tagged")[:5] == ["web-tagged", "App Runner", "RUNNING", "-", "tagged-monthly"]
    paused = account.warden("pause", "--service", "web-tagged", "--reason", "maintenance")
    assert paused.returncode == 0, paused.stderr
    assert status_of(account, tagged) == "PAUSED"
    assert account.service_status() == "RUNNING"
