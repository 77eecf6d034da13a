#!/usr/bin/env python3
"""Many live progress streams at once: memory per open stream and the delay from commit to client.

Run by bench/streams.sh (`bench/run streams`). One asyncio process holds every stream on its own
connection: SSE (`GET /v1/workflows/{id}/progress`, HTTP/1.1) and Connect (`POST
/baton.v1.WorkflowService/StreamProgress`, application/connect+json, HTTP/1.1). The runs wait for
signals s1..sN in sequence; each round signals every run (Connect unary over keep-alive connections)
and every stream records when the progress showing that round's step arrives. The delay is measured
from just before the Signal request is sent (so it includes the RPC that commits), an upper bound on
commit-to-client. Memory per stream = (server RSS with every stream open and caught up - RSS before
any stream) / streams.
"""

import asyncio
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

ENV = lambda name, default: int(os.environ.get(name, default))  # noqa: E731
SSE, CONNECT, WORKFLOWS, ROUNDS = ENV("STREAMS_SSE", 2000), ENV("STREAMS_CONNECT", 200), \
    ENV("STREAMS_WORKFLOWS", 200), ENV("STREAMS_ROUNDS", 8)
ROUND_TIMEOUT = 60.0


def definition(rounds):
    lines = ["name: bench_streams", "steps:"]
    for i in range(1, rounds + 1):
        dep = f", depends_on: [s{i - 1}]" if i > 1 else ""
        lines.append(f"  s{i}: {{ wait_for_signal: {{ name: go{i} }}{dep} }}")
    return "\n".join(lines) + "\n"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Unary:
    """Connect unary JSON calls over one keep-alive HTTP/1.1 connection."""

    def __init__(self, host, port):
        self.host, self.port, self.reader, self.writer = host, port, None, None

    async def call(self, method, body):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        self.writer.write(f"POST /baton.v1.WorkflowService/{method} HTTP/1.1\r\nHost: b\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")][0])
        payload = await self.reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"streams: {method} failed: {head[:40]!r} {payload[:200]!r}")
        return json.loads(payload)


class Stream:
    def __init__(self, kind, workflow_id):
        self.kind, self.workflow_id = kind, workflow_id
        self.completed = 0
        self.arrivals = {}  # round -> perf_counter time
        self.caught_up = asyncio.Event()
        self.advanced = asyncio.Condition()

    def saw(self, progress):
        done = len(progress.get("completedSteps", []))
        now = time.perf_counter()
        while self.completed < done:
            self.completed += 1
            self.arrivals[self.completed] = now
        self.caught_up.set()

    async def run(self, host, port):
        reader, writer = await asyncio.open_connection(host, port)
        if self.kind == "sse":
            writer.write(f"GET /v1/workflows/{self.workflow_id}/progress HTTP/1.1\r\nHost: b\r\n\r\n".encode())
        else:
            body = json.dumps({"workflowId": self.workflow_id}).encode()
            body = struct.pack(">BI", 0, len(body)) + body
            writer.write(f"POST /baton.v1.WorkflowService/StreamProgress HTTP/1.1\r\nHost: b\r\n"
                         f"Content-Type: application/connect+json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                         + body)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"streams: {self.kind} stream refused: {head[:60]!r}")
        body = b""
        async for piece in chunks(reader):
            body += piece
            if self.kind == "sse":
                while b"\n\n" in body:
                    event, body = body.split(b"\n\n", 1)
                    for line in event.split(b"\n"):
                        if line.startswith(b"data: ") and b"workflowId" in line:
                            self.saw(json.loads(line[6:]))
            else:
                while len(body) >= 5:
                    flags, length = struct.unpack(">BI", body[:5])
                    if len(body) < 5 + length:
                        break
                    message, body = body[5:5 + length], body[5 + length:]
                    if flags & 0x02:
                        return
                    self.saw(json.loads(message))


async def chunks(reader):
    """The decoded pieces of a chunked HTTP/1.1 body."""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        piece = await reader.readexactly(size)
        await reader.readexactly(2)
        yield piece


async def main(binary):
    data = tempfile.mkdtemp(prefix="baton-streams-")
    proc = subprocess.Popen([binary, "server", "--listen", "127.0.0.1:0", "--data", data, "--durability", "normal"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    host, port = line.split()[-1].rsplit(":", 1)
    port = int(port)
    try:
        api = Unary(host, port)
        await api.call("RegisterDefinition", {"source": definition(ROUNDS)})
        ids = [f"stream-{i}" for i in range(WORKFLOWS)]
        for workflow_id in ids:
            await api.call("StartWorkflow", {"definition": "bench_streams", "workflowId": workflow_id})
        await asyncio.sleep(1.0)
        base = rss_kib(proc.pid)
        streams = [Stream("sse", ids[i % WORKFLOWS]) for i in range(SSE)] + \
                  [Stream("connect", ids[i % WORKFLOWS]) for i in range(CONNECT)]
        opened = time.perf_counter()
        tasks = []
        for index, stream in enumerate(streams):
            tasks.append(asyncio.create_task(stream.run(host, port)))
            if index % 100 == 99:
                await asyncio.sleep(0)  # let connects progress instead of queueing all at once
        await asyncio.wait_for(asyncio.gather(*(s.caught_up.wait() for s in streams)), 120)
        open_s = time.perf_counter() - opened
        await asyncio.sleep(1.0)
        held = rss_kib(proc.pid)
        per_stream = (held - base) / len(streams)
        print(f"streams: {len(streams)} open ({SSE} SSE over HTTP/1.1, {CONNECT} Connect) in {open_s:.1f} s; "
              f"server RSS {base / 1024:.0f} MiB before, {held / 1024:.0f} MiB with them open", file=sys.stderr)

        pools = [Unary(host, port) for _ in range(8)]
        delays = []
        for r in range(1, ROUNDS + 1):
            sent = {}

            async def signal_some(pool, chunk):
                for workflow_id in chunk:
                    sent[workflow_id] = time.perf_counter()
                    await pool.call("Signal", {"workflowId": workflow_id, "name": f"go{r}"})

            await asyncio.gather(*(signal_some(pools[k], ids[k::len(pools)]) for k in range(len(pools))))
            deadline = time.perf_counter() + ROUND_TIMEOUT
            while any(s.completed < r for s in streams):
                if time.perf_counter() > deadline:
                    behind = sum(1 for s in streams if s.completed < r)
                    raise SystemExit(f"streams: round {r}: {behind} streams never saw their step")
                await asyncio.sleep(0.01)
            delays += [(s.arrivals[r] - sent[s.workflow_id]) * 1000 for s in streams]
        delays.sort()
        p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99)]
        for task in tasks:
            task.cancel()
        print(f"streams: {len(delays)} deliveries over {ROUNDS} rounds of {WORKFLOWS} signals; "
              f"max {delays[-1]:.1f} ms", file=sys.stderr)
        print(f"streams: {len(streams)} open, {per_stream:.1f} KiB server memory per stream, "
              f"commit-to-client p50 {p50:.1f} ms p99 {p99:.1f} ms")
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: bench/streams.py PATH_TO_BATON")
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    asyncio.run(main(sys.argv[1]))
