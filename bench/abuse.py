#!/usr/bin/env python3
"""Hostile load against a release `baton server`, with a well-behaved client measured throughout.

Run by bench/abuse.sh (`bench/run abuse`), which builds the server and passes its path. Each attack runs
in its own processes (so the probe's latency is not the attacker's Python), bounded in count and time:

  rapid-reset   HEADERS+DATA+RST_STREAM triples of GetHistory (a 1,000-event page) as fast as the
                client can write them, over fresh connections whenever the server ends one
  no-read       connections x streams of the same GetHistory, flow-control window never granted
  big-describe  connections x DescribeWorkflow of a ~2.4 MB description, never read

The probe (grpcio, one channel) calls DescribeWorkflow of a small run every 20 ms, and every 500 ms a
fresh channel makes one call (connect + call). Per phase it reports p50/p99 of both, errors, the
server's peak RSS, and the RSS and CLOSE-WAIT sockets once the attackers have gone.
"""

import argparse
import multiprocessing
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "e2e"))
sys.path.insert(0, str(REPO / "clients" / "python"))

import grpc  # noqa: E402
import h2.events  # noqa: E402
import h2.exceptions  # noqa: E402
import generate  # noqa: E402
from rawh2 import (CANCEL, DATA, ENHANCE_YOUR_CALM, FLAG_END_HEADERS, FLAG_END_STREAM, HEADERS,  # noqa: E402
                   RST_STREAM, FrameConn, RawH2, frame, grpc_frame)

HISTORY_STEPS = 500   # 2 events per step, plus start and close: a 1,002-event history
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20)]


def env_int(name, default):
    return int(os.environ.get(name, default))


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, binary, data):
        self.proc = subprocess.Popen([binary, "server", "--listen", "127.0.0.1:0", "--data", data],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("baton: listening on "):
            raise SystemExit(f"abuse: the server printed {line!r}")
        self.addr = line.split()[-1]
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close_wait(self):
        out = subprocess.run(["ss", "-Htan", "state", "close-wait", f"( sport = :{self.port} )"],
                             capture_output=True, text=True).stdout
        return len([line for line in out.splitlines() if line.strip()])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class RSSSampler(threading.Thread):
    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.running = server, 0.0, True

    def reset(self):
        self.peak = self.server.rss_mib()

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.server.rss_mib())
            except OSError:
                return
            time.sleep(0.05)


# ---------------------------------------------------------------- the well-behaved client

class Probe(threading.Thread):
    def __init__(self, api, addr, workflow_id):
        super().__init__(daemon=True)
        self.api, self.addr, self.workflow_id = api, addr, workflow_id
        self.lock = threading.Lock()
        self.calls, self.connects, self.errors = [], [], []
        self.running = True

    def take(self):
        """The latencies (ms) and errors since the last take."""
        with self.lock:
            out = (self.calls, self.connects, self.errors)
            self.calls, self.connects, self.errors = [], [], []
        return out

    def _call(self, stub):
        start = time.perf_counter()
        try:
            stub.DescribeWorkflow(self.api.ws.DescribeWorkflowRequest(workflow_id=self.workflow_id), timeout=5)
            return (time.perf_counter() - start) * 1000, None
        except grpc.RpcError as error:
            return (time.perf_counter() - start) * 1000, error.code().name

    def run(self):
        channel = grpc.insecure_channel(self.addr)
        stub = self.api.ws_grpc.WorkflowServiceStub(channel)
        next_connect = time.monotonic()
        while self.running:
            ms, error = self._call(stub)
            with self.lock:
                self.calls.append(ms)
                if error:
                    self.errors.append(error)
            if time.monotonic() >= next_connect:
                next_connect = time.monotonic() + 0.5
                with grpc.insecure_channel(self.addr) as fresh:
                    ms, error = self._call(self.api.ws_grpc.WorkflowServiceStub(fresh))
                with self.lock:
                    self.connects.append(ms)
                    if error:
                        self.errors.append("new connection: " + error)
            time.sleep(0.02)
        channel.close()


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# ---------------------------------------------------------------- the attackers (separate processes)

def history_request(api, workflow_id):
    return api.ws.GetHistoryRequest(workflow_id=workflow_id, page_size=1000).SerializeToString()


def rapid_reset(host, port, body, triples, seconds, result):
    """Sends `triples` HEADERS+DATA+RST_STREAM of GetHistory within `seconds`, opening a new connection
    whenever the server ends one; counts the GOAWAY ENHANCE_YOUR_CALM answers."""
    path = "/baton.v1.WorkflowService/GetHistory"
    sent, goaways, connections = 0, 0, 0
    deadline = time.monotonic() + seconds
    while sent < triples and time.monotonic() < deadline:
        try:
            c = FrameConn(host, port, timeout=2.0)
        except OSError:
            time.sleep(0.05)
            continue
        connections += 1
        block = c.header_block(path)
        sid = 1
        while sent < triples and time.monotonic() < deadline and not c.send_failed:
            out = bytearray()
            for _ in range(100):
                out += frame(HEADERS, FLAG_END_HEADERS, sid, block)
                out += frame(DATA, FLAG_END_STREAM, sid, grpc_frame(body))
                out += frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
                sid += 2
            if not c.send(bytes(out)):
                break
            sent += 100
            c.sock.setblocking(False)
            try:
                while True:
                    data = c.sock.recv(1 << 20)
                    if not data:
                        break
                    c.buf += data
            except (BlockingIOError, OSError):
                pass
            c.sock.setblocking(True)
            if GOAWAY_CALM in c.buf:
                break
        if GOAWAY_CALM in c.buf:
            goaways += 1
        c.sock.close()
    result.put({"sent": sent, "goaways": goaways, "connections": connections})


# The GOAWAY's error code field as it appears in the frame payload (last-stream-id, then the code).
GOAWAY_CALM = struct.pack(">I", ENHANCE_YOUR_CALM)


def hold(host, port, path, body, connections, streams, seconds, result):
    """Opens `connections` x `streams` calls that never grant flow-control window, holds them for
    `seconds`, then closes them; reports how many calls were answered in full (a response that fits
    the first window), got only their response headers (queued), were refused, or lost their
    connection."""
    conns, failed = [], 0
    for _ in range(connections):
        try:
            c = RawH2(host, port, window=65535, timeout=5.0)
            sids = [c.grpc_request(path, body) for _ in range(streams)]
            conns.append((c, sids))
        except OSError:
            failed += 1
    time.sleep(seconds)
    answered = queued = refused = closed = 0
    for c, sids in conns:
        try:
            c.sock.setblocking(False)
            while c.pump():
                pass
        except (BlockingIOError, OSError, h2.exceptions.ProtocolError):
            pass
        if c.closed_by_peer:
            closed += 1
        for sid in sids:
            r = c.responses[sid]
            if r.ended and r.grpc_status == 0:
                answered += 1
            elif r.ended and r.grpc_status is not None:
                refused += 1
            elif r.headers is not None:
                queued += 1
    for c, _ in conns:
        try:
            c.sock.close()
        except OSError:
            pass
    result.put({"answered": answered, "queued": queued, "refused": refused, "closed": closed, "failed": failed})


# ---------------------------------------------------------------- phases

def run_phase(name, server, probe, sampler, attackers, after_seconds):
    """Runs the attacker processes to their end, then measures `after_seconds` of recovery."""
    sampler.reset()
    probe.take()
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=target, args=(*args, queue)) for target, args in attackers]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
    during = probe.take()
    peak = sampler.peak
    time.sleep(after_seconds)
    after = probe.take()
    line = (f"{name}: well-behaved p50/p99 {percentile(during[0], 50):.1f}/{percentile(during[0], 99):.1f} ms "
            f"during, {percentile(after[0], 50):.1f}/{percentile(after[0], 99):.1f} ms after; "
            f"new connection p99 {percentile(during[1], 99):.1f} ms during, {percentile(after[1], 99):.1f} ms after; "
            f"errors {len(during[2])} during, {len(after[2])} after; peak RSS {peak:.0f} MiB, "
            f"{server.rss_mib():.0f} MiB {after_seconds}s after; CLOSE-WAIT {server.close_wait()}")
    totals = {}
    for r in results:
        for k, v in r.items():
            totals[k] = totals.get(k, 0) + v
    print(line, flush=True)
    print(f"{name}: attackers {totals}" + (f"; first errors {during[2][:3]}" if during[2] else ""), flush=True)
    return percentile(during[0], 99), percentile(after[0], 99), peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="baton-abuse-"))
    sys.path.insert(0, str(generate.generate(out / "stubs")))
    from baton.v1 import workflow_service_pb2, workflow_service_pb2_grpc  # noqa: E402
    import baton_worker  # noqa: E402
    api = type("Api", (), {"ws": workflow_service_pb2, "ws_grpc": workflow_service_pb2_grpc})

    server = Server(args.binary, str(out / "data"))
    try:
        with grpc.insecure_channel(server.addr, options=CHANNEL_OPTIONS) as ch:
            stub = workflow_service_pb2_grpc.WorkflowServiceStub(ch)
            steps = "".join(f"  s{i}: {{ activity: builtin.echo, input: {i} }}\n" for i in range(HISTORY_STEPS))
            big = "".join(f'  s{i}: {{ activity: builtin.echo, input: "${{input}}" }}\n' for i in range(2))
            for source in ("name: abuse_history\nsteps:\n" + steps, "name: abuse_big\nsteps:\n" + big,
                           "name: abuse_small\nsteps:\n  only: { activity: builtin.echo, input: 1 }\n"):
                stub.RegisterDefinition(workflow_service_pb2.RegisterDefinitionRequest(source=source), timeout=60)
            inputs = {"abuse_history": None, "abuse_big": {"blob": "b" * 800_000}, "abuse_small": None}
            for name, value in inputs.items():
                request = workflow_service_pb2.StartWorkflowRequest(definition=name, workflow_id=name)
                if value is not None:
                    request.input.CopyFrom(baton_worker.to_value(value))
                stub.StartWorkflow(request, timeout=60)
                for _ in stub.StreamProgress(workflow_service_pb2.StreamProgressRequest(workflow_id=name), timeout=120):
                    pass
            events = len(stub.GetHistory(workflow_service_pb2.GetHistoryRequest(
                workflow_id="abuse_history", page_size=1000), timeout=60).events)
            size = stub.DescribeWorkflow(workflow_service_pb2.DescribeWorkflowRequest(
                workflow_id="abuse_big"), timeout=60).ByteSize()
        print(f"abuse: {os.cpu_count()} cores; GetHistory page {events} events, big description {size} bytes",
              flush=True)

        probe = Probe(api, server.addr, "abuse_small")
        probe.start()
        sampler = RSSSampler(server)
        sampler.start()
        time.sleep(3)
        baseline = probe.take()
        baseline_rss = server.rss_mib()
        print(f"baseline: well-behaved p50/p99 {percentile(baseline[0], 50):.1f}/{percentile(baseline[0], 99):.1f} ms; "
              f"new connection p99 {percentile(baseline[1], 99):.1f} ms; RSS {baseline_rss:.0f} MiB", flush=True)

        host, port = server.host, server.port
        history = history_request(api, "abuse_history")
        describe = workflow_service_pb2.DescribeWorkflowRequest(workflow_id="abuse_big").SerializeToString()
        triples = env_int("ABUSE_RESET_TRIPLES", 54_000)
        resetters = env_int("ABUSE_RESET_CLIENTS", 2)
        phases = [
            ("rapid-reset", [(rapid_reset, (host, port, history, triples // resetters, 15.0))] * resetters),
            ("no-read", [(hold, (host, port, "/baton.v1.WorkflowService/GetHistory", history,
                                 env_int("ABUSE_HOLD_CONNECTIONS", 1000) // 4, env_int("ABUSE_HOLD_STREAMS", 10),
                                 10.0))] * 4),
            ("big-describe", [(hold, (host, port, "/baton.v1.WorkflowService/DescribeWorkflow", describe,
                                      env_int("ABUSE_BIG_CONNECTIONS", 50) // 2, env_int("ABUSE_BIG_STREAMS", 2),
                                      10.0))] * 2),
        ]
        chosen = os.environ.get("ABUSE_PHASES", "rapid-reset no-read big-describe").split()
        worst_during = worst_after = peak = 0.0
        for name, attackers in [phase for phase in phases if phase[0] in chosen]:
            during, after, phase_peak = run_phase(name, server, probe, sampler, attackers, after_seconds=5)
            worst_during, worst_after, peak = max(worst_during, during), max(worst_after, after), max(peak, phase_peak)
        probe.running = False
        sampler.running = False
        probe.join(10)
        final_rss = server.rss_mib()
        print(f"abuse: well-behaved p99 {worst_during:.1f} ms during the attacks (worst phase), {worst_after:.1f} ms "
              f"after, baseline {percentile(baseline[0], 99):.1f} ms; peak RSS {peak:.0f} MiB, baseline "
              f"{baseline_rss:.0f} MiB, after {final_rss:.0f} MiB", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
