"""Runs a Warden Lambda handler in-process, as Lambda would: its own environment and a context object."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.account import patched_environ
from local.template import ROOT


@dataclass
class LambdaContextStub:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(function: str) -> ModuleType:
    """Imports functions/<function>/app.py under a unique module name (every function's file is app.py)."""
    name = f"warden_function_{function}"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(name, Path(path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def fresh_container(env: Mapping[str, str], *, reuse_clients: bool = False) -> Iterator[None]:
    """`env` applied, with settings (and unless `reuse_clients`, clients) read anew from it, as in a new
    Lambda container. Reusing clients is a warm container: only right when the endpoints stay the same."""
    from warden.adapters.clients import client
    from warden.settings import forget_settings

    with patched_environ(env):
        forget_settings()
        if not reuse_clients:
            client.cache_clear()
        try:
            yield
        finally:
            forget_settings()
            if not reuse_clients:
                client.cache_clear()


def invoke(function: str, event: Any, env: Mapping[str, str]) -> Any:
    """Invokes the handler with `env` applied, as a fresh Lambda container would read it."""
    with fresh_container(env):
        return load_handler(function).lambda_handler(event, LambdaContextStub(function_name=function))


_APPRUNNER_SERVICE = re.compile(r"arn:aws:apprunner:[a-z0-9-]+:\d{12}:service/[A-Za-z0-9_-]+/([0-9a-f]{32})")
_SERVICE_ID = re.compile(r"ServiceI[dD](?:\W|value)+([0-9a-f]{32})")  # an alarm's dimension, also inside an SNS message


def about_local_service(event: Any, service_arn: str) -> Any:
    """`event` with the sample's App Runner service (its ARN and 32-hex id) replaced by the local account's.

    The samples in events/ name a fixed service id; the emulator makes up a new one for every account, so
    without this an alarm sample would be "another service's" alarm to Warden."""
    if ":apprunner:" not in service_arn:
        return event
    text = json.dumps(event)
    local_id = service_arn.rsplit("/", 1)[-1]
    samples = {match[1] for pattern in (_APPRUNNER_SERVICE, _SERVICE_ID) for match in pattern.finditer(text)}
    for old in samples:
        text = text.replace(old, local_id)
    return json.loads(_APPRUNNER_SERVICE.sub(service_arn, text))


def main(argv: list[str] | None = None) -> int:
    """`make invoke FUNCTION=on_budget_alert EVENT=events/on_budget_alert/budget-actual-100-percent.json`.

    The Docker-free stand-in for `sam local invoke -e`: runs the handler in-process against a fresh local
    account (moto's server and the App Runner emulator, seeded as for the demo) and prints what the
    handler returned and every notification the operator's inbox received.
    """
    import argparse

    from local.account import local_account

    parser = argparse.ArgumentParser(prog="make invoke", description="Run one Warden handler on an event, locally.")
    parser.add_argument("function", help="a folder under functions/, e.g. on_budget_alert")
    parser.add_argument("event", help="an event file, e.g. events/on_budget_alert/budget-actual-100-percent.json")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for the function")
    parser.add_argument("--actual-spend", default="8.13", help="the local Budgets figure (default 8.13 of 10)")
    parser.add_argument("--logs", action="store_true", help="also print the handler's JSON log lines and metrics")
    arguments = parser.parse_args(argv)
    handler = ROOT / "functions" / arguments.function / "app.py"
    if not handler.is_file():
        known = ", ".join(sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py")))
        print(f"make invoke: no function '{arguments.function}' (known: {known})", file=sys.stderr)
        return 2
    event_path = Path(arguments.event)
    try:
        event = json.loads(event_path.read_text())
    except (OSError, ValueError) as error:
        print(f"make invoke: cannot read the event {event_path}: {error}", file=sys.stderr)
        return 2
    quiet = {} if arguments.logs else {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}
    extra = {**quiet, **dict(pair.split("=", 1) for pair in arguments.env if "=" in pair)}
    with local_account(actual_spend=arguments.actual_spend) as account:
        account.extra_env.update(extra)
        print(f"{arguments.function} <- {event_path} (local account: moto {account.moto_url})")
        try:
            result = invoke(arguments.function, about_local_service(event, account.service_arn), account.env())
        except Exception as error:  # the operator sees what Lambda would report, as Lambda would
            print(f"The handler raised {type(error).__name__}: {error}")
            result = None
        else:
            print("Returned:")
            print(json.dumps(result, indent=2, default=str))
        for received in account.inbox():
            print("\n" + "-" * 72)
            print(f"Subject: {received.subject}")
            print(f"event={received.attributes.get('event', '?')} severity={received.attributes.get('severity', '?')}")
            print(received.body.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
