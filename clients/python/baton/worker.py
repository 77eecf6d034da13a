"""The worker: polls a task queue, runs activities, heartbeats, reports, shuts down gracefully.

    import baton

    worker = baton.Worker("marketing", max_concurrent=50)

    @worker.activity("research.market")
    def research(input, ctx):                  # a plain function runs on a thread pool
        return {"doc_id": f"market-{input['topic']}"}

    @worker.activity("content.brief")
    async def brief(input):                    # an `async def` runs on the worker's event loop
        return {"brief_id": "b-1"}

    worker.run()                               # until SIGINT/SIGTERM or worker.stop()

Behaviour:
* `pollers` long polls run at once; each takes a slot of `max_concurrent` before polling (and the
  free slots, up to `max_tasks_per_poll`, to bring tasks already waiting), so no more than
  `max_concurrent` activities ever run in the process. A completion asks the server to hand over
  the next waiting task in its answer, which then runs on the same slot without a poll.
* Heartbeats are automatic every `heartbeat_timeout / 3` when the task has a heartbeat timeout
  (else every `heartbeat_interval` seconds, to learn about cancellation), and sent at once on
  `ctx.heartbeat(details)`. The last details reach the next attempt as `ctx.heartbeat_details`.
* When a heartbeat answers cancel_requested, `ctx.cancelled` is set and an `async def` activity is
  cancelled (asyncio.CancelledError); a failure raised after that is reported as type "Cancelled".
* `stop()` (or SIGINT/SIGTERM; a second signal skips the grace) stops polling, lets running
  activities finish within `shutdown_grace` seconds, then fails the rest with the retryable type
  "WorkerShutdown" so that they are retried elsewhere.
* UNAVAILABLE (server down or restarting) is retried with exponential backoff (0.1 s doubling to
  10 s), for polls and for reports.
* Tracing, when the OpenTelemetry API is installed (`pip install baton-client[otel]`): each attempt
  runs in a span `activity TYPE` (kind CONSUMER) whose parent is the server's `step STEP` span of
  that attempt (the task's W3C `traceparent`), so the worker's spans join the run's trace. The
  activity runs with that span current (on the thread pool too), so spans it starts nest under it.
  A task without a (valid) traceparent gets a span that starts a trace of its own. Spans go to the
  global tracer provider, or to `tracer_provider`. Without OpenTelemetry nothing changes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import grpc
import grpc.aio

from . import _requests as rq
from ._heartbeats import Heartbeater
from .activity import CANCEL_REQUESTED, LEASE_LOST, WORKER_SHUTDOWN, ActivityContext
from .errors import ActivityError, WorkerError
from .v1 import common_pb2
from .v1 import worker_service_pb2 as wks
from .v1 import worker_service_pb2_grpc as wks_grpc
from .values import JSON, from_value, to_value

try:  # optional (the "otel" extra): a span per activity attempt, in the run's trace
    from opentelemetry import context as _otel_context
    from opentelemetry import trace as _otel_trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    _propagator: Any = TraceContextTextMapPropagator()
except ImportError:  # pragma: no cover - exercised by installs without opentelemetry-api
    _otel_context = _otel_trace = _propagator = None  # type: ignore[assignment]

log = logging.getLogger("baton.worker")

#: Poll errors that retrying cannot fix: the worker stops and `run()` raises WorkerError.
_FATAL_POLL_CODES = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED,
                     grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNIMPLEMENTED}
#: Calls one connection may have in progress (the server's limit is 256).
_CALLS_PER_CONNECTION = 240
#: Report errors worth retrying (the report may not have arrived).
_RETRY_REPORT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                       grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED}


@dataclass(frozen=True)
class _Activity:
    fn: Callable[..., Any]
    is_async: bool
    takes_ctx: bool
    takes_input: bool


def _describe_callable(fn: Callable[..., Any]) -> _Activity:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))
    return _Activity(fn, is_async, takes_ctx=varargs or len(positional) >= 2,
                     takes_input=varargs or len(positional) >= 1)


@dataclass
class _Failure:
    type: str
    message: str
    non_retryable: bool = False
    details: JSON = None
    #: What the activity raised, if anything (recorded on the attempt's span).
    error: Optional[BaseException] = field(default=None, repr=False, compare=False)


def _mark_failed(span: Any, failure: _Failure) -> None:
    """An attempt that failed: status ERROR ("TYPE: message"), the failure type, the exception."""
    span.set_attribute("baton.error_type", failure.type)
    if failure.error is not None:
        span.record_exception(failure.error)
    span.set_status(_otel_trace.Status(_otel_trace.StatusCode.ERROR, f"{failure.type}: {failure.message}"))


def _in_otel_context(otel_context: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` run with `otel_context` attached (on the executor's thread), detached afterwards."""
    def call(*args: Any) -> Any:
        token = _otel_context.attach(otel_context)
        try:
            return fn(*args)
        finally:
            _otel_context.detach(token)
    return call


class Worker:
    """Serves activities from one task queue. See the module documentation for the behaviour.

    Parameters: `task_queue`; `address` ($BATON_ADDRESS, else 127.0.0.1:7400) or `channel` (a
    `grpc.aio.Channel` created on the loop that runs the worker); `namespace`; `identity` (shown
    in history; default HOST:PID); `max_concurrent` activities at once; `pollers` concurrent long
    polls (default min(max_concurrent, 4)); `poll_timeout` seconds per long poll;
    `heartbeat_interval` for tasks without a heartbeat timeout (None: only explicit heartbeats);
    `heartbeat_throttle` minimum seconds between two heartbeats of one attempt; `shutdown_grace`;
    `call_timeout` per report; `report_retry_timeout` for how long a report is retried;
    `max_tasks_per_poll` tasks one poll may bring when they wait on the queue and slots are free;
    `hand_over`: each completion asks for the next waiting task (one round trip instead of two);
    `executor` for sync activities (default: a thread pool of `max_concurrent` threads);
    `tracer_provider` for the attempts' spans (default: OpenTelemetry's global provider; ignored
    when opentelemetry-api is not installed).
    """

    def __init__(self, task_queue: str, *, address: Optional[str] = None, namespace: Optional[str] = None,
                 identity: Optional[str] = None, max_concurrent: int = 100, pollers: Optional[int] = None,
                 poll_timeout: float = 30.0, heartbeat_interval: Optional[float] = 10.0,
                 heartbeat_throttle: float = 0.5, shutdown_grace: float = 10.0, call_timeout: float = 10.0,
                 report_retry_timeout: float = 60.0, max_tasks_per_poll: int = 10, hand_over: bool = True,
                 channel: Optional[grpc.aio.Channel] = None,
                 executor: Optional[concurrent.futures.Executor] = None,
                 metadata: Sequence[tuple[str, str]] = (), tracer_provider: Any = None) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.task_queue = task_queue
        self.address = rq.resolve_address(address)
        self.identity = identity or f"{socket.gethostname()}:{os.getpid()}"
        self.max_concurrent = max_concurrent
        self.pollers = max(1, min(pollers or min(max_concurrent, 4), max_concurrent))
        self.poll_timeout = poll_timeout
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_throttle = heartbeat_throttle
        self.shutdown_grace = shutdown_grace
        self.call_timeout = call_timeout
        self.report_retry_timeout = report_retry_timeout
        self.max_tasks_per_poll = max(1, min(max_tasks_per_poll, 100))
        self.hand_over = hand_over
        self._channel_given = channel
        self._executor_given = executor
        self._tracer: Any = None
        if _otel_trace is not None:
            from . import __version__
            self._tracer = _otel_trace.get_tracer("baton.worker", __version__, tracer_provider=tracer_provider)
        self._metadata = rq.call_metadata(namespace, metadata)
        self._activities: dict[str, _Activity] = {}
        self._runners: dict[asyncio.Task, ActivityContext] = {}
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop_requested = threading.Event()
        self._hurry = threading.Event()
        self._wake_main: Optional[asyncio.Event] = None
        self._fatal: Optional[WorkerError] = None
        self._running = threading.Event()
        self._polls_ended = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- registration

    def activity(self, name: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: registers the function as the activity `name` (default: the function's name).

        The function takes `(input)` or `(input, ctx)` (or nothing); a plain function runs on the
        thread pool, an `async def` on the event loop. It returns a JSON value (the step's output)
        or raises (`ActivityError` for a typed failure).
        """
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(name or fn.__name__, fn)
            return fn
        return register

    def register(self, name: str, fn: Callable[..., Any]) -> None:
        """Registers `fn` as the activity `name` (what `@worker.activity(name)` does)."""
        if not name:
            raise ValueError("an activity needs a name")
        self._activities[name] = _describe_callable(fn)

    @property
    def activities(self) -> list[str]:
        """The registered activity names."""
        return sorted(self._activities)

    @property
    def in_flight(self) -> int:
        """Activities running now."""
        return len(self._runners)

    # -- lifecycle

    def run(self, *, handle_signals: bool = True) -> None:
        """Runs until `stop()` (or SIGINT/SIGTERM when `handle_signals` and on the main thread).

        Raises `WorkerError` when the server refuses the worker for good (e.g. a bad task queue).
        """
        asyncio.run(self.run_async(handle_signals=handle_signals))

    def start(self) -> threading.Thread:
        """Runs the worker on a background thread (no signal handling); `stop()` then `join()`."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the worker is already running")
        self._thread = threading.Thread(target=self.run, kwargs={"handle_signals": False},
                                        name=f"baton-worker-{self.task_queue}", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: Optional[float] = None) -> bool:
        """Waits for a worker started with `start()` to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_running(self, timeout: Optional[float] = None) -> bool:
        """Waits until the worker polls; True when it does."""
        return self._running.wait(timeout)

    @property
    def polling(self) -> bool:
        """True while the worker takes new tasks (from start until `stop()` has ended its polls)."""
        return self._running.is_set()

    def wait_polling_stopped(self, timeout: Optional[float] = None) -> bool:
        """After `stop()`: waits until no poll is in progress (running activities may still finish)."""
        return self._polls_ended.wait(timeout)

    def stop(self, grace: Optional[float] = None) -> None:
        """Stops polling and shuts down gracefully (thread-safe, idempotent, does not wait).

        Running activities get `grace` seconds (default `shutdown_grace`) to finish; `grace=0`
        fails them at once (retryably). A second call may shorten the grace to 0.
        """
        if grace == 0:
            self._hurry.set()
        self._stop_requested.set()
        loop, event = self._loop, self._wake_main
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass

    async def run_async(self, *, handle_signals: bool = False) -> None:
        """The worker as a coroutine: runs until `stop()`; see `run()`."""
        loop = asyncio.get_running_loop()
        self._loop, self._wake_main, self._fatal = loop, asyncio.Event(), None
        if self._stop_requested.is_set():
            self._wake_main.set()
        channel = self._channel_given or grpc.aio.insecure_channel(self.address, options=rq.CHANNEL_OPTIONS)
        self._stub = wks_grpc.WorkerServiceStub(channel)
        self._slots = asyncio.Semaphore(self.max_concurrent)
        # Reports and heartbeats share the channel's one connection with the polls; the server takes
        # at most 256 calls in progress per connection, so they are kept below that.
        self._call_slots = asyncio.Semaphore(max(8, _CALLS_PER_CONNECTION - self.pollers))
        self._executor = self._executor_given
        installed = self._install_signal_handlers(loop) if handle_signals else []
        pollers = [asyncio.create_task(self._poll_loop(i), name=f"baton-poller-{i}") for i in range(self.pollers)]
        log.info("worker %s polling task queue %r on %s (%d pollers, up to %d activities at once)",
                 self.identity, self.task_queue, self.address, self.pollers, self.max_concurrent)
        self._polls_ended.clear()
        self._running.set()
        try:
            await self._wake_main.wait()
        finally:
            for poller in pollers:
                poller.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            self._running.clear()
            self._polls_ended.set()
            await self._drain()
            for sig in installed:
                loop.remove_signal_handler(sig)
            if self._channel_given is None:
                await channel.close()
            if self._executor_given is None and self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._loop, self._wake_main = None, None
            self._stop_requested.clear()
            self._hurry.clear()
            log.info("worker %s stopped", self.identity)
        if self._fatal is not None:
            raise self._fatal

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> list[int]:
        if threading.current_thread() is not threading.main_thread():
            return []
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):
                pass
        return installed

    def _on_signal(self, sig: int) -> None:
        if self._stop_requested.is_set():
            log.warning("worker %s: second %s, failing running activities now", self.identity,
                        signal.Signals(sig).name)
            self.stop(grace=0)
        else:
            log.info("worker %s: %s, shutting down (grace %ss; again to skip it)", self.identity,
                     signal.Signals(sig).name, self.shutdown_grace)
            self.stop()

    async def _drain(self) -> None:
        """Lets running activities finish within the grace period, then fails the rest retryably."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (0 if self._hurry.is_set() else self.shutdown_grace)
        while self._runners and not self._hurry.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(list(self._runners), timeout=min(remaining, 0.1))
        if self._runners:
            log.warning("worker %s: %d activities still running after the grace period; failing them "
                        "(WorkerShutdown, retryable)", self.identity, len(self._runners))
            for ctx in list(self._runners.values()):
                ctx._cancel(WORKER_SHUTDOWN, interrupt=True)
            # Each runner now reports its failure (bounded by the report retry budget).
            _, pending = await asyncio.wait(list(self._runners), timeout=self.call_timeout * 2)
            for runner in pending:
                ctx = self._runners.get(runner)
                if ctx is not None:
                    ctx._abandoned = True
                runner.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)

    # -- polling

    async def _poll_loop(self, index: int) -> None:
        failures = 0
        request = wks.PollActivityTaskRequest(task_queue=self.task_queue, worker_identity=self.identity)
        while True:
            await self._slots.acquire()
            # Free slots beyond the first let one poll bring tasks already waiting on the queue.
            slots = 1
            while slots < self.max_tasks_per_poll and not self._slots.locked():
                await self._slots.acquire()  # does not wait: a slot is free
                slots += 1
            request.max_tasks = slots
            try:
                task = await self._stub.PollActivityTask(request, timeout=self.poll_timeout,
                                                         metadata=self._metadata)
            except asyncio.CancelledError:
                self._release(slots)
                raise
            except grpc.RpcError as error:
                self._release(slots)
                code = error.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                if code in _FATAL_POLL_CODES:
                    self._fatal = WorkerError(f"the server refuses to serve task queue {self.task_queue!r} to "
                                              f"this worker: {code.name}: {error.details()}")
                    log.error("%s", self._fatal)
                    self.stop(grace=self.shutdown_grace)
                    return
                failures += 1
                pause = rq.backoff(failures)
                if failures == 1 or failures % 10 == 0:
                    log.warning("worker %s: poll failed (%s: %s); retrying in %.1fs", self.identity,
                                code.name, error.details(), pause)
                await asyncio.sleep(pause)
                continue
            if failures:
                log.info("worker %s: polling again after %d failures", self.identity, failures)
                failures = 0
            tasks = [task, *task.additional_tasks] if task.task_token else []
            tasks = [t for t in tasks if t.task_token][:slots]
            self._release(slots - len(tasks))
            for leased in tasks:
                self._spawn(leased)

    def _release(self, slots: int) -> None:
        for _ in range(slots):
            self._slots.release()

    def _spawn(self, task: wks.PollActivityTaskResponse) -> None:
        """Runs a leased task on a slot already taken for it."""
        ctx = ActivityContext(task, asyncio.get_running_loop(), self.identity)
        runner = asyncio.create_task(self._run_task(task, ctx), name=f"baton-activity-{task.idempotency_key}")
        self._runners[runner] = ctx

    # -- running one attempt

    async def _run_task(self, task: wks.PollActivityTaskResponse, ctx: ActivityContext) -> None:
        """Runs the task, then each task the server hands over with the completion, on one slot."""
        runner = asyncio.current_task()
        assert runner is not None
        try:
            while True:
                interval = ctx.heartbeat_timeout / 3 if ctx.heartbeat_timeout else self.heartbeat_interval
                heartbeats = Heartbeater(ctx, self._send_heartbeat, interval, self.heartbeat_throttle)
                try:
                    handed_over = await self._attempt(task, ctx, heartbeats)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug here must not kill the worker silently
                    log.exception("worker %s: running %s failed", self.identity, ctx.idempotency_key)
                    handed_over = None
                finally:
                    heartbeats.cancel()
                if handed_over is None:
                    return
                task, ctx = handed_over, ActivityContext(handed_over, asyncio.get_running_loop(), self.identity)
                self._runners[runner] = ctx
        finally:
            self._runners.pop(runner, None)
            self._slots.release()

    async def _attempt(self, task: wks.PollActivityTaskResponse, ctx: ActivityContext,
                       heartbeats: Heartbeater) -> Optional[wks.PollActivityTaskResponse]:
        """Executes the activity and reports its outcome; returns the next task when the server
        handed one over with the completion (CompleteActivityTask's next_task)."""
        with self._attempt_span(task) as span:
            output, failure = await self._execute(ctx, task)
            if failure is None:
                try:
                    request = rq.complete_request(task.task_token, output)
                except (TypeError, ValueError) as error:
                    failure = _Failure("InvalidOutput", f"the activity returned no JSON value: {error}",
                                       non_retryable=True, error=error)
            if span is not None and failure is not None:
                _mark_failed(span, failure)
        await heartbeats.stop(flush=failure is not None)
        if failure is None:
            if self.hand_over and not self._stop_requested.is_set():
                request.next_task_queue, request.worker_identity = self.task_queue, self.identity
            reply, code = await self._report(self._stub.CompleteActivityTask, request, ctx)
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED):
                failure = _Failure("OutputRejected", f"the server refused the output ({code.name})",
                                   non_retryable=True)
            elif reply is not None and reply.HasField("next_task") and reply.next_task.task_token:
                return reply.next_task
        if failure is not None:
            await self._report(self._stub.FailActivityTask, self._fail_request(task.task_token, failure), ctx)
        return None

    async def _execute(self, ctx: ActivityContext, task: wks.PollActivityTaskResponse) -> tuple[JSON, Optional[_Failure]]:
        activity = self._activities.get(task.activity)
        if activity is None:
            return None, _Failure("ActivityNotRegistered",
                                  f"worker {self.identity} on task queue {self.task_queue!r} has no activity "
                                  f"{task.activity!r} (it has: {', '.join(self.activities) or 'none'})",
                                  non_retryable=True)
        payload = from_value(task.input) if task.HasField("input") else None
        args = ((payload,) if activity.takes_input else ()) + ((ctx,) if activity.takes_ctx else ())
        if activity.is_async:
            ctx._is_async = True
            future: asyncio.Future = asyncio.ensure_future(activity.fn(*args))
        else:
            if self._executor is None:  # created on first use: only sync activities need threads
                self._executor = concurrent.futures.ThreadPoolExecutor(self.max_concurrent,
                                                                       thread_name_prefix="baton-activity")
            context = contextvars.copy_context()
            fn = activity.fn if self._tracer is None else _in_otel_context(_otel_context.get_current(), activity.fn)
            future = asyncio.wrap_future(self._executor.submit(context.run, fn, *args))
        ctx._activity_future = future
        try:
            return await future, None
        except asyncio.CancelledError as error:
            if ctx._abandoned:
                raise  # the runner itself is being cancelled (shutdown could not report in time)
            return None, self._cancelled_failure(ctx, "the activity was cancelled", error)
        except ActivityError as error:
            if ctx.cancelled.is_set() and ctx.cancel_reason == WORKER_SHUTDOWN:
                return None, self._cancelled_failure(ctx, error.message, error)
            return None, _Failure(error.type, error.message, error.non_retryable, error.details, error=error)
        except Exception as error:  # any other exception is a failure typed by its class
            if ctx.cancelled.is_set():
                return None, self._cancelled_failure(ctx, str(error) or type(error).__name__, error)
            return None, _Failure(type(error).__name__, str(error) or repr(error), error=error)

    def _cancelled_failure(self, ctx: ActivityContext, message: str,
                           error: Optional[BaseException] = None) -> _Failure:
        if ctx.cancel_reason == WORKER_SHUTDOWN:
            return _Failure("WorkerShutdown", f"worker {self.identity} shut down before the activity finished "
                                              f"({message})", error=error)
        return _Failure("Cancelled", message, non_retryable=True, error=error)

    @contextlib.contextmanager
    def _attempt_span(self, task: wks.PollActivityTaskResponse) -> Iterator[Any]:
        """The attempt's span `activity TYPE`, current for the block (None without OpenTelemetry): a
        child of the task's traceparent (the server's span of the attempt), else the root of a trace."""
        if self._tracer is None:
            yield None
            return
        parent = _propagator.extract({"traceparent": task.traceparent})
        span = self._tracer.start_span(
            f"activity {task.activity}", context=parent, kind=_otel_trace.SpanKind.CONSUMER,
            attributes={"baton.workflow_id": task.workflow_id, "baton.step": task.step,
                        "baton.attempt": task.attempt, "baton.activity": task.activity})
        # The runner task's context: the activity's task (copied at creation) and its thread's
        # context (see _in_otel_context) see the span as current.
        with _otel_trace.use_span(span, end_on_exit=True):
            yield span

    @staticmethod
    def _fail_request(token: str, failure: _Failure) -> wks.FailActivityTaskRequest:
        proto = common_pb2.Failure(type=failure.type, message=failure.message[:32 * 1024],
                                   non_retryable=failure.non_retryable)
        if failure.details is not None:
            try:
                proto.details.CopyFrom(to_value(failure.details))
            except (TypeError, ValueError) as error:
                proto.message = f"{proto.message} (details dropped: {error})"[:32 * 1024]
        return wks.FailActivityTaskRequest(task_token=token, failure=proto)

    async def _report(self, method: Callable[..., Any], request: Any,
                      ctx: ActivityContext) -> tuple[Any, Optional[grpc.StatusCode]]:
        """Sends a completion or failure, retrying transient errors: (the reply, None), or (None, the
        final error code). A retried completion no longer asks for a hand-over (a lost answer's task
        would be leased to nobody)."""
        deadline = time.monotonic() + self.report_retry_timeout
        attempt = 0
        while True:
            try:
                async with self._call_slots:
                    return await method(request, timeout=self.call_timeout, metadata=self._metadata), None
            except grpc.RpcError as error:
                code = error.code()
                if code == grpc.StatusCode.NOT_FOUND:
                    log.info("worker %s: %s is no longer leased (%s); report dropped", self.identity,
                             ctx.idempotency_key, error.details())
                    return None, code
                attempt += 1
                if code not in _RETRY_REPORT_CODES or time.monotonic() >= deadline:
                    log.error("worker %s: could not report %s: %s: %s", self.identity, ctx.idempotency_key,
                              code.name, error.details())
                    return None, code
                if isinstance(request, wks.CompleteActivityTaskRequest):
                    request.ClearField("next_task_queue")
                await asyncio.sleep(min(rq.backoff(attempt), max(0.0, deadline - time.monotonic())))

    # -- heartbeats

    async def _send_heartbeat(self, ctx: ActivityContext) -> bool:
        """One RecordHeartbeat; False when no more should be sent (cancelled or lease lost)."""
        _, details = ctx._take_details()
        request = wks.RecordHeartbeatRequest(task_token=ctx.task_token)
        if details is not None:
            request.details.CopyFrom(details)
        try:
            async with self._call_slots:
                reply = await self._stub.RecordHeartbeat(request, timeout=self.call_timeout,
                                                         metadata=self._metadata)
        except asyncio.CancelledError:
            ctx._mark_unsent()  # it may not have arrived: a flush sends it again
            raise
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                log.info("worker %s: %s lost its lease (%s); asking it to stop", self.identity,
                         ctx.idempotency_key, error.details())
                ctx._cancel(LEASE_LOST, interrupt=False)
                return False
            ctx._mark_unsent()  # try again on the next beat
            log.debug("worker %s: heartbeat of %s failed: %s", self.identity, ctx.idempotency_key, error)
            return True
        if reply.cancel_requested:
            log.info("worker %s: %s was cancelled; asking it to stop", self.identity, ctx.idempotency_key)
            ctx._cancel(CANCEL_REQUESTED, interrupt=False)
            return False
        return True
