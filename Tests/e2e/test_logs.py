"""Structured logs (issue 12, part 1): `--log-format json` writes one JSON object per line on stderr
with timestamp (RFC 3339, UTC), level, logger and message, and the run's fields; lines for the server's
start (with its configuration), recovery and stop, runs started and closed (status, duration),
steps failed and retried, compensation, signals and terminations. Every line of a whole server life is
parsed. `--log-format text`, BATON_LOG_FORMAT and --log-level are checked too."""

import json
import os
import re
import time
import urllib.error
import urllib.request
import subprocess

import pytest

from conftest import Server, baton_bin

CLI_TIMEOUT = 30

DOOMED = """\
name: logs_doomed
on_failure: compensate
steps:
  book: { activity: builtin.echo, input: { id: 7 }, compensate: { activity: builtin.echo, input: { undo: 7 } } }
  charge:
    depends_on: [book]
    activity: builtin.fail
    phase: payment
    input: { type: CardDeclined, message: "no funds" }
    retry: { initial_interval: 10ms, maximum_attempts: 2 }
"""

GATED = """\
name: logs_gated
steps:
  wait: { wait_for_signal: { name: go } }
  done: { activity: builtin.echo, depends_on: [wait], input: { ok: 1 } }
"""

THREE = """\
name: logs_three
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { n: "${steps.a.output.n}" } }
"""

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def cli(server, *args, stdin=None):
    r = subprocess.run([str(baton_bin()), *args, "--address", server.addr], capture_output=True, text=True,
                       timeout=CLI_TIMEOUT, input=stdin)
    assert r.returncode in (0, 6), r
    return r


def parse_lines(text):
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no log lines"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            pytest.fail(f"log line {number} is not JSON ({error}): {line!r}")
        assert isinstance(entry, dict), line
        for key in ("timestamp", "level", "logger", "message"):
            assert key in entry, f"line {number} has no {key!r}: {line}"
        assert RFC3339_UTC.match(entry["timestamp"]), entry["timestamp"]
        assert entry["level"] in ("trace", "debug", "info", "notice", "warning", "error", "critical"), entry
        parsed.append(entry)
    return parsed


def find(entries, message, **fields):
    matches = [e for e in entries if e["message"] == message and all(e.get(k) == v for k, v in fields.items())]
    assert matches, f"no {message!r} line with {fields}; messages: {sorted({e['message'] for e in entries})}"
    return matches


def test_every_line_of_a_server_life_is_json_with_the_runs_fields():
    server = Server(extra_args=("--log-format", "json"))
    try:
        for source in (DOOMED, GATED, THREE):
            cli(server, "def", "apply", "-", stdin=source)
        completed = cli(server, "start", "logs_three", "-i", '{"n": 3}', "--wait").stdout.splitlines()[0]
        doomed = cli(server, "start", "logs_doomed", "--wait").stdout.splitlines()[0]
        cli(server, "start", "logs_gated", "-w", "logs-gated")
        cli(server, "signal", "logs-gated", "go")
        cli(server, "await", "logs-gated")
        cli(server, "start", "logs_gated", "-w", "logs-terminated")
        cli(server, "terminate", "logs-terminated")
    finally:
        assert server.terminate() == 0
    entries = parse_lines(server.stderr())

    starting = find(entries, "starting")[0]
    assert starting["durability"] == "full" and starting["listen"] == "127.0.0.1:0" and "version" in starting
    recovered = find(entries, "recovered open runs")[0]
    assert recovered["runs"] == 0 and isinstance(recovered["duration_ms"], int)
    find(entries, "stopped")

    started = find(entries, "workflow started", workflow_id=completed)[0]
    assert started["definition"] == "logs_three" and started["version"] == 1 and started["run_id"]
    closed = find(entries, "workflow closed", workflow_id=completed, status="completed")[0]
    assert isinstance(closed["duration_ms"], int) and closed["duration_ms"] >= 0
    assert closed["run_id"] == started["run_id"]
    # Lines carry the run's trace (W3C ids), the same on every line of the run.
    assert re.fullmatch(r"[0-9a-f]{32}", started["trace_id"]) and re.fullmatch(r"[0-9a-f]{16}", started["span_id"])
    assert closed["trace_id"] == started["trace_id"]

    retried = find(entries, "step failed; retrying", workflow_id=doomed, step="charge", attempt=1)[0]
    # A step attempt's line names that attempt's span, under the run's trace.
    failed_again = find(entries, "step failed", workflow_id=doomed, step="charge", attempt=2)[0]
    assert re.fullmatch(r"[0-9a-f]{16}", retried["span_id"]) and retried["span_id"] != failed_again["span_id"]
    assert retried["trace_id"] == failed_again["trace_id"]
    assert retried["phase"] == "payment", "a step's line names its phase"
    assert retried["error_type"] == "CardDeclined" and retried["retry"] is True and retried["level"] == "warning"
    failed = find(entries, "step failed", workflow_id=doomed, step="charge", attempt=2)[0]
    assert failed["retry"] is False
    saga = find(entries, "compensation started", workflow_id=doomed)[0]
    assert saga["reason"] == "failed" and saga["step"] == "charge" and saga["error_type"] == "CardDeclined"
    find(entries, "step compensated", workflow_id=doomed, step="book")
    find(entries, "workflow closed", workflow_id=doomed, status="compensated")

    find(entries, "signal received", workflow_id="logs-gated", signal="go")
    find(entries, "workflow closed", workflow_id="logs-gated", status="completed")
    find(entries, "workflow closed", workflow_id="logs-terminated", status="terminated")
    # No routine step lines at the default level (info).
    assert not [e for e in entries if e["level"] == "debug"], "debug lines at --log-level info"


def test_the_level_and_the_format_are_chosen_by_option_or_environment(tmp_path):
    server = Server(extra_args=("--log-level", "debug"))   # stderr is no terminal: json by default
    try:
        cli(server, "def", "apply", "-", stdin=THREE)
        wid = cli(server, "start", "logs_three", "-i", '{"n": 1}', "--wait").stdout.splitlines()[0]
    finally:
        assert server.terminate() == 0
    entries = parse_lines(server.stderr())
    find(entries, "step completed", workflow_id=wid, step="a", level="debug")

    env = dict(os.environ, BATON_LOG_FORMAT="text")
    proc = subprocess.Popen([str(baton_bin()), "server", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "text")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().startswith("baton: listening on ")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "starting" in err and not err.lstrip().startswith("{"), err

    for args, needle in ((["--log-level", "loud"], "--log-level"), (["--log-format", "xml"], "--log-format")):
        r = subprocess.run([str(baton_bin()), "server", "--listen", "127.0.0.1:0", *args], capture_output=True,
                           text=True, timeout=CLI_TIMEOUT)
        assert r.returncode == 2 and needle in r.stderr and r.stderr.count("\n") == 1, r


def _connect_start(server, body):
    """One Connect (JSON) StartWorkflow; returns the HTTP status and the Connect code."""
    request = urllib.request.Request(
        f"{server.url}/baton.v1.WorkflowService/StartWorkflow", data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", "connect-protocol-version": "1"})
    try:
        with urllib.request.urlopen(request, timeout=CLI_TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.timeout(120)
def test_rejected_requests_are_warned_about_at_a_bounded_rate():
    server = Server(extra_args=("--log-format", "json"))
    flood = 200
    began = time.monotonic()
    try:
        for n in range(flood):
            status, answer = _connect_start(server, {"definition": "", "workflowId": f"bad-{n}"})
            assert status == 400 and answer.get("code") == "invalid_argument", (status, answer)
        elapsed = time.monotonic() - began
        # The server still serves everyone else.
        cli(server, "def", "apply", "-", stdin=THREE)
        assert cli(server, "start", "logs_three", "-i", '{"n": 2}', "--wait").returncode == 0
    finally:
        assert server.terminate() == 0
    entries = parse_lines(server.stderr())
    rejected = find(entries, "rejected request")
    first = rejected[0]
    assert first["level"] == "warning" and first["code"] == "INVALID_ARGUMENT"
    assert first["rpc"] == "baton.v1.WorkflowService/StartWorkflow"
    assert "definition" in first["error"] and first["peer"]
    # At most 10 lines per 10 s window: the flood does not become 200 lines.
    windows = int(elapsed // 10) + 1
    assert len(rejected) <= 10 * windows, f"{len(rejected)} lines for {flood} refusals in {elapsed:.1f}s"
    if windows == 1:
        assert len(rejected) == 10, f"{len(rejected)} lines: the first 10 refusals of a window are logged"
