"""A fault-injecting HTTP proxy to put in front of moto's server or the App Runner emulator.

Warden is pointed at it exactly as at the servers themselves (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_APPRUNNER`). For every request the proxy first decides, from a deterministic
`FaultPlan`, whether to pass it on or to fail it, and only then forwards it; so a failed attempt never
reached the upstream, except where the fault says otherwise (`lost`):

- `throttle`: HTTP 400 with the protocol's throttling error. JSON protocols (App Runner, DynamoDB, ECR,
  Budgets: the request has `X-Amz-Target`) get `{"__type": "ThrottlingException"}` and the
  `x-amzn-ErrorType` header; query protocols (SNS, IAM: a form-encoded `Action=` body) get
  `<ErrorResponse><Error><Code>Throttling</Code>...`.
- `error`: HTTP 500 with the protocol's `InternalFailure` error.
- `reset`: the connection is closed without an answer (the client sees a connection error, which
  botocore retries like a timeout).
- `timeout`: the proxy waits `hang_seconds` (longer than the client's read timeout), then closes the
  connection; the request is not forwarded.
- `lost`: the request IS forwarded and applied upstream, then the connection is closed before the
  answer: the nasty case of a call that happened although the caller saw it fail.

Every request is logged (`calls`: service, operation, fault), so a test can count the attempts botocore
made. The service is read from the SigV4 credential scope, the operation from `X-Amz-Target` or `Action`.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal["pass", "throttle", "error", "reset", "timeout", "lost"]
FAULTS: tuple[Fault, ...] = ("pass", "throttle", "error", "reset", "timeout", "lost")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}


@dataclass(frozen=True)
class Call:
    """One request the proxy received, and what it did with it."""

    index: int  # 0-based, across every proxy sharing the plan
    service: str
    operation: str
    fault: Fault


@dataclass(frozen=True)
class Rule:
    """Fail matching requests: those of `service`/`operation` (None matches any), the first `times` of them
    after skipping `skip` matches, or every one when `times` is None."""

    fault: Fault
    service: str | None = None
    operation: str | None = None
    times: int | None = 1
    skip: int = 0


@dataclass
class FaultPlan:
    """Decides each request's fault: the first matching rule, else every `every`-th request, else a seeded
    random share, else pass. Shared by the proxies of one test so that "every third call" counts them all."""

    rules: Sequence[Rule] = ()
    every: int | None = None  # fail requests 1, 1 + every, 1 + 2 * every, ... (0-based: 0, every, ...)
    every_fault: Fault = "throttle"
    rate: float = 0.0
    rate_faults: tuple[Fault, ...] = ("throttle",)  # a random share of `rate` gets one of these, seeded
    seed: int = 0
    calls: list[Call] = field(default_factory=list)
    _matched: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def decide(self, service: str, operation: str) -> Fault:
        with self._lock:
            index = len(self.calls)
            fault = self._fault(index, service, operation)
            self.calls.append(Call(index=index, service=service, operation=operation, fault=fault))
            return fault

    def _fault(self, index: int, service: str, operation: str) -> Fault:
        for number, rule in enumerate(self.rules):
            if rule.service not in (None, service) or rule.operation not in (None, operation):
                continue
            seen = self._matched.get(number, 0)
            self._matched[number] = seen + 1
            if seen >= rule.skip and (rule.times is None or seen < rule.skip + rule.times):
                return rule.fault
        if self.every and index % self.every == 0:
            return self.every_fault
        if self.rate and self._random.random() < self.rate:
            return self._random.choice(self.rate_faults)
        return "pass"

    def clear(self) -> None:
        """From now on every request passes (a Lambda retry after the outage)."""
        with self._lock:
            self.rules, self.every, self.rate = (), None, 0.0

    def attempts(self, operation: str, service: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.operation == operation and service in (None, c.service)]

    def faulted(self) -> list[Call]:
        return [call for call in self.calls if call.fault != "pass"]


class FaultProxy:
    """A ThreadingHTTPServer on a free port of 127.0.0.1 that forwards to `upstream` as `plan` decides."""

    def __init__(self, upstream: str, plan: FaultPlan, *, hang_seconds: float = 2.0) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname is None or parsed.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream = (parsed.hostname, parsed.port)
        self.plan = plan
        self.hang_seconds = hang_seconds
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


@contextmanager
def fault_proxy(upstream: str, plan: FaultPlan, *, hang_seconds: float = 2.0) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, plan, hang_seconds=hang_seconds).start()
    try:
        yield proxy
    finally:
        proxy.stop()


# --- error bodies, per protocol --------------------------------------------------------------------

_ERRORS: dict[str, tuple[int, str, str]] = {
    # fault -> (status, JSON __type / query Code, message)
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "error": (500, "InternalFailure", "The request processing has failed because of an unknown error"),
}
_QUERY_CODES = {"ThrottlingException": "Throttling"}


def error_response(fault: Fault, headers: dict[str, str], request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer AWS gives for `fault` in the request's protocol: JSON when it has X-Amz-Target, else query XML."""
    status, code, message = _ERRORS[fault]
    lowered = {name.lower(): value for name, value in headers.items()}
    if "x-amz-target" in lowered:
        content_type = lowered.get("content-type", "application/x-amz-json-1.0")
        body = json.dumps({"__type": code, "message": message}).encode()
        return (
            status,
            [("Content-Type", content_type), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)],
            body,
        )
    query_code = _QUERY_CODES.get(code, code)
    kind = "Sender" if status < 500 else "Receiver"
    xml = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{query_code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()


def describe_request(headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of an AWS request: the SigV4 scope's service; X-Amz-Target's or Action's operation."""
    lowered = {name.lower(): value for name, value in headers.items()}
    scope = _SCOPE.search(lowered.get("authorization", ""))
    service = scope["service"] if scope else "?"
    target = lowered.get("x-amz-target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
    return service, action


# --- the server ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
        service, operation = describe_request(headers, body)
        fault = proxy.plan.decide(service, operation)
        if fault == "pass":
            self._respond(*proxy.forward(self.command, self.path, headers, body))
        elif fault in ("throttle", "error"):
            self._respond(*error_response(fault, headers, f"fault-{len(proxy.plan.calls)}"))
        elif fault == "reset":
            self._drop()
        elif fault == "timeout":
            time.sleep(proxy.hang_seconds)
            self._drop()
        else:  # lost: applied upstream, the answer never arrives
            proxy.forward(self.command, self.path, headers, body)
            self._drop()

    def _respond(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without a byte of answer (an abortive close where the platform allows)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
