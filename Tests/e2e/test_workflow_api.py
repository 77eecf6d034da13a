"""Baton's own API end to end with Python grpcio and the committed stubs of proto/baton/v1
(clients/python/baton/v1): definitions, runs, history paging, the older Python worker helper
(clients/python/baton_worker.py), cancellation through heartbeats, restarts, and bad input over
the wire. The SDK itself is tested in test_python_sdk.py."""

import grpc
import pytest

from conftest import Server  # conftest puts clients/python on sys.path

THREE = """
name: three
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
  c: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
output: { b: "${steps.b.output.from_a}", c: "${steps.c.output.from_a}" }
"""

EXTERNAL = """
name: external
defaults:
  task_queue: py-queue
  retry: { initial_interval: 10ms, maximum_attempts: 3 }
steps:
  research: { activity: research.market, input: { topic: "${input.topic}" }, heartbeat_timeout: 30s }
  brief: { activity: builtin.echo, depends_on: [research], input: { found: "${steps.research.output.found}" } }
output: { found: "${steps.brief.output.found}" }
"""

APPROVAL = """
name: approval
steps:
  prepare: { activity: builtin.echo, input: { item: "${input.item}" } }
  approve:
    depends_on: [prepare]
    wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }
output: { approved: "${steps.approve.signal.ok}" }
"""


@pytest.fixture(scope="module")
def api():
    from baton.v1 import common_pb2, workflow_service_pb2, workflow_service_pb2_grpc, workflow_pb2  # noqa: F401
    import baton_worker
    return type("Api", (), {
        "ws": workflow_service_pb2, "ws_grpc": workflow_service_pb2_grpc, "common": common_pb2,
        "worker": baton_worker,
    })


@pytest.fixture(scope="module")
def baton(api):
    s = Server([])
    yield s
    assert s.terminate() == 0


def stub(api, server):
    channel = grpc.insecure_channel(server.addr)
    return channel, api.ws_grpc.WorkflowServiceStub(channel)


def wait_closed(api, client, workflow_id, timeout=60.0):
    """Follows StreamProgress (which ends when the run closes; no polling), then describes the run."""
    try:
        for _ in client.StreamProgress(api.ws.StreamProgressRequest(workflow_id=workflow_id), timeout=timeout):
            pass
    except grpc.RpcError as error:
        pytest.fail(f"StreamProgress of {workflow_id} did not end with the run within {timeout}s: {error}")
    described = client.DescribeWorkflow(api.ws.DescribeWorkflowRequest(workflow_id=workflow_id), timeout=10)
    assert described.workflow.info.status != api.common.WORKFLOW_STATUS_RUNNING, described
    return described.workflow


def test_register_start_describe_and_page_history(api, baton):
    channel, client = stub(api, baton)
    with channel:
        reply = client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=THREE), timeout=5)
        assert (reply.definition.name, reply.definition.version) == ("three", 1)
        listed = client.ListDefinitions(api.ws.ListDefinitionsRequest(), timeout=5)
        assert "three" in [d.name for d in listed.definitions]
        started = client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="three", workflow_id="py-1", input=api.worker.to_value({"n": 5})), timeout=5)
        assert started.workflow_id == "py-1"
        workflow = wait_closed(api, client, "py-1")
        assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED
        assert api.worker.from_value(workflow.output) == {"b": 5, "c": 5}
        events, token = [], ""
        while True:
            page = client.GetHistory(api.ws.GetHistoryRequest(workflow_id="py-1", page_size=3, page_token=token),
                                     timeout=5)
            assert len(page.events) <= 3
            events += page.events
            token = page.next_page_token
            if not token:
                break
        assert [e.event_id for e in events] == list(range(1, len(events) + 1))
        assert events[0].type == "WorkflowStarted" and events[-1].type == "WorkflowCompleted"
        runs = client.ListWorkflows(api.ws.ListWorkflowsRequest(definition="three"), timeout=5)
        assert "py-1" in [w.workflow_id for w in runs.workflows]


def test_python_worker_heartbeats_fails_once_then_succeeds(api, baton):
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=EXTERNAL), timeout=5)
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="external", workflow_id="py-ext", input=api.worker.to_value({"topic": "widgets"})), timeout=5)
        seen = []

        def research(payload, ctx):
            seen.append((ctx.attempt, ctx.idempotency_key, ctx.heartbeat_details, payload))
            assert ctx.heartbeat({"page": ctx.attempt}) is False
            if ctx.attempt == 1:
                raise api.worker.ActivityError("Flaky", "first attempt fails")
            return {"found": 3}

        worker = api.worker.Worker(channel, "py-queue", {"research.market": research}, identity="py-test")
        assert worker.run_once(poll_timeout=10) is not None
        assert worker.run_once(poll_timeout=10) is not None
        assert seen[0][:3] == (1, "py-ext/research/1", None)
        assert seen[0][3] == {"topic": "widgets"}
        assert seen[1][:3] == (2, "py-ext/research/2", {"page": 1})
        workflow = wait_closed(api, client, "py-ext")
        assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED
        assert api.worker.from_value(workflow.output) == {"found": 3}


def test_cancel_reaches_the_worker_through_its_heartbeat(api, baton):
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=EXTERNAL), timeout=5)
        client.StartWorkflow(api.ws.StartWorkflowRequest(definition="external", workflow_id="py-cancel"), timeout=5)
        outcome = {}

        def research(payload, ctx):
            client.CancelWorkflow(api.ws.CancelWorkflowRequest(workflow_id="py-cancel", reason="test"), timeout=5)
            outcome["cancelled"] = ctx.heartbeat({"step": 1})
            raise api.worker.ActivityError("Cancelled", "stopping on request")

        worker = api.worker.Worker(channel, "py-queue", {"research.market": research})
        worker.run_once(poll_timeout=10)
        assert outcome["cancelled"] is True
        workflow = wait_closed(api, client, "py-cancel")
        assert workflow.info.status != api.common.WORKFLOW_STATUS_COMPLETED


def test_a_restart_keeps_every_started_workflow(api, tmp_path):
    data = str(tmp_path / "data")
    first = Server([], data_dir=data)
    channel, client = stub(api, first)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=APPROVAL), timeout=5)
        for i in range(5):
            client.StartWorkflow(api.ws.StartWorkflowRequest(
                definition="approval", workflow_id=f"keep-{i}", input=api.worker.to_value({"item": i})), timeout=5)
    assert first.terminate() == 0
    second = Server([], data_dir=data)
    channel, client = stub(api, second)
    try:
        with channel:
            for i in range(5):
                described = client.DescribeWorkflow(api.ws.DescribeWorkflowRequest(workflow_id=f"keep-{i}"), timeout=5)
                assert described.workflow.info.status == api.common.WORKFLOW_STATUS_RUNNING
                client.Signal(api.ws.SignalRequest(workflow_id=f"keep-{i}", name="approve",
                                                   payload=api.worker.to_value({"ok": True})), timeout=5)
            for i in range(5):
                workflow = wait_closed(api, client, f"keep-{i}")
                assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED
                assert api.worker.from_value(workflow.output) == {"approved": True}
    finally:
        second.terminate()


def test_bad_input_gets_the_right_status_and_the_server_keeps_serving(api, baton):
    channel, client = stub(api, baton)
    with channel:
        with pytest.raises(grpc.RpcError) as bad_yaml:
            client.RegisterDefinition(api.ws.RegisterDefinitionRequest(
                source="name: bad\nsteps:\n  a: { activity: x, depends_on: [ghost] }\n"), timeout=5)
        assert bad_yaml.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "ghost" in bad_yaml.value.details() and "3:" in bad_yaml.value.details()
        with pytest.raises(grpc.RpcError) as unknown:
            client.DescribeWorkflow(api.ws.DescribeWorkflowRequest(workflow_id="never-started"), timeout=5)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=THREE), timeout=5)
        client.StartWorkflow(api.ws.StartWorkflowRequest(definition="three", workflow_id="py-bad"), timeout=5)
        wait_closed(api, client, "py-bad")
        with pytest.raises(grpc.RpcError) as token:
            client.GetHistory(api.ws.GetHistoryRequest(workflow_id="py-bad", page_token="forged"), timeout=5)
        assert token.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in token.value.details()
        with pytest.raises(grpc.RpcError) as closed:
            client.Signal(api.ws.SignalRequest(workflow_id="py-bad", name="late"), timeout=5)
        assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as big:
            client.StartWorkflow(api.ws.StartWorkflowRequest(
                definition="three", input=api.worker.to_value({"blob": "x" * (5 << 20)})), timeout=10)
        assert big.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        # Still serving.
        assert client.ListDefinitions(api.ws.ListDefinitionsRequest(), timeout=5).definitions


def test_signal_query_and_stream_progress_to_completion(api, baton):
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=APPROVAL), timeout=5)
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="approval", workflow_id="py-progress", input=api.worker.to_value({"item": "x"})), timeout=5)
        stream = client.StreamProgress(api.ws.StreamProgressRequest(workflow_id="py-progress"), timeout=30)
        first = next(stream)
        assert first.workflow_id == "py-progress"
        assert first.status == api.common.WORKFLOW_STATUS_RUNNING
        progress = first
        while "approve" not in progress.running_steps:
            progress = next(stream)
        queried = api.worker.from_value(client.Query(
            api.ws.QueryRequest(workflow_id="py-progress", query="progress"), timeout=5).result)
        assert "approve" in str(queried)
        reply = client.Signal(api.ws.SignalRequest(workflow_id="py-progress", name="approve", request_id="r-1",
                                                   payload=api.worker.to_value({"ok": True})), timeout=5)
        assert reply.accepted
        rest = list(stream)  # ends with OK when the run closes
        assert rest, "no progress after the signal"
        assert rest[-1].status == api.common.WORKFLOW_STATUS_COMPLETED
        assert rest[-1].percentage == 100
        assert [p.event_id for p in rest] == sorted(p.event_id for p in rest)
        output = client.Query(api.ws.QueryRequest(workflow_id="py-progress", query="output"), timeout=5)
        assert api.worker.from_value(output.result) == {"approved": True}
        # Resuming from an event id yields exactly the missed history.
        watched = [e.event_id for e in client.WatchHistory(
            api.ws.WatchHistoryRequest(workflow_id="py-progress", after_event_id=2), timeout=10)]
        assert watched and watched[0] == 3 and watched == list(range(3, 3 + len(watched)))


def test_await_workflow_answers_when_the_run_closes_within_the_deadline(api, baton):
    """AwaitWorkflow through grpcio: DEADLINE_EXCEEDED while open, the closed run's description after."""
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=APPROVAL), timeout=5)
        started = client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="approval", workflow_id="py-await", input=api.worker.to_value({"item": "y"})), timeout=5)
        with pytest.raises(grpc.RpcError) as error:
            client.AwaitWorkflow(api.ws.AwaitWorkflowRequest(workflow_id="py-await"), timeout=0.3)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED, error.value
        pending = client.AwaitWorkflow.future(api.ws.AwaitWorkflowRequest(workflow_id="py-await"), timeout=30)
        client.Signal(api.ws.SignalRequest(workflow_id="py-await", name="approve",
                                           payload=api.worker.to_value({"ok": False})), timeout=5)
        closed = pending.result(timeout=30).workflow
        assert closed.info.status == api.common.WORKFLOW_STATUS_COMPLETED, closed
        assert closed.info.run_id == started.run_id and closed.info.workflow_id == "py-await"
        assert api.worker.from_value(closed.output) == {"approved": False}
        with pytest.raises(grpc.RpcError) as error:
            client.AwaitWorkflow(api.ws.AwaitWorkflowRequest(workflow_id="py-await", run_id="nope"), timeout=5)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND and "nope" in error.value.details()


def test_history_pages_fit_the_message_limit_whatever_the_values(api, baton):
    """Six signals of ~900 KB each: one page of 1,000 events would be ~5.4 MB, over a stock client's
    4 MiB limit; the server ends each page before 2 MiB, so paging reads every event."""
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=APPROVAL), timeout=5)
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="approval", workflow_id="py-big-values", input=api.worker.to_value({"item": "x"})), timeout=5)
        big = "v" * 900_000
        for index in range(6):
            reply = client.Signal(api.ws.SignalRequest(workflow_id="py-big-values", name="noise", request_id=f"n{index}",
                                                       payload=api.worker.to_value({"blob": big})), timeout=10)
            assert reply.accepted
        events, token, pages = [], "", 0
        while True:
            page = client.GetHistory(api.ws.GetHistoryRequest(workflow_id="py-big-values", page_size=1000,
                                                              page_token=token), timeout=60)
            pages += 1
            assert page.ByteSize() <= 4 * 1024 * 1024, f"a history page of {page.ByteSize()} bytes"
            events += page.events
            token = page.next_page_token
            if not page.events or pages > 20:
                break
        assert [e.event_id for e in events] == list(range(1, len(events) + 1))
        signals = [e for e in events if e.type == "SignalReceived"]
        assert len(signals) == 6 and pages >= 3, f"{len(signals)} signals over {pages} pages"
        assert api.worker.from_value(signals[0].signal_received.payload) == {"blob": big}
        client.TerminateWorkflow(api.ws.TerminateWorkflowRequest(workflow_id="py-big-values"), timeout=5)


FANOUT = """
name: big_outputs
steps:
""" + "".join(f'  s{i}: {{ activity: builtin.echo, input: "${{input}}" }}\n' for i in range(5))


def test_a_description_fits_the_message_limit_whatever_the_step_outputs(api, baton):
    """Five steps echo a ~900 KB input: their outputs add up to ~4.5 MB, over a stock client's 4 MiB
    limit; the description keeps the outputs that fit 3 MiB and marks the rest output_omitted."""
    channel, client = stub(api, baton)
    with channel:
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=FANOUT), timeout=5)
        big = {"blob": "w" * 900_000}
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="big_outputs", workflow_id="py-big-outputs", input=api.worker.to_value(big)), timeout=10)
        workflow = wait_closed(api, client, "py-big-outputs")
        assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED
        assert workflow.ByteSize() <= 4 * 1024 * 1024, f"a description of {workflow.ByteSize()} bytes"
        kept = [s for s in workflow.steps if s.HasField("output")]
        omitted = [s for s in workflow.steps if s.output_omitted]
        assert kept and omitted and len(kept) + len(omitted) == 5, (len(kept), len(omitted))
        assert api.worker.from_value(kept[0].output) == big
        # The omitted outputs are in the history.
        events, token = [], ""
        while True:
            # Large values take a while to encode in a debug build on a busy machine: a generous deadline.
            page = client.GetHistory(api.ws.GetHistoryRequest(workflow_id="py-big-outputs", page_token=token),
                                     timeout=60)
            events += page.events
            token = page.next_page_token
            if not token:
                break
        completed = {e.step_completed.step: e for e in events if e.type == "StepCompleted"}
        assert api.worker.from_value(completed[omitted[0].name].step_completed.output) == big
