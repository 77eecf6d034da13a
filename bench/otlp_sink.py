"""A minimal OTLP/HTTP traces receiver for benchmarks: answers every POST with 200 and counts
requests and bytes (with --decode, also decodes the bodies with opentelemetry-proto and counts the
spans: a real collector's work, which then shares the benchmark's cores); prints `PORT` on its first
line, and the totals on SIGTERM as `otlp-sink: N spans in R requests, B bytes`."""

import http.server
import signal
import sys
import threading

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

totals = {"spans": 0, "requests": 0, "bytes": 0}
DECODE = "--decode" in sys.argv
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        spans = 0
        if DECODE:
            request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            spans = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
        with lock:
            totals["spans"] += spans
            totals["requests"] += 1
            totals["bytes"] += len(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    spans = f"{totals['spans']} spans" if DECODE else "spans not decoded"
    print(f"otlp-sink: {spans} in {totals['requests']} requests, {totals['bytes']} bytes", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
