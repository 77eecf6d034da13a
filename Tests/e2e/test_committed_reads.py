"""Reads never run ahead of the history: with every fsync of the server slowed down (strace fault
injection), a description read first is never ahead of the history read after it."""

import os
import signal
import sys
import time
from pathlib import Path

import grpc
import pytest

from conftest import REPO, Server

sys.path.insert(0, str(REPO / "clients" / "python"))
import generate  # noqa: E402  (clients/python/generate.py)

CHAIN = """
name: slow_chain
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
  b: { activity: builtin.echo, depends_on: [a], input: { n: "${steps.a.output.n}" } }
  c: { activity: builtin.echo, depends_on: [b], input: { n: "${steps.b.output.n}" } }
output: { n: "${steps.c.output.n}" }
"""

RUNS = 60
# strace's fault injection: each fsync/fdatasync returns 20 ms late (20,000 µs).
SLOW_FSYNC = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync,fdatasync",
              "-e", "inject=fsync,fdatasync:delay_exit=20000"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    out = generate.generate(tmp_path_factory.mktemp("baton-stubs"))
    sys.path.insert(0, str(out))
    from baton.v1 import common_pb2, workflow_service_pb2, workflow_service_pb2_grpc  # noqa: F401
    return type("Api", (), {"ws": workflow_service_pb2, "ws_grpc": workflow_service_pb2_grpc, "common": common_pb2})


def traced_server_pid(tracer_pid):
    """The server process strace started (strace's only child)."""
    with open(f"/proc/{tracer_pid}/task/{tracer_pid}/children") as f:
        children = f.read().split()
    assert len(children) == 1, f"strace has children {children}, expected the server alone"
    return int(children[0])


def test_a_description_is_never_ahead_of_the_history_read_after_it(api):
    server = Server([], prefix=SLOW_FSYNC, startup_timeout=60.0)
    try:
        channel = grpc.insecure_channel(server.addr)
        client = api.ws_grpc.WorkflowServiceStub(channel)
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=CHAIN), timeout=30)
        ahead = []
        checked = [0]

        def watch(workflow_id):
            # Describe, then read the whole history: the history must hold every event the description reflects.
            deadline = time.monotonic() + 60
            while True:
                assert time.monotonic() < deadline, f"{workflow_id} did not complete within 60 s"
                described = client.DescribeWorkflow(
                    api.ws.DescribeWorkflowRequest(workflow_id=workflow_id), timeout=30).workflow
                history = client.GetHistory(
                    api.ws.GetHistoryRequest(workflow_id=workflow_id, page_size=1000), timeout=30).events
                checked[0] += 1
                info = described.info
                types = [event.type for event in history]
                if info.last_event_id > len(history):
                    ahead.append(f"{workflow_id}: described {info.status} at event {info.last_event_id}; "
                                 f"history read after it had {len(history)} events")
                if info.status == api.common.WORKFLOW_STATUS_COMPLETED:
                    if "WorkflowCompleted" not in types:
                        ahead.append(f"{workflow_id}: described COMPLETED; history read after it: {types}")
                    return

        for index in range(RUNS):
            workflow_id = f"slow-{index}"
            client.StartWorkflow(api.ws.StartWorkflowRequest(
                definition="slow_chain", workflow_id=workflow_id, input=_value({"n": index})), timeout=30)
            watch(workflow_id)
        assert not ahead, "\n".join(ahead[:10])
        assert checked[0] >= RUNS, f"only {checked[0]} describe/history pairs were checked"
        channel.close()
    finally:
        if server.alive():
            os.kill(traced_server_pid(server.pid), signal.SIGTERM)
        code = server.proc.wait(60)
    assert code == 0, f"the traced server exited {code}; stderr:\n{server.stderr()}"


def _value(fields):
    from google.protobuf import struct_pb2
    value = struct_pb2.Value()
    value.struct_value.update(fields)
    return value
