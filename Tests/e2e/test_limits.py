"""Configurable limits (`baton server --limit NAME=VALUE`), end to end, one contract row at a time.

Each limit is set small and passed: the refusal has the contract's status (INVALID_ARGUMENT,
RESOURCE_EXHAUSTED; HTTP 429 or 503 on the HTTP routes), its message names the limit in parentheses,
e.g. `(payload_bytes)`, and states its value; a value just at the limit is accepted; the server keeps
serving. Servers: one for the value and per-run limits (payload_bytes=1KiB, definition_bytes=4KiB,
definition_steps=7, workflow_id_bytes=40, pending_signals=4, subscribers_per_run=2), one each for
history_events, connections, streams_per_connection and requests_per_second (an auth file with a token
of its own rate and one on the server's default). Bad --limit values stop `baton server` and `baton
dev` at start (exit 2, as a bad --auth-file) with stderr naming the limit.

streams_per_connection is checked on a raw HTTP/2 connection (rawh2) that ignores the advertised
SETTINGS_MAX_CONCURRENT_STREAMS: grpcio honours that setting by holding a 4th call in the client,
so through grpcio the 4th call runs (or is refused by the server) once a stream closes.

Every call is bounded (RPC deadlines, socket and subprocess timeouts); waits follow streams and RPC
results. Where the server notices a closed stream or connection asynchronously, a new one is retried
until accepted within a deadline; the one sleep honours the server's own `retry-after-ms` hint.
"""

import contextlib
import hashlib
import http.client
import json
import re
import secrets
import socket
import subprocess
import time
import urllib.parse
from types import SimpleNamespace

import grpc
import h2.events
import pytest
from baton.v1 import (common_pb2, worker_service_pb2, worker_service_pb2_grpc, workflow_service_pb2,
                      workflow_service_pb2_grpc)
from google.protobuf import json_format, struct_pb2
from h2.settings import SettingCodes

from conftest import RPC_TIMEOUT, baton_bin, serving
from rawh2 import RawH2

IO_TIMEOUT = 10.0      # seconds: every socket read
STREAM_TIMEOUT = 60.0  # seconds: the deadline of every stream
CLI_TIMEOUT = 30.0
WAIT = 15.0            # seconds: every retry loop
PAUSE = 0.05           # seconds between the attempts of a retry loop
LOCAL = [("grpc.use_local_subchannel_pool", 1)]  # each grpcio channel makes its own connection
ws, wk, common = workflow_service_pb2, worker_service_pb2, common_pb2
WF, WK = workflow_service_pb2_grpc.WorkflowServiceStub, worker_service_pb2_grpc.WorkerServiceStub
INVALID, EXHAUSTED = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED
WS_PATH = "/baton.v1.WorkflowService"
KNOWN = ("payload_bytes", "history_events", "pending_signals", "subscribers_per_run", "definition_bytes",
         "definition_steps", "workflow_id_bytes", "connections", "streams_per_connection", "requests_per_second")

GATED = """\
name: lim_gated
steps:
  wait: { wait_for_signal: { name: go } }
  done: { activity: builtin.echo, depends_on: [wait], input: { ok: 1 } }
"""
WORK = """\
name: lim_work
defaults: { task_queue: lim-q }
steps:
  work: { activity: lim.work, input: { n: 1 } }
"""
VALUES = {"payload_bytes": "1KiB", "definition_bytes": "4KiB", "definition_steps": 7, "workflow_id_bytes": 40,
          "pending_signals": 4, "subscribers_per_run": 2}
PAYLOAD, DEF_BYTES, DEF_STEPS, ID_BYTES, PENDING, SUBSCRIBERS = 1024, 4096, 7, 40, 4, 2
HISTORY = 30


# ---------------------------------------------------------------- helpers


def limit_args(limits):
    return [arg for name, value in limits.items() for arg in ("--limit", f"{name}={value}")]


def tail(server):
    return f"\n--- server stderr (tail)\n{server.stderr()[-3000:]}"


def sized(n):
    """A JSON value whose compact text is exactly n bytes: {"b":"xxx..."}."""
    return json_format.ParseDict({"b": "x" * (n - 8)}, struct_pb2.Value())


def number(value):
    """A regex matching `value` as a whole number."""
    return re.compile(rf"(?<!\d){value}(?!\d)")


def check_refusal(error, code, limit, value, what, server=None, extra=()):
    """`error` has `code` and a message naming `(limit)`, the limit's value and each of `extra`."""
    details = error.details() or ""
    shown = f"{what}: {error.code().name} {details!r}"
    assert error.code() == code, f"{shown}, expected {code.name} ({limit})" + (tail(server) if server else "")
    assert f"({limit})" in details, f"{shown}: the message does not name ({limit})"
    assert number(value).search(details), f"{shown}: the message does not state the limit {value}"
    for needle in extra:
        assert needle in details, f"{shown}: the message lacks {needle!r}"
    return error


def refusal(call, code, limit, value, what, server=None, extra=()):
    """Runs `call`, which must fail as check_refusal says; returns the error."""
    try:
        got = call()
    except grpc.RpcError as error:
        return check_refusal(error, code, limit, value, what, server, extra)
    pytest.fail(f"{what}: accepted ({str(got)[:200]!r}), expected {code.name} ({limit})", pytrace=False)


def outcome(call):
    """(True, the result) or (False, why): one attempt for retry()."""
    try:
        return True, call()
    except grpc.RpcError as error:
        return False, f"{error.code().name} {error.details()!r}"


def start(wf, workflow_id, definition="lim_gated", **fields):
    return wf.StartWorkflow(ws.StartWorkflowRequest(definition=definition, workflow_id=workflow_id, **fields),
                            timeout=RPC_TIMEOUT)


def signal(wf, workflow_id, name, **fields):
    return wf.Signal(ws.SignalRequest(workflow_id=workflow_id, name=name, **fields), timeout=RPC_TIMEOUT)


def register_gated(channel):
    wf = WF(channel)
    wf.RegisterDefinition(ws.RegisterDefinitionRequest(source=GATED), timeout=RPC_TIMEOUT)
    return wf


def live_progress(wf, workflow_id):
    """A StreamProgress stream whose first message was read: a live subscriber."""
    stream = wf.StreamProgress(ws.StreamProgressRequest(workflow_id=workflow_id), timeout=STREAM_TIMEOUT)
    next(stream)  # bounded by the stream's deadline
    return stream


def retry(attempt, what, timeout=WAIT):
    """Calls attempt() -> (done, result or why not) until done within `timeout`; returns the result."""
    deadline, why = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        done, result = attempt()
        if done:
            return result
        why = result
        time.sleep(PAUSE)  # between attempts only: each attempt's own answer is the synchronization
    pytest.fail(f"{what} not within {timeout}s; last: {why}", pytrace=False)


def wait_signal_step(wf, workflow_id):
    """Follows StreamProgress until the run's `wait` step waits for its signal."""
    stream = wf.StreamProgress(ws.StreamProgressRequest(workflow_id=workflow_id), timeout=STREAM_TIMEOUT)
    try:
        for progress in stream:
            if "wait" in progress.waiting_for_signals:
                return
    finally:
        stream.cancel()
    pytest.fail(f"{workflow_id} closed before its wait step waited", pytrace=False)


def await_closed(wf, workflow_id):
    return wf.AwaitWorkflow(ws.AwaitWorkflowRequest(workflow_id=workflow_id), timeout=STREAM_TIMEOUT).workflow


def http_request(server, method, path, body=None, headers=None):
    """One HTTP/1.1 request: (connection, response); the caller closes the connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=IO_TIMEOUT)
    conn.request(method, path, body=body, headers=headers or {})
    return conn, conn.getresponse()


def sse(server, path, headers=None):
    return http_request(server, "GET", path, headers={"accept": "text/event-stream", **(headers or {})})


def read_event(resp, name):
    """Reads lines (each bounded by the socket timeout) until an `event: name` line."""
    while True:
        line = resp.readline()
        assert line, f"the event stream ended before an `event: {name}`"
        if line.decode().rstrip("\r\n") == f"event: {name}":
            return


def http1_until_closed(server, request: bytes):
    """Sends raw HTTP/1.1 bytes and reads until the server closes the connection: (status, body)."""
    data = b""
    with socket.create_connection((server.host, server.port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):  # bounded by the socket timeout: the server must close
                data += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail(f"the server kept the connection open past the limit; got {data[:300]!r}", pytrace=False)
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, head.decode(errors="replace"), body.decode(errors="replace")


# ---------------------------------------------------------------- values and per-run limits


@pytest.fixture(scope="module")
def limited():
    with serving(limit_args(VALUES)) as s:
        with grpc.insecure_channel(s.addr) as channel:
            wf = register_gated(channel)
            wf.RegisterDefinition(ws.RegisterDefinitionRequest(source=WORK), timeout=RPC_TIMEOUT)
            yield SimpleNamespace(server=s, channel=channel, wf=wf, wk=WK(channel))


@pytest.mark.timeout(90)
def test_payload_bytes_bounds_input_signal_activity_result_and_heartbeat(limited):
    wf, wk_stub, s = limited.wf, limited.wk, limited.server
    over, at = sized(PAYLOAD + 1), sized(PAYLOAD)
    size = [str(PAYLOAD + 1)]
    refusal(lambda: start(wf, "pb-over", input=over),
            INVALID, "payload_bytes", PAYLOAD, "StartWorkflow, input 1025 bytes", s, ["input", *size])
    assert start(wf, "pb-run", input=at).started
    described = wf.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id="pb-run"), timeout=RPC_TIMEOUT)
    assert described.workflow.input == at, "the input at the limit was not kept as sent"

    refusal(lambda: signal(wf, "pb-run", "noise", payload=over),
            INVALID, "payload_bytes", PAYLOAD, "Signal, payload 1025 bytes", s, ["payload", *size])
    assert signal(wf, "pb-run", "noise", payload=at).accepted

    start(wf, "pb-work", "lim_work")
    task = wk_stub.PollActivityTask(wk.PollActivityTaskRequest(task_queue="lim-q", worker_identity="limits"),
                                    timeout=RPC_TIMEOUT)
    assert task.task_token and task.workflow_id == "pb-work", task
    refusal(lambda: wk_stub.RecordHeartbeat(wk.RecordHeartbeatRequest(task_token=task.task_token, details=over),
                                            timeout=RPC_TIMEOUT),
            INVALID, "payload_bytes", PAYLOAD, "RecordHeartbeat, details 1025 bytes", s, ["details", *size])
    wk_stub.RecordHeartbeat(wk.RecordHeartbeatRequest(task_token=task.task_token, details=at), timeout=RPC_TIMEOUT)
    refusal(lambda: wk_stub.CompleteActivityTask(wk.CompleteActivityTaskRequest(
                task_token=task.task_token, output=over), timeout=RPC_TIMEOUT),
            INVALID, "payload_bytes", PAYLOAD, "CompleteActivityTask, output 1025 bytes", s, ["output", *size])
    wk_stub.CompleteActivityTask(wk.CompleteActivityTaskRequest(task_token=task.task_token, output=at),
                                 timeout=RPC_TIMEOUT)
    closed = await_closed(wf, "pb-work")
    assert closed.info.status == common.WORKFLOW_STATUS_COMPLETED, closed
    assert closed.steps[0].output == at, closed.steps[0]
    wf.TerminateWorkflow(ws.TerminateWorkflowRequest(workflow_id="pb-run"), timeout=RPC_TIMEOUT)


def definition(name, steps, size=None):
    """A definition of `steps` echo steps, padded with a comment to exactly `size` bytes."""
    text = f"name: {name}\nsteps:\n" + "".join(f"  s{i}: {{ activity: builtin.echo, input: {{ i: {i} }} }}\n"
                                                for i in range(steps))
    if size is not None:
        pad = size - len(text.encode())
        assert pad >= 3, f"the definition is already {len(text)} bytes"
        text += "#" + "p" * (pad - 2) + "\n"
        assert len(text.encode()) == size
    return text


@pytest.mark.timeout(90)
def test_definition_bytes_and_definition_steps(limited):
    wf, s = limited.wf, limited.server
    at = definition("lim_at", DEF_STEPS, size=DEF_BYTES)
    reply = wf.RegisterDefinition(ws.RegisterDefinitionRequest(source=at), timeout=RPC_TIMEOUT)
    assert (reply.definition.name, reply.created) == ("lim_at", True), reply
    refusal(lambda: wf.RegisterDefinition(ws.RegisterDefinitionRequest(
                source=definition("lim_big", DEF_STEPS, size=DEF_BYTES + 1)), timeout=RPC_TIMEOUT),
            INVALID, "definition_bytes", DEF_BYTES, "RegisterDefinition of 4097 bytes", s)
    refusal(lambda: wf.RegisterDefinition(ws.RegisterDefinitionRequest(source=definition("lim_many", DEF_STEPS + 1)),
                                          timeout=RPC_TIMEOUT),
            INVALID, "definition_steps", DEF_STEPS, "RegisterDefinition of 8 steps", s)
    start(wf, "def-at", "lim_at")
    closed = await_closed(wf, "def-at")
    assert closed.info.status == common.WORKFLOW_STATUS_COMPLETED and len(closed.steps) == DEF_STEPS, closed.info


@pytest.mark.timeout(90)
def test_workflow_id_bytes(limited):
    wf, s = limited.wf, limited.server
    at, over = "w" * ID_BYTES, "w" * (ID_BYTES + 1)
    started = start(wf, at)
    assert started.workflow_id == at and started.started, started
    described = wf.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id=at), timeout=RPC_TIMEOUT)
    assert described.workflow.info.workflow_id == at, described
    calls = {
        "StartWorkflow": lambda: start(wf, over),
        "DescribeWorkflow": lambda: wf.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id=over),
                                                        timeout=RPC_TIMEOUT),
        "Signal": lambda: signal(wf, over, "go"),
        "GetHistory": lambda: wf.GetHistory(ws.GetHistoryRequest(workflow_id=over), timeout=RPC_TIMEOUT),
        "CancelWorkflow": lambda: wf.CancelWorkflow(ws.CancelWorkflowRequest(workflow_id=over), timeout=RPC_TIMEOUT),
        "StreamProgress": lambda: next(wf.StreamProgress(ws.StreamProgressRequest(workflow_id=over),
                                                          timeout=RPC_TIMEOUT)),
    }
    for name, call in calls.items():
        refusal(call, INVALID, "workflow_id_bytes", ID_BYTES, f"{name} with a 41-byte workflow id", s)
    for bad in ("a/b", "a b", "a\0b", "a\x07b"):
        ok, why = outcome(lambda: start(wf, bad))
        assert not ok and why.startswith("INVALID_ARGUMENT"), f"StartWorkflow with the id {bad!r}: {why}"
    wf.TerminateWorkflow(ws.TerminateWorkflowRequest(workflow_id=at), timeout=RPC_TIMEOUT)


@pytest.mark.timeout(90)
def test_pending_signals(limited):
    wf, s = limited.wf, limited.server
    start(wf, "ps-run")
    wait_signal_step(wf, "ps-run")
    for i in range(PENDING):
        reply = signal(wf, "ps-run", "noise", request_id=f"n{i}")
        assert reply.accepted, f"signal {i + 1} of {PENDING}: {reply}"
    refusal(lambda: signal(wf, "ps-run", "noise", request_id="n-over"),
            EXHAUSTED, "pending_signals", PENDING, f"signal {PENDING + 1} nobody waits for", s)
    # At the limit, a signal the waiting step consumes at once is accepted.
    reply = signal(wf, "ps-run", "go", request_id="go")
    assert reply.accepted, reply
    closed = await_closed(wf, "ps-run")
    assert closed.info.status == common.WORKFLOW_STATUS_COMPLETED, closed


@pytest.mark.timeout(120)
def test_subscribers_per_run(limited):
    wf, s = limited.wf, limited.server
    for wid in ("sub-run", "sub-other"):
        start(wf, wid)
    held = [live_progress(wf, "sub-run") for _ in range(SUBSCRIBERS)]
    refusal(lambda: next(wf.StreamProgress(ws.StreamProgressRequest(workflow_id="sub-run"), timeout=RPC_TIMEOUT)),
            EXHAUSTED, "subscribers_per_run", SUBSCRIBERS, "a 3rd StreamProgress of the run", s)
    refusal(lambda: next(wf.WatchHistory(ws.WatchHistoryRequest(workflow_id="sub-run"), timeout=RPC_TIMEOUT)),
            EXHAUSTED, "subscribers_per_run", SUBSCRIBERS, "a WatchHistory past the limit", s)
    for kind in ("progress", "history"):
        conn, resp = sse(s, f"/v1/workflows/sub-run/{kind}")
        with contextlib.closing(conn):
            body = resp.read().decode(errors="replace") if resp.status != 200 else ""
            assert resp.status == 429, f"SSE {kind} past the limit: HTTP {resp.status} {body[:300]!r}" + tail(s)
            assert "subscribers_per_run" in body, f"SSE {kind}: the 429 body {body[:300]!r} does not name the limit"
    # Another run is not affected.
    live_progress(wf, "sub-other").cancel()
    # One stream closes: an SSE stream is accepted again (once the server noticed) and counts as a subscriber.
    held.pop(0).cancel()

    def open_sse():
        conn, resp = sse(s, "/v1/workflows/sub-run/progress")
        if resp.status == 200:
            read_event(resp, "progress")
            return True, conn
        body = resp.read()[:200]
        conn.close()
        return False, f"HTTP {resp.status} {body!r}"

    stream_conn = retry(open_sse, "an SSE progress stream accepted after one subscriber closed")
    try:
        refusal(lambda: next(wf.StreamProgress(ws.StreamProgressRequest(workflow_id="sub-run"), timeout=RPC_TIMEOUT)),
                EXHAUSTED, "subscribers_per_run", SUBSCRIBERS, "StreamProgress with a gRPC and an SSE subscriber", s)
    finally:
        stream_conn.close()

    held.append(retry(lambda: outcome(lambda: live_progress(wf, "sub-run")),
                      "a StreamProgress accepted after the SSE subscriber closed"))
    for stream in held:
        stream.cancel()
    for wid in ("sub-run", "sub-other"):
        wf.TerminateWorkflow(ws.TerminateWorkflowRequest(workflow_id=wid), timeout=RPC_TIMEOUT)


# ---------------------------------------------------------------- history_events


@pytest.mark.timeout(120)
def test_history_events_fails_the_run():
    with serving(limit_args({"history_events": HISTORY})) as s, grpc.insecure_channel(s.addr) as channel:
        wf = register_gated(channel)
        start(wf, "hist-run")
        sent = 0
        for i in range(HISTORY + 20):  # the wait step needs `go`: every `noise` signal adds an event
            try:
                signal(wf, "hist-run", "noise", request_id=f"n{i}")
                sent += 1
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, (
                    f"signal {i + 1}: {error.code().name} {error.details()!r}, expected OK or FAILED_PRECONDITION "
                    f"(the run closed)" + tail(s))
                break
        else:
            pytest.fail(f"{HISTORY + 20} signals accepted: the run never failed at {HISTORY} events" + tail(s),
                        pytrace=False)
        assert sent < HISTORY, f"{sent} signals accepted into a history of at most {HISTORY} events"
        closed = await_closed(wf, "hist-run")
        failure = closed.failure
        assert closed.info.status == common.WORKFLOW_STATUS_FAILED, f"status {closed.info.status}: {closed.info}"
        assert failure.type == "HistoryLimitExceeded", f"failure {failure}"
        assert "history_events" in failure.message and number(HISTORY).search(failure.message), failure
        events = list(wf.WatchHistory(ws.WatchHistoryRequest(workflow_id="hist-run"), timeout=STREAM_TIMEOUT))
        shown = [(e.event_id, e.type) for e in events]
        assert [e.event_id for e in events] == list(range(1, len(events) + 1)), shown
        assert events[-1].type == "WorkflowFailed", shown[-5:]
        assert events[-1].workflow_failed.failure.type == "HistoryLimitExceeded", events[-1]
        assert len(events) <= HISTORY + 5, f"{len(events)} events, limit {HISTORY}: {shown}"
        # The server keeps serving: another run goes through.
        start(wf, "hist-next")
        wait_signal_step(wf, "hist-next")
        signal(wf, "hist-next", "go")
        assert await_closed(wf, "hist-next").info.status == common.WORKFLOW_STATUS_COMPLETED


# ---------------------------------------------------------------- connections and streams


@pytest.mark.timeout(120)
def test_connections():
    with serving(limit_args({"connections": 2})) as s, grpc.insecure_channel(s.addr, options=LOCAL) as one:
        wf = register_gated(one)
        start(wf, "conn-run")
        held = live_progress(wf, "conn-run")
        two = grpc.insecure_channel(s.addr, options=LOCAL)
        try:
            live_progress(WF(two), "conn-run")  # both connections now have a call in progress
            with grpc.insecure_channel(s.addr, options=LOCAL) as third:
                refusal(lambda: WF(third).ListDefinitions(ws.ListDefinitionsRequest(), timeout=RPC_TIMEOUT),
                        EXHAUSTED, "connections", 2, "a unary call on a 3rd connection", s)
            status, head, text = http1_until_closed(s, (
                f"POST {WS_PATH}/ListDefinitions HTTP/1.1\r\nHost: {s.addr}\r\ncontent-type: application/json\r\n"
                f"connect-protocol-version: 1\r\ncontent-length: 2\r\n\r\n{{}}").encode())
            # A Connect call: RESOURCE_EXHAUSTED is HTTP 429 in Connect; then the server closes the connection.
            assert status == 429, f"HTTP/1.1 Connect call past the limit: {head!r} {text[:300]!r}" + tail(s)
            assert json.loads(text)["code"] == "resource_exhausted", text
            assert "(connections)" in text and number(2).search(text), f"the 429 body {text[:300]!r}"
            # A web route (the UI): 503 with the reason, then the connection closes.
            status, head, text = http1_until_closed(s, f"GET / HTTP/1.1\r\nHost: {s.addr}\r\n\r\n".encode())
            assert status == 503, f"HTTP/1.1 GET / past the limit: {head!r} {text[:300]!r}" + tail(s)
            assert "(connections)" in text and number(2).search(text), f"the 503 body {text[:300]!r}"
            assert wf.ListDefinitions(ws.ListDefinitionsRequest(), timeout=RPC_TIMEOUT).definitions  # still served
        finally:
            two.close()

        def new_connection():
            with grpc.insecure_channel(s.addr, options=LOCAL) as channel:
                return outcome(lambda: WF(channel).ListDefinitions(ws.ListDefinitionsRequest(), timeout=RPC_TIMEOUT))

        listed = retry(new_connection, "a new connection served after one closed")
        assert "lim_gated" in [d.name for d in listed.definitions], listed
        held.cancel()


@pytest.mark.timeout(120)
def test_streams_per_connection():
    with serving(limit_args({"streams_per_connection": 3})) as s, grpc.insecure_channel(s.addr, options=LOCAL) as setup:
        wf = register_gated(setup)
        start(wf, "spc-run")
        request = ws.StreamProgressRequest(workflow_id="spc-run").SerializeToString()

        # grpcio: three live streams on one channel; a 4th call (held by the client at the advertised
        # limit, or refused by the server) runs once one of them closes.
        with grpc.insecure_channel(s.addr, options=LOCAL) as channel:
            stub, describe = WF(channel), ws.DescribeWorkflowRequest(workflow_id="spc-run")
            streams = [live_progress(stub, "spc-run") for _ in range(3)]
            pending = stub.DescribeWorkflow.future(describe, timeout=WAIT)
            ran = pending.done() and pending.exception() is None
            assert not ran, "a 4th call ran on a connection with 3 streams in progress"
            streams.pop().cancel()
            error = pending.exception(timeout=WAIT + 5)
            if error is not None:  # refused by the server rather than held by the client
                check_refusal(error, EXHAUSTED, "streams_per_connection", 3, "a 4th call on a grpcio channel", s)
                retry(lambda: outcome(lambda: stub.DescribeWorkflow(describe, timeout=RPC_TIMEOUT)),
                      "a call on the connection after one of its streams closed")
            for stream in streams:
                stream.cancel()

        # A raw HTTP/2 client that does not hold back at the advertised SETTINGS_MAX_CONCURRENT_STREAMS.
        h = RawH2(s.host, s.port, timeout=IO_TIMEOUT)
        try:
            h.wait(lambda: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in h.events), timeout=IO_TIMEOUT)
            advertised = h.conn.remote_settings.max_concurrent_streams
            h.conn.remote_settings._settings[SettingCodes.MAX_CONCURRENT_STREAMS] = [1 << 30]
            for _ in range(3):
                sid = h.grpc_request(f"{WS_PATH}/StreamProgress", request)
                r = h.responses[sid]
                h.wait(lambda: r.ended or len(r.data) > 5, timeout=IO_TIMEOUT)  # the snapshot: a live call
                assert not r.ended, f"stream {sid} of 3 ended: {r.headers} {r.trailers} reset={r.reset}"
            sid = h.grpc_request(f"{WS_PATH}/StreamProgress", request)
            try:
                r = h.response(sid, timeout=IO_TIMEOUT)
            except (TimeoutError, ConnectionError) as error:
                goaway = [(e.error_code, e.additional_data) for e in h.events
                          if isinstance(e, h2.events.ConnectionTerminated)]
                pytest.fail(f"a 4th call on the connection: {error!r} before it ended (GOAWAY {goaway}, headers "
                            f"{h.responses[sid].headers}); expected RESOURCE_EXHAUSTED" + tail(s), pytrace=False)
            trailers = r.trailers if r.trailers is not None else (r.headers or {})
            message = urllib.parse.unquote(trailers.get("grpc-message", ""))
            assert r.grpc_status == 8, (f"a 4th call on the connection: headers {r.headers}, trailers {r.trailers}, "
                                        f"reset {r.reset}; expected grpc-status 8 (RESOURCE_EXHAUSTED)" + tail(s))
            assert "(streams_per_connection)" in message and number(3).search(message), f"grpc-message {message!r}"
        finally:
            h.close()
        # Advertised above the budget, so a call past it reaches the server and gets the clear error.
        assert advertised > 3, f"SETTINGS_MAX_CONCURRENT_STREAMS {advertised}, expected more than the budget of 3"
        assert wf.ListDefinitions(ws.ListDefinitionsRequest(), timeout=RPC_TIMEOUT).definitions


# ---------------------------------------------------------------- requests_per_second


@pytest.mark.timeout(120)
def test_requests_per_second(tmp_path):
    tokens = {name: f"{name}-{secrets.token_hex(16)}" for name in ("burst", "steady")}
    auth = tmp_path / "auth.yaml"
    auth.write_text(
        "tokens:\n"
        f"  - name: ci-burst\n    sha256: {hashlib.sha256(tokens['burst'].encode()).hexdigest()}\n"
        "    role: admin\n    requests_per_second: 2\n"
        f"  - name: ci-steady\n    sha256: {hashlib.sha256(tokens['steady'].encode()).hexdigest()}\n"
        "    role: admin\n")
    with serving(["--auth-file", str(auth), *limit_args({"requests_per_second": 1000})]) as s, \
            grpc.insecure_channel(s.addr) as channel:
        wf = WF(channel)
        burst = [("authorization", f"Bearer {tokens['burst']}")]
        steady = [("authorization", f"Bearer {tokens['steady']}")]

        def list_as(metadata):
            return wf.ListDefinitions(ws.ListDefinitionsRequest(), timeout=RPC_TIMEOUT, metadata=metadata)

        def drain():
            """Calls with the burst token until one is refused; (calls accepted, seconds, the error)."""
            t0, accepted = time.monotonic(), 0
            for _ in range(40):
                try:
                    list_as(burst)
                    accepted += 1
                except grpc.RpcError as error:
                    return accepted, time.monotonic() - t0, error
            pytest.fail(f"40 calls in {time.monotonic() - t0:.2f}s at 2 per second, none refused" + tail(s),
                        pytrace=False)

        accepted, elapsed, error = drain()
        assert 1 <= accepted <= 3 + 2 * elapsed, f"{accepted} calls accepted in {elapsed:.2f}s at 2 per second"
        check_refusal(error, EXHAUSTED, "requests_per_second", 2, "a call past the token's rate", s, ["retry in"])
        trailers = dict(error.trailing_metadata() or ())
        assert "retry-after-ms" in trailers, f"no retry-after-ms trailer: {trailers}"
        wait_ms = int(trailers["retry-after-ms"])
        assert 0 < wait_ms <= 1000, f"retry-after-ms {wait_ms} at 2 per second"
        hinted = re.search(r"retry in (\d+) ms", error.details())
        assert hinted and int(hinted.group(1)) == wait_ms, f"{error.details()!r} vs retry-after-ms {wait_ms}"
        # The one allowed wait: the server's own hint.
        time.sleep(wait_ms / 1000)
        assert list_as(burst).definitions is not None
        for _ in range(30):  # the other token has the server's default, 1000 per second
            list_as(steady)

        def as_burst(method, path, body=None, headers=None):
            conn, resp = http_request(s, method, path, body, {**(headers or {}), **dict(burst)})
            with contextlib.closing(conn):  # a live event stream: its status is enough
                event_stream = resp.getheader("content-type", "").startswith("text/event-stream")
                return resp.status, resp.getheader("retry-after"), b"" if event_stream else resp.read()

        connect = {"content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": "10000"}
        routes = {"Connect": lambda: as_burst("POST", f"{WS_PATH}/ListDefinitions", b"{}", connect),
                  "SSE": lambda: as_burst("GET", "/v1/workflows", headers={"accept": "text/event-stream"})}
        for route, call in routes.items():
            answers = []
            for _ in range(20):  # the first ones may take the tokens the bucket refilled since
                status, retry_after, body = call()
                answers.append(status)
                if status != 200:
                    break
            assert status == 429, f"{route} past the rate: HTTP {answers}, {body[:300]!r}" + tail(s)
            assert retry_after and retry_after.isdigit() and int(retry_after) >= 1, f"{route}: {retry_after=}"
            if route == "Connect":
                answer = json.loads(body)
                assert answer.get("code") == "resource_exhausted", answer
                assert "(requests_per_second)" in answer.get("message", ""), answer
        # Drained, the token still reads /metrics and the health routes.
        for path in ("/metrics", "/healthz", "/readyz") * 3:
            status, _, body = as_burst("GET", path)
            assert status == 200, f"GET {path} with a drained token: HTTP {status} {body[:200]!r}"
        assert list_as(steady).definitions is not None


# ---------------------------------------------------------------- bad --limit values

BAD_LIMITS = [
    # (the --limit argument, the limit stderr must name, the command)
    ("foo=1", "foo", "server"),
    ("history_events=0", "history_events", "server"),
    ("pending_signals=many", "pending_signals", "server"),
    ("payload_bytes=-5", "payload_bytes", "server"),
    ("definition_steps=10001", "definition_steps", "server"),
    ("history_events=1KiB", "history_events", "server"),  # suffixes only for *_bytes
    ("connections", "connections", "server"),
    ("foo=1", "foo", "dev"),
    ("workflow_id_bytes=0", "workflow_id_bytes", "dev"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("arg,name,command", BAD_LIMITS, ids=[f"{a}-{c}" for a, _, c in BAD_LIMITS])
def test_bad_limit_values_stop_the_server(tmp_path, arg, name, command):
    cmd = [str(baton_bin()), command, "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"), "--limit", arg]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(cmd)} kept running: it should have refused --limit {arg}", pytrace=False)
    shown = f"{' '.join(cmd)}: exit {r.returncode} after {time.monotonic() - t0:.1f}s\n--- stderr\n{r.stderr}"
    assert r.returncode == 2, shown
    assert "listening on" not in r.stdout, shown
    assert "--limit" in r.stderr and name in r.stderr, shown
    if name == "foo":
        assert "unknown limit 'foo'" in r.stderr and "known limits" in r.stderr, shown
        missing = [known for known in KNOWN if known not in r.stderr]
        assert not missing, f"known limits not listed: {missing}\n{shown}"


@pytest.mark.timeout(60)
def test_dev_accepts_limits():
    with serving(limit_args({"workflow_id_bytes": 30, "payload_bytes": "1MiB"}), command="dev") as s, \
            grpc.insecure_channel(s.addr) as channel:
        wf = WF(channel)
        refusal(lambda: wf.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id="d" * 31), timeout=RPC_TIMEOUT),
                INVALID, "workflow_id_bytes", 30, "baton dev: DescribeWorkflow with a 31-byte id", s)
        ok, why = outcome(lambda: wf.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id="d" * 30),
                                                      timeout=RPC_TIMEOUT))
        assert not ok and why.startswith("NOT_FOUND"), f"DescribeWorkflow of an unknown 30-byte id: {why}"
