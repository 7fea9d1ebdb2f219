"""What a resume deploys (issue 13 §6): with auto-deploy off, only what a person released or rolled back to.

App Runner resumes the version deployed before the pause (AWS-FACTS §4.4). With auto-deploy on, a push made
while paused would have deployed itself, so the reconcile deploys it after the resume; with auto-deploy off a
push deploys nothing, and the reconcile must not either: an unreleased build would go live.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes import FakeBudgets, FakeImages, FakeNotifier, FakeService, FakeState
from warden.domain.pipeline import OBSERVED_SOURCE, RELEASE_SOURCE
from warden.settings import Settings
from warden.usecases.converge import KEPT_SOURCE, PAUSED_IMAGE, PENDING_DEPLOY, RESUME_SOURCE
from warden.usecases.schedule import Job, ScheduleDeps, run_job

ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/consultation-app:latest"
FRIDAY_1800 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RECONCILE = MONDAY_0800 + timedelta(minutes=15)
V1, V2, V3 = ("sha256:" + digit * 64 for digit in "123")
ENV = {
    "SERVICE_ARN": ARN,
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "consultation-app-monthly",
    "ECR_REPOSITORY": "consultation-app",
    "WORKING_HOURS_ENABLED": "true",
    "SCHEDULE_TIMEZONE": "UTC",
}


class World:
    """A service following latest = V1, whose deployment of V1 on_deployment saw, with auto-deploy as given."""

    def __init__(self, *, auto_deploy: bool, **env: str) -> None:
        self.service = FakeService(arn=ARN, image=IMAGE, auto_deploy=auto_deploy)
        self.state = FakeState()
        self.state.record_deployment(ARN, V1, "v1.1.0", FRIDAY_1800 - timedelta(days=3), OBSERVED_SOURCE)
        self.notifier = FakeNotifier()
        self.images = FakeImages(digest=V1)
        self.settings = Settings.from_env({**ENV, **env})
        self.deps = ScheduleDeps(self.service, self.state, self.notifier, FakeBudgets(None), self.images)

    def run(self, job: Job, now: datetime) -> str:
        return run_job(job, self.deps, self.settings, now).outcome

    def paused_over_the_weekend(self) -> None:
        assert self.run(Job.WORKDAY_END, FRIDAY_1800) == "pause"

    def push(self, digest: str) -> None:
        """CI pushes `digest` as latest."""
        self.images.digest = digest

    def released_while_paused(self, digest: str) -> None:
        """`warden release` (or rollback) of `digest` while paused: the tag moves, the history records it, and
        the deployment is remembered for after the resume, as usecases/pipeline.deliver does."""
        self.images.digest = digest
        self.state.record_deployment(ARN, digest, "v1.2.0", FRIDAY_1800 + timedelta(days=1), RELEASE_SOURCE)
        memo = {"image": IMAGE, "from": V1, "to": digest, "since": (FRIDAY_1800 + timedelta(days=1)).isoformat()}
        self.state.put_memo(ARN, PENDING_DEPLOY, memo)

    def newest_deployment(self) -> tuple[str, str]:
        newest = self.state.list_deployments(ARN, limit=1)[0]
        return newest.digest, newest.source


def test_with_auto_deploy_off_a_push_while_paused_is_not_deployed_after_the_resume() -> None:
    # Given auto-deploy off and a service paused over the weekend
    world = World(auto_deploy=False)
    world.paused_over_the_weekend()
    # When CI pushes V2 as latest, and Monday's working hours resume the service
    world.push(V2)
    assert world.run(Job.WORKDAY_START, MONDAY_0800) == "resume"
    # Then no deployment is pending, and the resume notification says why and what a person can do
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is None
    body = world.notifier.sent[-1].body
    assert "automatic deployments are off" in body
    assert "warden release VERSION" in body
    skipped = [record for _, record in world.state.actions if record.action == "deploy"]
    assert [(record.outcome, V2[:19] in record.reason) for record in skipped] == [("skipped", True)]
    # When the reconcile runs, Then it deploys nothing: the service keeps the version from before the pause
    assert world.run(Job.RECONCILE, RECONCILE) == "converged"
    assert world.service.mutations == ["pause", "resume"]


def test_with_auto_deploy_on_a_push_while_paused_is_deployed_after_the_resume() -> None:
    world = World(auto_deploy=True)
    world.paused_over_the_weekend()
    world.push(V2)
    world.run(Job.WORKDAY_START, MONDAY_0800)
    assert world.state.get_memo(ARN, PENDING_DEPLOY)["to"] == V2  # type: ignore[index]
    assert world.run(Job.RECONCILE, RECONCILE) == "deployed"
    assert world.service.mutations == ["pause", "resume", "start_deployment"]


def test_with_auto_deploy_off_a_release_made_while_paused_is_deployed_after_the_resume() -> None:
    # Given auto-deploy off, a paused service, and V2 released while paused
    world = World(auto_deploy=False)
    world.paused_over_the_weekend()
    world.released_while_paused(V2)
    # When the service resumes and the reconcile runs
    world.run(Job.WORKDAY_START, MONDAY_0800)
    # Then the person's release is deployed, once
    assert world.run(Job.RECONCILE, RECONCILE) == "deployed"
    assert world.service.mutations == ["pause", "resume", "start_deployment"]
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is None


def test_with_auto_deploy_off_a_release_is_not_deployed_once_a_push_moved_the_tag_past_it() -> None:
    # Given auto-deploy off, V2 released while paused, then CI pushing V3 as latest before the resume
    world = World(auto_deploy=False)
    world.paused_over_the_weekend()
    world.released_while_paused(V2)
    world.push(V3)
    world.run(Job.WORKDAY_START, MONDAY_0800)
    # When the reconcile runs
    outcome = world.run(Job.RECONCILE, RECONCILE)
    # Then it starts no deployment (StartDeployment would deploy V3, which nobody released) and says so
    assert outcome == "not_deployed"
    assert "start_deployment" not in world.service.mutations
    sent = world.notifier.sent[-1]
    assert sent.event == "service.deploy_skipped"
    assert V3[:19] in sent.body
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is None
    # and the history says the service runs V1 again, the version it resumed to (the release never deployed)
    assert world.newest_deployment() == (V1, KEPT_SOURCE)


def test_a_resumes_pending_deployment_is_not_started_once_auto_deploy_is_switched_off() -> None:
    # Given auto-deploy on at the resume after a push while paused: a deployment of V2 is pending
    world = World(auto_deploy=True)
    world.paused_over_the_weekend()
    world.push(V2)
    world.run(Job.WORKDAY_START, MONDAY_0800)
    # When auto-deploy is switched off before the reconcile runs
    world.service.auto_deploy = False
    # Then the reconcile does not deploy the push
    assert world.run(Job.RECONCILE, RECONCILE) == "not_deployed"
    assert "start_deployment" not in world.service.mutations


def test_the_paused_image_memo_names_what_the_service_runs_not_what_its_tag_points_at() -> None:
    # Given auto-deploy off, a service running V1, and V2 pushed as latest before the pause (never deployed)
    world = World(auto_deploy=False)
    world.push(V2)
    # When the service pauses
    world.paused_over_the_weekend()
    # Then the memo names V1, which App Runner resumes to, and the tag's V2 apart
    assert world.state.get_memo(ARN, PAUSED_IMAGE) == {"image": IMAGE, "digest": V1, "tag_digest": V2}


def test_a_dry_run_says_it_would_not_deploy_and_leaves_the_pending_deployment() -> None:
    world = World(auto_deploy=False, DRY_RUN="true")
    world.state.put_memo(
        ARN, PENDING_DEPLOY, {"image": IMAGE, "from": V1, "to": V2, "since": "", "source": RESUME_SOURCE}
    )
    assert world.run(Job.RECONCILE, RECONCILE) == "not_deployed"
    assert "[dry run] Would not deploy" in world.notifier.sent[-1].body
    assert world.state.get_memo(ARN, PENDING_DEPLOY) is not None
    assert world.service.mutations == []


def test_a_deferred_release_overtaken_by_a_push_is_not_deployed_and_the_history_keeps_what_runs() -> None:
    # Given auto-deploy off, a running service, V2 released while App Runner was busy (deferred: pending), and
    # CI pushing V3 as latest before the reconcile
    world = World(auto_deploy=False)
    world.released_while_paused(V2)  # the same memo and record as a deferred release
    world.push(V3)
    # When the reconcile runs
    assert world.run(Job.RECONCILE, RECONCILE) == "not_deployed"
    # Then nothing is deployed, and the history's newest record is V1, which still runs, not the release
    assert world.service.mutations == []
    assert world.newest_deployment() == (V1, KEPT_SOURCE)
