"""The ECS service controller against moto's ECS and Application Auto Scaling; Express Mode through Stubber."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from local.account import LocalAccount
from local.ecs import CLUSTER, deploying, seed_ecs_service
from warden.adapters.autoscaling import EcsScaling
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecs import PAUSE_MEMO, EcsServices, ecs_status, split_arn
from warden.domain.service import ServiceStatus
from warden.errors import AwsUnavailable, InvalidServiceState, ServiceNotFound

pytestmark = pytest.mark.integration


class Moto:
    def __init__(self, account: LocalAccount, arn: str) -> None:
        self.account = account
        self.arn = arn
        self.state = StateTable(account.table_name, account.client("dynamodb"))
        probe = boto3.client(
            "ecs",
            endpoint_url=account.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # moto's fake credentials
            config=boto3.session.Config(retries={"total_max_attempts": 1}),
        )
        self.controller = EcsServices(
            self.state,
            ecs=account.client("ecs"),
            scaling=EcsScaling(account.client("application-autoscaling")),
            express_probe=probe,
        )

    def desired(self) -> int:
        _, name = split_arn(self.arn)
        service = self.account.client("ecs").describe_services(cluster=CLUSTER, services=[name])["services"][0]
        return int(service["desiredCount"])

    def target(self) -> dict[str, Any]:
        targets = self.account.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
        (target,) = [t for t in targets["ScalableTargets"] if t["ResourceId"].endswith(split_arn(self.arn)[1])]
        return {
            "min": target["MinCapacity"],
            "max": target["MaxCapacity"],
            "suspended": target.get("SuspendedState", {}),
        }


@pytest.fixture
def ecs(account: LocalAccount) -> Moto:
    return Moto(account, seed_ecs_service(account, desired=3, scaling=(2, 6)))


def test_pause_remembers_and_resume_restores_the_exact_count_and_scaling_bounds(ecs: Moto) -> None:
    # Given a RUNNING service with 3 tasks and an auto-scaling target of 2..6
    assert ecs.controller.describe(ecs.arn).status is ServiceStatus.RUNNING
    before = ecs.target()
    # When Warden pauses it
    ecs.controller.pause(ecs.arn)
    # Then the target is pinned to 0/0 with scaling suspended, the count is 0, and the state table remembers
    assert ecs.desired() == 0
    assert ecs.target()["min"] == ecs.target()["max"] == 0
    assert all(ecs.target()["suspended"].values())
    assert ecs.controller.describe(ecs.arn).status is ServiceStatus.PAUSED
    memo = ecs.state.get_memo(ecs.arn, PAUSE_MEMO)
    assert memo is not None
    assert memo["desired_count"] == "3"
    # When Warden resumes it
    ecs.controller.resume(ecs.arn)
    # Then exactly what was there before is back, and nothing is remembered any more
    assert ecs.desired() == 3
    assert ecs.target() == {**before, "suspended": {k: False for k in ecs.target()["suspended"]}}
    assert ecs.controller.describe(ecs.arn).status is ServiceStatus.RUNNING
    assert ecs.state.get_memo(ecs.arn, PAUSE_MEMO) is None


def test_pausing_twice_and_resuming_a_running_service_change_nothing(ecs: Moto) -> None:
    with pytest.raises(InvalidServiceState):
        ecs.controller.resume(ecs.arn)
    ecs.controller.pause(ecs.arn)
    with pytest.raises(InvalidServiceState):
        ecs.controller.pause(ecs.arn)
    # The remembered count is the original one, not the paused zero
    assert ecs.state.get_memo(ecs.arn, PAUSE_MEMO)["desired_count"] == "3"  # type: ignore[index]


class FailingUpdate:
    """The ECS client, with UpdateService failing the first time (every retry botocore made, used up)."""

    def __init__(self, real: Any) -> None:
        self.real, self.failed = real, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def update_service(self, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise EndpointConnectionError(endpoint_url="https://ecs.us-east-1.amazonaws.com")
        return self.real.update_service(**kwargs)


def test_a_pause_retried_after_it_pinned_the_target_still_restores_the_target_from_before(ecs: Moto) -> None:
    # Given a pause that pinned the scaling target to 0/0 and then failed at UpdateService (Lambda retries it)
    before = ecs.target()
    controller = EcsServices(
        ecs.state,
        ecs=FailingUpdate(ecs.account.client("ecs")),  # type: ignore[arg-type]
        scaling=EcsScaling(ecs.account.client("application-autoscaling")),
        express_probe=ecs.controller._probe,
    )
    with pytest.raises(AwsUnavailable):
        controller.pause(ecs.arn)
    assert ecs.target()["max"] == 0
    assert ecs.desired() == 3
    # When the retry pauses again, and later the service is resumed
    controller.pause(ecs.arn)
    controller.resume(ecs.arn)
    # Then the target from before the first attempt is back, not the pinned 0/0 the retry found
    assert ecs.desired() == 3
    assert (ecs.target()["min"], ecs.target()["max"]) == (before["min"], before["max"]) == (2, 6)


def test_a_deployment_in_progress_does_not_stop_a_pause_or_a_resume(ecs: Moto) -> None:
    # Given a service of 3 tasks whose deployment is rolling out (stuck IN_PROGRESS, say, crash-looping)
    with deploying():
        # Then it reads as busy, and as RUNNING by its desired count, which ECS lets Warden change mid-rollout
        snapshot = ecs.controller.describe(ecs.arn)
        assert snapshot.status is ServiceStatus.OPERATION_IN_PROGRESS
        assert snapshot.changeable_as is ServiceStatus.RUNNING
        assert snapshot.platform == "ECS"
        # When Warden pauses it mid-rollout
        ecs.controller.pause(ecs.arn)
        # Then the count is 0 and the scaling target pinned, as for a settled service
        assert ecs.desired() == 0
        assert (ecs.target()["min"], ecs.target()["max"]) == (0, 0)
        assert ecs.controller.describe(ecs.arn).changeable_as is ServiceStatus.PAUSED
        # And a second pause is refused, in ECS's terms
        with pytest.raises(InvalidServiceState, match="ECS service"):
            ecs.controller.pause(ecs.arn)
        # When Warden resumes it, still mid-rollout, Then the count and the scaling bounds are back
        ecs.controller.resume(ecs.arn)
        assert ecs.desired() == 3
        assert (ecs.target()["min"], ecs.target()["max"]) == (2, 6)
    assert ecs.controller.describe(ecs.arn).status is ServiceStatus.RUNNING


def test_a_service_without_auto_scaling_pauses_and_resumes_by_desired_count(account: LocalAccount) -> None:
    ecs = Moto(account, seed_ecs_service(account, "plain-app", desired=2, scaling=None))
    ecs.controller.pause(ecs.arn)
    assert ecs.desired() == 0
    ecs.controller.resume(ecs.arn)
    assert ecs.desired() == 2


def test_the_describe_reports_the_task_definitions_image(ecs: Moto) -> None:
    snapshot = ecs.controller.describe(ecs.arn)
    assert snapshot.image_identifier is not None
    assert snapshot.image_identifier.endswith("consultation-app:latest")


def test_an_unknown_service_is_not_found(ecs: Moto) -> None:
    missing = ecs.arn.rsplit("/", 1)[0] + "/ghost"
    with pytest.raises(ServiceNotFound):
        ecs.controller.describe(missing)


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (
            {"status": "ACTIVE", "desiredCount": 2, "deployments": [{"rolloutState": "COMPLETED"}]},
            ServiceStatus.RUNNING,
        ),
        ({"status": "ACTIVE", "desiredCount": 0, "deployments": [{"rolloutState": "COMPLETED"}]}, ServiceStatus.PAUSED),
        (
            {"status": "ACTIVE", "desiredCount": 2, "deployments": [{"rolloutState": "IN_PROGRESS"}]},
            ServiceStatus.OPERATION_IN_PROGRESS,
        ),
        ({"status": "DRAINING", "desiredCount": 0, "deployments": []}, ServiceStatus.DELETED),
        (
            {"status": "DRAINING", "desiredCount": 2, "deployments": [{"rolloutState": "IN_PROGRESS"}]},
            ServiceStatus.DELETED,
        ),
        ({"status": "INACTIVE", "desiredCount": 0}, ServiceStatus.DELETED),
    ],
)
def test_ecs_states_map_to_the_same_statuses_as_app_runner(service: dict[str, Any], expected: ServiceStatus) -> None:
    assert ecs_status(service) is expected


# -- Express Mode: moto has no Express API, so its calls are stubbed; the ECS fallback is real ------------
EXPRESS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"


class FakeMemos(dict[tuple[str, str], dict[str, str]]):
    def put_memo(self, service_arn: str, name: str, values: dict[str, str]) -> None:
        self[(service_arn, name)] = dict(values)

    def get_memo(self, service_arn: str, name: str) -> dict[str, str] | None:
        return self.get((service_arn, name))

    def delete_memo(self, service_arn: str, name: str) -> None:
        self.pop((service_arn, name), None)


def _express_description() -> dict[str, Any]:
    return {
        "service": {
            "serviceArn": EXPRESS_ARN,
            "cluster": "prod",
            "serviceName": "consultation-app",
            "activeConfigurations": [{"scalingTarget": {"minTaskCount": 1, "maxTaskCount": 3}}],
        }
    }


def test_an_express_service_pauses_through_the_express_api_when_it_accepts_zero(account: LocalAccount) -> None:
    # Given an Express service (the probe answers) whose API accepts a 0/0 scaling target
    seed_ecs_service(account, desired=1, scaling=None)
    probe = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    ecs_client = account.client("ecs")
    memos = FakeMemos()
    controller = EcsServices(
        memos, ecs=ecs_client, scaling=EcsScaling(account.client("application-autoscaling")), express_probe=probe
    )
    with Stubber(probe) as probe_stub, Stubber(ecs_client) as ecs_stub:
        probe_stub.add_response("describe_express_gateway_service", _express_description(), {"serviceArn": EXPRESS_ARN})
        probe_stub.add_response("describe_express_gateway_service", _express_description(), {"serviceArn": EXPRESS_ARN})
        ecs_stub.add_response(
            "describe_services",
            {"services": [{"serviceArn": EXPRESS_ARN, "status": "ACTIVE", "desiredCount": 1, "deployments": []}]},
        )
        ecs_stub.add_response(
            "update_express_gateway_service",
            {},
            {"serviceArn": EXPRESS_ARN, "scalingTarget": {"minTaskCount": 0, "maxTaskCount": 0}},
        )
        # When Warden pauses it
        controller.pause(EXPRESS_ARN)
        # Then the Express API was asked for 0/0 and the old 1..3 is remembered for the resume
        ecs_stub.assert_no_pending_responses()
    assert memos.get_memo(EXPRESS_ARN, PAUSE_MEMO)["path"] == "express"  # type: ignore[index]
    assert '"maxTaskCount": 3' in memos.get_memo(EXPRESS_ARN, PAUSE_MEMO)["express_scaling"]  # type: ignore[index]


def test_an_express_service_that_refuses_zero_pauses_through_its_ecs_service(account: LocalAccount) -> None:
    # Given an Express service whose API refuses a minimum of 0
    arn = seed_ecs_service(account, desired=2, scaling=(1, 3))
    probe = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    memos = FakeMemos()
    real_ecs = account.client("ecs")
    controller = EcsServices(
        memos, ecs=real_ecs, scaling=EcsScaling(account.client("application-autoscaling")), express_probe=probe
    )
    original = real_ecs.update_express_gateway_service

    def refuse(**kwargs: Any) -> Any:
        raise real_ecs.exceptions.InvalidParameterException(
            {"Error": {"Code": "InvalidParameterException", "Message": "minTaskCount must be at least 1"}},
            "UpdateExpressGatewayService",
        )

    real_ecs.update_express_gateway_service = refuse
    try:
        with Stubber(probe) as probe_stub:
            for _ in range(2):
                probe_stub.add_response("describe_express_gateway_service", _express_description(), {"serviceArn": arn})
            # When Warden pauses it
            controller.pause(arn)
    finally:
        real_ecs.update_express_gateway_service = original
    # Then the underlying ECS service is scaled to zero with its target pinned, and resume restores it
    memo = memos.get_memo(arn, PAUSE_MEMO)
    assert memo is not None
    assert memo["path"] == "ecs"
    service = real_ecs.describe_services(cluster=CLUSTER, services=["consultation-app"])["services"][0]
    assert service["desiredCount"] == 0
    controller.resume(arn)
    service = real_ecs.describe_services(cluster=CLUSTER, services=["consultation-app"])["services"][0]
    assert service["desiredCount"] == 2
