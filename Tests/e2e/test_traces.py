"""Distributed traces: `baton server --otlp-endpoint URL` exports every run as one
trace over OTLP/HTTP protobuf (POST URL/v1/traces): a root span `workflow DEFINITION` from start to
close, and under it `step STEP` per attempt (failure status, `retry` event), `backoff STEP`,
`signal NAME`, `sleep STEP` and `compensate STEP`. A W3C `traceparent` on StartWorkflow makes the
root span its child; DescribeWorkflow names the trace (info.trace_id); each polled task carries its
attempt's span as `traceparent`, so the Python SDK worker's `activity TYPE` spans join the trace.
A run that crosses a restart stays one trace with one root span; an unreachable endpoint costs the
runs nothing and the log a few lines.

The receiver is a small OTLP/HTTP server in this process (ThreadingHTTPServer, spans decoded with
opentelemetry-proto); the tests wait on its condition variable for the spans they expect, every
wait with a deadline, never a sleep.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import secrets
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as otlp

import baton
from conftest import Server, baton_bin

WAIT = 30.0  # seconds: the bound of every wait for a run or a span
MS = 1_000_000  # nanoseconds
HEX32, HEX16 = re.compile(r"[0-9a-f]{32}"), re.compile(r"[0-9a-f]{16}")
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2

THREE = """
name: traces_three
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { n: "${steps.a.output.n}" } }
  c: { activity: builtin.echo, depends_on: [b], input: { n: "${steps.b.output.n}" } }
output: "${steps.c.output}"
"""

DOOMED = """
name: traces_doomed
on_failure: compensate
steps:
  book: { activity: builtin.echo, input: { id: 7 }, compensate: { activity: builtin.echo, input: { undo: 7 } } }
  charge:
    depends_on: [book]
    activity: builtin.fail
    input: { type: CardDeclined, message: "no funds" }
    retry: { initial_interval: 200ms, maximum_attempts: 2 }
"""

FAILED = """
name: traces_failed
defaults: { retry: { maximum_attempts: 1 } }
on_failure: fail
steps:
  boom: { activity: builtin.fail, input: { type: Boom, message: "it broke", non_retryable: true } }
"""

GATED = """
name: traces_gated
steps:
  a: { activity: builtin.echo, input: { n: 1 } }
  nap: { depends_on: [a], sleep: 300ms }
  wait: { depends_on: [nap], wait_for_signal: { name: go } }
  b: { activity: builtin.echo, depends_on: [wait], input: { ok: "${steps.wait.signal.ok}" } }
output: "${steps.b.output}"
"""

SLOW = """
name: traces_slow
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  nap: { depends_on: [a], sleep: 1500ms }
  b: { activity: builtin.echo, depends_on: [nap], input: { n: "${steps.a.output.n}" } }
output: "${steps.b.output}"
"""

WORKED = """
name: traces_worked
defaults: { task_queue: traces-q, retry: { initial_interval: 10ms, maximum_attempts: 3 } }
steps:
  s: { activity: traces.work, input: "${input}" }
output: "${steps.s.output}"
"""


# ---------------------------------------------------------------- the receiver


def attributes(kvs) -> dict:
    """OTLP KeyValues as a dict of Python values (int_value stays an int; arrays and maps as protos)."""
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value") or "string_value") for kv in kvs}


@dataclass
class Span:
    """A received span: ids in lowercase hex (parent "" for a root), times in ns since the epoch,
    events as (name, attributes), the resource's service.name, the scope's name, the POST's path."""
    name: str
    trace_id: str
    span_id: str
    parent: str
    start: int
    end: int
    attrs: dict
    status: int
    message: str
    events: list
    service: str
    scope: str
    path: str

    def __str__(self):
        return f"{self.name!r} {self.attrs.get('baton.workflow_id', '')} #{self.attrs.get('baton.attempt', '-')}"


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1:0: records every span, answers 200 with an empty
    ExportTraceServiceResponse; `problems` lists requests that break the protocol."""

    def __init__(self):
        self.spans: list[Span] = []
        self.problems: list[str] = []
        self.cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                receiver._receive(self.path, self.headers, self._body())
                reply = otlp.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _receive(self, path, headers, body):
        problems, spans = [], []
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/x-protobuf":
            problems.append(f"POST {path}: Content-Type {headers.get('Content-Type')!r}")
        if headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        try:
            request = otlp.ExportTraceServiceRequest.FromString(body)
        except Exception as error:  # noqa: BLE001 - recorded, reported by the test
            problems.append(f"POST {path}: body is no ExportTraceServiceRequest ({error})")
            request = otlp.ExportTraceServiceRequest()
        for resource_spans in request.resource_spans:
            service = attributes(resource_spans.resource.attributes).get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    spans.append(Span(
                        s.name, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), s.start_time_unix_nano,
                        s.end_time_unix_nano, attributes(s.attributes), s.status.code, s.status.message,
                        [(e.name, attributes(e.attributes)) for e in s.events], service, scope_spans.scope.name, path))
        with self.cond:
            self.spans += spans
            self.problems += problems
            self.cond.notify_all()

    def in_trace(self, trace_id) -> list[Span]:
        with self.cond:
            return [s for s in self.spans if s.trace_id == trace_id]

    def report(self, what, server=None) -> str:
        with self.cond:
            names = sorted(str(s) for s in self.spans)
            problems = list(self.problems)
        text = f"{what}; {len(names)} spans received: {names}"
        if problems:
            text += f"\nprotocol problems: {problems}"
        if server is not None:
            text += "\nserver stderr (tail):\n" + "\n".join(server.stderr().splitlines()[-40:])
        return text

    def wait_for(self, what, predicate, server=None, timeout=WAIT) -> Span:
        """The first span matching `predicate`, waiting up to `timeout` seconds for it to arrive."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [s for s in self.spans if predicate(s)]
                if found:
                    return found[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(self.report(f"no span {what} within {timeout}s", server), pytrace=False)
                self.cond.wait(remaining)

    def wait_named(self, trace_id, name, server=None, attempt=None, timeout=WAIT) -> Span:
        return self.wait_for(f"{name!r} (attempt {attempt}) in trace {trace_id}",
                             lambda s: s.trace_id == trace_id and s.name == name
                             and (attempt is None or s.attrs.get("baton.attempt") == attempt), server, timeout)

    def check(self, server=None, path="/v1/traces"):
        """Every request was well-formed (and went to `path`), and no span was exported twice."""
        with self.cond:
            duplicates = sorted(i for i, n in Counter(s.span_id for s in self.spans).items() if n > 1)
            paths = {s.path for s in self.spans}
        assert not self.problems, self.report("bad export requests", server)
        if path is not None:
            assert paths <= {path}, self.report(f"spans POSTed to {paths}, expected {path}", server)
        assert not duplicates, self.report(f"span ids exported more than once: {duplicates}", server)


def assert_attrs(span: Span, **expected):
    """The span has these attributes, with these values and types (an int stays an int)."""
    for key, value in expected.items():
        key = "baton." + key
        got = span.attrs.get(key)
        assert got == value and type(got) is type(value), f"{span}: {key} is {got!r}, expected {value!r}; {span.attrs}"


def assert_child(span: Span, root: Span, slack=10 * MS):
    assert span.trace_id == root.trace_id, f"{span} is in trace {span.trace_id}, not the run's {root.trace_id}"
    assert span.parent == root.span_id, f"{span}: parent {span.parent!r}, expected the root span {root.span_id}"
    assert root.start - slack <= span.start <= span.end <= root.end + slack, \
        f"{span} [{span.start}, {span.end}] is not within the root span [{root.start}, {root.end}]"


def retries(span: Span) -> list:
    """The `baton.next_attempt` of each `retry` event of the span."""
    return [attrs.get("baton.next_attempt") for name, attrs in span.events if name == "retry"]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def srv(receiver):
    s = Server(["--otlp-endpoint", receiver.url])
    with baton.Client(s.addr) as c:
        for source in (THREE, DOOMED, FAILED, WORKED):
            c.register(source)
    yield s
    assert s.terminate() == 0, s.stderr()
    receiver.check(s)


@pytest.fixture
def client(srv):
    with baton.Client(srv.addr) as c:
        yield c


def describe_trace_id(client, workflow_id) -> str:
    trace_id = client.describe(workflow_id).raw.info.trace_id
    assert HEX32.fullmatch(trace_id) and trace_id != "0" * 32, f"describe's trace_id is {trace_id!r}"
    return trace_id


def root_of(receiver, server, definition, workflow_id) -> Span:
    return receiver.wait_for(f"'workflow {definition}' of {workflow_id}",
                             lambda s: s.name == f"workflow {definition}"
                             and s.attrs.get("baton.workflow_id") == workflow_id, server)


def wait_step_started(handle, step):
    for event in handle.watch_history(timeout=WAIT):
        if event.type == "StepStarted" and event.step_started.step == step:
            return
    pytest.fail(f"{handle.workflow_id} closed before step {step} started")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- (a) one run, one trace


@pytest.mark.timeout(90)
def test_a_run_is_one_trace_a_root_span_and_a_span_per_step(srv, receiver, client):
    run = client.start("traces_three", {"n": 3}, workflow_id="traces-three")
    assert run.await_result(timeout=WAIT) == {"n": 3}
    described = run.describe()
    trace_id = describe_trace_id(client, "traces-three")
    assert described.trace_id == trace_id  # the SDK's WorkflowDescription names it too
    root = root_of(receiver, srv, "traces_three", "traces-three")
    steps = [receiver.wait_named(trace_id, f"step {name}", srv) for name in "abc"]

    assert root.trace_id == trace_id and root.parent == "" and HEX16.fullmatch(root.span_id), root
    assert_attrs(root, workflow_id="traces-three", run_id=run.run_id, definition="traces_three", version=1,
                 status="completed")
    assert root.status == STATUS_OK, (root.status, root.message)
    assert (root.service, root.scope) == ("baton", "baton"), (root.service, root.scope)
    info = described.raw.info
    assert abs(root.start - info.start_time.ToNanoseconds()) < 500 * MS, (root.start, info.start_time)
    assert abs(root.end - info.close_time.ToNanoseconds()) < 500 * MS, (root.end, info.close_time)
    for name, span in zip("abc", steps):
        assert_child(span, root)
        assert_attrs(span, workflow_id="traces-three", step=name, attempt=1, activity="builtin.echo")
        assert span.status != STATUS_ERROR and not retries(span), (span, span.events)
    assert steps[0].end <= steps[1].start + 10 * MS and steps[1].end <= steps[2].start + 10 * MS, steps
    names = sorted(s.name for s in receiver.in_trace(trace_id))
    assert names == ["step a", "step b", "step c", "workflow traces_three"], receiver.report("the run's trace", srv)

    cli = subprocess.run([str(baton_bin()), "describe", "traces-three", "-o", "json", "--address", srv.addr],
                         capture_output=True, text=True, timeout=WAIT)
    assert cli.returncode == 0, cli
    assert json.loads(cli.stdout)["workflow"]["info"]["traceId"] == trace_id, cli.stdout


# ---------------------------------------------------------------- (b) the caller's trace


@pytest.mark.timeout(90)
def test_a_traceparent_on_start_makes_the_run_a_child_of_the_callers_span(srv, receiver, client):
    given = {}
    # gRPC metadata.
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    given["traces-parent-grpc"] = (trace_id, span_id)
    with baton.Client(srv.addr, metadata=[("traceparent", f"00-{trace_id}-{span_id}-01")]) as traced:
        traced.start("traces_three", {"n": 1}, workflow_id="traces-parent-grpc")
    # A Connect call's header.
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    given["traces-parent-connect"] = (trace_id, span_id)
    body = json.dumps({"definition": "traces_three", "workflowId": "traces-parent-connect", "input": {"n": 2}})
    request = urllib.request.Request(f"{srv.url}/baton.v1.WorkflowService/StartWorkflow", data=body.encode(),
                                     headers={"Content-Type": "application/json",
                                              "traceparent": f"00-{trace_id}-{span_id}-01"})
    with urllib.request.urlopen(request, timeout=WAIT) as reply:
        assert reply.status == 200, reply.read()
    # None: a new trace each.
    for wid in ("traces-new-1", "traces-new-2"):
        client.start("traces_three", {"n": 3}, workflow_id=wid)

    for wid, (trace_id, span_id) in given.items():
        assert client.await_closed(wid, timeout=WAIT).status == baton.WorkflowStatus.COMPLETED
        assert describe_trace_id(client, wid) == trace_id
        root = root_of(receiver, srv, "traces_three", wid)
        assert (root.trace_id, root.parent) == (trace_id, span_id), f"{wid}: root {root}, expected {given[wid]}"
        for name in "abc":
            assert_child(receiver.wait_named(trace_id, f"step {name}", srv), root)
    fresh = []
    for wid in ("traces-new-1", "traces-new-2"):
        assert client.await_closed(wid, timeout=WAIT).status == baton.WorkflowStatus.COMPLETED
        root = root_of(receiver, srv, "traces_three", wid)
        assert root.parent == "" and root.trace_id == describe_trace_id(client, wid), root
        fresh.append(root.trace_id)
    assert len(set(fresh)) == 2 and not set(fresh) & {t for t, _ in given.values()}, fresh


# ---------------------------------------------------------------- (c) retries, backoff, compensation


@pytest.mark.timeout(90)
def test_failed_attempts_backoff_and_compensation_are_spans_of_the_run(srv, receiver, client):
    run = client.start("traces_doomed", workflow_id="traces-doomed")
    assert run.await_closed(timeout=WAIT).status == baton.WorkflowStatus.COMPENSATED
    trace_id = describe_trace_id(client, "traces-doomed")
    root = root_of(receiver, srv, "traces_doomed", "traces-doomed")
    book = receiver.wait_named(trace_id, "step book", srv)
    first, second = (receiver.wait_named(trace_id, "step charge", srv, attempt=n) for n in (1, 2))
    backoff = receiver.wait_named(trace_id, "backoff charge", srv)
    undo = receiver.wait_named(trace_id, "compensate book", srv)

    assert_attrs(root, workflow_id="traces-doomed", definition="traces_doomed", status="compensated")
    for span in (book, first, second, backoff, undo):
        assert_child(span, root)
    assert book.status != STATUS_ERROR, book
    for span, attempt in ((first, 1), (second, 2)):
        assert_attrs(span, workflow_id="traces-doomed", step="charge", attempt=attempt, activity="builtin.fail",
                     error_type="CardDeclined")
        assert span.status == STATUS_ERROR and "CardDeclined" in span.message, (span, span.message)
    assert retries(first) == [2] and type(retries(first)[0]) is int, first.events
    assert retries(second) == [], second.events
    assert_attrs(backoff, step="charge", attempt=2)
    assert first.end - 50 * MS <= backoff.start and backoff.end <= second.start + 50 * MS, (first, backoff, second)
    assert backoff.end - backoff.start >= 150 * MS, f"a 200ms backoff lasted {(backoff.end - backoff.start) / MS}ms"
    assert_attrs(undo, step="book", attempt=1, activity="builtin.echo")
    assert undo.start >= second.end - 50 * MS, (second, undo)
    names = sorted(s.name for s in receiver.in_trace(trace_id))
    assert names == ["backoff charge", "compensate book", "step book", "step charge", "step charge",
                     "workflow traces_doomed"], receiver.report("the run's trace", srv)

    # A run that fails for good: its root span is an error.
    assert client.start("traces_failed", workflow_id="traces-failed").await_closed(timeout=WAIT).status == \
        baton.WorkflowStatus.FAILED
    root = root_of(receiver, srv, "traces_failed", "traces-failed")
    assert_attrs(root, status="failed", definition="traces_failed", version=1)
    assert root.status == STATUS_ERROR, (root.status, root.message)
    boom = receiver.wait_named(root.trace_id, "step boom", srv)
    assert_child(boom, root)
    assert_attrs(boom, error_type="Boom", attempt=1)
    assert boom.status == STATUS_ERROR and retries(boom) == [], (boom, boom.events)


# ---------------------------------------------------------------- (d) a signal wait across a restart


@pytest.mark.timeout(120)
def test_a_run_that_crosses_a_restart_is_one_trace_with_one_root_span(tmp_path):
    receiver, data = Receiver(), str(tmp_path / "data")
    first = Server(["--otlp-endpoint", receiver.url], data_dir=data)
    second = None
    try:
        with baton.Client(first.addr) as c:
            c.register(GATED)
            run = c.start("traces_gated", workflow_id="traces-restart")
            wait_step_started(run, "wait")
            trace_id = describe_trace_id(c, "traces-restart")
        stopping = time.time_ns()
        assert first.terminate() == 0, first.stderr()
        # What ended before SIGTERM was flushed on the way out; the open run's root span was not sent.
        receiver.wait_named(trace_id, "step a", first)
        receiver.wait_named(trace_id, "sleep nap", first)
        early = [s.name for s in receiver.in_trace(trace_id)]
        assert sorted(early) == ["sleep nap", "step a"], receiver.report("spans of the open run before restart", first)

        second = Server(["--otlp-endpoint", receiver.url], data_dir=data)
        restarted = time.time_ns()
        with baton.Client(second.addr) as c:
            handle = c.get_handle("traces-restart")
            assert handle.describe().raw.info.trace_id == trace_id, "the restart changed the run's trace id"
            assert handle.signal("go", {"ok": True})
            assert handle.await_result(timeout=WAIT) == {"ok": True}
        root = root_of(receiver, second, "traces_gated", "traces-restart")
        signal = receiver.wait_named(trace_id, "signal go", second)
        b = receiver.wait_named(trace_id, "step b", second)
        assert second.terminate() == 0, second.stderr()

        spans = receiver.in_trace(trace_id)
        expected = ["signal go", "sleep nap", "step a", "step b", "workflow traces_gated"]
        assert sorted(s.name for s in spans) == expected, receiver.report("the run's trace", second)
        for span in spans:
            if span is not root:
                assert_child(span, root)
        assert root.parent == "" and root.start < stopping < restarted < root.end, root
        assert_attrs(root, status="completed", workflow_id="traces-restart")
        assert signal.start < stopping < restarted < signal.end, "the signal span runs from the wait to the signal"
        assert_attrs(signal, step="wait", signal="go")
        nap = next(s for s in spans if s.name == "sleep nap")
        assert nap.end - nap.start >= 250 * MS, f"a 300ms sleep lasted {(nap.end - nap.start) / MS}ms"
        assert signal.end <= b.start + 50 * MS, (signal, b)
        receiver.check(second)
    finally:
        first.kill()
        if second is not None:
            second.kill()
        receiver.close()


# ---------------------------------------------------------------- (e) nobody listening


@pytest.mark.timeout(90)
def test_an_unreachable_endpoint_slows_nothing_and_is_logged_a_few_times():
    server = Server(["--otlp-endpoint", f"http://127.0.0.1:{closed_port()}"])
    try:
        with baton.Client(server.addr) as c:
            c.register(THREE)
            c.register(SLOW)
            began = time.monotonic()
            assert c.execute("traces_three", {"n": 1}, timeout=WAIT) == {"n": 1}
            assert time.monotonic() - began < 5, "a run took more than 5s with the endpoint down"
            # Runs whose spans end over 1.5s: several export intervals, each of them failing.
            began = time.monotonic()
            runs = [c.start("traces_slow", {"n": n}) for n in range(8)]
            assert [r.await_result(timeout=WAIT) for r in runs] == [{"n": n} for n in range(8)]
            assert time.monotonic() - began < 1.5 + 6, "runs were slowed by the failing export"
    finally:
        stopping = time.monotonic()
        code = server.terminate()
    assert code == 0, server.stderr()
    assert time.monotonic() - stopping < 10, "the flush on SIGTERM held the shutdown up"
    complaints = []
    for line in server.stderr().splitlines():
        try:
            entry = json.loads(line)
            level, text = str(entry.get("level", "")), json.dumps(entry)
        except (json.JSONDecodeError, AttributeError):
            level, text = line.lower(), line
        if re.search(r"warn|error|critical", level) and re.search(r"otlp|export|span|trac", text, re.I):
            complaints.append(line)
    assert 1 <= len(complaints) <= 5, f"{len(complaints)} export warnings for 36 spans:\n" + server.stderr()


# ---------------------------------------------------------------- the endpoint from the environment


@pytest.mark.timeout(90)
def test_the_endpoint_can_come_from_the_environment(monkeypatch):
    receiver = Receiver()
    try:
        for variable, url, path in (("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url, "/v1/traces"),
                                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url + "/custom/spans",
                                     "/custom/spans")):
            monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
            monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
            monkeypatch.setenv(variable, url)
            server = Server([])  # inherits the environment
            try:
                with baton.Client(server.addr) as c:
                    c.register(THREE)
                    run = c.start("traces_three", {"n": 1})
                    run.await_result(timeout=WAIT)
                root = root_of(receiver, server, "traces_three", run.workflow_id)
                assert root.path == path, f"{variable}={url}: spans POSTed to {root.path}, expected {path}"
            finally:
                assert server.terminate() == 0, server.stderr()
        receiver.check(path=None)
    finally:
        receiver.close()


# ---------------------------------------------------------------- (f) the Python worker joins the trace


@pytest.mark.timeout(90)
def test_the_python_workers_activity_spans_are_children_of_the_step_spans(srv, receiver, client):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter, provider = InMemorySpanExporter(), TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    worker = baton.Worker("traces-q", address=srv.addr, tracer_provider=provider)

    @worker.activity("traces.work")
    def work(payload, ctx):  # a plain function: runs on the worker's thread pool
        with tracer.start_as_current_span("user work"):
            if ctx.attempt == 1:
                raise baton.ActivityError("Flaky", "the first attempt fails")
            return payload

    worker.start()
    try:
        assert worker.wait_running(WAIT), "the worker did not start polling"
        run = client.start("traces_worked", {"x": 1}, workflow_id="traces-worked")
        assert run.await_result(timeout=WAIT) == {"x": 1}
    finally:
        worker.stop(grace=5)
        assert worker.join(WAIT), "the worker did not stop"
        provider.shutdown()
    trace_id = describe_trace_id(client, "traces-worked")
    root = root_of(receiver, srv, "traces_worked", "traces-worked")
    steps = {n: receiver.wait_named(trace_id, "step s", srv, attempt=n) for n in (1, 2)}
    for span in steps.values():
        assert_child(span, root)
    assert steps[1].status == STATUS_ERROR and "Flaky" in steps[1].message, steps[1]

    finished = exporter.get_finished_spans()
    activities = {s.attributes["baton.attempt"]: s for s in finished if s.name == "activity traces.work"}
    users = [s for s in finished if s.name == "user work"]
    assert sorted(activities) == [1, 2] and len(users) == 2, [s.name for s in finished]
    for attempt, span in activities.items():
        server_span = steps[attempt]
        assert f"{span.context.trace_id:032x}" == trace_id, f"attempt {attempt}: the worker's span is in another trace"
        assert span.parent is not None and f"{span.parent.span_id:016x}" == server_span.span_id, \
            f"attempt {attempt}: the worker's span's parent is not the server's 'step s' span {server_span}"
        assert span.kind == trace.SpanKind.CONSUMER
        assert dict(span.attributes) == {"baton.workflow_id": "traces-worked", "baton.step": "s",
                                         "baton.attempt": attempt, "baton.activity": "traces.work"} | (
            {"baton.error_type": "Flaky"} if attempt == 1 else {}), span.attributes
    assert activities[1].status.status_code == trace.StatusCode.ERROR
    assert activities[2].status.status_code == trace.StatusCode.UNSET
    assert {u.parent.span_id for u in users} == {s.context.span_id for s in activities.values()}, \
        "the activity's own spans do not nest under the worker's span"
