"""Prometheus helpers for the end-to-end tests: scrape and parse a `/metrics` body (prometheus_client's
parser), look samples up by name and labels, lint a body with `promtool check metrics`, and run a real
Prometheus server (Debian's /usr/bin/prometheus) that scrapes a target. Every wait has a deadline."""

import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
EXPOSITION = "text/plain; version=0.0.4"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created", "")


def free_port() -> int:
    """A loopback port that was free a moment ago (bound to port 0, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scrape:
    """One parsed exposition: `families` by name as prometheus_client names them (a counter without
    its `_total`), `samples` flat."""

    def __init__(self, body: str, content_type: str = ""):
        self.body, self.content_type = body, content_type
        self.families = {f.name: f for f in text_string_to_metric_families(body)}
        self.samples = [s for f in self.families.values() for s in f.samples]

    def family(self, name):
        """The family exposed as `name` (e.g. `x_total` for counter x, or the histogram's name)."""
        for suffix in SUFFIXES:
            if suffix and name.endswith(suffix) and name[: -len(suffix)] in self.families:
                return self.families[name[: -len(suffix)]]
        return self.families.get(name)

    def select(self, name, **labels):
        """Samples named exactly `name` whose labels include `labels`."""
        return [s for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name, **labels):
        """The sum of the matching samples, None when there is none."""
        found = self.select(name, **labels)
        return sum(s.value for s in found) if found else None

    def tail(self, limit=30000) -> str:
        return self.body if len(self.body) <= limit else "…" + self.body[-limit:]


def scrape(base_url: str, timeout: float = 10.0) -> Scrape:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=timeout) as resp:
        assert resp.status == 200, f"GET /metrics answered {resp.status}"
        return Scrape(resp.read().decode(), resp.headers.get("Content-Type", ""))


def promtool_check(body: str) -> subprocess.CompletedProcess:
    """`promtool check metrics` with the body on stdin: exit 0 and no output when it has no problem."""
    return subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True,
                          timeout=30)


class Prometheus:
    """A Prometheus server scraping `target` (HOST:PORT) every second as job `job`; a context manager
    that always stops it (SIGTERM, then SIGKILL after `stop_timeout`)."""

    def __init__(self, target: str, job: str = "baton", work_dir=None, stop_timeout: float = 20.0):
        self.dir = Path(work_dir or tempfile.mkdtemp(prefix="prometheus-e2e-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.job, self.stop_timeout = job, stop_timeout
        config = self.dir / "prometheus.yml"
        config.write_text(
            "global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }\n"
            "scrape_configs:\n"
            f"  - job_name: {job}\n"
            f"    static_configs: [ {{ targets: [ '{target}' ] }} ]\n")
        self.log_file = open(self.dir / "prometheus.log", "w+b")
        self.args = [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self, limit=4000) -> str:
        self.log_file.seek(0)
        text = self.log_file.read().decode(errors="replace")
        return text if len(text) <= limit else "…" + text[-limit:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()
        return self.proc.returncode

    def api(self, path: str, **params):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=5) as resp:
            answer = json.load(resp)
        assert answer.get("status") == "success", f"Prometheus {path} answered {answer}"
        return answer["data"]

    def _until(self, attempt, what: str, timeout: float):
        """Calls `attempt` until it returns something truthy; fails with the last state and the log."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited {self.proc.returncode} waiting for {what}; "
                                     f"log:\n{self.log()}")
            try:
                result, last = attempt()
                if result:
                    return result
            except (urllib.error.URLError, ConnectionError, OSError) as error:
                last = error       # not listening yet
            time.sleep(0.2)
        raise AssertionError(f"{what} not seen within {timeout}s; last: {last}; prometheus log:\n{self.log()}")

    def wait_target_up(self, timeout: float = 60.0):
        """Waits until the job's target has been scraped successfully; returns its /api/v1/targets entry."""
        def attempt():
            targets = [t for t in self.api("/api/v1/targets")["activeTargets"]
                       if t.get("labels", {}).get("job") == self.job]
            up = [t for t in targets if t.get("health") == "up"]
            return (up[0] if up else None), targets
        return self._until(attempt, f"target of job {self.job!r} up", timeout)

    def wait_query(self, expr: str, timeout: float = 30.0):
        """An instant query's non-empty vector result (waits until it is non-empty)."""
        def attempt():
            data = self.api("/api/v1/query", query=expr)
            assert data["resultType"] == "vector", data
            return data["result"], data
        return self._until(attempt, f"a result for {expr}", timeout)
