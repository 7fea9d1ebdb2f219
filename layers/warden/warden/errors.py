"""The domain's errors. Adapters translate AWS error codes into these; handlers decide what to re-raise.

A `RetryableError` escapes the handler on purpose: Lambda retries the async event, and when its
retries are spent the on-failure destination keeps it, so nothing is lost.
"""


class WardenError(Exception):
    """Base for every error Warden raises on purpose."""


class SettingsError(WardenError):
    """A setting is missing or invalid; the message names every offending variable."""


class UnparseableMessage(WardenError):
    """A message could not be understood; `reason` says why in words an operator can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableError(WardenError):
    """The job could not finish now but will on a later attempt (Lambda retry or the reconcile)."""


class ServiceBusy(RetryableError):
    """The change is deferred: the guarded service is busy with an operation its platform lets nothing else
    start during (App Runner's OPERATION_IN_PROGRESS), or it or its pause claims kept changing while Warden
    converged it. The message names the platform and says what was done before deferring."""


class EventInProgress(RetryableError):
    """Another invocation is handling the same event right now."""


class AwsUnavailable(RetryableError):
    """An AWS call failed after botocore's retries (throttling, timeouts, 5xx)."""


class StateUnavailable(AwsUnavailable):
    """The state table cannot be used: deleted (ResourceNotFoundException), refused (AccessDenied), or throttled
    or failing after botocore's retries. Claims, the action log and duplicate detection are unavailable; a
    confirmed budget breach is still paused without them (usecases/budget_alert.py)."""


class ServiceNotFound(WardenError):
    """The guarded service does not exist (wrong SERVICE_ARN, or deleted)."""


class InvalidServiceState(WardenError):
    """The platform (App Runner, or Warden's ECS controller) refused a pause or resume in the service's current
    state: a race with another change, answered by describing again."""


class BudgetNotFound(WardenError):
    """The budget named by BUDGET_NAME does not exist in this account."""


class RollbackDeclined(WardenError):
    """The RollbackPort decided not to roll back (automatic rollback off, outside the window after a deployment,
    already rolled back once, or the last deployment was itself a rollback); `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RollbackFailed(RollbackDeclined):
    """The rollback was attempted and failed. It is not attempted again for the same deployment."""
