"""The browser path on the gRPC port (DESIGN.md §5 "Transport"), end to end against a real `baton
server`, with real clients:

- Connect: the official Python client (PyPI `connectrpc`) with stubs generated at test time from
  proto/baton/v1 by its code generator (`protoc-gen-connectrpc`, option protobuf=google), every
  WorkflowService and AdminService RPC in JSON and in proto, unary and server streaming, over
  HTTP/1.1 and over HTTP/2 (prior knowledge); raw requests for the wire format (error bodies, HTTP
  statuses, end-of-stream messages, GET, connect-timeout-ms).
- gRPC-Web: connectrpc's gRPC-Web protocol, and byte-exact framing checks written from the gRPC-Web
  protocol document (doc/PROTOCOL-WEB.md): data frames, the trailer frame (flag 0x80, lower-case
  `name: value\\r\\n` lines), base64 text mode, percent-encoded grpc-message.
- Server-Sent Events: progress and history of the marketing_campaign example (which waits for a
  signal), reconnected with Last-Event-ID / ?after= mid-run, and the live list of runs.
- curl: unary JSON, GET, an SSE stream with -N, Connect over HTTP/2 with --http2-prior-knowledge.
- The rest of the port: /healthz, /readyz, the web UI and its assets, 404/405/415/400 answers, and
  bad input (malformed JSON, unknown methods, wrong content types, oversized bodies, path traversal),
  each followed by a normal call.

Every call is bounded (client timeouts, socket timeouts, connect-timeout-ms); waits follow event
streams or long-poll GetHistory, never sleep.
"""

import base64
import gzip
import http.client
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import uuid
from pathlib import Path
from types import SimpleNamespace

import pyqwest
import pytest
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.protocol import ProtocolType
from google.protobuf import duration_pb2, json_format, struct_pb2

from conftest import REPO, Server

PROTO_ROOT = REPO / "proto"
RPC_MS = 10_000  # every unary call's deadline (connect-timeout-ms / client timeout)
STREAM_MS = 60_000  # every stream's deadline
IO_TIMEOUT = 15.0  # seconds: socket reads of raw requests and SSE streams
MiB = 1024 * 1024
MAX_BODY = 4 * MiB
WS = "/baton.v1.WorkflowService"
ADMIN = "/baton.v1.AdminService"
CURL = "/usr/bin/curl"

# A run that waits for a signal: `prepare` echoes the input, `approve` waits for "approve".
APPROVAL = """
name: NAME
steps:
  prepare: { activity: builtin.echo, input: { item: "${input.item}" } }
  approve:
    depends_on: [prepare]
    wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }
output: { approved: "${steps.approve.signal.ok}", item: "${steps.prepare.output.item}" }
queries: { item: "${steps.prepare.output.item}" }
"""

# One step behind a circuit breaker (breakers exist once a run used them).
BREAKER = """
name: NAME
circuit_breakers:
  KEY: { failure_threshold: 5, reset_timeout: 30s, half_open_max_calls: 1 }
steps:
  call: { activity: builtin.echo, input: { x: 1 }, circuit_breaker: KEY }
"""


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- stubs and server


def _connect_plugin() -> str:
    for candidate in (Path(sys.executable).parent / "protoc-gen-connectrpc",
                      Path(sysconfig.get_path("scripts")) / "protoc-gen-connectrpc"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("protoc-gen-connectrpc")
    if not found:
        pytest.fail("protoc-gen-connectrpc is missing: pip install protoc-gen-connectrpc (scripts/setup)",
                    pytrace=False)
    return found


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Python stubs of proto/baton/v1: protobuf messages, gRPC stubs and the Connect clients
    (protoc-gen-connectrpc with protobuf=google), generated with grpcio-tools' protoc as
    clients/python/generate.py does. Nothing generated is committed."""
    import grpc_tools

    out = tmp_path_factory.mktemp("connect-stubs")
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "baton" / "v1").glob("*.proto"))
    assert protos, f"no .proto files under {PROTO_ROOT}"
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
           f"--python_out={out}", f"--grpc_python_out={out}",
           f"--plugin=protoc-gen-connectrpc={_connect_plugin()}", f"--connectrpc_out={out}",
           "--connectrpc_opt=protobuf=google,io=sync", *protos]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"protoc failed ({' '.join(cmd)}):\n{result.stderr}"
    assert (out / "baton/v1/workflow_service_connect.py").is_file(), sorted(map(str, out.rglob("*")))
    # Another module of the session may have imported `baton.v1` from its own output directory
    # (clients/python/generate.py): the protos are the same, so add this directory to the package.
    sys.path.insert(0, str(out))
    for package, directory in (("baton", out / "baton"), ("baton.v1", out / "baton" / "v1")):
        module = sys.modules.get(package)
        if module is not None and str(directory) not in list(module.__path__):
            module.__path__.append(str(directory))
    import importlib
    importlib.invalidate_caches()
    names = ["common_pb2", "history_pb2", "workflow_pb2", "workflow_service_pb2", "admin_service_pb2",
             "workflow_service_connect", "admin_service_connect"]
    mods = {n: importlib.import_module(f"baton.v1.{n}") for n in names}
    return SimpleNamespace(common=mods["common_pb2"], history=mods["history_pb2"], wf=mods["workflow_pb2"],
                           ws=mods["workflow_service_pb2"], admin=mods["admin_service_pb2"],
                           ws_connect=mods["workflow_service_connect"], admin_connect=mods["admin_service_connect"])


@pytest.fixture(scope="module")
def web(api):
    """This module's own server (own data dir, ephemeral loopback port); must exit 0 on SIGTERM."""
    s = Server([])
    s.url = f"http://{s.host}:{s.port}"
    yield s
    alive = s.alive()
    code = s.terminate()
    assert alive, f"server died during the module (exit {code}); stderr:\n{s.stderr()}"
    assert code == 0, f"server exited {code} after SIGTERM, expected 0; stderr:\n{s.stderr()}"


def http_client(http2: bool) -> pyqwest.SyncClient:
    """pyqwest (connectrpc's HTTP client): HTTP/1.1, or HTTP/2 with prior knowledge on cleartext."""
    version = pyqwest.HTTPVersion.HTTP2 if http2 else pyqwest.HTTPVersion.HTTP1
    return pyqwest.SyncClient(pyqwest.SyncHTTPTransport(
        http_version=version, connect_timeout=5.0, read_timeout=30.0, timeout=90.0, enable_otel=False))


def clients(api, server, codec="json", http2=False, protocol=ProtocolType.CONNECT, http=None):
    """A WorkflowService and an AdminService client of the generated Connect stubs, with the
    client's defaults otherwise (connectrpc gzips requests: the server inflates them)."""
    codec_obj = google_protobuf_json_codec() if codec == "json" else google_protobuf_binary_codec()
    options = dict(codec=codec_obj, protocol=protocol, timeout_ms=RPC_MS, http_client=http or http_client(http2))
    return (api.ws_connect.WorkflowServiceClientSync(server.url, **options),
            api.admin_connect.AdminServiceClientSync(server.url, **options))


def value(obj) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def plain(message):
    return json_format.MessageToDict(message)


@pytest.fixture(scope="module")
def examples(api, web):
    """Registers examples/*.yaml (as `baton dev` would) through the Connect client."""
    ws, _ = clients(api, web)
    names = []
    for path in sorted((REPO / "examples").glob("*.yaml")):
        reply = ws.register_definition(api.ws.RegisterDefinitionRequest(source=path.read_text()))
        names.append(reply.definition.name)
    assert "marketing_campaign" in names and "three_step_echo" in names, names
    return names


def register_approval(api, ws, prefix="approval"):
    name = unique(prefix)
    reply = ws.register_definition(api.ws.RegisterDefinitionRequest(source=APPROVAL.replace("NAME", name)))
    assert (reply.definition.name, reply.definition.version, reply.created) == (name, 1, True), reply
    return name


def wait_history(api, ws, workflow_id, predicate, what, timeout=30.0):
    """Long-polls GetHistory (its `wait`, a unary call) until an event satisfies `predicate`."""
    events, token = [], ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = ws.get_history(api.ws.GetHistoryRequest(
            workflow_id=workflow_id, page_token=token, wait=duration_pb2.Duration(seconds=5)))
        events += page.events
        if any(predicate(e) for e in page.events):
            return events
        if not page.next_page_token:
            break
        token = page.next_page_token
    pytest.fail(f"{workflow_id}: no history event for {what} within {timeout}s; "
                f"saw {[(e.event_id, e.type) for e in events]}")


def started(step):
    return lambda e: e.type == "StepStarted" and e.step_started.step == step


def closing(e):
    return e.type.startswith("Workflow") and e.type != "WorkflowStarted"


def assert_serving(api, server, what):
    """A normal Connect call on a fresh connection still succeeds."""
    assert server.alive(), f"server died {what}; stderr:\n{server.stderr()}"
    _, admin = clients(api, server)
    info = admin.get_server_info(api.admin.GetServerInfoRequest())
    assert info.version and info.durability in ("full", "normal"), f"{what}: {info}"


# ---------------------------------------------------------------- raw HTTP


class Reply(SimpleNamespace):
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


def raw(server, method, path, body=None, headers=None, http2=False, timeout=IO_TIMEOUT) -> Reply:
    """One request with exact bytes: http.client over HTTP/1.1 (the path is sent as is),
    pyqwest with prior knowledge over HTTP/2. Header names of the reply are lower case."""
    headers = dict(headers or {})
    if http2:
        client = http_client(True)
        with client.stream(method, server.url + path, headers=headers, content=body, timeout=timeout) as resp:
            data = b"".join(bytes(chunk) for chunk in resp.content)
            assert resp.http_version == pyqwest.HTTPVersion.HTTP2, f"{path} went over {resp.http_version}"
            return Reply(status=resp.status, headers={k.lower(): resp.headers.get(k) for k in resp.headers},
                         body=data)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return Reply(status=resp.status, headers={k.lower(): v for k, v in resp.getheaders()}, body=resp.read())
    finally:
        conn.close()


def envelope(payload: bytes, flag=0) -> bytes:
    return struct.pack(">BI", flag, len(payload)) + payload


def frames(body: bytes):
    """Splits an enveloped body (gRPC-Web, Connect streaming) into (flag, payload)."""
    out, i = [], 0
    while i < len(body):
        assert i + 5 <= len(body), f"truncated envelope prefix at byte {i} of {len(body)}: {body[i:]!r}"
        flag, n = struct.unpack(">BI", body[i:i + 5])
        assert i + 5 + n <= len(body), f"envelope at {i} announces {n} bytes, {len(body) - i - 5} follow"
        out.append((flag, body[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def grpc_web_body(body: bytes):
    """The data frames and the trailers of a gRPC-Web response body, checked against
    PROTOCOL-WEB.md: data frames have flag 0, the body ends with exactly one trailer frame
    (MSB set: 0x80 uncompressed) holding an HTTP/1 header block with lower-case names and no
    terminating blank line."""
    parts = frames(body)
    assert parts, "empty gRPC-Web body: no trailer frame"
    assert parts[-1][0] == 0x80, f"last frame has flag {parts[-1][0]:#x}, expected the trailer frame 0x80"
    assert all(flag == 0 for flag, _ in parts[:-1]), f"data frame flags: {[f for f, _ in parts[:-1]]}"
    block = parts[-1][1].decode("ascii")
    assert block.endswith("\r\n") and not block.endswith("\r\n\r\n"), f"trailer block {block!r}"
    trailers = {}
    for line in block[:-2].split("\r\n"):
        name, sep, val = line.partition(": ")
        assert sep and name and name == name.lower(), f"trailer line {line!r}"
        trailers[name] = val
    return [payload for _, payload in parts[:-1]], trailers, parts[-1][1]


def decode_web_text(text: bytes):
    """Decodes a grpc-web-text body 4 characters at a time: padding may occur mid-stream."""
    s = text.decode("ascii")
    assert len(s) % 4 == 0, f"grpc-web-text body of {len(s)} characters is not whole base64 quanta"
    return b"".join(base64.b64decode(s[i:i + 4], validate=True) for i in range(0, len(s), 4))


GRPC_MESSAGE = re.compile(r"^(?:[\x20-\x24\x26-\x7e]|%[0-9A-Fa-f]{2})*$")


def connect_end_stream(body: bytes):
    """The messages and the end-of-stream JSON of a Connect streaming response body."""
    parts = frames(body)
    assert parts, "empty Connect streaming body"
    assert parts[-1][0] == 0x02, f"last envelope has flag {parts[-1][0]:#x}, expected end-of-stream 0x02"
    assert all(flag == 0 for flag, _ in parts[:-1]), f"flags before the end: {[f for f, _ in parts[:-1]]}"
    return [payload for _, payload in parts[:-1]], json.loads(parts[-1][1])


# ---------------------------------------------------------------- Server-Sent Events


class SSE:
    """One `text/event-stream` response over HTTP/1.1, parsed as the HTML standard says
    (`field: value` lines, a blank line dispatches); every read is bounded by a socket timeout."""

    def __init__(self, server, path, headers=None, timeout=IO_TIMEOUT, head_within=IO_TIMEOUT):
        self.path = path
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
        self.conn.request("GET", path, headers={"accept": "text/event-stream", **(headers or {})})
        self.blocks = []  # every dispatched block, in order
        self.comments = []  # comment lines (keep-alives): never dispatched
        self.ended = False  # the response body ended
        self.resp = None
        # Whether the response began within `head_within` seconds (an EventSource's `open`).
        self.head_prompt = bool(select.select([self.conn.sock], [], [], head_within)[0])
        if self.head_prompt:
            self._head()

    def _head(self):
        if self.resp is None:
            try:
                self.resp = self.conn.getresponse()
            except socket.timeout:
                pytest.fail(f"{self.path}: no response head within {self.conn.timeout}s")
            self._status = self.resp.status
            self._headers = {k.lower(): v for k, v in self.resp.getheaders()}
        return self.resp

    @property
    def status(self):
        self._head()
        return self._status

    @property
    def headers(self):
        self._head()
        return self._headers

    def body(self):
        return self._head().read().decode("utf-8", errors="replace")

    def next(self):
        """The next dispatched block (a dict of its fields), None at the end."""
        fields = {}
        while True:
            try:
                line = self._head().readline()
            except socket.timeout:
                pytest.fail(f"{self.path}: nothing within {self.conn.timeout}s; blocks so far: {self.blocks[-5:]}")
            if not line:
                self.ended = True
                return None
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if fields:
                    self.blocks.append(fields)
                    return fields
                continue
            name, _, val = line.partition(":")
            if val.startswith(" "):
                val = val[1:]
            if name == "":
                self.comments.append(val)
            elif name == "data":
                fields["data"] = fields["data"] + "\n" + val if "data" in fields else val
            else:
                fields[name] = val

    def until(self, predicate, what):
        """Reads blocks until one satisfies `predicate` (and returns it)."""
        while True:
            block = self.next()
            if block is None:
                pytest.fail(f"{self.path}: stream ended before {what}; blocks: {self.blocks[-5:]}")
            if predicate(block):
                return block

    def to_end(self):
        while self.next() is not None:
            pass
        return self.blocks

    def close(self):
        self.conn.close()

    def events(self, name):
        return [b for b in self.blocks if b.get("event") == name]


def parse_sse_text(text):
    """Blocks of a whole event-stream body (curl's output, an HTTP/2 body)."""
    blocks, fields = [], {}
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if fields:
                blocks.append(fields)
                fields = {}
            continue
        name, _, val = line.partition(":")
        val = val[1:] if val.startswith(" ") else val
        if name == "":
            continue  # a comment (keep-alive)
        elif name == "data":
            fields["data"] = fields["data"] + "\n" + val if "data" in fields else val
        else:
            fields[name] = val
    if fields:
        blocks.append(fields)
    return blocks


def check_sse_head(stream):
    assert stream.status == 200, f"{stream.path}: HTTP {stream.status}: {stream.body()!r}"
    assert stream.headers.get("content-type", "").startswith("text/event-stream"), stream.headers
    first = stream.next()
    assert first == {"retry": "2000"}, f"{stream.path}: first block {first!r}, expected retry: 2000"


# ================================================================ Connect, official client


CLIENT_VARIANTS = [("json", False), ("json", True), ("proto", False), ("proto", True)]


@pytest.fixture(params=CLIENT_VARIANTS, ids=["json-http1.1", "json-http2", "proto-http1.1", "proto-http2"])
def conn(request, api, web, examples):
    codec, http2 = request.param
    http = http_client(http2)
    with http.stream("GET", web.url + "/healthz", timeout=IO_TIMEOUT) as probe:
        expected = pyqwest.HTTPVersion.HTTP2 if http2 else pyqwest.HTTPVersion.HTTP1
        assert probe.status == 200 and probe.http_version == expected, (probe.status, probe.http_version)
    ws, admin = clients(api, web, codec=codec, http2=http2, http=http)
    return SimpleNamespace(ws=ws, admin=admin, codec=codec, http2=http2)


@pytest.mark.timeout(90)
def test_connect_client_unary_rpcs(api, web, conn):
    """Every unary RPC of both services through the generated Connect client; the
    side-effect-free ones also as Connect GET requests (use_get)."""
    ws, admin = conn.ws, conn.admin
    # AdminService (a run through a circuit breaker first, so that there is one to list).
    key, breaker_def = unique("breaker"), unique("breaker_def")
    ws.register_definition(api.ws.RegisterDefinitionRequest(
        source=BREAKER.replace("NAME", breaker_def).replace("KEY", key)))
    through = ws.start_workflow(api.ws.StartWorkflowRequest(definition=breaker_def)).workflow_id
    wait_history(api, ws, through, closing, "the breaker run to close")
    for use_get in (False, True):
        info = admin.get_server_info(api.admin.GetServerInfoRequest(), use_get=use_get)
        assert info.version and info.store_path.endswith(".sqlite") and info.durability == "full", info
        assert info.start_time.seconds > 0 and info.uptime.ToNanoseconds() > 0, info
        breakers = admin.list_circuit_breakers(api.admin.ListCircuitBreakersRequest(), use_get=use_get)
        assert key in [b.key for b in breakers.breakers], breakers
    reset = admin.reset_circuit_breaker(api.admin.ResetCircuitBreakerRequest(key=key))
    assert (reset.breaker.key, reset.breaker.state) == (key, api.admin.CIRCUIT_STATE_CLOSED), reset

    # Definitions.
    name = register_approval(api, ws, f"unary_{conn.codec}")
    again = ws.register_definition(api.ws.RegisterDefinitionRequest(source=APPROVAL.replace("NAME", name)))
    assert (again.definition.version, again.created) == (1, False), again
    for use_get in (False, True):
        got = ws.get_definition(api.ws.GetDefinitionRequest(name=name), use_get=use_get)
        assert (got.definition.name, got.definition.version) == (name, 1) and "wait_for_signal" in got.source, got
        listed = ws.list_definitions(api.ws.ListDefinitionsRequest(), use_get=use_get)
        assert {name, "marketing_campaign"} <= {d.name for d in listed.definitions}, listed

    # A run: start, wait for the signal step (long-polling GetHistory), query, describe, page history.
    wid = unique(f"run_{conn.codec}")
    reply = ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid,
                                                          input=value({"item": "lamp"})))
    assert (reply.workflow_id, reply.started, reply.definition.name) == (wid, True, name), reply
    wait_history(api, ws, wid, started("approve"), "the approve step to start")
    for use_get in (False, True):
        answer = ws.query(api.ws.QueryRequest(workflow_id=wid, query="item"), use_get=use_get)
        assert plain(answer.result) == "lamp", answer
        progress = ws.query(api.ws.QueryRequest(workflow_id=wid, query="progress"), use_get=use_get)
        assert plain(progress.result)["running"] == ["approve"], progress
        described = ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id=wid), use_get=use_get)
        info = described.workflow.info
        assert (info.workflow_id, info.status) == (wid, api.common.WORKFLOW_STATUS_RUNNING), described
        assert plain(described.workflow.input) == {"item": "lamp"}, described
        assert [s.name for s in described.workflow.steps] == ["prepare", "approve"], described
        runs = ws.list_workflows(api.ws.ListWorkflowsRequest(definition=name), use_get=use_get)
        assert [w.workflow_id for w in runs.workflows] == [wid], runs
    signal = ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve", payload=value({"ok": True}),
                                            request_id="once"))
    assert signal.accepted is True, signal
    wait_history(api, ws, wid, closing, "the run to close")
    described = ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id=wid))
    assert described.workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED, described
    assert plain(described.workflow.output) == {"approved": True, "item": "lamp"}, described
    for use_get in (False, True):
        events, token = [], ""
        while True:
            page = ws.get_history(api.ws.GetHistoryRequest(workflow_id=wid, page_size=3, page_token=token),
                                  use_get=use_get)
            assert len(page.events) <= 3, page
            events += page.events
            token = page.next_page_token
            if not token:
                break
        assert [e.event_id for e in events] == list(range(1, len(events) + 1)), events
        assert events[0].type == "WorkflowStarted" and events[-1].type == "WorkflowCompleted", events
        assert events[0].workflow_started.definition == name, events[0]

    # Cancel and terminate.
    for rpc, status, event in (("cancel", api.common.WORKFLOW_STATUS_CANCELLED, "WorkflowCancelled"),
                               ("terminate", api.common.WORKFLOW_STATUS_TERMINATED, "WorkflowTerminated")):
        other = unique(f"{rpc}_{conn.codec}")
        ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=other))
        wait_history(api, ws, other, started("approve"), "the approve step to start")
        if rpc == "cancel":
            ws.cancel_workflow(api.ws.CancelWorkflowRequest(workflow_id=other, reason="test"))
        else:
            ws.terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=other, reason="test"))
        last = wait_history(api, ws, other, closing, f"the {rpc}led run to close")[-1]
        assert last.type == event, last
        info = ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id=other)).workflow.info
        assert info.status == status, info


@pytest.mark.timeout(90)
def test_connect_client_server_streams(api, web, conn):
    """StreamProgress and WatchHistory as Connect server streams: a live run that waits for a
    signal (the stream stays open across the wait and ends when the run closes), resumption
    with after_event_id, and a closed run."""
    ws = conn.ws
    name = register_approval(api, ws, f"streams_{conn.codec}")
    wid = unique(f"stream_{conn.codec}")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid, input=value({"item": 7})))
    seen, signalled = [], False
    for progress in ws.stream_progress(api.ws.StreamProgressRequest(workflow_id=wid), timeout_ms=STREAM_MS):
        assert progress.workflow_id == wid, progress
        seen.append(progress)
        if not signalled and list(progress.running_steps) == ["approve"]:
            # The stream is pushed: the signal's effects must arrive on this same open stream.
            ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve", payload=value({"ok": False})))
            signalled = True
    assert signalled, f"the stream never showed the approve step running: {seen}"
    ids = [p.event_id for p in seen]
    assert ids == sorted(set(ids)), f"progress event ids not strictly increasing: {ids}"
    final = seen[-1]
    assert final.status == api.common.WORKFLOW_STATUS_COMPLETED and final.percentage == 100, final
    assert set(final.completed_steps) == {"prepare", "approve"}, final

    history = list(ws.watch_history(api.ws.WatchHistoryRequest(workflow_id=wid), timeout_ms=STREAM_MS))
    assert [e.event_id for e in history] == list(range(1, len(history) + 1)), history
    assert history[-1].type == "WorkflowCompleted" and history[-1].event_id == final.event_id, history[-1]
    signal = [e for e in history if e.type == "SignalReceived"]
    assert len(signal) == 1 and signal[0].signal_received.name == "approve", signal
    tail = list(ws.watch_history(api.ws.WatchHistoryRequest(workflow_id=wid, after_event_id=len(history) - 2),
                                 timeout_ms=STREAM_MS))
    assert [e.event_id for e in tail] == [len(history) - 1, len(history)], tail
    closed = list(ws.stream_progress(api.ws.StreamProgressRequest(workflow_id=wid), timeout_ms=STREAM_MS))
    assert closed and closed[-1].status == api.common.WORKFLOW_STATUS_COMPLETED, closed


@pytest.mark.timeout(60)
def test_connect_client_errors_map_to_connect_codes(api, web, conn):
    ws, admin = conn.ws, conn.admin

    def code_of(call, *fields):
        with pytest.raises(ConnectError) as error:
            result = call()
            if not hasattr(result, "ByteSize"):  # a stream: the error comes while reading it
                list(result)
        for field in fields:
            assert field in error.value.message, f"{field!r} not named in {error.value.message!r}"
        return error.value.code

    assert code_of(lambda: ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id="never-started")),
                   "never-started") == Code.NOT_FOUND
    assert code_of(lambda: ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id="never-started"),
                                                use_get=True)) == Code.NOT_FOUND
    assert code_of(lambda: ws.stream_progress(api.ws.StreamProgressRequest(workflow_id="never-started"),
                                              timeout_ms=RPC_MS)) == Code.NOT_FOUND
    assert code_of(lambda: ws.watch_history(api.ws.WatchHistoryRequest(workflow_id="never-started"),
                                            timeout_ms=RPC_MS)) == Code.NOT_FOUND
    assert code_of(lambda: ws.get_definition(api.ws.GetDefinitionRequest(name="no_such_definition")),
                   "no_such_definition") == Code.NOT_FOUND
    assert code_of(lambda: admin.reset_circuit_breaker(api.admin.ResetCircuitBreakerRequest(key="ghost")),
                   "ghost") == Code.NOT_FOUND
    assert code_of(lambda: ws.start_workflow(api.ws.StartWorkflowRequest(definition="")),
                   "definition") == Code.INVALID_ARGUMENT
    assert code_of(lambda: ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id="has space")),
                   "workflow_id") == Code.INVALID_ARGUMENT
    assert code_of(lambda: ws.watch_history(api.ws.WatchHistoryRequest(workflow_id="x", after_event_id=-1),
                                            timeout_ms=RPC_MS), "after_event_id") == Code.INVALID_ARGUMENT
    assert code_of(lambda: ws.register_definition(api.ws.RegisterDefinitionRequest(
        source="name: bad\nsteps:\n  a: { activity: x, depends_on: [ghost] }\n")), "ghost", "3:") \
        == Code.INVALID_ARGUMENT

    name = register_approval(api, ws, f"errors_{conn.codec}")
    wid = unique(f"err_{conn.codec}")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid))
    assert code_of(lambda: ws.start_workflow(api.ws.StartWorkflowRequest(
        definition=name, workflow_id=wid, id_reuse_policy=api.ws.WORKFLOW_ID_REUSE_POLICY_REJECT)),
        wid) == Code.ALREADY_EXISTS
    assert code_of(lambda: ws.get_history(api.ws.GetHistoryRequest(workflow_id=wid, page_token="forged")),
                   "page_token") == Code.INVALID_ARGUMENT
    wait_history(api, ws, wid, started("approve"), "the approve step to start")
    # connect-timeout-ms: a stream of a run that waits for a signal outlives a 300 ms deadline.
    t0 = time.monotonic()
    assert code_of(lambda: ws.stream_progress(api.ws.StreamProgressRequest(workflow_id=wid),
                                              timeout_ms=300)) == Code.DEADLINE_EXCEEDED
    assert time.monotonic() - t0 < 5, "the deadline was not enforced promptly"
    ws.terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=wid))
    wait_history(api, ws, wid, closing, "the run to close")
    assert code_of(lambda: ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve")),
                   wid) == Code.FAILED_PRECONDITION
    # A method the server does not have, called the way a generated client calls one.
    missing = MethodInfo(name="NoSuchMethod", service_name="baton.v1.WorkflowService",
                         input=api.ws.ListDefinitionsRequest, output=api.ws.ListDefinitionsResponse,
                         idempotency_level=IdempotencyLevel.UNKNOWN, stream_type=StreamType.UNARY)
    assert code_of(lambda: ws.execute_unary(request=api.ws.ListDefinitionsRequest(), method=missing),
                   "NoSuchMethod") == Code.UNIMPLEMENTED
    assert_serving(api, web, "after the error calls")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("codec,http2", CLIENT_VARIANTS,
                         ids=["json-http1.1", "json-http2", "proto-http1.1", "proto-http2"])
def test_grpc_web_through_the_connectrpc_client(api, web, examples, codec, http2):
    """connectrpc's gRPC-Web protocol (application/grpc-web+proto|+json): unary, a server stream
    and an error status read from the trailer frame."""
    ws, admin = clients(api, web, codec=codec, http2=http2, protocol=ProtocolType.GRPC_WEB)
    assert admin.get_server_info(api.admin.GetServerInfoRequest()).version
    assert "three_step_echo" in [d.name for d in ws.list_definitions(api.ws.ListDefinitionsRequest()).definitions]
    wid = unique(f"web_{codec}")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid,
                                                  input=value({"n": 3})))
    progress = list(ws.stream_progress(api.ws.StreamProgressRequest(workflow_id=wid), timeout_ms=STREAM_MS))
    assert progress and progress[-1].status == api.common.WORKFLOW_STATUS_COMPLETED, progress
    history = list(ws.watch_history(api.ws.WatchHistoryRequest(workflow_id=wid), timeout_ms=STREAM_MS))
    assert [e.event_id for e in history] == list(range(1, len(history) + 1)) and len(history) > 3, history
    with pytest.raises(ConnectError) as error:
        ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id="never-started"))
    assert error.value.code == Code.NOT_FOUND and "never-started" in error.value.message, error.value
    with pytest.raises(ConnectError) as error:
        list(ws.stream_progress(api.ws.StreamProgressRequest(workflow_id="never-started"), timeout_ms=RPC_MS))
    assert error.value.code == Code.NOT_FOUND, error.value


@pytest.mark.timeout(30)
def test_grpc_over_http2_and_not_over_http1(api, web, examples):
    """The same port still speaks gRPC (connectrpc's gRPC protocol) over HTTP/2; over HTTP/1.1
    gRPC is refused with 415 naming gRPC-Web and Connect."""
    ws, _ = clients(api, web, codec="proto", http2=True, protocol=ProtocolType.GRPC)
    assert "three_step_echo" in [d.name for d in ws.list_definitions(api.ws.ListDefinitionsRequest()).definitions]
    reply = raw(web, "POST", f"{WS}/ListDefinitions", envelope(b""), {"content-type": "application/grpc", "te": "trailers"})
    assert reply.status == 415, (reply.status, reply.headers, reply.body)
    assert "grpc-web" in reply.text().lower() and "connect" in reply.text().lower(), reply.text()
    assert_serving(api, web, "after gRPC over HTTP/1.1")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_gzip_requests_are_inflated_in_every_protocol(api, web, http2):
    """Connect unary (content-encoding), Connect streaming (connect-content-encoding, envelope flag 1),
    gRPC-Web (grpc-encoding, flag 1) and Connect GET (compression=gzip) with gzip bodies."""
    body = json.dumps({"workflowId": "no-such-run-gz"}).encode()
    reply = raw(web, "POST", f"{WS}/DescribeWorkflow", gzip.compress(body),
                {"content-type": "application/json", "content-encoding": "gzip"}, http2=http2)
    assert reply.status == 404 and reply.json()["code"] == "not_found", (reply.status, reply.body)
    reply = raw(web, "POST", f"{WS}/ListDefinitions", gzip.compress(b"{}"),
                {"content-type": "application/json", "content-encoding": "gzip"}, http2=http2)
    assert reply.status == 200 and "definitions" in reply.json(), (reply.status, reply.body)

    reply = raw(web, "POST", f"{WS}/StreamProgress", envelope(gzip.compress(body), flag=1),
                {"content-type": "application/connect+json", "connect-content-encoding": "gzip"}, http2=http2)
    parts = frames(reply.body)
    assert reply.status == 200 and parts[-1][0] == 0x02, (reply.status, reply.body)
    assert json.loads(parts[-1][1])["error"]["code"] == "not_found", parts

    request = api.ws.ListDefinitionsRequest().SerializeToString()
    reply = raw(web, "POST", f"{WS}/ListDefinitions", envelope(gzip.compress(request), flag=1),
                {"content-type": "application/grpc-web+proto", "grpc-encoding": "gzip"}, http2=http2)
    data, trailers, _ = grpc_web_body(reply.body)
    assert trailers.get("grpc-status") == "0", (trailers, reply.body)
    assert data and api.ws.ListDefinitionsResponse.FromString(data[0]).definitions

    message = base64.urlsafe_b64encode(gzip.compress(b"{}")).decode().rstrip("=")
    reply = raw(web, "GET", f"{WS}/ListDefinitions?encoding=json&compression=gzip&base64=1&message={message}",
                http2=http2)
    assert reply.status == 200 and "definitions" in reply.json(), (reply.status, reply.body)
    assert_serving(api, web, "after gzip requests")


@pytest.mark.timeout(30)
def test_gzip_bombs_and_unknown_encodings_are_refused(api, web):
    """A body that inflates past 4 MiB is resource_exhausted before it is inflated whole; an encoding
    other than identity and gzip is unimplemented, listing both; garbage declared gzip is invalid."""
    bomb = gzip.compress(b"{" + b" " * (6 << 20) + b"}")
    assert len(bomb) < 64 * 1024
    reply = raw(web, "POST", f"{WS}/ListDefinitions", bomb, {"content-type": "application/json", "content-encoding": "gzip"})
    assert reply.status == 429 and reply.json()["code"] == "resource_exhausted", (reply.status, reply.body)
    assert "inflates past" in reply.json()["message"], reply.body
    reply = raw(web, "POST", f"{WS}/ListDefinitions", b"{}", {"content-type": "application/json", "content-encoding": "br"})
    assert reply.status == 501 and reply.json()["code"] == "unimplemented", (reply.status, reply.body)
    assert "identity or gzip" in reply.json()["message"], reply.body
    reply = raw(web, "POST", f"{WS}/ListDefinitions", b"not gzip", {"content-type": "application/json",
                                                                  "content-encoding": "gzip"})
    assert reply.status == 400 and reply.json()["code"] == "invalid_argument", (reply.status, reply.body)
    assert_serving(api, web, "after gzip bombs")


@pytest.mark.timeout(30)
def test_the_default_generated_client_works(api, web):
    """connectrpc's generated client as it comes (gzip requests), over Connect and gRPC-Web."""
    for protocol in (ProtocolType.CONNECT, ProtocolType.GRPC_WEB):
        ws = api.ws_connect.WorkflowServiceClientSync(web.url, protocol=protocol, timeout_ms=RPC_MS,
                                                      http_client=http_client(False))
        names = [d.name for d in ws.list_definitions(api.ws.ListDefinitionsRequest()).definitions]
        assert "marketing_campaign" in names, (protocol, names)
        with pytest.raises(ConnectError) as error:
            ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id="no-such-run-default"))
        assert error.value.code == Code.NOT_FOUND, (protocol, error.value)


# ================================================================ Connect, wire format


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_connect_unary_wire_format(api, web, examples, http2):
    """Unary: the bare message in and out, errors as Connect JSON with the spec's HTTP status."""
    ok = raw(web, "POST", f"{WS}/ListDefinitions", b"{}", {"content-type": "application/json"}, http2=http2)
    assert ok.status == 200 and ok.headers["content-type"] == "application/json", (ok.status, ok.headers)
    assert "three_step_echo" in [d["name"] for d in ok.json()["definitions"]], ok.body
    proto = raw(web, "POST", f"{ADMIN}/GetServerInfo", b"", {"content-type": "application/proto",
                                                               "connect-protocol-version": "1"}, http2=http2)
    assert proto.status == 200 and proto.headers["content-type"] == "application/proto", proto
    assert api.admin.GetServerInfoResponse.FromString(proto.body).version, proto.body
    name = register_approval(api, clients(api, web)[0], "wire")
    wid = unique("wire")
    start = {"definition": name, "workflowId": wid, "idReusePolicy": "WORKFLOW_ID_REUSE_POLICY_REJECT"}
    assert raw(web, "POST", f"{WS}/StartWorkflow", json.dumps(start).encode(),
               {"content-type": "application/json"}, http2=http2).status == 200
    cases = [
        (f"{WS}/DescribeWorkflow", {"workflowId": "never-started"}, 404, "not_found"),
        (f"{WS}/StartWorkflow", {"definition": ""}, 400, "invalid_argument"),
        (f"{WS}/StartWorkflow", start, 409, "already_exists"),
        (f"{WS}/NoSuchMethod", {}, 501, "unimplemented"),
        ("/baton.v1.NoSuchService/Call", {}, 501, "unimplemented"),
        (f"{ADMIN}/ResetCircuitBreaker", {"key": "ghost"}, 404, "not_found"),
    ]
    for path, body, status, code in cases:
        reply = raw(web, "POST", path, json.dumps(body).encode(), {"content-type": "application/json"}, http2=http2)
        assert reply.status == status, (path, reply.status, reply.body)
        assert reply.headers["content-type"] == "application/json", (path, reply.headers)
        error = reply.json()
        assert error["code"] == code and error.get("message"), (path, error)
    wait_history(api, clients(api, web)[0], wid, started("approve"), "the approve step to start")
    first = raw(web, "POST", f"{WS}/GetHistory",
                json.dumps({"workflowId": wid, "pageToken": "", "pageSize": 1000}).encode(),
                {"content-type": "application/json"}, http2=http2)
    token = first.json()["nextPageToken"]
    t0 = time.monotonic()
    late = raw(web, "POST", f"{WS}/GetHistory",
               json.dumps({"workflowId": wid, "pageToken": token, "wait": "30s"}).encode(),
               {"content-type": "application/json", "connect-timeout-ms": "400"}, http2=http2)
    assert time.monotonic() - t0 < 5, "connect-timeout-ms was not enforced"
    assert late.status == 504 and late.json()["code"] == "deadline_exceeded", (late.status, late.body)
    bad = raw(web, "POST", f"{WS}/ListDefinitions", b"{}",
              {"content-type": "application/json", "connect-timeout-ms": "soon"}, http2=http2)
    assert bad.status == 400 and bad.json()["code"] == "invalid_argument", (bad.status, bad.body)
    assert "connect-timeout-ms" in bad.json()["message"], bad.body
    clients(api, web)[0].terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=wid))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_connect_streaming_wire_format(api, web, examples, http2):
    """Server streaming: enveloped messages, always HTTP 200, and exactly one end-of-stream
    envelope (flag 0x02) last: `{}` on success, {"error": {code, message}} on failure."""
    ws, _ = clients(api, web)
    wid = unique("envelopes")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid,
                                                  input=value({"n": 1})))
    for codec in ("json", "proto"):
        request = (json.dumps({"workflowId": wid}).encode() if codec == "json"
                   else api.ws.WatchHistoryRequest(workflow_id=wid).SerializeToString())
        reply = raw(web, "POST", f"{WS}/WatchHistory", envelope(request),
                    {"content-type": f"application/connect+{codec}", "connect-timeout-ms": str(STREAM_MS)},
                    http2=http2)
        assert reply.status == 200 and reply.headers["content-type"] == f"application/connect+{codec}", reply
        messages, end = connect_end_stream(reply.body)
        events = ([json.loads(m) for m in messages] if codec == "json"
                  else [plain(api.history.HistoryEvent.FromString(m)) for m in messages])
        assert [int(e["eventId"]) for e in events] == list(range(1, len(events) + 1)), events
        assert events[-1]["type"] == "WorkflowCompleted", events[-1]
        assert "error" not in end and set(end) <= {"metadata"}, end
    unknown = raw(web, "POST", f"{WS}/NoSuchStream", envelope(b"{}"), {"content-type": "application/connect+json"},
                  http2=http2)
    assert unknown.status == 200, (unknown.status, unknown.body)  # "Streaming responses always have ... 200 OK"
    assert connect_end_stream(unknown.body)[1]["error"]["code"] == "unimplemented", unknown.body
    for body, code in ((envelope(b'{"workflowId": "never-started"}'), "not_found"),
                       (envelope(b'{"workflowId": "x", "afterEventId": "-1"}'), "invalid_argument"),
                       (b"", None), (envelope(b"{}") + envelope(b"{}"), None)):
        reply = raw(web, "POST", f"{WS}/StreamProgress", body,
                    {"content-type": "application/connect+json"}, http2=http2)
        assert reply.status == 200, (body, reply.status, reply.body)
        messages, end = connect_end_stream(reply.body)
        assert messages == [] and end["error"]["code"] and end["error"]["message"], (body, end)
        if code:
            assert end["error"]["code"] == code, (body, end)
    # connect-timeout-ms ends a stream that would stay open (a run waiting for a signal): the
    # snapshot first, then the end-of-stream message with deadline_exceeded.
    name = register_approval(api, ws, "stream_deadline")
    waiting = unique("stream_deadline")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=waiting))
    wait_history(api, ws, waiting, started("approve"), "the approve step to start")
    t0 = time.monotonic()
    reply = raw(web, "POST", f"{WS}/StreamProgress", envelope(json.dumps({"workflowId": waiting}).encode()),
                {"content-type": "application/connect+json", "connect-timeout-ms": "300"}, http2=http2)
    assert time.monotonic() - t0 < 5, "connect-timeout-ms was not enforced on a stream"
    messages, end = connect_end_stream(reply.body)
    assert reply.status == 200 and len(messages) == 1 and end["error"]["code"] == "deadline_exceeded", (messages, end)
    ws.terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=waiting))
    # The shape must match: a unary method is not a Connect stream and vice versa.
    assert raw(web, "POST", f"{WS}/ListDefinitions", envelope(b"{}"),
               {"content-type": "application/connect+json"}, http2=http2).status == 415
    assert raw(web, "POST", f"{WS}/StreamProgress", b"{}",
               {"content-type": "application/json"}, http2=http2).status == 415
    assert_serving(api, web, "after Connect streams")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_connect_get_requests(api, web, examples, http2):
    """Connect's GET form: ?encoding=json&message=<percent-encoded>, ?encoding=proto&base64=1
    (RFC 4648 §5 URL-safe, padded or not), parameters in any order, unknown ones ignored; only for
    side-effect-free methods."""
    ws, _ = clients(api, web)
    wid = "get~~~???" + uuid.uuid4().hex[:6]  # '~~~' and '???' make '-' and '_' in URL-safe base64
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid))
    message = api.ws.DescribeWorkflowRequest(workflow_id=wid).SerializeToString()
    b64 = base64.urlsafe_b64encode(message).decode()
    assert "-" in b64 or "_" in b64, b64  # the test really exercises the URL-safe alphabet
    queries = [
        "encoding=json&message=" + urllib.parse.quote(json.dumps({"workflowId": wid}), safe=""),
        "message=" + urllib.parse.quote(json.dumps({"workflowId": wid}), safe="") + "&encoding=json&connect=v1",
        "connect=v1&base64=1&encoding=proto&message=" + b64.rstrip("="),
        "encoding=proto&base64=1&message=" + b64.replace("=", "%3D") + "&cachebuster=1",
    ]
    for query in queries:
        reply = raw(web, "GET", f"{WS}/DescribeWorkflow?{query}", http2=http2)
        assert reply.status == 200, (query, reply.status, reply.body)
        codec = "proto" if "encoding=proto" in query else "json"
        assert reply.headers["content-type"] == f"application/{codec}", (query, reply.headers)
        described = (api.ws.DescribeWorkflowResponse.FromString(reply.body) if codec == "proto"
                     else json_format.Parse(reply.body, api.ws.DescribeWorkflowResponse()))
        assert described.workflow.info.workflow_id == wid, (query, described)
    # An unknown run is a Connect error, as for POST.
    missing = raw(web, "GET", f"{WS}/DescribeWorkflow?encoding=json&message=%7B%22workflowId%22%3A%22nope%22%7D",
                  http2=http2)
    assert missing.status == 404 and missing.json()["code"] == "not_found", missing.body
    # A method with side effects cannot be called with GET: nothing starts.
    before = len(ws.list_workflows(api.ws.ListWorkflowsRequest(page_size=1000)).workflows)
    start = urllib.parse.quote(json.dumps({"definition": "three_step_echo"}), safe="")
    refused = raw(web, "GET", f"{WS}/StartWorkflow?encoding=json&message={start}", http2=http2)
    assert refused.status != 200 and refused.json()["code"], (refused.status, refused.body)
    assert len(ws.list_workflows(api.ws.ListWorkflowsRequest(page_size=1000)).workflows) == before
    # Connect spec, Unary-Get-Request: "If the server doesn't support the specified Message-Codec,
    # it must respond with an HTTP status code of 415 Unsupported Media Type."
    xml = raw(web, "GET", f"{WS}/ListDefinitions?encoding=xml&message=%3Cx%2F%3E", http2=http2)
    assert xml.status == 415, f"GET ?encoding=xml answered {xml.status} {xml.body!r}, the spec says 415"


# ================================================================ gRPC-Web, byte exact


def grpc_web_call(web, path, message: bytes, text=False, http2=False, codec="proto", timeout_ms=None):
    content_type = ("application/grpc-web-text" if text else "application/grpc-web") + f"+{codec}"
    body = envelope(message)
    headers = {"content-type": content_type, "x-grpc-web": "1", "x-user-agent": "grpc-web-python-test"}
    if text:
        body = base64.b64encode(body)
        headers["accept"] = "application/grpc-web-text"
    if timeout_ms:
        headers["grpc-timeout"] = f"{timeout_ms}m"
    reply = raw(web, "POST", path, body, headers, http2=http2)
    assert reply.status == 200, (path, reply.status, reply.headers, reply.body)
    assert reply.headers["content-type"] == content_type, (path, reply.headers)
    payload = reply.body
    if text:
        payload = decode_web_text(reply.body)
        # Each frame is base64-encoded on its own (padded), so a reader can decode per flush.
        assert reply.body.decode() == "".join(base64.b64encode(envelope(p, f)).decode()
                                              for f, p in frames(payload)), reply.body
    messages, trailers, block = grpc_web_body(payload)
    return messages, trailers, block


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_grpc_web_unary_framing(api, web, examples, text, http2):
    messages, trailers, block = grpc_web_call(web, f"{ADMIN}/GetServerInfo", b"", text=text, http2=http2)
    assert len(messages) == 1 and api.admin.GetServerInfoResponse.FromString(messages[0]).version, messages
    assert block == b"grpc-status: 0\r\n", block

    # An error: no data frame, the trailer frame carries grpc-status and a percent-encoded
    # grpc-message (gRPC: every byte outside 0x20-0x7E, and '%', is %XX).
    for workflow_id, status, expected in (("50%-off", "5", "50%-off"), ("caf\u00e9", "3", "caf\u00e9")):
        request = api.ws.DescribeWorkflowRequest(workflow_id=workflow_id).SerializeToString()
        messages, trailers, block = grpc_web_call(web, f"{WS}/DescribeWorkflow", request, text=text, http2=http2)
        assert messages == [], messages
        assert trailers["grpc-status"] == status, block
        encoded = trailers["grpc-message"]
        assert GRPC_MESSAGE.match(encoded), f"grpc-message {encoded!r} is not percent-encoded"
        assert expected in urllib.parse.unquote(encoded, errors="strict"), encoded
    assert "%25" in grpc_web_call(web, f"{WS}/DescribeWorkflow", api.ws.DescribeWorkflowRequest(
        workflow_id="50%-off").SerializeToString(), text=text, http2=http2)[1]["grpc-message"]

    messages, trailers, _ = grpc_web_call(web, f"{WS}/NoSuchMethod", b"", text=text, http2=http2)
    assert messages == [] and trailers["grpc-status"] == "12", trailers  # UNIMPLEMENTED


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_grpc_web_server_stream_framing(api, web, examples, text):
    ws, _ = clients(api, web)
    wid = unique("webstream")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid,
                                                  input=value({"n": 2})))
    request = api.ws.WatchHistoryRequest(workflow_id=wid).SerializeToString()
    messages, trailers, block = grpc_web_call(web, f"{WS}/WatchHistory", request, text=text,
                                              timeout_ms=STREAM_MS)
    events = [api.history.HistoryEvent.FromString(m) for m in messages]
    assert [e.event_id for e in events] == list(range(1, len(events) + 1)) and len(events) > 3, events
    assert events[-1].type == "WorkflowCompleted" and block == b"grpc-status: 0\r\n", (events[-1], block)
    # grpc-web+json: JSON messages in the same frames.
    messages, trailers, _ = grpc_web_call(web, f"{WS}/StreamProgress", json.dumps({"workflowId": wid}).encode(),
                                          codec="json", timeout_ms=STREAM_MS)
    assert trailers["grpc-status"] == "0" and json.loads(messages[-1])["status"] == "WORKFLOW_STATUS_COMPLETED"
    messages, trailers, _ = grpc_web_call(web, f"{WS}/StreamProgress", api.ws.StreamProgressRequest(
        workflow_id="never-started").SerializeToString(), text=text)
    assert messages == [] and trailers["grpc-status"] == "5", trailers
    # grpc-timeout ends a stream that would stay open: the snapshot, then DEADLINE_EXCEEDED (4).
    name = register_approval(api, ws, "web_deadline")
    waiting = unique("web_deadline")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=waiting))
    wait_history(api, ws, waiting, started("approve"), "the approve step to start")
    t0 = time.monotonic()
    messages, trailers, _ = grpc_web_call(web, f"{WS}/StreamProgress", api.ws.StreamProgressRequest(
        workflow_id=waiting).SerializeToString(), text=text, timeout_ms=300)
    assert time.monotonic() - t0 < 5, "grpc-timeout was not enforced on a gRPC-Web stream"
    assert len(messages) == 1 and trailers["grpc-status"] == "4", (messages, trailers)
    ws.terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=waiting))


# ================================================================ Server-Sent Events


@pytest.fixture(scope="module")
def marketing_sse(api, web, examples):
    """Follows a marketing_campaign run (it waits for the approve_campaign signal) over SSE with
    three connections per stream: the first from the start; the second resumed mid-run with
    Last-Event-ID after events were missed; the third resumed while the run waits (history with
    ?after=, progress with Last-Event-ID), then the signal, then the end."""
    ws, _ = clients(api, web)
    wid = unique("sse_campaign")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="marketing_campaign", workflow_id=wid,
                                                  input=value({"product": "Widget"})))
    base = f"/v1/workflows/{wid}"
    history = SimpleNamespace(connections=[], resumed_after=[])
    progress = SimpleNamespace(connections=[], resumed_after=[])

    def last_id(stream):
        ids = [int(b["id"]) for b in stream.blocks if "id" in b]
        return ids[-1]

    h1 = SSE(web, f"{base}/history")
    check_sse_head(h1)
    h1.until(lambda b: b.get("event") == "history" and int(b["id"]) >= 5, "five history events")
    h1.close()
    history.connections.append(h1)
    p1 = SSE(web, f"{base}/progress")
    check_sse_head(p1)
    p1.until(lambda b: b.get("event") == "progress", "a progress event")
    p1.close()
    progress.connections.append(p1)

    # Until the run waits for approval (following Connect's StreamProgress: pushed, no polling).
    waiting = None
    for update in ws.stream_progress(api.ws.StreamProgressRequest(workflow_id=wid), timeout_ms=STREAM_MS):
        if "approval" in update.running_steps:
            waiting = update.event_id
            break
    assert waiting and waiting > last_id(h1), f"the run never waited for approval (event {waiting})"

    history.resumed_after.append(last_id(h1))
    h2 = SSE(web, f"{base}/history", {"Last-Event-ID": str(last_id(h1))})
    check_sse_head(h2)
    h2.until(lambda b: b.get("event") == "history" and int(b["id"]) >= waiting, f"history event {waiting}")
    h2.close()
    history.connections.append(h2)
    progress.resumed_after.append(last_id(p1))
    p2 = SSE(web, f"{base}/progress", {"Last-Event-ID": str(last_id(p1))})
    check_sse_head(p2)
    p2.until(lambda b: b.get("event") == "progress" and "approval" in json.loads(b["data"]).get("runningSteps", []),
             "progress showing the approval step")
    p2.close()
    progress.connections.append(p2)

    # While the run waits nothing new happens: each stream must still open at once (200 and
    # `retry:`; an EventSource fires `open` and keep-alives can flow), then carry the signal's events.
    history.resumed_after.append(last_id(h2))
    h3 = SSE(web, f"{base}/history?after={last_id(h2)}", head_within=3)
    progress.resumed_after.append(last_id(p2))
    p3 = SSE(web, f"{base}/progress", {"Last-Event-ID": str(last_id(p2))}, head_within=3)
    history.opened_while_waiting, progress.opened_while_waiting = h3.head_prompt, p3.head_prompt
    if h3.head_prompt:
        check_sse_head(h3)
    if p3.head_prompt:
        check_sse_head(p3)
    ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve_campaign", payload=value({"approved": True})))
    for stream, target in ((h3, history), (p3, progress)):
        if not stream.head_prompt:
            check_sse_head(stream)
        stream.to_end()
        stream.close()
        target.connections.append(stream)
    final = ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id=wid)).workflow.info
    return SimpleNamespace(workflow_id=wid, history=history, progress=progress, final=final, waiting=waiting)


def check_event_blocks(blocks, name, message_type):
    for block in blocks:
        assert block.get("event") == name and "id" in block and "data" in block, block
        parsed = json_format.Parse(block["data"], message_type(), ignore_unknown_fields=False)
        assert int(block["id"]) == parsed.event_id, f"id: {block['id']} but data has eventId {parsed.event_id}"


@pytest.mark.timeout(120)
def test_sse_history_resumes_without_gaps_or_repeats(api, marketing_sse):
    run, h = marketing_sse, marketing_sse.history
    ids = []
    for i, stream in enumerate(h.connections):
        got = [int(b["id"]) for b in stream.events("history")]
        check_event_blocks(stream.events("history"), "history", api.history.HistoryEvent)
        if i > 0:
            assert got and got[0] == h.resumed_after[i - 1] + 1, \
                f"connection {i + 1} resumed after {h.resumed_after[i - 1]} but began with {got[:3]}"
        ids += got
    assert ids == list(range(1, len(ids) + 1)), f"history ids over three connections: {ids}"
    assert ids[-1] == run.final.last_event_id, (ids[-1], run.final)
    last = json.loads(h.connections[-1].events("history")[-1]["data"])
    assert last["type"] == "WorkflowCompleted", last
    end = h.connections[-1].blocks[-1]
    assert end.get("event") == "end" and json.loads(end["data"]) == {"status": "WORKFLOW_STATUS_COMPLETED"}, end
    assert h.connections[-1].ended, "the stream did not end after `event: end`"
    assert run.final.status == api.common.WORKFLOW_STATUS_COMPLETED, run.final
    assert h.opened_while_waiting, (f"history resumed with ?after={h.resumed_after[-1]} while the run waited sent "
                                    f"no response head (200, retry:) within 3 s")


@pytest.mark.timeout(120)
def test_sse_progress_resumes_without_repeats(api, marketing_sse):
    """Progress ids are the event id each snapshot reflects: over reconnects (Last-Event-ID) they
    increase strictly, nothing at or before Last-Event-ID is sent again, and the last progress is
    the completed run, followed by `event: end`."""
    run, p = marketing_sse, marketing_sse.progress
    ids = []
    for i, stream in enumerate(p.connections):
        blocks = stream.events("progress")
        check_event_blocks(blocks, "progress", api.wf.Progress)
        got = [int(b["id"]) for b in blocks]
        if i > 0:
            resumed = p.resumed_after[i - 1]
            assert all(x > resumed for x in got), \
                f"connection {i + 1} sent Last-Event-ID: {resumed} and got event ids {got} (repeats {resumed})"
        ids += got
    assert ids == sorted(set(ids)), f"progress ids over three connections repeat or go back: {ids}"
    final = json.loads(p.connections[-1].events("progress")[-1]["data"])
    assert final["status"] == "WORKFLOW_STATUS_COMPLETED" and final["percentage"] == 100, final
    assert int(final["eventId"]) == run.final.last_event_id, (final, run.final)
    end = p.connections[-1].blocks[-1]
    assert end.get("event") == "end" and json.loads(end["data"]) == {"status": "WORKFLOW_STATUS_COMPLETED"}, end
    assert p.opened_while_waiting, (f"progress resumed with Last-Event-ID: {p.resumed_after[-1]} (the current event) "
                                    f"while the run waited for its signal sent no response head (no 200, no retry:) "
                                    f"within 3 s: it opens only at the next event")


@pytest.mark.timeout(60)
def test_sse_resume_of_a_closed_run(api, web, examples):
    """A closed run: resuming at its last event sends nothing but `event: end`; ?after=N-2 sends
    the last two events."""
    ws, _ = clients(api, web)
    wid = unique("sse_closed")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid))
    last = wait_history(api, ws, wid, closing, "the run to close")[-1].event_id
    tail = SSE(web, f"/v1/workflows/{wid}/history?after={last - 2}")
    check_sse_head(tail)
    blocks = tail.to_end()
    tail.close()
    assert [int(b["id"]) for b in tail.events("history")] == [last - 1, last], blocks
    assert blocks[-1].get("event") == "end", blocks
    for kind in ("history", "progress"):
        stream = SSE(web, f"/v1/workflows/{wid}/{kind}", {"Last-Event-ID": str(last)})
        check_sse_head(stream)
        blocks = stream.to_end()
        stream.close()
        assert [b.get("event") for b in blocks[1:]] == ["end"], \
            f"{kind} resumed at the last event {last} of a closed run sent {blocks[1:]}"


@pytest.mark.timeout(60)
def test_sse_over_http2(api, web, examples):
    """The same streams over HTTP/2 (prior knowledge, pyqwest): a closed run's history ends."""
    ws, _ = clients(api, web)
    wid = unique("sse_h2")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid))
    last = wait_history(api, ws, wid, closing, "the run to close")[-1].event_id
    reply = raw(web, "GET", f"/v1/workflows/{wid}/history", headers={"accept": "text/event-stream"}, http2=True)
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream"), reply
    blocks = parse_sse_text(reply.text())
    assert blocks[0] == {"retry": "2000"}, blocks[:2]
    assert [int(b["id"]) for b in blocks if b.get("event") == "history"] == list(range(1, last + 1)), blocks
    assert blocks[-1].get("event") == "end", blocks[-1]
    unknown = raw(web, "GET", "/v1/workflows/never-started/progress", http2=True)
    assert unknown.status == 404 and "never-started" in unknown.text(), (unknown.status, unknown.body)


@pytest.mark.timeout(60)
def test_sse_live_list_of_runs(api, web, examples):
    """GET /v1/workflows: the newest page first, then one `workflow` event per run that starts or
    closes; filters by definition and status."""
    ws, _ = clients(api, web)
    name = register_approval(api, ws, "live_list")
    older, newer = unique("list_a"), unique("list_b")
    for wid in (older, newer):
        ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid))
    listing = SSE(web, f"/v1/workflows?definition={name}&page_size=10")
    check_sse_head(listing)
    running = SSE(web, f"/v1/workflows?definition={name}&status=WORKFLOW_STATUS_RUNNING")
    check_sse_head(running)

    def workflow(stream):
        block = stream.until(lambda b: b.get("event") == "workflow", "a workflow event")
        return json_format.Parse(block["data"], api.wf.WorkflowInfo(), ignore_unknown_fields=False)

    page = [workflow(listing), workflow(listing)]
    assert [w.workflow_id for w in page] == [newer, older], page  # newest first
    assert all(w.status == api.common.WORKFLOW_STATUS_RUNNING for w in page), page
    assert [w.workflow_id for w in (workflow(running), workflow(running))] == [newer, older]
    third = unique("list_c")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=third))
    for stream in (listing, running):
        live = workflow(stream)
        assert (live.workflow_id, live.status) == (third, api.common.WORKFLOW_STATUS_RUNNING), live
    wait_history(api, ws, third, started("approve"), "the approve step to start")
    ws.signal(api.ws.SignalRequest(workflow_id=third, name="approve", payload=value({"ok": True})))
    closed = workflow(listing)
    assert (closed.workflow_id, closed.status) == (third, api.common.WORKFLOW_STATUS_COMPLETED), closed
    assert closed.close_time.seconds > 0 and closed.last_event_id > 0, closed
    listing.close()
    running.close()
    for wid in (older, newer):
        ws.terminate_workflow(api.ws.TerminateWorkflowRequest(workflow_id=wid))


@pytest.mark.timeout(60)
def test_sse_bad_requests(api, web, examples):
    """Invalid Last-Event-ID / after → 400 with a one-line text; unknown run → 404; bad list
    parameters → 400; afterwards a stream still works."""
    ws, _ = clients(api, web)
    wid = unique("sse_bad")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition="three_step_echo", workflow_id=wid))
    wait_history(api, ws, wid, closing, "the run to close")
    one_line = re.compile(r"^[^\n]+\n?$")
    for kind in ("progress", "history"):
        for bad in ("abc", "-1", "1e3", "12x", "9" * 19):
            reply = raw(web, "GET", f"/v1/workflows/{wid}/{kind}", headers={"Last-Event-ID": bad})
            assert reply.status == 400, (kind, bad, reply.status, reply.body)
            assert reply.headers["content-type"].startswith("text/plain") and one_line.match(reply.text()), reply
        reply = raw(web, "GET", f"/v1/workflows/{wid}/{kind}?after=yesterday")
        assert reply.status == 400 and one_line.match(reply.text()), (reply.status, reply.body)
        reply = raw(web, "GET", f"/v1/workflows/never-started/{kind}")
        assert reply.status == 404 and "never-started" in reply.text() and one_line.match(reply.text()), reply
    for query in ("status=BOGUS", "page_size=0", "page_size=1001", "page_size=many"):
        reply = raw(web, "GET", f"/v1/workflows?{query}")
        assert reply.status == 400 and one_line.match(reply.text()), (query, reply.status, reply.body)
    assert raw(web, "GET", f"/v1/workflows/{wid}/nonsense").status == 404
    good = SSE(web, f"/v1/workflows/{wid}/history")
    check_sse_head(good)
    assert good.to_end()[-1].get("event") == "end"
    good.close()


# ================================================================ curl


def curl(*args, timeout=30):
    assert os.access(CURL, os.X_OK), f"{CURL} is missing"
    result = subprocess.run([CURL, "-sS", "--max-time", "20", *args], capture_output=True, timeout=timeout)
    assert result.returncode == 0, f"curl {' '.join(args)} exited {result.returncode}: {result.stderr!r}"
    return result.stdout.decode()


@pytest.mark.timeout(60)
def test_curl(api, web, examples):
    """What the Connect docs show with curl: unary JSON, GET, HTTP/2 with prior knowledge, and an
    event stream with -N that stays open while the run waits and ends with the run."""
    listed = json.loads(curl("-H", "content-type: application/json", "-d", "{}", f"{web.url}{WS}/ListDefinitions"))
    assert "marketing_campaign" in [d["name"] for d in listed["definitions"]], listed
    info = json.loads(curl(f"{web.url}{ADMIN}/GetServerInfo?encoding=json&message=%7B%7D"))
    assert info["durability"] == "full", info
    out = curl("--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}", "-H",
               "content-type: application/json", "-d", '{"workflowId": "never-started"}',
               f"{web.url}{WS}/DescribeWorkflow")
    body, _, meta = out.rpartition("\n")
    assert meta == "2 404" and json.loads(body)["code"] == "not_found", out

    ws, _ = clients(api, web)
    name = register_approval(api, ws, "curl")
    wid = unique("curl")
    ws.start_workflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid, input=value({"item": 1})))
    proc = subprocess.Popen([CURL, "-sS", "-N", "--max-time", "40", f"{web.url}/v1/workflows/{wid}/history"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    text, signalled = "", False
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            text += chunk.decode()
            if not signalled and '"stepStarted":{"step":"approve"' in text:
                # curl -N shows the wait as it happens; the signal's events follow on the same stream.
                ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve", payload=value({"ok": True})))
                signalled = True
        assert proc.wait(10) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert signalled, f"curl -N never showed the approve step starting: {text[-500:]!r}"
    blocks = parse_sse_text(text)
    ids = [int(b["id"]) for b in blocks if b.get("event") == "history"]
    assert ids == list(range(1, len(ids) + 1)) and blocks[-1].get("event") == "end", blocks[-3:]
    assert json.loads(blocks[-2]["data"])["type"] == "WorkflowCompleted", blocks[-2]
    h2 = curl("-N", "--http2-prior-knowledge", f"{web.url}/v1/workflows/{wid}/progress")
    assert parse_sse_text(h2)[-1].get("event") == "end", h2[-300:]


# ================================================================ health, UI, refusals


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_health_and_readiness(web, http2):
    for path, text in (("/healthz", "ok"), ("/readyz", "ready")):
        reply = raw(web, "GET", path, http2=http2)
        assert reply.status == 200 and reply.text().strip() == text, (path, reply.status, reply.body)
        assert reply.headers["content-type"].startswith("text/plain"), reply.headers


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_web_ui_and_its_assets(web, http2):
    """/ is the UI's index.html; every asset it references is served from the binary."""
    index = raw(web, "GET", "/", http2=http2)
    assert index.status == 200 and index.headers["content-type"].startswith("text/html"), index
    assert index.text().lower().startswith("<!doctype html>"), index.body[:100]
    assets = sorted(set(re.findall(r'(?:src|href)="(/[^"]*)"', index.text())))
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    kinds = {".js": "javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
    for asset in assets:
        reply = raw(web, "GET", asset, http2=http2)
        assert reply.status == 200 and reply.body, (asset, reply.status)
        kind = kinds.get(Path(asset).suffix)
        if kind:
            assert kind in reply.headers["content-type"], (asset, reply.headers["content-type"])
    missing = raw(web, "GET", "/no/such/page.html", http2=http2)
    assert missing.status == 404 and "/no/such/page.html" in missing.text(), (missing.status, missing.body)


@pytest.mark.timeout(30)
def test_path_traversal_never_serves_a_file(api, web):
    secret = Path(web.data_dir) / "baton.sqlite"
    assert secret.is_file(), secret
    probes = ["/../etc/passwd", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
              "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..\\..\\etc\\passwd", "//etc/passwd", "/./../etc/passwd",
              "/style.css/../../etc/passwd", f"/../../../..{secret}", "/%252e%252e/etc/passwd", "/app.js%00.html"]
    for probe in probes:
        reply = raw(web, "GET", probe)
        assert reply.status in (400, 404), (probe, reply.status, reply.body[:200])
        assert b"root:" not in reply.body and b"SQLite format" not in reply.body, (probe, reply.body[:200])
        assert reply.headers["content-type"].startswith("text/plain"), (probe, reply.headers)
    assert raw(web, "GET", "/../etc/passwd").status == 400, "a path with '..' must be refused with 400"
    assert_serving(api, web, "after path traversal probes")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_post_to_a_page_is_405(api, web, http2):
    """A page, an asset, a health check or an event stream posted to as a form (or with no content
    type) is 405 with Allow: GET."""
    problems = []
    for path in ("/", "/healthz", "/readyz", "/app.js", "/v1/workflows/x/progress", "/v1/workflows"):
        for headers in ({}, {"content-type": "application/x-www-form-urlencoded"}):
            reply = raw(web, "POST", path, b"a=1", headers, http2=http2)
            if reply.status != 405 or "GET" not in reply.headers.get("allow", ""):
                problems.append((path, headers, reply.status, reply.headers.get("allow"), reply.text().strip()))
    assert not problems, "expected 405 with Allow: GET:\n" + "\n".join(map(str, problems))
    assert_serving(api, web, "after 405 answers")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_rpc_path_with_a_non_rpc_content_type_is_415(api, web, http2):
    for content_type in ("text/plain", "application/xml", "application/connect+xml", "application/grpc-web+xml",
                         "application/proto+json"):
        for path in (f"{WS}/ListDefinitions", f"{WS}/StreamProgress"):
            reply = raw(web, "POST", path, b"{}", {"content-type": content_type}, http2=http2)
            assert reply.status == 415, (content_type, path, reply.status, reply.body)
            assert reply.headers["content-type"].startswith("text/plain") and reply.text().strip(), reply
    text = raw(web, "POST", f"{WS}/ListDefinitions", b"{}", {"content-type": "text/plain"}, http2=http2).text()
    assert "application/json" in text and "grpc-web" in text and "text/plain" in text, text
    assert_serving(api, web, "after 415 answers")


# ================================================================ bad input


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_malformed_json_names_the_problem(api, web, http2):
    """Each malformed request is INVALID_ARGUMENT (400) naming the message type and what is wrong."""
    cases = [
        (b'{"workflowId": "x"', ("DescribeWorkflowRequest", "JSON"), ("end", "early", "unterminated", "eof")),
        (b'{"workflowIdx": "x"}', ("DescribeWorkflowRequest", "workflowIdx"), ()),
        (b'not json', ("DescribeWorkflowRequest", "JSON"),
         ("unexpected", "invalid", "expected", "syntax", "character", "offset", "position", "'n'")),
        (b'{"workflowId": 5}', ("DescribeWorkflowRequest", "JSON"), ("string",)),
        (b'[]', ("DescribeWorkflowRequest", "JSON"), ("object", "array", "expected", "[")),
    ]
    problems = []
    for body, must, one_of in cases:
        reply = raw(web, "POST", f"{WS}/DescribeWorkflow", body, {"content-type": "application/json"}, http2=http2)
        assert reply.status == 400 and reply.json()["code"] == "invalid_argument", (body, reply.status, reply.body)
        message = reply.json()["message"]
        missing = [w for w in must if w not in message]
        if missing or (one_of and not any(w in message.lower() for w in one_of)):
            problems.append(f"{body!r} -> {message!r}")
    assert not problems, "messages that do not name the problem:\n" + "\n".join(problems)
    page = raw(web, "POST", f"{WS}/ListWorkflows", b'{"pageSize": "many"}', {"content-type": "application/json"},
               http2=http2)
    assert page.status == 400 and page.json()["code"] == "invalid_argument", page.body
    garbage = raw(web, "POST", f"{WS}/ListWorkflows", b"\xff\xff\xff", {"content-type": "application/proto"},
                  http2=http2)
    assert garbage.status == 400 and garbage.json()["code"] == "invalid_argument", garbage.body
    assert_serving(api, web, "after malformed JSON")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["connect-unary", "grpc-web", "connect-stream"])
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_oversized_body_is_refused_readably_and_the_server_keeps_serving(api, web, kind, http2):
    """A request body over 4 MiB is refused with resource_exhausted (429 / grpc-status 8 / in the
    end-of-stream message) or 413, the client can read that answer, and the server keeps serving."""
    big = MAX_BODY + MiB
    path, content_type, body = {
        "connect-unary": (f"{WS}/RegisterDefinition", "application/json", json.dumps({"source": "x" * big}).encode()),
        "grpc-web": (f"{WS}/RegisterDefinition", "application/grpc-web+proto", envelope(b"x" * big)),
        "connect-stream": (f"{WS}/StreamProgress", "application/connect+proto", envelope(b"x" * big)),
    }[kind]
    try:
        reply = raw(web, "POST", path, body, {"content-type": content_type}, http2=http2)
    except (ConnectionError, OSError, pyqwest.ReadError, pyqwest.WriteError) as error:
        pytest.fail(f"{kind} request of {len(body)} bytes over {'HTTP/2' if http2 else 'HTTP/1.1'}: the client "
                    f"could not read the server's answer: {error!r}")
    if reply.status == 413:
        pass
    elif kind == "connect-unary":
        assert reply.status == 429 and reply.json()["code"] == "resource_exhausted", (reply.status, reply.body[:200])
    elif kind == "grpc-web":
        assert reply.status == 200 and grpc_web_body(reply.body)[1]["grpc-status"] == "8", (reply.status, reply.body)
    else:
        assert reply.status == 200, (reply.status, reply.body[:200])
        assert connect_end_stream(reply.body)[1]["error"]["code"] == "resource_exhausted", reply.body
    assert_serving(api, web, f"after an oversized {kind} request")


@pytest.mark.timeout(30)
def test_oversized_message_announced_by_its_prefix(api, web):
    """An envelope announcing more than 4 MiB is refused at once (the rest is never sent)."""
    for content_type, path in (("application/grpc-web+proto", f"{WS}/StreamProgress"),
                               ("application/connect+proto", f"{WS}/StreamProgress")):
        reply = raw(web, "POST", path, struct.pack(">BI", 0, MAX_BODY + 1), {"content-type": content_type})
        assert reply.status == 200, (content_type, reply.status, reply.body)
        if "grpc-web" in content_type:
            assert grpc_web_body(reply.body)[1]["grpc-status"] == "8", reply.body
        else:
            assert connect_end_stream(reply.body)[1]["error"]["code"] == "resource_exhausted", reply.body
    assert_serving(api, web, "after oversized envelopes")
