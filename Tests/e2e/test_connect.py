"""Connect on the gRPC port: the official Python client (connectrpc, generated stubs) for every RPC in
JSON and proto over HTTP/1.1 and HTTP/2, its gRPC-Web mode, gzip requests, and the wire format.
"""

from browser import *  # noqa: F401,F403  (fixtures and helpers)
from browser import api, examples, web  # noqa: F401  (fixtures, named for pytest)


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
        # The progress query answers StreamProgress's message, in its JSON mapping.
        assert plain(progress.result)["runningSteps"] == ["approve"], progress
        assert plain(progress.result)["waitingForSignals"] == {"approve": "approve"}, progress
        described = ws.describe_workflow(api.ws.DescribeWorkflowRequest(workflow_id=wid), use_get=use_get)
        info = described.workflow.info
        assert (info.workflow_id, info.status) == (wid, api.common.WORKFLOW_STATUS_RUNNING), described
        assert plain(described.workflow.input) == {"item": "lamp"}, described
        assert [s.name for s in described.workflow.steps] == ["prepare", "approve"], described
        runs = ws.list_workflows(api.ws.ListWorkflowsRequest(definition=name), use_get=use_get)
        assert [w.workflow_id for w in runs.workflows] == [wid], runs
    # AwaitWorkflow: an open run is DEADLINE_EXCEEDED at the call's deadline (connect-timeout-ms).
    with pytest.raises(ConnectError) as error:
        ws.await_workflow(api.ws.AwaitWorkflowRequest(workflow_id=wid), timeout_ms=300)
    assert error.value.code == Code.DEADLINE_EXCEEDED, error.value
    signal = ws.signal(api.ws.SignalRequest(workflow_id=wid, name="approve", payload=value({"ok": True}),
                                            request_id="once"))
    assert signal.accepted is True, signal
    # ...and answers with the closed run once the signal let it finish.
    awaited = ws.await_workflow(api.ws.AwaitWorkflowRequest(workflow_id=wid, run_id=reply.run_id), timeout_ms=RPC_MS)
    assert awaited.workflow.info.status == api.common.WORKFLOW_STATUS_COMPLETED, awaited
    assert plain(awaited.workflow.output) == {"approved": True, "item": "lamp"}, awaited
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
