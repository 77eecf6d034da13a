#!/usr/bin/env python3
"""Baton quickstart: register a three-step workflow, serve its activities, run it, print the output.

    scripts/dev                                                  # a server on 127.0.0.1:7400
    BATON_ADDRESS=127.0.0.1:7400 python3 clients/python/examples/quickstart.py

Exits 0 when the run COMPLETED, 1 when it ended otherwise (the failure on stderr), 2 when the server
refused a call or could not be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

try:
    import baton
except ImportError:  # running from a checkout without `pip install ./clients/python`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import baton

DEFINITION = """
name: quickstart
defaults:
  task_queue: quickstart
  retry: { initial_interval: 100ms, maximum_attempts: 3 }
steps:
  lookup: { activity: quickstart.lookup, input: { name: "${input.name}" } }
  greet:  { activity: quickstart.greet, depends_on: [lookup], input: { user: "${steps.lookup.output}" } }
  score:  { activity: quickstart.score, depends_on: [lookup], input: { user: "${steps.lookup.output}" } }
output: { greeting: "${steps.greet.output.text}", score: "${steps.score.output.score}" }
"""

worker = baton.Worker("quickstart", max_concurrent=10)


@worker.activity("quickstart.lookup")
def lookup(input: dict) -> dict:
    """A plain function: runs on the worker's thread pool."""
    return {"name": input["name"], "id": 7}


@worker.activity("quickstart.greet")
async def greet(input: dict) -> dict:
    """An async function: runs on the worker's event loop."""
    return {"text": f"Hello, {input['user']['name']}!"}


@worker.activity("quickstart.score")
def score(input: dict, ctx: baton.ActivityContext) -> dict:
    """Takes the context too: attempt, idempotency key, heartbeats, cancellation."""
    ctx.heartbeat({"scoring": input["user"]["id"]})
    return {"score": len(input["user"]["name"]) * input["user"]["id"]}


def main() -> int:
    client = baton.Client()
    try:
        ref = client.register(DEFINITION)
        print(f"registered {ref.name} v{ref.version} on {client.address}")
        worker.start()
        run = client.start("quickstart", {"name": "Ada"})
        print(f"started {run.workflow_id} (run {run.run_id})")
        shown = ""
        for progress in run.stream_progress(timeout=120):
            if str(progress) != shown:  # heartbeats and starts change no visible field
                shown = str(progress)
                print(f"  {shown}")
        output = run.await_result(timeout=120)
        print(f"output {json.dumps(output, sort_keys=True)}")
        return 0
    except baton.WorkflowFailed as failed:
        print(f"quickstart: {failed}", file=sys.stderr)
        return 1
    except baton.BatonError as error:
        print(f"quickstart: {client.address}: {error}", file=sys.stderr)
        return 2
    finally:
        worker.stop()
        worker.join(30)
        client.close()


if __name__ == "__main__":
    sys.exit(main())
