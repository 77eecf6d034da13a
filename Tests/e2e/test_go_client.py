"""The Go client (clients/go): generated code in step with the protos, gofmt, `go vet`, the Go
tests (they start their own `$BATON_BIN server`), and the quickstart against a live server.

Go builds offline in GOPATH mode from Debian's packages (golang-go, golang-google-grpc-dev,
golang-google-protobuf-dev); the build cache lives in clients/go/.cache (git-ignored), so only
the first run compiles grpc-go.
"""

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import Server, baton_bin

REPO = Path(__file__).resolve().parents[2]
GO_DIR = REPO / "clients" / "go"
GO_TIMEOUT = 300.0  # seconds; a cold cache compiles grpc-go and protobuf-go first


def go_env(**extra) -> dict:
    """The environment of every Go command: GOPATH mode, our cache, no network."""
    env = dict(os.environ)
    env.update(
        GO111MODULE="off",
        GOPATH=f"{GO_DIR}:/usr/share/gocode",
        GOCACHE=str(GO_DIR / ".cache" / "go-build"),
        GOPROXY="off",
        GOFLAGS="",
        BATON_BIN=str(baton_bin()),
    )
    env.update(extra)
    return env


def run(args, timeout=GO_TIMEOUT, **env) -> subprocess.CompletedProcess:
    """Runs args in clients/go; on timeout kills its whole process group (test binaries and the
    servers they started) and fails with what it printed."""
    if shutil.which(args[0]) is None and not os.path.isabs(args[0]) and not args[0].startswith("./"):
        pytest.fail(f"{args[0]} is not installed (scripts/setup installs golang-go)", pytrace=False)
    proc = subprocess.Popen(args, cwd=GO_DIR, env=go_env(**env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"`{' '.join(args)}` did not finish within {timeout:.0f}s\nstdout:\n{out[-8000:]}\n"
                    f"stderr:\n{err[-8000:]}", pytrace=False)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def check(result: subprocess.CompletedProcess):
    assert result.returncode == 0, (
        f"`{' '.join(result.args)}` exited {result.returncode}\nstdout:\n{result.stdout[-12000:]}\n"
        f"stderr:\n{result.stderr[-12000:]}")


def test_generated_code_is_current():
    check(run(["./generate.sh", "--check"], timeout=60))


def test_gofmt():
    result = run(["gofmt", "-l", "src/baton.dev", "cmd"], timeout=60)
    check(result)
    assert result.stdout == "", f"not gofmt'd:\n{result.stdout}"


def test_go_vet():
    check(run(["go", "vet", "baton.dev/baton/...", "./cmd/quickstart"]))


@pytest.mark.timeout(GO_TIMEOUT + 60)
def test_go_tests_against_a_live_server():
    binary = baton_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"server binary {binary} is missing: build it first (`swift build`), or set BATON_BIN",
                    pytrace=False)
    # -count=1: results depend on the server, never on Go's test cache.
    check(run(["go", "test", "-count=1", f"-timeout={GO_TIMEOUT - 30:.0f}s", "baton.dev/baton/..."]))


@pytest.mark.timeout(GO_TIMEOUT + 60)
def test_quickstart_completes_its_run():
    server = Server()
    try:
        result = run(["go", "run", "./cmd/quickstart", "-timeout", "120s"], BATON_ADDRESS=server.addr)
        check(result)
        lines = result.stdout.splitlines()
        assert any(line.startswith("progress") for line in lines), result.stdout
        assert any(line.startswith("progress 100% COMPLETED") for line in lines), result.stdout
        assert lines[-1].startswith("output "), result.stdout
        assert json.loads(lines[-1].removeprefix("output ")) == {"text": "HELLO, GOPHER!", "length": 14}, lines[-1]
        assert '"length":14' in lines[-1], f"the integer came back as a float: {lines[-1]}"
    finally:
        alive = server.alive()
        code = server.terminate()
    assert alive, f"server died during the quickstart (exit {code}); stderr:\n{server.stderr()}"
    assert code == 0, f"server exited {code} after SIGTERM; stderr:\n{server.stderr()}"


def test_quickstart_fails_clearly_without_a_server():
    result = run(["go", "run", "./cmd/quickstart", "-timeout", "30s"], BATON_ADDRESS="127.0.0.1:1")
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "quickstart: baton: RegisterDefinition: UNAVAILABLE" in result.stderr, result.stderr
