"""The `baton` CLI's client subcommands, run as a subprocess against a live server: output,
one-line errors on stderr, and the documented exit codes (0 ok, 2 usage / INVALID_ARGUMENT,
3 unreachable, 4 NOT_FOUND, 5 FAILED_PRECONDITION / ALREADY_EXISTS, 6 watched run ended badly,
1 anything else)."""

import contextlib
import json
import os
import pty
import re
import socket
import subprocess
import threading
import time
from concurrent import futures

import grpc
import pytest

from conftest import Server, baton_bin

CLI_TIMEOUT = 30.0

THREE = """\
name: three
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { from_a: "${steps.a.output.n}" } }
output: { b: "${steps.b.output.from_a}" }
"""

# Waits for a signal, so it stays open until signalled, cancelled or terminated.
GATED = """\
name: gated
steps:
  first: { activity: builtin.echo, input: { x: 1 } }
  approval:
    depends_on: [first]
    wait_for_signal: { name: go, timeout: 1h }
  last: { activity: builtin.echo, depends_on: [approval], input: { ok: "${steps.approval.signal.ok}" } }
output: { ok: "${steps.last.output.ok}" }
"""

# Fails for good at its second step.
DOOMED = """\
name: doomed
on_failure: fail
steps:
  ok: { activity: builtin.echo, input: { x: 1 } }
  boom:
    depends_on: [ok]
    activity: builtin.fail
    input: { type: Kaboom, message: "no luck", non_retryable: true }
"""

# Two phases of simulated work, slow enough to see progress change.
SLOW = """\
name: slow
steps:
  first: { activity: builtin.simulate, input: { duration: 700 }, phase: one }
  second: { activity: builtin.simulate, depends_on: [first], input: { duration: 700 }, phase: two }
"""

BROKEN = """\
name: broken
steps:
  a: { activity: builtin.echo }
  b: { activity: builtin.echo, depends_on: [nowhere] }
"""


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


@pytest.fixture(scope="module")
def srv():
    s = Server()
    yield s
    assert s.alive(), f"server died during the CLI tests; stderr:\n{s.stderr()}"
    assert s.terminate() == 0


@pytest.fixture(scope="module")
def cli(srv):
    """Runs `baton ARGS` against the module's server (via --address unless env says otherwise)."""
    def run(*args, address=True, env=None, stdin=None):
        full_env = {k: v for k, v in os.environ.items() if k != "BATON_ADDRESS"}
        full_env.update(env or {})
        argv = [str(baton_bin()), *args]
        if address:
            argv += ["--address", srv.addr]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, env=full_env,
                              input=stdin)
        return Result(proc)
    run.address = srv.addr
    return run


@pytest.fixture(scope="module")
def defs(tmp_path_factory, cli):
    d = tmp_path_factory.mktemp("defs")
    files = [("three.yaml", THREE), ("gated.yaml", GATED), ("doomed.yaml", DOOMED), ("slow.yaml", SLOW),
             ("broken.yaml", BROKEN)]
    for name, text in files:
        (d / name).write_text(text)
    for name in ("three.yaml", "gated.yaml", "doomed.yaml", "slow.yaml"):
        r = cli("def", "apply", str(d / name))
        assert r.code == 0, r
    return d


def one_error_line(r, code, *needles):
    """The run failed with `code` and exactly one stderr line `baton: ...` containing each needle."""
    assert r.code == code, r
    lines = r.err.splitlines()
    assert len(lines) == 1, f"expected one stderr line: {r}"
    assert lines[0].startswith("baton: "), r
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cli, name="three", *args):
    r = cli("start", name, *args)
    assert r.code == 0, r
    wid = r.out.strip()
    assert wid and "\n" not in wid, r
    return wid


def wait_status(cli, wid, status):
    """Follows the run with `baton watch` (a server stream that ends when the run closes, bounded by
    CLI_TIMEOUT), then checks the closed status with `baton describe`."""
    watched = cli("watch", wid)
    assert watched.code in (0, 6), watched
    r = cli("describe", wid)
    assert r.code == 0, r
    m = re.search(r"^status\s+(\S+)", r.out, re.M)
    assert m, r
    assert m.group(1) == status, f"{wid} closed {m.group(1)}, not {status}:\n{r}"
    return r


# ---------------------------------------------------------------- definitions

def test_def_apply_prints_name_and_version(cli, defs):
    r = cli("def", "apply", str(defs / "three.yaml"))
    assert r.code == 0, r
    assert r.out.strip() == "registered three version 1" or r.out.startswith("registered three version 1 "), r
    assert r.err == "", r


def test_def_apply_changed_content_is_next_version(cli, tmp_path, defs):
    f = tmp_path / "v.yaml"
    f.write_text("name: versioned\nsteps:\n  a: { activity: builtin.echo }\n")
    assert cli("def", "apply", str(f)).out.strip() == "registered versioned version 1"
    f.write_text("name: versioned\nsteps:\n  a: { activity: builtin.echo, input: { v: 2 } }\n")
    r = cli("def", "apply", str(f))
    assert r.code == 0 and r.out.strip() == "registered versioned version 2", r
    r = cli("def", "show", "versioned", "--version", "1")
    assert r.code == 0 and "v: 2" not in r.out and "activity: builtin.echo" in r.out, r
    assert "v: 2" in cli("def", "show", "versioned").out


def test_def_apply_json_from_stdin(cli):
    doc = {"name": "from_stdin", "steps": {"a": {"activity": "builtin.echo"}}}
    r = cli("def", "apply", "-", stdin=json.dumps(doc))
    assert r.code == 0 and r.out.strip() == "registered from_stdin version 1", r


def test_def_apply_invalid_definition_names_line_and_column(cli, defs):
    r = cli("def", "apply", str(defs / "broken.yaml"))
    line = one_error_line(r, 2, "broken.yaml", "INVALID_ARGUMENT", "nowhere")
    assert re.search(r"\b4:\d+\b", line), f"no line:column of the bad depends_on in {line!r}"
    assert r.out == "", r


def test_def_apply_missing_file_is_usage_error(cli, tmp_path):
    r = cli("def", "apply", str(tmp_path / "nope.yaml"))
    one_error_line(r, 2, "nope.yaml", "does not exist")


def test_def_show_prints_source(cli, defs):
    r = cli("def", "show", "three")
    assert r.code == 0, r
    assert r.out == THREE, r


def test_def_show_unknown_is_not_found(cli, defs):
    one_error_line(cli("def", "show", "no_such_definition"), 4, "NOT_FOUND", "no_such_definition")
    one_error_line(cli("def", "show", "three", "--version", "99"), 4, "NOT_FOUND")


def test_def_list(cli, defs):
    r = cli("def", "list")
    assert r.code == 0, r
    rows = [line.split() for line in r.out.splitlines()]
    assert rows[0] == ["NAME", "VERSION"], r
    assert ["three", "1"] in rows and ["gated", "1"] in rows, r
    doc = json.loads(cli("def", "list", "--json").out)
    assert {"name": "three", "version": 1} in doc["definitions"]


# ---------------------------------------------------------------- runs

def test_start_then_describe_until_completed(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 7}')
    r = wait_status(cli, wid, "completed")
    assert re.search(r"^workflow\s+" + re.escape(wid) + r"$", r.out, re.M), r
    assert re.search(r"^definition\s+three v1$", r.out, re.M), r
    assert re.search(r'^output\s+\{"b":7\}$', r.out, re.M), r
    table = r.out.split("\n\n", 1)[1].splitlines()
    assert table[0].split()[:4] == ["STEP", "STATUS", "ATTEMPTS", "PHASE"], r
    assert [row.split()[:3] for row in table[1:]] == [["a", "completed", "1"], ["b", "completed", "1"]], r


def test_start_with_id_and_version(cli, defs):
    wid = start(cli, "three", "--id", "cli-fixed-id", "--version", "1", "--input", '{"n": 1}')
    assert wid == "cli-fixed-id"
    wait_status(cli, wid, "completed")


def test_start_unknown_definition_is_not_found(cli):
    one_error_line(cli("start", "no_such_definition"), 4, "start no_such_definition", "NOT_FOUND")


def test_start_invalid_input_json_is_usage_error(cli, defs):
    r = cli("start", "three", "--input", "{not json")
    one_error_line(r, 2, "--input", "JSON")


def test_start_input_from_file(cli, defs, tmp_path):
    f = tmp_path / "in.json"
    f.write_text('{"n": "from file"}')
    wid = start(cli, "three", "--input", f"@{f}")
    r = wait_status(cli, wid, "completed")
    assert '"b":"from file"' in r.out, r


def test_history_lists_every_event_in_order(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 3}')
    wait_status(cli, wid, "completed")
    r = cli("history", wid)
    assert r.code == 0, r
    lines = r.out.splitlines()
    fields = [line.split() for line in lines]
    assert [int(f[0]) for f in fields] == list(range(1, len(lines) + 1)), r
    types = [f[2] for f in fields]
    assert types[0] == "WorkflowStarted" and types[-1] == "WorkflowCompleted", r
    assert types.count("StepCompleted") == 2, r
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", fields[0][1]), r
    assert "step=a" in lines[types.index("StepCompleted")], r
    # Typed attributes, by their field names.
    assert re.search(r'definition=three input=\{"n":3\} run_id=[0-9a-f-]{36} '
                     r'trace=\{"sampled":true,"span_id":"[0-9a-f]{16}","trace_id":"[0-9a-f]{32}"\} version=1', lines[0]), r
    assert "attempt=1" in lines[types.index("StepCompleted")], r
    # Paging through small pages gives the same lines.
    assert cli("history", wid, "--page-size", "2").out == r.out


def test_history_json_one_event_per_line(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 4}')
    wait_status(cli, wid, "completed")
    r = cli("history", wid, "--json")
    assert r.code == 0, r
    events = [json.loads(line) for line in r.out.splitlines()]
    assert events[0]["type"] == "WorkflowStarted" and events[-1]["type"] == "WorkflowCompleted"
    assert events[0]["workflowStarted"]["input"] == {"n": 4}
    assert events[0]["workflowStarted"]["definition"] == "three"
    completed = [e["stepCompleted"] for e in events if e["type"] == "StepCompleted"]
    assert {c["step"] for c in completed} == {"a", "b"}
    assert completed[0]["output"] == {"n": 4}


def test_json_output_parses(cli, defs):
    r = cli("start", "three", "--input", '{"n": 2}', "--json")
    assert r.code == 0, r
    started = json.loads(r.out)
    wid = started["workflowId"]
    assert started["definition"] == {"name": "three", "version": 1}
    wait_status(cli, wid, "completed")
    d = json.loads(cli("describe", wid, "--json").out)["workflow"]
    assert d["info"]["status"] == "WORKFLOW_STATUS_COMPLETED" and d["output"] == {"b": 2}
    assert [s["name"] for s in d["steps"]] == ["a", "b"]
    shown = json.loads(cli("def", "show", "three", "--json").out)
    assert shown["source"] == THREE
    applied = json.loads(cli("def", "apply", "-", "--json", stdin=THREE).out)
    assert applied["definition"] == {"name": "three", "version": 1}


def test_signal_resumes_a_waiting_workflow(cli, defs):
    wid = start(cli, "gated")
    wait_for_running_step(cli, wid, "approval")
    # describe says what the run waits for: the signal, its deadline and the command that sends it.
    r = cli("describe", wid)
    assert re.search(r"^approval\s+running\s+1\s+-\s+wait_for_signal\s+signal go\s", r.out, re.M), r
    assert re.search(rf"^waiting for signal go until \S+ \(step approval\): baton signal {re.escape(wid)} go ", r.out,
                     re.M), r
    assert json.loads(cli("describe", wid, "--json").out)["workflow"]["steps"][1]["waitDeadline"], r
    r = cli("signal", wid, "go", "--payload", '{"ok": true}', "--request-id", "r-1")
    assert r.code == 0 and r.out.strip() == f"signal go sent to {wid}", r
    r = wait_status(cli, wid, "completed")
    assert re.search(r'^output\s+\{"ok":true\}$', r.out, re.M), r
    assert "waiting for signal" not in r.out, r
    # A retry of the applied signal after the run closed is safe: not applied again, no error.
    r = cli("signal", wid, "go", "--payload", '{"ok": true}', "--request-id", "r-1")
    assert r.code == 0 and r.out.strip() == "signal go ignored: request id r-1 was already used", r


def wait_for_running_step(cli, wid, step, timeout=CLI_TIMEOUT):
    """Follows `baton watch --json` (server-streamed progress, no polling) until `step` is running."""
    argv = [str(baton_bin()), "watch", wid, "--json", "--address", cli.address]
    watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    timer = threading.Timer(timeout, watcher.kill)
    timer.start()
    try:
        for line in watcher.stdout:
            seen.append(line.rstrip("\n"))
            if step in json.loads(line).get("runningSteps", []):
                return
    finally:
        timer.cancel()
        watcher.kill()
        watcher.wait(10)
    pytest.fail(f"step {step} of {wid} never ran within {timeout}s; progress lines: {seen[-5:]}")


def test_signal_to_closed_workflow_is_failed_precondition(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 1}')
    wait_status(cli, wid, "completed")
    one_error_line(cli("signal", wid, "go"), 5, f"signal {wid} go", "FAILED_PRECONDITION")


def test_signal_invalid_payload_is_usage_error(cli, defs):
    one_error_line(cli("signal", "any-id", "go", "--payload", "nope"), 2, "--payload")


@pytest.mark.parametrize("args", [
    ["describe", "no-such-run"], ["history", "no-such-run"], ["signal", "no-such-run", "go"],
    ["cancel", "no-such-run"], ["terminate", "no-such-run"],
])
def test_unknown_workflow_is_not_found(cli, args):
    one_error_line(cli(*args), 4, "NOT_FOUND", "no-such-run")


def test_start_with_taken_id(cli, defs):
    wid = start(cli, "gated", "--id", "cli-taken")
    r = cli("start", "gated", "--id", "cli-taken")
    assert r.code == 0 and r.out.strip() == wid, r
    assert "already exists" in r.err and r.err.count("\n") == 1, r
    one_error_line(cli("start", "gated", "--id", "cli-taken", "--if-exists", "reject"), 5, "ALREADY_EXISTS")
    one_error_line(cli("start", "gated", "--if-exists", "sometimes"), 2, "--if-exists")
    # Another definition under the open run's id is a conflict, never the other run with rc 0.
    line = one_error_line(cli("start", "three", "--id", "cli-taken", "--input", '{"n": 1}'), 5, "ALREADY_EXISTS")
    assert "'gated'" in line and "'three'" in line, line
    assert cli("terminate", wid).code == 0


def test_history_follow_until_closed(cli, srv, defs):
    wid = start(cli, "gated")
    follower = subprocess.Popen([str(baton_bin()), "history", wid, "--follow", "--address", srv.addr],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_running_step(cli, wid, "approval")
        time.sleep(0.3)
        assert follower.poll() is None, follower.communicate()
        assert cli("signal", wid, "go", "--payload", '{"ok": 1}').code == 0
        out, err = follower.communicate(timeout=CLI_TIMEOUT)
    finally:
        follower.kill()
    assert follower.returncode == 0, (out, err)
    types = [line.split()[2] for line in out.splitlines()]
    assert types[0] == "WorkflowStarted" and types[-1] == "WorkflowCompleted" and "SignalReceived" in types, out
    assert out == cli("history", wid).out


def test_terminate_then_watch_exits_6(cli, defs):
    wid = start(cli, "gated")
    wait_for_running_step(cli, wid, "approval")
    r = cli("terminate", wid, "--reason", "test says stop")
    assert r.code == 0 and r.out.strip() == f"terminated {wid}", r
    wait_status(cli, wid, "terminated")
    history = cli("history", wid).out
    assert "WorkflowTerminated" in history and "test says stop" in history
    r = cli("watch", wid)
    assert r.code == 6, r
    assert r.out.splitlines()[-1].split()[1] == "terminated", r
    one_error_line(r, 6, wid, "terminated")


def test_cancel(cli, defs):
    wid = start(cli, "gated")
    wait_for_running_step(cli, wid, "approval")
    r = cli("cancel", wid, "--reason", "no longer needed")
    assert r.code == 0 and r.out.strip() == f"cancellation requested for {wid}", r
    wait_status(cli, wid, "cancelled")


def test_start_watch_completes(cli, defs):
    r = cli("start", "three", "--input", '{"n": 5}', "--watch")
    assert r.code == 0, r
    lines = r.out.splitlines()
    wid = lines[0]
    assert re.fullmatch(r"\S+", wid), r
    assert re.fullmatch(r"100% completed( in \S+)?", lines[-2]), r
    assert lines[-1] == 'output {"b":5}', r  # the output once the run completed
    for line in lines[1:-1]:
        assert re.match(r"\d{1,3}% ", line), r


def test_start_watch_failed_run_exits_6(cli, defs):
    r = cli("start", "doomed", "--watch")
    wid = r.out.splitlines()[0]
    assert re.fullmatch(r"\d+% failed( in \S+)?", r.out.splitlines()[-1]), r
    line = one_error_line(r, 6, f"workflow {wid} ended failed")
    assert line.endswith("Kaboom: no luck (step boom)"), line


def test_watch_shows_phases_as_they_change(cli, defs):
    wid = start(cli, "slow")
    r = cli("watch", wid)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert any(line.startswith("0% phase=one running=first") for line in lines), r
    assert any(re.match(r"50% phase=two running=second", line) for line in lines), r
    assert re.fullmatch(r"100% completed in \S+", lines[-1]), r
    percentages = [int(line.split("%")[0]) for line in lines]
    assert percentages == sorted(percentages), r


def test_watch_json_lines(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 6}')
    r = cli("watch", wid, "--json")
    assert r.code == 0, r
    messages = [json.loads(line) for line in r.out.splitlines()]
    assert messages[-1]["status"] == "WORKFLOW_STATUS_COMPLETED" and messages[-1]["workflowId"] == wid


def test_query_progress(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 8}')
    wait_status(cli, wid, "completed")
    r = cli("query", wid)
    assert r.code == 0, r
    assert isinstance(json.loads(r.out), dict), r
    out = cli("query", wid, "output", "--json")
    assert out.code == 0 and json.loads(out.out)["result"] == {"b": 8}, out


def test_list_filters(cli, defs):
    wid = start(cli, "three", "--input", '{"n": 9}')
    wait_status(cli, wid, "completed")
    r = cli("list", "--status", "completed", "--definition", "three")
    assert r.code == 0, r
    rows = [line.split() for line in r.out.splitlines()]
    assert rows[0][:5] == ["WORKFLOW", "ID", "RUN", "ID", "DEFINITION"], r
    assert [wid, "three", "v1", "completed"] in [[row[0]] + row[2:5] for row in rows], r
    assert all(row[4] == "completed" and row[2] == "three" for row in rows[1:]), r
    running = cli("list", "--status", "running", "--json")
    assert running.code == 0, running
    assert all(json.loads(line)["status"] == "WORKFLOW_STATUS_RUNNING" for line in running.out.splitlines())


def test_list_unknown_status_is_usage_error(cli):
    one_error_line(cli("list", "--status", "sleepy"), 2, "--status", "completed")


def test_breakers(cli):
    r = cli("breakers")
    assert r.code == 0, r
    assert r.out.strip() == "no circuit breakers" or r.out.startswith("KEY"), r
    doc = json.loads(cli("breakers", "--json").out)
    assert isinstance(doc.get("breakers", []), list), doc


def test_info(cli, srv):
    r = cli("info")
    assert r.code == 0, r
    assert re.search(r"^durability\s+(full|normal)$", r.out, re.M), r
    assert re.search(r"^store\s+" + re.escape(srv.data_dir), r.out, re.M), r
    assert json.loads(cli("info", "--json").out)["durability"] in ("full", "normal")


# ---------------------------------------------------------------- addresses and usage

def test_unreachable_server_exits_3_with_one_line(cli):
    port = closed_port()
    r = subprocess.run([str(baton_bin()), "describe", "x", "--address", f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 3, r
    assert r.stdout == ""
    assert r.stderr == f"baton: cannot reach 127.0.0.1:{port}: is the server running? (baton server / scripts/dev)\n"


def test_baton_address_env_is_honoured(cli, srv, defs):
    r = cli("def", "show", "three", address=False, env={"BATON_ADDRESS": srv.addr})
    assert r.code == 0 and r.out == THREE, r
    # Without --address or BATON_ADDRESS the default (nothing listens there in the test) is used...
    port = closed_port()
    r = cli("def", "show", "three", address=False, env={"BATON_ADDRESS": f"127.0.0.1:{port}"})
    one_error_line(r, 3, f"cannot reach 127.0.0.1:{port}")
    # ...and --address wins over the environment.
    r = cli("def", "show", "three", env={"BATON_ADDRESS": f"127.0.0.1:{port}"})
    assert r.code == 0 and r.out == THREE, r


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1:", "127.0.0.1:99999"])
def test_malformed_address_is_usage_error(address):
    r = subprocess.run([str(baton_bin()), "describe", "x", "--address", address],
                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 2, r
    assert r.stderr.startswith("baton: --address") and r.stderr.count("\n") == 1, r


@pytest.mark.parametrize("argv", [["start"], ["def", "show", "x", "--version", "0"], ["history", "x", "--page-size", "0"],
                                  ["describe", "x", "--bogus"]])
def test_usage_error_is_one_line_and_exit_2(argv):
    r = subprocess.run([str(baton_bin()), *argv], capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 2, r
    assert r.stdout == "" and r.stderr.count("\n") == 1, r
    assert r.stderr.startswith("baton: ") and "--help" in r.stderr, r


def test_help_documents_exit_codes():
    r = subprocess.run([str(baton_bin()), "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 0
    for code in ["0  success", "2  usage", "3  server unreachable", "4  NOT_FOUND", "5  FAILED_PRECONDITION",
                 "6  the watched workflow"]:
        assert code in r.stdout, code


# ---------------------------------------------------------------- watch against a scripted server
#
# `baton watch` follows StreamProgress; these tests script the stream with a grpcio server
# (the committed stubs of proto/baton/v1 in clients/python/baton/v1) to cover rendering, exit codes
# and resuming.


def generate_baton_stubs(dest):
    """The stubs of proto/baton/v1 (committed in clients/python, on sys.path through conftest)."""
    from baton.v1 import common_pb2, workflow_pb2, workflow_service_pb2, workflow_service_pb2_grpc
    return common_pb2, workflow_pb2, workflow_service_pb2, workflow_service_pb2_grpc


class ScriptedServer:
    """A WorkflowService whose StreamProgress plays scripts keyed by workflow id."""

    def __init__(self, dest):
        common, wf, svc, svc_grpc = generate_baton_stubs(dest)
        self.requests = []
        scripted = self

        def progress(wid, status, pct, event_id, phase="", running=(), eta=None, elapsed=None, until=""):
            p = wf.Progress(workflow_id=wid, status=status, percentage=pct, current_phase=phase,
                            running_steps=list(running), event_id=event_id, eta_until_signal=until)
            if eta is not None:
                p.eta.seconds = eta
            if elapsed is not None:
                p.elapsed.seconds = elapsed
            return p

        R, C, F = common.WORKFLOW_STATUS_RUNNING, common.WORKFLOW_STATUS_COMPLETED, common.WORKFLOW_STATUS_FAILED
        self.scripts = {
            "ok": [[progress("ok", R, 0, 1, "research", ["a", "b"], eta=12),
                    progress("ok", R, 42, 3, "research", ["b"], eta=7),
                    progress("ok", R, 42, 3, "research", ["b"], eta=7),  # unchanged: no new line
                    progress("ok", C, 100, 6, elapsed=3)]],
            "waits": [[progress("waits", R, 0, 1, "research", ["a"], eta=13, until="approve"),
                       progress("waits", R, 60, 5, "approval", ["approval"]),
                       progress("waits", R, 80, 7, "deploy", ["deploy"], eta=2),
                       progress("waits", C, 100, 9, elapsed=40)]],
            "fails": [[progress("fails", R, 30, 2, "build", ["x"]), progress("fails", F, 30, 4, elapsed=1)]],
            "drop": [[progress("drop", R, 10, 2, running=["a"]), progress("drop", R, 50, 5, running=["b"]), "drop"],
                     [progress("drop", C, 100, 9, elapsed=2)]],
        }

        class Servicer(svc_grpc.WorkflowServiceServicer):
            def StreamProgress(self, request, context):
                scripted.requests.append((request.workflow_id, request.after_event_id))
                plays = scripted.scripts.get(request.workflow_id)
                if plays is None:
                    context.abort(grpc.StatusCode.NOT_FOUND, f"no workflow '{request.workflow_id}'")
                attempt = sum(1 for w, _ in scripted.requests if w == request.workflow_id) - 1
                for item in plays[min(attempt, len(plays) - 1)]:
                    if item == "drop":
                        context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")
                    yield item

            def DescribeWorkflow(self, request, context):
                d = wf.WorkflowDescription()
                d.info.workflow_id = request.workflow_id
                d.failure.type = "BuildFailed"
                d.failure.message = "compiler said no"
                d.failure.step = "x"
                return svc.DescribeWorkflowResponse(workflow=d)

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        svc_grpc.add_WorkflowServiceServicer_to_server(Servicer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.addr = f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    s = ScriptedServer(tmp_path_factory.mktemp("baton_stubs"))
    yield s
    s.server.stop(0)


def run_watch(scripted, *args):
    return subprocess.run([str(baton_bin()), "watch", *args, "--address", scripted.addr],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def test_watch_prints_one_line_per_change(scripted):
    r = run_watch(scripted, "ok")
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [
        "0% phase=research running=a,b eta=12s",
        "42% phase=research running=b eta=7s",
        "100% completed in 3s",
    ], r
    assert r.stderr == ""


def test_watch_says_the_eta_runs_until_a_signal_and_gives_none_while_waiting(scripted):
    r = run_watch(scripted, "waits")
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [
        "0% phase=research running=a eta=13s until signal approve",
        "60% phase=approval running=approval",
        "80% phase=deploy running=deploy eta=2s",
        "100% completed in 40s",
    ], r


def test_an_answer_that_is_not_the_response_is_named_as_such():
    # A peer whose GetDefinition answers bytes that are not a GetDefinitionResponse (a wrong or broken server).
    garbage = grpc.unary_unary_rpc_method_handler(lambda request, context: b"\xff\xff\xff garbage")
    peer = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    peer.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("baton.v1.WorkflowService", {"GetDefinition": garbage}),))
    port = peer.add_insecure_port("127.0.0.1:0")
    peer.start()
    try:
        r = subprocess.run([str(baton_bin()), "def", "show", "x", "--address", f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
    finally:
        peer.stop(0)
    assert r.returncode == 1, r
    assert r.stderr.count("\n") == 1, r
    assert "def show x: INTERNAL: the server's answer is not a baton.v1.GetDefinitionResponse" in r.stderr, r
    assert "request" not in r.stderr and "BinaryDecodingError" not in r.stderr, r


def test_watch_failed_run_exits_6_with_the_failure(scripted):
    r = run_watch(scripted, "fails")
    assert r.returncode == 6, r
    assert r.stdout.splitlines()[-1] == "30% failed in 1s", r
    assert r.stderr == "baton: workflow fails ended failed: BuildFailed: compiler said no (step x)\n"


def test_watch_resumes_after_a_dropped_stream(scripted):
    r = run_watch(scripted, "drop")
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[-1] == "100% completed in 2s", r
    assert [a for w, a in scripted.requests if w == "drop"] == [0, 5]


def test_watch_unknown_is_not_found(scripted):
    r = run_watch(scripted, "nope")
    assert r.returncode == 4, r
    assert r.stderr == "baton: watch nope: NOT_FOUND: no workflow 'nope'\n"


def test_watch_json_prints_each_message(scripted):
    r = run_watch(scripted, "ok", "--json")
    assert r.returncode == 0, r
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(docs) == 4 and docs[-1]["status"] == "WORKFLOW_STATUS_COMPLETED"


def test_watch_on_a_terminal_redraws_a_bar(scripted):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(baton_bin()), [str(baton_bin()), "watch", "ok", "--address", scripted.addr])
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    out = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, out
    frames = out.split("\r\x1b[2K")[1:]
    assert len(frames) == 4, repr(out)
    assert frames[1].startswith("[") and " 42%" in frames[1] and "research" in frames[1] and "ETA 7s" in frames[1]
    assert "100%  completed in 3s" in frames[-1], repr(out)


@contextlib.contextmanager
def running_cli(cli, *args):
    """`baton ARGS` as a child process the test talks to while it runs; killed after CLI_TIMEOUT (a
    hang fails the test instead of stalling the suite) and always reaped."""
    proc = subprocess.Popen([str(baton_bin()), *args, "--address", cli.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(CLI_TIMEOUT, proc.kill)
    timer.start()
    try:
        yield proc
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_start_watch_says_what_the_run_waits_for_and_prints_the_output(cli, defs):
    """`start --watch` (lines mode: stdout is a pipe) names the signal a waiting run needs and the
    command that sends it, then, once the run completes, prints its output and exits 0."""
    lines = []
    with running_cli(cli, "start", "gated", "--watch") as watcher:
        wid = watcher.stdout.readline().strip()
        for line in watcher.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("waiting for signal go"):
                break
        hint = lines[-1] if lines else ""
        assert re.match(rf"^waiting for signal go until \S+ \(step approval\): baton signal {re.escape(wid)} go ", hint), lines
        r = cli("signal", wid, "go", "--payload", '{"ok": true}')
        assert r.code == 0, r
        rest, err = watcher.communicate(timeout=CLI_TIMEOUT)
    tail = rest.splitlines()
    assert watcher.returncode == 0, (watcher.returncode, lines, tail, err)
    assert tail[-1] == 'output {"ok":true}', tail
    assert sum(1 for line in lines if line.startswith("waiting for signal")) == 1, lines


def test_text_and_json_show_the_same_times_and_rounded_percentages(cli, defs):
    wid = start(cli, "gated")
    wait_for_running_step(cli, wid, "approval")
    text = cli("describe", wid).out
    doc = json.loads(cli("describe", wid, "--json").out)["workflow"]
    started = re.search(r"^started\s+(\S+)$", text, re.M).group(1)
    assert started == doc["info"]["startTime"], (started, doc["info"]["startTime"])
    progress = json.loads(cli("query", wid, "progress", "--json").out)
    value = progress["result"]["percentage"]
    assert round(value, 1) == value, progress  # one decimal at most
    cli("terminate", wid)


def test_execute_prints_the_output_and_exits_by_status(cli, defs):
    r = cli("execute", "three", "--input", '{"n": 5}')
    assert r.code == 0 and r.out == '{"b":5}\n', r
    r = cli("execute", "doomed")
    assert r.code == 6 and r.out == "", r
    assert re.search(r"^baton: workflow \S+ ended failed", r.err, re.M), r


def test_execute_names_the_signal_a_waiting_run_needs(cli, defs):
    with running_cli(cli, "execute", "gated", "--id", "cli-exec-gated") as proc:
        hint = proc.stderr.readline()
        assert hint.startswith("baton: waiting for signal go until ") and "baton signal cli-exec-gated go" in hint, hint
        assert cli("signal", "cli-exec-gated", "go", "--payload", '{"ok": 1}').code == 0
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
    assert proc.returncode == 0 and out == '{"ok":1}\n', (proc.returncode, out, err)
