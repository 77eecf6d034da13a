"""clients/web/baton.js under Node 20: its unit tests (envelopes, DAG layout, timeline, a local mock of
nothing but sockets) and its end-to-end test against a live `baton dev`."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

E2E = Path(__file__).parent


def node():
    binary = shutil.which("node") or shutil.which("nodejs")
    if binary is None:
        pytest.fail("node (Debian nodejs) is missing: scripts/setup installs it", pytrace=False)
    return binary


def run(script, env=None, timeout=90):
    proc = subprocess.run([node(), str(E2E / script)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.timeout(120)
def test_baton_js_units():
    out = run("web_unit_test.mjs")
    assert "# fail 0" in out and "# pass 0" not in out, out


@pytest.mark.timeout(120)
def test_baton_js_against_a_live_server(web_server):
    out = run("web_client_test.mjs", {"BATON_URL": web_server.url})
    assert "0 failed" in out, out


@pytest.mark.timeout(60)
def test_every_ui_module_parses():
    for module in sorted((REPO / "web/ui").rglob("*.js")) + [REPO / "clients/web/baton.js"]:
        proc = subprocess.run([node(), "--experimental-default-type=module", "--check", str(module)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, f"{module.relative_to(REPO)} does not parse:\n{proc.stderr}"
