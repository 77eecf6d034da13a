"""Bearer-token authentication and roles (`--auth-file`): `baton token hash` against Python's SHA-256; one
server whose auth file holds a token per role (reader, operator, worker limited to one task queue, admin);
the role × method matrix over grpcio (PERMISSION_DENIED when the role may not, UNAUTHENTICATED without a
token or with an unknown one, health open to probes); Connect and gRPC-Web (401/403 with Connect codes);
the HTTP routes (health and UI open, /metrics and the event streams need a reading role); the CLI's
--token and BATON_TOKEN; the `starting` line's `auth` field and the warning of an open server; bad auth
files (exit 2 naming the file, line:column and field); and no token ever echoed to a client or logged.

Every call is bounded (RPC deadlines, socket and subprocess timeouts); waits poll with deadlines."""

import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import time
from types import SimpleNamespace

import grpc
import pytest
from baton.v1 import (admin_service_pb2, admin_service_pb2_grpc, worker_service_pb2, worker_service_pb2_grpc,
                      workflow_service_pb2, workflow_service_pb2_grpc)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from conftest import RPC_TIMEOUT, baton_bin, serving

IO_TIMEOUT = 10.0  # seconds: every socket read
CLI_TIMEOUT = 30.0
WAIT = 15.0  # seconds: every poll
POLL_WAIT = 1.0  # seconds: the deadline of a PollActivityTask that finds no task
ROLES = ("reader", "operator", "worker", "admin")
PRINCIPALS = (*ROLES, "missing", "unknown")  # no authorization header; a well-formed token nobody issued
QUEUE, OTHER_QUEUE = "auth-q", "auth-other-q"
OPEN_RUN = "auth-open"  # waits for a signal for the whole module
ECHO = """\
name: auth_echo
steps:
  a: { activity: builtin.echo, input: { n: 1 } }
"""
GATED = """\
name: auth_gated
steps:
  wait: { wait_for_signal: { name: go } }
  done: { activity: builtin.echo, depends_on: [wait], input: { ok: 1 } }
"""
DENIED, UNAUTHENTICATED = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED
WF, WK = workflow_service_pb2_grpc.WorkflowServiceStub, worker_service_pb2_grpc.WorkerServiceStub
AD, ws, wk = admin_service_pb2_grpc.AdminServiceStub, workflow_service_pb2, worker_service_pb2


# ---------------------------------------------------------------- helpers


def cli(*args, env=None, stdin=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    try:
        return subprocess.run([str(baton_bin()), *map(str, args)], capture_output=True, text=True, input=stdin,
                              timeout=CLI_TIMEOUT, env={**environ, **(env or {})})
    except subprocess.TimeoutExpired:
        pytest.fail(f"baton {' '.join(map(str, args))} did not exit within {CLI_TIMEOUT}s", pytrace=False)


def shown(r):
    return f"{' '.join(map(str, r.args))}: exit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}"


def sha256(token):
    return hashlib.sha256(token.encode()).hexdigest()


def starting_auth(server):
    """The `auth` field of the json `starting` line."""
    # Logged before the listening line the Server waited for: already there.
    return server.wait_log(lambda e: e.get("message") == "starting", "json 'starting' line").get("auth")


def tail(server):
    return f"\n--- server stderr (tail)\n{server.stderr()[-3000:]}"


def bearer(token):
    return {"authorization": f"Bearer {token}"} if token else {}


def token_of(auth, principal):
    return {"missing": None, "unknown": auth.unknown}.get(principal, auth.tokens.get(principal))


def request(server, method, path, token=None, body=None, headers=None):
    """One HTTP/1.1 request: (status, headers with lower-case names, body)."""
    with contextlib.closing(http.client.HTTPConnection(server.host, server.port, timeout=IO_TIMEOUT)) as conn:
        conn.request(method, path, body=body, headers={**(headers or {}), **bearer(token)})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def first_sse_event(server, path, token=None):
    """GET an event stream: (status, the first event block as a dict) on 200, else (status, the body)."""
    with contextlib.closing(http.client.HTTPConnection(server.host, server.port, timeout=IO_TIMEOUT)) as conn:
        conn.request("GET", path, headers={"accept": "text/event-stream", **bearer(token)})
        resp = conn.getresponse()
        if resp.status != 200:
            return resp.status, resp.read()
        deadline, block = time.monotonic() + WAIT, {}
        while time.monotonic() < deadline:
            line = resp.readline().decode()  # bounded by the socket timeout
            if not line:
                break
            line = line.rstrip("\r\n")
            if not line and "event" in block:
                return 200, block
            if line and not line.startswith(":"):
                key, _, value = line.partition(":")
                block[key] = block.get(key, "") + value.lstrip(" ")
        pytest.fail(f"GET {path}: no event within {WAIT}s (partial {block})" + tail(server), pytrace=False)


# ---------------------------------------------------------------- the server with tokens


@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    tokens = {role: f"{role}-{secrets.token_hex(16)}" for role in ROLES}
    lines = ["# made by test_auth.py", "tokens:"]
    for role, token in tokens.items():
        r = cli("token", "hash", token)
        assert r.returncode == 0 and r.stdout.strip() == sha256(token) and r.stdout.count("\n") == 1, (
            f"expected the one line {sha256(token)}: {shown(r)}")
        lines += [f"  - name: ci-{role}", f"    sha256: {r.stdout.strip()}", f"    role: {role}"]
        lines += [f"    task_queues: [{QUEUE}]"] if role == "worker" else []
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    path.write_text("\n".join(lines) + "\n")
    with serving(["--log-format", "json", "--auth-file", str(path)]) as s:
        with grpc.insecure_channel(s.addr) as channel:
            workflows, admin = WF(channel), list(bearer(tokens["admin"]).items())
            for source in (ECHO, GATED):
                workflows.RegisterDefinition(ws.RegisterDefinitionRequest(source=source), timeout=RPC_TIMEOUT,
                                             metadata=admin)
            workflows.StartWorkflow(ws.StartWorkflowRequest(definition="auth_gated", workflow_id=OPEN_RUN),
                                    timeout=RPC_TIMEOUT, metadata=admin)
            yield SimpleNamespace(server=s, channel=channel, tokens=tokens, path=path,
                                  unknown=f"intruder-{secrets.token_hex(16)}")


@pytest.mark.timeout(60)
def test_token_hash_reads_the_token_from_stdin():
    token = f"stdin-{secrets.token_hex(8)}"
    r = cli("token", "hash", "-", stdin=token + "\n")
    assert r.returncode == 0 and r.stdout == sha256(token) + "\n", shown(r)
    assert token not in r.stdout + r.stderr, shown(r)


# ---------------------------------------------------------------- the role matrix over gRPC


def unary(stub, method, make_request, timeout=RPC_TIMEOUT):
    def invoke(channel, metadata):
        return getattr(stub(channel), method)(make_request(), timeout=timeout, metadata=metadata)
    return invoke


def first_message(stub, method, make_request):
    """A server (or bidi) stream: its first message, then cancelled."""
    def invoke(channel, metadata):
        stream = getattr(stub(channel), method)(make_request(), timeout=RPC_TIMEOUT, metadata=metadata)
        try:
            return next(stream)
        finally:
            stream.cancel()
    return invoke


READ, OPERATE, WORK, EVERY = {"reader", "operator", "admin"}, {"operator", "admin"}, {"worker", "admin"}, set(ROLES)
CALLS = {
    # name: (the roles allowed, the call)
    "ListWorkflows": (READ, unary(WF, "ListWorkflows", lambda: ws.ListWorkflowsRequest(page_size=5))),
    "DescribeWorkflow": (READ, unary(WF, "DescribeWorkflow",
                                     lambda: ws.DescribeWorkflowRequest(workflow_id=OPEN_RUN))),
    "StreamProgress": (READ, first_message(WF, "StreamProgress",
                                           lambda: ws.StreamProgressRequest(workflow_id=OPEN_RUN))),
    "RegisterDefinition": (OPERATE, unary(WF, "RegisterDefinition", lambda: ws.RegisterDefinitionRequest(source=ECHO))),
    "StartWorkflow": (OPERATE, unary(WF, "StartWorkflow", lambda: ws.StartWorkflowRequest(definition="auth_echo"))),
    "Signal": (OPERATE, unary(WF, "Signal", lambda: ws.SignalRequest(workflow_id=OPEN_RUN, name="noise"))),
    "CancelWorkflow": (OPERATE, unary(WF, "CancelWorkflow", lambda: ws.CancelWorkflowRequest(workflow_id="auth-none"))),
    "TerminateWorkflow": (OPERATE, unary(WF, "TerminateWorkflow",
                                         lambda: ws.TerminateWorkflowRequest(workflow_id="auth-none"))),
    "PollActivityTask(auth-q)": (WORK, unary(WK, "PollActivityTask", lambda: wk.PollActivityTaskRequest(
        task_queue=QUEUE, worker_identity="auth-test"), timeout=POLL_WAIT)),
    "PollActivityTask(other-q)": ({"admin"}, unary(WK, "PollActivityTask", lambda: wk.PollActivityTaskRequest(
        task_queue=OTHER_QUEUE, worker_identity="auth-test"), timeout=POLL_WAIT)),
    "RecordHeartbeat": (WORK, unary(WK, "RecordHeartbeat", lambda: wk.RecordHeartbeatRequest(task_token="auth-none"))),
    "GetServerInfo": ({"admin"}, unary(AD, "GetServerInfo", admin_service_pb2.GetServerInfoRequest)),
    "ListCircuitBreakers": ({"admin"}, unary(AD, "ListCircuitBreakers", admin_service_pb2.ListCircuitBreakersRequest)),
    "ServerReflection": (EVERY, first_message(reflection_pb2_grpc.ServerReflectionStub, "ServerReflectionInfo", lambda:
                                              iter([reflection_pb2.ServerReflectionRequest(list_services="")]))),
    "HealthCheck": (EVERY, unary(health_pb2_grpc.HealthStub, "Check", health_pb2.HealthCheckRequest)),
}
# Health is open to probes without a token; what it does with an unknown token is not specified.
MATRIX = [(call, who) for call in CALLS for who in PRINCIPALS if (call, who) != ("HealthCheck", "unknown")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("call,principal", MATRIX, ids=[f"{c}-{p}" for c, p in MATRIX])
def test_role_matrix_over_grpc(auth, call, principal):
    allowed, invoke = CALLS[call]
    token = token_of(auth, principal)
    try:
        invoke(auth.channel, list(bearer(token).items()))
        code, details = grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        code, details = error.code(), error.details() or ""
    what = f"{call} as {principal}: {code.name} {details!r}"
    if (principal in ROLES and principal in allowed) or (principal, call) == ("missing", "HealthCheck"):
        assert code not in (DENIED, UNAUTHENTICATED), f"{what}, expected the handler's answer" + tail(auth.server)
    else:
        expected = DENIED if principal in ROLES else UNAUTHENTICATED
        assert code == expected, f"{what}, expected {expected.name}" + tail(auth.server)
    for secret in (*auth.tokens.values(), auth.unknown):
        assert secret not in details, f"{what}: the error message echoes a token"


# ---------------------------------------------------------------- Connect, gRPC-Web, HTTP routes

CONNECT = [
    # (principal, method, JSON body, HTTP status, Connect code)
    ("missing", "WorkflowService/StartWorkflow", {"definition": "auth_echo"}, 401, "unauthenticated"),
    ("unknown", "WorkflowService/StartWorkflow", {"definition": "auth_echo"}, 401, "unauthenticated"),
    ("reader", "WorkflowService/StartWorkflow", {"definition": "auth_echo"}, 403, "permission_denied"),
    ("worker", "WorkflowService/ListWorkflows", {"pageSize": 5}, 403, "permission_denied"),
    ("operator", "AdminService/GetServerInfo", {}, 403, "permission_denied"),
    ("reader", "WorkflowService/ListWorkflows", {"pageSize": 5}, 200, None),
    ("operator", "WorkflowService/StartWorkflow", {"definition": "auth_echo"}, 200, None),
    ("admin", "AdminService/GetServerInfo", {}, 200, None),
]


def grpc_web_status(headers, body):
    """grpc-status from a trailers-only answer's headers or from the trailer frame."""
    found = re.search(rb"grpc-status: ?(\d+)", body)
    return headers.get("grpc-status") or (found and found.group(1).decode())


@pytest.mark.timeout(60)
def test_connect_and_grpc_web_answer_401_and_403(auth):
    json_headers = {"content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": "10000"}
    for principal, method, body, status, code in CONNECT:
        got, _, data = request(auth.server, "POST", f"/baton.v1.{method}", token_of(auth, principal),
                               json.dumps(body).encode(), json_headers)
        what = f"Connect {method} as {principal}: HTTP {got} {data[:300]!r}"
        assert got == status, f"{what}, expected {status}" + tail(auth.server)
        answer = json.loads(data or b"{}")
        assert answer.get("code") == code, f"{what}, expected Connect code {code}"
        assert not any(t.encode() in data for t in (*auth.tokens.values(), auth.unknown)), f"{what}: echoes a token"
    # GET (side-effect-free methods) is guarded the same way.
    path = "/baton.v1.WorkflowService/ListWorkflows?encoding=json&message=%7B%7D"
    assert request(auth.server, "GET", path)[0] == 401
    assert request(auth.server, "GET", path, auth.tokens["reader"])[0] == 200
    # gRPC-Web (an empty GetServerInfoRequest): the grpc-status, or the HTTP status of a refusal.
    web = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}
    for principal, http_status, grpc_status in (("missing", 401, "16"), ("reader", 403, "7"), ("admin", 200, "0")):
        status, headers, data = request(auth.server, "POST", "/baton.v1.AdminService/GetServerInfo",
                                        token_of(auth, principal), b"\0" * 5, web)
        assert grpc_web_status(headers, data) == grpc_status or status == http_status != 200, (
            f"gRPC-Web as {principal}: HTTP {status} {headers} {data!r}, expected grpc-status {grpc_status}")


@pytest.mark.timeout(90)
def test_http_routes(auth):
    for path in ("/healthz", "/readyz", "/", "/app.js"):
        status, _, body = request(auth.server, "GET", path)
        assert status == 200, f"GET {path} without a token: HTTP {status} {body[:200]!r}" + tail(auth.server)
    metrics = {"missing": 401, "unknown": 401, "reader": 200, "operator": 200, "admin": 200, "worker": 403}
    for principal, expected in metrics.items():
        status, _, body = request(auth.server, "GET", "/metrics", token_of(auth, principal))
        assert status == expected, f"GET /metrics as {principal}: HTTP {status}, expected {expected}: {body[:200]!r}"
        assert not any(t.encode() in body for t in (*auth.tokens.values(), auth.unknown)), body[:300]
    assert b"# TYPE" in request(auth.server, "GET", "/metrics", auth.tokens["reader"])[2]

    streams = [
        # (path, principal, HTTP status, the first event's name)
        ("/v1/workflows", "reader", 200, "workflow"),
        ("/v1/workflows", "missing", 401, None),
        ("/v1/workflows", "unknown", 401, None),
        ("/v1/workflows", "worker", 403, None),
        (f"/v1/workflows/{OPEN_RUN}/progress", "operator", 200, "progress"),
        (f"/v1/workflows/{OPEN_RUN}/history", "missing", 401, None),
        (f"/v1/workflows/{OPEN_RUN}/history", "admin", 200, "history"),
        ("/v1/circuit-breakers", "reader", 403, None),
        ("/v1/circuit-breakers", "admin", 200, "breakers"),
    ]
    for path, principal, expected, event in streams:
        status, first = first_sse_event(auth.server, path, token_of(auth, principal))
        assert status == expected, f"GET {path} as {principal}: HTTP {status}, expected {expected}: {first!r}"
        if event:
            assert first["event"] == event and first.get("data"), f"GET {path} as {principal}: {first}"


@pytest.mark.timeout(60)
def test_stream_tickets_stand_in_for_the_token_on_event_streams(auth):
    """IssueStreamTicket (any reading role) gives a ticket the event streams accept as `?ticket=`, with
    the token's role; unknown tickets are 401; the ticket is not the token; a worker gets none."""
    workflows = WF(auth.channel)
    issue = lambda principal: workflows.IssueStreamTicket(  # noqa: E731
        ws.IssueStreamTicketRequest(), timeout=RPC_TIMEOUT, metadata=list(bearer(auth.tokens[principal]).items()))
    reader, admin = issue("reader"), issue("admin")
    for reply in (reader, admin):
        assert re.fullmatch(r"[0-9a-f]{32}", reply.ticket), reply
        assert reply.expire_time.seconds > time.time() + 30, reply.expire_time
        assert reply.ticket not in auth.tokens.values()
    assert reader.ticket != admin.ticket
    with pytest.raises(grpc.RpcError) as refused:
        issue("worker")
    assert refused.value.code() == DENIED, refused.value
    with pytest.raises(grpc.RpcError) as missing:
        workflows.IssueStreamTicket(ws.IssueStreamTicketRequest(), timeout=RPC_TIMEOUT)
    assert missing.value.code() == UNAUTHENTICATED, missing.value
    streams = [
        # (path, ticket, HTTP status, the first event's name): a ticket carries its token's role.
        (f"/v1/workflows/{OPEN_RUN}/progress?ticket={reader.ticket}", 200, "progress"),
        (f"/v1/workflows?ticket={reader.ticket}", 200, "workflow"),
        (f"/v1/workflows/{OPEN_RUN}/history?after=0&ticket={reader.ticket}", 200, "history"),
        (f"/v1/circuit-breakers?ticket={reader.ticket}", 403, None),
        (f"/v1/circuit-breakers?ticket={admin.ticket}", 200, "breakers"),
        (f"/v1/workflows?ticket={secrets.token_hex(16)}", 401, None),
        (f"/v1/workflows?ticket={auth.tokens['reader']}", 401, None),
    ]
    for path, expected, event in streams:
        status, first = first_sse_event(auth.server, path)
        assert status == expected, f"GET {path}: HTTP {status}, expected {expected}: {first!r}" + tail(auth.server)
        if event:
            assert first["event"] == event and first.get("data"), f"GET {path}: {first}"
    # The metrics route takes no ticket: scrapers send their token.
    assert request(auth.server, "GET", f"/metrics?ticket={reader.ticket}")[0] == 401


@pytest.mark.timeout(60)
def test_an_open_server_issues_an_empty_ticket():
    with serving([]) as s, grpc.insecure_channel(s.addr) as channel:
        assert WF(channel).IssueStreamTicket(ws.IssueStreamTicketRequest(), timeout=RPC_TIMEOUT).ticket == ""


# ---------------------------------------------------------------- the CLI


@pytest.mark.timeout(120)
def test_the_cli_sends_token_or_baton_token(auth):
    address, t = ["--address", auth.server.addr], auth.tokens
    r = cli("list", *address, "--token", t["reader"])
    assert r.returncode == 0 and OPEN_RUN in r.stdout, shown(r)
    r = cli("list", *address, env={"BATON_TOKEN": t["reader"]})
    assert r.returncode == 0 and OPEN_RUN in r.stdout, shown(r)
    r = cli("history", OPEN_RUN, *address, "--token", t["reader"])
    assert r.returncode == 0 and "WorkflowStarted" in r.stdout, shown(r)
    r = cli("start", "auth_echo", *address, "--token", t["operator"])
    assert r.returncode == 0 and r.stdout.strip(), shown(r)
    r = cli("info", *address, "--token", t["admin"])
    assert r.returncode == 0, shown(r)

    refused = [
        # (args, token, the code stderr must name)
        (["list"], None, "UNAUTHENTICATED"),
        (["list"], auth.unknown, "UNAUTHENTICATED"),
        (["start", "auth_echo"], t["reader"], "PERMISSION_DENIED"),
        (["list"], t["worker"], "PERMISSION_DENIED"),
        (["info"], t["operator"], "PERMISSION_DENIED"),
    ]
    for args, token, code in refused:
        r = cli(*args, *address, *(["--token", token] if token else []))
        assert r.returncode == 1 and code in r.stderr, shown(r)
        assert not any(s in r.stderr for s in (*t.values(), auth.unknown)), f"stderr echoes the token: {shown(r)}"
    r = cli("start", "auth_echo", *address, env={"BATON_TOKEN": t["reader"]})
    assert r.returncode == 1 and "PERMISSION_DENIED" in r.stderr, shown(r)


# ---------------------------------------------------------------- logs: auth on and off


@pytest.mark.timeout(120)
def test_the_starting_line_names_auth_and_an_open_server_warns(auth):
    def warnings(server):
        return [e for e in server.log_entries() if "no --auth-file" in str(e.get("message"))]

    assert starting_auth(auth.server) == "tokens", "starting line without auth=tokens" + tail(auth.server)
    assert not warnings(auth.server), f"a server with --auth-file warns of none: {warnings(auth.server)}"

    with serving(["--log-format", "json"]) as open_server:
        assert starting_auth(open_server) == "off"
        warning = open_server.wait_log(lambda e: "no --auth-file" in str(e.get("message")), "'no --auth-file' warning line")
        assert warning["level"] == "warning", warning
        with grpc.insecure_channel(open_server.addr) as channel:
            WF(channel).ListWorkflows(ws.ListWorkflowsRequest(page_size=5), timeout=RPC_TIMEOUT)
            AD(channel).GetServerInfo(admin_service_pb2.GetServerInfoRequest(), timeout=RPC_TIMEOUT)
        assert request(open_server, "GET", "/metrics")[0] == 200
        # An empty server's run list sends no event until a run changes: the stream's status is the check.
        with contextlib.closing(http.client.HTTPConnection(open_server.host, open_server.port, timeout=IO_TIMEOUT)) as conn:
            conn.request("GET", "/v1/workflows", headers={"accept": "text/event-stream"})
            assert conn.getresponse().status == 200
        r = cli("list", "--address", open_server.addr)
        assert r.returncode == 0, shown(r)

    with serving(["--log-format", "json", "--auth-file", str(auth.path)], command="dev") as dev:
        assert starting_auth(dev) == "tokens"
        with grpc.insecure_channel(dev.addr) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                WF(channel).ListWorkflows(ws.ListWorkflowsRequest(page_size=5), timeout=RPC_TIMEOUT)
            assert refused.value.code() == UNAUTHENTICATED, refused.value
            WF(channel).ListWorkflows(ws.ListWorkflowsRequest(page_size=5), timeout=RPC_TIMEOUT,
                                      metadata=list(bearer(auth.tokens["reader"]).items()))


# ---------------------------------------------------------------- bad auth files

D1, D2 = sha256("one"), sha256("two")
BAD_FILES = {
    # case: (file text, the field the message names (None: not YAML), lines of which one is named)
    "not-yaml": ("tokens:\n\t- name: ci\n", None, (2,)),
    "unknown-role": (f"tokens:\n  - name: ci\n    sha256: {D1}\n    role: superuser\n", "role", (4,)),
    "missing-role": (f"tokens:\n  - name: ci\n    sha256: {D1}\n", "role", (2, 3)),
    "missing-sha256": ("tokens:\n  - name: ci\n    role: reader\n", "sha256", (2, 3)),
    "short-hex": ("tokens:\n  - name: ci\n    sha256: 9f86d081884c\n    role: reader\n", "sha256", (3,)),
    "not-hex": (f"tokens:\n  - name: ci\n    sha256: {'g' * 64}\n    role: reader\n", "sha256", (3,)),
    "bad-name": (f"tokens:\n  - name: ci deployer\n    sha256: {D1}\n    role: reader\n", "name", (2,)),
    "duplicate-name": (f"tokens:\n  - name: ci\n    sha256: {D1}\n    role: reader\n"
                       f"  - name: ci\n    sha256: {D2}\n    role: admin\n", "name", (2, 5)),
    "duplicate-digest": (f"tokens:\n  - name: ci\n    sha256: {D1}\n    role: reader\n"
                         f"  - name: cd\n    sha256: {D1}\n    role: admin\n", "sha256", (3, 6)),
}


BAD_RUNS = [(case, "server") for case in sorted(BAD_FILES)] + [("unknown-role", "dev"), ("duplicate-name", "dev")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case,command", BAD_RUNS, ids=[f"{c}-{m}" for c, m in BAD_RUNS])
def test_bad_auth_files_exit_2_naming_file_position_and_field(tmp_path, case, command):
    text, field, lines = BAD_FILES[case]
    path = tmp_path / "auth.yaml"
    path.write_text(text)
    cmd = [str(baton_bin()), command, "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"),
           "--auth-file", str(path)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(cmd)} kept running: it should have refused the auth file", pytrace=False)
    assert r.returncode == 2, f"{case}: {shown(r)}\n--- the file\n{text}"
    assert str(path) in r.stderr, f"{case}: stderr does not name {path}:\n{r.stderr}"
    # The message (json log lines and the path itself left out: their digits are no position).
    message = "\n".join(line.replace(str(path), "FILE") for line in r.stderr.splitlines()
                        if not line.lstrip().startswith("{"))
    position = re.compile(rf"(?<!\d)({'|'.join(map(str, lines))}):\d+")
    assert position.search(message), f"{case}: no line:column with line {lines}:\n{r.stderr}"
    if field:
        assert re.search(rf"\b{field}\b", message), f"{case}: the field `{field}` is not named:\n{r.stderr}"


# ---------------------------------------------------------------- secrets


@pytest.mark.timeout(30)
def test_no_token_appears_in_the_server_log(auth):
    """Runs after everything above sent the tokens, right and wrong, over every protocol."""
    log = auth.server.stderr()
    for name, secret in (*auth.tokens.items(), ("unknown", auth.unknown)):
        assert secret not in log, f"the {name} token appears in the server's stderr" + tail(auth.server)
    assert auth.server.alive(), "the server died" + tail(auth.server)
