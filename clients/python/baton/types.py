"""Plain Python views of the API's messages: statuses, failures, descriptions and progress.

Each view keeps the protobuf message it came from as `raw`, for fields not shown here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from .v1 import common_pb2, workflow_pb2
from .values import JSON, optional_value


class WorkflowStatus(enum.IntEnum):
    """A run's lifecycle state (baton.v1.WorkflowStatus)."""

    UNSPECIFIED = 0
    RUNNING = 1
    COMPLETED = 2
    FAILED = 3
    CANCELLED = 4
    TERMINATED = 5
    COMPENSATED = 6
    COMPENSATION_FAILED = 7
    CORRUPTED = 8

    @property
    def closed(self) -> bool:
        """True for every state but RUNNING (and UNSPECIFIED)."""
        return self not in (WorkflowStatus.UNSPECIFIED, WorkflowStatus.RUNNING)

    @classmethod
    def of(cls, number: int) -> "WorkflowStatus":
        """The member for a wire number (UNSPECIFIED for one this client does not know)."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNSPECIFIED


class StepStatus(enum.IntEnum):
    """A step's state (baton.v1.StepStatus)."""

    UNSPECIFIED = 0
    PENDING = 1
    RUNNING = 2
    RETRYING = 3
    COMPLETED = 4
    FAILED = 5
    SKIPPED = 6
    COMPENSATED = 7
    CANCELLED = 8


class IdReusePolicy(enum.IntEnum):
    """What `start()` does when the workflow id is taken (baton.v1.WorkflowIdReusePolicy)."""

    #: Return the existing run while it is open, start a new one once it closed.
    UNSPECIFIED = 0
    #: Return the existing run, open or closed.
    RETURN_EXISTING = 1
    #: Refuse any existing id (AlreadyExists).
    REJECT = 2
    #: Start a new run if the existing one is closed; return it while open.
    ALLOW_AFTER_CLOSE = 3


def _time(message: Any, name: str) -> Optional[datetime]:
    if not message.HasField(name):
        return None
    return getattr(message, name).ToDatetime(tzinfo=timezone.utc)


def _seconds(message: Any, name: str) -> Optional[float]:
    if not message.HasField(name):
        return None
    return getattr(message, name).ToNanoseconds() / 1e9


@dataclass(frozen=True)
class Failure:
    """Why a run or step failed: the error type, message and details."""

    type: str
    message: str
    details: JSON = None
    non_retryable: bool = False
    step: str = ""

    @classmethod
    def from_proto(cls, failure: common_pb2.Failure) -> "Failure":
        return cls(type=failure.type, message=failure.message, details=optional_value(failure, "details"),
                   non_retryable=failure.non_retryable, step=failure.step)


@dataclass(frozen=True)
class DefinitionRef:
    """A registered definition version; `created` is False when identical content existed."""

    name: str
    version: int
    created: bool = False


@dataclass(frozen=True)
class StepInfo:
    """One step of a run as described."""

    name: str
    status: StepStatus
    attempts: int
    kind: str
    activity: str
    phase: str
    output: JSON
    last_failure: Optional[Failure]
    raw: workflow_pb2.StepInfo = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, step: workflow_pb2.StepInfo) -> "StepInfo":
        try:
            status = StepStatus(step.status)
        except ValueError:
            status = StepStatus.UNSPECIFIED
        return cls(name=step.name, status=status, attempts=step.attempts, kind=step.kind,
                   activity=step.activity, phase=step.phase, output=optional_value(step, "output"),
                   last_failure=Failure.from_proto(step.last_failure) if step.HasField("last_failure") else None,
                   raw=step)


@dataclass(frozen=True)
class WorkflowDescription:
    """A run: ids, status, definition, input, output (when COMPLETED), failure and steps."""

    workflow_id: str
    run_id: str
    status: WorkflowStatus
    definition: str
    version: int
    input: JSON
    output: JSON
    failure: Optional[Failure]
    steps: list[StepInfo]
    start_time: Optional[datetime]
    close_time: Optional[datetime]
    raw: workflow_pb2.WorkflowDescription = field(repr=False, compare=False)
    #: The run's trace id (32 hex digits, W3C Trace Context); "" for runs recorded before traces.
    trace_id: str = ""

    @classmethod
    def from_proto(cls, workflow: workflow_pb2.WorkflowDescription) -> "WorkflowDescription":
        info = workflow.info
        return cls(workflow_id=info.workflow_id, run_id=info.run_id, status=WorkflowStatus.of(info.status),
                   definition=info.definition.name, version=info.definition.version,
                   input=optional_value(workflow, "input"), output=optional_value(workflow, "output"),
                   failure=Failure.from_proto(workflow.failure) if workflow.HasField("failure") else None,
                   steps=[StepInfo.from_proto(s) for s in workflow.steps],
                   start_time=_time(info, "start_time"), close_time=_time(info, "close_time"), raw=workflow,
                   trace_id=info.trace_id)


@dataclass(frozen=True)
class WorkflowInfo:
    """A run as listed."""

    workflow_id: str
    run_id: str
    status: WorkflowStatus
    definition: str
    version: int
    start_time: Optional[datetime]
    close_time: Optional[datetime]
    raw: workflow_pb2.WorkflowInfo = field(repr=False, compare=False)
    #: The run's trace id (32 hex digits); "" for runs recorded before traces.
    trace_id: str = ""

    @classmethod
    def from_proto(cls, info: workflow_pb2.WorkflowInfo) -> "WorkflowInfo":
        return cls(workflow_id=info.workflow_id, run_id=info.run_id, status=WorkflowStatus.of(info.status),
                   definition=info.definition.name, version=info.definition.version,
                   start_time=_time(info, "start_time"), close_time=_time(info, "close_time"), raw=info,
                   trace_id=info.trace_id)


@dataclass(frozen=True)
class Progress:
    """One progress snapshot of a run (what StreamProgress pushes and the "progress" query answers).

    `elapsed` and `eta` are seconds; `eta` is None when unknown (a signal wait, an activity without
    history, a closed run). `event_id` is the last event the snapshot reflects.
    """

    workflow_id: str
    status: WorkflowStatus
    percentage: float
    current_phase: str
    running_steps: list[str]
    completed_steps: list[str]
    failed_steps: list[str]
    skipped_steps: list[str]
    attempts: dict[str, int]
    elapsed: Optional[float]
    eta: Optional[float]
    event_id: int
    waiting_for_signals: dict[str, str]
    eta_until_signal: str
    raw: workflow_pb2.Progress = field(repr=False, compare=False)

    @classmethod
    def from_proto(cls, progress: workflow_pb2.Progress) -> "Progress":
        return cls(workflow_id=progress.workflow_id, status=WorkflowStatus.of(progress.status),
                   percentage=progress.percentage, current_phase=progress.current_phase,
                   running_steps=list(progress.running_steps), completed_steps=list(progress.completed_steps),
                   failed_steps=list(progress.failed_steps), skipped_steps=list(progress.skipped_steps),
                   attempts=dict(progress.attempts), elapsed=_seconds(progress, "elapsed"),
                   eta=_seconds(progress, "eta"), event_id=progress.event_id,
                   waiting_for_signals=dict(progress.waiting_for_signals),
                   eta_until_signal=progress.eta_until_signal, raw=progress)

    def __str__(self) -> str:
        text = f"{self.percentage:.0f}% {self.status.name}"
        if self.current_phase:
            text += f" phase={self.current_phase}"
        if self.running_steps:
            text += f" running={','.join(self.running_steps)}"
        if self.waiting_for_signals:
            text += f" waiting for {','.join(sorted(set(self.waiting_for_signals.values())))}"
        return text
