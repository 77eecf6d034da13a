"""The web UI end to end: headless Chromium (selenium) against a live `baton server` with the
examples loaded (fixture `web_server` in conftest.py: `.url` like http://127.0.0.1:PORT, `.port`).

Covers: the shell loads; the marketing campaign started from the Definitions page's form shows a
progress bar that advances and a phase that changes without a reload; the signal form prefilled
from the definition's wait_for_signal step completes the run; the DAG shows every step completed;
a cancelled run shows its compensations; a refused action shows the server's message; the live
workflow list; circuit breakers; and, from Chromium's performance log, that a progressing run's
page makes no periodic requests (everything is pushed). Screenshots go to test-output/screenshots/.
"""

import base64
import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import REPO

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by the `browser` fixture, with what to install
    webdriver = None

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
SCREENSHOTS = REPO / "test-output" / "screenshots"
CAMPAIGN_SOURCE = (REPO / "examples" / "marketing_campaign.yaml").read_text()
WAIT = 30  # seconds: the default bound of every wait in this module
STREAM_PATHS = ("/baton.v1.WorkflowService/StreamProgress", "/baton.v1.WorkflowService/WatchHistory")
DESCRIBE_PATH = "/baton.v1.WorkflowService/DescribeWorkflow"


class ConnectError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def connect(server, method, body, service="baton.v1.WorkflowService", timeout=10):
    """One Connect unary call (JSON) to the server; raises ConnectError with the Connect code."""
    request = urllib.request.Request(
        f"{server.url}/{service}/{method}", data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", "connect-protocol-version": "1",
                 "connect-timeout-ms": str(int(timeout * 1000))})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            return json.loads(text) if text.strip() else {}
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            payload = json.loads(text)
        except ValueError:
            payload = {"code": f"http_{error.code}", "message": text}
        raise ConnectError(payload.get("code"), payload.get("message")) from None


def wait_for_event(server, workflow_id, matches, timeout=60):
    """The id of the first history event of the run for which `matches(event)` holds, following the
    history with GetHistory's long poll (`wait`): the server answers as soon as events commit."""
    deadline = time.monotonic() + timeout
    token = ""
    while time.monotonic() < deadline:
        page = connect(server, "GetHistory", {"workflowId": workflow_id, "pageToken": token, "wait": "5s"}, timeout=15)
        for event in page.get("events", []):
            if matches(event):
                return int(event["eventId"])
        token = page.get("nextPageToken", "")
        if not token:
            break
    pytest.fail(f"no matching event in {workflow_id}'s history within {timeout}s", pytrace=False)


def unique(prefix):
    return f"{prefix}-{int(time.time() * 1000)}-{os.getpid()}"


@pytest.fixture(scope="module")
def campaign(web_server):
    """The marketing campaign example, registered (identical content keeps its version)."""
    reply = connect(web_server, "RegisterDefinition", {"source": CAMPAIGN_SOURCE})
    assert reply["definition"]["name"] == "marketing_campaign", reply
    return "marketing_campaign"


@pytest.fixture(scope="module")
def browser():
    if webdriver is None:
        pytest.fail("selenium is not installed (pip install selenium, or apt-get install python3-selenium)", pytrace=False)
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not (Path(binary).is_file() and os.access(binary, os.X_OK)):
            pytest.fail(f"{binary} is missing: install chromium and chromium-driver (apt-get install chromium "
                        f"chromium-driver), or set CHROMIUM_BIN / CHROMEDRIVER_BIN", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                     "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


class Page:
    """The browser on the UI: navigation, bounded waits, screenshots and the network log."""

    def __init__(self, driver, server):
        self.driver = driver
        self.server = server
        self.host = urlparse(server.url).netloc
        self.history = []  # every request `requests` drained, in order

    def load(self, route="#/workflows"):
        """Loads the UI afresh at `route` and waits for the page to render."""
        self.driver.get(f"{self.server.url}/{route}")
        self.wait(lambda d: d.execute_script("return !!document.querySelector('main h1')"), "the page's heading")
        return self

    def go(self, route):
        """Navigates inside the loaded UI (a hash change, no reload)."""
        self.driver.execute_script("location.hash = arguments[0]", route)
        return self

    def wait(self, condition, what, timeout=WAIT, poll=0.1):
        try:
            # The UI redraws parts of the page as pushes arrive: an element may go stale mid-read.
            return WebDriverWait(self.driver, timeout, poll_frequency=poll,
                                 ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)
        except TimeoutException:
            self.shot(f"timeout-{int(time.time())}")
            logs = "\n".join(entry["message"] for entry in self.driver.get_log("browser"))
            pytest.fail(f"waited {timeout}s for {what}; browser console:\n{logs}", pytrace=False)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def present(self, css, what=None, timeout=WAIT):
        return self.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, css) or [None])[0], what or css, timeout)

    def click(self, css, what=None, timeout=WAIT):
        """Clicks the first element matching `css` once it exists (again if it was redrawn meanwhile)."""
        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True, what or f"a click on {css}", timeout)

    def attr(self, css, name):
        """An attribute of the first element matching `css` (read atomically), or None."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null", css, name)

    def text(self, css):
        """The text of the first element matching `css` (read atomically), or None."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null", css)

    def shot(self, name):
        """Saves a screenshot of the whole page (beyond the viewport) as test-output/screenshots/NAME.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width, height = self.driver.execute_script(
            "const e = document.documentElement; return [Math.max(e.scrollWidth, window.innerWidth),"
            " Math.min(Math.max(e.scrollHeight, window.innerHeight), 12000)]")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))

    def mark(self):
        """Marks the document; `still_marked` is false after a reload."""
        self.driver.execute_script("window.__batonNoReload = 'yes'")

    def still_marked(self):
        return self.driver.execute_script("return window.__batonNoReload") == "yes"

    def requests(self):
        """Requests to the server since the last call, as (method, path) pairs (drains the log)."""
        seen = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            request = message["params"]["request"]
            url = urlparse(request["url"])
            if url.netloc == self.host:
                seen.append((request["method"], url.path + (f"?{url.query}" if url.query else "")))
        self.history.extend(seen)
        return seen

    def no_horizontal_overflow(self):
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def page(browser, web_server):
    browser.set_window_size(1280, 900)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    return Page(browser, web_server)


def dag_statuses(page):
    """Step → data-status of every node of the DAG (read atomically: the DAG is redrawn on pushes)."""
    return page.driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#dag svg .dag-node')]"
        ".map((n) => [n.dataset.step, n.dataset.status]))")


def dag_node(page, step):
    """The data attributes of one DAG node, or None."""
    return page.driver.execute_script(
        "const n = document.querySelector(`#dag svg .dag-node[data-step='${arguments[0]}']`);"
        "return n ? {...n.dataset} : null", step)


@pytest.mark.timeout(120)
def test_the_ui_loads_with_its_navigation(page, campaign):
    page.load("#/workflows")
    assert "Baton" in page.driver.title
    nav = {link.text: link.get_attribute("href") for link in page.finds("nav[aria-label=Main] a")}
    assert set(nav) == {"Workflows", "Definitions", "Circuit breakers"}, nav
    assert nav["Definitions"].endswith("#/definitions")
    assert page.attr("[data-nav=workflows]", "aria-current") == "page"
    page.wait(lambda d: page.attr("#server-info", "data-version"), "the server's version in the footer")
    page.present("#workflows-table")
    page.shot("workflows")

    # Keyboard: the first Tab reaches the skip link, the next ones the brand and the navigation.
    page.find("body").send_keys(Keys.TAB)
    assert page.driver.execute_script("return document.activeElement.id") == "skip-link"
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    page.driver.switch_to.active_element.send_keys(Keys.TAB)  # brand, Workflows, Definitions
    assert page.driver.execute_script("return document.activeElement.dataset.nav") == "definitions"
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait(lambda d: d.execute_script("return location.hash") == "#/definitions", "keyboard navigation")

    page.present("#definitions-table tr[data-definition=marketing_campaign] a", "marketing_campaign in the list")
    assert page.driver.execute_script("return document.activeElement.tagName") == "H1", "focus moves to the new page"
    assert page.attr("[data-nav=definitions]", "aria-current") == "page"
    page.shot("definitions")

    page.go("#/breakers")
    page.present("#breakers-table, #breakers-empty", "the breakers table")
    page.shot("breakers")

    page.go("#/nowhere")
    page.wait(lambda d: "not found" in page.find("main h1").text.lower(), "the not-found page")

    page.driver.set_window_size(390, 844)
    page.go("#/workflows")
    page.present("#workflows-table")
    assert page.no_horizontal_overflow(), "the workflows page scrolls sideways on a narrow screen"
    page.shot("workflows-narrow")


@pytest.mark.timeout(120)
def test_campaign_from_the_start_form_progresses_live_and_completes_on_approval(page, campaign, web_server):
    workflow_id = unique("ui-campaign")
    page.load("#/definitions")
    page.present("#definitions-table tr[data-definition=marketing_campaign] a").click()
    page.wait(lambda d: "wait_for_signal" in page.find("#definition-source").text, "the definition's source")
    form_input = page.find("#start-input")
    assert "product" in form_input.get_attribute("value"), "the input is prefilled from ${input.product}"
    form_input.clear()
    form_input.send_keys('{"product": ')
    page.wait(lambda d: page.find("#start-input-error").text and not page.find("#start-submit").is_enabled(),
              "the invalid-JSON message")
    form_input.send_keys('"Widget"}')
    page.wait(lambda d: page.find("#start-submit").is_enabled(), "the start button enabled again")
    page.find("#start-workflow-id").send_keys(workflow_id)
    page.shot("definition")

    page.mark()
    page.requests()
    first = len(page.history)  # the run's requests are page.history[first:]
    page.find("#start-submit").click()
    page.wait(lambda d: d.execute_script("return location.hash") == f"#/workflows/{workflow_id}", "the run's page")
    page.present("#progress-bar")

    samples = []

    def reached_approval(driver):
        percentage = int(page.attr("#progress-bar", "aria-valuenow") or 0)
        phase = page.text("#progress-phase")
        if not samples or samples[-1] != (percentage, phase):
            samples.append((percentage, phase))
        return phase == "approval"

    page.wait(reached_approval, "the approval phase", timeout=60, poll=0.1)
    percentages = [percentage for percentage, _ in samples]
    phases = [phase for _, phase in samples]
    assert percentages == sorted(percentages), f"the percentage went back: {samples}"
    assert len(set(percentages)) >= 3, f"the percentage did not advance: {samples}"
    assert len(set(phases) - {"—", ""}) >= 3, f"the phase did not change: {samples}"
    assert page.still_marked(), "the page reloaded"

    # The run now waits for the signal: once its approval step has started (an event in its history)
    # and the page shows progress at or past that event with its describe done, nothing changes, so
    # nothing may be requested (no polling): a 4 s observation window must see no request at all (the
    # window is the measurement, not a synchronization).
    waiting_since = wait_for_event(web_server, workflow_id, lambda e: e.get("type") == "StepStarted"
                                   and e.get("stepStarted", {}).get("step") == "approval")
    page.wait(lambda d: int(page.attr("#progress", "data-event-id") or 0) >= waiting_since
              and page.attr("#progress", "data-describing") != "true", "the page caught up with the wait")
    final = int(page.attr("#progress-bar", "aria-valuenow") or 0)
    assert final >= percentages[-1], f"the percentage went back to {final}: {samples}"
    assert page.find("#progress-percent").text == f"{final}%"
    page.shot("workflow-awaiting-approval")
    page.requests()
    time.sleep(4.0)
    quiet = page.requests()
    assert quiet == [], f"requests while nothing changed: {quiet}"

    # The signal form is prefilled from the wait_for_signal step.
    page.wait(lambda d: page.find("#signal-name").get_attribute("value") == "approve_campaign", "the prefilled signal name")
    payload = page.find("#signal-payload")
    payload.clear()
    payload.send_keys('{"approved": true}')
    page.find("#signal-send").click()
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "completed", "the run to complete", timeout=60)
    page.wait(lambda d: page.attr("#progress-bar", "aria-valuenow") == "100", "100%")
    page.wait(lambda d: set(dag_statuses(page).values()) == {"completed"}, "every DAG node completed")
    assert page.attr("#dag svg .dag-node[data-step=deploy]", "tabindex") == "0", "DAG nodes take the keyboard focus"
    assert page.attr("#dag svg .dag-node[data-step=deploy]", "aria-label").startswith("deploy: completed")
    assert len(dag_statuses(page)) == 11, dag_statuses(page)
    page.wait(lambda d: "https://example.com/Widget" in (page.text("#wf-output") or ""), "the output")
    # The run's trace id, as describe gives it, so a user can find the run in a tracing backend.
    trace_id = connect(web_server, "DescribeWorkflow", {"workflowId": workflow_id})["workflow"]["info"]["traceId"]
    assert len(trace_id) == 32 and set(trace_id) <= set("0123456789abcdef"), trace_id
    assert page.attr("#wf-meta code[data-trace-id]", "data-trace-id") == trace_id
    assert trace_id in page.text("#wf-meta")
    page.present("#history-list li[data-type=WorkflowCompleted]", "WorkflowCompleted in the history list")
    page.present("#timeline svg rect.tl-attempt", "attempt bars in the timeline")
    assert "Signal approve_campaign sent" in page.find("#action-message").text
    assert page.still_marked(), "the page reloaded"
    page.shot("workflow-completed")

    # Push only: every request of the run's page, from the start to the end.
    updates = int(page.attr("#progress", "data-updates"))
    page.requests()
    counts = Counter(path for _, path in page.history[first:] if not path.endswith((".js", ".css", ".svg")))
    assert counts["/baton.v1.WorkflowService/StartWorkflow"] == 1, counts
    assert counts["/baton.v1.WorkflowService/Signal"] == 1, counts
    assert counts[DESCRIBE_PATH] <= updates + 2, f"{counts[DESCRIBE_PATH]} describes for {updates} progress updates"
    for path, count in counts.items():
        if path != DESCRIBE_PATH:
            assert count <= 2, f"{path} requested {count} times: {counts}"

    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    page.shot("workflow-completed-dark")
    page.driver.set_window_size(390, 844)
    assert page.no_horizontal_overflow(), "the workflow page scrolls sideways on a narrow screen"
    page.shot("workflow-completed-narrow")


@pytest.mark.timeout(120)
def test_a_cancelled_run_shows_its_compensations_and_refused_actions_show_why(page, campaign, web_server):
    workflow_id = unique("ui-cancel")
    connect(web_server, "StartWorkflow", {"definition": campaign, "workflowId": workflow_id, "input": {"product": "Gadget"}})
    page.load(f"#/workflows/{workflow_id}")
    page.wait(lambda d: dag_statuses(page).get("research_market") == "completed", "research_market completed", timeout=30)

    page.find("#action-cancel").click()
    dialog = page.present("#confirm-dialog[open]", "the confirmation dialog")
    dialog.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("changed our mind")
    dialog.find_element(By.CSS_SELECTOR, "button[data-action=confirm]").click()
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "cancelled", "the run to be cancelled", timeout=60)

    def compensated(driver):
        node = dag_node(page, "research_market") or {}
        return node.get("status") == "compensated" or node.get("compensation") == "compensated"

    page.wait(compensated, "research_market compensated in the DAG")
    page.present("#timeline svg rect.tl-compensation", "compensation bars in the timeline")
    page.present("#history-list li[data-type=CompensationCompleted]", "CompensationCompleted in the history")
    page.present("#history-list li[data-type=CancelRequested]", "CancelRequested in the history")
    assert "changed our mind" in page.text("#history-list li[data-type=CancelRequested]")
    assert not page.find("#action-cancel").is_enabled(), "a closed run offers no cancel"
    page.shot("workflow-cancelled")

    # The server refuses a signal to a closed run; the UI shows its message.
    page.driver.execute_script(
        "for (const id of ['signal-name', 'signal-payload', 'signal-send']) document.getElementById(id).disabled = false;")
    name = page.find("#signal-name")
    name.clear()
    name.send_keys("approve_campaign")
    page.find("#signal-send").click()
    error = page.wait(lambda d: (page.find("#action-error").text and page.find("#action-error")), "the refusal message")
    assert error.get_attribute("role") == "alert"
    assert error.is_displayed()
    assert len(error.text) > 5, error.text
    page.shot("workflow-refused-signal")


@pytest.mark.timeout(120)
def test_the_workflow_list_updates_live(page, campaign, web_server):
    page.load("#/workflows")
    page.wait(lambda d: page.attr("#live-status", "data-state") == "live", "the live list stream")
    page.mark()
    page.requests()  # drain what loading the page asked for
    workflow_id = unique("ui-list")
    connect(web_server, "StartWorkflow", {"definition": campaign, "workflowId": workflow_id, "input": {"product": "Thing"}})
    row = f"#workflows-body tr[data-workflow-id='{workflow_id}']"
    page.present(row, "the new run in the list")
    page.wait(lambda d: page.attr(row, "data-status") == "running", "the run shown running")
    connect(web_server, "TerminateWorkflow", {"workflowId": workflow_id, "reason": "list test"})
    page.wait(lambda d: page.attr(row, "data-status") == "terminated", "the run shown terminated")
    assert page.still_marked(), "the list reloaded the page"
    assert not [r for r in page.requests() if "ListWorkflows" in r[1]], "the list was re-read instead of pushed"
    page.shot("workflows-live")

    Select(page.find("#filter-status")).select_by_value("WORKFLOW_STATUS_TERMINATED")
    page.wait(lambda d: "status=terminated" in d.execute_script("return location.hash"), "the filter in the address")
    page.present(row, "the terminated run under the filter")
    page.wait(lambda d: {r.get_attribute("data-status") for r in page.finds("#workflows-body tr")} == {"terminated"},
              "only terminated runs")
    page.click(f"{row} a", "the run's link")
    page.wait(lambda d: page.attr("#wf-status", "data-status") == "terminated", "the run's page")


@pytest.mark.timeout(120)
def test_circuit_breakers_list_and_reset(page, campaign, web_server):
    # A campaign run touches the "notion" breaker (research_market names it).
    workflow_id = unique("ui-breaker")
    connect(web_server, "StartWorkflow", {"definition": campaign, "workflowId": workflow_id, "input": {"product": "B"}})
    page.load("#/breakers")
    page.present("#breakers-table, #breakers-empty", "the breakers page")
    keys = [row.get_attribute("data-key") for row in page.finds("#breakers-table tbody tr")]
    if "notion" in keys:
        page.find("button[data-reset=notion]").click()
        page.wait(lambda d: "notion" in page.find("#breakers-message").text, "the reset confirmation")
        page.wait(lambda d: page.attr("#breakers-table tr[data-key=notion]", "data-state") == "closed", "notion closed")
    assert page.find("#breakers-error").text == ""
    page.shot("breakers-after-reset")
    connect(web_server, "TerminateWorkflow", {"workflowId": workflow_id})


@pytest.mark.timeout(120)
def test_circuit_breakers_page_is_live(page, web_server):
    """A breaker that opens while the page is shown appears open without a reload or a re-read."""
    key = unique("ui-trip")
    name = key.replace("-", "_")
    source = (f"name: {name}\ncircuit_breakers:\n  {key}: {{ failure_threshold: 2, reset_timeout: 10m, half_open_max_calls: 1 }}\n"
              f"steps:\n  call: {{ activity: builtin.fail, input: {{ type: Down }}, circuit_breaker: {key}, "
              f"retry: {{ maximum_attempts: 1 }} }}\n")
    connect(web_server, "RegisterDefinition", {"source": source})
    page.load("#/breakers")
    page.present("#breakers-table, #breakers-empty", "the breakers page")
    page.requests()  # drain what loading the page asked for
    page.mark()
    for index in range(2):
        connect(web_server, "StartWorkflow", {"definition": name, "workflowId": f"{key}-{index}"})
    row = f"#breakers-table tr[data-key='{key}']"
    page.wait(lambda d: page.attr(row, "data-state") == "open", f"breaker {key} shown open")
    assert page.still_marked(), "the breakers page reloaded"
    rereads = [r for r in page.requests() if "ListCircuitBreakers" in r[1]]
    assert not rereads, f"the list was re-read instead of pushed: {rereads}"
    page.shot("breakers-live")
