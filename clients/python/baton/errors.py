"""Typed errors: gRPC statuses from the server, failed workflows and activity failures.

Every call of `baton.Client` / `baton.aio.Client` raises a `BatonError` subclass named after the
gRPC status (`NotFound`, `InvalidArgument`, `FailedPrecondition`, ...), carrying `code` and the
server's `message`. `WorkflowFailed` is raised by `await_result()` when a run closes other than
COMPLETED. Activities raise `ActivityError` for a typed failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from .types import Failure, WorkflowDescription, WorkflowStatus


class BatonError(Exception):
    """An RPC the server (or the transport) refused; `code` is the gRPC status code."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class NotFound(BatonError):
    """NOT_FOUND: unknown workflow, run or definition."""
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(BatonError):
    """ALREADY_EXISTS: e.g. a start with a taken workflow id under the REJECT policy."""
    code = grpc.StatusCode.ALREADY_EXISTS


class InvalidArgument(BatonError):
    """INVALID_ARGUMENT: a bad definition, input, name or value (the message names the field)."""
    code = grpc.StatusCode.INVALID_ARGUMENT


class FailedPrecondition(BatonError):
    """FAILED_PRECONDITION: e.g. a signal, cancel or terminate for a closed run."""
    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(BatonError):
    """RESOURCE_EXHAUSTED: a message or value over a limit, too many calls, a full disk."""
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(BatonError, TimeoutError):
    """DEADLINE_EXCEEDED: the call's timeout passed (e.g. `await_result(timeout=)` while the run is open)."""
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unavailable(BatonError):
    """UNAVAILABLE: the server is unreachable or shutting down; retrying later may work."""
    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(BatonError):
    """UNAUTHENTICATED: no valid token."""
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(BatonError):
    """PERMISSION_DENIED: the token's role or namespace does not allow the call."""
    code = grpc.StatusCode.PERMISSION_DENIED


class Unimplemented(BatonError):
    """UNIMPLEMENTED: the server does not know the method (an older server)."""
    code = grpc.StatusCode.UNIMPLEMENTED


class Cancelled(BatonError):
    """CANCELLED: the call was cancelled."""
    code = grpc.StatusCode.CANCELLED


class Internal(BatonError):
    """INTERNAL (or UNKNOWN, DATA_LOSS): a server-side error."""
    code = grpc.StatusCode.INTERNAL


_BY_CODE: dict[grpc.StatusCode, type[BatonError]] = {
    cls.code: cls for cls in (NotFound, AlreadyExists, InvalidArgument, FailedPrecondition,
                              ResourceExhausted, DeadlineExceeded, Unavailable, Unauthenticated,
                              PermissionDenied, Unimplemented, Cancelled, Internal)
}


def from_rpc_error(error: grpc.RpcError) -> BatonError:
    """The typed error for a grpc (sync or aio) `RpcError`."""
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else None
    message = details or str(error)
    cls = _BY_CODE.get(code, BatonError)
    return cls(message, code) if cls is BatonError else cls(message)


class WorkflowFailed(Exception):
    """A run closed other than COMPLETED: FAILED, CANCELLED, TERMINATED, COMPENSATED, ...

    `status` is the `WorkflowStatus`, `failure` the run's `Failure` (None when the server gave
    none), `description` the full `WorkflowDescription`.
    """

    def __init__(self, description: "WorkflowDescription") -> None:
        self.description = description
        self.workflow_id = description.workflow_id
        self.run_id = description.run_id
        self.status: "WorkflowStatus" = description.status
        self.failure: "Failure | None" = description.failure
        what = f"workflow {self.workflow_id!r} (run {self.run_id}) ended {self.status.name}"
        if self.failure is not None:
            where = f" in step {self.failure.step!r}" if self.failure.step else ""
            what += f"{where}: {self.failure.type}: {self.failure.message}"
        super().__init__(what)


class ActivityError(Exception):
    """A typed activity failure, reported to the server as `Failure(type, message, details)`.

    `type` is matched against the step's `non_retryable_error_types`; `non_retryable=True` stops
    retries whatever the policy says. Any other exception an activity raises is reported with its
    class name as the type (retryable).
    """

    def __init__(self, type: str, message: str, non_retryable: bool = False, details: Any = None) -> None:  # noqa: A002
        super().__init__(message)
        self.type = type
        self.message = message
        self.non_retryable = non_retryable
        self.details = details

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


class ActivityCancelled(ActivityError):
    """Raised by `ActivityContext.raise_if_cancelled()`; reported as type "Cancelled"."""

    def __init__(self, message: str = "the activity was cancelled") -> None:
        super().__init__("Cancelled", message, non_retryable=True)


class WorkerError(Exception):
    """The worker cannot go on (e.g. the server refuses its task queue or its credentials)."""
