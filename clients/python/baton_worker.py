"""A small Baton worker for Python: polls a task queue, runs the named activity, heartbeats, reports.

    from baton_worker import Worker
    worker = Worker(channel, "marketing", {"research.market": research}, identity="py-1")
    while True:
        worker.run_once(poll_timeout=30)

An activity is `fn(input: dict | list | str | float | bool | None, ctx: ActivityContext) -> JSON value`.
Raise `ActivityError(type, message, non_retryable=False)` for a typed failure; any other exception is
reported with its class name as the type. `ctx.heartbeat(details)` extends the lease, stores progress
details for a later attempt (`ctx.heartbeat_details`), and returns True when the run was cancelled.
Needs clients/python on sys.path (for the committed stubs in baton/v1).

This is the original one-task-at-a-time helper, kept for existing tests and as the baseline of
bench/python_worker.py; new code should use `baton.Worker` (concurrent, automatic heartbeats,
cancellation, graceful shutdown, reconnects).
"""

from google.protobuf import json_format, struct_pb2

from baton.v1 import common_pb2, worker_service_pb2, worker_service_pb2_grpc


def to_value(obj) -> struct_pb2.Value:
    """A JSON-compatible Python value as google.protobuf.Value."""
    value = struct_pb2.Value()
    json_format.ParseDict(obj, value)
    return value


def from_value(value: struct_pb2.Value):
    """A google.protobuf.Value as a JSON-compatible Python value."""
    return json_format.MessageToDict(value)


class ActivityError(Exception):
    """A typed activity failure."""

    def __init__(self, type_: str, message: str, non_retryable: bool = False):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.non_retryable = non_retryable


class ActivityContext:
    """What an activity knows about its attempt."""

    def __init__(self, worker: "Worker", task):
        self._worker = worker
        self.task_token = task.task_token
        self.workflow_id = task.workflow_id
        self.step = task.step
        self.attempt = task.attempt
        self.idempotency_key = task.idempotency_key
        self.heartbeat_details = from_value(task.heartbeat_details) if task.HasField("heartbeat_details") else None
        self.cancel_requested = False

    def heartbeat(self, details=None) -> bool:
        """Records a heartbeat; returns True when the run asked this attempt to stop."""
        request = worker_service_pb2.RecordHeartbeatRequest(task_token=self.task_token)
        if details is not None:
            request.details.CopyFrom(to_value(details))
        reply = self._worker.stub.RecordHeartbeat(request, timeout=self._worker.call_timeout)
        self.cancel_requested = reply.cancel_requested
        return reply.cancel_requested


class Worker:
    """Polls one task queue and runs activities by name."""

    def __init__(self, channel, task_queue: str, activities: dict, identity: str = "python-worker",
                 call_timeout: float = 10.0):
        self.stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        self.task_queue = task_queue
        self.activities = activities
        self.identity = identity
        self.call_timeout = call_timeout

    def run_once(self, poll_timeout: float = 30.0):
        """Polls once; runs and reports the task if one came. Returns the task, or None."""
        task = self.stub.PollActivityTask(
            worker_service_pb2.PollActivityTaskRequest(task_queue=self.task_queue, worker_identity=self.identity),
            timeout=poll_timeout)
        if not task.task_token:
            return None
        ctx = ActivityContext(self, task)
        activity = self.activities.get(task.activity)
        try:
            if activity is None:
                raise ActivityError("ActivityNotRegistered", f"this worker has no activity '{task.activity}'",
                                    non_retryable=True)
            output = activity(from_value(task.input) if task.HasField("input") else None, ctx)
        except ActivityError as error:
            self._fail(task, error.type, error.message, error.non_retryable)
        except Exception as error:  # any other exception is a failure typed by its class
            self._fail(task, type(error).__name__, str(error), False)
        else:
            request = worker_service_pb2.CompleteActivityTaskRequest(task_token=task.task_token)
            if output is not None:
                request.output.CopyFrom(to_value(output))
            self.stub.CompleteActivityTask(request, timeout=self.call_timeout)
        return task

    def _fail(self, task, type_, message, non_retryable):
        failure = common_pb2.Failure(type=type_, message=message, non_retryable=non_retryable)
        self.stub.FailActivityTask(
            worker_service_pb2.FailActivityTaskRequest(task_token=task.task_token, failure=failure),
            timeout=self.call_timeout)
