"""The asyncio client (grpc.aio): the same calls as `baton.Client`, as coroutines.

    import baton.aio

    async with baton.aio.Client() as client:
        run = await client.start("flow", {"n": 1})
        async for progress in run.stream_progress():
            print(progress)
        print(await run.await_result(timeout=60))

The channel is opened on first use, on the running event loop; use one client per loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Callable, Optional, Sequence

import grpc
import grpc.aio

from . import _requests as rq
from .errors import DeadlineExceeded, from_rpc_error
from .types import (DefinitionRef, IdReusePolicy, Progress, WorkflowDescription, WorkflowInfo,
                    WorkflowStatus)
from .v1 import history_pb2
from .v1 import workflow_service_pb2 as ws
from .v1 import workflow_service_pb2_grpc as ws_grpc
from .values import JSON, from_value


class Client:
    """An asyncio connection to a Baton server; see `baton.Client` for every method's meaning."""

    def __init__(self, address: Optional[str] = None, *, namespace: Optional[str] = None,
                 timeout: float = 10.0, channel: Optional[grpc.aio.Channel] = None,
                 metadata: Sequence[tuple[str, str]] = ()) -> None:
        self.address = rq.resolve_address(address)
        self.timeout = timeout
        self._owns_channel = channel is None
        self._channel = channel
        self._stub_cache: Optional[ws_grpc.WorkflowServiceStub] = None
        self._metadata = rq.call_metadata(namespace, metadata)

    @property
    def _stub(self) -> ws_grpc.WorkflowServiceStub:
        if self._stub_cache is None:
            if self._channel is None:
                self._channel = grpc.aio.insecure_channel(self.address, options=rq.CHANNEL_OPTIONS)
            self._stub_cache = ws_grpc.WorkflowServiceStub(self._channel)
        return self._stub_cache

    async def close(self) -> None:
        """Closes the channel (when the client opened it)."""
        if self._owns_channel and self._channel is not None:
            await self._channel.close()
            self._channel, self._stub_cache = None, None

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _unary(self, method: Callable[..., Any], request: Any, timeout: Optional[float] = None) -> Any:
        try:
            return await method(request, timeout=timeout or self.timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # -- definitions

    async def register(self, definition: rq.Definition) -> DefinitionRef:
        """Registers a definition given as YAML/JSON text or a dict; returns its name and version."""
        reply = await self._unary(self._stub.RegisterDefinition, rq.register_request(definition))
        return DefinitionRef(reply.definition.name, reply.definition.version, reply.created)

    async def get_definition(self, name: str, version: int = 0) -> str:
        """The source of a definition version as registered (the latest when version is 0)."""
        reply = await self._unary(self._stub.GetDefinition, ws.GetDefinitionRequest(name=name, version=version))
        return reply.source

    async def list_definitions(self) -> list[DefinitionRef]:
        """Every definition name with its latest version."""
        reply = await self._unary(self._stub.ListDefinitions, ws.ListDefinitionsRequest())
        return [DefinitionRef(d.name, d.version) for d in reply.definitions]

    # -- runs

    async def start(self, definition: str, input: JSON = None, *, workflow_id: str = "",  # noqa: A002
                    version: int = 0,
                    id_reuse_policy: IdReusePolicy = IdReusePolicy.UNSPECIFIED) -> "WorkflowHandle":
        """Starts a run; returns its handle (see `baton.Client.start()`)."""
        reply = await self._unary(self._stub.StartWorkflow,
                                  rq.start_request(definition, input, workflow_id, version, id_reuse_policy))
        return WorkflowHandle(self, reply.workflow_id, reply.run_id, started=reply.started,
                              definition=DefinitionRef(reply.definition.name, reply.definition.version),
                              previous_run_id=reply.previous_run_id)

    async def execute(self, definition: str, input: JSON = None, *,  # noqa: A002
                      timeout: Optional[float] = None, **start: Any) -> JSON:
        """Starts a run and waits for its output."""
        handle = await self.start(definition, input, **start)
        return await handle.await_result(timeout=timeout)

    def get_handle(self, workflow_id: str, run_id: str = "") -> "WorkflowHandle":
        """A handle on an existing run (the latest when `run_id` is empty)."""
        return WorkflowHandle(self, workflow_id, run_id)

    async def signal(self, workflow_id: str, name: str, payload: JSON = None, *, request_id: str = "",
                     run_id: str = "") -> bool:
        """Sends a signal; False when `request_id` repeated an earlier one. FailedPrecondition when closed."""
        reply = await self._unary(self._stub.Signal, rq.signal_request(workflow_id, name, payload, request_id, run_id))
        return reply.accepted

    async def query(self, workflow_id: str, query: str = "progress", *, run_id: str = "") -> JSON:
        """Answers "progress", "state", "steps", "output" or a named query of the definition."""
        reply = await self._unary(self._stub.Query, ws.QueryRequest(workflow_id=workflow_id, query=query,
                                                                    run_id=run_id))
        return from_value(reply.result)

    async def describe(self, workflow_id: str, *, run_id: str = "") -> WorkflowDescription:
        """The run's status, input, output, failure and steps."""
        reply = await self._unary(self._stub.DescribeWorkflow,
                                  ws.DescribeWorkflowRequest(workflow_id=workflow_id, run_id=run_id))
        return WorkflowDescription.from_proto(reply.workflow)

    async def cancel(self, workflow_id: str, reason: str = "", *, run_id: str = "") -> None:
        """Requests cancellation."""
        await self._unary(self._stub.CancelWorkflow,
                          ws.CancelWorkflowRequest(workflow_id=workflow_id, reason=reason, run_id=run_id))

    async def terminate(self, workflow_id: str, reason: str = "", *, run_id: str = "") -> None:
        """Stops the run at once."""
        await self._unary(self._stub.TerminateWorkflow,
                          ws.TerminateWorkflowRequest(workflow_id=workflow_id, reason=reason, run_id=run_id))

    async def list_workflows(self, *, status: Optional[WorkflowStatus] = None, definition: str = "",
                             page_size: int = 100) -> AsyncIterator[WorkflowInfo]:
        """Every matching run, newest first, fetched page by page."""
        token = ""
        while True:
            reply = await self._unary(self._stub.ListWorkflows,
                                      rq.list_request(status, definition, page_size, token))
            for info in reply.workflows:
                yield WorkflowInfo.from_proto(info)
            token = reply.next_page_token
            if not token:
                return

    # -- waiting and streams

    async def await_closed(self, workflow_id: str, *, run_id: str = "",
                           timeout: Optional[float] = None) -> WorkflowDescription:
        """Waits until the run closes; returns its description. DeadlineExceeded after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        request = ws.AwaitWorkflowRequest(workflow_id=workflow_id, run_id=run_id)
        failures = 0
        while True:
            remaining = rq.AWAIT_SLICE if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"workflow {workflow_id!r} is still open after {timeout}s")
            try:
                reply = await self._stub.AwaitWorkflow(request, timeout=min(remaining, rq.AWAIT_SLICE),
                                                       metadata=self._metadata)
                return WorkflowDescription.from_proto(reply.workflow)
            except grpc.RpcError as error:
                code = error.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    return await self._await_by_stream(workflow_id, run_id, deadline, timeout)
                if code == grpc.StatusCode.UNAVAILABLE:
                    failures += 1
                    pause = rq.backoff(failures)
                    if deadline is not None:
                        pause = min(pause, max(0.0, deadline - time.monotonic()))
                    await asyncio.sleep(pause)
                    continue
                raise from_rpc_error(error) from None

    async def _await_by_stream(self, workflow_id: str, run_id: str, deadline: Optional[float],
                               timeout: Optional[float]) -> WorkflowDescription:
        remaining = None if deadline is None else max(0.001, deadline - time.monotonic())
        try:
            async for _ in self.stream_progress(workflow_id, run_id=run_id, timeout=remaining):
                pass
        except DeadlineExceeded:
            raise DeadlineExceeded(f"workflow {workflow_id!r} is still open after {timeout}s") from None
        return await self.describe(workflow_id, run_id=run_id)

    async def await_result(self, workflow_id: str, *, run_id: str = "", timeout: Optional[float] = None) -> JSON:
        """The output of the run once it closes; `WorkflowFailed` when it did not complete."""
        return rq.result_of(await self.await_closed(workflow_id, run_id=run_id, timeout=timeout))

    async def stream_progress(self, workflow_id: str, *, run_id: str = "", after_event_id: int = 0,
                              timeout: Optional[float] = None) -> AsyncIterator[Progress]:
        """A snapshot, then every change, until the run closes (resumes after UNAVAILABLE)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last, failures = after_event_id, 0
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(f"progress of {workflow_id!r} did not end within {timeout}s")
            request = ws.StreamProgressRequest(workflow_id=workflow_id, run_id=run_id, after_event_id=last)
            call = self._stub.StreamProgress(request, timeout=remaining, metadata=self._metadata)
            try:
                async for message in call:
                    failures = 0
                    last = max(last, message.event_id)
                    yield Progress.from_proto(message)
                return
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE and failures < 5:
                    failures += 1
                    await asyncio.sleep(rq.backoff(failures))
                    continue
                raise from_rpc_error(error) from None
            finally:
                call.cancel()

    async def history(self, workflow_id: str, *, run_id: str = "",
                      page_size: int = 100) -> AsyncIterator[history_pb2.HistoryEvent]:
        """Every event of the run's history so far, page by page."""
        async for page in self.history_pages(workflow_id, run_id=run_id, page_size=page_size):
            for event in page:
                yield event

    async def history_pages(self, workflow_id: str, *, run_id: str = "",
                            page_size: int = 100) -> AsyncIterator[list[history_pb2.HistoryEvent]]:
        """The run's history one GetHistory page at a time."""
        token = ""
        while True:
            reply = await self._unary(self._stub.GetHistory, ws.GetHistoryRequest(
                workflow_id=workflow_id, run_id=run_id, page_size=page_size, page_token=token))
            if reply.events:
                yield list(reply.events)
            token = reply.next_page_token
            if not token or not reply.events:
                return

    async def watch_history(self, workflow_id: str, *, run_id: str = "", after_event_id: int = 0,
                            timeout: Optional[float] = None) -> AsyncIterator[history_pb2.HistoryEvent]:
        """Past events after `after_event_id`, then each new one, until the run closes."""
        call = self._stub.WatchHistory(ws.WatchHistoryRequest(
            workflow_id=workflow_id, run_id=run_id, after_event_id=after_event_id),
            timeout=timeout, metadata=self._metadata)
        try:
            async for event in call:
                yield event
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            call.cancel()


class WorkflowHandle:
    """One run (asyncio): `workflow_id`, `run_id` and coroutines that act on it."""

    def __init__(self, client: Client, workflow_id: str, run_id: str = "", *, started: bool = False,
                 definition: Optional[DefinitionRef] = None, previous_run_id: str = "") -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.started = started
        self.definition = definition
        self.previous_run_id = previous_run_id

    def __repr__(self) -> str:
        return f"aio.WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r})"

    async def signal(self, name: str, payload: JSON = None, *, request_id: str = "") -> bool:
        """See `baton.Client.signal()`."""
        return await self.client.signal(self.workflow_id, name, payload, request_id=request_id, run_id=self.run_id)

    async def query(self, query: str = "progress") -> JSON:
        """See `baton.Client.query()`."""
        return await self.client.query(self.workflow_id, query, run_id=self.run_id)

    async def describe(self) -> WorkflowDescription:
        """See `baton.Client.describe()`."""
        return await self.client.describe(self.workflow_id, run_id=self.run_id)

    async def cancel(self, reason: str = "") -> None:
        """See `baton.Client.cancel()`."""
        await self.client.cancel(self.workflow_id, reason, run_id=self.run_id)

    async def terminate(self, reason: str = "") -> None:
        """See `baton.Client.terminate()`."""
        await self.client.terminate(self.workflow_id, reason, run_id=self.run_id)

    async def await_closed(self, timeout: Optional[float] = None) -> WorkflowDescription:
        """See `baton.Client.await_closed()`."""
        return await self.client.await_closed(self.workflow_id, run_id=self.run_id, timeout=timeout)

    async def await_result(self, timeout: Optional[float] = None) -> JSON:
        """See `baton.Client.await_result()`."""
        return await self.client.await_result(self.workflow_id, run_id=self.run_id, timeout=timeout)

    def stream_progress(self, *, after_event_id: int = 0,
                        timeout: Optional[float] = None) -> AsyncIterator[Progress]:
        """See `baton.Client.stream_progress()`."""
        return self.client.stream_progress(self.workflow_id, run_id=self.run_id, after_event_id=after_event_id,
                                           timeout=timeout)

    def history(self, page_size: int = 100) -> AsyncIterator[history_pb2.HistoryEvent]:
        """See `baton.Client.history()`."""
        return self.client.history(self.workflow_id, run_id=self.run_id, page_size=page_size)

    def history_pages(self, page_size: int = 100) -> AsyncIterator[list[history_pb2.HistoryEvent]]:
        """See `baton.Client.history_pages()`."""
        return self.client.history_pages(self.workflow_id, run_id=self.run_id, page_size=page_size)

    def watch_history(self, *, after_event_id: int = 0,
                      timeout: Optional[float] = None) -> AsyncIterator[history_pb2.HistoryEvent]:
        """See `baton.Client.watch_history()`."""
        return self.client.watch_history(self.workflow_id, run_id=self.run_id, after_event_id=after_event_id,
                                         timeout=timeout)


__all__ = ["Client", "WorkflowHandle"]
