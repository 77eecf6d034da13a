"""The web UI against a server with `--auth-file`: headless Chromium (selenium, the `browser` fixture
and the `Page` helpers of test_web_ui.py) and a `baton server` of this module's own whose auth file
holds a reader and an operator token.

Covers: (a) without a token the UI opens the sign-in form with the server's 401 message and shows no
run data; (b) signed in with the reader token, the run list is live (a run started over grpcio with
the operator token appears without a reload), the footer does without the admin-only server details,
a run's page follows its progress live to the end, the run's progress route of the Server-Sent
Events (`/v1/workflows/{id}/progress`) is followed through baton.js with a stream ticket, and the
start form shows the server's 403 message; (c) signed in with the operator token, a run is started
(and signalled) from the UI; (d) the token stays in sessionStorage across a reload, and signing out
clears it and the prompt returns; (e) the token never appears in any URL the browser requested (the
event streams carry `ticket=` instead), nor in localStorage or the server's log.

The run page itself streams over Connect (fetch, with the authorization header); the event streams
(the run list, circuit breakers) are EventSources and need a ticket.

Every wait is bounded (WebDriverWait through Page.wait, RPC deadlines); nothing sleeps.
"""

import hashlib
import json
import secrets
import time
from types import SimpleNamespace
from urllib.parse import unquote, urlparse

import grpc
import pytest
from baton.v1 import workflow_service_pb2 as ws
from google.protobuf import duration_pb2
from baton.v1 import workflow_service_pb2_grpc

from conftest import RPC_TIMEOUT, Server
from test_web_ui import WAIT, Page, browser  # noqa: F401  (browser: the module-scoped Chromium fixture)

try:
    from selenium.webdriver.support.ui import Select
except ImportError:  # the `browser` fixture reports what to install
    Select = None

ROLES = ("reader", "operator")
TOKEN_KEY = "baton.token"
# A run that waits for the signal `go` between two echo steps.
GATED = """\
name: NAME
steps:
  prepare: { activity: builtin.echo, input: { n: 1 } }
  gate:
    depends_on: [prepare]
    wait_for_signal: { name: go, timeout: 1h, on_timeout: fail }
  done: { activity: builtin.echo, depends_on: [gate], input: { ok: 1 } }
output: { done: "${steps.done.output.ok}" }
"""


def unique(prefix):
    return f"{prefix}-{int(time.time() * 1000)}-{secrets.token_hex(3)}"


def bearer(token):
    return [("authorization", f"Bearer {token}")]


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    """A server with an auth file of a reader and an operator token, a gated definition registered
    and one run of it open (started with the operator token)."""
    tokens = {role: f"ui-{role}-{secrets.token_hex(16)}" for role in ROLES}
    lines = ["# made by test_web_ui_auth.py", "tokens:"]
    for role, token in tokens.items():
        lines += [f"  - name: ui-{role}", f"    sha256: {hashlib.sha256(token.encode()).hexdigest()}", f"    role: {role}"]
    path = tmp_path_factory.mktemp("ui-auth") / "auth.yaml"
    path.write_text("\n".join(lines) + "\n")
    server = Server(["--log-format", "json", "--auth-file", str(path)])
    channel = grpc.insecure_channel(server.addr)
    try:
        stub = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
        definition = f"ui_gated_{secrets.token_hex(4)}"
        stub.RegisterDefinition(ws.RegisterDefinitionRequest(source=GATED.replace("NAME", definition)),
                                timeout=RPC_TIMEOUT, metadata=bearer(tokens["operator"]))
        open_run = unique("ui-auth-open")
        stub.StartWorkflow(ws.StartWorkflowRequest(definition=definition, workflow_id=open_run),
                           timeout=RPC_TIMEOUT, metadata=bearer(tokens["operator"]))
        yield SimpleNamespace(server=server, stub=stub, tokens=tokens, definition=definition, open_run=open_run)
    finally:
        channel.close()
        alive, code = server.alive(), server.terminate()
    assert alive and code == 0, f"server alive={alive}, exit {code} after SIGTERM; stderr:\n{server.stderr()[-4000:]}"
    log = server.stderr()
    for role, token in tokens.items():
        assert token not in log, f"the {role} token appears in the server's log"


def start_run(auth, workflow_id):
    """Starts a gated run over grpcio with the operator token."""
    reply = auth.stub.StartWorkflow(ws.StartWorkflowRequest(definition=auth.definition, workflow_id=workflow_id),
                                    timeout=RPC_TIMEOUT, metadata=bearer(auth.tokens["operator"]))
    assert reply.workflow_id == workflow_id, reply


def signal_go(auth, workflow_id):
    auth.stub.Signal(ws.SignalRequest(workflow_id=workflow_id, name="go"), timeout=RPC_TIMEOUT,
                     metadata=bearer(auth.tokens["operator"]))


def wait_gate_started(auth, workflow_id, timeout=30.0):
    """Waits (GetHistory's long poll) until the run's `gate` step waits for its signal."""
    deadline = time.monotonic() + timeout
    token = ""
    while time.monotonic() < deadline:
        page = auth.stub.GetHistory(ws.GetHistoryRequest(workflow_id=workflow_id, page_token=token,
                                                         wait=duration_pb2.Duration(seconds=5)),
                                    timeout=RPC_TIMEOUT, metadata=bearer(auth.tokens["reader"]))
        if any(e.type == "StepStarted" and e.step_started.step == "gate" for e in page.events):
            return
        token = page.next_page_token
        if not token:
            break
    pytest.fail(f"{workflow_id}: the gate step did not start within {timeout}s", pytrace=False)


# ---------------------------------------------------------------- the browser


class AuthPage(Page):
    """Page, remembering every URL the browser asked for (any host) with its resource type."""

    def __init__(self, driver, server):
        super().__init__(driver, server)
        self.urls = []  # (resource type, full URL), in order

    def requests(self):
        seen = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            params = message["params"]
            url = params["request"]["url"]
            self.urls.append((params.get("type", ""), url))
            parsed = urlparse(url)
            if parsed.netloc == self.host:
                seen.append((params["request"]["method"], parsed.path + (f"?{parsed.query}" if parsed.query else "")))
        self.history.extend(seen)
        return seen

    def reload(self):
        """Reloads the document (a `load` of the same address would only change the fragment)."""
        self.mark()
        self.driver.refresh()
        self.wait(lambda d: not self.still_marked() and d.execute_script("return !!document.querySelector('main h1')"),
                  "the reloaded page's heading")
        return self

    def session_token(self):
        return self.driver.execute_script("return sessionStorage.getItem(arguments[0])", TOKEN_KEY)

    def prompt_shown(self):
        return self.driver.execute_script(
            "const f = document.getElementById('sign-in-form'); return !!f && !f.hidden && f.offsetParent !== null")

    def body_text(self):
        return self.driver.execute_script("return document.body.textContent")

    def sign_in(self, token):
        """Types `token` into the top bar's sign-in form (opening it first if needed) and submits."""
        if not self.prompt_shown():
            self.click("#sign-in-toggle", "the Sign in button")
        self.wait(lambda d: self.prompt_shown(), "the sign-in form")
        field = self.find("#sign-in-token")
        assert field.get_attribute("type") == "password", "the token field is a password input"
        assert not field.get_attribute("name"), "the token field has no name (a submit could not put it in a URL)"
        field.clear()
        field.send_keys(token)
        self.find("#sign-in-submit").click()
        self.wait(lambda d: self.attr("#auth", "data-state") == "signed-in", "the signed-in state")
        assert not self.prompt_shown(), "the form closed after signing in"

    def secrets_in_urls(self, tokens):
        """Every URL (requested, in the resource timing entries, or the address) holding a token."""
        self.requests()
        entries = self.driver.execute_script(
            "return [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]")
        urls = [url for _, url in self.urls] + entries
        return [url for url in urls for token in tokens if token in url or token in unquote(url)]


@pytest.fixture
def page(browser, auth):  # noqa: F811  (the imported fixture)
    """The browser on this module's server, with an empty sessionStorage and a drained network log.
    Afterwards: no token in any URL the test made the browser ask for."""
    browser.set_window_size(1280, 900)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    p = AuthPage(browser, auth.server)
    browser.get(f"{auth.server.url}/healthz")  # this origin, without starting the UI
    browser.execute_script("sessionStorage.clear()")
    p.requests()
    p.urls.clear()
    p.history.clear()
    yield p
    leaked = p.secrets_in_urls(auth.tokens.values())
    assert not leaked, f"a token appears in a URL: {leaked}"


# ---------------------------------------------------------------- (a) no token


@pytest.mark.timeout(120)
def test_without_a_token_the_ui_asks_for_one_and_shows_no_runs(page, auth):
    page.load("#/workflows")
    page.wait(lambda d: page.prompt_shown(), "the sign-in form after a 401")
    page.wait(lambda d: "Bearer" in (page.text("#sign-in-message") or ""), "the server's message in the form")
    assert page.attr("#sign-in-message", "role") == "alert"
    assert "no credentials" in page.text("#sign-in-message"), page.text("#sign-in-message")
    assert page.attr("#auth", "data-state") == "signed-out"
    page.wait(lambda d: "unauthenticated" in (page.text("#workflows-error") or ""), "the list's error")
    page.wait(lambda d: page.attr("#live-status", "data-state") == "closed", "the live list refused")
    page.wait(lambda d: page.attr("#server-info", "data-info") == "unauthenticated", "the footer without server details")
    assert page.text("#server-info") == "Baton"
    assert page.finds("#workflows-body tr") == [], "runs listed without a token"
    assert auth.open_run not in page.body_text(), "the open run's id is on the page"
    assert page.session_token() is None
    assert page.driver.execute_script("return document.activeElement.id") == "sign-in-token", "focus goes to the token field"
    page.shot("auth-prompt")

    # A run's page shows nothing of the run either.
    page.go(f"#/workflows/{auth.open_run}")
    page.wait(lambda d: "unauthenticated" in (page.text("#workflow-error") or ""), "the run page's error")
    assert not page.finds("#progress-bar"), "a progress bar without a token"
    assert page.prompt_shown()

    # No event stream was opened: the ticket was refused first.
    page.requests()
    assert not [url for _, url in page.urls if urlparse(url).path.startswith("/v1/")], page.urls


# ---------------------------------------------------------------- (b) reader


@pytest.mark.timeout(180)
def test_a_reader_sees_runs_live_but_may_not_start_one(page, auth):
    page.load("#/workflows")
    page.wait(lambda d: page.prompt_shown(), "the sign-in form")
    page.sign_in(auth.tokens["reader"])
    assert page.session_token() == auth.tokens["reader"]
    assert page.driver.execute_script("return JSON.stringify({...localStorage})").find(auth.tokens["reader"]) < 0, \
        "the token is in localStorage"
    page.present(f"#workflows-body tr[data-workflow-id='{auth.open_run}']", "the open run listed")
    page.wait(lambda d: page.attr("#live-status", "data-state") == "live", "the live list stream")
    assert page.text("#workflows-error") == ""

    # GetServerInfo is admin-only: the footer does without it, and no prompt appears for a 403.
    page.wait(lambda d: page.attr("#server-info", "data-info") == "permission_denied", "the footer without server details")
    assert page.text("#server-info") == "Baton"
    assert not page.prompt_shown(), "a 403 opened the sign-in form"

    # Live: a run started elsewhere (grpcio, the operator token) appears without a reload or re-read.
    page.mark()
    page.requests()
    workflow_id = unique("ui-auth-live")
    start_run(auth, workflow_id)
    row = f"#workflows-body tr[data-workflow-id='{workflow_id}']"
    page.present(row, "the new run in the list")
    page.wait(lambda d: page.attr(row, "data-status") == "running", "the run shown running")
    assert page.still_marked(), "the page reloaded"
    assert not [r for r in page.requests() if "ListWorkflows" in r[1]], "the list was re-read instead of pushed"
    streams = [url for kind, url in page.urls if urlparse(url).path == "/v1/workflows"]
    assert streams and all("ticket=" in url for url in streams), f"list streams without a ticket: {streams}"
    page.shot("auth-reader-workflows")

    # The run's page follows its progress live, up to the end after the signal.
    page.click(f"{row} a", "the run's link")
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "running", "the run's page")
    wait_gate_started(auth, workflow_id)
    page.wait(lambda d: "gate" in (page.text("#progress-running") or ""), "the gate step shown running")
    waiting_at = int(page.attr("#progress-bar", "aria-valuenow") or 0)
    assert 0 < waiting_at < 100, waiting_at

    # The same run's progress through the SSE route, opened by baton.js with the page's token: a ticket.
    page.driver.execute_script("""
        const [id, key] = arguments;
        window.__sse = { events: [], errors: [], opened: false, url: null, ticketed: null };
        import('/baton.js').then(({ BatonClient }) => {
          const client = new BatonClient('', { token: sessionStorage.getItem(key) });
          const sub = client.subscribeEvents(`/v1/workflows/${encodeURIComponent(id)}/progress`, (type, data) => {
            window.__sse.events.push({ type, status: data && data.status, percentage: data && data.percentage });
          }, {
            types: ['progress'],
            onOpen: () => { Object.assign(window.__sse, { opened: true, url: sub.source.url, ticketed: sub.ticketed }); },
            onError: (event, readyState) => window.__sse.errors.push(readyState),
          });
        }, (error) => { window.__sse.errors.push(String(error)); });
    """, workflow_id, TOKEN_KEY)
    page.wait(lambda d: d.execute_script("return window.__sse.opened"), "the SSE progress stream open")
    sse = page.driver.execute_script("return window.__sse")
    assert sse["ticketed"] is True and "ticket=" in sse["url"], sse
    assert auth.tokens["reader"] not in sse["url"], sse
    page.wait(lambda d: d.execute_script("return window.__sse.events.some((e) => e.type === 'progress')"),
              "a progress event over SSE")

    page.mark()
    signal_go(auth, workflow_id)
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "completed", "the run completed on its page")
    page.wait(lambda d: page.attr("#progress-bar", "aria-valuenow") == "100", "100%")
    page.present("#history-list li[data-type=WorkflowCompleted]", "WorkflowCompleted in the history")
    assert page.still_marked(), "the run page reloaded"
    page.wait(lambda d: d.execute_script(
        "return window.__sse.events.some((e) => e.type === 'end')"
        " && window.__sse.events.some((e) => e.status === 'WORKFLOW_STATUS_COMPLETED')"), "the SSE stream's end")
    assert page.driver.execute_script("return window.__sse.errors") == []
    page.shot("auth-reader-run")

    # The start form: StartWorkflow is refused (403) and the form says why.
    page.go(f"#/definitions/{auth.definition}")
    page.wait(lambda d: "wait_for_signal" in (page.text("#definition-source") or ""), "the definition's source")
    refused_id = unique("ui-auth-refused")
    page.find("#start-workflow-id").send_keys(refused_id)
    page.find("#start-submit").click()
    error = page.wait(lambda d: (page.text("#start-error") and page.find("#start-error")), "the refusal on the start form")
    assert "permission_denied" in error.text and "role reader" in error.text, error.text
    assert error.is_displayed() and error.get_attribute("role") == "alert"
    assert page.driver.execute_script("return location.hash") == f"#/definitions/{auth.definition}"
    assert not page.prompt_shown(), "a 403 opened the sign-in form"
    assert page.attr("#auth", "data-state") == "signed-in"
    with pytest.raises(grpc.RpcError) as missing:
        auth.stub.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id=refused_id), timeout=RPC_TIMEOUT,
                                   metadata=bearer(auth.tokens["reader"]))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND, missing.value
    page.shot("auth-reader-refused-start")


# ---------------------------------------------------------------- (c) operator


@pytest.mark.timeout(180)
def test_an_operator_starts_a_run_from_the_ui(page, auth):
    page.load(f"#/definitions/{auth.definition}")
    page.wait(lambda d: page.prompt_shown(), "the sign-in form")
    page.wait(lambda d: "unauthenticated" in (page.text("#definition-error") or ""), "the definition page's error")
    page.sign_in(auth.tokens["operator"])
    page.wait(lambda d: "wait_for_signal" in (page.text("#definition-source") or ""), "the definition's source")

    workflow_id = unique("ui-auth-started")
    page.find("#start-workflow-id").send_keys(workflow_id)
    page.mark()
    page.find("#start-submit").click()
    page.wait(lambda d: d.execute_script("return location.hash") == f"#/workflows/{workflow_id}", "the new run's page")
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "running", "the run shown running")
    reply = auth.stub.DescribeWorkflow(ws.DescribeWorkflowRequest(workflow_id=workflow_id), timeout=RPC_TIMEOUT,
                                       metadata=bearer(auth.tokens["reader"]))
    assert reply.workflow.info.workflow_id == workflow_id

    # The operator may signal too: the form is prefilled with the gate's signal.
    page.wait(lambda d: page.find("#signal-name").get_attribute("value") == "go", "the prefilled signal name")
    page.wait(lambda d: page.find("#signal-send").is_enabled(), "the signal button enabled")
    page.find("#signal-send").click()
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "completed", "the run completed", timeout=60)
    assert "Signal go sent" in page.text("#action-message")
    assert page.text("#action-error") == ""
    assert page.still_marked(), "the page reloaded"
    assert not page.prompt_shown()
    page.shot("auth-operator-run")


# ---------------------------------------------------------------- (d) sign out


@pytest.mark.timeout(120)
def test_the_token_lasts_the_tab_and_sign_out_clears_it(page, auth):
    page.load("#/workflows")
    page.sign_in(auth.tokens["reader"])
    page.present(f"#workflows-body tr[data-workflow-id='{auth.open_run}']", "the open run listed")

    # A reload keeps the token (sessionStorage): no prompt, the runs come at once.
    page.reload()
    assert page.session_token() == auth.tokens["reader"]
    page.present(f"#workflows-body tr[data-workflow-id='{auth.open_run}']", "the open run listed after a reload")
    assert page.attr("#auth", "data-state") == "signed-in"
    assert not page.prompt_shown()
    assert page.text("#auth-state") == "Signed in"

    page.click("#sign-out", "the Sign out button")
    page.wait(lambda d: page.session_token() is None, "the token removed from sessionStorage")
    page.wait(lambda d: page.prompt_shown(), "the sign-in form again")
    page.wait(lambda d: "Bearer" in (page.text("#sign-in-message") or ""), "the server's message")
    page.wait(lambda d: page.finds("#workflows-body tr") == [], "the runs gone")
    assert page.attr("#auth", "data-state") == "signed-out"
    assert page.driver.execute_script("return sessionStorage.length") == 0
    page.shot("auth-signed-out")

    page.reload()
    page.wait(lambda d: page.prompt_shown(), "the sign-in form after a reload")
    assert page.finds("#workflows-body tr") == []


# ---------------------------------------------------------------- (e) URLs


@pytest.mark.timeout(180)
def test_the_token_never_appears_in_a_url(page, auth):
    page.load("#/workflows")
    page.sign_in(auth.tokens["reader"])
    page.wait(lambda d: page.attr("#live-status", "data-state") == "live", "the live list stream")
    Select(page.find("#filter-status")).select_by_value("WORKFLOW_STATUS_RUNNING")
    page.wait(lambda d: "status=running" in d.execute_script("return location.hash"), "the filter applied")
    page.wait(lambda d: page.attr("#live-status", "data-state") == "live", "the filtered live stream")
    page.go(f"#/workflows/{auth.open_run}")
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "running", "the open run's page")
    page.go("#/breakers")  # the breakers stream is admin-only: a reader's ticket is refused there (403)
    page.wait(lambda d: "permission_denied" in (page.text("#breakers-error") or ""), "the breakers refusal")
    page.go("#/definitions")
    page.present(f"#definitions-table tr[data-definition={auth.definition}]", "the definitions")
    page.click("#sign-out", "the Sign out button")  # then the other token
    page.wait(lambda d: page.prompt_shown(), "the sign-in form after signing out")
    page.sign_in(auth.tokens["operator"])
    page.present(f"#definitions-table tr[data-definition={auth.definition}]", "the definitions again")
    page.go("#/workflows")
    page.wait(lambda d: page.attr("#live-status", "data-state") == "live", "the operator's live list")

    page.requests()
    tokens = list(auth.tokens.values())
    assert not page.secrets_in_urls(tokens), page.secrets_in_urls(tokens)
    streams = [(kind, url) for kind, url in page.urls if urlparse(url).path.startswith("/v1/")]
    assert len(streams) >= 4, f"expected the list (twice), the filtered list and the breakers streams: {streams}"
    for kind, url in streams:
        query = urlparse(url).query
        assert kind == "EventSource", f"{url} was requested as {kind}"
        assert "ticket=" in query and len(dict(p.split("=", 1) for p in query.split("&"))["ticket"]) == 32, url
    assert any("status=WORKFLOW_STATUS_RUNNING" in url for _, url in streams), streams
    # Calls carry the token in the header only: every other request to the server has no query at all
    # except the static files' (none).
    others = [url for _, url in page.urls if not urlparse(url).path.startswith("/v1/") and urlparse(url).query]
    assert not others, others
    # Nowhere else either: not in localStorage, cookies or the address.
    assert page.driver.execute_script("return localStorage.length") == 0
    assert page.driver.get_cookies() == []
    assert auth.tokens["operator"] not in page.driver.current_url
