"""Temporal side of `bench/run peers`: a worker process and the client, with the Python SDK (`temporalio`).

    python temporal_side.py worker --address HOST:PORT
    python temporal_side.py client --address HOST:PORT [-n 200] [-c 20] [--warmup 20]

The workflow `peers` (class `Peers`, run in the SDK's default sandbox) executes three activities in
sequence, peers.a -> peers.b -> peers.c, each `async def` returning its input ({"n": i}), and returns
c's result. A worker process polls task queue `peers` for both workflow and activity tasks (the
SDK's default slots) until SIGTERM. The client starts each workflow and awaits its result
(`execute_workflow`) on one connection; see common.py for the timing and the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "peers"
STEP_TIMEOUT = timedelta(seconds=60)


@activity.defn(name="peers.a")
async def a(input: dict) -> dict:
    return input


@activity.defn(name="peers.b")
async def b(input: dict) -> dict:
    return input


@activity.defn(name="peers.c")
async def c(input: dict) -> dict:
    return input


@workflow.defn(name="peers")
class Peers:
    @workflow.run
    async def run(self, input: dict) -> dict:
        out = await workflow.execute_activity("peers.a", input, start_to_close_timeout=STEP_TIMEOUT)
        out = await workflow.execute_activity("peers.b", out, start_to_close_timeout=STEP_TIMEOUT)
        return await workflow.execute_activity("peers.c", out, start_to_close_timeout=STEP_TIMEOUT)


async def serve(args: argparse.Namespace) -> None:
    """One worker process: the workflow and the three activities on task queue `peers`, until SIGTERM."""
    from temporalio.client import Client
    from temporalio.worker import Worker

    temporal = await Client.connect(args.address, identity=f"peers-w{args.index}")
    worker = Worker(temporal, task_queue=TASK_QUEUE, workflows=[Peers], activities=[a, b, c])
    print("ready", flush=True)
    await worker.run()


async def client(args: argparse.Namespace) -> int:
    from temporalio.client import Client

    from common import drive

    temporal = await Client.connect(args.address)
    prefix = f"peers-{uuid.uuid4().hex[:12]}"

    async def one(i: int) -> object:
        return await temporal.execute_workflow("peers", {"n": i}, id=f"{prefix}-{i}", task_queue=TASK_QUEUE)

    return await drive("temporal", one, args)


def main() -> None:
    from common import client_arguments, finish

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--address", required=True)
    w.add_argument("--index", type=int, default=1)
    c = sub.add_parser("client")
    c.add_argument("--address", required=True)
    client_arguments(c)
    args = parser.parse_args()
    if args.role == "worker":
        asyncio.run(serve(args))
    else:
        finish(asyncio.run(client(args)))


if __name__ == "__main__":
    sys.exit(main())
