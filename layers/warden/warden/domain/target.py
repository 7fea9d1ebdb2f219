"""What differs by platform, as plain values: each target (adapters/targets/) fills one `TargetFacts` in for the
service it guards, and the use cases and the domain read the facts instead of asking which platform it is.

Pure: no SDK. The facts are the words and links a message needs (the platform's name, what runs, the console),
the advice for the service's own metrics, and the CloudWatch dimensions that name the service (for `concerns`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from warden.domain.alarms import MetricKind, ServiceDimensions
from warden.domain.service import ServiceStatus


class TargetFacts(BaseModel):
    """One guarded service's platform, in the words and values Warden's messages and decisions use."""

    model_config = ConfigDict(frozen=True)

    platform: str
    """How messages name the platform: "App Runner", "ECS"."""
    service_noun: str
    """ "App Runner service", "ECS service"."""
    described: str
    """The service in a few words: "App Runner service web (f00d...)", "ECS service web in cluster prod"."""
    console_url: str
    runs_on: str
    """What a paused service has none of: "instances", "tasks"."""
    runbook: dict[MetricKind, tuple[str, ...]] = {}
    """What to check first for the service's own metrics (warden/messages/alarm.py `runbook` has the rest)."""
    alarm_metrics: tuple[ServiceDimensions, ...] = ()
    """The namespaces and dimensions that name the service in CloudWatch (domain/alarms.concerns)."""
    behind_load_balancer: bool = False
    """An Application Load Balancer of the account may serve it (its target group's metrics may be the service's)."""
    status_meanings: dict[ServiceStatus, str] = {}
    """What a status means in the platform's own terms, where that differs ("desired count 0" for PAUSED)."""
    pause_means: str = ""
    """A sentence after a pause where the platform has no pause of its own (what Warden's pause did instead)."""
    would_pause_means: str = ""
    """The same for a dry run."""
    unrecorded_pause_note: str = ""
    """What else a pause without the state table could not store, where the platform keeps something there (ECS:
    the scale to restore); empty where the platform's own pause keeps it (App Runner)."""
    while_paused: str
    """What a paused service does not do, and what its resume brings back."""
    resumes_the_image_before_pause: bool = False
    """The resume brings back the version from before the pause (App Runner): an image pushed to the tag the
    service follows while it was paused needs a deployment after the resume, so Warden tracks the tag's digest."""
    rolls_back_by_revision: bool = False
    """It goes back to an earlier version without the app's repository (ECS: an earlier task-definition revision);
    otherwise a rollback moves the tag the service follows, which needs ECR_REPOSITORY."""
