"""The Python SDK (clients/python, import name `baton`) end to end against a real `baton server`:
the sync and asyncio clients, the worker (retries, heartbeats, cancellation, concurrency limit,
graceful shutdown, reconnects), typed errors, integer round trips, the quickstart, the marketing
worker example, the stub drift check and `pip install`.

A few worker behaviours depend on fields the server does not send yet (a task's heartbeat_timeout
and deadline) or on timings a real server cannot be made to produce on demand (UNAVAILABLE polls,
a cancel answered to a heartbeat before the run closes); those are checked against a scripted
WorkerService (`FakeWorkerService`) in the same process.

Every wait is bounded; the activities synchronize with the tests through threading events,
semaphores and barriers, never sleeps.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest

import baton
import baton.aio
from baton.v1 import common_pb2
from baton.v1 import worker_service_pb2 as wks
from baton.v1 import worker_service_pb2_grpc as wks_grpc
from conftest import REPO, Server

CLIENT_DIR = REPO / "clients" / "python"
WAIT = 60.0  # seconds: the bound of every wait for a run or a worker in this module

APPROVAL = """
name: sdk_approval
steps:
  prepare: { activity: builtin.echo, input: { item: "${input.item}" } }
  approve:
    depends_on: [prepare]
    wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }
output: { approved: "${steps.approve.signal.ok}", item: "${steps.prepare.output.item}" }
"""

ECHO = """
name: sdk_echo
steps:
  a: { activity: builtin.echo, input: "${input}" }
output: "${steps.a.output}"
"""

FAILING = """
name: sdk_failing
defaults: { retry: { maximum_attempts: 1 } }
steps:
  boom: { activity: builtin.fail, input: { type: Boom, message: "it broke", non_retryable: true } }
on_failure: fail
"""


def three_steps(name: str, queue_name: str) -> str:
    """A → (B, C) on `queue_name`, each step an activity `NAME.a|b|c` of a Python worker."""
    return f"""
name: {name}
defaults:
  task_queue: {queue_name}
  retry: {{ initial_interval: 10ms, maximum_attempts: 3 }}
steps:
  a: {{ activity: {name}.a, input: {{ n: "${{input.n}}" }} }}
  b: {{ activity: {name}.b, depends_on: [a], input: {{ n: "${{steps.a.output.n}}" }} }}
  c: {{ activity: {name}.c, depends_on: [a], input: {{ n: "${{steps.a.output.n}}" }} }}
output: {{ a: "${{steps.a.output}}", b: "${{steps.b.output}}", c: "${{steps.c.output}}" }}
"""


def one_step(name: str, queue_name: str, activity: str) -> str:
    return f"""
name: {name}
defaults: {{ task_queue: {queue_name}, retry: {{ initial_interval: 10ms, maximum_attempts: 5 }} }}
steps:
  s: {{ activity: {activity}, input: "${{input}}" }}
output: "${{steps.s.output}}"
"""


@pytest.fixture(scope="module")
def srv():
    s = Server([])
    yield s
    assert s.terminate() == 0, s.stderr()


@pytest.fixture(autouse=True)
def baton_address(srv, monkeypatch):
    """Workers and clients built without an address use $BATON_ADDRESS: the module's server."""
    monkeypatch.setenv("BATON_ADDRESS", srv.addr)


@pytest.fixture
def client(srv):
    with baton.Client(srv.addr) as c:
        yield c


class running:
    """Runs a worker on a background thread for the `with` block; stops it and waits at the end."""

    def __init__(self, worker: baton.Worker) -> None:
        self.worker = worker

    def __enter__(self) -> baton.Worker:
        self.worker.start()
        assert self.worker.wait_running(WAIT), "the worker did not start polling"
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.stop(grace=5)
        assert self.worker.join(WAIT), "the worker did not stop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- clients


def test_sync_client_start_signal_query_stream_and_await(client):
    assert client.register(APPROVAL).name == "sdk_approval"
    run = client.start("sdk_approval", {"item": "x"}, workflow_id="sdk-sync-1")
    assert run.workflow_id == "sdk-sync-1" and run.run_id and run.started
    stream = run.stream_progress(timeout=WAIT)
    first = next(stream)
    assert first.workflow_id == "sdk-sync-1" and first.status == baton.WorkflowStatus.RUNNING
    progress = first
    while "approve" not in progress.waiting_for_signals:
        progress = next(stream)
    assert progress.waiting_for_signals == {"approve": "approve"}
    assert "approve" in str(run.query("progress"))
    assert run.signal("approve", {"ok": True}, request_id="r-1") is True
    assert run.signal("approve", {"ok": True}, request_id="r-1") is False  # a repeated request id
    rest = list(stream)
    assert rest[-1].status == baton.WorkflowStatus.COMPLETED and rest[-1].percentage == 100
    assert run.await_result(timeout=WAIT) == {"approved": True, "item": "x"}
    assert run.query("output") == {"approved": True, "item": "x"}
    described = run.describe()
    assert described.status == baton.WorkflowStatus.COMPLETED and described.run_id == run.run_id
    assert [s.name for s in described.steps] == ["prepare", "approve"]
    events = list(run.history(page_size=3))
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    assert events[0].type == "WorkflowStarted" and events[-1].type == "WorkflowCompleted"
    pages = list(run.history_pages(page_size=3))
    assert all(len(page) <= 3 for page in pages) and sum(map(len, pages)) == len(events)
    # Reuse policies: REJECT refuses a taken id; the default starts a new run over a closed one.
    with pytest.raises(baton.AlreadyExists):
        client.start("sdk_approval", {"item": "y"}, workflow_id="sdk-sync-1",
                     id_reuse_policy=baton.IdReusePolicy.REJECT)
    again = client.start("sdk_approval", {"item": "y"}, workflow_id="sdk-sync-1")
    assert again.started and again.run_id != run.run_id and again.previous_run_id == run.run_id
    assert run.describe().status == baton.WorkflowStatus.COMPLETED  # the handle keeps its own run
    assert client.get_handle("sdk-sync-1").describe().run_id == again.run_id
    again.terminate("done with it")
    assert "sdk-sync-1" in [w.workflow_id for w in client.list_workflows(definition="sdk_approval")]


def test_async_client_start_signal_query_stream_and_await(srv):
    async def scenario() -> None:
        async with baton.aio.Client(srv.addr) as client:
            await client.register(APPROVAL)
            run = await client.start("sdk_approval", {"item": 5}, workflow_id="sdk-async-1")
            assert run.run_id and run.started
            seen = []
            async for progress in run.stream_progress(timeout=WAIT):
                seen.append(progress)
                if "approve" in progress.waiting_for_signals:
                    assert "approve" in str(await run.query("progress"))
                    assert await run.signal("approve", {"ok": False}) is True
            assert seen[-1].status == baton.WorkflowStatus.COMPLETED
            assert await run.await_result(timeout=WAIT) == {"approved": False, "item": 5}
            events = [e async for e in run.history(page_size=2)]
            assert events[-1].type == "WorkflowCompleted"
            assert (await run.describe()).status == baton.WorkflowStatus.COMPLETED
            # Cancel: await_result raises WorkflowFailed with the status.
            other = await client.start("sdk_approval", {"item": 6})
            await other.cancel("not needed")
            with pytest.raises(baton.WorkflowFailed) as failed:
                await other.await_result(timeout=WAIT)
            assert failed.value.status == baton.WorkflowStatus.CANCELLED
            assert failed.value.workflow_id == other.workflow_id and failed.value.run_id == other.run_id
            # Errors are typed in asyncio too.
            with pytest.raises(baton.NotFound):
                await client.describe("sdk-async-never")
            with pytest.raises(baton.DeadlineExceeded):
                await (await client.start("sdk_approval", {"item": 7})).await_result(timeout=0.5)

    asyncio.run(asyncio.wait_for(scenario(), WAIT * 2))


def test_await_result_times_out_and_raises_workflow_failed_with_status_and_failure(client):
    client.register(APPROVAL)
    client.register(FAILING)
    run = client.start("sdk_approval", {"item": "t"})
    began = time.monotonic()
    with pytest.raises(baton.DeadlineExceeded) as timed_out:
        run.await_result(timeout=0.5)
    assert isinstance(timed_out.value, TimeoutError) and time.monotonic() - began < 10
    run.terminate("stop")
    with pytest.raises(baton.WorkflowFailed) as terminated:
        run.await_result(timeout=WAIT)
    assert terminated.value.status == baton.WorkflowStatus.TERMINATED
    with pytest.raises(baton.WorkflowFailed) as failed:
        client.execute("sdk_failing", None, timeout=WAIT)
    assert failed.value.status == baton.WorkflowStatus.FAILED
    assert failed.value.failure.type == "Boom" and failed.value.failure.message == "it broke"
    assert failed.value.failure.step == "boom"
    assert "FAILED" in str(failed.value) and "Boom" in str(failed.value)


def test_json_integers_round_trip(client):
    value = {"i": 7, "neg": -3, "zero": 0, "f": 2.5, "tiny": 1e-9, "big": 2**53, "nested": [1, {"x": 2}],
             "s": "7", "b": True, "n": None}
    assert baton.from_value(baton.to_value(value)) == value
    client.register(ECHO)
    echoed = client.execute("sdk_echo", value, timeout=WAIT)
    assert echoed == value
    assert type(echoed["i"]) is int and type(echoed["nested"][1]["x"]) is int and type(echoed["big"]) is int
    assert type(echoed["f"]) is float and type(echoed["tiny"]) is float
    assert client.execute("sdk_echo", 7, timeout=WAIT) == 7
    with pytest.raises(ValueError, match="2\\*\\*53"):
        baton.to_value(2**53 + 1)
    with pytest.raises(TypeError):
        baton.to_value({"s": {1, 2}})


def test_bad_input_maps_to_typed_errors_with_status_and_message(client):
    with pytest.raises(baton.NotFound) as unknown:
        client.describe("sdk-never-started")
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND and "sdk-never-started" in unknown.value.message
    with pytest.raises(baton.NotFound):
        client.start("sdk_no_such_definition")
    with pytest.raises(baton.InvalidArgument) as bad_definition:
        client.register("name: bad\nsteps:\n  a: { activity: x, depends_on: [ghost] }\n")
    assert bad_definition.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "ghost" in bad_definition.value.message and "3:" in bad_definition.value.message
    with pytest.raises(baton.InvalidArgument):
        client.register('{"name": "bad_json", "steps": {')  # invalid JSON
    client.register(ECHO)
    client.execute("sdk_echo", 1, workflow_id="sdk-closed", timeout=WAIT)
    with pytest.raises(baton.FailedPrecondition) as closed:
        client.signal("sdk-closed", "late")
    assert closed.value.code == grpc.StatusCode.FAILED_PRECONDITION and "closed" in closed.value.message
    with pytest.raises(baton.InvalidArgument) as bad_page:
        list(client.history_pages("sdk-closed", page_size=5000))
    assert "page_size" in bad_page.value.message
    assert isinstance(closed.value, baton.BatonError) and str(closed.value).startswith("FAILED_PRECONDITION: ")


# ---------------------------------------------------------------- the worker against the server


def test_worker_completes_retries_and_hands_heartbeat_details_to_the_next_attempt(client):
    client.register(three_steps("sdk_three", "sdk-q-three"))
    seen = []
    worker = baton.Worker("sdk-q-three", max_concurrent=4)

    @worker.activity("sdk_three.a")
    def step_a(payload, ctx: baton.ActivityContext):
        seen.append((ctx.attempt, ctx.idempotency_key, ctx.workflow_id, ctx.step, ctx.heartbeat_details))
        ctx.heartbeat({"page": ctx.attempt})
        if ctx.attempt == 1:
            raise baton.ActivityError("Flaky", "the first attempt fails")
        return {"n": payload["n"], "resumed_from": ctx.heartbeat_details}

    @worker.activity("sdk_three.b")
    async def step_b(payload):
        await asyncio.sleep(0)
        return payload["n"] + 1

    @worker.activity("sdk_three.c")
    def step_c(payload):
        return payload["n"] * 2.5

    with running(worker):
        run = client.start("sdk_three", {"n": 4}, workflow_id="sdk-three-1")
        assert run.await_result(timeout=WAIT) == {"a": {"n": 4, "resumed_from": {"page": 1}}, "b": 5, "c": 10.0}
    assert seen == [(1, "sdk-three-1/a/1", "sdk-three-1", "a", None),
                    (2, "sdk-three-1/a/2", "sdk-three-1", "a", {"page": 1})]
    failed = [e.step_failed for e in run.history() if e.type == "StepFailed"]
    assert [(f.step, f.failure.type, f.failure.message) for f in failed] == [("a", "Flaky", "the first attempt fails")]
    assert {s.name: s.attempts for s in run.describe().steps} == {"a": 2, "b": 1, "c": 1}


def test_automatic_heartbeats_keep_a_long_attempt_alive_past_its_heartbeat_timeout(client):
    """The step's heartbeat_timeout is 1 s and the activity runs 2.5 s without calling heartbeat():
    the worker's automatic heartbeats (every timeout / 3) keep the attempt's lease."""
    client.register("""
name: sdk_long_beat
defaults: { task_queue: sdk-q-beat, retry: { maximum_attempts: 1 } }
steps:
  long: { activity: sdk_beat.long, heartbeat_timeout: 1s }
output: "${steps.long.output}"
""")
    seen = {}
    worker = baton.Worker("sdk-q-beat", heartbeat_interval=None)

    @worker.activity("sdk_beat.long")
    def long_step(payload, ctx):
        seen["timeout"] = ctx.heartbeat_timeout
        if ctx.heartbeat_timeout is None:
            return "no heartbeat_timeout"
        ctx.cancelled.wait(2.5)  # the duration is what is tested: longer than the heartbeat timeout
        return {"attempt": ctx.attempt, "cancelled": ctx.cancelled.is_set()}

    with running(worker):
        result = client.execute("sdk_long_beat", timeout=WAIT)
    assert seen["timeout"] is not None, "the server sent no heartbeat_timeout with the task"
    assert seen["timeout"] == pytest.approx(1.0)
    assert result == {"attempt": 1, "cancelled": False}


def test_worker_surfaces_cancellation_to_sync_and_async_activities(client):
    client.register("""
name: sdk_cancel
defaults: { task_queue: sdk-q-cancel }
steps:
  sync_step: { activity: sdk_cancel.sync }
  async_step: { activity: sdk_cancel.async }
""")
    both_started = threading.Barrier(3, timeout=WAIT)
    observed = {}
    done = {"sync": threading.Event(), "async": threading.Event()}
    worker = baton.Worker("sdk-q-cancel", max_concurrent=4, heartbeat_throttle=0.05)

    @worker.activity("sdk_cancel.sync")
    def sync_step(payload, ctx):
        both_started.wait()
        try:
            deadline = time.monotonic() + WAIT
            while not ctx.cancelled.wait(0.05) and time.monotonic() < deadline:
                ctx.heartbeat({"waiting": True})
            observed["sync"] = ctx.cancel_reason
            ctx.raise_if_cancelled()
        finally:
            done["sync"].set()

    @worker.activity("sdk_cancel.async")
    async def async_step(payload, ctx):
        await asyncio.get_running_loop().run_in_executor(None, both_started.wait)
        try:
            while True:
                ctx.heartbeat()
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            observed["async"] = ctx.cancel_reason
            raise
        finally:
            done["async"].set()

    with running(worker):
        run = client.start("sdk_cancel")
        both_started.wait()
        run.cancel("the test cancels")
        assert done["sync"].wait(WAIT) and done["async"].wait(WAIT)
        with pytest.raises(baton.WorkflowFailed) as cancelled:
            run.await_result(timeout=WAIT)
    assert observed == {"sync": "cancel_requested", "async": "cancel_requested"}
    assert cancelled.value.status == baton.WorkflowStatus.CANCELLED
    assert {s.name: s.last_failure.type for s in run.describe().steps} == {"sync_step": "Cancelled",
                                                                            "async_step": "Cancelled"}


def test_worker_concurrency_limit_holds(client):
    client.register(one_step("sdk_slow", "sdk-q-slow", "sdk_slow.work"))
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}
    started = threading.Semaphore(0)
    release = threading.Event()
    worker = baton.Worker("sdk-q-slow", max_concurrent=3, pollers=3)

    @worker.activity("sdk_slow.work")
    def work(payload):
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        started.release()
        try:
            assert release.wait(WAIT)
        finally:
            with lock:
                state["running"] -= 1
        return payload

    with running(worker):
        runs = [client.start("sdk_slow", i) for i in range(6)]
        for _ in range(3):
            assert started.acquire(timeout=WAIT), "three activities should run at once"
        # Three are running and three wait in the queue: no fourth may start while they hold.
        assert not started.acquire(timeout=1.0)
        assert worker.in_flight == 3 and state["running"] == 3
        release.set()
        assert [r.await_result(timeout=WAIT) for r in runs] == list(range(6))
        for _ in range(3):
            assert started.acquire(timeout=WAIT)
    assert state["peak"] == 3


def test_graceful_shutdown_finishes_in_flight_work_and_takes_no_more(client):
    client.register(one_step("sdk_grace", "sdk-q-grace", "sdk_grace.work"))
    started, gate = threading.Event(), threading.Event()
    worker = baton.Worker("sdk-q-grace", max_concurrent=4, shutdown_grace=WAIT)
    attempts = []

    @worker.activity("sdk_grace.work")
    def work(payload, ctx):
        attempts.append(ctx.idempotency_key)
        started.set()
        assert gate.wait(WAIT)
        return {"finished": payload}

    worker.start()
    assert worker.wait_running(WAIT)
    first = client.start("sdk_grace", 1)
    assert started.wait(WAIT)
    worker.stop()
    assert worker.wait_polling_stopped(WAIT)
    second = client.start("sdk_grace", 2)  # queued: the stopping worker takes nothing new
    assert worker.in_flight == 1 and not worker.join(0.2)
    gate.set()
    assert worker.join(WAIT), "the worker did not stop after its last activity finished"
    assert first.await_result(timeout=WAIT) == {"finished": 1}
    assert attempts == [f"{first.workflow_id}/s/1"]
    # The second run's attempt is still waiting; a new worker runs it (first attempt, no retry).
    with running(baton.Worker("sdk-q-grace")) as again:
        again.register("sdk_grace.work", lambda payload: {"later": payload})
        assert second.await_result(timeout=WAIT) == {"later": 2}
    assert {s.name: s.attempts for s in second.describe().steps} == {"s": 1}


def test_shutdown_past_the_grace_fails_the_attempt_retryably_and_it_runs_again(client):
    client.register(one_step("sdk_hurry", "sdk-q-hurry", "sdk_hurry.work"))
    started, gate = threading.Event(), threading.Event()
    stubborn = baton.Worker("sdk-q-hurry", shutdown_grace=0.2)

    @stubborn.activity("sdk_hurry.work")
    def never_done(payload, ctx):
        started.set()
        gate.wait(WAIT)  # ignores ctx.cancelled: the grace period runs out
        return "too late"

    stubborn.start()
    assert stubborn.wait_running(WAIT)
    run = client.start("sdk_hurry", 3)
    assert started.wait(WAIT)
    stubborn.stop()
    assert stubborn.join(WAIT)
    gate.set()
    with running(baton.Worker("sdk-q-hurry")) as second:
        second.register("sdk_hurry.work", lambda payload, ctx: {"attempt": ctx.attempt})
        assert run.await_result(timeout=WAIT) == {"attempt": 2}
    failures = [e.step_failed.failure for e in run.history() if e.type == "StepFailed"]
    assert [(f.type, f.non_retryable) for f in failures] == [("WorkerShutdown", False)]


def test_worker_reconnects_after_the_server_restarts(tmp_path):
    port, data = free_port(), str(tmp_path / "data")
    first = Server(["--listen", f"127.0.0.1:{port}"], data_dir=data)
    address = first.addr
    with baton.Client(address) as c:
        c.register(one_step("sdk_restart", "sdk-q-restart", "sdk_restart.work"))
    worker = baton.Worker("sdk-q-restart", address=address, poll_timeout=2)
    worker.register("sdk_restart.work", lambda payload: {"served": payload})
    second = None
    try:
        with running(worker):
            assert first.terminate() == 0
            second = Server(["--listen", f"127.0.0.1:{port}"], data_dir=data)
            with baton.Client(address) as c:
                assert c.execute("sdk_restart", 9, timeout=WAIT) == {"served": 9}
    finally:
        first.kill()
        if second is not None:
            assert second.terminate() == 0


# ---------------------------------------------------------------- the worker against a scripted server


class FakeWorkerService(wks_grpc.WorkerServiceServicer):
    """A WorkerService that hands out given tasks and records what the worker reports."""

    def __init__(self, tasks=(), unavailable_polls=0, heartbeats_wanted=0):
        self.tasks = queue.Queue()
        for task in tasks:
            self.tasks.put(task)
        self.unavailable_polls = unavailable_polls
        self.polls = 0
        self.cancel_tokens = set()
        self.heartbeats = []
        self.enough_heartbeats = threading.Event()
        self.heartbeats_wanted = heartbeats_wanted
        self.reports = queue.Queue()
        self.lock = threading.Lock()
        self.handover = queue.Queue()  # tasks handed over with a completion that asks for one
        self.max_tasks = []
        self.next_task_queues = []

    def PollActivityTask(self, request, context):
        with self.lock:
            self.polls += 1
            refuse = self.unavailable_polls > 0
            self.unavailable_polls -= refuse
            self.max_tasks.append(request.max_tasks)
        if refuse:
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted: not yet")
        try:
            first = self.tasks.get(timeout=max(0.01, min(0.5, context.time_remaining() - 0.1)))
        except queue.Empty:
            return wks.PollActivityTaskResponse()
        reply = wks.PollActivityTaskResponse()
        reply.CopyFrom(first)
        while len(reply.additional_tasks) < request.max_tasks - 1 and not self.tasks.empty():
            reply.additional_tasks.add().CopyFrom(self.tasks.get_nowait())
        return reply

    def RecordHeartbeat(self, request, context):
        with self.lock:
            self.heartbeats.append((request.task_token, baton.from_value(request.details)
                                    if request.HasField("details") else None))
            with_details = [d for _, d in self.heartbeats if d is not None]
            if self.heartbeats_wanted and len(with_details) >= self.heartbeats_wanted:
                self.enough_heartbeats.set()
        return wks.RecordHeartbeatResponse(cancel_requested=request.task_token in self.cancel_tokens)

    def CompleteActivityTask(self, request, context):
        self.next_task_queues.append(request.next_task_queue)
        self.reports.put(("complete", request.task_token, baton.from_value(request.output)))
        reply = wks.CompleteActivityTaskResponse()
        if request.next_task_queue and not self.handover.empty():
            reply.next_task.CopyFrom(self.handover.get_nowait())
        return reply

    def FailActivityTask(self, request, context):
        self.reports.put(("fail", request.task_token, request.failure))
        return wks.FailActivityTaskResponse()


class fake_server:
    def __init__(self, service: FakeWorkerService) -> None:
        self.service = service

    def __enter__(self) -> str:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        wks_grpc.add_WorkerServiceServicer_to_server(self.service, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        return f"127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None)


def fake_task(token: str, activity: str, heartbeat_timeout: float | None = None, attempt: int = 1,
              traceparent: str = ""):
    task = wks.PollActivityTaskResponse(task_token=token, workflow_id="wf", step="s", activity=activity,
                                        attempt=attempt, idempotency_key=f"wf/s/{attempt}",
                                        traceparent=traceparent)
    task.input.CopyFrom(baton.to_value({"x": 1}))
    task.deadline.FromSeconds(int(time.time()) + 300)
    if heartbeat_timeout is not None:
        task.heartbeat_timeout.FromNanoseconds(int(heartbeat_timeout * 1e9))
    return task


def test_worker_heartbeats_every_third_of_the_heartbeat_timeout(tmp_path):
    service = FakeWorkerService([fake_task("t" * 32, "beat", heartbeat_timeout=0.3)], heartbeats_wanted=3)
    seen = {}
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, heartbeat_interval=None)

        @worker.activity("beat")
        def beat(payload, ctx):
            seen.update(timeout=ctx.heartbeat_timeout, deadline=ctx.deadline)
            ctx.heartbeat({"step": 1})
            assert service.enough_heartbeats.wait(WAIT), "no automatic heartbeats"
            return "ok"

        with running(worker):
            assert service.reports.get(timeout=WAIT) == ("complete", "t" * 32, "ok")
    assert seen["timeout"] == pytest.approx(0.3) and seen["deadline"] is not None
    # One explicit heartbeat, then automatic ones (every 0.1 s) that repeat the last details.
    with_details = [details for _, details in service.heartbeats if details is not None]
    assert len(with_details) >= 3 and all(d == {"step": 1} for d in with_details), service.heartbeats


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cancel_requested_stops_the_activity_and_is_reported_as_cancelled(kind):
    token = ("c" if kind == "sync" else "d") * 32
    service = FakeWorkerService([fake_task(token, "long")])
    service.cancel_tokens.add(token)
    observed = threading.Event()
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, heartbeat_throttle=0.05)
        if kind == "sync":
            @worker.activity("long")
            def long_sync(payload, ctx):
                ctx.heartbeat()
                assert ctx.cancelled.wait(WAIT)
                observed.set()
                raise RuntimeError("stopping")
        else:
            @worker.activity("long")
            async def long_async(payload, ctx):
                ctx.heartbeat()
                try:
                    await asyncio.sleep(WAIT)
                except asyncio.CancelledError:
                    observed.set()
                    raise

        with running(worker):
            verb, reported_token, failure = service.reports.get(timeout=WAIT)
    assert observed.is_set()
    assert (verb, reported_token, failure.type) == ("fail", token, "Cancelled")


def test_worker_backs_off_on_unavailable_and_recovers():
    service = FakeWorkerService([fake_task("u" * 32, "easy")], unavailable_polls=6)
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, pollers=2)
        worker.register("easy", lambda payload: payload)
        with running(worker):
            assert service.reports.get(timeout=WAIT) == ("complete", "u" * 32, {"x": 1})
    assert service.polls > 6


def test_worker_takes_waiting_tasks_in_one_poll_and_tasks_handed_over_with_a_completion():
    tokens = [c * 32 for c in "1234"]
    service = FakeWorkerService([fake_task(t, "double") for t in tokens[:3]])
    service.handover.put(fake_task(tokens[3], "double"))
    with fake_server(service) as address:
        worker = baton.Worker("q-many", address=address, pollers=1, max_concurrent=5)
        worker.register("double", lambda payload: payload["x"] * 2)
        with running(worker):
            reports = [service.reports.get(timeout=WAIT) for _ in range(4)]
    assert sorted(token for _, token, _ in reports) == tokens and {r[2] for r in reports} == {2}
    assert service.max_tasks[0] == 5  # every free slot: the three waiting tasks came in one answer
    assert set(service.next_task_queues) == {"q-many"}  # each completion asked for the next task


def test_shutdown_grace_expiry_reports_worker_shutdown_retryable():
    service = FakeWorkerService([fake_task("s" * 32, "stuck")])
    started, gate = threading.Event(), threading.Event()
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, shutdown_grace=0.1)

        @worker.activity("stuck")
        def stuck(payload):
            started.set()
            gate.wait(WAIT)

        worker.start()
        assert started.wait(WAIT)
        worker.stop()
        assert worker.join(WAIT)
        gate.set()
        verb, _, failure = service.reports.get(timeout=WAIT)
    assert (verb, failure.type, failure.non_retryable) == ("fail", "WorkerShutdown", False)


def test_activity_not_registered_and_bad_output_are_typed_failures():
    service = FakeWorkerService([fake_task("n" * 32, "unknown"), fake_task("o" * 32, "odd")])
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, pollers=1, max_concurrent=1)
        worker.register("odd", lambda payload: {"not json": {1, 2}})
        with running(worker):
            reports = sorted([service.reports.get(timeout=WAIT) for _ in range(2)], key=lambda r: r[1])
    assert [(r[0], r[2].type, r[2].non_retryable) for r in reports] == [
        ("fail", "ActivityNotRegistered", True), ("fail", "InvalidOutput", True)]


# ---------------------------------------------------------------- tracing (OpenTelemetry, optional)


@pytest.fixture
def otel():
    """A TracerProvider of the OpenTelemetry SDK that keeps finished spans in memory."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield SimpleNamespace(provider=provider, exporter=exporter, tracer=provider.get_tracer("test"))
    provider.shutdown()


def test_each_attempt_runs_in_a_span_that_continues_the_tasks_traceparent(otel):
    from opentelemetry import trace
    trace_id, parents = "4bf92f3577b34da6a3ce929d0e0e4736", ["00f067aa0ba902b7", "00f067aa0ba902b8", "00f067aa0ba902b9"]
    tp = [f"00-{trace_id}-{parent}-01" for parent in parents]
    service = FakeWorkerService([fake_task("1" * 32, "sync.ok", attempt=2, traceparent=tp[0]),
                                 fake_task("2" * 32, "async.ok", traceparent=tp[1]),
                                 fake_task("3" * 32, "boom", traceparent=tp[2]),
                                 fake_task("4" * 32, "plain")])
    seen = {}
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, max_concurrent=4, tracer_provider=otel.provider)

        @worker.activity("sync.ok")
        def sync_ok(payload, ctx):  # on the thread pool: the attempt's span is current there too
            seen["traceparent"] = ctx.traceparent
            with otel.tracer.start_as_current_span("inner sync"):
                return "ok"

        @worker.activity("async.ok")
        async def async_ok(payload):
            await asyncio.sleep(0)
            with otel.tracer.start_as_current_span("inner async"):
                return "ok"

        @worker.activity("boom")
        def boom(payload):
            raise baton.ActivityError("CardDeclined", "no funds")

        @worker.activity("plain")
        def plain(payload):
            seen["plain"] = trace.get_current_span().get_span_context()
            return "ok"

        with running(worker):
            reports = sorted([service.reports.get(timeout=WAIT) for _ in range(4)], key=lambda r: r[1])
    assert [r[0] for r in reports] == ["complete", "complete", "fail", "complete"], reports
    assert seen["traceparent"] == tp[0]
    spans = {span.name: span for span in otel.exporter.get_finished_spans()}
    assert sorted(spans) == ["activity async.ok", "activity boom", "activity plain", "activity sync.ok",
                             "inner async", "inner sync"], sorted(spans)
    for name, parent in zip(("activity sync.ok", "activity async.ok", "activity boom"), parents):
        span = spans[name]
        assert span.kind == trace.SpanKind.CONSUMER, (name, span.kind)
        assert f"{span.context.trace_id:032x}" == trace_id, name
        assert span.parent is not None and f"{span.parent.span_id:016x}" == parent and span.parent.is_remote, name
    assert dict(spans["activity sync.ok"].attributes) == {
        "baton.workflow_id": "wf", "baton.step": "s", "baton.attempt": 2, "baton.activity": "sync.ok"}
    for inner, outer in (("inner sync", "activity sync.ok"), ("inner async", "activity async.ok")):
        assert spans[inner].parent.span_id == spans[outer].context.span_id, f"{inner} is not a child of {outer}"
        assert spans[inner].context.trace_id == spans[outer].context.trace_id
        assert spans[outer].status.status_code == trace.StatusCode.UNSET, spans[outer].status
    failed = spans["activity boom"]
    assert failed.status.status_code == trace.StatusCode.ERROR and "CardDeclined" in failed.status.description
    assert failed.attributes["baton.error_type"] == "CardDeclined"
    raised = [e.attributes["exception.type"] for e in failed.events if e.name == "exception"]
    assert len(raised) == 1 and raised[0].endswith("ActivityError"), failed.events
    # No traceparent: the attempt's span is the root of a trace of its own, current in the activity.
    root = spans["activity plain"]
    assert root.parent is None and f"{root.context.trace_id:032x}" != trace_id
    assert seen["plain"].span_id == root.context.span_id


def test_without_opentelemetry_the_worker_makes_no_spans(otel, monkeypatch):
    # opentelemetry-api absent: `import baton` and a worker work (a fresh interpreter that cannot import it).
    script = ("import sys; sys.modules['opentelemetry'] = None\n"
              "import baton, baton.worker\n"
              "assert baton.worker._otel_trace is None and baton.Worker('q')._tracer is None\n")
    probe = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(CLIENT_DIR)),
                           capture_output=True, text=True, timeout=WAIT)
    assert probe.returncode == 0, probe.stderr
    # The same worker code path in this process: the activity runs, and no span is made.
    import baton.worker as worker_module
    monkeypatch.setattr(worker_module, "_otel_trace", None)
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    service = FakeWorkerService([fake_task("5" * 32, "sync.ok", traceparent=tp)])
    with fake_server(service) as address:
        worker = baton.Worker("q", address=address, tracer_provider=otel.provider)
        worker.register("sync.ok", lambda payload, ctx: ctx.traceparent)
        with running(worker):
            assert service.reports.get(timeout=WAIT) == ("complete", "5" * 32, tp)
    assert otel.exporter.get_finished_spans() == ()


# ---------------------------------------------------------------- examples and packaging


def sdk_env(srv) -> dict:
    env = dict(os.environ, BATON_ADDRESS=srv.addr, PYTHONPATH=str(CLIENT_DIR))
    env.pop("PYTHONSTARTUP", None)
    return env


def test_quickstart_exits_0_when_the_run_completes(srv):
    result = subprocess.run([sys.executable, str(CLIENT_DIR / "examples" / "quickstart.py")], env=sdk_env(srv),
                            capture_output=True, text=True, timeout=WAIT * 2)
    assert result.returncode == 0, result
    assert "output {\"greeting\": \"Hello, Ada!\", \"score\": 21}" in result.stdout
    assert "100% COMPLETED" in result.stdout


def test_quickstart_exits_non_zero_without_a_server():
    env = dict(os.environ, BATON_ADDRESS=f"127.0.0.1:{free_port()}", PYTHONPATH=str(CLIENT_DIR))
    result = subprocess.run([sys.executable, str(CLIENT_DIR / "examples" / "quickstart.py")], env=env,
                            capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2 and "UNAVAILABLE" in result.stderr, result


def test_marketing_worker_example_completes_a_run_after_the_approval(srv, tmp_path):
    state = tmp_path / "done.sqlite"
    worker = subprocess.Popen([sys.executable, str(REPO / "examples" / "marketing_campaign" / "worker.py"),
                               "--speed", "0.02", "--state", str(state)],
                              env=sdk_env(srv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        ready = threading.Event()

        def read():
            for line in worker.stdout:
                lines.append(line)
                if "serving task queue" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(WAIT) or not any("serving task queue" in line for line in lines):
            worker.kill()
            pytest.fail(f"the worker did not start (exit {worker.wait(10)}): {lines} {worker.stderr.read()}")
        assert any("registered marketing_campaign_workers" in line for line in lines), lines
        with baton.Client(srv.addr) as client:
            run = client.start("marketing_campaign_workers", {"product": "Widget"})
            for progress in run.stream_progress(timeout=WAIT):
                if "approve_campaign" in progress.waiting_for_signals.values():
                    break
            else:
                pytest.fail("the run closed before its approval")
            assert run.query("landing_page") == "https://example.com/Widget"
            run.signal("approve_campaign", {"approved": True})
            assert run.await_result(timeout=WAIT) == {"url": "https://example.com/Widget", "approved": True}
            steps = run.describe().steps
            assert all(s.status in (baton.StepStatus.COMPLETED,) for s in steps), steps
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(WAIT) == 0, worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    # Every finished attempt's idempotency key is recorded, so a redelivery would not redo it.
    import sqlite3
    with sqlite3.connect(state) as db:
        keys = {row[0] for row in db.execute("SELECT key FROM done")}
    assert f"{run.workflow_id}/deploy/1" in keys and len(keys) == 10, keys


def test_marketing_worker_does_not_redo_a_redelivered_attempt(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("marketing_worker_example",
                                                  REPO / "examples" / "marketing_campaign" / "worker.py")
    marketing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marketing)
    campaign = marketing.Campaign(marketing.DoneKeys(tmp_path / "keys.sqlite"), speed=0)
    calls = []
    loop = asyncio.new_event_loop()
    try:
        ctx = baton.ActivityContext(fake_task("r" * 32, "research.market"), loop, "test")
        first = campaign.once(ctx, lambda: calls.append(1) or {"doc_id": "d-1"})
        again = campaign.once(ctx, lambda: calls.append(2) or {"doc_id": "d-2"})  # the same attempt, redelivered
    finally:
        loop.close()
    assert first == again == {"doc_id": "d-1"} and calls == [1]


def test_generated_stubs_match_the_protos():
    result = subprocess.run([sys.executable, str(CLIENT_DIR / "generate.py"), "--check"], capture_output=True,
                            text=True, timeout=WAIT * 2)
    assert result.returncode == 0, result


def test_pip_install_into_a_venv(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(CLIENT_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    # --without-pip: the venv uses the system's pip and setuptools (no network, no bundled wheels).
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=WAIT * 2)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                              "--no-index", str(source)], capture_output=True, text=True, timeout=300, env=env,
                             cwd=tmp_path)
    assert install.returncode == 0, install
    check = subprocess.run([python, "-c", "import baton, baton.aio, baton.v1.workflow_service_pb2_grpc; "
                                          "print(baton.__file__, baton.__version__)"],
                           capture_output=True, text=True, timeout=WAIT, env=env, cwd=tmp_path)
    assert check.returncode == 0, check
    assert check.stdout.startswith(str(venv)), check.stdout
