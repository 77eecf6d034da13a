"""Transport behaviour seen from outside: slow readers, non-gRPC requests, HTTP/1.1,
server-side deadlines, Trailers-Only errors, PING, startup and shutdown."""

import http.client
import signal
import socket
import tempfile
import subprocess
import threading
import time

import grpc
import h2.events
import h2.settings
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import RPC_TIMEOUT, Server, assert_serving, baton_bin
from rawh2 import MAX_WINDOW, RawH2, grpc_messages

MiB = 1024 * 1024
TS = "/grpc.testing.TestService"


def streaming_request(pb, sizes, interval_us=0):
    return pb.messages.StreamingOutputCallRequest(response_parameters=[
        pb.messages.ResponseParameters(size=n, interval_us=interval_us) for n in sizes]).SerializeToString()


# ---------------------------------------------------------------- slow reader

def test_slow_reader_memory_is_bounded(pb, server):
    """A client that grants a huge window and then stops reading a ~500 MB server stream
    must not make the server buffer it: RSS stays within 64 MiB of the baseline."""
    assert_serving(pb, server, "before the slow-reader test")
    baseline = server.rss_kib()
    h = RawH2(server.host, server.port, window=MAX_WINDOW, rcvbuf=256 * 1024)
    try:
        sid = h.grpc_request(f"{TS}/StreamingOutputCall", streaming_request(pb, [256 * 1024] * 2000))
        r = h.responses[sid]
        h.wait(lambda: r.headers is not None and len(r.data) > 0)
        assert r.status == 200, r.headers
        # Stop reading. Sample the server's memory while it is blocked on us.
        samples = []
        for i in range(20):
            time.sleep(0.25)
            assert server.alive(), f"server died under a slow reader; stderr:\n{server.stderr()}"
            samples.append(server.rss_kib())
            if i == 8:
                # Other calls are not held up by the stalled stream.
                assert_serving(pb, server, "while a slow reader is stalled")
        growth_mib = (max(samples) - baseline) / 1024
        print(f"slow reader: baseline {baseline} KiB, max {max(samples)} KiB, growth {growth_mib:.1f} MiB, "
              f"received {len(r.data)} bytes before stalling")
        assert growth_mib < 64, (f"server RSS grew {growth_mib:.0f} MiB over a {baseline // 1024} MiB baseline "
                                 f"with a stalled reader (samples KiB: {samples})")
    finally:
        h.close()
    time.sleep(0.5)
    assert_serving(pb, server, "after the slow reader disconnected")


# ---------------------------------------------------------------- non-gRPC traffic

def test_non_grpc_content_type_is_415(pb, server):
    h = RawH2(server.host, server.port)
    try:
        sid = h.request(f"{TS}/EmptyCall", b"{}", content_type="text/plain")
        r = h.response(sid)
        assert r.status == 415, f"expected HTTP 415, got headers {r.headers}"
        # The connection is still usable for gRPC.
        sid = h.grpc_request(f"{TS}/EmptyCall")
        r = h.response(sid)
        assert r.status == 200 and r.grpc_status == 0, (r.headers, r.trailers)
    finally:
        h.close()
    assert_serving(pb, server, "after a non-gRPC request")


def test_http1_unknown_page_gets_clear_answer(pb, server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=RPC_TIMEOUT)
    try:
        conn.request("GET", "/no/such/page", headers={"User-Agent": "baton-e2e"})
        resp = conn.getresponse()
        body = resp.read()
        # Keep-alive: the same connection serves the next request.
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        health_body = health.read()
    finally:
        conn.close()
    assert resp.status == 404, f"HTTP/1.1 GET /no/such/page answered {resp.status} {resp.reason}"
    assert b"/no/such/page" in body, f"the 404 does not name the path: {body!r}"
    assert health.status == 200 and health_body.strip() == b"ok", (health.status, health_body)
    assert_serving(pb, server, "after an HTTP/1.1 request")


def test_garbage_bytes_do_not_hurt(pb, server):
    with socket.create_connection((server.host, server.port), timeout=RPC_TIMEOUT) as s:
        s.sendall(b"\x00\xff" * 512)
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    assert_serving(pb, server, "after garbage bytes")


# ---------------------------------------------------------------- gRPC over raw HTTP/2

def test_unknown_method_is_trailers_only(server):
    h = RawH2(server.host, server.port)
    try:
        r = h.response(h.grpc_request("/no.such.Service/Method"))
        assert r.status == 200, r.headers
        assert r.headers.get("content-type", "").startswith("application/grpc"), r.headers
        assert r.grpc_status == grpc.StatusCode.UNIMPLEMENTED.value[0], (r.headers, r.trailers)
        assert r.trailers is None, f"expected Trailers-Only (status in HEADERS with END_STREAM), got {r.trailers}"
        assert not r.data
    finally:
        h.close()


def test_server_enforces_grpc_timeout(pb, server):
    """grpc-timeout is honoured by the server itself (not only by the client's clock)."""
    h = RawH2(server.host, server.port)
    try:
        req = pb.messages.StreamingOutputCallRequest(response_parameters=[
            pb.messages.ResponseParameters(size=1),
            pb.messages.ResponseParameters(size=1, interval_us=3_000_000),
            pb.messages.ResponseParameters(size=1, interval_us=3_000_000),
        ]).SerializeToString()
        t0 = time.monotonic()
        sid = h.grpc_request(f"{TS}/StreamingOutputCall", req, extra=[("grpc-timeout", "300m")])
        r = h.response(sid, timeout=8)
        elapsed = time.monotonic() - t0
        assert r.reset is None, f"stream reset (code {r.reset}) instead of a DEADLINE_EXCEEDED status"
        assert r.grpc_status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0], (r.headers, r.trailers)
        assert elapsed < 2.5, f"deadline of 300 ms reported after {elapsed:.2f}s"
        assert len(grpc_messages(bytes(r.data))) <= 1
    finally:
        h.close()


def test_an_already_expired_deadline_is_enforced_before_the_handler_runs(pb, server):
    """grpc-timeout: 1n has passed by the time the request is read: DEADLINE_EXCEEDED, no response message."""
    h = RawH2(server.host, server.port)
    try:
        req = pb.messages.SimpleRequest(response_size=5).SerializeToString()
        sid = h.grpc_request(f"{TS}/UnaryCall", req, extra=[("grpc-timeout", "1n")])
        r = h.response(sid, timeout=8)
        assert r.reset is None, f"stream reset (code {r.reset}) instead of a DEADLINE_EXCEEDED status"
        assert r.grpc_status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0], (r.headers, r.trailers)
        assert not grpc_messages(bytes(r.data)), "the handler ran and answered although the deadline had passed"
    finally:
        h.close()


def test_unsupported_grpc_encoding(server):
    h = RawH2(server.host, server.port)
    try:
        from rawh2 import grpc_frame
        sid = h.request(f"{TS}/EmptyCall", grpc_frame(b"\x01\x02\x03", compressed=True),
                        extra=[("grpc-encoding", "x-baton-unknown")])
        r = h.response(sid)
        assert r.status == 200, r.headers
        assert r.grpc_status == grpc.StatusCode.UNIMPLEMENTED.value[0], (r.headers, r.trailers)
        src = r.trailers if r.trailers is not None else r.headers
        assert "grpc-accept-encoding" in r.headers or "grpc-accept-encoding" in src, (r.headers, r.trailers)
    finally:
        h.close()


def test_ping_is_answered(server):
    h = RawH2(server.host, server.port)
    try:
        h.conn.ping(b"batonE2E")
        h.flush()
        h.wait(lambda: any(isinstance(e, h2.events.PingAckReceived) and e.ping_data == b"batonE2E"
                           for e in h.events))
    finally:
        h.close()


def test_messages_split_across_data_frames(pb, server):
    """One gRPC message sent in many small DATA frames, two messages coalesced in one."""
    from rawh2 import grpc_frame
    h = RawH2(server.host, server.port)
    try:
        msgs = [pb.messages.StreamingInputCallRequest(payload=pb.messages.Payload(body=b"\0" * n))
                .SerializeToString() for n in (1000, 7, 30000)]
        body = b"".join(grpc_frame(m) for m in msgs)
        sid = h.request(f"{TS}/StreamingInputCall", b"", end=False)
        # 3-byte pieces for the first 60 bytes (splitting the 5-byte prefix), then the rest at once.
        for i in range(0, 60, 3):
            h.conn.send_data(sid, body[i:i + 3])
            h.flush()
        rest = body[60:]
        for i in range(0, len(rest), 16384):
            h.conn.send_data(sid, rest[i:i + 16384], end_stream=(i + 16384 >= len(rest)))
        h.flush()
        r = h.response(sid)
        assert r.grpc_status == 0, (r.headers, r.trailers)
        (out,) = grpc_messages(bytes(r.data))
        assert pb.messages.StreamingInputCallResponse.FromString(out).aggregated_payload_size == 31007
    finally:
        h.close()


def test_server_settings(server):
    """The server advertises MAX_CONCURRENT_STREAMS and a max header list size."""
    from h2.settings import SettingCodes
    h = RawH2(server.host, server.port)
    try:
        h.wait(lambda: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in h.events))
        ev = next(e for e in h.events if isinstance(e, h2.events.RemoteSettingsChanged))
        changed = {k: v.new_value for k, v in ev.changed_settings.items()}
        print(f"server SETTINGS: {changed}")
        assert changed.get(SettingCodes.MAX_CONCURRENT_STREAMS, 0) >= 100, changed
        assert SettingCodes.MAX_HEADER_LIST_SIZE in changed, changed
    finally:
        h.close()


def test_oversize_header_list_is_refused(pb, server):
    """1 MiB of request headers (64 x 16 KiB) is refused, by the stream or the connection;
    the server survives. (A list a little over the advertised SETTINGS_MAX_HEADER_LIST_SIZE
    may be accepted: that setting is advisory, RFC 9113 6.5.2.)"""
    h = RawH2(server.host, server.port)
    try:
        h.wait(lambda: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in h.events))
        # h2 refuses to send beyond the peer's limit itself; lift that guard for this test.
        h.conn.remote_settings._settings[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] = [1 << 30]
        extra = [(f"x-big-{i}", "a" * 16384) for i in range(64)]
        try:
            sid = h.grpc_request(f"{TS}/EmptyCall", extra=extra)
            r = h.responses[sid]
            h.wait(lambda: r.ended, timeout=10)
            refused = r.reset is not None or r.status in (400, 431) or (r.grpc_status or 0) != 0
            assert refused, f"1 MiB of headers accepted: {r.headers} {r.trailers}"
        except ConnectionError:
            pass  # connection closed (GOAWAY / reset): acceptable
    finally:
        h.close()
    assert_serving(pb, server, "after oversize headers")


# ---------------------------------------------------------------- process lifecycle

def test_port_taken_exits_nonzero_with_message():
    binary = baton_bin()
    if not binary.is_file():
        pytest.fail(f"server binary {binary} is missing", pytrace=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run([str(binary), "server", "--listen", f"127.0.0.1:{port}",
                               "--data", tempfile.mkdtemp(prefix="baton-e2e-")],
                              capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0, f"exit 0 with port {port} taken; stdout={proc.stdout!r}"
    assert "listening on" not in proc.stdout, proc.stdout
    msg = proc.stderr.strip()
    assert msg, "no message on stderr"
    assert str(port) in msg or "in use" in msg.lower() or "address" in msg.lower(), msg


def test_test_service_off_by_default(pb):
    s = Server([])
    try:
        with grpc.insecure_channel(s.addr) as ch:
            with pytest.raises(grpc.RpcError) as exc:
                pb.test_grpc.TestServiceStub(ch).EmptyCall(pb.empty.Empty(), timeout=RPC_TIMEOUT)
            assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED
            health = health_pb2_grpc.HealthStub(ch)
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT).status == \
                health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as exc:
                health.Check(health_pb2.HealthCheckRequest(service="grpc.testing.TestService"),
                             timeout=RPC_TIMEOUT)
            assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        code = s.terminate()
    assert code == 0, f"exit {code}; stderr:\n{s.stderr()}"


def test_graceful_shutdown_drains_in_flight_call(pb):
    s = Server(["--enable-test-service"])
    try:
        idle = RawH2(s.host, s.port)
        idle.wait(lambda: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in idle.events))
        with grpc.insecure_channel(s.addr) as ch:
            req = pb.messages.StreamingOutputCallRequest(response_parameters=[
                pb.messages.ResponseParameters(size=10 + i, interval_us=400_000) for i in range(4)])
            call = pb.test_grpc.TestServiceStub(ch).StreamingOutputCall(req, timeout=RPC_TIMEOUT)
            got = [len(next(call).payload.body)]
            s.proc.send_signal(signal.SIGTERM)
            got += [len(r.payload.body) for r in call]
            assert got == [10, 11, 12, 13], f"in-flight call was not drained: got {got}, code {call.code()}"
            assert call.code() == grpc.StatusCode.OK
        # An idle connection is told to go away (GOAWAY, NO_ERROR).
        try:
            idle.wait(lambda: any(isinstance(e, h2.events.ConnectionTerminated) for e in idle.events), timeout=5)
        except ConnectionError:
            pass
        goaway = [e for e in idle.events if isinstance(e, h2.events.ConnectionTerminated)]
        assert goaway, "no GOAWAY on an idle connection during graceful shutdown"
        assert goaway[0].error_code in (0, None), goaway[0]  # None: see RawH2.pump
        idle.close()
        try:
            code = s.proc.wait(20)  # no second signal: that would force the exit
        except subprocess.TimeoutExpired:
            pytest.fail(f"server still running 20 s after SIGTERM with nothing in flight; stderr:\n{s.stderr()}")
    finally:
        s.kill()
    assert code == 0, f"exit {code} after SIGTERM; stderr:\n{s.stderr()}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_with_open_health_watch(pb, sig):
    """During shutdown health reports NOT_SERVING; an open Watch does not keep the server alive."""
    s = Server(["--enable-test-service"])
    try:
        with grpc.insecure_channel(s.addr) as ch:
            call = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(), timeout=30)
            assert next(call).status == health_pb2.HealthCheckResponse.SERVING
            t0 = time.monotonic()
            s.proc.send_signal(sig)
            statuses = []
            try:
                for r in call:
                    statuses.append(r.status)
            except grpc.RpcError:
                pass
            assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses, \
                f"Watch saw {statuses} during shutdown, expected NOT_SERVING"
            code = s.proc.wait(20)
            assert time.monotonic() - t0 < 20
    finally:
        s.kill()
    assert code == 0, f"exit {code}; stderr:\n{s.stderr()}"


def _drain_quietly(call, first=None):
    try:
        for _ in call:
            if first is not None:
                first.set()
    except grpc.RpcError:
        pass


def test_second_signal_forces_exit(pb):
    s = Server(["--enable-test-service"])
    try:
        with grpc.insecure_channel(s.addr) as ch:
            # The first message comes at once (the call is in flight on the server), the rest 5 s apart.
            req = pb.messages.StreamingOutputCallRequest(response_parameters=[
                pb.messages.ResponseParameters(size=1, interval_us=0 if i == 0 else 5_000_000) for i in range(10)])
            call = pb.test_grpc.TestServiceStub(ch).StreamingOutputCall(req, timeout=60)
            first = threading.Event()
            threading.Thread(target=_drain_quietly, args=(call, first), daemon=True).start()
            assert first.wait(30), "the streaming call's first message did not arrive within 30 s"
            s.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert s.alive(), "server exited before draining a 50 s call (expected to wait for it)"
            t0 = time.monotonic()
            s.proc.send_signal(signal.SIGTERM)
            try:
                s.proc.wait(5)
            except subprocess.TimeoutExpired:
                pytest.fail("a second SIGTERM did not force the server to exit within 5 s")
            assert time.monotonic() - t0 < 5
            call.cancel()
    finally:
        s.kill()
