"""A local AWS App Runner emulator for Warden's tests and demo.

moto does not implement App Runner, so this module provides a real HTTP server that speaks the
App Runner wire protocol (botocore model ``apprunner`` 2020-05-15: ``json`` protocol, JSON 1.0,
``X-Amz-Target: AppRunner.<Operation>``). A plain ``boto3.client("apprunner", endpoint_url=url)``
works against it, and so does product code that picks the endpoint up from the standard
``AWS_ENDPOINT_URL_APPRUNNER`` environment variable.

What it models
--------------
* Services: CreateService, DescribeService, ListServices, DeleteService, PauseService,
  ResumeService, StartDeployment, UpdateService (source, instance, health check, auto scaling,
  network and observability configuration), ListOperations, TagResource, UntagResource and
  ListTagsForResource.
* Auto scaling configurations, read only: DescribeAutoScalingConfiguration answers for App Runner's
  ``DefaultConfiguration`` (MinSize 1, MaxSize 25, MaxConcurrency 100) and for configurations seeded with
  :meth:`AppRunnerEmulator.seed_autoscaling_configuration` (a service refers to one by its ARN).
* The service status machine. Every mutating call records an operation (``OperationSummary``)
  and holds the service in ``OPERATION_IN_PROGRESS`` for ``operation_seconds``; the service then
  lands in the operation's target state. Time is evaluated lazily against an injectable clock on
  every request, so there are no background threads and tests never need to sleep. Even with
  ``operation_seconds == 0`` the mutating call's own response shows ``OPERATION_IN_PROGRESS``
  (as the real API does) and the *next* request observes the target state.
* Input validation driven by botocore's model (required members, types, enums, lengths, ranges
  and patterns) answered with ``InvalidRequestException`` in AWS's "N validation error(s)
  detected" style, plus the state rules of the real service (``InvalidStateException``) and
  ``ResourceNotFoundException`` for unknown ARNs.
* Output shaped exactly like the model: every required member present, no unknown members,
  timestamps as epoch seconds.
* Test hooks (:meth:`AppRunnerEmulator.force_status`, :meth:`~AppRunnerEmulator.fail_next`,
  :meth:`~AppRunnerEmulator.inject_error`, :meth:`~AppRunnerEmulator.calls`) and a small HTTP
  control surface for out-of-process users: ``GET /_emulator/health`` (``{"ok": true}``),
  ``POST /_emulator/reset`` and ``GET /_emulator/calls``.
* ``python -m local.apprunner_emulator [--host H] [--port P] [--operation-seconds S]
  [--seed NAME=IMAGE ...]`` serves in the foreground: it prints the URL, then one
  ``NAME=ARN`` line per seeded service, and stops cleanly on SIGINT or SIGTERM.

What it deliberately does not model
-----------------------------------
* Any App Runner resource other than services and the reading of auto scaling configurations
  (observability and VPC resources, connections, custom domains, ...): their ARNs are accepted where a
  service refers to them, but the operations answer ``InvalidRequestException`` ("operation not
  implemented").
* Authentication: SigV4 signatures are neither required nor checked.
* Running containers: ``ServiceUrl`` is a plausible host name that does not resolve.
* Account quotas (``ServiceQuotaExceededException`` is only produced through ``inject_error``),
  IAM checks (e.g. the access role private ECR images need) and valid CPU/memory pairings.

Behaviour choices worth knowing
-------------------------------
* ``StartDeployment`` on a ``PAUSED`` service answers ``InvalidRequestException``: the model does
  not list ``InvalidStateException`` for StartDeployment. In every other non-RUNNING state
  (``OPERATION_IN_PROGRESS``, ``DELETED``, ``CREATE_FAILED``, ``DELETE_FAILED``) it answers
  ``InvalidStateException`` like the other mutations do.
* ``UpdateService`` is allowed on ``RUNNING`` and ``PAUSED`` services and lands back in the state
  it started from; configuration changes are visible at once and restored if the update fails.
* ``ListServices``/``ListOperations`` without ``MaxResults`` return everything in one page (as
  the model documents); with ``MaxResults`` they page with an opaque ``NextToken``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import functools
import json
import re
import secrets
import signal
import socket
import string
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Final, NamedTuple, TypeVar

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StringShape, StructureShape

__all__ = [
    "OPERATION_STATUSES",
    "OPERATION_TYPES",
    "SERVICE_STATUSES",
    "AppRunnerEmulator",
    "main",
]

JsonDict = dict[str, Any]
_T = TypeVar("_T")

# --- Enumerations (mirrors of the model's enums; the tests check them against botocore) ----------

CREATE_FAILED: Final = "CREATE_FAILED"
RUNNING: Final = "RUNNING"
DELETED: Final = "DELETED"
DELETE_FAILED: Final = "DELETE_FAILED"
PAUSED: Final = "PAUSED"
OPERATION_IN_PROGRESS: Final = "OPERATION_IN_PROGRESS"
SERVICE_STATUSES: Final = (CREATE_FAILED, RUNNING, DELETED, DELETE_FAILED, PAUSED, OPERATION_IN_PROGRESS)

OP_IN_PROGRESS: Final = "IN_PROGRESS"
OP_FAILED: Final = "FAILED"
OP_SUCCEEDED: Final = "SUCCEEDED"
OP_ROLLBACK_IN_PROGRESS: Final = "ROLLBACK_IN_PROGRESS"
OP_ROLLBACK_SUCCEEDED: Final = "ROLLBACK_SUCCEEDED"
OPERATION_STATUSES: Final = (
    "PENDING",
    OP_IN_PROGRESS,
    OP_FAILED,
    OP_SUCCEEDED,
    OP_ROLLBACK_IN_PROGRESS,
    "ROLLBACK_FAILED",
    OP_ROLLBACK_SUCCEEDED,
)

START_DEPLOYMENT: Final = "START_DEPLOYMENT"
CREATE_SERVICE: Final = "CREATE_SERVICE"
PAUSE_SERVICE: Final = "PAUSE_SERVICE"
RESUME_SERVICE: Final = "RESUME_SERVICE"
DELETE_SERVICE: Final = "DELETE_SERVICE"
UPDATE_SERVICE: Final = "UPDATE_SERVICE"
OPERATION_TYPES: Final = (
    START_DEPLOYMENT,
    CREATE_SERVICE,
    PAUSE_SERVICE,
    RESUME_SERVICE,
    DELETE_SERVICE,
    UPDATE_SERVICE,
)
# API operation name -> OperationType, so fail_next() also accepts "StartDeployment" etc.
_OPERATION_TYPE_BY_API_NAME: Final = {
    "StartDeployment": START_DEPLOYMENT,
    "CreateService": CREATE_SERVICE,
    "PauseService": PAUSE_SERVICE,
    "ResumeService": RESUME_SERVICE,
    "DeleteService": DELETE_SERVICE,
    "UpdateService": UPDATE_SERVICE,
}

# --- Errors --------------------------------------------------------------------------------------

INVALID_REQUEST: Final = "InvalidRequestException"
INVALID_STATE: Final = "InvalidStateException"
RESOURCE_NOT_FOUND: Final = "ResourceNotFoundException"
INTERNAL_ERROR: Final = "InternalServiceErrorException"

_TARGET_PREFIX: Final = "AppRunner."
_JSON_CONTENT_TYPE: Final = "application/x-amz-json-1.0"
_CONTROL_PREFIX: Final = "/_emulator/"
_MAX_PAGE: Final = 20

_SERVICE_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{3,39}")
_SERVICE_ARN_RE: Final = re.compile(
    r"arn:aws:apprunner:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"service/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{3,39})/(?P<id>[0-9a-f]{32})"
)
_APPRUNNER_ARN_RE: Final = re.compile(r"arn:aws:apprunner:[a-z0-9-]+:[0-9]{12}:[a-z]+/\S+")
_AUTOSCALING_ARN_RE: Final = re.compile(
    r"arn:aws:apprunner:[a-z0-9-]+:[0-9]{12}:autoscalingconfiguration/"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{3,31})/(?P<revision>[0-9]+)(?:/[0-9a-f]{32})?"
)
# Model patterns known to be wrong (ServiceId is really 32 hex digits without dashes).
_UNRELIABLE_PATTERNS: Final = frozenset({"ServiceId"})

_DEFAULT_CPU: Final = "1024"
_DEFAULT_MEMORY: Final = "2048"
_DEFAULT_AUTOSCALING_NAME: Final = "DefaultConfiguration"
_DEFAULT_AUTOSCALING_ID: Final = "0" * 31 + "1"
_DEFAULT_HEALTH_CHECK: Final[JsonDict] = {
    "Protocol": "TCP",
    "Path": "/",
    "Interval": 5,
    "Timeout": 2,
    "HealthyThreshold": 1,
    "UnhealthyThreshold": 5,
}


class ApiError(Exception):
    """An App Runner error answer: ``{"__type": code, "Message": message}`` with an HTTP status."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else _modelled_error_status(code)


def _invalid_state(status: str) -> ApiError:
    return ApiError(
        INVALID_STATE,
        f"You can't perform this action when the resource is in its current state. Service status: {status}",
    )


@functools.cache
def _service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("apprunner")


def _modelled_error_status(code: str) -> int:
    """HTTP status of a modelled error: ``error.httpStatusCode`` if set, 500 for faults, else 400."""
    model = _service_model()
    if code not in model.shape_names:
        return 400
    metadata = model.shape_for(code).metadata
    error = metadata.get("error")
    if isinstance(error, dict) and isinstance(error.get("httpStatusCode"), int):
        return int(error["httpStatusCode"])
    return 500 if metadata.get("fault") else 400


# --- Model-driven input validation --------------------------------------------------------------


@functools.cache
def _compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _describe_value(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def _validate_value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    def fail(constraint: str) -> None:
        errors.append(f"Value {_describe_value(value)} at '{path}' failed to satisfy constraint: {constraint}")

    type_name = shape.type_name
    metadata = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            fail("Member must be a structure")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                member_path = _join(path, name)
                errors.append(f"Value null at '{member_path}' failed to satisfy constraint: Member must not be null")
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is not None and member_value is not None:
                _validate_value(member, member_value, _join(path, name), errors)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            fail("Member must be a list")
            return
        _check_length(len(value), metadata, fail)
        for index, item in enumerate(value):
            _validate_value(shape.member, item, f"{path}.{index + 1}.member", errors)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            fail("Member must be a map")
            return
        for key, item in value.items():
            _validate_value(shape.key, key, f"{path}.key", errors)
            _validate_value(shape.value, item, f"{path}.{key}", errors)
    elif type_name == "string":
        if not isinstance(value, str):
            fail("Member must be a string")
            return
        enum = shape.enum if isinstance(shape, StringShape) else []
        if enum and value not in enum:
            fail(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        _check_length(len(value), metadata, fail)
        pattern = metadata.get("pattern")
        if pattern and shape.name not in _UNRELIABLE_PATTERNS:
            compiled = _compiled_pattern(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                fail(f"Member must satisfy regular expression pattern: {pattern}")
    elif type_name in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            fail("Member must be an integer")
            return
        if "min" in metadata and value < metadata["min"]:
            fail(f"Member must have value greater than or equal to {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            fail(f"Member must have value less than or equal to {metadata['max']}")
    elif type_name == "boolean":
        if not isinstance(value, bool):
            fail("Member must be a boolean")
    elif type_name in ("double", "float", "timestamp") and (
        not isinstance(value, int | float | str) or isinstance(value, bool)
    ):
        fail(f"Member must be a {type_name}")


def _check_length(length: int, metadata: dict[str, Any], fail: Callable[[str], None]) -> None:
    if "min" in metadata and length < metadata["min"]:
        fail(f"Member must have length greater than or equal to {metadata['min']}")
    if "max" in metadata and length > metadata["max"]:
        fail(f"Member must have length less than or equal to {metadata['max']}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _validate_input(operation: str, params: JsonDict) -> None:
    input_shape = _service_model().operation_model(operation).input_shape
    if input_shape is None:
        return
    errors: list[str] = []
    _validate_value(input_shape, params, "", errors)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ApiError(INVALID_REQUEST, f"{len(errors)} validation {noun} detected: {'; '.join(errors)}")


# --- State --------------------------------------------------------------------------------------


@dataclass
class _Operation:
    id: str
    type: str
    target_arn: str
    started_at: float
    updated_at: float
    seq: int
    status: str = OP_IN_PROGRESS
    ended_at: float | None = None


@dataclass
class _Config:
    """The part of a service UpdateService can change (snapshotted for rollbacks)."""

    source: JsonDict
    instance: JsonDict
    health_check: JsonDict
    autoscaling_arn: str
    network: JsonDict
    observability: JsonDict


@dataclass
class _Pending:
    operation: _Operation
    completes_at: float
    observed_after: int
    success_status: str
    failure_status: str | None  # None: the operation succeeds
    failure_operation_status: str
    rollback: _Config | None = None


@dataclass
class _Override:
    status: str
    until: float | None  # None: until changed again


@dataclass
class _Service:
    name: str
    id: str
    arn: str
    url: str
    seq: int
    created_at: float
    updated_at: float
    status: str  # the stable status; the effective one also considers `pending` and `override`
    config: _Config
    encryption: JsonDict | None = None
    tags: dict[str, str] = field(default_factory=dict)
    deleted_at: float | None = None
    operations: list[_Operation] = field(default_factory=list)
    pending: _Pending | None = None
    override: _Override | None = None
    fail_next: list[str] = field(default_factory=list)


class _Response(NamedTuple):
    status: int
    body: Any
    headers: dict[str, str]


def _error_response(error: ApiError) -> _Response:
    return _Response(
        error.status,
        {"__type": error.code, "Message": error.message},
        {"x-amzn-ErrorType": error.code},
    )


def _timestamp(value: float) -> float:
    return round(value, 3)


# --- The emulator -------------------------------------------------------------------------------


class AppRunnerEmulator:
    """An in-process App Runner endpoint; see the module docstring for what it models."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        operation_seconds: float = 0.0,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.operation_seconds = operation_seconds
        self.account_id = account_id
        self.region = region
        self._clock = clock
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._services: dict[str, _Service] = {}
        self._calls: list[JsonDict] = []
        self._injected: list[tuple[str, ApiError, list[int]]] = []
        self._fail_next_create: list[str] = []
        self._observations = 0
        self._sequence = 0
        self._handlers: dict[str, Callable[[JsonDict], JsonDict]] = {
            "CreateService": self._create_service,
            "DescribeService": self._describe_service,
            "ListServices": self._list_services,
            "DeleteService": self._delete_service,
            "PauseService": self._pause_service,
            "ResumeService": self._resume_service,
            "StartDeployment": self._start_deployment,
            "UpdateService": self._update_service,
            "ListOperations": self._list_operations,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
            "ListTagsForResource": self._list_tags_for_resource,
            "DescribeAutoScalingConfiguration": self._describe_auto_scaling_configuration,
        }
        # Auto scaling configurations by ARN (the default one is answered without being stored).
        self._autoscaling: dict[str, JsonDict] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving on a daemon thread and return the endpoint URL."""
        with self._lock:
            if self._server is not None:
                return self.url
            _service_model()  # load the model before the first request
            server = _Server((self.host, self.port), self)
            port = int(server.server_address[1])
            client_host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
            if ":" in client_host:
                client_host = f"[{client_host}]"
            self._url = f"http://{client_host}:{port}"
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), name=f"apprunner-emulator-{port}", daemon=True
            )
            self._thread.start()
            return self._url

    def stop(self) -> None:
        """Stop serving, drop open connections and close the socket; safe to call repeatedly."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = None
            self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> AppRunnerEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint URL (``http://127.0.0.1:<port>``); only valid once started."""
        if self._url is None or self._server is None:
            raise RuntimeError("the App Runner emulator is not running; call start() first")
        return self._url

    # -- control API ---------------------------------------------------------------------------

    def seed_service(
        self,
        name: str,
        image_identifier: str,
        *,
        status: str = RUNNING,
        auto_deploy: bool = True,
        cpu: str = "0.25 vCPU",
        memory: str = "0.5 GB",
        health_check_path: str = "/health",
        autoscaling_arn: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Create a service directly in ``status`` (no operation record) and return its ARN.

        Seeding ``OPERATION_IN_PROGRESS`` holds the service there until :meth:`force_status`. ``tags`` are what
        ListTagsForResource answers, set without a TagResource call (which a DELETED service would refuse).
        """
        if _SERVICE_NAME_RE.fullmatch(name) is None:
            raise ValueError(f"invalid App Runner service name: {name!r}")
        if status not in SERVICE_STATUSES:
            raise ValueError(f"unknown service status: {status!r}")
        health_check = dict(_DEFAULT_HEALTH_CHECK)
        if health_check_path:
            health_check.update(Protocol="HTTP", Path=health_check_path)
        config = _Config(
            source={
                "ImageRepository": {
                    "ImageIdentifier": image_identifier,
                    "ImageRepositoryType": _image_repository_type(image_identifier),
                    "ImageConfiguration": {"Port": "8080"},
                },
                "AutoDeploymentsEnabled": auto_deploy,
            },
            instance={"Cpu": cpu, "Memory": memory},
            health_check=health_check,
            autoscaling_arn=self._autoscaling_arn(autoscaling_arn),
            network=_network_configuration(None),
            observability={"ObservabilityEnabled": False},
        )
        with self._lock:
            self._observe()
            if self._live_service_named(name) is not None:
                raise ValueError(f"a service named {name!r} already exists")
            now = self._clock()
            service = self._new_service(name, config, now)
            service.tags = dict(tags or {})
            if status == OPERATION_IN_PROGRESS:
                service.status = RUNNING
                service.override = _Override(OPERATION_IN_PROGRESS, None)
            else:
                service.status = status
                service.deleted_at = now if status == DELETED else None
            return service.arn

    def seed_autoscaling_configuration(
        self, name: str, *, min_size: int = 1, max_size: int = 25, max_concurrency: int = 100
    ) -> str:
        """Create an auto scaling configuration (revision 1) and return its ARN, for ``seed_service`` or
        UpdateService to refer to. App Runner bounds MinSize to 1-25 and MaxSize to 1-25."""
        if not 1 <= min_size <= max_size <= 25:
            raise ValueError(f"expected 1 <= min_size <= max_size <= 25, got {min_size}, {max_size}")
        arn = f"arn:aws:apprunner:{self.region}:{self.account_id}:autoscalingconfiguration/{name}/1/{uuid.uuid4().hex}"
        if _AUTOSCALING_ARN_RE.fullmatch(arn) is None:
            raise ValueError(f"invalid auto scaling configuration name: {name!r}")
        with self._lock:
            self._autoscaling[arn] = _autoscaling_view(
                arn, name, min_size=min_size, max_size=max_size, max_concurrency=max_concurrency, now=self._clock()
            )
        return arn

    def force_status(self, service_arn: str, status: str, *, for_seconds: float | None = None) -> None:
        """Make a service report ``status``.

        With ``for_seconds`` the status is held for that long, after which the service reports its
        previous status again (a stable one, or the state of an operation still in flight).
        Without it, ``OPERATION_IN_PROGRESS`` is held until the next ``force_status``, and any
        other status becomes the service's stable status (an operation in flight is cut short and
        recorded as FAILED).
        """
        if status not in SERVICE_STATUSES:
            raise ValueError(f"unknown service status: {status!r}")
        with self._lock:
            service = self._service_for_control(service_arn)
            now = self._clock()
            if for_seconds is not None:
                service.override = _Override(status, now + for_seconds)
            elif status == OPERATION_IN_PROGRESS:
                service.override = _Override(status, None)
            else:
                service.override = None
                if service.pending is not None:
                    operation = service.pending.operation
                    operation.status = OP_FAILED
                    operation.ended_at = operation.updated_at = now
                    service.pending = None
                service.status = status
                service.deleted_at = now if status == DELETED else None
            service.updated_at = now

    def fail_next(self, service_arn: str, operation_type: str) -> None:
        """Make the next operation of ``operation_type`` on the service fail.

        ``operation_type`` is an OperationType (``"START_DEPLOYMENT"``) or the API name
        (``"StartDeployment"``). Deployments and updates end ``ROLLBACK_SUCCEEDED`` with the
        service back where it was (an update's configuration is restored); pause and resume end
        ``FAILED`` with the service unchanged; delete ends ``FAILED`` in ``DELETE_FAILED``; create
        ends ``FAILED`` in ``CREATE_FAILED``. For ``CREATE_SERVICE`` pass the *name* of the
        service that is about to be created instead of an ARN.
        """
        kind = _OPERATION_TYPE_BY_API_NAME.get(operation_type, operation_type)
        if kind not in OPERATION_TYPES:
            raise ValueError(f"unknown operation type: {operation_type!r}")
        with self._lock:
            if kind == CREATE_SERVICE and service_arn not in self._services:
                if _SERVICE_NAME_RE.fullmatch(service_arn) is None:
                    raise ValueError("fail_next(..., 'CREATE_SERVICE') needs the name of the service")
                self._fail_next_create.append(service_arn)
                return
            self._service_for_control(service_arn).fail_next.append(kind)

    def inject_error(self, operation: str, code: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``operation`` with ``code``/``status`` instead."""
        if times < 1:
            raise ValueError("times must be at least 1")
        error = ApiError(code, f"Injected {code} for {operation} by the Warden emulator", status)
        with self._lock:
            self._injected.append((operation, error, [times]))

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Requests received so far, in order (failed ones too): ``{"operation", "params"}``."""
        with self._lock:
            return [copy.deepcopy(call) for call in self._calls if operation is None or call["operation"] == operation]

    def status_of(self, service_arn: str) -> str:
        """The status DescribeService would report right now."""
        with self._lock:
            return self._effective_status(self._service_for_control(service_arn))

    def reset(self) -> None:
        """Forget all services, recorded calls, injected errors and pending failures."""
        with self._lock:
            self._services.clear()
            self._calls.clear()
            self._injected.clear()
            self._fail_next_create.clear()

    # -- request handling -----------------------------------------------------------------------

    def handle_api(self, target: str | None, body: bytes) -> _Response:
        """Answer one App Runner API request (used by the HTTP handler)."""
        operation = ""
        if target:
            operation = target[len(_TARGET_PREFIX) :] if target.startswith(_TARGET_PREFIX) else target
        params: Any
        try:
            params = json.loads(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            params = None
        with self._lock:
            self._calls.append(
                {"operation": operation, "params": copy.deepcopy(params) if isinstance(params, dict) else {}}
            )
            try:
                injected = self._take_injected(operation)
                if injected is not None:
                    raise injected
                if not target:
                    raise ApiError(INVALID_REQUEST, "Missing X-Amz-Target header")
                handler = self._handlers.get(operation) if target.startswith(_TARGET_PREFIX) else None
                if handler is None:
                    raise ApiError(INVALID_REQUEST, f"operation not implemented by the Warden emulator: {operation}")
                if not isinstance(params, dict):
                    raise ApiError(INVALID_REQUEST, "The request body must be a JSON object")
                _validate_input(operation, params)
                self._observe()
                return _Response(200, handler(params), {})
            except ApiError as error:
                return _error_response(error)
            except Exception as error:  # keep serving whatever happens
                return _error_response(ApiError(INTERNAL_ERROR, f"emulator failure: {error!r}", 500))

    def _take_injected(self, operation: str) -> ApiError | None:
        for index, (name, error, remaining) in enumerate(self._injected):
            if name == operation:
                remaining[0] -= 1
                if remaining[0] <= 0:
                    del self._injected[index]
                return error
        return None

    # -- operations ------------------------------------------------------------------------------

    def _create_service(self, params: JsonDict) -> JsonDict:
        name: str = params["ServiceName"]
        if self._live_service_named(name) is not None:
            raise ApiError(INVALID_REQUEST, f"Service with the provided name already exists: {name}")
        config = _Config(
            source=_source_configuration(params["SourceConfiguration"], None),
            instance=_instance_configuration(params.get("InstanceConfiguration"), None),
            health_check=_health_check_configuration(params.get("HealthCheckConfiguration")),
            autoscaling_arn=self._autoscaling_arn(params.get("AutoScalingConfigurationArn")),
            network=_network_configuration(params.get("NetworkConfiguration")),
            observability=_observability_configuration(params.get("ObservabilityConfiguration")),
        )
        now = self._clock()
        service = self._new_service(name, config, now)
        service.status = OPERATION_IN_PROGRESS  # no stable status until the creation settles
        service.encryption = copy.deepcopy(params.get("EncryptionConfiguration"))
        service.tags = {tag["Key"]: tag.get("Value", "") for tag in params.get("Tags", [])}
        fails = name in self._fail_next_create
        if fails:
            self._fail_next_create.remove(name)
        operation = self._begin(service, CREATE_SERVICE, RUNNING, CREATE_FAILED if fails else None, OP_FAILED)
        return {"Service": self._service_view(service), "OperationId": operation.id}

    def _describe_service(self, params: JsonDict) -> JsonDict:
        return {"Service": self._service_view(self._find_service(params["ServiceArn"]))}

    def _list_services(self, params: JsonDict) -> JsonDict:
        live = [s for s in self._services.values() if self._effective_status(s) != DELETED]
        page, token = _paginate(live, lambda s: s.seq, params, scope="services", newest_first=False)
        result: JsonDict = {"ServiceSummaryList": [self._service_summary(s) for s in page]}
        if token is not None:
            result["NextToken"] = token
        return result

    def _delete_service(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        self._require_status(service, {RUNNING, PAUSED, CREATE_FAILED, DELETE_FAILED})
        fails = self._take_fail_next(service, DELETE_SERVICE)
        operation = self._begin(service, DELETE_SERVICE, DELETED, DELETE_FAILED if fails else None, OP_FAILED)
        return {"Service": self._service_view(service), "OperationId": operation.id}

    def _pause_service(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        self._require_status(service, {RUNNING})
        fails = self._take_fail_next(service, PAUSE_SERVICE)
        operation = self._begin(service, PAUSE_SERVICE, PAUSED, RUNNING if fails else None, OP_FAILED)
        return {"Service": self._service_view(service), "OperationId": operation.id}

    def _resume_service(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        self._require_status(service, {PAUSED})
        fails = self._take_fail_next(service, RESUME_SERVICE)
        operation = self._begin(service, RESUME_SERVICE, RUNNING, PAUSED if fails else None, OP_FAILED)
        return {"Service": self._service_view(service), "OperationId": operation.id}

    def _start_deployment(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        if self._effective_status(service) == PAUSED:
            # Choice: a paused service can't be deployed, and the model lists no
            # InvalidStateException for StartDeployment, so this is an InvalidRequestException.
            raise ApiError(
                INVALID_REQUEST,
                "You can't deploy a paused service. Resume the service first. Service status: PAUSED",
            )
        self._require_status(service, {RUNNING})
        fails = self._take_fail_next(service, START_DEPLOYMENT)
        operation = self._begin(service, START_DEPLOYMENT, RUNNING, RUNNING if fails else None, OP_ROLLBACK_SUCCEEDED)
        return {"OperationId": operation.id}

    def _update_service(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        self._require_status(service, {RUNNING, PAUSED})
        before = copy.deepcopy(service.config)
        updated = copy.deepcopy(service.config)
        if "SourceConfiguration" in params:
            updated.source = _source_configuration(params["SourceConfiguration"], updated.source)
        if "InstanceConfiguration" in params:
            updated.instance = _instance_configuration(params["InstanceConfiguration"], updated.instance)
        if "HealthCheckConfiguration" in params:
            updated.health_check = {**updated.health_check, **params["HealthCheckConfiguration"]}
        if "AutoScalingConfigurationArn" in params:
            updated.autoscaling_arn = self._autoscaling_arn(params["AutoScalingConfigurationArn"])
        if "NetworkConfiguration" in params:
            updated.network = _network_configuration(params["NetworkConfiguration"])
        if "ObservabilityConfiguration" in params:
            updated.observability = copy.deepcopy(params["ObservabilityConfiguration"])
        stable = self._effective_status(service)
        fails = self._take_fail_next(service, UPDATE_SERVICE)
        service.config = updated
        operation = self._begin(
            service, UPDATE_SERVICE, stable, stable if fails else None, OP_ROLLBACK_SUCCEEDED, before
        )
        return {"Service": self._service_view(service), "OperationId": operation.id}

    def _list_operations(self, params: JsonDict) -> JsonDict:
        service = self._find_service(params["ServiceArn"])
        newest_first = sorted(service.operations, key=lambda o: o.seq, reverse=True)
        page, token = _paginate(
            newest_first, lambda o: o.seq, params, scope=f"operations:{service.arn}", newest_first=True
        )
        result: JsonDict = {"OperationSummaryList": [self._operation_view(service, o) for o in page]}
        if token is not None:
            result["NextToken"] = token
        return result

    def _describe_auto_scaling_configuration(self, params: JsonDict) -> JsonDict:
        arn: str = params["AutoScalingConfigurationArn"]
        if _AUTOSCALING_ARN_RE.fullmatch(arn) is None:
            raise ApiError(INVALID_REQUEST, f"Invalid auto scaling configuration ARN: {arn}")
        if arn == self._default_autoscaling_arn():
            view = _autoscaling_view(arn, _DEFAULT_AUTOSCALING_NAME, min_size=1, max_size=25, max_concurrency=100)
        elif arn in self._autoscaling:
            view = self._autoscaling[arn]
        else:
            raise ApiError(RESOURCE_NOT_FOUND, f"Auto scaling configuration with the provided ARN doesn't exist: {arn}")
        used = any(service.config.autoscaling_arn == arn for service in self._services.values())
        return {"AutoScalingConfiguration": {**copy.deepcopy(view), "HasAssociatedService": used}}

    def _tag_resource(self, params: JsonDict) -> JsonDict:
        service = self._find_resource(params["ResourceArn"])
        self._require_not_deleted(service)
        for tag in params["Tags"]:
            if "Key" not in tag:
                raise ApiError(INVALID_REQUEST, "Every tag needs a Key")
            service.tags[tag["Key"]] = tag.get("Value", "")
        return {}

    def _untag_resource(self, params: JsonDict) -> JsonDict:
        service = self._find_resource(params["ResourceArn"])
        self._require_not_deleted(service)
        for key in params["TagKeys"]:
            service.tags.pop(key, None)
        return {}

    def _list_tags_for_resource(self, params: JsonDict) -> JsonDict:
        service = self._find_resource(params["ResourceArn"])
        return {"Tags": [{"Key": key, "Value": value} for key, value in service.tags.items()]}

    # -- state machine -------------------------------------------------------------------------

    def _observe(self) -> None:
        """Count an observation and settle everything whose time has come."""
        self._observations += 1
        now = self._clock()
        for service in self._services.values():
            self._settle(service, now)

    def _settle(self, service: _Service, now: float) -> None:
        override = service.override
        if override is not None and override.until is not None and now >= override.until:
            service.override = None
        pending = service.pending
        if pending is None or now < pending.completes_at or self._observations <= pending.observed_after:
            return
        operation = pending.operation
        ended = max(pending.completes_at, operation.started_at)
        if pending.failure_status is None:
            operation.status = OP_SUCCEEDED
            service.status = pending.success_status
        else:
            operation.status = pending.failure_operation_status
            service.status = pending.failure_status
            if pending.rollback is not None:
                service.config = pending.rollback
        operation.ended_at = operation.updated_at = ended
        service.updated_at = ended
        if service.status == DELETED:
            service.deleted_at = ended
        service.pending = None

    def _effective_status(self, service: _Service) -> str:
        if service.override is not None:
            return service.override.status
        if service.pending is not None:
            return OPERATION_IN_PROGRESS
        return service.status

    def _require_status(self, service: _Service, allowed: set[str]) -> None:
        status = self._effective_status(service)
        if status not in allowed:
            raise _invalid_state(status)

    def _require_not_deleted(self, service: _Service) -> None:
        status = self._effective_status(service)
        if status == DELETED:
            raise _invalid_state(status)

    def _take_fail_next(self, service: _Service, kind: str) -> bool:
        if kind in service.fail_next:
            service.fail_next.remove(kind)
            return True
        return False

    def _begin(
        self,
        service: _Service,
        kind: str,
        success_status: str,
        failure_status: str | None,
        failure_operation_status: str,
        rollback: _Config | None = None,
    ) -> _Operation:
        now = self._clock()
        operation = _Operation(
            id=str(uuid.uuid4()),
            type=kind,
            target_arn=service.arn,
            started_at=now,
            updated_at=now,
            seq=self._next_sequence(),
        )
        service.operations.append(operation)
        service.pending = _Pending(
            operation=operation,
            completes_at=now + max(0.0, self.operation_seconds),
            observed_after=self._observations,
            success_status=success_status,
            failure_status=failure_status,
            failure_operation_status=failure_operation_status,
            rollback=rollback,
        )
        service.override = None
        service.updated_at = now
        return operation

    # -- lookups and views ------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def _new_service(self, name: str, config: _Config, now: float) -> _Service:
        service_id = uuid.uuid4().hex
        alphabet = string.ascii_lowercase + string.digits
        host = "".join(secrets.choice(alphabet) for _ in range(10))
        service = _Service(
            name=name,
            id=service_id,
            arn=f"arn:aws:apprunner:{self.region}:{self.account_id}:service/{name}/{service_id}",
            url=f"{host}.{self.region}.awsapprunner.com",
            seq=self._next_sequence(),
            created_at=now,
            updated_at=now,
            status=RUNNING,
            config=config,
        )
        self._services[service.arn] = service
        return service

    def _live_service_named(self, name: str) -> _Service | None:
        for service in self._services.values():
            if service.name == name and self._effective_status(service) != DELETED:
                return service
        return None

    def _find_service(self, arn: str) -> _Service:
        if _SERVICE_ARN_RE.fullmatch(arn) is None:
            raise ApiError(INVALID_REQUEST, f"Invalid App Runner service ARN: {arn}")
        service = self._services.get(arn)
        if service is None:
            raise ApiError(RESOURCE_NOT_FOUND, f"Service with the provided ARN doesn't exist: {arn}")
        return service

    def _find_resource(self, arn: str) -> _Service:
        if _APPRUNNER_ARN_RE.fullmatch(arn) is None:
            raise ApiError(INVALID_REQUEST, f"Invalid App Runner resource ARN: {arn}")
        service = self._services.get(arn)
        if service is None:
            raise ApiError(RESOURCE_NOT_FOUND, f"Resource with the provided ARN doesn't exist: {arn}")
        return service

    def _service_for_control(self, arn: str) -> _Service:
        self._observe()
        try:
            return self._services[arn]
        except KeyError:
            raise KeyError(f"no such service in the emulator: {arn}") from None

    def _default_autoscaling_arn(self) -> str:
        return (
            f"arn:aws:apprunner:{self.region}:{self.account_id}:autoscalingconfiguration/"
            f"{_DEFAULT_AUTOSCALING_NAME}/1/{_DEFAULT_AUTOSCALING_ID}"
        )

    def _autoscaling_arn(self, arn: str | None) -> str:
        if arn is None:
            return self._default_autoscaling_arn()
        if _AUTOSCALING_ARN_RE.fullmatch(arn) is None:
            raise ApiError(INVALID_REQUEST, f"Invalid auto scaling configuration ARN: {arn}")
        return arn

    def _service_view(self, service: _Service) -> JsonDict:
        config = service.config
        match = _AUTOSCALING_ARN_RE.fullmatch(config.autoscaling_arn)
        autoscaling_name = match["name"] if match else _DEFAULT_AUTOSCALING_NAME
        view: JsonDict = {
            "ServiceName": service.name,
            "ServiceId": service.id,
            "ServiceArn": service.arn,
            "ServiceUrl": service.url,
            "CreatedAt": _timestamp(service.created_at),
            "UpdatedAt": _timestamp(service.updated_at),
            "Status": self._effective_status(service),
            "SourceConfiguration": copy.deepcopy(config.source),
            "InstanceConfiguration": copy.deepcopy(config.instance),
            "HealthCheckConfiguration": copy.deepcopy(config.health_check),
            "AutoScalingConfigurationSummary": {
                "AutoScalingConfigurationArn": config.autoscaling_arn,
                "AutoScalingConfigurationName": autoscaling_name,
                "AutoScalingConfigurationRevision": int(match["revision"]) if match else 1,
                "Status": "ACTIVE",
                "CreatedAt": _timestamp(service.created_at),
                "HasAssociatedService": True,
                "IsDefault": autoscaling_name == _DEFAULT_AUTOSCALING_NAME,
            },
            "NetworkConfiguration": copy.deepcopy(config.network),
            "ObservabilityConfiguration": copy.deepcopy(config.observability),
        }
        if service.deleted_at is not None:
            view["DeletedAt"] = _timestamp(service.deleted_at)
        if service.encryption is not None:
            view["EncryptionConfiguration"] = copy.deepcopy(service.encryption)
        return view

    def _service_summary(self, service: _Service) -> JsonDict:
        return {
            "ServiceName": service.name,
            "ServiceId": service.id,
            "ServiceArn": service.arn,
            "ServiceUrl": service.url,
            "CreatedAt": _timestamp(service.created_at),
            "UpdatedAt": _timestamp(service.updated_at),
            "Status": self._effective_status(service),
        }

    def _operation_view(self, service: _Service, operation: _Operation) -> JsonDict:
        status = operation.status
        pending = service.pending
        if (
            pending is not None
            and pending.operation is operation
            and pending.failure_status is not None
            and pending.failure_operation_status == OP_ROLLBACK_SUCCEEDED
            and self._clock() >= (operation.started_at + pending.completes_at) / 2
        ):
            status = OP_ROLLBACK_IN_PROGRESS  # the second half of a failing deployment
        view: JsonDict = {
            "Id": operation.id,
            "Type": operation.type,
            "Status": status,
            "TargetArn": operation.target_arn,
            "StartedAt": _timestamp(operation.started_at),
            "UpdatedAt": _timestamp(operation.updated_at),
        }
        if operation.ended_at is not None:
            view["EndedAt"] = _timestamp(operation.ended_at)
        return view


# --- Configuration helpers ----------------------------------------------------------------------


def _autoscaling_view(
    arn: str, name: str, *, min_size: int, max_size: int, max_concurrency: int, now: float = 0.0
) -> JsonDict:
    return {
        "AutoScalingConfigurationArn": arn,
        "AutoScalingConfigurationName": name,
        "AutoScalingConfigurationRevision": 1,
        "Latest": True,
        "Status": "ACTIVE",
        "MaxConcurrency": max_concurrency,
        "MinSize": min_size,
        "MaxSize": max_size,
        "CreatedAt": _timestamp(now),
        "HasAssociatedService": False,
        "IsDefault": name == _DEFAULT_AUTOSCALING_NAME,
    }


def _image_repository_type(image_identifier: str) -> str:
    return "ECR_PUBLIC" if image_identifier.startswith("public.ecr.aws/") else "ECR"


def _source_configuration(given: JsonDict, current: JsonDict | None) -> JsonDict:
    """Merge a SourceConfiguration request member over the current one (None on create)."""
    source = copy.deepcopy(current) if current is not None else {}
    if "ImageRepository" in given and "CodeRepository" in given:
        raise ApiError(INVALID_REQUEST, "Specify either ImageRepository or CodeRepository, not both")
    for repository in ("ImageRepository", "CodeRepository"):
        if repository in given:
            source.pop("ImageRepository", None)
            source.pop("CodeRepository", None)
            source[repository] = copy.deepcopy(given[repository])
    for member in ("AutoDeploymentsEnabled", "AuthenticationConfiguration"):
        if member in given:
            source[member] = copy.deepcopy(given[member])
    if "ImageRepository" not in source and "CodeRepository" not in source:
        raise ApiError(INVALID_REQUEST, "SourceConfiguration needs an ImageRepository or a CodeRepository")
    public = source.get("ImageRepository", {}).get("ImageRepositoryType") == "ECR_PUBLIC"
    if public and source.get("AutoDeploymentsEnabled") is True:
        raise ApiError(INVALID_REQUEST, "Automatic deployments aren't supported for ECR_PUBLIC images")
    if source.get("AutoDeploymentsEnabled") is None:
        source["AutoDeploymentsEnabled"] = not public
    return source


def _instance_configuration(given: JsonDict | None, current: JsonDict | None) -> JsonDict:
    base = copy.deepcopy(current) if current is not None else {"Cpu": _DEFAULT_CPU, "Memory": _DEFAULT_MEMORY}
    return {**base, **copy.deepcopy(given or {})}


def _health_check_configuration(given: JsonDict | None) -> JsonDict:
    return {**_DEFAULT_HEALTH_CHECK, **copy.deepcopy(given or {})}


def _observability_configuration(given: JsonDict | None) -> JsonDict:
    return copy.deepcopy(given) if given else {"ObservabilityEnabled": False}


def _network_configuration(given: JsonDict | None) -> JsonDict:
    given = given or {}
    egress = {"EgressType": "DEFAULT", **given.get("EgressConfiguration", {})}
    if egress["EgressType"] == "VPC" and not egress.get("VpcConnectorArn"):
        raise ApiError(INVALID_REQUEST, "EgressType VPC needs a VpcConnectorArn")
    return {
        "EgressConfiguration": egress,
        "IngressConfiguration": {"IsPubliclyAccessible": True, **given.get("IngressConfiguration", {})},
        "IpAddressType": given.get("IpAddressType", "IPV4"),
    }


def _paginate(
    items: Sequence[_T],
    key: Callable[[_T], int],
    params: JsonDict,
    *,
    scope: str,
    newest_first: bool,
) -> tuple[list[_T], str | None]:
    """One page of ``items`` (already in answer order) and the token for the next, if any."""
    remaining = list(items)
    token = params.get("NextToken")
    if token:
        after = _decode_token(token, scope)
        remaining = [i for i in remaining if (key(i) < after if newest_first else key(i) > after)]
    max_results = params.get("MaxResults")
    if max_results is None or len(remaining) <= max_results:
        return remaining, None
    page = remaining[:max_results]
    return page, _encode_token(scope, key(page[-1]))


def _encode_token(scope: str, after: int) -> str:
    raw = json.dumps({"scope": scope, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, scope: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        decoded = None
    if not isinstance(decoded, dict) or decoded.get("scope") != scope:
        decoded = None
    if decoded is None or not isinstance(decoded.get("after"), int):
        raise ApiError(INVALID_REQUEST, "The NextToken is invalid or belongs to a different request")
    return int(decoded["after"])


# --- HTTP plumbing ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: AppRunnerEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections so no handler thread outlives the emulator."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; don't wait for ACKs
    server_version = "WardenAppRunnerEmulator/1.0"

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging on stderr."""

    def do_POST(self) -> None:
        body = self._read_body()
        emulator = self.server.emulator
        if self.path.startswith(_CONTROL_PREFIX):
            if self.path.rstrip("/") == f"{_CONTROL_PREFIX}reset":
                emulator.reset()
                self._send(_Response(200, {"ok": True}, {}))
            else:
                self._send_not_found()
            return
        self._send(emulator.handle_api(self.headers.get("X-Amz-Target"), body))

    def do_GET(self) -> None:
        emulator = self.server.emulator
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == f"{_CONTROL_PREFIX}health":
            self._send(_Response(200, {"ok": True}, {}))
        elif path == f"{_CONTROL_PREFIX}calls":
            self._send(_Response(200, {"calls": emulator.calls()}, {}))
        else:
            self._send_not_found()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_not_found(self) -> None:
        self._send(_Response(404, {"__type": "NotFound", "Message": f"No such path: {self.path}"}, {}))

    def _send(self, response: _Response) -> None:
        payload = json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", _JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


# --- Command line -------------------------------------------------------------------------------


def _seed_argument(value: str) -> tuple[str, str]:
    name, separator, image = value.partition("=")
    if not separator or not name or not image:
        raise argparse.ArgumentTypeError(f"expected NAME=IMAGE, got {value!r}")
    return name, image


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator in the foreground until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m local.apprunner_emulator", description="Run Warden's App Runner emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--operation-seconds", type=float, default=0.0)
    parser.add_argument(
        "--seed",
        type=_seed_argument,
        action="append",
        default=[],
        metavar="NAME=IMAGE",
        help="create a RUNNING service at start-up (repeatable)",
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    emulator = AppRunnerEmulator(args.host, args.port, operation_seconds=args.operation_seconds)
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with emulator:
            print(emulator.url, flush=True)
            for name, image in args.seed:
                print(f"{name}={emulator.seed_service(name, image)}", flush=True)
            while not stopping.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
