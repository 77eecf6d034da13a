"""The synchronous client: definitions, runs, signals, queries, progress, results and history.

    import baton

    client = baton.Client()                      # $BATON_ADDRESS, else 127.0.0.1:7400
    client.register(open("flow.yaml").read())
    run = client.start("flow", {"n": 1}, workflow_id="order-7")
    for progress in run.stream_progress():
        print(progress)
    print(run.await_result(timeout=60))          # the output; WorkflowFailed if it did not complete

Every method raises a typed `baton.BatonError` (NotFound, InvalidArgument, FailedPrecondition, ...)
when the server refuses the call. Unary calls are bounded by the client's `timeout` (seconds).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Callable, Optional, Sequence, TypeVar

import grpc

from . import _requests as rq
from .errors import BatonError, DeadlineExceeded, from_rpc_error
from .types import (DefinitionRef, IdReusePolicy, Progress, WorkflowDescription, WorkflowInfo,
                    WorkflowStatus)
from .v1 import history_pb2
from .v1 import workflow_service_pb2 as ws
from .v1 import workflow_service_pb2_grpc as ws_grpc
from .values import JSON, from_value

T = TypeVar("T")


class Client:
    """A connection to a Baton server (one HTTP/2 channel, safe to share between threads).

    `address` defaults to $BATON_ADDRESS, else 127.0.0.1:7400; `namespace` is sent as
    `baton-namespace` metadata; `timeout` bounds each unary call; `channel` uses an existing
    `grpc.Channel` instead of opening one (it is then not closed by `close()`).
    """

    def __init__(self, address: Optional[str] = None, *, namespace: Optional[str] = None,
                 timeout: float = 10.0, channel: Optional[grpc.Channel] = None,
                 metadata: Sequence[tuple[str, str]] = ()) -> None:
        self.address = rq.resolve_address(address)
        self.timeout = timeout
        self._owns_channel = channel is None
        self._channel = channel or grpc.insecure_channel(self.address, options=rq.CHANNEL_OPTIONS)
        self._metadata = rq.call_metadata(namespace, metadata)
        self._stub = ws_grpc.WorkflowServiceStub(self._channel)

    # -- lifecycle

    def close(self) -> None:
        """Closes the channel (when the client opened it)."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unary(self, method: Callable[..., T], request: Any, timeout: Optional[float] = None) -> T:
        try:
            return method(request, timeout=timeout or self.timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # -- definitions

    def register(self, definition: rq.Definition) -> DefinitionRef:
        """Registers a definition given as YAML/JSON text or a dict; returns its name and version."""
        reply = self._unary(self._stub.RegisterDefinition, rq.register_request(definition))
        return DefinitionRef(reply.definition.name, reply.definition.version, reply.created)

    def get_definition(self, name: str, version: int = 0) -> str:
        """The source of a definition version as registered (the latest when version is 0)."""
        return self._unary(self._stub.GetDefinition, ws.GetDefinitionRequest(name=name, version=version)).source

    def list_definitions(self) -> list[DefinitionRef]:
        """Every definition name with its latest version."""
        reply = self._unary(self._stub.ListDefinitions, ws.ListDefinitionsRequest())
        return [DefinitionRef(d.name, d.version) for d in reply.definitions]

    # -- runs

    def start(self, definition: str, input: JSON = None, *, workflow_id: str = "",  # noqa: A002
              version: int = 0, id_reuse_policy: IdReusePolicy = IdReusePolicy.UNSPECIFIED) -> "WorkflowHandle":
        """Starts a run of `definition` (latest version unless `version`); returns its handle.

        With an existing `workflow_id`, `id_reuse_policy` decides: by default the open run is
        returned (`handle.started` is False) and a closed one is replaced by a new run.
        """
        reply = self._unary(self._stub.StartWorkflow,
                            rq.start_request(definition, input, workflow_id, version, id_reuse_policy))
        return WorkflowHandle(self, reply.workflow_id, reply.run_id, started=reply.started,
                              definition=DefinitionRef(reply.definition.name, reply.definition.version),
                              previous_run_id=reply.previous_run_id)

    def execute(self, definition: str, input: JSON = None, *, timeout: Optional[float] = None,  # noqa: A002
                **start: Any) -> JSON:
        """Starts a run and waits for its output (see `start()` and `WorkflowHandle.await_result()`)."""
        return self.start(definition, input, **start).await_result(timeout=timeout)

    def get_handle(self, workflow_id: str, run_id: str = "") -> "WorkflowHandle":
        """A handle on an existing run (the workflow id's latest run when `run_id` is empty)."""
        return WorkflowHandle(self, workflow_id, run_id)

    def signal(self, workflow_id: str, name: str, payload: JSON = None, *, request_id: str = "",
               run_id: str = "") -> bool:
        """Sends a signal; returns False when `request_id` repeated an earlier one (ignored).

        FailedPrecondition when the run is closed.
        """
        request = rq.signal_request(workflow_id, name, payload, request_id, run_id)
        return self._unary(self._stub.Signal, request).accepted

    def query(self, workflow_id: str, query: str = "progress", *, run_id: str = "") -> JSON:
        """Answers "progress", "state", "steps", "output" or a named query of the definition."""
        reply = self._unary(self._stub.Query, ws.QueryRequest(workflow_id=workflow_id, query=query, run_id=run_id))
        return from_value(reply.result)

    def describe(self, workflow_id: str, *, run_id: str = "") -> WorkflowDescription:
        """The run's status, input, output, failure and steps."""
        reply = self._unary(self._stub.DescribeWorkflow,
                            ws.DescribeWorkflowRequest(workflow_id=workflow_id, run_id=run_id))
        return WorkflowDescription.from_proto(reply.workflow)

    def cancel(self, workflow_id: str, reason: str = "", *, run_id: str = "") -> None:
        """Requests cancellation (running activities learn it from their heartbeats; then compensation)."""
        self._unary(self._stub.CancelWorkflow,
                    ws.CancelWorkflowRequest(workflow_id=workflow_id, reason=reason, run_id=run_id))

    def terminate(self, workflow_id: str, reason: str = "", *, run_id: str = "") -> None:
        """Stops the run at once: nothing more runs, no compensation."""
        self._unary(self._stub.TerminateWorkflow,
                    ws.TerminateWorkflowRequest(workflow_id=workflow_id, reason=reason, run_id=run_id))

    def list_workflows(self, *, status: Optional[WorkflowStatus] = None, definition: str = "",
                       page_size: int = 100) -> Iterator[WorkflowInfo]:
        """Every matching run, newest first, fetched page by page."""
        token = ""
        while True:
            reply = self._unary(self._stub.ListWorkflows, rq.list_request(status, definition, page_size, token))
            yield from (WorkflowInfo.from_proto(w) for w in reply.workflows)
            token = reply.next_page_token
            if not token:
                return

    # -- waiting and streams

    def await_closed(self, workflow_id: str, *, run_id: str = "",
                     timeout: Optional[float] = None) -> WorkflowDescription:
        """Waits until the run closes and returns its description (any closed status).

        `timeout` (seconds; None waits as long as the run) bounds the wait: DeadlineExceeded (also
        a `TimeoutError`) while the run is still open. Uses AwaitWorkflow; on a server without it,
        follows StreamProgress to the end instead. UNAVAILABLE is retried with backoff.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        request = ws.AwaitWorkflowRequest(workflow_id=workflow_id, run_id=run_id)
        failures = 0
        while True:
            remaining = rq.AWAIT_SLICE if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"workflow {workflow_id!r} is still open after {timeout}s")
            try:
                reply = self._stub.AwaitWorkflow(request, timeout=min(remaining, rq.AWAIT_SLICE),
                                                 metadata=self._metadata)
                return WorkflowDescription.from_proto(reply.workflow)
            except grpc.RpcError as error:
                code = error.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    return self._await_by_stream(workflow_id, run_id, deadline, timeout)
                if code == grpc.StatusCode.UNAVAILABLE:
                    failures += 1
                    pause = rq.backoff(failures)
                    if deadline is not None:
                        pause = min(pause, max(0.0, deadline - time.monotonic()))
                    time.sleep(pause)
                    continue
                raise from_rpc_error(error) from None

    def _await_by_stream(self, workflow_id: str, run_id: str, deadline: Optional[float],
                         timeout: Optional[float]) -> WorkflowDescription:
        remaining = None if deadline is None else max(0.001, deadline - time.monotonic())
        try:
            for _ in self.stream_progress(workflow_id, run_id=run_id, timeout=remaining):
                pass
        except DeadlineExceeded:
            raise DeadlineExceeded(f"workflow {workflow_id!r} is still open after {timeout}s") from None
        return self.describe(workflow_id, run_id=run_id)

    def await_result(self, workflow_id: str, *, run_id: str = "", timeout: Optional[float] = None) -> JSON:
        """Waits for the run to close and returns its output (see `await_closed()`).

        Raises `WorkflowFailed` (with `status` and `failure`) when it closed other than COMPLETED.
        """
        return rq.result_of(self.await_closed(workflow_id, run_id=run_id, timeout=timeout))

    def stream_progress(self, workflow_id: str, *, run_id: str = "", after_event_id: int = 0,
                        timeout: Optional[float] = None) -> Iterator[Progress]:
        """Yields a progress snapshot, then every change, until the run closes.

        After a dropped connection (UNAVAILABLE) the stream resumes from the last event seen, so
        nothing is missed. `timeout` bounds the whole stream. Closing the generator cancels the call.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last, failures = after_event_id, 0
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(f"progress of {workflow_id!r} did not end within {timeout}s")
            request = ws.StreamProgressRequest(workflow_id=workflow_id, run_id=run_id, after_event_id=last)
            call = self._stub.StreamProgress(request, timeout=remaining, metadata=self._metadata)
            try:
                for message in call:
                    failures = 0
                    last = max(last, message.event_id)
                    yield Progress.from_proto(message)
                return
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and failures < 5:
                    failures += 1
                    time.sleep(rq.backoff(failures))
                    continue
                raise from_rpc_error(error) from None
            finally:
                call.cancel()

    def history(self, workflow_id: str, *, run_id: str = "", page_size: int = 100) -> Iterator[history_pb2.HistoryEvent]:
        """Every event of the run's history so far (`baton.v1.HistoryEvent` messages), page by page."""
        for page in self.history_pages(workflow_id, run_id=run_id, page_size=page_size):
            yield from page

    def history_pages(self, workflow_id: str, *, run_id: str = "",
                      page_size: int = 100) -> Iterator[list[history_pb2.HistoryEvent]]:
        """The run's history one GetHistory page at a time, until the last event so far."""
        token = ""
        while True:
            reply = self._unary(self._stub.GetHistory, ws.GetHistoryRequest(
                workflow_id=workflow_id, run_id=run_id, page_size=page_size, page_token=token))
            if reply.events:
                yield list(reply.events)
            token = reply.next_page_token
            if not token or not reply.events:
                return

    def watch_history(self, workflow_id: str, *, run_id: str = "", after_event_id: int = 0,
                      timeout: Optional[float] = None) -> Iterator[history_pb2.HistoryEvent]:
        """Yields past events after `after_event_id`, then each new one, until the run closes."""
        call = self._stub.WatchHistory(ws.WatchHistoryRequest(
            workflow_id=workflow_id, run_id=run_id, after_event_id=after_event_id),
            timeout=timeout, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            call.cancel()


class WorkflowHandle:
    """One run: its `workflow_id`, `run_id` and the calls that act on it.

    A handle from `start()` addresses exactly that run (by run id); one from `get_handle(id)`
    without a run id follows the workflow id's latest run.
    """

    def __init__(self, client: Client, workflow_id: str, run_id: str = "", *, started: bool = False,
                 definition: Optional[DefinitionRef] = None, previous_run_id: str = "") -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        #: True when start() began a new run; False when it returned an existing one.
        self.started = started
        #: The definition version the run is pinned to (from start()).
        self.definition = definition
        #: The closed run this one replaced, if any.
        self.previous_run_id = previous_run_id

    def __repr__(self) -> str:
        return f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r})"

    def signal(self, name: str, payload: JSON = None, *, request_id: str = "") -> bool:
        """See `Client.signal()`."""
        return self.client.signal(self.workflow_id, name, payload, request_id=request_id, run_id=self.run_id)

    def query(self, query: str = "progress") -> JSON:
        """See `Client.query()`."""
        return self.client.query(self.workflow_id, query, run_id=self.run_id)

    def describe(self) -> WorkflowDescription:
        """See `Client.describe()`."""
        return self.client.describe(self.workflow_id, run_id=self.run_id)

    def cancel(self, reason: str = "") -> None:
        """See `Client.cancel()`."""
        self.client.cancel(self.workflow_id, reason, run_id=self.run_id)

    def terminate(self, reason: str = "") -> None:
        """See `Client.terminate()`."""
        self.client.terminate(self.workflow_id, reason, run_id=self.run_id)

    def await_closed(self, timeout: Optional[float] = None) -> WorkflowDescription:
        """See `Client.await_closed()`."""
        return self.client.await_closed(self.workflow_id, run_id=self.run_id, timeout=timeout)

    def await_result(self, timeout: Optional[float] = None) -> JSON:
        """See `Client.await_result()`: the output, or `WorkflowFailed`."""
        return self.client.await_result(self.workflow_id, run_id=self.run_id, timeout=timeout)

    def stream_progress(self, *, after_event_id: int = 0, timeout: Optional[float] = None) -> Iterator[Progress]:
        """See `Client.stream_progress()`."""
        return self.client.stream_progress(self.workflow_id, run_id=self.run_id, after_event_id=after_event_id,
                                           timeout=timeout)

    def history(self, page_size: int = 100) -> Iterator[history_pb2.HistoryEvent]:
        """See `Client.history()`."""
        return self.client.history(self.workflow_id, run_id=self.run_id, page_size=page_size)

    def history_pages(self, page_size: int = 100) -> Iterator[list[history_pb2.HistoryEvent]]:
        """See `Client.history_pages()`."""
        return self.client.history_pages(self.workflow_id, run_id=self.run_id, page_size=page_size)

    def watch_history(self, *, after_event_id: int = 0, timeout: Optional[float] = None) -> Iterator[history_pb2.HistoryEvent]:
        """See `Client.watch_history()`."""
        return self.client.watch_history(self.workflow_id, run_id=self.run_id, after_event_id=after_event_id,
                                         timeout=timeout)


__all__ = ["Client", "WorkflowHandle", "BatonError"]
