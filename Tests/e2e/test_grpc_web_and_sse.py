"""gRPC-Web framing byte for byte (PROTOCOL-WEB.md), Server-Sent Events (resume without gaps or
repeats, the live list), and curl against the same server.
"""

from browser import *  # noqa: F401,F403  (fixtures and helpers)
from browser import api, examples, web  # noqa: F401  (fixtures, named for pytest)


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
