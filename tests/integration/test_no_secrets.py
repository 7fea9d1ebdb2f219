"""No secret and no full access key id in anything Warden prints, logs, returns or sends.

Canary values are planted where a secret could reach Warden by mistake:
- in the functions' environment: the app's secrets that a misconfigured operator passes to the stack
  (CLERK_SECRET_KEY, OPENAI_API_KEY) and the AWS credentials themselves (a full AKIA key id, the secret key and
  the session token that Lambda puts there);
- in events: a budget alert and an unparseable message on the budget topic (forwarded "verbatim"), an alarm
  whose description holds API keys, an unparseable alarm, an image pushed with a secret-looking tag, a
  credential-report row whose user name holds a full key id (and real moto keys to deactivate), a setting whose
  invalid value is a secret;
and every function runs against moto and the App Runner emulator, each on every event fixture of its own too.
All of stdout, stderr and logging (what CloudWatch Logs would get: Warden's JSON lines exactly as its log
handler writes them, every other logger's records), the exception a handler raises (Lambda logs it), every
notification and the state table (`warden history` prints it) are searched for the canaries: access key ids
may appear only as `…WXYZ`. A handler's return value is left out: Lambda logs none for these asynchronous
invocations, and a synchronous caller has the IAM rights to read what it holds (IAM user names) anyway.
"""

from __future__ import annotations

import io
import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.logging.filters import SuppressFilter

from local.account import LocalAccount
from local.alarm_events import alarm_event
from local.demo_keys import add_user, clear_users, iam_backend
from local.events import EVENTS_DIR, budget_message, load_event, sns_event
from local.invoke import invoke
from warden.errors import SettingsError
from warden.observability import logger as powertools_logger

warden_logger = logging.getLogger(powertools_logger.name)

pytestmark = pytest.mark.integration

FULL_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{12,124}\b")


def _token(size: int = 24) -> str:
    return uuid.uuid4().hex.upper()[:size]


@dataclass(frozen=True)
class Canaries:
    clerk: str = field(default_factory=lambda: f"sk_live_CANARY{_token()}")
    openai: str = field(default_factory=lambda: f"sk-proj-CANARY{_token()}")
    access_key_id: str = field(default_factory=lambda: f"AKIA{_token(16)}")
    secret_access_key: str = field(default_factory=lambda: f"CANARYsecretAccessKey{_token(19)}")
    session_token: str = field(default_factory=lambda: f"CANARYsessionToken{_token(32)}")
    password: str = field(default_factory=lambda: f"CANARYpw{_token(12)}")
    report_key_id: str = field(default_factory=lambda: f"AKIA{_token(16)}")

    def env(self) -> dict[str, str]:
        return {
            "CLERK_SECRET_KEY": self.clerk,
            "OPENAI_API_KEY": self.openai,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            "DATABASE_PASSWORD": self.password,
        }

    def values(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items()}

    def pasted(self) -> str:
        """What someone pastes by mistake into an alert, an alarm description or a message."""
        return (
            f"CLERK_SECRET_KEY={self.clerk} OPENAI_API_KEY={self.openai} "
            f'"password": "{self.password}" aws_access_key_id={self.access_key_id} '
            f"aws_secret_access_key={self.secret_access_key}"
        )


@dataclass
class Run:
    """Everything one function printed, logged, returned or sent."""

    texts: list[str] = field(default_factory=list)

    def add(self, what: str, text: object) -> None:
        self.texts.append(f"--- {what}\n{text}")


class Capture(logging.Handler):
    """Every record of the other loggers, formatted with its arguments; and what Warden's own log handler
    (Powertools', with its redacting formatter) writes, exactly."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.warden = io.StringIO()
        # As on Lambda's own root handler: Powertools filters its logger's records out there (they are written
        # once, by its own handler, captured in `warden`).
        self.addFilter(SuppressFilter(powertools_logger.name))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.__dict__}")

    def text(self) -> str:
        return self.warden.getvalue() + "\n".join(self.lines)


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


@pytest.fixture
def logs() -> Iterator[Capture]:
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    # INFO, as Lambda's log-level control would set it: botocore's DEBUG lines (request headers, bodies) are
    # the SDK's, never on in a deployed stack; Warden's own logger runs at DEBUG (POWERTOOLS_LOG_LEVEL).
    root.setLevel(logging.INFO)
    # Powertools' logger does not propagate to the root logger: its own stream handler writes to the capture.
    handlers = [handler for handler in warden_logger.handlers if isinstance(handler, logging.StreamHandler)]
    assert handlers, "Warden's logger has no stream handler to capture"
    streams = [handler.setStream(capture.warden) for handler in handlers]
    warden_level = warden_logger.level
    warden_logger.setLevel(logging.DEBUG)  # LogLevel=DEBUG: the chattiest a stack can be
    try:
        yield capture
    finally:
        warden_logger.setLevel(warden_level)
        root.removeHandler(capture)
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
        root.setLevel(level)


def run(function: str, event: Any, env: dict[str, str], captured: Run) -> None:
    """Invokes the handler; the exception it raises, if any (Lambda logs it), goes into `captured`."""
    try:
        invoke(function, event, env)
    except Exception as error:
        captured.add(f"{function} exception", "".join(traceback.format_exception(error)))


def fixtures(function: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((EVENTS_DIR / function).glob("*.json"))]


# --- the planted events, per function ------------------------------------------------------------


def budget_events(account: LocalAccount, canaries: Canaries) -> list[Any]:
    alert = budget_message(name=account.budget_name, threshold="$8.00", amount="$8.13") + "\n" + canaries.pasted()
    return [
        sns_event(alert, subject=f"AWS Budgets: {canaries.clerk}"),
        sns_event(f"Not a budget alert at all.\n{canaries.pasted()}\n", subject=f"token: {canaries.openai}"),
    ]


def alarm_events(account: LocalAccount, canaries: Canaries) -> list[Any]:
    event = alarm_event("sns-cpu-alarm", service_arn=account.service_arn, changed_at=datetime.now(UTC))
    record = event["Records"][0]["Sns"]
    message = json.loads(record["Message"])
    message["AlarmDescription"] = f"Call the on-call engineer. {canaries.pasted()}"
    record["Message"] = json.dumps(message)
    record["MessageId"] = str(uuid.uuid4())
    garbage = sns_event(f"<html>{canaries.pasted()}</html>", subject=f"ALARM {canaries.clerk}")
    return [event, garbage]


def purge_events(account: LocalAccount, canaries: Canaries) -> list[Any]:
    push = load_event("purge_images", "ecr-push")
    push["detail"]["image-tag"] = canaries.clerk
    return [{"job": "purge-images"}, push]


def audit_events(account: LocalAccount, canaries: Canaries) -> list[Any]:
    # A user name holding a full key id (IAM allows it), and overdue keys that the audit deactivates.
    add_user(account, f"ci-{canaries.report_key_id}", [(400, 2)])
    add_user(account, "deploy-bot", [(400, 3), (5, 1)])
    return [{"job": "audit-keys"}]


PLANTED: dict[str, Callable[[LocalAccount, Canaries], list[Any]]] = {
    "on_budget_alert": budget_events,
    "on_alarm": alarm_events,
    "purge_images": purge_events,
    "audit_access_keys": audit_events,
}
EXTRA_ENV = {"audit_access_keys": {"KEY_DEACTIVATE_AFTER_DAYS": "180"}}


def functions() -> list[str]:
    return sorted(path.parent.name for path in (EVENTS_DIR.parent / "functions").glob("*/app.py"))


def moto_secrets() -> list[str]:
    return [key.secret_access_key for user in iam_backend().users.values() for key in user.access_keys]


def state_items(account: LocalAccount) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = account.client("dynamodb").scan(TableName=account.table_name)["Items"]
    return items


def leaks(texts: list[str], canaries: Canaries) -> list[str]:
    """Each canary (or moto secret key, or full key id) found, with the text around it."""
    found: list[str] = []
    text = "\n".join(texts)
    for name, value in [*canaries.values().items(), *(("moto secret", secret) for secret in moto_secrets())]:
        at = text.find(value)
        if at >= 0:
            found.append(f"{name}: ...{text[max(0, at - 160) : at + len(value) + 40]}...")
    found += [f"full key id {match.group(0)}" for match in FULL_KEY_ID.finditer(text)]
    return found


@pytest.fixture
def clean_iam() -> Iterator[None]:
    clear_users()
    yield
    clear_users()


@pytest.mark.parametrize("function", functions())
def test_no_canary_and_no_full_key_id_reaches_logs_results_notifications_or_state(
    function: str,
    account: LocalAccount,
    canaries: Canaries,
    logs: Capture,
    capfd: pytest.CaptureFixture[str],
    clean_iam: None,
) -> None:
    # Given a function whose environment holds secrets and AWS credentials, and events that carry more
    env = {**account.env(), **canaries.env(), **EXTRA_ENV.get(function, {})}
    account.client("iam").generate_credential_report()
    events = [*PLANTED.get(function, lambda *_: [])(account, canaries), *fixtures(function)]
    captured = Run()

    # When it handles each of them
    for event in events:
        run(function, event, env, captured)

    # Then nothing it printed, logged, returned or sent, and nothing it stored, holds a canary
    out, err = capfd.readouterr()
    captured.add("stdout", out)
    captured.add("stderr", err)
    captured.add("logging", logs.text())
    for received in account.inbox():
        captured.add("notification", f"{received.subject}\n{received.body}\n{received.attributes}")
    captured.add("state table", json.dumps(state_items(account)))
    assert events
    assert '"level":"INFO"' in logs.warden.getvalue(), "the test must see the function's own log lines"
    assert leaks(captured.texts, canaries) == []


def test_the_canary_search_does_find_a_planted_canary(canaries: Canaries) -> None:
    # Given texts that do leak / When they are searched / Then each leak is found
    found = leaks([f"x {canaries.clerk} y", f"key {canaries.report_key_id}", "…WXYZ is fine"], canaries)
    assert [entry.split(":")[0] for entry in found] == [
        "clerk",
        "report_key_id",
        f"full key id {canaries.report_key_id}",
    ]


def test_an_invalid_setting_that_holds_a_secret_is_masked_in_the_error_lambda_logs(
    account: LocalAccount, canaries: Canaries
) -> None:
    # Given an operator who pasted a secret where a setting goes (ALARM_ACTIONS, BUDGET_NAME)
    env = {**account.env(), "ALARM_ACTIONS": f"warden-cpu={canaries.clerk}", "BUDGET_NAME": f"a:{canaries.openai}"}

    # When a function starts with those settings / Then it fails naming the variables, without the secrets
    with pytest.raises(SettingsError) as raised:
        invoke("on_alarm", alarm_events(account, canaries)[0], env)
    message = "".join(traceback.format_exception(raised.value))
    assert "ALARM_ACTIONS" in message
    assert "BUDGET_NAME" in message
    assert canaries.clerk not in message
    assert canaries.openai not in message
