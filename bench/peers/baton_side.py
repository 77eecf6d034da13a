"""Baton side of `bench/run peers`: a worker process and the client, with the Python SDK (`baton`).

    python baton_side.py worker --address HOST:PORT [--max-concurrent 100]
    python baton_side.py client --address HOST:PORT [-n 200] [-c 20] [--warmup 20]

The workflow `peers` runs three activities in sequence, a -> b -> c, on task queue `peers`; each
returns its input ({"n": i}), and the workflow's output is c's. The worker registers the three
activities with `@worker.activity` (`async def`, run on the worker's event loop) and serves them
until SIGTERM. The client registers the definition, then starts each workflow (StartWorkflow) and
awaits it (AwaitWorkflow, `handle.await_result`) on one asyncio channel; see common.py for the
timing and the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import baton
import baton.aio

from common import client_arguments, drive, finish

TASK_QUEUE = "peers"
DEFINITION = """
name: peers
defaults: { task_queue: peers }
steps:
  a: { activity: peers.a, input: { n: "${input.n}" } }
  b: { activity: peers.b, depends_on: [a], input: { n: "${steps.a.output.n}" } }
  c: { activity: peers.c, depends_on: [b], input: { n: "${steps.b.output.n}" } }
output: { n: "${steps.c.output.n}" }
"""


def serve(args: argparse.Namespace) -> None:
    """One worker process: the three activities on task queue `peers`, until SIGTERM."""
    worker = baton.Worker(TASK_QUEUE, address=args.address, max_concurrent=args.max_concurrent,
                          identity=f"peers-w{args.index}")

    @worker.activity("peers.a")
    async def a(input: dict) -> dict:
        return input

    @worker.activity("peers.b")
    async def b(input: dict) -> dict:
        return input

    @worker.activity("peers.c")
    async def c(input: dict) -> dict:
        return input

    print("ready", flush=True)
    worker.run()


async def client(args: argparse.Namespace) -> int:
    async with baton.aio.Client(args.address) as baton_client:
        await baton_client.register(DEFINITION)

        async def one(i: int) -> object:
            run = await baton_client.start("peers", {"n": i})
            return await run.await_result(timeout=args.run_timeout)

        return await drive("baton", one, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--address", required=True)
    w.add_argument("--index", type=int, default=1)
    w.add_argument("--max-concurrent", type=int, default=100)
    c = sub.add_parser("client")
    c.add_argument("--address", required=True)
    client_arguments(c)
    args = parser.parse_args()
    if args.role == "worker":
        serve(args)
    else:
        finish(asyncio.run(client(args)))


if __name__ == "__main__":
    sys.exit(main())
