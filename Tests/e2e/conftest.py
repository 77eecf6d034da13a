"""End-to-end fixtures: generated stubs and a running `baton server`.

The server binary is `.build/debug/baton` under the repository root unless
BATON_BIN names another one. It is started once per session on an ephemeral
loopback port and must exit 0 on SIGTERM at the end.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import stubs  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# The Python SDK (clients/python: `baton` and its committed stubs `baton.v1`), imported before any
# test module so that every `from baton.v1 import ...` in the session gets these stubs.
sys.path.insert(0, str(REPO / "clients" / "python"))
import baton  # noqa: E402,F401
RPC_TIMEOUT = 10.0  # seconds; every RPC in this suite is bounded by a deadline
LISTEN_PREFIX = "baton: listening on "


def baton_bin() -> Path:
    return Path(os.environ.get("BATON_BIN", REPO / ".build/debug/baton"))


class Server:
    """A `baton server` child process listening on a loopback port."""

    def __init__(self, extra_args=(), startup_timeout=30.0, data_dir=None, prefix=(), command="server"):
        binary = baton_bin()
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            pytest.fail(f"server binary {binary} is missing: build it first (`swift build`), "
                        f"or set BATON_BIN", pytrace=False)
        self._stderr_lines = []
        self._stderr_changed = threading.Condition()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="baton-e2e-")
        # `prefix` runs the server under another program (e.g. strace for fault injection).
        self.args = [*prefix, str(binary), command, "--listen", "127.0.0.1:0", "--data", self.data_dir, *extra_args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.stdout_lines = []
        first = threading.Event()

        def drain():
            # Keeps reading stdout so that the server never blocks on a full pipe.
            for raw in self.proc.stdout:
                self.stdout_lines.append(raw.decode(errors="replace").rstrip("\n"))
                first.set()
            first.set()

        def drain_stderr():
            # Keeps every stderr line and wakes wait_stderr on each.
            for raw in self.proc.stderr:
                with self._stderr_changed:
                    self._stderr_lines.append(raw.decode(errors="replace").rstrip("\n"))
                    self._stderr_changed.notify_all()
            with self._stderr_changed:
                self._stderr_lines.append(None)  # end of stream
                self._stderr_changed.notify_all()

        threading.Thread(target=drain, daemon=True).start()
        threading.Thread(target=drain_stderr, daemon=True).start()
        if not first.wait(startup_timeout) or not self.stdout_lines:
            self.kill()
            pytest.fail(f"{' '.join(self.args)} printed no listening line within {startup_timeout}s "
                        f"(exit {self.proc.poll()}); stderr:\n{self.stderr()}", pytrace=False)
        line = self.stdout_lines[0]
        if not line.startswith(LISTEN_PREFIX):
            self.kill()
            pytest.fail(f"first stdout line is {line!r}, expected {LISTEN_PREFIX!r}HOST:PORT", pytrace=False)
        self.addr = line[len(LISTEN_PREFIX):].strip()
        host, _, port = self.addr.rpartition(":")
        self.host, self.port = host, int(port)
        assert host == "127.0.0.1", f"server listens on {self.addr}, expected loopback"
        assert self.port > 0, f"server reported port {self.port}"
        self.url = f"http://{self.host}:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self) -> str:
        with self._stderr_changed:
            return "\n".join(line for line in self._stderr_lines if line is not None) + "\n"

    def log_entries(self):
        """The json log lines written so far (`--log-format json`), parsed."""
        entries = []
        for line in self.stderr().splitlines():
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return [e for e in entries if isinstance(e, dict)]

    def wait_log(self, matches, what, timeout=30.0, since=0):
        """The first json log line after `since` stderr lines with `matches(entry)`, woken per line."""
        def hit(line):
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                return isinstance(entry, dict) and matches(entry)
            return False

        return json.loads(self.wait_stderr(hit, what, timeout=timeout, since=since))

    def stderr_line_count(self) -> int:
        """Lines of stderr so far (a `since` for wait_stderr)."""
        with self._stderr_changed:
            return len([line for line in self._stderr_lines if line is not None])

    def wait_stderr(self, matches, what, timeout=30.0, since=0):
        """Waits (woken by each new stderr line) until `matches(line)` holds for a line after the
        first `since`; returns the line. Fails naming `what` at the deadline or when the server's
        stderr ends first."""
        deadline = time.monotonic() + timeout
        seen = since
        with self._stderr_changed:
            while True:
                for line in self._stderr_lines[seen:]:
                    if line is None:
                        pytest.fail(f"the server's stderr ended without {what}:\n{self.stderr()[-4000:]}",
                                    pytrace=False)
                    if matches(line):
                        return line
                seen = len(self._stderr_lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {what} on the server's stderr within {timeout}s:\n{self.stderr()[-4000:]}",
                                pytrace=False)
                self._stderr_changed.wait(remaining)

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout=20.0) -> int:
        """Sends SIGTERM and waits for the exit code (kills and fails after `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"server did not exit within {timeout}s of SIGTERM; stderr:\n{self.stderr()}",
                        pytrace=False)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def serving(args, command="server"):
    """A server started with `args`; on leaving it must still be alive and exit 0 on SIGTERM."""
    s = Server(args, command=command)
    try:
        yield s
    finally:
        alive, code = s.alive(), s.terminate()
    assert alive and code == 0, f"server alive={alive}, exit {code} after SIGTERM; stderr:\n{s.stderr()}"


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """Python stubs for grpc.testing and grpc.reflection.v1, generated into a temp dir."""
    return stubs.generate(tmp_path_factory.mktemp("stubs"))


@pytest.fixture(scope="session")
def server(pb):
    """The shared server (test service enabled); must exit 0 on SIGTERM at the end."""
    s = Server(["--enable-test-service"])
    yield s
    alive = s.alive()
    code = s.terminate()
    assert alive, f"server died during the session (exit {code}); stderr:\n{s.stderr()}"
    assert code == 0, f"server exited {code} after SIGTERM, expected 0; stderr:\n{s.stderr()}"


@pytest.fixture(scope="session")
def web_server():
    """`baton dev` (examples registered) for the browser-side tests; must exit 0 on SIGTERM."""
    s = Server(["--examples", str(REPO / "examples")], command="dev")
    yield s
    alive = s.alive()
    code = s.terminate()
    assert alive, f"dev server died during the session (exit {code}); stderr:\n{s.stderr()}"
    assert code == 0, f"dev server exited {code} after SIGTERM, expected 0; stderr:\n{s.stderr()}"


def wait_ready(addr, timeout=10.0):
    ch = grpc.insecure_channel(addr)
    try:
        grpc.channel_ready_future(ch).result(timeout=timeout)
    finally:
        ch.close()


@pytest.fixture
def channel(server):
    ch = grpc.insecure_channel(server.addr)
    yield ch
    ch.close()


@pytest.fixture
def stub(pb, channel):
    return pb.test_grpc.TestServiceStub(channel)


def assert_serving(pb, server, what=""):
    """One ordinary call on a fresh connection: the server still works."""
    assert server.alive(), f"server died {what}; stderr:\n{server.stderr()}"
    with grpc.insecure_channel(server.addr) as ch:
        resp = pb.test_grpc.TestServiceStub(ch).UnaryCall(
            pb.messages.SimpleRequest(response_size=7), timeout=RPC_TIMEOUT)
    assert resp.payload.body == b"\0" * 7
