#!/usr/bin/env python3
"""The marketing campaign's activities, served on task queue `marketing` by a Baton Python worker.

    python3 examples/marketing_campaign/worker.py [--address HOST:PORT] [--speed 0.1]

Registers marketing_campaign_workers.yaml (beside this file) and serves every activity it names
until SIGINT/SIGTERM (a graceful shutdown: running activities get 10 s to finish). The work is
simulated (sleeps scaled by --speed); what it shows is how a real activity behaves:

* Idempotency: each attempt carries `ctx.idempotency_key` ("workflow_id/step/attempt"), stable
  when the server redelivers the same attempt (after a worker crash or a lease expiry). Finished
  keys and their outputs are kept in a small SQLite file (--state), so a redelivered attempt
  returns what it returned before instead of doing the work (and its side effects) again.
* Heartbeats: long steps report progress with `ctx.heartbeat({"done": n})`; a retried attempt
  resumes from `ctx.heartbeat_details`, and a cancelled run stops them (`ctx.cancelled`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any, Callable

try:
    import baton
except ImportError:  # running from a checkout without `pip install ./clients/python`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
    import baton

HERE = Path(__file__).resolve().parent
DEFINITION = HERE / "marketing_campaign_workers.yaml"
log = logging.getLogger("marketing")


class DoneKeys:
    """Idempotency keys of finished attempts and their outputs, in SQLite (safe across threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS done (key TEXT PRIMARY KEY, output TEXT NOT NULL)")
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            row = self._db.execute("SELECT output FROM done WHERE key = ?", (key,)).fetchone()
        return (True, json.loads(row[0])) if row else (False, None)

    def put(self, key: str, output: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO done (key, output) VALUES (?, ?)", (key, json.dumps(output)))

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM done").fetchone()[0]


class Campaign:
    """The activities. `speed` scales every simulated duration (1.0: the durations of the demo)."""

    def __init__(self, done: DoneKeys, speed: float) -> None:
        self.done = done
        self.speed = speed

    def once(self, ctx: baton.ActivityContext, work: Callable[[], Any]) -> Any:
        """Runs `work` once per idempotency key; a redelivered attempt gets the stored output."""
        seen, output = self.done.get(ctx.idempotency_key)
        if seen:
            log.info("%s: already done, returning the stored output", ctx.idempotency_key)
            return output
        output = work()
        self.done.put(ctx.idempotency_key, output)
        return output

    def simulate(self, ctx: baton.ActivityContext, seconds: float, chunks: int = 1) -> None:
        """Sleeps `seconds` (scaled) in `chunks`, heartbeating after each and resuming from the last
        heartbeat of an earlier attempt; stops early when the attempt is cancelled."""
        start = (ctx.heartbeat_details or {}).get("done", 0) if isinstance(ctx.heartbeat_details, dict) else 0
        for chunk in range(start, chunks):
            if ctx.cancelled.wait(seconds * self.speed / chunks):
                raise baton.ActivityCancelled(f"{ctx.step} stopped after {chunk} of {chunks} chunks")
            if chunks > 1:
                ctx.heartbeat({"done": chunk + 1, "of": chunks})

    def step(self, ctx: baton.ActivityContext, seconds: float, output: Any, chunks: int = 1) -> Any:
        """One simulated step: `seconds` of work in `chunks` (heartbeating), once per idempotency key."""
        def work() -> Any:
            self.simulate(ctx, seconds, chunks)
            return output
        return self.once(ctx, work)

    def register(self, worker: baton.Worker) -> None:
        """Registers every activity of marketing_campaign_workers.yaml on `worker`."""
        p = "product"
        activities: dict[str, Callable[[Any, baton.ActivityContext], Any]] = {
            "research.market": lambda i, c: self.step(c, 3, {"doc_id": f"market-{i[p]}"}),
            "research.competitors": lambda i, c: self.step(c, 1, {"competitors": ["Acme", "Globex"]}),
            "analysis.segments": lambda i, c: self.step(c, 2, {"segments": ["smb", "enterprise"]}),
            "content.brief": lambda i, c: self.step(c, 4, {"brief_id": f"brief-{i[p]}"}, chunks=4),
            "content.headlines": lambda i, c: self.step(c, 1, {"headlines": [f"Meet {i[p]}", f"{i[p]}, finally"]}),
            "content.body": lambda i, c: self.step(c, 3, {"draft_id": f"draft-{i[p]}"}, chunks=3),
            "design.images": lambda i, c: self.step(c, 5, {"image_ids": [f"img-{i[p]}-1", f"img-{i[p]}-2"]},
                                                    chunks=5),
            "content.review": lambda i, c: self.step(c, 2, {"score": 0.92, "headlines": len(i["headlines"])}),
            "web.landing_page": lambda i, c: self.step(c, 3, {"url": f"https://example.com/{i[p]}",
                                                              "page_id": f"page-{i[p]}"}, chunks=3),
            "deploy.campaign": lambda i, c: self.step(c, 2, {"url": i["url"], "campaign_id": f"campaign-{i[p]}"}),
            # Compensations: undo what a step created.
            "research.discard": lambda i, c: self.step(c, 0.5, {"deleted": i["doc_id"]}),
            "content.discard": lambda i, c: self.step(c, 0.5, {"deleted": i["id"]}),
            "design.delete_images": lambda i, c: self.step(c, 0.5, {"deleted": i["image_ids"]}),
            "web.unpublish": lambda i, c: self.step(c, 0.5, {"unpublished": i["page_id"]}),
            "deploy.rollback": lambda i, c: self.step(c, 0.5, {"rolled_back": i["campaign_id"]}),
        }
        for name, fn in activities.items():
            worker.register(name, fn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the marketing campaign's activities.")
    parser.add_argument("--address", default=None, help="server address (default $BATON_ADDRESS or 127.0.0.1:7400)")
    parser.add_argument("--task-queue", default="marketing")
    parser.add_argument("--state", type=Path, default=Path(".baton/marketing_worker.sqlite"),
                        help="SQLite file of finished idempotency keys")
    parser.add_argument("--speed", type=float, default=float(os.environ.get("MARKETING_SPEED", "1")),
                        help="scale of the simulated durations (default 1, or $MARKETING_SPEED)")
    parser.add_argument("--max-concurrent", type=int, default=20)
    parser.add_argument("--no-register", action="store_true", help="do not register the definition")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    if not args.no_register:
        with baton.Client(args.address, timeout=30) as client:
            try:
                ref = client.register(DEFINITION.read_text())
            except baton.BatonError as error:
                print(f"marketing worker: cannot register {DEFINITION.name}: {error}", file=sys.stderr)
                return 2
        print(f"marketing worker: registered {ref.name} v{ref.version}", flush=True)

    worker = baton.Worker(args.task_queue, address=args.address, max_concurrent=args.max_concurrent)
    Campaign(DoneKeys(args.state), args.speed).register(worker)
    print(f"marketing worker: serving task queue {args.task_queue!r} on {worker.address} "
          f"({len(worker.activities)} activities)", flush=True)
    try:
        worker.run()
    except baton.WorkerError as error:
        print(f"marketing worker: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
