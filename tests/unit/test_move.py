"""`warden move --from`: the service Warden guards now takes over the old one's pause claims and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeBudgets, FakeNotifier, FakeService, FakeState
from warden.domain.claims import Claim, ClaimReason
from warden.domain.service import ServiceStatus
from warden.errors import SettingsError
from warden.settings import Settings
from warden.usecases.move import SameService, move_from
from warden.usecases.operator import OperatorDeps
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
    assert "carried over from App Runner service consultation-app" in claim.evidence
    assert world.service.mutations == ["pause"]
    # And the history moved too, so the purge keeps those images as rollback targets
    assert [record.tag for record in world.state.list_deployments(NEW, 10)] == ["v1.2.0", "v1.1.0"]
    # And one notification says so, with the commands that undo the pause
    (sent,) = world.notifier.sent
    assert sent.subject == "[warden] MOVED consultation-app -> consultation-app (paused: a claim carried over)"
    assert "warden resume --override budget" in sent.body
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
    # Then the new service is not touched and the notification says nothing holds it
    assert world.service.mutations == []
    assert result.claims == ()
    (sent,) = world.notifier.sent
    assert sent.subject == "[warden] MOVED consultation-app -> consultation-app"
    assert "No pause claim" in sent.body


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
    assert "would carry over 1 pause claim and 2 deployment records" in result.summary


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
