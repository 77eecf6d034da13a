"""The C client (clients/c) end to end: its protoc-c stubs match proto/, it builds with
-Wall -Wextra -Werror, its tests and its quickstart pass against a server started here, and both run
clean under valgrind (no leak, no memory error)."""

import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import REPO, Server

C_DIR = REPO / "clients" / "c"
BUILD = C_DIR / "build"
BUILD_TIMEOUT = 240      # seconds; a cold build of the library, stubs, example and tests
RUN_TIMEOUT = 120        # each test program or quickstart run
VALGRIND_TIMEOUT = 280   # `make valgrind`: the three test programs and the quickstart (under pytest's 300 s)


def run(args, timeout, env=None):
    """Runs a command from the repository root; fails the test (with the output) when it hangs."""
    try:
        return subprocess.run([str(a) for a in args], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(map(str, args))} did not finish within {timeout}s\n"
                    f"stdout:\n{error.stdout}\nstderr:\n{error.stderr}", pytrace=False)


def describe(proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def require(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (scripts/setup installs the C client's tools: gcc, make, "
                    f"pkg-config, libnghttp2-dev, libprotobuf-c-dev, protobuf-c-compiler, valgrind)", pytrace=False)


def env_for(server=None, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("BATON_ADDRESS", "QUICKSTART_FAIL")}
    if server is not None:
        env["BATON_ADDRESS"] = server.addr
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def built():
    """`make -C clients/c`: the library, the quickstart and the tests."""
    require("make", "cc", "pkg-config")
    proc = run(["make", "-C", C_DIR], BUILD_TIMEOUT, env=env_for())
    assert proc.returncode == 0, f"make -C clients/c failed:\n{describe(proc)}"
    for product in ("libbaton.a", "examples/quickstart", "tests/test_json", "tests/test_transport", "tests/test_client"):
        assert (BUILD / product).is_file(), f"make -C clients/c did not build {product}"
    return BUILD


@pytest.fixture(scope="module")
def baton():
    s = Server([])
    yield s
    alive = s.alive()
    code = s.terminate()
    assert alive, f"server died during the C client tests (exit {code}); stderr:\n{s.stderr()}"
    assert code == 0, f"server exited {code} after SIGTERM; stderr:\n{s.stderr()}"


def test_generated_stubs_match_the_protos():
    require("protoc-c")
    proc = run([C_DIR / "generate.sh", "--check"], 60)
    assert proc.returncode == 0, f"clients/c/gen is stale:\n{describe(proc)}"
    assert "up to date" in proc.stdout


def test_builds_without_warnings(built):
    # -Werror is in the Makefile; an up-to-date tree rebuilds nothing and still exits 0.
    proc = run(["make", "-C", C_DIR], BUILD_TIMEOUT, env=env_for())
    assert proc.returncode == 0, describe(proc)
    assert "warning:" not in proc.stderr, proc.stderr


def test_json_unit_tests(built):
    proc = run([built / "tests" / "test_json"], RUN_TIMEOUT, env=env_for())
    assert proc.returncode == 0, describe(proc)
    assert re.search(r"^test_json: \d+ tests, \d+ checks, 0 failed checks in 0 tests: passed$", proc.stdout, re.M), \
        proc.stdout
    assert "FAIL" not in proc.stdout


def test_transport_tests_against_a_scripted_peer(built):
    # Malformed answers, HTTP errors, percent-encoded grpc-message, a peer that is not HTTP/2, and
    # the client's own deadline against a peer that never answers.
    proc = run([built / "tests" / "test_transport"], RUN_TIMEOUT, env=env_for())
    assert proc.returncode == 0, describe(proc)
    assert re.search(r"^test_transport: \d+ tests, \d+ checks, 0 failed checks in 0 tests: passed$", proc.stdout, re.M), \
        proc.stdout


def test_client_tests_against_the_server(built, baton):
    proc = run([built / "tests" / "test_client"], RUN_TIMEOUT, env=env_for(baton))
    assert proc.returncode == 0, describe(proc)
    for name in ("test_signal_query_and_await", "test_stream_progress_to_completion",
                 "test_worker_retries_and_heartbeats", "test_cancellation_reaches_the_heartbeat",
                 "test_errors_have_codes_and_messages", "test_start_describe_query_json_round_trip"):
        assert re.search(rf"^ok +{name} ", proc.stdout, re.M), f"{name} did not pass:\n{proc.stdout}"
    assert re.search(r"^test_client: \d+ tests, \d+ checks, 0 failed checks in 0 tests: passed$", proc.stdout, re.M)


def test_quickstart_completes_and_prints_progress_and_output(built, baton):
    proc = run([built / "examples" / "quickstart"], RUN_TIMEOUT, env=env_for(baton))
    assert proc.returncode == 0, describe(proc)
    out = proc.stdout
    assert re.search(r"^started c-quickstart-\S+ \(c_quickstart v\d+\)", out, re.M), out
    assert re.search(r"^progress: +0% RUNNING", out, re.M), out
    assert re.search(r"running=charge\(attempt 2\)", out), out          # the retry shows in the stream
    assert re.search(r"^progress: 100% COMPLETED .* done=reserve,charge,dispatch$", out, re.M), out
    assert "worker:   payment.charge (step charge, attempt 2)" in out
    assert "worker handled 4 tasks" in out
    assert "status: COMPLETED" in out
    output = re.search(r"^output: (\{.*\})$", out, re.M)
    assert output, out
    assert re.fullmatch(r'\{"payment":"P-2-c-quickstart-[^"]+","reservation":"R-c-quickstart-[^"]+",'
                        r'"tracking":"T-c-quickstart-[^"]+"\}', output.group(1)), output.group(1)


def test_quickstart_exits_non_zero_with_the_failure(built, baton):
    proc = run([built / "examples" / "quickstart"], RUN_TIMEOUT, env=env_for(baton, QUICKSTART_FAIL="charge"))
    assert proc.returncode == 1, describe(proc)
    assert "status: FAILED" in proc.stdout
    assert "failure: QuickstartFailure: QUICKSTART_FAIL=charge asked this step to fail (step charge)" in proc.stdout


def test_quickstart_without_a_server_names_the_connection_error(built):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run([built / "examples" / "quickstart"], RUN_TIMEOUT, env=env_for(BATON_ADDRESS=f"127.0.0.1:{port}"))
    assert proc.returncode == 2, describe(proc)
    assert f"quickstart: connect: CONNECT_FAILED: cannot connect to 127.0.0.1:{port}: Connection refused" in proc.stderr


def test_tests_and_quickstart_are_clean_under_valgrind(built, baton):
    require("valgrind")
    proc = run(["make", "-C", C_DIR, "valgrind"], VALGRIND_TIMEOUT, env=env_for(baton))
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"make valgrind failed (99: valgrind found errors or leaks):\n{describe(proc)}"
    summaries = re.findall(r"ERROR SUMMARY: (\d+) errors", report)
    assert summaries == ["0"] * 4, f"expected four clean runs (3 test programs, quickstart), got {summaries}:\n{report}"
    assert not re.search(r"(definitely|indirectly) lost: [1-9]", report), report
    for program in ("test_json", "test_transport", "test_client"):
        assert re.search(rf"^{program}: .*: passed$", report, re.M), f"{program} did not pass:\n{report}"
    assert "status: COMPLETED" in report
