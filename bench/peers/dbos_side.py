"""DBOS side of `bench/run peers`: a worker process and the client, with DBOS Transact (`dbos`).

    python dbos_side.py worker --db URL --index I [--poll 0.05]
    python dbos_side.py client --db URL [--poll 0.05] [-n 200] [-c 20] [--warmup 20]

The workflow `peers` (`@DBOS.workflow`) runs three steps in sequence, peers.a -> peers.b -> peers.c
(`@DBOS.step`, plain functions returning their input {"n": i}), and returns c's result. DBOS keeps
its state in PostgreSQL (the system database at URL; the first worker creates and migrates it).

DBOS runs a workflow in the process that starts it, or takes it from a queue. To have W separate
worker processes execute the workflows, as the other systems' workers do, each worker launches
DBOS (executor id `peers-wI`) and listens to the DBOS queue `peers`, and the client is a
`DBOSClient`, which only writes to the database: it enqueues each workflow on `peers` and waits for
its result (`handle.get_result`). Neither side is pushed: a worker's queue thread looks for
enqueued workflows every `--poll` seconds (the queue's polling_interval_sec; DBOS's default is 1 s),
and the client polls the workflow's status at the same interval (get_result's polling_interval_sec,
default 1 s). See common.py for the timing and the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading

from dbos import DBOS, DBOSClient

from common import client_arguments, drive, finish

APP = "peers"
QUEUE = "peers"
VERSION = "peers-1"


@DBOS.step(name="peers.a")
def a(input: dict) -> dict:
    return input


@DBOS.step(name="peers.b")
def b(input: dict) -> dict:
    return input


@DBOS.step(name="peers.c")
def c(input: dict) -> dict:
    return input


@DBOS.workflow(name="peers")
def peers(input: dict) -> dict:
    return c(b(a(input)))


def serve(args: argparse.Namespace) -> None:
    """One worker process: DBOS launched on the system database, executing queue `peers`, until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    DBOS(config={
        "name": APP,
        "system_database_url": args.db,
        "application_version": VERSION,
        "executor_id": f"peers-w{args.index}",
        "log_level": "WARNING",
    })
    DBOS.launch()
    DBOS.register_queue(QUEUE, polling_interval_sec=args.poll, on_conflict="always_update")
    print("ready", flush=True)
    stop.wait()
    DBOS.destroy(workflow_completion_timeout_sec=0)


async def client(args: argparse.Namespace) -> int:
    dbos = DBOSClient(system_database_url=args.db, application_name=APP,
                      system_database_pool_size=args.concurrency + 4, system_database_polling_concurrency=0)
    loop = asyncio.get_running_loop()

    def run(i: int) -> object:
        handle = dbos.enqueue({"queue_name": QUEUE, "workflow_name": "peers", "app_version": VERSION}, {"n": i})
        return handle.get_result(polling_interval_sec=args.poll)

    async def one(i: int) -> object:
        return await loop.run_in_executor(None, run, i)

    return await drive("dbos", one, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--db", required=True)
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--poll", type=float, default=0.05)
    c = sub.add_parser("client")
    c.add_argument("--db", required=True)
    c.add_argument("--poll", type=float, default=0.05)
    client_arguments(c)
    args = parser.parse_args()
    if args.role == "worker":
        serve(args)
    else:
        finish(asyncio.run(client(args)))


if __name__ == "__main__":
    sys.exit(main())
