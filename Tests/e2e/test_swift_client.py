"""The Swift quickstart (clients/swift, `swift run baton-quickstart`): registers a three-step
definition, serves its activities with BatonWorker, streams progress and prints the output — against
a server started here. (BatonWorker itself is tested in Tests/BatonServerTests/BatonWorkerTests.swift.)"""

import json
import os
import subprocess

from conftest import Server, baton_bin


def quickstart_bin():
    return baton_bin().parent / "baton-quickstart"


def test_the_swift_quickstart_completes_a_run_it_serves_itself():
    binary = quickstart_bin()
    assert binary.is_file(), f"{binary} is missing: `swift build` builds it (product baton-quickstart)"
    server = Server()
    try:
        env = dict(os.environ, BATON_ADDRESS=server.addr)
        r = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        lines = r.stdout.splitlines()
        assert lines[0] == "registered swift_quickstart v1", r.stdout
        assert any(line.startswith("progress 100%") for line in lines), r.stdout
        output = json.loads(lines[-1].removeprefix("output "))
        assert output == {"text": "HELLO, SWIFT!", "length": 13}, r.stdout
        assert '"length":13,' in lines[-1] or '"length":13}' in lines[-1], lines[-1]
    finally:
        assert server.terminate() == 0


def test_the_swift_quickstart_fails_clearly_without_a_server():
    env = dict(os.environ, BATON_ADDRESS="127.0.0.1:1")
    r = subprocess.run([str(quickstart_bin())], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "quickstart:" in r.stderr, r
