"""The `baton` CLI as someone coming from the Temporal CLI uses it: run ids (-r), output formats
(-o table|json|jsonl), short flags (-w, -i), list time filters, `count`, grouped help, and input
schemas checked at start — against a live server started by the test."""

import json
import re
from pathlib import Path
import subprocess

import pytest

from conftest import Server, baton_bin
from test_cli import CLI_TIMEOUT, GATED, THREE, one_error_line

SCHEMA = """\
name: typed
input_schema:
  type: object
  required: [product]
  properties:
    product: { type: string, minLength: 1 }
    budget: { type: number, minimum: 0 }
  additionalProperties: false
steps:
  a: { activity: builtin.echo, input: { p: "${input.product}" } }
output: { p: "${steps.a.output.p}" }
"""


@pytest.fixture(scope="module")
def srv():
    s = Server()
    yield s
    assert s.alive(), f"server died during the tests; stderr:\n{s.stderr()}"
    assert s.terminate() == 0


@pytest.fixture(scope="module")
def cli(srv):
    def run(*args, stdin=None):
        argv = [str(baton_bin()), *args, "--address", srv.addr]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, input=stdin)
        return proc
    for source in (THREE, GATED, SCHEMA):
        r = run("def", "apply", "-", stdin=source)
        assert r.returncode == 0, r
    return run


def field(text, name):
    m = re.search(rf"^{name}\s+(.+)$", text, re.M)
    assert m, f"no {name!r} row in:\n{text}"
    return m.group(1).strip()


class R:
    """A CompletedProcess with the attribute names one_error_line expects."""
    def __init__(self, proc):
        self.code, self.out, self.err = proc.returncode, proc.stdout, proc.stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def test_a_reused_id_gets_a_new_run_and_the_closed_run_stays_addressable_by_its_run_id(cli):
    assert cli("start", "gated", "-w", "runs-1").returncode == 0
    first = json.loads(cli("describe", "runs-1", "-o", "jsonl").stdout)["workflow"]["info"]
    old_run = first["runId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", old_run), first
    assert cli("terminate", "runs-1").returncode == 0

    # Starting the closed id again starts a new run and says so, naming the closed run's id.
    again = cli("start", "gated", "-w", "runs-1", "-o", "jsonl")
    assert again.returncode == 0, again
    started = json.loads(again.stdout)
    assert started["started"] is True and started["previousRunId"] == old_run, started
    new_run = started["runId"]
    assert new_run != old_run
    text = cli("start", "gated", "-w", "runs-1")   # open again: returned, with its run id named
    assert text.stdout.strip() == "runs-1" and new_run in text.stderr, text
    note = cli("start", "three", "-w", "runs-2", "-i", '{"n": 1}')
    assert note.returncode == 0
    cli("watch", "runs-2")
    replaced = cli("start", "three", "-w", "runs-2", "-i", '{"n": 2}')
    assert replaced.returncode == 0 and "started a new run" in replaced.stderr and "--run-id" in replaced.stderr, replaced

    # Both runs are listed under the id, each with its run id and status.
    rows = [line.split() for line in cli("list", "-d", "gated", "-n", "0").stdout.splitlines()[1:]]
    mine = {row[1]: row[4] for row in rows if row[0] == "runs-1"}
    assert mine == {old_run: "terminated", new_run: "running"}, rows

    # describe / history / query default to the latest run; -r names either.
    assert field(cli("describe", "runs-1").stdout, "status") == "running"
    old = cli("describe", "runs-1", "-r", old_run).stdout
    assert field(old, "status") == "terminated" and field(old, "run") == old_run and field(old, "workflow") == "runs-1"
    assert cli("history", "runs-1", "--run-id", old_run).stdout.splitlines()[-1].split()[2] == "WorkflowTerminated"
    assert json.loads(cli("query", "runs-1", "progress", "-r", new_run, "--json").stdout)["result"]["status"] \
        == "WORKFLOW_STATUS_RUNNING"

    # Acting on the closed run never reaches the new one; an unknown run is NOT_FOUND.
    one_error_line(R(cli("signal", "runs-1", "go", "-r", old_run)), 5, "FAILED_PRECONDITION", old_run, "closed")
    one_error_line(R(cli("terminate", "runs-1", "-r", old_run)), 5, "FAILED_PRECONDITION")
    one_error_line(R(cli("describe", "runs-1", "-r", "no-such-run")), 4, "NOT_FOUND", "no run 'no-such-run'")
    one_error_line(R(cli("describe", "runs-1", "-r", "a/b")), 2, "INVALID_ARGUMENT", "run_id")
    assert cli("signal", "runs-1", "go", "-r", new_run, "-i", '{"ok": true}').returncode == 0
    watched = cli("watch", "runs-1", "-r", new_run)
    assert watched.returncode == 0 and 'output {"ok":true}' in watched.stdout, watched


def test_output_formats_table_json_and_jsonl(cli):
    wid = cli("start", "three", "-i", '{"n": 4}').stdout.strip()
    assert cli("watch", wid).returncode == 0
    lines = cli("describe", wid, "-o", "jsonl").stdout
    assert lines.count("\n") == 1
    indented = cli("describe", wid, "-o", "json").stdout
    assert indented.count("\n") > 10 and indented.startswith("{\n")
    assert json.loads(indented) == json.loads(lines) == json.loads(cli("describe", wid, "--json").stdout)
    assert field(cli("describe", wid, "-o", "table").stdout, "status") == "completed"
    # Keys are sorted at every level (also inside values), so the same answer prints the same text.
    keyed = cli("start", "three", "-i", '{"n": 1, "zeta": 1, "alpha": {"y": 2, "b": 3}, "mid": 0}').stdout.strip()
    assert cli("watch", keyed).returncode == 0
    described = cli("describe", keyed, "--json").stdout
    assert '"input":{"alpha":{"b":3,"y":2},"mid":0,"n":1,"zeta":1}' in described, described
    assert described == cli("describe", keyed, "--json").stdout
    one_error_line(R(cli("describe", wid, "--json", "-o", "json")), 2, "--json")
    one_error_line(R(cli("describe", wid, "-o", "yaml")), 2, "yaml")


def test_list_time_filters_and_count(cli):
    wid = cli("start", "three", "-i", '{"n": 5}').stdout.strip()
    assert cli("watch", wid).returncode == 0
    recent = cli("list", "-d", "three", "--started-after", "10m", "-n", "0", "-o", "jsonl").stdout.splitlines()
    assert wid in [json.loads(line)["workflowId"] for line in recent]
    older = cli("list", "-d", "three", "--started-before", "10m", "-n", "0", "-o", "jsonl").stdout.splitlines()
    assert older == []
    future = cli("list", "--started-after", "2999-01-01T00:00:00Z")
    assert future.returncode == 0 and future.stdout.strip() == "no workflows", future
    one_error_line(R(cli("list", "--started-after", "yesterday")), 2, "--started-after", "yesterday")

    everything = cli("list", "-d", "three", "-n", "0", "-o", "jsonl").stdout.splitlines()
    counted = cli("count", "-d", "three")
    assert counted.returncode == 0 and counted.stdout.strip() == str(len(everything)), counted
    grouped = json.loads(cli("count", "-d", "three", "--by-status", "-o", "jsonl").stdout)
    assert grouped["count"] == len(everything) and sum(grouped["by_status"].values()) == len(everything), grouped
    assert cli("count", "-s", "completed", "-d", "three", "--started-after", "10m").stdout.strip() != "0"


def test_help_lists_commands_by_group():
    r = subprocess.run([str(baton_bin()), "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 0
    groups = [line.rstrip(":") for line in r.stdout.splitlines() if line and not line.startswith(" ") and line.endswith(":")]
    for group in ["SERVER SUBCOMMANDS", "DEFINITIONS SUBCOMMANDS", "START AND ACT ON RUNS SUBCOMMANDS",
                  "READ RUNS SUBCOMMANDS", "OPERATIONS SUBCOMMANDS"]:
        assert group in groups, r.stdout
    read = r.stdout.split("READ RUNS SUBCOMMANDS:")[1].split("OPERATIONS SUBCOMMANDS:")[0]
    assert "count" in read and "describe" in read and "start" not in read.split()


def test_an_input_schema_refuses_a_bad_input_at_start_and_creates_no_run(cli):
    r = R(cli("start", "typed", "-w", "typed-1"))
    line = one_error_line(r, 2, "INVALID_ARGUMENT", "input_schema of 'typed'", "input: expected an object, got null")
    r = R(cli("start", "typed", "-w", "typed-1", "-i", '{"budget": -1, "extra": true}'))
    line = one_error_line(r, 2, "INVALID_ARGUMENT", "input.product: required property is missing",
                          "input.budget: -1 is less than the minimum 0", "input.extra")
    one_error_line(R(cli("describe", "typed-1")), 4, "NOT_FOUND")
    ok = cli("execute", "typed", "-w", "typed-1", "-i", '{"product": "Widget"}')
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"p": "Widget"}, ok
    bad = R(cli("def", "apply", "-", stdin=SCHEMA.replace("minLength: 1", "format: email")))
    one_error_line(bad, 2, "input_schema.properties.product.format", "6:")


def test_errors_quote_names_escape_control_characters_and_refuse_negative_numbers(cli):
    one_error_line(R(cli("def", "show", "nope")), 4, "baton: def show nope: NOT_FOUND: no definition 'nope'")
    one_error_line(R(cli("start", "nope")), 4, "baton: start nope: NOT_FOUND: no definition 'nope'")
    one_error_line(R(cli("start", "three", "--version", "9")), 4, "no definition 'three' version 9")
    r = R(cli("describe", "a\x1b[2Jb"))
    line = one_error_line(r, 2, "INVALID_ARGUMENT", "a\\u{1b}[2Jb")
    assert "\x1b" not in r.err, r
    r = R(cli("signal", "x\x07y", "go"))
    assert "\x07" not in r.err and "x\\u{7}y" in r.err, r
    one_error_line(R(cli("list", "--limit", "-1")), 2, "--limit", "got -1")
    one_error_line(R(cli("list", "-n", "-5")), 2, "--limit", "got -5")
    one_error_line(R(cli("def", "show", "three", "--version", "-1")), 2, "--version", "got -1")
    one_error_line(R(cli("start", "three", "--version", "-2")), 2, "--version", "got -2")


def test_server_help_states_each_default_once():
    r = subprocess.run([str(baton_bin()), "server", "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 0
    options = re.split(r"\n  (?=--)", r.stdout.split("OPTIONS:")[1])
    for option in options:
        assert option.count("default") <= 1, f"default stated twice: {option!r}"
    data = next(o for o in options if o.startswith("--data"))
    assert "$BATON_DATA" in data and ".baton" in data, data


def test_the_readme_cli_reference_matches_help():
    """Every subcommand `baton --help` lists, and every long option of each, is in README's CLI section."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## CLI\n")[1].split("\n## ")[0]
    top = subprocess.run([str(baton_bin()), "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT).stdout
    groups = re.findall(r"^([A-Z][A-Z ]+) SUBCOMMANDS:$", top, re.M)
    for group in groups:
        assert f"# {group.capitalize()}" in section, f"group {group} missing from README's CLI section"
    commands = re.findall(r"^  ([a-z]+)\s{2,}", top, re.M)
    assert {"start", "execute", "count", "list", "describe"} <= set(commands), top
    shared = {"--address", "--output", "--json", "--help"}
    for command in commands:
        assert f"baton {command}" in section, f"'baton {command}' missing from README's CLI section"
        usage = subprocess.run([str(baton_bin()), command, "--help"], capture_output=True, text=True,
                               timeout=CLI_TIMEOUT).stdout
        for option in set(re.findall(r"\[(--[a-z-]+)", usage.split("OPTIONS:")[0])) - shared:
            assert option in section or option.replace("--", "-", 1) in section, \
                f"'baton {command} {option}' is in --help but not in README's CLI section"
    for option in ["-o table|json|jsonl", "-r RUN", "-w", "-i"]:
        assert option in section, option


def test_await_and_start_wait_print_the_output_and_exit_by_status(cli):
    waited = cli("start", "three", "-i", '{"n": 6}', "--wait")
    assert waited.returncode == 0, waited
    wid, output = waited.stdout.splitlines()
    assert json.loads(output) == {"b": 6}, waited
    again = cli("await", wid)
    assert again.returncode == 0 and json.loads(again.stdout) == {"b": 6}, again
    full = json.loads(cli("await", wid, "-o", "jsonl").stdout)
    assert full["workflow"]["info"]["status"] == "WORKFLOW_STATUS_COMPLETED", full

    assert cli("start", "gated", "-w", "await-1").returncode == 0
    timed_out = R(cli("await", "await-1", "--timeout", "300ms"))
    one_error_line(timed_out, 1, "await await-1: DEADLINE_EXCEEDED")
    assert cli("terminate", "await-1").returncode == 0
    ended = cli("await", "await-1", "-t", "30s")
    assert ended.returncode == 6 and ended.stdout == "", ended
    assert ended.stderr.startswith("baton: workflow await-1 ended terminated"), ended
    one_error_line(R(cli("await", "await-1", "--timeout", "soon")), 2, "--timeout", "soon")
    one_error_line(R(cli("await", "nobody")), 4, "NOT_FOUND", "nobody")
    one_error_line(R(cli("start", "three", "--wait", "--watch")), 2, "--watch", "--wait")
