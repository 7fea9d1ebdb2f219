"""Runs a Warden Lambda handler in-process, as Lambda would: its own environment and a context object."""

from __future__ import annotations

import contextlib
import importlib.util
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
    from warden.settings import get_settings

    with patched_environ(env):
        get_settings.cache_clear()
        if not reuse_clients:
            client.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
            if not reuse_clients:
                client.cache_clear()


def invoke(function: str, event: Any, env: Mapping[str, str]) -> Any:
    """Invokes the handler with `env` applied, as a fresh Lambda container would read it."""
    with fresh_container(env):
        return load_handler(function).lambda_handler(event, LambdaContextStub(function_name=function))
