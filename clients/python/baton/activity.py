"""What an activity sees of its attempt: `ActivityContext`.

An activity is a function registered on a `baton.Worker`; it receives its input (a JSON value)
and, when it takes a second parameter, the context:

    @worker.activity("research.market")
    def research(input, ctx: baton.ActivityContext):
        start = (ctx.heartbeat_details or {}).get("page", 0)     # resume where the last attempt was
        for page in range(start, 10):
            if ctx.cancelled.wait(0.5):                           # the run was cancelled
                raise baton.ActivityCancelled()
            ctx.heartbeat({"page": page})
        return {"pages": 10, "key": ctx.idempotency_key}
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

from .errors import ActivityCancelled
from .v1 import worker_service_pb2 as wks
from .values import JSON, optional_value, to_value

if TYPE_CHECKING:
    from google.protobuf import struct_pb2

#: Why an attempt was asked to stop.
CANCEL_REQUESTED = "cancel_requested"  # the run was cancelled (a heartbeat answered cancel_requested)
WORKER_SHUTDOWN = "worker_shutdown"    # the worker is stopping and the grace period is over
LEASE_LOST = "lease_lost"              # the server no longer knows the attempt (timed out, or done)

_UNSET: Any = object()


class ActivityContext:
    """One attempt of an activity: ids, attempt number, heartbeats and cancellation.

    Attributes: `workflow_id`, `run`-independent `step`, `activity`, `attempt` (from 1),
    `idempotency_key` ("workflow_id/step/attempt", stable when the same attempt is redelivered),
    `heartbeat_details` (what the last heartbeat of an earlier attempt recorded, or None),
    `deadline` (a UTC datetime, when the server gave one), `heartbeat_timeout` (seconds or None),
    `cancelled` (a `threading.Event`, set when the attempt should stop), `cancel_reason`, and
    `traceparent` (the server's span of the attempt as a W3C `traceparent` value, "" when none).
    """

    def __init__(self, task: wks.PollActivityTaskResponse, loop: asyncio.AbstractEventLoop,
                 worker_identity: str) -> None:
        self.task_token: str = task.task_token
        self.workflow_id: str = task.workflow_id
        self.step: str = task.step
        self.activity: str = task.activity
        self.attempt: int = task.attempt
        self.idempotency_key: str = task.idempotency_key
        self.traceparent: str = task.traceparent
        self.heartbeat_details: JSON = optional_value(task, "heartbeat_details")
        self.deadline: Optional[datetime] = (task.deadline.ToDatetime(tzinfo=timezone.utc)
                                             if task.HasField("deadline") else None)
        self.heartbeat_timeout: Optional[float] = (task.heartbeat_timeout.ToNanoseconds() / 1e9
                                                   if task.HasField("heartbeat_timeout") else None)
        self.worker_identity = worker_identity
        #: Set when the attempt should stop (see `cancel_reason`).
        self.cancelled = threading.Event()
        #: CANCEL_REQUESTED, WORKER_SHUTDOWN or LEASE_LOST once `cancelled` is set.
        self.cancel_reason: Optional[str] = None
        self._loop = loop
        self._lock = threading.Lock()
        self._details: Optional["struct_pb2.Value"] = None
        self._unsent = False
        self._wake = asyncio.Event()
        self._on_wake: Optional[Callable[[], None]] = None
        self._activity_future: Optional[asyncio.Future] = None
        self._is_async = False
        self._abandoned = False

    def __repr__(self) -> str:
        return f"ActivityContext({self.idempotency_key!r}, activity={self.activity!r})"

    # -- for activities

    def heartbeat(self, details: Any = _UNSET) -> bool:
        """Records a heartbeat, optionally with progress details (any JSON value).

        Does not block: the worker sends it right away (at most one heartbeat in flight, and at
        least its throttle apart) and, if the attempt fails, before reporting the failure, so the
        next attempt finds the details in `ctx.heartbeat_details`. Safe from any thread. Returns
        True once the attempt has been asked to stop (same as `cancelled.is_set()`).
        """
        value = None if details is _UNSET else to_value(details)
        with self._lock:
            if value is not None:
                self._details = value
            self._unsent = True
        try:
            self._loop.call_soon_threadsafe(self._wake_up)
        except RuntimeError:  # the worker's loop is gone (the attempt was abandoned at shutdown)
            pass
        return self.cancelled.is_set()

    def is_cancelled(self) -> bool:
        """True once the attempt has been asked to stop."""
        return self.cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        """Raises `ActivityCancelled` once the attempt has been asked to stop."""
        if self.cancelled.is_set():
            raise ActivityCancelled(f"the activity was asked to stop ({self.cancel_reason})")

    # -- for the worker (on its event loop)

    def _wake_up(self) -> None:
        self._wake.set()
        if self._on_wake is not None:
            self._on_wake()

    def _take_details(self) -> tuple[bool, Optional["struct_pb2.Value"]]:
        """(whether an explicit heartbeat is unsent, the details to send), and marks them sent."""
        with self._lock:
            unsent, self._unsent = self._unsent, False
            return unsent, self._details

    def _has_unsent(self) -> bool:
        with self._lock:
            return self._unsent

    def _mark_unsent(self) -> None:
        with self._lock:
            self._unsent = True

    def _cancel(self, reason: str, *, interrupt: bool) -> None:
        """Asks the attempt to stop: sets `cancelled`; `interrupt` also cancels the awaited activity
        (an `async def` gets asyncio.CancelledError; for a thread the worker stops waiting)."""
        if self.cancel_reason is None or reason == WORKER_SHUTDOWN:
            self.cancel_reason = reason
        self.cancelled.set()
        future = self._activity_future
        if future is not None and not future.done() and (interrupt or self._is_async):
            future.cancel()
