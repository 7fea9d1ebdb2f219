"""App Runner operation events for the demo and the tests: the fixtures under events/on_deployment/, retargeted.

The fixtures describe the consultation app with a fixed service id, time and event id. `operation_event` loads
one and points it at another service (the emulator's), another moment and a fresh event id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from local.account import REPOSITORY, LocalAccount
from local.events import load_event
from warden.adapters.dynamodb import StateTable
from warden.adapters.ecr import EcrImages
from warden.domain.pipeline import OBSERVED_SOURCE

FUNCTION = "on_deployment"


def operation_event(
    fixture: str,
    *,
    service_arn: str | None = None,
    at: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The fixture events/on_deployment/<fixture>.json for `service_arn`, at `at`, with a new (or given) id."""
    event = load_event(FUNCTION, fixture)
    if service_arn is not None:
        event["resources"] = [service_arn]
        name, service_id = service_arn.split("/")[1:3]
        for key in list(event["detail"]):
            if key.lower() == "servicename":
                event["detail"][key] = name
            elif key.lower() == "serviceid":
                event["detail"][key] = service_id
    if at is not None:
        event["time"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["id"] = event_id or str(uuid.uuid4())
    return event


def record_deployed(account: LocalAccount, tag: str = "latest") -> str:
    """Records the image `tag` points at as the service's newest deployment, as on_deployment does once App
    Runner deployed it; returns its digest. The image purge holds every deletion of a service that follows a
    tag until a deployment is on record (a tag pointing at an image is not one)."""
    digest = EcrImages(account.client("ecr")).resolve_tag(REPOSITORY, tag)
    assert digest is not None, f"no image is tagged {tag}"
    state = StateTable(account.table_name, account.client("dynamodb"))
    state.record_deployment(account.service_arn, digest, None, datetime.now(UTC), OBSERVED_SOURCE)
    return digest
