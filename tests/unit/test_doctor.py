"""`warden doctor`'s use case with fakes: every check runs, none raises, each problem says what to fix."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import FakeBudgetNotices, FakeService, FakeState, FakeTopics
from tests.unit.test_budget_wiring import BUDGET_TOPIC, EMAIL, ENV, NOTIFY, BrokenState, notice, snapshot
from warden.domain.service import ServiceSnapshot
from warden.domain.wiring import CheckStatus, WiringUnreadable
from warden.errors import ServiceNotFound
from warden.settings import Settings
from warden.usecases.budget_wiring import WiringDeps
from warden.usecases.doctor import DoctorDeps, DoctorReport, run_doctor

NAMES = ["credentials", "region", "service", "budget", "budget alert", "notify topic", "state table"]


@dataclass
class FakeIdentity:
    account: str = "123456789012"
    where: str = "us-east-1"
    refused: bool = False

    def region(self) -> str:
        return self.where

    def whoami(self) -> tuple[str, str]:
        if self.refused:
            raise WiringUnreadable("STS GetCallerIdentity: ExpiredToken", "ExpiredToken")
        return self.account, f"arn:aws:iam::{self.account}:user/alice"


class MissingService(FakeService):
    def describe(self, service_arn: str) -> ServiceSnapshot:
        raise ServiceNotFound(f"App Runner does not know {service_arn}")


def run(
    *,
    identity: FakeIdentity | None = None,
    service: FakeService | None = None,
    state: FakeState | None = None,
    budgets: FakeBudgetNotices | None = None,
    topics: FakeTopics | None = None,
) -> DoctorReport:
    settings = Settings.from_env(ENV)
    deps = DoctorDeps(
        identity=identity or FakeIdentity(),
        service=service or FakeService(arn=settings.service.arn),
        state=state or FakeState(),
        wiring=WiringDeps(
            budgets=budgets or FakeBudgetNotices(snapshot(), notices=[notice("100")]),
            topics=topics or FakeTopics({NOTIFY: [EMAIL]}),
        ),
    )
    return run_doctor(deps, settings)


def test_a_well_wired_stack_is_ok_in_every_check() -> None:
    report = run()
    assert [check.name for check in report.checks] == NAMES
    assert report.ok
    assert BUDGET_TOPIC in report.checks[4].detail


def test_credentials_of_another_account_are_a_problem_with_the_fix() -> None:
    report = run(identity=FakeIdentity(account="210987654321"))
    (problem,) = report.problems
    assert problem.name == "credentials"
    assert "account 210987654321" in problem.detail
    assert problem.fix == ("Use a profile of account 123456789012: export AWS_PROFILE=<profile>.",)


@given(
    refused=st.booleans(),
    other_region=st.booleans(),
    no_service=st.booleans(),
    no_table=st.booleans(),
    no_budget=st.booleans(),
    unwired=st.booleans(),
    unread=st.booleans(),
)
def test_every_check_runs_whatever_fails_and_the_report_is_ok_only_when_nothing_does(
    refused: bool, other_region: bool, no_service: bool, no_table: bool, no_budget: bool, unwired: bool, unread: bool
) -> None:
    # Given any combination of broken parts
    budgets = FakeBudgetNotices(
        None if no_budget else snapshot(), notices=[notice("80")] if unwired else [notice("100")]
    )
    report = run(
        identity=FakeIdentity(where="eu-west-1" if other_region else "us-east-1", refused=refused),
        service=MissingService(arn="x") if no_service else None,
        state=BrokenState() if no_table else None,
        budgets=budgets,
        topics=FakeTopics({NOTIFY: []}) if unread else None,
    )
    # Then the seven checks ran, in order, and exactly the broken ones are problems, each with a fix
    broken = {
        "credentials": refused,
        "region": other_region,
        "service": no_service,
        "budget": no_budget,
        "budget alert": unwired and not no_budget,
        "notify topic": unread,
        "state table": no_table,
    }
    names = [check.name for check in report.checks]
    assert names == [name for name in NAMES if not (no_budget and name == "budget alert")]
    assert {check.name for check in report.problems} == {name for name, bad in broken.items() if bad}
    assert all(check.status is CheckStatus.PROBLEM and check.fix for check in report.problems)
    assert report.ok is not any(broken.values())
