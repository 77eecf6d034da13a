"""Shared parts of the browser-path end-to-end tests (test_connect.py, test_grpc_web_and_sse.py,
test_web_routes.py): a `baton server` of their own with the examples registered, Connect stubs
generated at test time, and raw-request helpers.

The browser path on the gRPC port (DESIGN.md §5 "Transport"), end to end against a real `baton
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


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """Python stubs of proto/baton/v1: protobuf messages and gRPC stubs (the committed ones in
    clients/python/baton/v1, which conftest imports first) and the Connect clients
    (protoc-gen-connectrpc with protobuf=google), generated here with grpcio-tools' protoc."""
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
    # `baton.v1` is already imported from clients/python (conftest): the protos are the same, so
    # add this directory to the package for the Connect modules.
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


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
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
