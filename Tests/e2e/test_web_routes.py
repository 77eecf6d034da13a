"""The rest of the port: /healthz, /readyz, the web UI and its assets, 404/405/415/400 answers, and
bad input (malformed JSON, oversized bodies, path traversal), each followed by a normal call.
"""

from browser import *  # noqa: F401,F403  (fixtures and helpers)
from browser import api, examples, web  # noqa: F401  (fixtures, named for pytest)


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


# ================================================================ cross-origin pages (CORS)

@pytest.fixture(scope="module")
def cors_server():
    from conftest import Server
    s = Server(["--cors-origin", "http://app.example:3000"])
    yield s
    assert s.terminate() == 0, s.stderr()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_cors_allows_only_the_configured_origins(cors_server, http2):
    allowed, other = "http://app.example:3000", "http://evil.example"
    preflight = {"access-control-request-method": "POST",
                 "access-control-request-headers": "content-type, connect-protocol-version"}
    reply = raw(cors_server, "OPTIONS", f"{WS}/ListDefinitions", None, {"origin": allowed, **preflight}, http2=http2)
    assert reply.status == 204, (reply.status, reply.headers)
    assert reply.headers.get("access-control-allow-origin") == allowed, reply.headers
    assert "POST" in reply.headers.get("access-control-allow-methods", ""), reply.headers
    assert reply.headers.get("access-control-allow-headers") == preflight["access-control-request-headers"]

    reply = raw(cors_server, "POST", f"{WS}/ListDefinitions", b"{}",
                {"origin": allowed, "content-type": "application/json"}, http2=http2)
    assert reply.status == 200 and reply.headers.get("access-control-allow-origin") == allowed, reply.headers
    assert "grpc-status" in reply.headers.get("access-control-expose-headers", ""), reply.headers

    reply = raw(cors_server, "OPTIONS", f"{WS}/ListDefinitions", None, {"origin": other, **preflight}, http2=http2)
    assert reply.status == 403 and "--cors-origin" in reply.text(), (reply.status, reply.body)
    reply = raw(cors_server, "POST", f"{WS}/ListDefinitions", b"{}",
                {"origin": other, "content-type": "application/json"}, http2=http2)
    assert reply.status == 200 and "access-control-allow-origin" not in reply.headers, reply.headers


@pytest.mark.timeout(30)
def test_a_bad_cors_origin_is_a_clear_startup_error(tmp_path):
    import subprocess
    from conftest import baton_bin
    proc = subprocess.run([str(baton_bin()), "server", "--listen", "127.0.0.1:0", "--data", str(tmp_path),
                           "--cors-origin", "http://app.example/path"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "--cors-origin" in proc.stderr and "scheme://host" in proc.stderr, proc.stderr


@pytest.mark.timeout(30)
def test_head_requests_get_the_head_only_and_the_connection_stays_usable(web):
    conn = http.client.HTTPConnection(web.host, web.port, timeout=IO_TIMEOUT)
    try:
        conn.request("HEAD", "/app.js")
        head = conn.getresponse()
        assert head.read() == b"" and head.status == 200, head.status
        assert int(head.getheader("content-length")) > 0, head.getheaders()
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        assert health.status == 200 and health.read().strip() == b"ok"
    finally:
        conn.close()
