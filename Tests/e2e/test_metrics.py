"""Prometheus metrics (issue 12, part 2): `GET /metrics` on the API port, the text exposition format.
One server of its own runs every kind of outcome through the CLI — completed runs, a failure retried
then compensated, a circuit breaker that opens and rejects, a cancel that compensates, a terminate of
a run whose task waits on a queue, a run waiting for a declared signal while an SSE client watches —
plus a long poll, a NOT_FOUND and an unknown method. The scrape must count each exactly (every name
here is this module's own on a fresh server), `promtool check metrics` must find nothing, a real
Prometheus must scrape it, and no label value may be a workflow id, a run id or a caller's free text."""

import http.client
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import grpc
import pytest

import prom
from conftest import Server, baton_bin
from baton.v1 import worker_service_pb2, worker_service_pb2_grpc, workflow_service_pb2, workflow_service_pb2_grpc

CLI_TIMEOUT = 30
WAIT = 20.0            # seconds for a metric to show a committed change
TAG = uuid.uuid4().hex[:10]
STRAY = f"stray-{TAG}"          # an undeclared signal: counted as `other`, never as a label value
QUEUE, IDLE, BREAKER = "mx_queue", "mx_idle", "mx_breaker"

DEFINITIONS = [
    """\
name: metrics_done
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { n: "${steps.a.output.n}" } }
""", """\
name: metrics_doomed
on_failure: compensate
steps:
  book: { activity: builtin.echo, input: { id: 7 }, compensate: { activity: builtin.echo, input: { undo: 7 } } }
  charge:
    depends_on: [book]
    activity: builtin.fail
    input: { type: CardDeclined, message: "no funds" }
    retry: { initial_interval: 10ms, maximum_attempts: 2 }
""", f"""\
name: metrics_tripped
circuit_breakers:
  {BREAKER}: {{ failure_threshold: 2, reset_timeout: 10m, half_open_max_calls: 1 }}
steps:
  call:
    activity: builtin.fail
    input: {{ type: Down }}
    circuit_breaker: {BREAKER}
    retry: {{ maximum_attempts: 1 }}
""", """\
name: metrics_halted
on_failure: compensate
steps:
  book: { activity: builtin.echo, input: { id: 8 }, compensate: { activity: builtin.echo, input: { undo: 8 } } }
  hold: { depends_on: [book], wait_for_signal: { name: hold } }
""", f"""\
name: metrics_queued
defaults: {{ task_queue: {QUEUE} }}
steps:
  remote: {{ activity: mx.remote, input: {{ n: 1 }} }}
""", """\
name: metrics_gated
steps:
  wait: { wait_for_signal: { name: go } }
  done: { activity: builtin.echo, depends_on: [wait], input: { ok: 1 } }
""", """\
name: metrics_scraped
steps:
  only: { activity: builtin.echo, input: { x: 1 } }
"""]

# What the scenario closes, exactly: (workflow_type, status) -> runs.
EXPECTED_RUNS = {("metrics_done", "completed"): 2, ("metrics_doomed", "compensated"): 1,
                 ("metrics_tripped", "failed"): 3, ("metrics_halted", "cancelled"): 1,
                 ("metrics_queued", "terminated"): 1, ("metrics_gated", "completed"): 1}
STARTS = sum(EXPECTED_RUNS.values())

# Every family of the contract with its type and its label names (a histogram's `le` aside).
FAMILIES = {
    "baton_workflow_executions_total": ("counter", {"workflow_type", "status"}),
    "baton_workflow_duration_seconds": ("histogram", {"workflow_type", "status"}),
    "baton_workflows_open": ("gauge", {"workflow_type"}),
    "baton_activity_attempts_total": ("counter", {"activity", "outcome"}),
    "baton_activity_retries_total": ("counter", {"activity"}),
    "baton_activity_duration_seconds": ("histogram", {"activity"}),
    "baton_circuit_breaker_transitions_total": ("counter", {"breaker", "from", "to"}),
    "baton_circuit_breaker_state": ("gauge", {"breaker"}),
    "baton_saga_compensations_total": ("counter", {"workflow_type", "reason"}),
    "baton_signals_total": ("counter", {"workflow_type", "signal"}),
    "baton_task_queue_depth": ("gauge", {"task_queue"}),
    "baton_task_queue_pollers": ("gauge", {"task_queue"}),
    "grpc_server_handled_total": ("counter", {"grpc_service", "grpc_method", "grpc_code"}),
    "grpc_server_handling_seconds": ("histogram", {"grpc_service", "grpc_method"}),
    "baton_store_commit_seconds": ("histogram", set()),
    "baton_store_batch_changes": ("histogram", set()),
    "baton_stream_subscribers": ("gauge", set()),
}
OPTIONAL = {"baton_trace_spans_dropped_total": ("counter", {"reason"})}   # may appear
TRANSIENT = {"baton_task_queue_depth", "baton_task_queue_pollers"}        # a forgotten idle queue has none
STATUSES = {"completed", "failed", "cancelled", "terminated", "compensated", "compensation_failed"}
BREAKER_STATES = {"closed", "open", "half_open"}
ALLOWED = {   # family -> label -> the values it may take
    "baton_workflow_executions_total": {"status": STATUSES},
    "baton_workflow_duration_seconds": {"status": STATUSES},
    "baton_activity_attempts_total": {"outcome": {"completed", "failed", "timed_out", "rejected"}},
    "baton_circuit_breaker_transitions_total": {"from": BREAKER_STATES, "to": BREAKER_STATES},
    "baton_saga_compensations_total": {"reason": {"failed", "cancelled"}},
    "grpc_server_handled_total": {"grpc_code": {   # go-grpc-prometheus spelling
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
        "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
        "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}},
}


@pytest.fixture(scope="module")
def srv():
    """This module's own server (fresh store: every count below is exact); must exit 0 on SIGTERM."""
    s = Server()
    yield s
    alive = s.alive()
    code = s.terminate()
    assert alive, f"server died during the metrics tests (exit {code}); stderr:\n{s.stderr()[-6000:]}"
    assert code == 0, f"server exited {code} after SIGTERM, expected 0; stderr:\n{s.stderr()[-6000:]}"


def cli(server, *args, stdin=None, expect=(0,)):
    r = subprocess.run([str(baton_bin()), *args, "--address", server.addr], capture_output=True, text=True,
                       timeout=CLI_TIMEOUT, input=stdin)
    assert r.returncode in expect, (f"baton {' '.join(args)} exited {r.returncode}, expected {expect}\n"
                                    f"stdout: {r.stdout}\nstderr: {r.stderr}\n"
                                    f"server stderr:\n{server.stderr()[-4000:]}")
    return r


def metrics_until(server, predicate, what, timeout=WAIT):
    """Scrapes until `predicate(scrape)` holds; `what` names the condition (or, called with the last
    scrape, says what is still missing). A scrape counts every commit made before it, so this is only
    for effects the server completes on its own after answering, with no event a client can follow:
    a long poll's waiter being registered or dropped after a cancel, a closed stream's subscription."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            last = prom.scrape(server.url)
        except urllib.error.HTTPError as error:
            pytest.fail(f"GET /metrics answered {error.code} {error.reason}: {error.read()[:300]!r}\n"
                        f"server stderr:\n{server.stderr()[-4000:]}", pytrace=False)
        if predicate(last):
            return last
        if time.monotonic() >= deadline:
            shown = what(last) if callable(what) else what
            pytest.fail(f"/metrics never showed {shown} within {timeout}s; last scrape:\n{last.tail()}\n"
                        f"server stderr:\n{server.stderr()[-4000:]}", pytrace=False)
        time.sleep(0.1)


def check_family(m, name, ctx=""):
    """The family is exposed with its type, exactly its label names and only allowed label values."""
    kind, labels = {**FAMILIES, **OPTIONAL}[name]
    family = m.family(name)
    assert family is not None, f"family {name} missing" + ctx
    assert family.type == kind, f"{name} is a {family.type}, expected a {kind}" + ctx
    assert family.samples, f"{name} has no samples" + ctx
    for sample in family.samples:
        assert set(sample.labels) - {"le"} == labels, f"{sample}: labels, expected {sorted(labels)}" + ctx
        for key, allowed in ALLOWED.get(name, {}).items():
            assert sample.labels[key] in allowed, f"{sample}: {key} not one of {sorted(allowed)}" + ctx


def wait_step_started(server, wid, step, timeout=WAIT):
    """Follows the run's history as the server pushes it (WatchHistory) until `step` started."""
    with grpc.insecure_channel(server.addr) as channel:
        events = workflow_service_pb2_grpc.WorkflowServiceStub(channel).WatchHistory(
            workflow_service_pb2.WatchHistoryRequest(workflow_id=wid), timeout=timeout)
        for event in events:
            if event.WhichOneof("attributes") == "step_started" and event.step_started.step == step:
                events.cancel()
                return
    pytest.fail(f"{wid}: the history ended without {step} starting", pytrace=False)


class SSE:
    """A Server-Sent Events subscriber: a live StreamProgress subscriber as far as the server knows."""

    def __init__(self, server, path):
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, f"GET {path}: {self.resp.status} {self.resp.read()[:500]!r}"

    def until(self, kind, timeout=WAIT):
        deadline, event = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            line = self.resp.readline()        # each read is bounded by the socket timeout
            assert line, f"the SSE stream ended before an {kind!r} event"
            line = line.decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif not line:
                if event == kind:
                    return
                event = None
        pytest.fail(f"no {kind!r} SSE event within {timeout}s")

    def close(self):
        self.conn.close()


def drive(server, ids):
    """Runs every case; checks the gauges that only show while something is open or waiting."""
    for source in DEFINITIONS:
        cli(server, "def", "apply", "-", stdin=source)
    for i in range(2):
        cli(server, "start", "metrics_done", "-w", ids[f"done{i}"], "-i", '{"n": 1}', "--wait")
    # charge fails, is retried once, fails again: book is compensated (COMPENSATED).
    cli(server, "start", "metrics_doomed", "-w", ids["doomed"], "--wait", expect=(6,))
    # Two failures open the breaker; the third run's attempt is rejected without running.
    for i in range(3):
        cli(server, "start", "metrics_tripped", "-w", ids[f"tripped{i}"], "--wait", expect=(6,))
    # A cancel once book completed: book is compensated, the run ends CANCELLED; an undeclared signal first.
    cli(server, "start", "metrics_halted", "-w", ids["halted"])
    wait_step_started(server, ids["halted"], "hold")  # book completed before hold could start
    cli(server, "signal", ids["halted"], STRAY, "-i", "{}")
    cli(server, "cancel", ids["halted"])
    cli(server, "await", ids["halted"], expect=(6,))
    # No worker serves mx_queue: the task waits there until the run is terminated.
    cli(server, "start", "metrics_queued", "-w", ids["queued"])
    # StartWorkflow answers after the task was queued, and a scrape counts every commit before it.
    queued = prom.scrape(server.url)
    assert queued.value("baton_task_queue_depth", task_queue=QUEUE) == 1, \
        f"baton_task_queue_depth{{task_queue={QUEUE!r}}} while its task waits:\n{queued.tail()}"
    check_family(queued, "baton_task_queue_depth")
    cli(server, "terminate", ids["queued"])
    cli(server, "await", ids["queued"], expect=(6,))
    # A worker's long poll on an idle queue is a poller while it waits.
    with grpc.insecure_channel(server.addr) as channel:
        poll = worker_service_pb2_grpc.WorkerServiceStub(channel).PollActivityTask.future(
            worker_service_pb2.PollActivityTaskRequest(task_queue=IDLE, worker_identity=f"metrics-{TAG}"),
            timeout=60)
        try:
            check_family(metrics_until(server, lambda m: m.value("baton_task_queue_pollers", task_queue=IDLE) == 1,
                                       f"baton_task_queue_pollers{{task_queue={IDLE!r}}} == 1 during a long poll"),
                         "baton_task_queue_pollers")
        finally:
            poll.cancel()
        metrics_until(server, lambda m: not m.value("baton_task_queue_pollers", task_queue=IDLE),
                      f"baton_task_queue_pollers{{task_queue={IDLE!r}}} back to 0 after the poll was cancelled")
        # An unknown method: counted as unknown/unknown, its name never a label.
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(f"/baton.v1.Nothing{TAG}/Nope{TAG}")(b"", timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED, refused.value
    # The signal run: open (and watched over SSE) while it waits, then signalled.
    cli(server, "start", "metrics_gated", "-w", ids["gated"])
    sse = SSE(server, f"/v1/workflows/{ids['gated']}/progress")
    try:
        sse.until("progress")  # sent to a registered subscriber
        waiting = prom.scrape(server.url)
        assert waiting.value("baton_workflows_open", workflow_type="metrics_gated") == 1 \
            and waiting.value("baton_workflows_open") == 1 and (waiting.value("baton_stream_subscribers") or 0) >= 1, \
            "baton_workflows_open{workflow_type='metrics_gated'} == 1 (the only open run) and " \
            f"baton_stream_subscribers >= 1 while the run waits for its signal:\n{waiting.tail()}"
        cli(server, "signal", ids["gated"], "go", "-i", '{"ok": true}')
        cli(server, "await", ids["gated"])
        sse.until("end")
    finally:
        sse.close()
    cli(server, "describe", f"nope-{TAG}", expect=(4,))


@pytest.mark.timeout(240)
def test_metrics_count_every_outcome_and_pass_promtool(srv):
    ids = {key: f"m{TAG}-{key}" for key in
           ("done0", "done1", "doomed", "tripped0", "tripped1", "tripped2", "halted", "queued", "gated")}
    drive(srv, ids)

    def unsettled(m):
        """What the final scrape still lacks: each run counted, nothing open, no subscriber, the NOT_FOUND."""
        lacking = [f"baton_workflow_executions_total{{workflow_type={t!r},status={s!r}}} == {n} (is {got})"
                   for (t, s), n in EXPECTED_RUNS.items()
                   if (got := m.value("baton_workflow_executions_total", workflow_type=t, status=s)) != n]
        if m.value("baton_workflows_open"):
            lacking.append(f"sum(baton_workflows_open) == 0 (is {m.value('baton_workflows_open')})")
        if m.value("baton_stream_subscribers"):
            lacking.append(f"baton_stream_subscribers == 0 (is {m.value('baton_stream_subscribers')})")
        if not m.value("grpc_server_handled_total", grpc_method="DescribeWorkflow", grpc_code="NotFound"):
            lacking.append("grpc_server_handled_total{grpc_method='DescribeWorkflow',grpc_code='NotFound'} >= 1")
        return lacking
    m = metrics_until(srv, lambda m: not unsettled(m), lambda m: "; ".join(unsettled(m)))
    ctx = f"\n/metrics:\n{m.tail()}\nserver stderr:\n{srv.stderr()[-3000:]}"

    assert m.content_type.startswith(prom.EXPOSITION), f"Content-Type {m.content_type!r}" + ctx
    # Every family of the contract is present (a queue's gauges only while the queue has a task or a
    # poller: drive() saw them), typed, with exactly its labels and allowed values.
    for name in {**FAMILIES, **OPTIONAL}:
        if m.family(name) is None:
            assert name in OPTIONAL or name in TRANSIENT, f"family {name} missing" + ctx
        else:
            check_family(m, name, ctx)

    # Runs: exact counts for this module's types, and no other status for them.
    types = {t for t, _ in EXPECTED_RUNS}
    for s in m.select("baton_workflow_executions_total"):
        if s.labels["workflow_type"] in types:
            key = (s.labels["workflow_type"], s.labels["status"])
            assert s.value == EXPECTED_RUNS.get(key, 0), f"{s}, expected {EXPECTED_RUNS.get(key, 0)}" + ctx

    def check(name, op, want, **labels):
        got = m.value(name, **labels)
        ok = got is not None and (got == want if op == "==" else got >= want)
        shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
        assert ok, f"{name}{{{shown}}} is {got}, expected {op} {want}" + ctx

    for (t, s), n in EXPECTED_RUNS.items():
        check("baton_workflow_duration_seconds_count", "==", n, workflow_type=t, status=s)
        check("baton_workflow_duration_seconds_bucket", "==", n, workflow_type=t, status=s, le="+Inf")
        check("baton_workflow_duration_seconds_sum", ">=", 0, workflow_type=t, status=s)
    for s in m.select("baton_workflows_open"):
        assert s.value == 0, f"{s} after every run closed" + ctx

    # Activities: failures (doomed 2, tripped 2), the rejection, the retry, durations.
    check("baton_activity_attempts_total", "==", 4, activity="builtin.fail", outcome="failed")
    check("baton_activity_attempts_total", "==", 1, activity="builtin.fail", outcome="rejected")
    check("baton_activity_attempts_total", ">=", 6, activity="builtin.echo", outcome="completed")
    check("baton_activity_retries_total", ">=", 1, activity="builtin.fail")
    check("baton_activity_duration_seconds_count", ">=", 1, activity="builtin.echo")

    # The breaker opened once and stays open (2); the sagas; the signals.
    check("baton_circuit_breaker_transitions_total", "==", 1, breaker=BREAKER, **{"from": "closed", "to": "open"})
    check("baton_circuit_breaker_state", "==", 2, breaker=BREAKER)
    check("baton_saga_compensations_total", "==", 1, workflow_type="metrics_doomed", reason="failed")
    check("baton_saga_compensations_total", "==", 1, workflow_type="metrics_halted", reason="cancelled")
    assert not m.value("baton_saga_compensations_total", workflow_type="metrics_doomed", reason="cancelled"), ctx
    check("baton_signals_total", "==", 1, workflow_type="metrics_gated", signal="go")
    check("baton_signals_total", "==", 1, workflow_type="metrics_halted", signal="other")

    # Queues and subscribers are back to nothing (a removed queue series counts as 0).
    assert not m.value("baton_task_queue_depth", task_queue=QUEUE), ctx
    check("baton_stream_subscribers", "==", 0)

    # Calls: every start OK, the NOT_FOUND, the unknown method; handling times; service names.
    service = "baton.v1.WorkflowService"
    check("grpc_server_handled_total", ">=", STARTS, grpc_service=service, grpc_method="StartWorkflow", grpc_code="OK")
    check("grpc_server_handled_total", ">=", len(DEFINITIONS), grpc_service=service, grpc_method="RegisterDefinition",
          grpc_code="OK")
    check("grpc_server_handled_total", ">=", 1, grpc_service=service, grpc_method="DescribeWorkflow",
          grpc_code="NotFound")
    check("grpc_server_handled_total", ">=", 1, grpc_service="unknown", grpc_method="unknown",
          grpc_code="Unimplemented")
    check("grpc_server_handling_seconds_count", ">=", STARTS, grpc_service=service, grpc_method="StartWorkflow")
    for s in m.select("grpc_server_handled_total"):
        assert s.labels["grpc_service"] == "unknown" or s.labels["grpc_service"].startswith(("baton.v1.", "grpc.")), (
            f"{s}: grpc_service neither a served service nor 'unknown'" + ctx)

    # The store committed, in batches.
    check("baton_store_commit_seconds_count", ">=", 1)
    check("baton_store_batch_changes_count", ">=", 1)

    # No label value is a workflow id, a run id, a caller's signal name or method path.
    runs = [json.loads(line) for line in cli(srv, "list", "--json", "-n", "100").stdout.splitlines() if line.strip()]
    run_ids = {r["runId"] for r in runs}
    assert set(ids.values()) <= {r["workflowId"] for r in runs}, runs
    forbidden = set(ids.values()) | run_ids | {STRAY, f"nope-{TAG}", f"baton.v1.Nothing{TAG}", f"Nope{TAG}"}
    leaks = sorted({(s.name, k, v) for s in m.samples for k, v in s.labels.items()
                    if v in forbidden or TAG in v})
    assert not leaks, f"label values naming runs or callers' text: {leaks}" + ctx

    # promtool's linter finds nothing.
    lint = prom.promtool_check(m.body)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), (
        f"promtool check metrics exited {lint.returncode}:\n{lint.stdout}{lint.stderr}" + ctx)


@pytest.mark.timeout(150)
def test_a_real_prometheus_scrapes_the_server(srv, tmp_path):
    cli(srv, "def", "apply", "-", stdin=DEFINITIONS[-1])
    cli(srv, "start", "metrics_scraped", "-w", f"m{TAG}-scraped", "--wait")
    metrics_until(srv, lambda m: m.value("baton_workflow_executions_total", workflow_type="metrics_scraped",
                                         status="completed") == 1, "the metrics_scraped run counted")
    with prom.Prometheus(srv.addr, job="baton", work_dir=tmp_path) as prometheus:
        target = prometheus.wait_target_up(timeout=60)
        assert target["scrapeUrl"] == f"{srv.url}/metrics", target
        result = prometheus.wait_query('baton_workflow_executions_total{workflow_type="metrics_scraped"}')
        assert len(result) == 1, f"{result}\nprometheus log:\n{prometheus.log()}"
        assert result[0]["metric"]["status"] == "completed" and float(result[0]["value"][1]) == 1, result
        up = prometheus.wait_query('up{job="baton"}')
        assert [float(r["value"][1]) for r in up] == [1.0], up
        # The histogram works for PromQL too: its bucket series have `le` and end at +Inf.
        buckets = prometheus.wait_query(
            'baton_workflow_duration_seconds_bucket{workflow_type="metrics_scraped",le="+Inf"}')
        assert float(buckets[0]["value"][1]) == 1, buckets
    assert prometheus.proc.returncode == 0, f"prometheus exited {prometheus.proc.returncode}"


@pytest.mark.timeout(60)
def test_metrics_refuses_other_methods(srv):
    request = urllib.request.Request(f"{srv.url}/metrics", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405, f"POST /metrics answered {refused.value.code}, expected 405"
    assert prom.scrape(srv.url).families, "GET /metrics after the POST has no families"
