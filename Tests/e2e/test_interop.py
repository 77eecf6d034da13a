"""gRPC interop test cases, driven by the official Python client (grpcio).

Follows grpc/doc/interop-test-descriptions.md: same sizes, metadata keys and
status strings.
"""

import threading

import grpc
import pytest

from conftest import RPC_TIMEOUT, assert_serving

INITIAL_KEY, INITIAL_VALUE = "x-grpc-test-echo-initial", "test_initial_metadata_value"
TRAILING_KEY, TRAILING_VALUE = "x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"


def zeros(n):
    return b"\0" * n


def payload(pb, n):
    return pb.messages.Payload(body=zeros(n))


def test_empty_unary(pb, stub):
    resp = stub.EmptyCall(pb.empty.Empty(), timeout=RPC_TIMEOUT)
    assert isinstance(resp, pb.empty.Empty)
    assert resp.ByteSize() == 0


def test_large_unary(pb, stub):
    req = pb.messages.SimpleRequest(response_size=314159, payload=payload(pb, 271828))
    resp = stub.UnaryCall(req, timeout=RPC_TIMEOUT)
    assert len(resp.payload.body) == 314159
    assert resp.payload.body == zeros(314159)


def test_client_streaming(pb, stub):
    sizes = [27182, 8, 1828, 45904]
    reqs = (pb.messages.StreamingInputCallRequest(payload=payload(pb, n)) for n in sizes)
    resp = stub.StreamingInputCall(reqs, timeout=RPC_TIMEOUT)
    assert resp.aggregated_payload_size == 74922


def test_server_streaming(pb, stub):
    sizes = [31415, 9, 2653, 58979]
    req = pb.messages.StreamingOutputCallRequest(
        response_parameters=[pb.messages.ResponseParameters(size=n) for n in sizes])
    call = stub.StreamingOutputCall(req, timeout=RPC_TIMEOUT)
    got = [r.payload.body for r in call]
    assert [len(b) for b in got] == sizes
    assert all(b == zeros(len(b)) for b in got)
    assert call.code() == grpc.StatusCode.OK


class Pipe:
    """A request iterator fed one message at a time (for ping-pong style calls)."""

    _END = object()

    def __init__(self):
        self._cond = threading.Condition()
        self._items = []

    def send(self, item):
        with self._cond:
            self._items.append(item)
            self._cond.notify()

    def close(self):
        self.send(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        with self._cond:
            if not self._cond.wait_for(lambda: self._items, timeout=RPC_TIMEOUT):
                raise StopIteration
            item = self._items.pop(0)
        if item is self._END:
            raise StopIteration
        return item


def test_ping_pong(pb, stub):
    pairs = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, timeout=RPC_TIMEOUT)
    for resp_size, req_size in pairs:
        pipe.send(pb.messages.StreamingOutputCallRequest(
            response_parameters=[pb.messages.ResponseParameters(size=resp_size)],
            payload=payload(pb, req_size)))
        resp = next(call)
        assert len(resp.payload.body) == resp_size
    pipe.close()
    with pytest.raises(StopIteration):
        next(call)
    assert call.code() == grpc.StatusCode.OK


def test_empty_stream(pb, stub):
    call = stub.FullDuplexCall(iter(()), timeout=RPC_TIMEOUT)
    assert list(call) == []
    assert call.code() == grpc.StatusCode.OK


def _echo_metadata():
    return ((INITIAL_KEY, INITIAL_VALUE), (TRAILING_KEY, TRAILING_VALUE))


def _check_echoed(initial, trailing):
    assert (INITIAL_KEY, INITIAL_VALUE) in tuple(initial), f"initial metadata: {initial}"
    assert (TRAILING_KEY, TRAILING_VALUE) in tuple(trailing), f"trailing metadata: {trailing}"


def test_custom_metadata_unary(pb, stub):
    req = pb.messages.SimpleRequest(response_size=314159, payload=payload(pb, 271828))
    resp, call = stub.UnaryCall.with_call(req, metadata=_echo_metadata(), timeout=RPC_TIMEOUT)
    assert len(resp.payload.body) == 314159
    _check_echoed(call.initial_metadata(), call.trailing_metadata())


def test_custom_metadata_full_duplex(pb, stub):
    req = pb.messages.StreamingOutputCallRequest(
        response_parameters=[pb.messages.ResponseParameters(size=314159)], payload=payload(pb, 271828))
    call = stub.FullDuplexCall(iter([req]), metadata=_echo_metadata(), timeout=RPC_TIMEOUT)
    got = [len(r.payload.body) for r in call]
    assert got == [314159]
    assert call.code() == grpc.StatusCode.OK
    _check_echoed(call.initial_metadata(), call.trailing_metadata())


def test_status_code_and_message_unary(pb, stub):
    req = pb.messages.SimpleRequest(
        response_status=pb.messages.EchoStatus(code=2, message="test status message"))
    with pytest.raises(grpc.RpcError) as exc:
        stub.UnaryCall(req, timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.UNKNOWN
    assert exc.value.details() == "test status message"


def test_status_code_and_message_full_duplex(pb, stub):
    req = pb.messages.StreamingOutputCallRequest(
        response_status=pb.messages.EchoStatus(code=2, message="test status message"))
    call = stub.FullDuplexCall(iter([req]), timeout=RPC_TIMEOUT)
    with pytest.raises(grpc.RpcError) as exc:
        list(call)
    assert exc.value.code() == grpc.StatusCode.UNKNOWN
    assert exc.value.details() == "test status message"


def test_special_status_message(pb, stub):
    req = pb.messages.SimpleRequest(
        response_status=pb.messages.EchoStatus(code=2, message=SPECIAL_MESSAGE))
    with pytest.raises(grpc.RpcError) as exc:
        stub.UnaryCall(req, timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.UNKNOWN
    assert exc.value.details() == SPECIAL_MESSAGE


def test_unimplemented_method(pb, stub):
    with pytest.raises(grpc.RpcError) as exc:
        stub.UnimplementedCall(pb.empty.Empty(), timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_unimplemented_service(pb, channel):
    stub = pb.test_grpc.UnimplementedServiceStub(channel)
    with pytest.raises(grpc.RpcError) as exc:
        stub.UnimplementedCall(pb.empty.Empty(), timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_unknown_method_path(channel):
    call = channel.unary_unary("/grpc.testing.TestService/NoSuchMethod",
                               request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as exc:
        call(b"", timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_cancel_after_begin(pb, stub):
    pipe = Pipe()  # never sends anything
    future = stub.StreamingInputCall.future(pipe, timeout=RPC_TIMEOUT)
    future.cancel()
    pipe.close()
    with pytest.raises(grpc.FutureCancelledError):
        future.result(timeout=RPC_TIMEOUT)
    assert future.cancelled()
    assert future.code() == grpc.StatusCode.CANCELLED


def test_cancel_after_first_response(pb, stub, server):
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, timeout=RPC_TIMEOUT)
    pipe.send(pb.messages.StreamingOutputCallRequest(
        response_parameters=[pb.messages.ResponseParameters(size=31415)], payload=payload(pb, 27182)))
    resp = next(call)
    assert len(resp.payload.body) == 31415
    call.cancel()
    with pytest.raises(grpc.RpcError) as exc:
        next(call)
    assert exc.value.code() == grpc.StatusCode.CANCELLED
    pipe.close()
    assert_serving(pb, server, "after a cancelled call")


def test_timeout_on_sleeping_server(pb, stub, server):
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, timeout=0.001)
    pipe.send(pb.messages.StreamingOutputCallRequest(payload=payload(pb, 27182)))
    with pytest.raises(grpc.RpcError) as exc:
        next(call)
    assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    pipe.close()
    assert_serving(pb, server, "after a deadline")


def test_half_duplex(pb, stub):
    sizes = [31415, 9, 2653, 58979]
    reqs = [pb.messages.StreamingOutputCallRequest(
        response_parameters=[pb.messages.ResponseParameters(size=n)]) for n in sizes]
    call = stub.HalfDuplexCall(iter(reqs), timeout=RPC_TIMEOUT)
    assert [len(r.payload.body) for r in call] == sizes
    assert call.code() == grpc.StatusCode.OK


def test_concurrent_unary_calls(pb, stub):
    """Many calls multiplexed on one connection all complete."""
    futures = [stub.UnaryCall.future(pb.messages.SimpleRequest(response_size=i * 100), timeout=RPC_TIMEOUT)
               for i in range(64)]
    for i, f in enumerate(futures):
        assert len(f.result().payload.body) == i * 100


def test_oversize_request_is_rejected(pb, stub, server):
    """A request over the 4 MiB receive limit gets RESOURCE_EXHAUSTED; the server keeps serving."""
    req = pb.messages.SimpleRequest(response_size=1, payload=payload(pb, 4 * 1024 * 1024 + 1024))
    with pytest.raises(grpc.RpcError) as exc:
        stub.UnaryCall(req, timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Same connection still works, and so does a new one.
    assert len(stub.UnaryCall(pb.messages.SimpleRequest(response_size=3), timeout=RPC_TIMEOUT).payload.body) == 3
    assert_serving(pb, server, "after an oversize request")


def test_request_just_under_limit_is_accepted(pb, stub):
    """A message just under 4 MiB (including protobuf overhead) is accepted."""
    req = pb.messages.SimpleRequest(response_size=1, payload=payload(pb, 4 * 1024 * 1024 - 64))
    assert req.ByteSize() <= 4 * 1024 * 1024
    assert len(stub.UnaryCall(req, timeout=RPC_TIMEOUT).payload.body) == 1


def test_full_duplex_large_volume(pb, stub):
    """Flow control both ways: 48 requests of 512 KiB, each answered by 512 KiB, interleaved."""
    n, size = 48, 512 * 1024
    pipe = Pipe()
    call = stub.FullDuplexCall(pipe, timeout=RPC_TIMEOUT * 3)
    for _ in range(8):  # keep a few in flight ahead of the reads
        pipe.send(pb.messages.StreamingOutputCallRequest(
            response_parameters=[pb.messages.ResponseParameters(size=size)], payload=payload(pb, size)))
    got = 0
    for i in range(n):
        if i + 8 < n:
            pipe.send(pb.messages.StreamingOutputCallRequest(
                response_parameters=[pb.messages.ResponseParameters(size=size)], payload=payload(pb, size)))
        got += len(next(call).payload.body)
    pipe.close()
    assert list(call) == []
    assert got == n * size
    assert call.code() == grpc.StatusCode.OK


def test_client_streaming_large_volume(pb, stub):
    sizes = [1024 * 1024] * 64 + [1]
    reqs = (pb.messages.StreamingInputCallRequest(payload=payload(pb, n)) for n in sizes)
    resp = stub.StreamingInputCall(reqs, timeout=RPC_TIMEOUT * 3)
    assert resp.aggregated_payload_size == sum(sizes)


def test_many_connections(pb, server):
    """32 separate connections, each with a few concurrent calls."""
    chans = [grpc.insecure_channel(server.addr, options=[("grpc.use_local_subchannel_pool", 1)])
             for _ in range(32)]
    try:
        futs = [pb.test_grpc.TestServiceStub(ch).UnaryCall.future(
            pb.messages.SimpleRequest(response_size=j), timeout=RPC_TIMEOUT)
            for ch in chans for j in range(4)]
        assert [len(f.result().payload.body) for f in futs] == [j for _ in chans for j in range(4)]
    finally:
        for ch in chans:
            ch.close()
