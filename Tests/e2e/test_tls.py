"""TLS on the API port (`--tls-cert/--tls-key`, mutual with `--tls-client-ca`), with certificates made
by Debian's openssl CLI (certs.py): gRPC through grpcio secure channels, HTTP/1.1 and HTTP/2 (ALPN) with
Python's ssl, Connect, gRPC-Web, SSE, the health endpoints and metrics over https, cleartext refused,
wrong CAs, mutual TLS, the CLI's --tls-ca/--tls/--tls-cert/--tls-key (and BATON_TLS_*), a certificate
chain file, SIGHUP reloading the files (a bad reload keeps the old certificate), bad files and
half-configured flags at start (exit 2), and the web UI in headless Chromium over https.

Every call is bounded (RPC deadlines, socket and subprocess timeouts); waits poll with deadlines."""

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
from types import SimpleNamespace

import grpc
import pyqwest
import pytest
from baton.v1 import admin_service_pb2, admin_service_pb2_grpc, workflow_service_pb2, workflow_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

import certs
from conftest import REPO, RPC_TIMEOUT, Server, baton_bin
from conftest import serving as conftest_serving

IO_TIMEOUT = 10.0  # seconds: every socket read
CLI_TIMEOUT = 30.0
WAIT = 15.0  # seconds: every poll
LOCAL = [("grpc.use_local_subchannel_pool", 1)]  # each grpcio channel makes its own connections
CERTIFICATE_OR_TLS = re.compile(r"certificate|tls", re.I)
ECHO = """\
name: tls_echo
steps:
  a: { activity: builtin.echo, input: { n: "${input.n}" } }
output: { n: "${steps.a.output.n}" }
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return certs.make(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------- servers


def tls_args(cert, key, client_ca=None):
    args = ["--log-format", "json", "--tls-cert", str(cert), "--tls-key", str(key)]
    return args + (["--tls-client-ca", str(client_ca)] if client_ca else [])


@contextlib.contextmanager
def serving(args, command="server"):
    """A server with TLS (`url` is its https base); conftest's `serving` checks its clean exit."""
    with conftest_serving(args, command=command) as s:
        s.url = f"https://{s.host}:{s.port}"
        yield s


@pytest.fixture(scope="module")
def tls_server(pki):
    with serving(tls_args(pki.server.cert, pki.server.key)) as s:
        yield s


def starting_tls(server):
    """The `tls` field of the json `starting` line."""
    # Logged before the listening line the Server waited for: already there.
    return server.wait_log(lambda e: e.get("message") == "starting", "json 'starting' line").get("tls")


# ---------------------------------------------------------------- clients


def secure_channel(server, ca, client=None):
    creds = grpc.ssl_channel_credentials(root_certificates=ca.pem,
                                         private_key=client.key.read_bytes() if client else None,
                                         certificate_chain=client.pem if client else None)
    return grpc.secure_channel(server.addr, creds, options=LOCAL)


def server_info(channel):
    return admin_service_pb2_grpc.AdminServiceStub(channel).GetServerInfo(
        admin_service_pb2.GetServerInfoRequest(), timeout=RPC_TIMEOUT)


def list_workflows(channel):
    return workflow_service_pb2_grpc.WorkflowServiceStub(channel).ListWorkflows(
        workflow_service_pb2.ListWorkflowsRequest(page_size=5), timeout=RPC_TIMEOUT)


def grpc_refused(channel, what):
    """A call on `channel` fails UNAVAILABLE (the handshake failed, the connection closed) within the deadline."""
    with pytest.raises(grpc.RpcError) as error:
        server_info(channel)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE, f"{what}: {error.value.code()} {error.value.details()}"


def tls_context(ca, client=None, alpn=("http/1.1",)):
    context = ssl.create_default_context(cafile=str(ca.cert))  # verifies the chain and the name (IP SAN)
    if client:
        context.load_cert_chain(str(client.cert), str(client.key))
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def handshake(server, ca, alpn=(), client=None, host="127.0.0.1"):
    """A new TLS connection: the negotiated ALPN protocol, the TLS version, the peer's CN and serial."""
    with socket.create_connection((host, server.port), timeout=IO_TIMEOUT) as raw:
        with tls_context(ca, client, alpn).wrap_socket(raw, server_hostname=host) as tls:
            peer = tls.getpeercert()
            subject = dict(item for rdn in peer["subject"] for item in rdn)
            return SimpleNamespace(alpn=tls.selected_alpn_protocol(), version=tls.version(),
                                   cn=subject.get("commonName"), serial=peer["serialNumber"])


def https(server, method, path, ca, body=None, headers=None, client=None, conn=None):
    """One HTTP/1.1 request over TLS: (status, headers with lower-case names, body)."""
    own = conn is None
    conn = conn or http.client.HTTPSConnection(server.host, server.port, timeout=IO_TIMEOUT,
                                               context=tls_context(ca, client))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        if own:
            conn.close()


def connect_json(server, ca, method, body, client=None):
    status, _, data = https(server, "POST", f"/baton.v1.{method}", ca, json.dumps(body).encode(), {
        "content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": "10000"},
        client=client)
    assert status == 200, f"Connect {method}: HTTP {status}: {data[:500]!r}"
    return json.loads(data)


def cleartext_refused(server):
    """A plain HTTP/1.1 request to the TLS port gets no answer: the connection is closed (not timed out)."""
    with contextlib.closing(http.client.HTTPConnection(server.host, server.port, timeout=IO_TIMEOUT)) as conn:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            conn.request("GET", "/healthz")
            pytest.fail(f"a cleartext request to the TLS port got HTTP {conn.getresponse().status}")


def cli(*args, env=None, stdin=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    try:
        return subprocess.run([str(baton_bin()), *map(str, args)], capture_output=True, text=True, input=stdin,
                              timeout=CLI_TIMEOUT, env={**environ, **(env or {})})
    except subprocess.TimeoutExpired:
        pytest.fail(f"baton {' '.join(map(str, args))} did not exit within {CLI_TIMEOUT}s", pytrace=False)


def shown(r):
    return f"{' '.join(map(str, r.args))}: exit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}"


def cli_refused(r):
    assert r.returncode in (1, 2), shown(r)
    assert CERTIFICATE_OR_TLS.search(r.stderr), f"the error names neither the certificate nor TLS: {shown(r)}"


# ---------------------------------------------------------------- gRPC and HTTP over TLS


@pytest.mark.timeout(60)
def test_grpcio_secure_channel_works_and_an_insecure_channel_is_refused(tls_server, pki):
    with secure_channel(tls_server, pki.ca) as channel:
        assert server_info(channel).version
        list_workflows(channel)
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT)
        assert health.status == health_pb2.HealthCheckResponse.SERVING, health
    # grpcio refuses a server that does not select h2; the same offer from Python's ssl:
    assert handshake(tls_server, pki.ca, alpn=["h2"]).alpn == "h2"
    with grpc.insecure_channel(tls_server.addr, options=LOCAL) as channel:
        grpc_refused(channel, "an insecure (h2c) channel to the TLS port")
    assert tls_server.alive(), f"the server died after a cleartext client; stderr:\n{tls_server.stderr()}"
    with secure_channel(tls_server, pki.ca) as channel:
        list_workflows(channel)
    assert starting_tls(tls_server) == "on"


@pytest.mark.timeout(60)
def test_http1_and_http2_over_tls_with_alpn(tls_server, pki):
    ca = pki.ca
    for path in ("/healthz", "/readyz", "/metrics", "/"):
        status, _, body = https(tls_server, "GET", path, ca)
        assert status == 200, f"GET {path} over https: HTTP {status}: {body[:300]!r}"
    assert b"# TYPE grpc_server_handled_total" in https(tls_server, "GET", "/metrics", ca)[2]
    assert connect_json(tls_server, ca, "AdminService/GetServerInfo", {})["version"]
    assert isinstance(connect_json(tls_server, ca, "WorkflowService/ListWorkflows", {"pageSize": 5}), dict)

    # gRPC-Web: an empty GetServerInfoRequest; the body ends with the trailer frame (flag 0x80).
    status, headers, body = https(tls_server, "POST", "/baton.v1.AdminService/GetServerInfo", ca, b"\0\0\0\0\0",
                                  {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"})
    assert status == 200 and headers.get("content-type", "").startswith("application/grpc-web"), (status, headers)
    size = int.from_bytes(body[1:5], "big")
    data, trailer = body[:5 + size], body[5 + size:]
    assert data[:1] == b"\0" and trailer[:1] == b"\x80", f"expected a data frame, then the trailer frame: {body!r}"
    assert re.search(rb"grpc-status: ?0\r\n", trailer), body

    # Server-Sent Events: the live list of runs (it never ends) starts with `retry: 2000`.
    with contextlib.closing(http.client.HTTPSConnection(tls_server.host, tls_server.port, timeout=IO_TIMEOUT,
                                                        context=tls_context(ca))) as conn:
        conn.request("GET", "/v1/workflows", headers={"accept": "text/event-stream"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("content-type", "").startswith("text/event-stream")
        assert resp.readline().decode().strip() == "retry: 2000"

    # ALPN: h2 preferred when offered, HTTP/1.1 when it is all the client speaks.
    both = handshake(tls_server, ca, alpn=["h2", "http/1.1"])
    assert both.alpn == "h2" and both.version in ("TLSv1.2", "TLSv1.3"), both
    assert handshake(tls_server, ca, alpn=["http/1.1"]).alpn == "http/1.1"
    assert (both.cn, both.serial) == (pki.server.cn, pki.server.serial), both

    # HTTP/2 through ALPN (pyqwest, the HTTP client of connectrpc): /healthz and a Connect call.
    with pyqwest.SyncHTTPTransport(tls_ca_cert=ca.pem, connect_timeout=5.0, read_timeout=IO_TIMEOUT,
                                   timeout=30.0, enable_otel=False) as transport:
        client = pyqwest.SyncClient(transport)
        with client.stream("GET", f"{tls_server.url}/healthz", timeout=IO_TIMEOUT) as resp:
            assert (resp.status, resp.http_version) == (200, pyqwest.HTTPVersion.HTTP2), resp.http_version
        with client.stream("POST", f"{tls_server.url}/baton.v1.AdminService/GetServerInfo", content=b"{}",
                           headers={"content-type": "application/json"}, timeout=IO_TIMEOUT) as resp:
            body = b"".join(bytes(chunk) for chunk in resp.content)
            assert (resp.status, resp.http_version) == (200, pyqwest.HTTPVersion.HTTP2), (resp.status, body)
            assert json.loads(body)["version"], body

    cleartext_refused(tls_server)
    assert https(tls_server, "GET", "/healthz", ca)[0] == 200, "the server stopped serving after a cleartext client"


# ---------------------------------------------------------------- trust


@pytest.mark.timeout(120)
def test_wrong_ca_is_refused_and_the_cli_verifies_the_server(tls_server, pki):
    with secure_channel(tls_server, pki.other_ca) as channel:
        grpc_refused(channel, "grpcio trusting another CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_server, pki.other_ca)

    address = ["--address", tls_server.addr]
    cli_refused(cli("list", *address, "--tls-ca", pki.other_ca.cert))
    cli_refused(cli("list", *address, "--tls"))  # the system's roots do not know the test CA
    assert cli("list", *address).returncode != 0, "a cleartext CLI got an answer from the TLS port"

    trusted = [*address, "--tls-ca", pki.ca.cert]
    r = cli("def", "apply", "-", *trusted, stdin=ECHO)
    assert r.returncode == 0, shown(r)
    r = cli("execute", "tls_echo", "--id", "tls-run", "--input", '{"n": 7}', *trusted)
    assert (r.returncode, r.stdout) == (0, '{"n":7}\n'), shown(r)
    r = cli("describe", "tls-run", "--json", *trusted)
    assert r.returncode == 0, shown(r)
    assert json.loads(r.stdout)["workflow"]["info"]["status"] == "WORKFLOW_STATUS_COMPLETED", shown(r)
    r = cli("list", *trusted)
    assert r.returncode == 0 and "tls-run" in r.stdout, shown(r)
    r = cli("list", "--address", f"localhost:{tls_server.port}", "--tls-ca", pki.ca.cert)  # the DNS SAN
    assert r.returncode == 0 and "tls-run" in r.stdout, shown(r)
    r = cli("list", *address, env={"BATON_TLS_CA": str(pki.ca.cert)})
    assert r.returncode == 0 and "tls-run" in r.stdout, shown(r)

    # A server whose certificate comes from another CA: refused by a CLI trusting the test CA.
    with serving(tls_args(pki.other_server.cert, pki.other_server.key)) as other:
        cli_refused(cli("list", "--address", other.addr, "--tls-ca", pki.ca.cert))
        r = cli("list", "--address", other.addr, "--tls-ca", pki.other_ca.cert)
        assert r.returncode == 0, shown(r)


@pytest.mark.timeout(60)
def test_a_certificate_file_holding_a_chain(pki):
    """The server's file holds leaf + intermediate; clients trust only the root."""
    with serving(tls_args(pki.chained.cert, pki.chained.key)) as s:
        assert handshake(s, pki.ca, alpn=["h2", "http/1.1"]).cn == pki.chained.cn
        with secure_channel(s, pki.ca) as channel:
            list_workflows(channel)
        r = cli("list", "--address", s.addr, "--tls-ca", pki.ca.cert)
        assert r.returncode == 0, shown(r)


@pytest.mark.timeout(90)
def test_mutual_tls_requires_a_client_certificate_from_the_client_ca(pki):
    with serving(tls_args(pki.server.cert, pki.server.key, pki.client_ca.cert)) as s:
        assert starting_tls(s) == "mutual"
        with secure_channel(s, pki.ca) as channel:
            grpc_refused(channel, "grpcio without a client certificate")
        with secure_channel(s, pki.ca, client=pki.rogue_client) as channel:
            grpc_refused(channel, "grpcio with a client certificate from another CA")
        with secure_channel(s, pki.ca, client=pki.client) as channel:
            assert server_info(channel).version
            list_workflows(channel)

        with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            https(s, "GET", "/healthz", pki.ca)
        assert https(s, "GET", "/healthz", pki.ca, client=pki.client)[0] == 200
        assert connect_json(s, pki.ca, "AdminService/GetServerInfo", {}, client=pki.client)["version"]

        trusted = ["--address", s.addr, "--tls-ca", pki.ca.cert]
        assert cli("list", *trusted).returncode != 0, "the CLI got in without a client certificate"
        r = cli("list", *trusted, "--tls-cert", pki.client.cert, "--tls-key", pki.client.key)
        assert r.returncode == 0, shown(r)
        r = cli("list", "--address", s.addr, env={"BATON_TLS_CA": str(pki.ca.cert),
                                                   "BATON_TLS_CERT": str(pki.client.cert),
                                                   "BATON_TLS_KEY": str(pki.client.key)})
        assert r.returncode == 0, shown(r)
        r = cli("list", *trusted, "--tls-cert", pki.rogue_client.cert, "--tls-key", pki.rogue_client.key)
        assert r.returncode != 0, f"a client certificate from another CA got in: {shown(r)}"
        assert s.alive(), f"the server died refusing clients; stderr:\n{s.stderr()}"


# ---------------------------------------------------------------- reload


def tls_errors(server):
    return [e for e in server.log_entries() if e.get("level") == "error" and "TLS" in str(e.get("message"))]


@pytest.mark.timeout(90)
def test_sighup_reloads_the_certificate_and_keeps_it_when_the_new_files_are_bad(pki, tmp_path):
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    shutil.copyfile(pki.server.cert, cert)
    shutil.copyfile(pki.server.key, key)
    a, b = pki.server, pki.server_b
    with serving(tls_args(cert, key)) as s:
        first = handshake(s, pki.ca)
        assert (first.cn, first.serial) == (a.cn, a.serial), first
        channel = secure_channel(s, pki.ca)
        kept = http.client.HTTPSConnection(s.host, s.port, timeout=IO_TIMEOUT, context=tls_context(pki.ca))
        try:
            list_workflows(channel)
            assert https(s, "GET", "/healthz", pki.ca, conn=kept)[0] == 200
            sock = kept.sock

            shutil.copyfile(b.cert, cert)
            shutil.copyfile(b.key, key)
            since = s.stderr_line_count()
            s.proc.send_signal(signal.SIGHUP)
            s.wait_log(lambda e: "TLS certificate reloaded" in str(e.get("message")), "the reload's notice",
                       since=since)
            seen = handshake(s, pki.ca)
            assert (seen.cn, seen.serial) == (b.cn, b.serial), seen
            assert handshake(s, pki.ca, alpn=["h2", "http/1.1"]).alpn == "h2"
            # Connections made before stay open, with the certificate they had, and keep working.
            assert https(s, "GET", "/healthz", pki.ca, conn=kept)[0] == 200
            assert kept.sock is sock, "the keep-alive connection was closed by the reload"
            peer = dict(item for rdn in sock.getpeercert()["subject"] for item in rdn)
            assert peer["commonName"] == a.cn
            list_workflows(channel)

            # A key file that is not a key: an error line naming TLS, certificate B stays.
            since = s.stderr_line_count()
            key.write_text("this is not a private key\n")
            s.proc.send_signal(signal.SIGHUP)
            failed = s.wait_log(lambda e: e.get("level") == "error" and "TLS" in str(e.get("message")),
                               "error line naming TLS after a bad reload", since=since)
            assert failed in tls_errors(s), failed
            assert s.alive(), f"a bad reload stopped the server; stderr:\n{s.stderr()}"
            again = handshake(s, pki.ca)
            assert (again.cn, again.serial) == (b.cn, b.serial), again
            with secure_channel(s, pki.ca) as fresh:
                list_workflows(fresh)
            list_workflows(channel)
            assert https(s, "GET", "/healthz", pki.ca, conn=kept)[0] == 200
        finally:
            kept.close()
            channel.close()


# ---------------------------------------------------------------- bad configuration


def refuses_to_start(tmp_path, args, command="server"):
    """Starts the server with `args`, which must fail: exit 2 (within CLI_TIMEOUT); returns stderr."""
    cmd = [str(baton_bin()), command, "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"), *map(str, args)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(cmd)} kept running: it should have refused to start", pytrace=False)
    assert r.returncode == 2, shown(r)
    return r.stderr


BAD_FILES = {
    # case: (args from (pki, tmp_path), flags of which one must be named, paths of which one must be named)
    "missing-cert": lambda p, t: ([t / "nope.pem", p.server.key], ["--tls-cert"], [t / "nope.pem"]),
    "missing-key": lambda p, t: ([p.server.cert, t / "nope.key"], ["--tls-key"], [t / "nope.key"]),
    "cert-not-pem": lambda p, t: ([t / "junk.pem", p.server.key], ["--tls-cert"], [t / "junk.pem"]),
    "key-not-pem": lambda p, t: ([p.server.cert, t / "junk.pem"], ["--tls-key"], [t / "junk.pem"]),
    "key-of-another-cert": lambda p, t: ([p.server.cert, p.other_server.key], ["--tls-key", "--tls-cert"],
                                         [p.other_server.key, p.server.cert]),
    "missing-client-ca": lambda p, t: ([p.server.cert, p.server.key, t / "nope-ca.pem"], ["--tls-client-ca"],
                                       [t / "nope-ca.pem"]),
    "client-ca-not-pem": lambda p, t: ([p.server.cert, p.server.key, t / "junk.pem"], ["--tls-client-ca"],
                                       [t / "junk.pem"]),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_at_start_exit_2_naming_the_flag_and_the_file(pki, tmp_path, case):
    (tmp_path / "junk.pem").write_text("not PEM at all\n")
    files, flags, paths = BAD_FILES[case](pki, tmp_path)
    err = refuses_to_start(tmp_path, tls_args(*files))
    assert any(flag in err for flag in flags), f"stderr names none of {flags}:\n{err}"
    assert any(str(path) in err for path in paths), f"stderr names none of {paths}:\n{err}"


HALF_CONFIGURED = {
    # case: (command, flags given, flags that the message must name)
    "key-without-cert": ("server", ["--tls-key"], ["--tls-cert"]),
    "cert-without-key": ("server", ["--tls-cert"], ["--tls-key"]),
    "client-ca-alone": ("server", ["--tls-client-ca"], ["--tls-client-ca"]),
    "client-ca-without-key": ("server", ["--tls-cert", "--tls-client-ca"], ["--tls-key"]),
    "dev-key-without-cert": ("dev", ["--tls-key"], ["--tls-cert"]),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(HALF_CONFIGURED))
def test_half_configured_tls_flags_exit_2(pki, tmp_path, case):
    command, given, named = HALF_CONFIGURED[case]
    files = {"--tls-cert": pki.server.cert, "--tls-key": pki.server.key, "--tls-client-ca": pki.client_ca.cert}
    err = refuses_to_start(tmp_path, [x for flag in given for x in (flag, files[flag])], command=command)
    assert all(flag in err for flag in named), f"stderr does not name {named}:\n{err}"


# ---------------------------------------------------------------- the browser


@pytest.mark.timeout(180)
def test_the_web_ui_over_https_in_chromium(pki, tmp_path):
    from test_web_ui import CHROMEDRIVER, CHROMIUM, WAIT as UI_WAIT, Page, webdriver
    if webdriver is None:
        pytest.fail("selenium is not installed (pip install selenium, or apt-get install python3-selenium)",
                    pytrace=False)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                     f"--user-data-dir={tmp_path / 'chromium'}",
                     # Trust exactly this server certificate (its public key), nothing else.
                     f"--ignore-certificate-errors-spki-list={certs.spki_sha256(pki.server.cert)}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    args = ["--examples", str(REPO / "examples"), *tls_args(pki.server.cert, pki.server.key)]
    with serving(args, command="dev") as s:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.set_page_load_timeout(UI_WAIT)
            driver.set_script_timeout(UI_WAIT)
            page = Page(driver, s).load("#/workflows")
            assert driver.execute_script("return location.protocol") == "https:"
            assert driver.execute_script("return window.isSecureContext") is True
            nav = {link.text for link in page.finds("nav[aria-label=Main] a")}
            assert nav == {"Workflows", "Definitions", "Circuit breakers"}, nav
            page.wait(lambda d: page.attr("#server-info", "data-version"), "the server's version (a Connect call)")
            page.present("#workflows-table")
            page.go("#/definitions")
            page.present("#definitions-table tr[data-definition=marketing_campaign] a",
                         "marketing_campaign in the definitions list")
            page.shot("tls-definitions")
        finally:
            driver.quit()
