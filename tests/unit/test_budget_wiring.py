"""Budget enforcement is never silently off: the 6-hourly check finds a broken wiring and a person hears of it.

The words of the warning are tests/golden/test_budget_messages.py's (budget.enforcement_off*, budget.nobody_hears);
here, what is found and who hears of it when: the checks, the events, the exact commands that fix it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeBudgetNotices, FakeNotifier, FakeService, FakeState, FakeTopics
from warden.domain.budget import BudgetSnapshot
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Severity
from warden.domain.service import ServiceStatus
from warden.domain.wiring import (
    BudgetNotice,
    BudgetSubscriber,
    Check,
    CheckStatus,
    TopicSubscription,
    WiringUnreadable,
    assess_budget_alerts,
    fires_at_enforce_point,
)
from warden.errors import AwsUnavailable
from warden.messages.budget import WIRED
from warden.models.money import Money
from warden.settings import Settings
from warden.usecases.budget_wiring import MEMO, EnforcementOffUnheard, WiringDeps, check_budget_wiring
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ACCOUNT = "123456789012"
ARN = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/consultation-app/0123456789abcdef0123456789abcdef"
NOTIFY = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-NotifyTopic-1A2B3C"
BUDGET_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-BudgetAlertTopic-9Z8Y7X"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:finance-alerts"
BUDGET = "consultation-app-monthly"
NOW = datetime(2026, 11, 23, 6, 15, tzinfo=UTC)
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": NOTIFY,
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": BUDGET,
    "BUDGET_TOPIC_ARN": BUDGET_TOPIC,
}
EMAIL = TopicSubscription(protocol="email", endpoint="ops@example.com", confirmed=True)
PENDING = TopicSubscription(protocol="email", endpoint="ops@example.com", confirmed=False)


def notice(
    threshold: str = "100",
    *,
    kind: str = "ACTUAL",
    comparison: str = "GREATER_THAN",
    threshold_type: str = "PERCENTAGE",
    to: tuple[str, ...] = (BUDGET_TOPIC,),
) -> BudgetNotice:
    return BudgetNotice(
        notification_type=kind,
        comparison=comparison,
        threshold=Decimal(threshold),
        threshold_type=threshold_type,
        subscribers=tuple(
            BudgetSubscriber(kind="EMAIL" if "@" in address else "SNS", address=address) for address in to
        ),
    )


def snapshot(actual: str = "4.20") -> BudgetSnapshot:
    return BudgetSnapshot(name=BUDGET, limit=Money(amount=Decimal("10.00")), actual=Money(amount=Decimal(actual)))


class BrokenState(FakeState):
    """The state table deleted or throttled for good: every call fails."""

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        raise RuntimeError("ResourceNotFoundException: Requested resource not found")

    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        raise RuntimeError("ResourceNotFoundException: Requested resource not found")

    def get_claim(self, service_arn: str, key: str) -> Claim | None:
        raise RuntimeError("ResourceNotFoundException: Requested resource not found")


class World:
    def __init__(
        self,
        notices: list[BudgetNotice] | None = None,
        subscriptions: list[TopicSubscription] | None = None,
        *,
        state: FakeState | None = None,
        **env: str,
    ) -> None:
        self.budgets = FakeBudgetNotices(snapshot(), notices=[notice()] if notices is None else notices)
        self.topics = FakeTopics({NOTIFY: [EMAIL] if subscriptions is None else subscriptions})
        self.notifier = FakeNotifier()
        self.state = state or FakeState()
        self.service = FakeService(arn=ARN)
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = ScheduleDeps(
            self.service,
            self.state,
            self.notifier,
            self.budgets,
            wiring=WiringDeps(budgets=self.budgets, topics=self.topics),
        )

    def check(self, now: datetime = NOW) -> str | None:
        return run_job(Job.BUDGET_PERIOD_CHECK, self.deps, self.settings, now).wiring

    @property
    def critical(self) -> list[str]:
        return [sent.subject for sent in self.notifier.sent if sent.severity is Severity.CRITICAL]


def checks(world: World) -> list[Check]:
    return check_budget_wiring(WiringDeps(budgets=world.budgets, topics=world.topics), world.settings)


# -- the decision: an ACTUAL alert AT the enforce threshold, to Warden's budget topic ---------------------


def test_the_readme_setup_is_wired() -> None:
    # Given the README's console step: actual > 80 % and actual > 100 %, both to Warden's budget topic
    notices = [notice("80"), notice("100")]
    # When they are assessed / Then enforcement is on
    check = assess_budget_alerts(
        notices,
        account_id=ACCOUNT,
        budget_name=BUDGET,
        limit=Decimal(10),
        enforce_percent=Decimal(100),
        budget_topic_arn=BUDGET_TOPIC,
    )
    assert check.status is CheckStatus.OK


@pytest.mark.parametrize(
    ("notices", "command"),
    [
        ([], "create-notification"),
        ([notice("80")], "create-notification"),
        ([notice("100", kind="FORECASTED")], "create-notification"),
        ([notice("120")], "create-notification"),
        ([notice("100", to=("ops@example.com",))], "create-subscriber"),
        ([notice("100", to=(OTHER_TOPIC,))], "update-subscriber"),
    ],
    ids=["none", "only below", "forecast only", "only above", "e-mail only", "another topic"],
)
def test_each_broken_wiring_is_a_problem_with_the_exact_command_that_fixes_it(
    notices: list[BudgetNotice], command: str
) -> None:
    check = assess_budget_alerts(
        notices,
        account_id=ACCOUNT,
        budget_name=BUDGET,
        limit=Decimal(10),
        enforce_percent=Decimal(100),
        budget_topic_arn=BUDGET_TOPIC,
    )
    assert check.status is CheckStatus.PROBLEM
    fix = "\n".join(check.fix)
    assert f"aws budgets {command} --account-id {ACCOUNT} --budget-name {BUDGET}" in fix
    assert f"Address={BUDGET_TOPIC}" in fix
    assert "Threshold=100,ThresholdType=PERCENTAGE" in fix


thresholds = st.decimals(min_value=1, max_value=200, places=0)
notices_strategy = st.lists(
    st.builds(
        notice,
        st.one_of(thresholds, st.just(Decimal(100))).map(str),
        kind=st.sampled_from(["ACTUAL", "FORECASTED"]),
        comparison=st.sampled_from(["GREATER_THAN", "LESS_THAN", "EQUAL_TO"]),
        threshold_type=st.sampled_from(["PERCENTAGE", "ABSOLUTE_VALUE"]),
        to=st.lists(st.sampled_from([BUDGET_TOPIC, OTHER_TOPIC, "ops@example.com"]), max_size=2).map(tuple),
    ),
    max_size=5,
)


@given(notices=notices_strategy, enforce=st.sampled_from([Decimal(80), Decimal(90), Decimal(100)]))
def test_enforcement_is_on_exactly_when_an_actual_alert_at_the_threshold_reaches_wardens_topic(
    notices: list[BudgetNotice], enforce: Decimal
) -> None:
    # Given any set of notifications on a $10.00 budget / When it is assessed
    check = assess_budget_alerts(
        notices,
        account_id=ACCOUNT,
        budget_name=BUDGET,
        limit=Decimal(10),
        enforce_percent=enforce,
        budget_topic_arn=BUDGET_TOPIC,
    )
    # Then it is ok exactly when some ACTUAL "greater than" alert fires where Warden pauses and sends to its topic
    expected = any(fires_at_enforce_point(n, Decimal(10), enforce) and BUDGET_TOPIC in n.sns_topics() for n in notices)
    assert check.ok is expected
    # And a problem always comes with a command naming the budget and Warden's budget topic
    if not check.ok:
        assert any(BUDGET in line and BUDGET_TOPIC in line for line in check.fix)


def test_an_absolute_threshold_at_the_enforce_amount_counts() -> None:
    check = assess_budget_alerts(
        [notice("9.50", threshold_type="ABSOLUTE_VALUE")],
        account_id=ACCOUNT,
        budget_name=BUDGET,
        limit=Decimal(10),
        enforce_percent=Decimal(95),
        budget_topic_arn=BUDGET_TOPIC,
    )
    assert check.ok


# -- the 6-hourly check: one critical notification a day while broken ---------------------------------------


def test_a_budget_without_an_alert_to_wardens_topic_gets_one_critical_notification_a_day_with_the_fix() -> None:
    # Given the console step was skipped: the budget alerts by e-mail only
    world = World(notices=[notice("80", to=("ops@example.com",)), notice("100", to=("ops@example.com",))])
    # When the budget-period check runs
    outcome = world.check()
    # Then one critical notification says budget enforcement is OFF, with the exact command and the real ARN
    (sent,) = world.notifier.sent
    assert (sent.severity, sent.event) == (Severity.CRITICAL, "budget.enforcement_off")
    assert (
        f"aws budgets create-subscriber --account-id {ACCOUNT} --budget-name {BUDGET} --notification "
        "NotificationType=ACTUAL,ComparisonOperator=GREATER_THAN,Threshold=100,ThresholdType=PERCENTAGE "
        f"--subscriber SubscriptionType=SNS,Address={BUDGET_TOPIC}"
    ) in sent.body
    assert outcome is not None
    assert outcome.startswith("reported")
    # When the check runs again 6, 12 and 18 hours later the same day / Then it stays quiet
    for hours in (6, 12, 17):
        assert (world.check(NOW + timedelta(hours=hours)) or "").startswith("already_reported")
    assert len(world.notifier.sent) == 1
    # And the next day it says it again
    world.check(NOW + timedelta(days=1))
    assert len(world.critical) == 2


def test_a_wired_budget_sends_nothing() -> None:
    world = World(notices=[notice("80"), notice("100")])
    assert world.check() == f"ok: {WIRED}"
    assert world.notifier.sent == []
    assert world.state.get_memo(ARN, MEMO) is None


def test_a_missing_budget_is_reported_as_enforcement_off() -> None:
    world = World(BUDGET_NAME="no-such-budget")
    world.check()
    (sent,) = world.notifier.sent
    assert sent.event == "budget.enforcement_off"
    # And the problem it reports is the budget's, with the fix naming the missing budget
    (problem,) = [check for check in checks(world) if check.status is CheckStatus.PROBLEM]
    assert problem.name == "budget"
    assert any("no-such-budget" in line for line in problem.fix)


def test_budgets_being_unavailable_is_no_verdict_and_sends_nothing() -> None:
    world = World()
    world.budgets.notices_error = AwsUnavailable("budgets DescribeNotificationsForBudget failed: ThrottlingException")
    assert (world.check() or "").startswith("unknown")
    assert world.notifier.sent == []


def test_a_refusal_to_show_the_alerts_is_reported_with_the_permission_to_grant() -> None:
    world = World()
    world.budgets.notices_error = WiringUnreadable("Budgets DescribeNotificationsForBudget: AccessDeniedException")
    world.check()
    (sent,) = world.notifier.sent
    assert "budgets:ViewBudget" in sent.body


def test_without_the_state_table_it_still_sends_and_says_so() -> None:
    # Given the state table deleted: the budget claim cannot be read, nor the daily memo
    world = World(notices=[], state=BrokenState())
    # When the check runs / Then the claim's error is raised (Lambda retries, the errors alarm fires) ...
    with pytest.raises(RuntimeError, match="ResourceNotFoundException"):
        world.check()
    # ... and the enforcement-off notification went out first, quoting why the table could not be read
    (sent,) = world.notifier.sent
    assert sent.event == "budget.enforcement_off"
    assert "RuntimeError: ResourceNotFoundException: Requested resource not found" in sent.body


def test_when_nobody_is_subscribed_the_invocation_fails_so_that_the_errors_alarm_tells_the_operator() -> None:
    # Given a broken budget wiring and a notify topic whose only subscription was never confirmed
    world = World(notices=[], subscriptions=[PENDING])
    # When the check runs / Then it publishes (for whoever confirms later) and fails the invocation on purpose
    with pytest.raises(EnforcementOffUnheard, match="1 pending confirmation"):
        world.check()
    assert len(world.notifier.sent) == 1
    # And Lambda's retry of the same invocation is quiet: one error a day, not three every 6 hours
    assert (world.check(NOW + timedelta(minutes=1)) or "").startswith("already_reported")


def test_a_notification_that_cannot_be_published_fails_the_invocation_after_the_claim_work() -> None:
    # Given a budget claim of last month that the new month lifts, and a notify topic that refuses every publish
    world = World(notices=[])
    world.service.status = ServiceStatus.PAUSED
    claim = Claim.new(
        ClaimReason.BUDGET,
        owner="on_budget_alert",
        evidence="spend $10.42",
        now=NOW - timedelta(days=30),
        details={"period_start": "2026-10-01"},
    )
    world.state.add_claim(ARN, claim)
    world.notifier.fail_times = 5
    # When the check runs / Then the claim is lifted and the service resumed, the wiring check still tries to
    # tell (both publishes failed), and the invocation fails with the first error
    with pytest.raises(RuntimeError, match="SNS is down"):
        world.check()
    assert world.state.list_claims(ARN) == []
    assert world.service.mutations == ["resume"]
    assert world.notifier.fail_times == 3


def test_a_notification_that_cannot_be_published_fails_the_invocation() -> None:
    world = World(notices=[])
    world.notifier.fail_times = 1
    with pytest.raises(EnforcementOffUnheard, match="SNS is down"):
        world.check()


def test_only_the_notify_topic_being_unsubscribed_is_said_as_such() -> None:
    world = World(subscriptions=[])
    with pytest.raises(EnforcementOffUnheard):
        world.check()
    (sent,) = world.notifier.sent
    assert sent.event == "notify.unheard"
    assert f"aws sns subscribe --topic-arn {NOTIFY} --protocol email" in sent.body


def test_a_deleted_notify_topic_is_named_with_how_to_recreate_it() -> None:
    world = World()
    world.topics.subscriptions_by_topic = {}
    with pytest.raises(EnforcementOffUnheard, match="does not exist"):
        world.check()
    assert "aws sns create-topic --name warden-NotifyTopic-1A2B3C" in world.notifier.sent[0].body


budget_states = st.fixed_dictionaries(
    {
        "notices": st.lists(
            st.sampled_from(
                [notice("100"), notice("80"), notice("100", to=(OTHER_TOPIC,)), notice("100", kind="FORECASTED")]
            ),
            max_size=3,
        ),
        "subscriptions": st.lists(st.sampled_from([EMAIL, PENDING]), max_size=2),
        "table": st.booleans(),
        "checks": st.lists(st.integers(min_value=0, max_value=47), min_size=1, max_size=6, unique=True),
    }
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=budget_states)
def test_while_the_wiring_is_broken_a_person_hears_of_it_once_a_day_and_never_when_it_is_not(
    case: dict[str, object],
) -> None:
    # Given any budget wiring, a notify topic with any subscriptions, and a state table up or gone
    notices = list(case["notices"])  # type: ignore[call-overload]
    subscriptions = list(case["subscriptions"])  # type: ignore[call-overload]
    world = World(notices=notices, subscriptions=subscriptions, state=None if case["table"] else BrokenState())
    wired = any(
        n.notification_type == "ACTUAL" and n.threshold == 100 and BUDGET_TOPIC in n.sns_topics() for n in notices
    )
    heard = any(s.confirmed for s in subscriptions)
    # When the 6-hourly check runs at any hours of two days
    told_by_error = 0
    for hour in sorted(case["checks"]):  # type: ignore[call-overload]
        try:
            world.check(NOW.replace(hour=0) + timedelta(hours=hour))
        except EnforcementOffUnheard:
            told_by_error += 1
        except RuntimeError:
            pass  # the broken table fails the claim's release: Lambda's errors alarm
    # Then nothing is sent while all is well
    broken = not wired or not heard
    if not broken:
        assert world.notifier.sent == []
        assert told_by_error == 0
        return
    days = {hour // 24 for hour in case["checks"]}  # type: ignore[attr-defined]
    sent = world.critical
    # And while broken, with the table: exactly one critical notification a day with a check
    if case["table"]:
        assert len(sent) == len(days)
    else:
        assert len(sent) == len(case["checks"])  # type: ignore[arg-type]
    # And when nobody would read it, the invocation fails (the errors alarm's path) at least once a day
    if not heard and case["table"]:
        assert told_by_error == len(days)
