"""`warden move --from`: the service Warden guards now takes over the old one's pause claims and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeBudgets, FakeNotifier, FakeService, FakeState
from warden.domain.claims import Claim, ClaimReason
from warden.domain.notification import Severity
from warden.domain.service import ServiceStatus
from warden.errors import SettingsError
from warden.messages.service import carried_evidence
from warden.settings import ServiceRef, Settings
from warden.usecases.claims import ClaimStep
from warden.usecases.move import SameService, move_from
from warden.usecases.operator import OperatorDeps
from warden.usecases.undo import undo_pause_lines
from warden.wiring import target_facts

OLD = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
NEW = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class World:
    def __init__(self, *, dry_run: bool = False) -> None:
        self.service = FakeService(arn=NEW, status=ServiceStatus.RUNNING)
        self.state = FakeState()
        self.notifier = FakeNotifier()
        self.deps = OperatorDeps(self.service, self.state, self.notifier, FakeBudgets(None))
        self.settings = Settings.from_env(
            {
                "SERVICE_ARN": NEW,
                "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
                "STATE_TABLE": "warden-state",
                "BUDGET_NAME": "consultation-app-monthly",
                "DRY_RUN": "true" if dry_run else "false",
            }
        )

    def old_budget_pause(self) -> None:
        evidence = "spend $10.42 of $10.00"
        claim = Claim.new(ClaimReason.BUDGET, owner="on_budget_alert", evidence=evidence, now=NOW - timedelta(days=2))
        self.state.add_claim(OLD, claim)
        for days, tag in ((40, "v1.1.0"), (10, "v1.2.0")):
            self.state.record_deployment(OLD, f"sha256:{tag}", tag, NOW - timedelta(days=days), "warden release")

    def move(self) -> object:
        return move_from(self.deps, self.settings, old_arn=OLD, who="alice", now=NOW, facts_of=target_facts)


def test_a_budget_pause_of_the_old_service_carries_over_and_pauses_the_new_one() -> None:
    # Given the App Runner service was paused by the budget, with two releases in its history
    world = World()
    world.old_budget_pause()
    # When alice moves Warden to the ECS service
    move_from(world.deps, world.settings, old_arn=OLD, who="alice", now=NOW, facts_of=target_facts)
    # Then the ECS service holds the budget claim, with its owner and time, and is paused by it
    (claim,) = world.state.list_claims(NEW)
    assert (claim.key, claim.owner, claim.created_at) == ("budget", "on_budget_alert", NOW - timedelta(days=2))
    # And its evidence is the old one, saying where it came from (the old service's platform, from its facts)
    old_noun = target_facts(ServiceRef.parse(OLD)).service_noun
    assert claim.evidence == carried_evidence("spend $10.42 of $10.00", old_noun, "consultation-app")
    assert world.service.mutations == ["pause"]
    # And the history moved too, so the purge keeps those images as rollback targets
    assert [record.tag for record in world.state.list_deployments(NEW, 10)] == ["v1.2.0", "v1.1.0"]
    # And one notification says so, with the commands that undo the pause (golden operator.move.paused words it)
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("service.moved", Severity.WARNING)
    undo = undo_pause_lines(world.service, world.settings, ClaimReason.BUDGET, "budget", state=world.state)
    assert [line for line in undo if line not in sent.body] == []
    # And the old service's records stay as its history
    assert [claim.key for claim in world.state.list_claims(OLD)] == ["budget"]


def test_moving_twice_changes_nothing_more() -> None:
    # Given a move already done
    world = World()
    world.old_budget_pause()
    world.move()
    # When it runs again
    move_from(
        world.deps, world.settings, old_arn=OLD, who="alice", now=NOW + timedelta(minutes=5), facts_of=target_facts
    )
    # Then no claim, deployment or call is added
    assert len(world.state.list_claims(NEW)) == 1
    assert len(world.state.list_deployments(NEW, 10)) == 2
    assert world.service.mutations == ["pause"]


def test_a_move_with_no_claim_leaves_the_new_service_running() -> None:
    # Given an old service that nothing held paused
    world = World()
    # When Warden moves
    result = move_from(world.deps, world.settings, old_arn=OLD, who="alice", now=NOW, facts_of=target_facts)
    # Then the new service is not touched and the notification says nothing holds it (golden operator.move.running)
    assert world.service.mutations == []
    assert result.claims == ()
    assert world.state.list_claims(NEW) == []
    (sent,) = world.notifier.sent
    assert (sent.event, sent.severity) == ("service.moved", Severity.INFO)


def test_a_dry_run_move_copies_nothing_and_changes_nothing() -> None:
    # Given DRY_RUN and an old budget pause
    world = World(dry_run=True)
    world.old_budget_pause()
    # When Warden moves
    result = move_from(world.deps, world.settings, old_arn=OLD, who="alice", now=NOW, facts_of=target_facts)
    # Then nothing is written to the new service's records and nothing is called, but the plan is told
    assert world.state.list_claims(NEW) == []
    assert world.state.list_deployments(NEW, 10) == []
    assert world.service.mutations == []
    assert (result.dry_run, len(result.claims), result.deployments_copied) == (True, 1, 2)
    assert result.claims[0].step is ClaimStep.WOULD_RECORD


@pytest.mark.parametrize(
    ("old_arn", "error"),
    [(NEW, SameService), ("arn:aws:lambda:us-east-1:123456789012:function:app", SettingsError)],
)
def test_a_move_from_itself_or_from_something_that_is_no_service_is_refused(old_arn: str, error: type) -> None:
    # Given the guarded service
    world = World()
    # When the move names itself or a Lambda function
    with pytest.raises(error) as raised:
        move_from(world.deps, world.settings, old_arn=old_arn, who="alice", now=NOW, facts_of=target_facts)
    # Then it is refused with a sentence, and nothing is written
    assert str(raised.value)
    assert world.state.actions == []
