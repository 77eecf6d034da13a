"""The heartbeats of one activity attempt (used by the worker)."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Optional

from .activity import LEASE_LOST, ActivityContext


class Heartbeater:
    """Sends an attempt's heartbeats: at once on `ctx.heartbeat()` (at most one in flight, at least
    `throttle` apart) and every `interval` seconds. Nothing runs until the first heartbeat is due,
    so a short activity costs no task and no timer beyond one `call_later`.

    `send(ctx)` sends one heartbeat and returns False when no more should be sent.
    """

    def __init__(self, ctx: ActivityContext, send: Callable[[ActivityContext], Awaitable[bool]],
                 interval: Optional[float], throttle: float) -> None:
        self._ctx = ctx
        self._send = send
        self._interval = interval
        self._throttle = min(throttle, interval) if interval else throttle
        self._loop = asyncio.get_running_loop()
        self._task: Optional[asyncio.Task] = None
        self._closed = False
        self._timer = self._loop.call_later(interval, self._start) if interval else None
        ctx._on_wake = self._start

    def _start(self) -> None:
        if self._task is None and not self._closed:
            self._task = self._loop.create_task(self._run())

    async def _run(self) -> None:
        ctx, loop = self._ctx, self._loop
        while True:
            ctx._wake.clear()
            sent_at = loop.time()
            if not await self._send(ctx):
                return
            await asyncio.sleep(max(0.0, self._throttle - (loop.time() - sent_at)))
            if not ctx._wake.is_set():
                # asyncio.wait, not wait_for: wait_for (before 3.12) can swallow a cancellation that
                # arrives as the wake-up does, and this loop must end when the attempt does.
                waiter = asyncio.ensure_future(ctx._wake.wait())
                try:
                    await asyncio.wait({waiter}, timeout=self._interval)
                finally:
                    waiter.cancel()

    async def stop(self, *, flush: bool) -> None:
        """Ends the heartbeats; with `flush`, first sends details not sent yet (so that the next
        attempt finds them) unless the lease is lost."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if flush and self._ctx.cancel_reason != LEASE_LOST and self._ctx._has_unsent():
            await self._send(self._ctx)

    def cancel(self) -> None:
        """Stops at once without flushing (when the attempt is abandoned)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
