"""A local AWS account for the demo and the integration tests: moto's server plus the App Runner emulator.

Both listen on free ports on 127.0.0.1. Warden's code is pointed at them only through the standard
`AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_APPRUNNER` variables, exactly as a user would do by hand.
Resources are created from the same `template.yaml` the stack deploys (the state table's schema).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local import moto_budgets, moto_cloudwatch
from local.apprunner_emulator import AppRunnerEmulator
from local.template import load_template, state_table_create_kwargs

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
SERVICE_NAME = "consultation-app"
REPOSITORY = "consultation-app"
BUDGET_NAME = "consultation-app-monthly"
IMAGE = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:latest"


@dataclass(frozen=True)
class Received:
    """A notification as the operator's inbox received it."""

    subject: str
    body: str
    attributes: dict[str, str]


@dataclass
class LocalAccount:
    moto_url: str
    apprunner_url: str
    emulator: AppRunnerEmulator
    service_arn: str
    notify_topic_arn: str
    budget_topic_arn: str
    table_name: str
    inbox_url: str
    budget_name: str = BUDGET_NAME
    extra_env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A client of the local account's endpoint for `service`, built once per account and service."""
        return _local_client(service, self.apprunner_url if service == "apprunner" else self.moto_url)

    def env(self) -> dict[str, str]:
        """The environment a Warden function sees: endpoints, fake credentials and its settings."""
        return {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_APPRUNNER": self.apprunner_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Warden",
            "POWERTOOLS_SERVICE_NAME": "warden",
            "SERVICE_ARN": self.service_arn,
            "NOTIFY_TOPIC_ARN": self.notify_topic_arn,
            "STATE_TABLE": self.table_name,
            "BUDGET_NAME": self.budget_name,
            "ECR_REPOSITORY": REPOSITORY,
            "DRY_RUN": "false",
            **self.extra_env,
        }

    def warden(self, *args: str, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        """`python -m warden ...` as operator alice runs it against this account: its environment only (no
        inherited AWS variables), the layer on PYTHONPATH, `path` as PATH (e.g. a recording docker first)."""
        from local.template import ROOT

        environment = {
            "PATH": path if path is not None else os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT / "layers" / "warden"),
            "WARDEN_OPERATOR": "alice",
            **self.env(),
            **env,
        }
        return subprocess.run(
            [sys.executable, "-m", "warden", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def set_budget(self, *, limit: str, actual: str, forecast: str | None = None) -> None:
        """Sets what the Budgets API reports (moto has no UpdateBudget: delete and create again)."""
        budgets = self.client("budgets")
        with contextlib.suppress(budgets.exceptions.NotFoundException):
            budgets.delete_budget(AccountId=ACCOUNT_ID, BudgetName=self.budget_name)
        spend: dict[str, Any] = {"ActualSpend": {"Amount": actual, "Unit": "USD"}}
        if forecast is not None:
            spend["ForecastedSpend"] = {"Amount": forecast, "Unit": "USD"}
        budgets.create_budget(
            AccountId=ACCOUNT_ID,
            Budget={
                "BudgetName": self.budget_name,
                "BudgetLimit": {"Amount": limit, "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
                "CalculatedSpend": spend,
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": kind,
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": threshold,
                        "ThresholdType": "PERCENTAGE",
                    },
                    "Subscribers": [{"SubscriptionType": "SNS", "Address": self.budget_topic_arn}],
                }
                for kind, threshold in (("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0))
            ],
        )

    def inbox(self) -> list[Received]:
        """Drains the SQS queue subscribed to the notification topic, oldest first."""
        sqs = self.client("sqs")
        received: list[Received] = []
        while True:
            response = sqs.receive_message(
                QueueUrl=self.inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
            )
            messages = response.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                attributes = {k: v.get("Value", "") for k, v in envelope.get("MessageAttributes", {}).items()}
                received.append(Received(envelope.get("Subject") or "", envelope["Message"], attributes))
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def claims(self) -> list[dict[str, Any]]:
        items = self.client("dynamodb").query(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :claim)",
            ExpressionAttributeValues={
                ":pk": {"S": f"SERVICE#{self.service_arn}"},
                ":claim": {"S": "CLAIM#"},
            },
        )["Items"]
        return [{key: next(iter(value.values())) for key, value in item.items()} for item in items]

    @property
    def guards_ecs(self) -> bool:
        return self.service_arn.split(":")[2] == "ecs"

    def service_status(self) -> str:
        """The service's status in App Runner's words (ECS's desired count and rollout mapped as Warden maps them)."""
        if self.guards_ecs:
            from local.ecs import ecs_state

            return ecs_state(self).status
        return str(self.client("apprunner").describe_service(ServiceArn=self.service_arn)["Service"]["Status"])

    def service_line(self) -> str:
        """One line on the guarded service for the demo's timeline."""
        if self.guards_ecs:
            from local.ecs import ecs_state

            return f"ECS service: {ecs_state(self).describe()}"
        return f"App Runner: {self.service_status()}"

    def pause_calls(self) -> int:
        """How many times the service was actually paused: App Runner's PauseService calls, or the ECS
        UpdateService calls that set the desired count to 0."""
        if self.guards_ecs:
            from local.ecs import update_calls

            return sum(1 for call in update_calls() if call.get("desired_count") == 0)
        return len(self.emulator.calls("PauseService"))


@functools.cache
def _local_client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # moto's fixed fake credentials
    )


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _NotImplementedInMoto(logging.Filter):
    """moto answers an API it lacks with a 500 and werkzeug prints the traceback. Warden's ECS controller asks
    one such API on purpose (the Express Mode probe, which reads any refusal as "not an Express service"), so
    that traceback is expected; every other server error is still printed."""

    def filter(self, record: logging.LogRecord) -> bool:
        # werkzeug formats the traceback into the message itself (no exc_info on the record).
        return "NotImplementedError: The " not in record.getMessage()


@dataclass
class LocalServers:
    moto_url: str
    emulator: AppRunnerEmulator

    @property
    def apprunner_url(self) -> str:
        return self.emulator.url


@contextlib.contextmanager
def local_servers(*, operation_seconds: float = 0.0) -> Iterator[LocalServers]:
    """Starts moto's server and the App Runner emulator on free ports; stops both on the way out."""
    # werkzeug logs every request moto serves to stderr; the demo and the tests do not need that noise.
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.ERROR)
    if not any(isinstance(existing, _NotImplementedInMoto) for existing in werkzeug.filters):
        werkzeug.addFilter(_NotImplementedInMoto())
    moto_budgets.install()  # the Budgets calls of Warden's budget wiring check that moto lacks
    moto_cloudwatch.install()  # GetMetricData's pages, and a record of its requests (the spend guard)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    emulator = AppRunnerEmulator(operation_seconds=operation_seconds, account_id=ACCOUNT_ID, region=REGION)
    try:
        host, port = moto.get_host_and_port()
        emulator.start()
        yield LocalServers(moto_url=f"http://{host}:{port}", emulator=emulator)
    finally:
        emulator.stop()
        moto.stop()


def seed_account(servers: LocalServers, *, actual_spend: str = "8.13") -> LocalAccount:
    """A fresh account on running servers: the service RUNNING, topics, the inbox, table and budget."""
    return _seed(servers.moto_url, servers.apprunner_url, servers.emulator, actual_spend)


@contextlib.contextmanager
def local_account(*, operation_seconds: float = 0.0, actual_spend: str = "8.13") -> Iterator[LocalAccount]:
    with local_servers(operation_seconds=operation_seconds) as servers:
        yield seed_account(servers, actual_spend=actual_spend)


def _seed(moto_url: str, apprunner_url: str, emulator: AppRunnerEmulator, actual_spend: str) -> LocalAccount:
    suffix = uuid.uuid4().hex[:6]
    service_arn = emulator.seed_service(SERVICE_NAME, IMAGE, cpu="0.25 vCPU", memory="0.5 GB")
    probe = LocalAccount(
        moto_url=moto_url,
        apprunner_url=apprunner_url,
        emulator=emulator,
        service_arn=service_arn,
        notify_topic_arn="",
        budget_topic_arn="",
        table_name=f"warden-state-{suffix}",
        inbox_url="",
    )
    sns, sqs, dynamodb = probe.client("sns"), probe.client("sqs"), probe.client("dynamodb")
    probe.notify_topic_arn = sns.create_topic(Name=f"warden-notify-{suffix}")["TopicArn"]
    probe.budget_topic_arn = sns.create_topic(Name=f"warden-budget-alerts-{suffix}")["TopicArn"]
    probe.inbox_url = sqs.create_queue(QueueName=f"operator-inbox-{suffix}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=probe.inbox_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=probe.notify_topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    template = load_template()
    dynamodb.create_table(**state_table_create_kwargs(template, probe.table_name))
    probe.set_budget(limit="10.00", actual=actual_spend, forecast=str(Decimal("12.87")))
    return probe
