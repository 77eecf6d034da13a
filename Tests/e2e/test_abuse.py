"""Hostile clients cannot take Baton down.

One server of its own (test service enabled, its own data dir) takes raw TCP junk, HTTP/1.1 junk,
HTTP/2 frame abuse, slow clients, values at and over the documented limits, and 10,000-step
definitions. After every case the server must be alive, answer grpc.health.v1.Health/Check
SERVING, and still hold the `wait_for_signal` run started at the beginning of the module (RUNNING,
input intact). At the end the server is stopped with SIGTERM (exit 0) and restarted on the same
data dir, and every run recorded on the way (at-limit values included) reads back unchanged.

Every case is bounded: a deadline on every socket operation and RPC, fixed counts, no sleeps as
synchronization. The value limits (the contract):

- a JSON value nests at most 32 levels of arrays/objects ({} and [] are depth 1, scalars 0);
- its compact JSON text is at most 1,048,576 bytes;
- a definition has at most 10,000 steps.

At the limit is accepted and survives a restart; over it is INVALID_ARGUMENT naming the field and
the limit.
"""

import json
import os
import random
import re
import socket
import struct
import threading
import time
from pathlib import Path

import grpc
import h2.events
import hpack
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import RPC_TIMEOUT, Server
from rawh2 import (CONTINUATION, DATA, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLOW_CONTROL_ERROR,
                   FRAME_SIZE_ERROR, GOAWAY, HEADERS, MAX_WINDOW, PING, PREFACE, PROTOCOL_ERROR, RST_STREAM,
                   SETTINGS, WINDOW_UPDATE, CANCEL, ENHANCE_YOUR_CALM, FrameConn, RawH2, frame, grpc_frame,
                   settings_payload)

TS = "/grpc.testing.TestService"
MAX_DEPTH = 32
MAX_BYTES = 2 * 1024 * 1024  # the default payload_bytes
OVER_BYTES = 2_200_000  # clearly over: protobuf doubles and escapes may count a little differently
MAX_STEPS = 10_000
IO_TIMEOUT = 10.0       # every socket operation of this module
LARGE_RUN_TIMEOUT = 240.0
RSS_CEILING_KIB = 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
SETTINGS_MAX_FRAME_SIZE = 0x5

HOLD = """
name: abuse_hold
steps:
  hold: { wait_for_signal: { name: release, timeout: 24h, on_timeout: fail } }
"""
LONG_ID = "abuse-long-lived"
LONG_INPUT = {"probe": "abuse", "n": 7, "nested": {"list": [1, 2, 3], "text": "caf\u00e9 \u2713"}}


# ---------------------------------------------------------------- the module's server

class Env:
    """The module's server, the stubs, and what must read back unchanged after the restart."""

    def __init__(self, api, pb, data_dir):
        self.api, self.pb, self.data_dir = api, pb, data_dir
        self.server = Server(["--enable-test-service"], data_dir=data_dir)
        # (label, reader(workflow_stub) -> value, expected value)
        self.records = []

    def channel(self):
        return grpc.insecure_channel(self.server.addr, options=CHANNEL_OPTIONS)

    def stderr_tail(self, n=4000):
        if self.server is None:
            return ""
        text = self.server.stderr()
        return text if len(text) <= n else "...\n" + text[-n:]

    def health_problem(self, what):
        """None when the server is alive, SERVING, and holds the long-lived run unchanged; else why not."""
        s = self.server
        if s is None:
            return f"no server is running {what} (the restart did not bring one up)"
        if not s.alive():
            return f"server died {what} (exit {s.proc.poll()})"
        with self.channel() as ch:
            try:
                status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(),
                                                               timeout=RPC_TIMEOUT).status
            except grpc.RpcError as error:
                return f"Health/Check failed {what}: {error.code()}: {error.details()}"
            if status != health_pb2.HealthCheckResponse.SERVING:
                return f"Health/Check answered {status} {what}"
            try:
                described = self.api.ws_grpc.WorkflowServiceStub(ch).DescribeWorkflow(
                    self.api.ws.DescribeWorkflowRequest(workflow_id=LONG_ID), timeout=RPC_TIMEOUT).workflow
            except grpc.RpcError as error:
                return f"DescribeWorkflow({LONG_ID}) failed {what}: {error.code()}: {error.details()}"
        if described.info.status != self.api.common.WORKFLOW_STATUS_RUNNING:
            return f"the long-lived run is {described.info.status} {what}, expected RUNNING"
        if self.api.from_value(described.input) != LONG_INPUT:
            return f"the long-lived run's input changed {what}: {self.api.from_value(described.input)}"
        return None

    def assert_healthy(self, what):
        problem = self.health_problem(what)
        if problem:
            pytest.fail(f"{problem}; stderr:\n{self.stderr_tail()}", pytrace=False)

    def record(self, label, reader, expected):
        self.records.append((label, reader, expected))


@pytest.fixture(scope="module")
def env(pb, tmp_path_factory):
    # The committed stubs (clients/python/baton/v1) and the old worker helper's value conversions;
    # conftest puts clients/python on sys.path.
    from baton.v1 import (common_pb2, worker_service_pb2, worker_service_pb2_grpc, workflow_service_pb2,
                          workflow_service_pb2_grpc)
    import baton_worker
    api = type("Api", (), {
        "ws": workflow_service_pb2, "ws_grpc": workflow_service_pb2_grpc, "wk": worker_service_pb2,
        "wk_grpc": worker_service_pb2_grpc, "common": common_pb2,
        "to_value": staticmethod(baton_worker.to_value), "from_value": staticmethod(baton_worker.from_value),
    })
    e = Env(api, pb, str(tmp_path_factory.mktemp("abuse-data")))
    with e.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=HOLD), timeout=RPC_TIMEOUT)
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="abuse_hold", workflow_id=LONG_ID, input=api.to_value(LONG_INPUT)), timeout=RPC_TIMEOUT)
    e.assert_healthy("right after the module started")
    yield e
    if e.server is None:
        return  # the restart failed; test_restart_keeps_every_run_and_value reported it
    alive = e.server.alive()
    code = e.server.terminate()
    assert alive, f"server died during the module (exit {code}); stderr:\n{e.stderr_tail()}"
    assert code == 0, f"server exited {code} after SIGTERM, expected 0; stderr:\n{e.stderr_tail()}"


@pytest.fixture(autouse=True)
def healthy_after_each_case(env, request):
    yield
    if env.server is not None:  # None only after a failed restart, which that test reports
        env.assert_healthy(f"after {request.node.name}")


# ---------------------------------------------------------------- helpers

def assert_same(actual, expected, what):
    """Equality without pytest's diff (which would crawl over a 1 MiB string)."""
    if actual == expected:
        return
    a, e = json.dumps(actual, sort_keys=True), json.dumps(expected, sort_keys=True)
    at = next((i for i, (x, y) in enumerate(zip(a, e)) if x != y), min(len(a), len(e)))
    pytest.fail(f"{what} differs: {len(a)} vs {len(e)} JSON bytes, depth {json_depth(actual)} vs "
                f"{json_depth(expected)}, first difference at {at}: {a[max(0, at - 40):at + 40]!r} "
                f"vs {e[max(0, at - 40):at + 40]!r}", pytrace=False)


def wait_until(cond, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(interval)
    return True


def open_fds(server) -> int:
    return len(os.listdir(f"/proc/{server.pid}/fd"))


def assert_fds_return(env, baseline, what, slack=10):
    ok = wait_until(lambda: open_fds(env.server) <= baseline + slack, IO_TIMEOUT)
    assert ok, (f"server holds {open_fds(env.server)} descriptors {IO_TIMEOUT}s {what}, "
                f"{baseline} before: connections leak")


def unary_call(env):
    with env.channel() as ch:
        resp = env.pb.test_grpc.TestServiceStub(ch).UnaryCall(
            env.pb.messages.SimpleRequest(response_size=7), timeout=RPC_TIMEOUT)
    assert resp.payload.body == b"\0" * 7


def connect(env, timeout=IO_TIMEOUT):
    s = socket.create_connection((env.server.host, env.server.port), timeout=timeout)
    s.settimeout(timeout)
    return s


def send_quietly(sock, data) -> bool:
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
        return False


def read_until_closed(sock, timeout=IO_TIMEOUT, stop=lambda data: False):
    """Reads until EOF/reset (closed=True), stop(data), or the deadline. Returns (data, closed)."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    while not stop(data):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), False
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), False
        except (ConnectionResetError, ConnectionAbortedError):
            return bytes(data), True
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data), False


def rst_close(sock):
    """Closes with a TCP reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def expect_invalid(call, what, field, number):
    """`call` must fail with INVALID_ARGUMENT whose message names `field` and `number`."""
    try:
        call()
    except grpc.RpcError as error:
        details = error.details() or ""
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, \
            f"{what}: expected INVALID_ARGUMENT, got {error.code()}: {details[:300]}"
        assert field in details and number in details, \
            f"{what}: INVALID_ARGUMENT message {details[:300]!r} should name {field!r} and {number!r}"
        return details
    pytest.fail(f"{what} was accepted; expected INVALID_ARGUMENT naming {field!r} and {number!r}", pytrace=False)


def expect_not_found(call, what):
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND, f"{what}: expected NOT_FOUND, got {error.code()}"
        return
    pytest.fail(f"{what} exists; a refused request must leave nothing behind", pytrace=False)


def wait_closed(env, client, workflow_id, timeout=60.0):
    """Follows StreamProgress (which ends when the run closes), then describes the run."""
    try:
        for _ in client.StreamProgress(env.api.ws.StreamProgressRequest(workflow_id=workflow_id), timeout=timeout):
            pass
    except grpc.RpcError as error:
        pytest.fail(f"StreamProgress of {workflow_id} did not end with the run within {timeout}s: "
                    f"{error.code()}: {error.details()}", pytrace=False)
    return describe(env, client, workflow_id)


def describe(env, client, workflow_id):
    return client.DescribeWorkflow(env.api.ws.DescribeWorkflowRequest(workflow_id=workflow_id),
                                   timeout=RPC_TIMEOUT).workflow


def history(env, client, workflow_id, max_pages=1000):
    """Every event recorded so far. A running run always hands out a next_page_token (to follow it);
    an empty page means everything so far was read."""
    events, token = [], ""
    for _ in range(max_pages):
        page = client.GetHistory(env.api.ws.GetHistoryRequest(workflow_id=workflow_id, page_size=50,
                                                              page_token=token), timeout=RPC_TIMEOUT)
        events += page.events
        token = page.next_page_token
        if not token or not page.events:
            return events
    pytest.fail(f"history of {workflow_id} did not end within {max_pages} pages", pytrace=False)


def event_values(env, client, workflow_id, event_type, attribute):
    # The typed attributes message set on each event (`step_heartbeat`, …) holds the field.
    return [env.api.from_value(getattr(getattr(e, e.WhichOneof("attributes")), attribute))
            for e in history(env, client, workflow_id) if e.type == event_type]


# ---------------------------------------------------------------- JSON values at and over the limits

def json_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((json_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth(v) for v in value), default=0)
    return 0


def compact_size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def nested(depth):
    """Objects at odd levels, arrays at even ones, a string at the bottom: exactly `depth` deep."""
    value = "leaf"
    for level in range(depth, 0, -1):
        value = {f"d{level}": value} if level % 2 else [value]
    return value


def sized(n):
    """An object whose compact JSON text is exactly `n` bytes."""
    return {"blob": "x" * (n - len('{"blob":""}'))}


def limit_values(kind):
    """(at the limit, over it, the limit as the message must name it)."""
    if kind == "depth":
        at, over, number = nested(MAX_DEPTH), nested(MAX_DEPTH + 1), str(MAX_DEPTH)
        assert (json_depth(at), json_depth(over)) == (MAX_DEPTH, MAX_DEPTH + 1)
    else:
        at, over, number = sized(MAX_BYTES), sized(OVER_BYTES), str(MAX_BYTES)
        assert (compact_size(at), compact_size(over)) == (MAX_BYTES, OVER_BYTES)
    return at, over, number


# ================================================================ 1. raw TCP

@pytest.mark.parametrize("size", [1, 7, 24, 100, 4096, 65536, 1 << 20])
def test_tcp_random_bytes(env, size):
    payload = random.Random(0xBA70 + size).randbytes(size)
    with connect(env) as s:
        send_quietly(s, payload)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # already reset by the server
        data, closed = read_until_closed(s)
    assert closed, (f"{size} random bytes then EOF: the server kept the connection open for {IO_TIMEOUT}s "
                    f"(received {data[:80]!r})")
    if data:
        assert data.startswith(b"HTTP/1.") or data[3:4] == bytes([SETTINGS]) or data[3:4] == bytes([GOAWAY]), \
            f"answer to random bytes is neither HTTP/1.1 nor HTTP/2: {data[:80]!r}"


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("length", [1, 12, 23])
def test_tcp_truncated_preface_then_close(env, length, how):
    s = connect(env)
    assert send_quietly(s, PREFACE[:length])
    if how == "rst":
        rst_close(s)
    else:
        s.close()
    # The next connection is served normally (and the autouse check runs a full gRPC call).
    c = FrameConn(env.server.host, env.server.port, timeout=IO_TIMEOUT)
    try:
        c.handshake()
        assert c.ping_alive(), "a fresh HTTP/2 connection did not answer a PING"
    finally:
        c.close()


def test_tcp_truncated_preface_then_stall(env):
    s = connect(env)
    try:
        assert send_quietly(s, PREFACE[:23])
        # While it stalls (the server may close it or keep waiting), everyone else is served.
        env.assert_healthy("while a connection stalls after 23 bytes of the preface")
        unary_call(env)
    finally:
        s.close()


def test_tcp_connect_and_close_200_times(env):
    baseline = open_fds(env.server)
    for i in range(200):
        s = connect(env)
        if i % 2:
            rst_close(s)
        else:
            s.close()
    env.assert_healthy("after 200 connect-and-close")
    assert_fds_return(env, baseline, "after 200 connect-and-close")


def test_tcp_100_abandoned_connections(env):
    baseline = open_fds(env.server)
    sockets = []
    try:
        for _ in range(100):
            sockets.append(connect(env))
        env.assert_healthy("with 100 silent connections open")
        unary_call(env)
    finally:
        for s in sockets:
            s.close()
    assert_fds_return(env, baseline, "after closing 100 silent connections")


# ================================================================ 2. HTTP/1.1 junk

STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5]\d\d)[^\r\n]*\r\n")


def http1_responses(data: bytes):
    """The complete responses in `data` as (status, headers, body); asserts they are well formed."""
    out, i = [], 0
    while i < len(data):
        m = STATUS_LINE.match(data, i)
        assert m, f"not an HTTP/1.1 response at byte {i}: {data[i:i + 80]!r}"
        end = data.find(b"\r\n\r\n", m.end() - 2)
        if end < 0:
            break
        headers = {}
        for line in data[m.end():end].split(b"\r\n"):
            if not line:
                continue
            name, sep, value = line.partition(b":")
            assert sep and name and name.strip() == name, f"malformed header line {line[:80]!r}"
            headers[name.decode().lower()] = value.strip().decode(errors="replace")
        body_start = end + 4
        length = int(headers.get("content-length", "0"))
        if len(data) < body_start + length:
            break
        out.append((int(m.group(1)), headers, data[body_start:body_start + length]))
        i = body_start + length
    return out


HTTP1_JUNK = {
    "garbage_request_line": b"BREW \x00\xff/pot<>| HTCPCP/9.9 what\r\n\r\n",
    "huge_header": b"GET / HTTP/1.1\r\nHost: baton\r\nX-Huge: " + b"h" * (128 * 1024) + b"\r\n\r\n",
    "content_length_overflow": b"POST / HTTP/1.1\r\nHost: baton\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
    "content_length_absurd_no_body": b"POST / HTTP/1.1\r\nHost: baton\r\nContent-Length: 1000000000000\r\n\r\n",
    "pipelined_50": b"GET / HTTP/1.1\r\nHost: baton\r\n\r\n" * 50,
}


@pytest.mark.parametrize("case", list(HTTP1_JUNK))
def test_http1_junk_gets_an_answer_or_a_close(env, case):
    """Any well-formed HTTP response, or a close; never a hang. The connection is not half-closed
    by us (that would hide a server that waits forever)."""
    with connect(env) as s:
        send_quietly(s, HTTP1_JUNK[case])
        data, closed = read_until_closed(s, stop=lambda d: bool(http1_responses(bytes(d))))
    responses = http1_responses(data)
    assert responses or closed, (f"HTTP/1.1 {case}: no response and the connection still open after "
                                 f"{IO_TIMEOUT}s (received {data[:80]!r}): the server hangs on this client")
    for status, headers, _ in responses:
        assert status >= 200, f"HTTP/1.1 {case}: only an interim {status} {headers}, no final answer"


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_http1_close_mid_headers(env, how):
    s = connect(env)
    assert send_quietly(s, b"POST /baton.v1.WorkflowService/StartWorkflow HTTP/1.1\r\nHost: baton\r\nX-Cut: abc")
    if how == "rst":
        rst_close(s)
    else:
        s.close()
    unary_call(env)


# ================================================================ 3. HTTP/2 frame abuse

def h2conn(env) -> FrameConn:
    c = FrameConn(env.server.host, env.server.port, timeout=IO_TIMEOUT)
    c.handshake()
    return c


def connection_error(c: FrameConn, what, codes=None, timeout=IO_TIMEOUT):
    """The connection must end (GOAWAY or close); a GOAWAY carries one of `codes` when given."""
    ended = c.wait_closed_or(lambda: c.goaway is not None, timeout)
    assert ended, f"{what}: no GOAWAY and the connection still open after {timeout}s (frames: {c.frames[-5:]})"
    if codes is not None and c.goaway is not None:
        assert c.goaway.error_code in codes, f"{what}: GOAWAY with error {c.goaway.error_code}, expected {codes}"


def served(c: FrameConn, sid) -> bool:
    return c.find(HEADERS, lambda f: f.stream_id == sid) is not None


@pytest.mark.parametrize("kind", ["data", "headers"])
def test_h2_frame_over_max_frame_size(env, kind):
    c = h2conn(env)
    try:
        limit = c.server_settings().get(SETTINGS_MAX_FRAME_SIZE, 16384)
        if kind == "data":
            c.send(frame(HEADERS, FLAG_END_HEADERS, 1, c.header_block(f"{TS}/StreamingInputCall")))
            c.send(frame(DATA, 0, 1, b"\0" * (limit + 1)))
            # RFC 9113 4.2: FRAME_SIZE_ERROR, as a stream error or a connection error.
            ended = c.wait_closed_or(lambda: c.goaway is not None or c.find(RST_STREAM) is not None)
            assert ended, f"a {limit + 1}-byte DATA frame (max {limit}) drew no error: {c.frames[-5:]}"
            err = c.goaway or c.find(RST_STREAM)
            if err is not None:
                assert err.error_code == FRAME_SIZE_ERROR, f"{err}: expected FRAME_SIZE_ERROR"
        else:
            base = c.header_block(f"{TS}/EmptyCall")
            block = base + hpack.Encoder().encode([hpack.NeverIndexedHeaderTuple("x-big", "b" * (limit - len(base)))],
                                                  huffman=False)
            assert len(block) > limit
            c.send(frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, block))
            # RFC 9113 4.2: a field block frame over the size is a connection error FRAME_SIZE_ERROR.
            connection_error(c, f"a {len(block)}-byte HEADERS frame (max {limit})", {FRAME_SIZE_ERROR})
            assert not served(c, 1), "the oversize HEADERS frame was served"
    finally:
        c.close()


def test_h2_headers_on_even_stream_id(env):
    c = h2conn(env)
    try:
        c.send(frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 2, c.header_block(f"{TS}/EmptyCall")))
        # RFC 9113 5.1.1: a client-sent even stream id is a connection error PROTOCOL_ERROR.
        connection_error(c, "HEADERS on stream 2", {PROTOCOL_ERROR})
        assert not served(c, 2), "a request on a server-initiated stream id was served"
    finally:
        c.close()


def test_h2_stream_id_going_backwards(env):
    c = h2conn(env)
    try:
        c.send(frame(HEADERS, FLAG_END_HEADERS, 5, c.header_block(f"{TS}/EmptyCall")) +
               frame(DATA, FLAG_END_STREAM, 5, grpc_frame(b"")))
        assert c.wait(lambda: c.find(HEADERS, lambda f: f.stream_id == 5 and f.flags & FLAG_END_STREAM)), \
            f"stream 5 was not answered: {c.frames[-5:]}"
        c.send(frame(HEADERS, FLAG_END_HEADERS, 3, c.header_block(f"{TS}/EmptyCall")) +
               frame(DATA, FLAG_END_STREAM, 3, grpc_frame(b"")))
        # A PING after it tells "ignored" apart from "not yet processed".
        alive = c.ping_alive()
        assert not served(c, 3), "a new stream 3 after stream 5 was served as a request"
        # RFC 9113 5.1.1: "An endpoint that receives an unexpected stream identifier MUST respond
        # with a connection error of type PROTOCOL_ERROR."
        assert not alive, ("HEADERS on new stream 3 after stream 5 was silently ignored and the connection "
                           "kept going (it answered a PING); RFC 9113 5.1.1 requires a connection error "
                           "PROTOCOL_ERROR")
        connection_error(c, "HEADERS on stream 3 after stream 5", {PROTOCOL_ERROR})
    finally:
        c.close()


def test_h2_rst_stream_flood(env):
    c = h2conn(env)
    try:
        out = bytearray()
        for i in range(1000):
            sid = 1 + 2 * i
            out += frame(HEADERS, FLAG_END_HEADERS, sid, c.header_block(f"{TS}/FullDuplexCall"))
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
        c.send(bytes(out))
        # The server either keeps the connection (and it still serves) or ends it; it never wedges.
        if c.ping_alive():
            sid = 2001
            c.send(frame(HEADERS, FLAG_END_HEADERS, sid, c.header_block(f"{TS}/EmptyCall")) +
                   frame(DATA, FLAG_END_STREAM, sid, grpc_frame(b"")))
            done = lambda: c.find(HEADERS, lambda f: f.stream_id == sid and f.flags & FLAG_END_STREAM)  # noqa: E731
            assert c.wait_closed_or(lambda: done() or c.goaway is not None), \
                "after 1,000 HEADERS+RST_STREAM pairs a new call on the same connection got no answer"
    finally:
        c.close()


def test_h2_rapid_reset_is_answered_with_enhance_your_calm(env):
    """Rapid Reset (CVE-2023-44487): calls opened and reset at once, far faster than any client
    cancels; the server ends that connection with GOAWAY ENHANCE_YOUR_CALM and serves everyone else."""
    c = h2conn(env)
    try:
        out = bytearray()
        for i in range(2000):
            sid = 1 + 2 * i
            out += frame(HEADERS, FLAG_END_HEADERS, sid, c.header_block(f"{TS}/UnaryCall"))
            out += frame(DATA, FLAG_END_STREAM, sid, grpc_frame(b""))
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
        try:
            c.send(bytes(out))
        except OSError:
            pass  # the server may close before it read everything
        connection_error(c, "2,000 HEADERS+DATA+RST_STREAM triples", {ENHANCE_YOUR_CALM})
        assert c.goaway is not None, "the connection was closed without a GOAWAY naming ENHANCE_YOUR_CALM"
    finally:
        c.close()
    unary_call(env)


def test_h2_settings_flood(env):
    c = h2conn(env)
    try:
        acks_before = c.count(SETTINGS, lambda f: f.flags & FLAG_ACK)
        c.send(b"".join(frame(SETTINGS, 0, 0, settings_payload([(0x1, 4096), (0x2, 0)])) for _ in range(1000)))
        acks = lambda: c.count(SETTINGS, lambda f: f.flags & FLAG_ACK) - acks_before  # noqa: E731
        ended = c.wait_closed_or(lambda: acks() >= 1000 or c.goaway is not None)
        assert ended, f"1,000 SETTINGS: {acks()} acknowledged and the connection still open after {IO_TIMEOUT}s"
        if not c.closed and c.goaway is None:
            assert acks() == 1000, f"{acks()} SETTINGS ACKs for 1,000 SETTINGS"
            assert c.ping_alive(), "the connection stopped answering after a SETTINGS flood"
    finally:
        c.close()


def test_h2_ping_flood(env):
    c = h2conn(env)
    try:
        c.send(b"".join(frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(5000)))
        acks = lambda: c.count(PING, lambda f: f.flags & FLAG_ACK)  # noqa: E731
        ended = c.wait_closed_or(lambda: acks() >= 5000 or c.goaway is not None)
        assert ended, f"5,000 PINGs: {acks()} acknowledged and the connection still open after {IO_TIMEOUT}s"
        if not c.closed and c.goaway is None:
            got = [struct.unpack(">Q", f.payload)[0] for f in c.frames if f.type == PING and f.flags & FLAG_ACK]
            assert got == list(range(5000)), "PING ACKs do not echo the 5,000 PINGs in order"
    finally:
        c.close()


def test_h2_endless_continuation(env):
    c = h2conn(env)
    try:
        c.send(frame(HEADERS, 0, 1, c.header_block(f"{TS}/EmptyCall")))
        sent = 0
        for i in range(2000):
            block = hpack.Encoder().encode([hpack.NeverIndexedHeaderTuple(f"x-cont-{i}", "c" * 100)], huffman=False)
            if not c.send(frame(CONTINUATION, 0, 1, block)):
                break
            sent += 1
        if not c.closed and c.goaway is None and not c.send_failed:
            # RFC 9113 6.10: any other frame inside a field block is a connection error PROTOCOL_ERROR.
            c.send(frame(PING, 0, 0, b"12345678"))
        connection_error(c, f"HEADERS without END_HEADERS, {sent} CONTINUATION frames, then a PING")
        assert not served(c, 1), "a never-ending header block was served"
        assert c.find(PING, lambda f: f.flags & FLAG_ACK) is None, "a PING inside a header block was answered"
    finally:
        c.close()


@pytest.mark.parametrize("scope", ["connection", "stream"])
@pytest.mark.parametrize("increment", [MAX_WINDOW, 0], ids=["overflow", "zero"])
def test_h2_window_update_abuse(env, scope, increment):
    """RFC 9113 6.9: a window past 2^31-1 is FLOW_CONTROL_ERROR, a zero increment PROTOCOL_ERROR;
    on stream 0 as a connection error, on a stream as a stream error (or, allowed, a connection error)."""
    code = FLOW_CONTROL_ERROR if increment else PROTOCOL_ERROR
    c = h2conn(env)
    try:
        if scope == "connection":
            c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", increment)))
            connection_error(c, f"WINDOW_UPDATE +{increment} on the connection", {code})
        else:
            c.send(frame(HEADERS, FLAG_END_HEADERS, 1, c.header_block(f"{TS}/FullDuplexCall")) +
                   frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", increment)))
            rst = lambda: c.find(RST_STREAM, lambda f: f.stream_id == 1)  # noqa: E731
            ended = c.wait_closed_or(lambda: rst() is not None or c.goaway is not None)
            assert ended, f"WINDOW_UPDATE +{increment} on stream 1 drew no error: {c.frames[-5:]}"
            err = rst() or c.goaway
            if err is not None:
                assert err.error_code == code, f"{err}: expected error {code}"
    finally:
        c.close()


# ================================================================ 4. slow clients

def test_slow_reader_of_a_server_stream(env):
    """A client that asks for ~250 MB of a server stream and stops reading: for a few seconds every
    other client is served promptly and the server does not buffer the stream."""
    pb = env.pb
    baseline = env.server.rss_kib()
    h = RawH2(env.server.host, env.server.port, window=MAX_WINDOW, rcvbuf=64 * 1024, timeout=IO_TIMEOUT)
    try:
        req = pb.messages.StreamingOutputCallRequest(response_parameters=[
            pb.messages.ResponseParameters(size=256 * 1024) for _ in range(1000)]).SerializeToString()
        sid = h.grpc_request(f"{TS}/StreamingOutputCall", req)
        r = h.responses[sid]
        h.wait(lambda: r.headers is not None and len(r.data) > 0, timeout=IO_TIMEOUT)
        assert r.status == 200, r.headers
        # Stop reading; keep the stream stalled for 4 s while other clients call.
        stall_until = time.monotonic() + 4.0
        calls, worst, peak = 0, 0.0, baseline
        while time.monotonic() < stall_until:
            t0 = time.monotonic()
            env.assert_healthy("while a reader is stalled")
            unary_call(env)
            worst = max(worst, time.monotonic() - t0)
            peak = max(peak, env.server.rss_kib())
            calls += 1
        assert not r.ended, "the stalled stream ended by itself"
        assert calls >= 2 and worst < 3.0, f"other clients were held up: {calls} rounds, slowest {worst:.2f}s"
        growth_mib = (peak - baseline) / 1024
        assert growth_mib < 64, f"server RSS grew {growth_mib:.0f} MiB while one reader was stalled"
    finally:
        h.close()


def test_50_half_preface_connections_stall(env):
    baseline = open_fds(env.server)
    stalled = []
    try:
        for _ in range(50):
            s = connect(env)
            assert send_quietly(s, PREFACE[:12])
            stalled.append(s)
        env.assert_healthy("with 50 connections stalled half-way through the preface")
        unary_call(env)
        c = h2conn(env)
        try:
            assert c.ping_alive(), "a new HTTP/2 connection was not served while 50 others stall"
        finally:
            c.close()
    finally:
        for s in stalled:
            s.close()
    assert_fds_return(env, baseline, "after closing 50 stalled connections")


BIG_OUTPUT = """
name: abuse_big_output
steps:
  s0: { activity: builtin.echo, input: "${input}" }
  s1: { activity: builtin.echo, input: "${input}" }
"""
# A server that may hold 16 MiB of responses its clients have not read, 8 MiB per connection (the
# defaults are 256 and 32; small limits keep the test short, the mechanism is the same).
UNREAD_LIMITS = ["--max-unread-response-mib", "16", "--max-unread-response-mib-per-connection", "8"]


def hold_descriptions(server, request, streams, timeout):
    """A connection that asks for `streams` descriptions and never grants flow-control window; waits
    until every call has its answer's HEADERS (not flow-controlled: a queued response starts with
    :status 200, a refused one is Trailers-Only with its grpc-status) or the server closed it."""
    c = RawH2(server.host, server.port, window=65535, timeout=IO_TIMEOUT)
    sids = [c.grpc_request("/baton.v1.WorkflowService/DescribeWorkflow", request) for _ in range(streams)]
    try:
        c.wait(lambda: all(c.responses[s].headers is not None for s in sids), timeout=timeout)
    except ConnectionError:
        pass
    return c, sids


def goaway_code(c):
    codes = [ev.error_code for ev in c.events if isinstance(ev, h2.events.ConnectionTerminated)]
    return codes[-1] if codes else None


def test_clients_that_never_read_large_responses_cannot_grow_memory(env):
    """12 connections ask for 4 descriptions each of a run whose description is ~2.4 MB (115 MB in all)
    and never grant flow-control window. The server queues at most its unread-response limits: past
    the per-connection one a call is answered RESOURCE_EXHAUSTED naming the limit; past the
    server-wide one the connection holding the most is closed (GOAWAY ENHANCE_YOUR_CALM), so a client
    that reads is still served in full. Memory returns near the baseline once the hoarders leave."""
    api = env.api
    server = Server(UNREAD_LIMITS)
    conns = []
    try:
        with grpc.insecure_channel(server.addr, options=CHANNEL_OPTIONS) as ch:
            client = api.ws_grpc.WorkflowServiceStub(ch)
            client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=BIG_OUTPUT), timeout=RPC_TIMEOUT)
            value = {"blob": "b" * 800_000}
            client.StartWorkflow(api.ws.StartWorkflowRequest(
                definition="abuse_big_output", workflow_id="big", input=api.to_value(value)), timeout=RPC_TIMEOUT)
            size = wait_closed(env, client, "big").ByteSize()
            assert size > 2_000_000, f"the description is only {size} bytes"
            request = api.ws.DescribeWorkflowRequest(workflow_id="big")
            baseline = server.rss_kib()
            peak = baseline
            for _ in range(12):
                conns.append(hold_descriptions(server, request.SerializeToString(), 4, timeout=120))
                peak = max(peak, server.rss_kib())
            # A client that reads gets the whole description while the hoarders hold the server full.
            described = client.DescribeWorkflow(request, timeout=60).workflow
            assert described.ByteSize() == size, f"the reader got {described.ByteSize()} of {size} bytes"
            peak = max(peak, server.rss_kib())
        accepted, refused, evicted = 0, [], []
        for c, sids in conns:
            if not c.closed_by_peer:
                try:
                    c.wait(lambda: False, timeout=0.5)
                except (ConnectionError, TimeoutError):
                    pass
            if c.closed_by_peer:
                evicted.append(goaway_code(c))
                continue
            queued = 0
            for sid in sids:
                r = c.responses[sid]
                if r.ended and r.grpc_status is not None:
                    refused.append((r.grpc_status, r.headers.get("grpc-message", "")))
                else:
                    queued += 1
            assert queued * size <= 8 * 1024 * 1024 + size, f"one connection holds {queued} descriptions of {size} bytes"
            accepted += queued
        assert refused, "no call past a connection's unread-response limit was refused"
        assert all(code == 8 and "limit" in message for code, message in refused), refused[:3]
        assert evicted, "no connection was closed although the hoarders asked for 115 MB"
        assert ENHANCE_YOUR_CALM in evicted, f"the closed connections got GOAWAY codes {evicted}"
        assert accepted * size <= 16 * 1024 * 1024 + 2 * size, f"{accepted} descriptions of {size} bytes are queued"
        growth_mib = (peak - baseline) / 1024
        assert growth_mib < 64, f"server RSS grew {growth_mib:.0f} MiB for clients that never read"
        for c, _ in conns:
            c.close()
        returned = wait_until(lambda: server.rss_kib() <= baseline + 12 * 1024, 30)
        assert returned, (f"server RSS is {server.rss_kib() // 1024} MiB 30s after the clients left, "
                          f"{baseline // 1024} MiB before them")
        assert server.alive(), f"the server died; stderr:\n{server.stderr()[-4000:]}"
    finally:
        for c, _ in conns:
            c.close()
        server.terminate()


# ================================================================ 5. values at and over the limits

@pytest.mark.parametrize("kind", ["depth", "size"])
def test_limit_start_workflow_input(env, kind):
    at, over, number = limit_values(kind)
    api = env.api
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        over_id, at_id = f"abuse-input-over-{kind}", f"abuse-input-at-{kind}"
        expect_invalid(lambda: client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="abuse_hold", workflow_id=over_id, input=api.to_value(over)), timeout=RPC_TIMEOUT),
            f"StartWorkflow input over the {kind} limit", "input", number)
        expect_not_found(lambda: describe(env, client, over_id), f"run {over_id}")
        client.StartWorkflow(api.ws.StartWorkflowRequest(
            definition="abuse_hold", workflow_id=at_id, input=api.to_value(at)), timeout=RPC_TIMEOUT)
        read = lambda c: api.from_value(describe(env, c, at_id).input)  # noqa: E731
        assert_same(read(client), at, f"input at the {kind} limit")
    env.record(f"StartWorkflow input at the {kind} limit", read, at)


@pytest.mark.parametrize("kind", ["depth", "size"])
def test_limit_signal_payload(env, kind):
    at, over, number = limit_values(kind)
    api = env.api
    wid = f"abuse-signal-{kind}"
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        client.StartWorkflow(api.ws.StartWorkflowRequest(definition="abuse_hold", workflow_id=wid,
                                                         input=api.to_value({"k": kind})), timeout=RPC_TIMEOUT)
        expect_invalid(lambda: client.Signal(api.ws.SignalRequest(
            workflow_id=wid, name="note", payload=api.to_value(over)), timeout=RPC_TIMEOUT),
            f"Signal payload over the {kind} limit", "payload", number)
        reply = client.Signal(api.ws.SignalRequest(workflow_id=wid, name="note", payload=api.to_value(at)),
                              timeout=RPC_TIMEOUT)
        assert reply.accepted
        read = lambda c: event_values(env, c, wid, "SignalReceived", "payload")  # noqa: E731
        assert_same(read(client), [at], f"recorded signal payloads of {wid}")
    env.record(f"Signal payload at the {kind} limit", read, [at])


WORKER_ENTRIES = {"heartbeat": "details", "complete": "output", "fail": "failure.details"}


@pytest.mark.parametrize("kind", ["depth", "size"])
@pytest.mark.parametrize("entry", list(WORKER_ENTRIES))
def test_limit_worker_values(env, entry, kind):
    at, over, number = limit_values(kind)
    api, field = env.api, WORKER_ENTRIES[entry]
    name, queue, wid = f"abuse_w_{entry}_{kind}", f"abuse-{entry}-{kind}", f"abuse-w-{entry}-{kind}"
    source = (f"name: {name}\nsteps:\n  work: {{ activity: ext.work, task_queue: {queue}, "
              f"start_to_close_timeout: 10m, retry: {{ maximum_attempts: 1 }} }}\n")
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        worker = api.wk_grpc.WorkerServiceStub(ch)
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=source), timeout=RPC_TIMEOUT)
        client.StartWorkflow(api.ws.StartWorkflowRequest(definition=name, workflow_id=wid), timeout=RPC_TIMEOUT)
        task = worker.PollActivityTask(api.wk.PollActivityTaskRequest(task_queue=queue, worker_identity="abuse"),
                                       timeout=IO_TIMEOUT)
        assert task.task_token and task.workflow_id == wid, f"no task for {wid} on {queue}: {task}"
        token = task.task_token

        def send(value):
            if entry == "heartbeat":
                return worker.RecordHeartbeat(api.wk.RecordHeartbeatRequest(
                    task_token=token, details=api.to_value(value)), timeout=RPC_TIMEOUT)
            if entry == "complete":
                return worker.CompleteActivityTask(api.wk.CompleteActivityTaskRequest(
                    task_token=token, output=api.to_value(value)), timeout=RPC_TIMEOUT)
            failure = api.common.Failure(type="Abuse", message="at the limit", details=api.to_value(value))
            return worker.FailActivityTask(api.wk.FailActivityTaskRequest(task_token=token, failure=failure),
                                           timeout=RPC_TIMEOUT)

        expect_invalid(lambda: send(over), f"{entry} with {field} over the {kind} limit", field, number)
        # The refused call changed nothing: the attempt is still leased under the same token.
        try:
            send(at)
        except grpc.RpcError as error:
            pytest.fail(f"{entry} with {field} at the {kind} limit refused after the over-limit call: "
                        f"{error.code()}: {(error.details() or '')[:300]}", pytrace=False)
        if entry == "heartbeat":
            worker.CompleteActivityTask(api.wk.CompleteActivityTaskRequest(
                task_token=token, output=api.to_value({"done": True})), timeout=RPC_TIMEOUT)
        workflow = wait_closed(env, client, wid)
        expected_status = api.common.WORKFLOW_STATUS_FAILED if entry == "fail" else \
            api.common.WORKFLOW_STATUS_COMPLETED
        assert workflow.info.status == expected_status, f"{wid} ended {workflow.info.status}"
        if entry == "heartbeat":
            read = lambda c: event_values(env, c, wid, "StepHeartbeat", "details")  # noqa: E731
            expected = [at]
        elif entry == "complete":
            read = lambda c: api.from_value(describe(env, c, wid).steps[0].output)  # noqa: E731
            expected = at
        else:
            def read(c):
                # A description holds at most 3 MiB of values: details at the 2 MiB limit, in both the
                # step's and the run's failure, are marked omitted there and read from the history.
                failure = describe(env, c, wid).steps[0].last_failure
                if not failure.details_omitted:
                    return api.from_value(failure.details)
                events = [e for e in history(env, c, wid) if e.type == "StepFailed"]
                return api.from_value(events[-1].step_failed.failure.details)
            expected = at
        assert_same(read(client), expected, f"{field} of {wid}")
    env.record(f"{entry} {field} at the {kind} limit", read, expected)


def literal_definition(name, depth):
    # JSON is YAML flow style; the `input` value itself is the outermost level.
    return f"name: {name}\nsteps:\n  deep_literal:\n    activity: builtin.echo\n    input: {json.dumps(nested(depth))}\n"


def test_limit_definition_literal_depth(env):
    api = env.api
    assert json_depth(nested(MAX_DEPTH)) == MAX_DEPTH
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        over = literal_definition("abuse_literal_over", MAX_DEPTH + 1)
        expect_invalid(lambda: client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=over),
                                                         timeout=RPC_TIMEOUT),
                       "a step input literal 33 levels deep", "deep_literal", str(MAX_DEPTH))
        expect_not_found(lambda: client.GetDefinition(api.ws.GetDefinitionRequest(name="abuse_literal_over"),
                                                      timeout=RPC_TIMEOUT), "definition abuse_literal_over")
        source = literal_definition("abuse_literal_at", MAX_DEPTH)
        client.RegisterDefinition(api.ws.RegisterDefinitionRequest(source=source), timeout=RPC_TIMEOUT)
        client.StartWorkflow(api.ws.StartWorkflowRequest(definition="abuse_literal_at",
                                                         workflow_id="abuse-literal-at"), timeout=RPC_TIMEOUT)
        workflow = wait_closed(env, client, "abuse-literal-at")
        assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED, workflow.info
        read = lambda c: (c.GetDefinition(api.ws.GetDefinitionRequest(name="abuse_literal_at"),  # noqa: E731
                                          timeout=RPC_TIMEOUT).source,
                          api.from_value(describe(env, c, "abuse-literal-at").steps[0].output))
        assert_same(read(client), (source, nested(MAX_DEPTH)), "the depth-32 literal and its echo")
    env.record("definition literal at the depth limit", read, (source, nested(MAX_DEPTH)))


# ================================================================ 6. large definitions

def steps_definition(name, shape, count):
    lines = [f"name: {name}", "steps:"]
    for i in range(count):
        dep = f", depends_on: [a{i - 1}]" if shape == "chain" and i else ""
        lines.append(f"  a{i}: {{ activity: builtin.echo{dep} }}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shape", ["chain", "flat"])
def test_large_definition_over_the_steps_limit_is_refused(env, shape):
    api = env.api
    name = f"abuse_{shape}_over"
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        expect_invalid(lambda: client.RegisterDefinition(api.ws.RegisterDefinitionRequest(
            source=steps_definition(name, shape, MAX_STEPS + 1)), timeout=60),
            f"a {MAX_STEPS + 1}-step {shape} definition", "steps", str(MAX_STEPS))
        expect_not_found(lambda: client.GetDefinition(api.ws.GetDefinitionRequest(name=name), timeout=RPC_TIMEOUT),
                         f"definition {name}")


@pytest.mark.parametrize("shape", ["chain", "flat"])
def test_large_definition_of_10000_steps_runs(env, shape):
    api = env.api
    name, wid = f"abuse_{shape}_10000", f"abuse-{shape}-10000"
    samples, health_failures, checks, stop = [], [], [], threading.Event()

    def watch_server():
        # Samples RSS and health while the run executes (an interval, not a synchronization).
        t0 = time.monotonic()
        while not stop.is_set():
            try:
                samples.append(env.server.rss_kib())
            except (OSError, RuntimeError) as error:
                health_failures.append(f"{time.monotonic() - t0:.0f}s: no RSS: {error!r}")
            problem = env.health_problem(f"while the {shape} run executes")
            checks.append(problem)
            if problem:
                health_failures.append(f"{time.monotonic() - t0:.0f}s: {problem}")
            stop.wait(0.5)

    def meanwhile():
        return (f"meanwhile {len(health_failures)} of {len(checks)} health checks failed"
                f"{f' (first: {health_failures[0]})' if health_failures else ''}; "
                f"max RSS {max(samples, default=0) // 1024} MiB")

    closed = False
    with env.channel() as ch:
        client = api.ws_grpc.WorkflowServiceStub(ch)
        # Watched from before the registration: parsing and validating 10,000 steps must not stall others.
        watcher = threading.Thread(target=watch_server, daemon=True)
        watcher.start()
        # One budget for registering, starting and running (the rest of pytest's 300 s is for cleanup).
        budget_end = time.monotonic() + LARGE_RUN_TIMEOUT
        try:
            for what, call in [
                ("RegisterDefinition", lambda: client.RegisterDefinition(api.ws.RegisterDefinitionRequest(
                    source=steps_definition(name, shape, MAX_STEPS)), timeout=30)),
                ("StartWorkflow", lambda: client.StartWorkflow(api.ws.StartWorkflowRequest(
                    definition=name, workflow_id=wid), timeout=30)),
            ]:
                t0 = time.monotonic()
                try:
                    call()
                except grpc.RpcError as error:
                    pytest.fail(f"{what} of the {MAX_STEPS}-step {shape} definition failed after "
                                f"{time.monotonic() - t0:.1f}s: {error.code()}: {error.details()}; {meanwhile()}",
                                pytrace=False)
            t0 = time.monotonic()
            last = None
            try:
                for last in client.StreamProgress(api.ws.StreamProgressRequest(workflow_id=wid),
                                                  timeout=max(1.0, budget_end - time.monotonic())):
                    pass
            except grpc.RpcError as error:
                pytest.fail(f"the {MAX_STEPS}-step {shape} run did not close within {LARGE_RUN_TIMEOUT:.0f}s "
                            f"of its registration "
                            f"({error.code()}; last progress: "
                            f"{f'{last.percentage:.1f}% event {last.event_id}' if last else 'none'}); "
                            f"{meanwhile()}", pytrace=False)
            elapsed = time.monotonic() - t0
            workflow = describe(env, client, wid)
            closed = workflow.info.status != api.common.WORKFLOW_STATUS_RUNNING
            assert workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED, \
                f"the {shape} run ended {workflow.info.status}: {workflow.failure}"
            assert len(workflow.steps) == MAX_STEPS
            assert all(s.status == api.common.STEP_STATUS_COMPLETED for s in workflow.steps)
            print(f"{MAX_STEPS}-step {shape}: closed in {elapsed:.1f}s; {meanwhile()}")
        finally:
            stop.set()
            watcher.join(2 * RPC_TIMEOUT + 2)
            if not closed:  # free the server for the cases that follow
                try:
                    client.TerminateWorkflow(api.ws.TerminateWorkflowRequest(workflow_id=wid, reason="abuse test"),
                                             timeout=RPC_TIMEOUT)
                except grpc.RpcError:
                    pass
    assert not health_failures, f"the server was not healthy while the {shape} run executed: {meanwhile()}"
    assert samples and max(samples) < RSS_CEILING_KIB, \
        f"server RSS reached {max(samples) // 1024} MiB running {MAX_STEPS} {shape} steps (ceiling 1024 MiB)"
    read = lambda c: (describe(env, c, wid).info.status, len(describe(env, c, wid).steps))  # noqa: E731
    env.record(f"the {MAX_STEPS}-step {shape} run", read, (api.common.WORKFLOW_STATUS_COMPLETED, MAX_STEPS))


# ================================================================ the restart (last)

def test_restart_keeps_every_run_and_value(env):
    code = env.server.terminate()
    assert code == 0, f"server exited {code} after SIGTERM, expected 0; stderr:\n{env.stderr_tail()}"
    env.server = None
    env.server = Server(["--enable-test-service"], data_dir=env.data_dir)
    env.assert_healthy("after the restart")
    with env.channel() as ch:
        client = env.api.ws_grpc.WorkflowServiceStub(ch)
        for label, read, expected in env.records:
            try:
                actual = read(client)
            except grpc.RpcError as error:
                pytest.fail(f"{label}: unreadable after the restart: {error.code()}: {error.details()}",
                            pytrace=False)
            assert_same(actual, expected, f"{label} after the restart")
    print(f"{len(env.records)} recorded runs and values read back unchanged after the restart")
