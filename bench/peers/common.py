"""What the three sides of `bench/run peers` share: the client's command line and its driver.

Every side's client runs `--warmup` workflows (not counted: connections, caches, the workers' first
polls), then N workflows with C in flight, each started and awaited by the side's `one(i)`, and
checks that workflow i returned {"n": i}. The time is from the first start of the N to the last
result. The last line printed is

    RESULT rate=<workflows/s> seconds=<s> workflows=<N>

and the exit status is 0 only when all N (and the warm-up) completed with the right result.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import sys
import time
from typing import Any, Awaitable, Callable


def client_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the client options every side takes."""
    parser.add_argument("-n", "--workflows", type=int, default=200, help="workflows timed")
    parser.add_argument("-c", "--concurrency", type=int, default=20, help="workflows in flight")
    parser.add_argument("--warmup", type=int, default=20, help="workflows run first, not timed")
    parser.add_argument("--run-timeout", type=float, default=60.0, help="seconds one workflow may take")


async def _batch(one: Callable[[int], Awaitable[Any]], ids: range, concurrency: int,
                 run_timeout: float) -> list[str]:
    """Runs one(i) for every i with at most `concurrency` in flight; returns what went wrong."""
    slots = asyncio.Semaphore(concurrency)
    problems: list[str] = []

    async def run(i: int) -> None:
        async with slots:
            try:
                out = await asyncio.wait_for(one(i), run_timeout)
            except Exception as error:  # noqa: BLE001 - every failure is reported
                problems.append(f"workflow {i}: {type(error).__name__}: {error}")
                return
            if out != {"n": i}:
                problems.append(f"workflow {i}: returned {out!r}, expected {{'n': {i}}}")

    await asyncio.gather(*(run(i) for i in ids))
    return problems


async def drive(name: str, one: Callable[[int], Awaitable[Any]], args: argparse.Namespace) -> int:
    """Warm-up, then the timed workflows; prints the RESULT line; returns the exit status."""
    # Blocking clients (DBOS) run in threads: give them one per workflow in flight.
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency + 4))
    offset = 1_000_000  # warm-up inputs, apart from the timed ones
    problems = await _batch(one, range(offset, offset + args.warmup), args.concurrency,
                            args.run_timeout)
    if problems:
        print(f"{name}: warm-up failed ({len(problems)} of {args.warmup}): {problems[0]}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    problems = await _batch(one, range(args.workflows), args.concurrency, args.run_timeout)
    seconds = time.perf_counter() - start
    if problems:
        for line in problems[:5]:
            print(f"{name}: {line}", file=sys.stderr)
        print(f"{name}: {len(problems)} of {args.workflows} workflows failed", file=sys.stderr)
        return 1
    rate = args.workflows / seconds
    print(f"{name}: {args.workflows} workflows in {seconds:.2f} s, {rate:.1f} workflows/s "
          f"({args.concurrency} in flight)", file=sys.stderr)
    print(f"RESULT rate={rate:.3f} seconds={seconds:.3f} workflows={args.workflows}", flush=True)
    return 0


def finish(status: int) -> None:
    """Exits at once: a client library's threads (e.g. a poll still waiting) must not hold the exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
