#!/usr/bin/env python3
"""Python workers side by side: the old helper (clients/python/baton_worker.py) vs `baton.Worker`.

    python3 bench/python_worker.py [--baton-bin PATH | --address HOST:PORT] [--runs 500] [--processes 1,4]

N runs of a three-step workflow (a, then b and c in parallel), every step an activity on a task
queue, executed by W worker processes of each kind in turn (a queue of its own per kind, the same
trivial sync activities), for each W of --processes. The runs are started at once by one asyncio client (at most 128 calls in
flight) and awaited with AwaitWorkflow; the time is from the first start to the last run closed,
after a warm-up of 20 runs. Prints workflows/s for each kind and W, the ratio new/old at each W,
and the new worker at the largest W against the old helper in one process.

Without --address it starts `baton server` (--baton-bin, default $BATON_BIN or
.build/debug/baton; a release build is what the figures are meant for) on a free loopback port
with a fresh data directory (--durability as given, default full). Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "clients" / "python"))

import baton  # noqa: E402
import baton.aio  # noqa: E402

DEFINITION = """
name: bench_py_{kind}
defaults:
  task_queue: bench-py-{kind}
  retry: {{ initial_interval: 100ms, maximum_attempts: 3 }}
steps:
  a: {{ activity: bench.a, input: {{ n: "${{input.n}}" }} }}
  b: {{ activity: bench.b, depends_on: [a], input: {{ n: "${{steps.a.output.n}}" }} }}
  c: {{ activity: bench.c, depends_on: [a], input: {{ n: "${{steps.a.output.n}}" }} }}
output: {{ b: "${{steps.b.output.n}}", c: "${{steps.c.output.n}}" }}
"""


def activities() -> dict:
    """The same trivial activities for both kinds of worker."""
    return {
        "bench.a": lambda payload, ctx=None: {"n": payload["n"]},
        "bench.b": lambda payload, ctx=None: {"n": payload["n"] + 1},
        "bench.c": lambda payload, ctx=None: {"n": payload["n"] * 2},
    }


# ---------------------------------------------------------------- worker processes


def serve_old(address: str, queue: str) -> None:
    """The old helper: one poll, one activity, one report at a time."""
    import grpc
    from baton_worker import Worker

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    channel = grpc.insecure_channel(address)
    worker = Worker(channel, queue, {name: (lambda f: lambda p, ctx: f(p))(f) for name, f in activities().items()},
                    identity=f"old-{os.getpid()}")
    print("ready", flush=True)
    while not stop:
        try:
            worker.run_once(poll_timeout=2)
        except grpc.RpcError:
            if stop:
                break
            time.sleep(0.1)


def serve_new(address: str, queue: str, max_concurrent: int, pollers: int) -> None:
    """The SDK's worker: concurrent polls and activities."""
    worker = baton.Worker(queue, address=address, max_concurrent=max_concurrent, pollers=pollers,
                          identity=f"new-{os.getpid()}", poll_timeout=5, shutdown_grace=2)
    for name, fn in activities().items():
        worker.register(name, (lambda f: lambda payload: f(payload))(fn))
    print("ready", flush=True)
    worker.run()


# ---------------------------------------------------------------- driver


async def drive(address: str, kind: str, runs: int, offset: int) -> float:
    """Starts `runs` runs of bench_py_KIND at once, waits for all; returns the seconds it took."""
    gate = asyncio.Semaphore(128)
    async with baton.aio.Client(address, timeout=120) as client:
        async def one(i: int) -> None:
            async with gate:
                handle = await client.start(f"bench_py_{kind}", {"n": offset + i})
            async with gate:
                output = await handle.await_result(timeout=600)
            assert output == {"b": offset + i + 1, "c": (offset + i) * 2}, output

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(runs)))
        return time.perf_counter() - began


def measure(address: str, kind: str, processes: int, args: argparse.Namespace) -> float:
    """Workflows per second for `processes` worker processes of `kind` ("old" or "new")."""
    with baton.Client(address) as client:
        client.register(DEFINITION.format(kind=kind))
    role = ["--role", f"{kind}-worker", "--address", address, "--queue", f"bench-py-{kind}",
            "--max-concurrent", str(args.max_concurrent), "--pollers", str(args.pollers)]
    workers = [subprocess.Popen([sys.executable, __file__, *role], stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    try:
        for w in workers:
            line = w.stdout.readline()
            if line.strip() != "ready":
                raise SystemExit(f"a {kind} worker did not start (exit {w.poll()})")
        asyncio.run(drive(address, kind, 20, 0))  # warm-up
        seconds = asyncio.run(drive(address, kind, args.runs, 1000))
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
    rate = args.runs / seconds
    print(f"{kind} {'helper (baton_worker.Worker)' if kind == 'old' else 'worker (baton.Worker)'}: "
          f"{args.runs} runs, {processes} processes: {seconds:.2f}s, {rate:.1f} workflows/s", flush=True)
    return rate


def start_server(binary: str, durability: str) -> tuple[subprocess.Popen, str]:
    data = tempfile.mkdtemp(prefix="bench-py-")
    proc = subprocess.Popen([binary, "server", "--listen", "127.0.0.1:0", "--data", data, "--durability", durability],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("baton: listening on "):
        proc.kill()
        raise SystemExit(f"{binary} did not start: {line!r}")
    return proc, line.split()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", help="use this server instead of starting one")
    parser.add_argument("--baton-bin", default=os.environ.get("BATON_BIN", str(REPO / ".build/debug/baton")))
    parser.add_argument("--durability", default="full", choices=["full", "normal"])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--processes", default="1,4", help="worker processes per kind: a comma-separated list")
    parser.add_argument("--max-concurrent", type=int, default=64, help="new worker: activities at once per process")
    parser.add_argument("--pollers", type=int, default=8, help="new worker: concurrent polls per process")
    parser.add_argument("--which", default="old,new", help="which workers to measure, in order")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "old-worker":
        serve_old(args.address, args.queue)
        return 0
    if args.role == "new-worker":
        serve_new(args.address, args.queue, args.max_concurrent, args.pollers)
        return 0

    server, address = (None, args.address) if args.address else start_server(args.baton_bin, args.durability)
    try:
        counts = [int(n) for n in args.processes.split(",")]
        print(f"python_worker: {args.runs} three-step runs, {args.processes} worker processes per kind, "
              f"server {address}" + ("" if args.address else f" ({args.baton_bin}, --durability {args.durability})"),
              flush=True)
        rates = {(kind, n): measure(address, kind, n, args) for n in counts for kind in args.which.split(",")}
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    for n in counts:
        if ("old", n) in rates and ("new", n) in rates:
            print(f"python_worker: {n} processes: old {rates['old', n]:.1f} workflows/s, "
                  f"new {rates['new', n]:.1f} workflows/s, ratio {rates['new', n] / rates['old', n]:.2f}")
    top, one = max(counts), min(counts)
    if ("new", top) in rates and ("old", one) in rates and top != one:
        print(f"python_worker: new with {top} processes / old with {one}: "
              f"{rates['new', top] / rates['old', one]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
