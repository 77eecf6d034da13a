"""A minimal HTTP/2 client on a raw socket (Python `h2`), for what grpcio cannot do:
stop reading, send non-gRPC requests, look at frames and headers as sent."""

import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

MAX_WINDOW = 2**31 - 1


def grpc_frame(message: bytes, compressed: bool = False) -> bytes:
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


def grpc_messages(data: bytes):
    """Splits a gRPC response body into messages; fails on a truncated one."""
    out, i = [], 0
    while i < len(data):
        assert i + 5 <= len(data), f"truncated gRPC prefix at {i} of {len(data)}"
        flag, n = struct.unpack(">BI", data[i:i + 5])
        assert flag == 0, f"unexpected compressed flag {flag}"
        assert i + 5 + n <= len(data), f"truncated gRPC message at {i}"
        out.append(data[i + 5:i + 5 + n])
        i += 5 + n
    return out


class Response:
    def __init__(self):
        self.headers = None       # dict of the first HEADERS block
        self.trailers = None      # dict of the trailing HEADERS block (None for Trailers-Only)
        self.data = bytearray()
        self.ended = False
        self.reset = None         # RST_STREAM error code, if any

    @property
    def status(self):
        return int(self.headers[":status"]) if self.headers else None

    @property
    def grpc_status(self):
        """grpc-status from trailers, or from the headers of a Trailers-Only response."""
        src = self.trailers if self.trailers is not None else self.headers
        return int(src["grpc-status"]) if src and "grpc-status" in src else None


class RawH2:
    def __init__(self, host, port, window=None, rcvbuf=None, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host, self.port = host, port
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(cfg)
        self.conn.initiate_connection()
        self.auto_ack = window is None
        if window:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
            self.conn.increment_flow_control_window(window - 65535)
        self.flush()
        self.responses = {}
        self.events = []
        self.closed_by_peer = False

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def request(self, path, body=b"", content_type="application/grpc", extra=(), end=True):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", "POST"), (":scheme", "http"), (":path", path),
                   (":authority", f"{self.host}:{self.port}")]
        if content_type is not None:
            headers.append(("content-type", content_type))
        headers += [("te", "trailers"), *extra]
        self.conn.send_headers(sid, headers, end_stream=(not body and end))
        if body:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()
        self.responses[sid] = Response()
        return sid

    def grpc_request(self, path, message=b"", extra=(), **kw):
        return self.request(path, grpc_frame(message), extra=extra, **kw)

    def pump(self, max_bytes=65536):
        """Reads once from the socket and processes the events. False when the peer closed."""
        data = self.sock.recv(max_bytes)
        if not data:
            self.closed_by_peer = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            # h2 is stricter than RFC 9113 about frames after a GOAWAY (e.g. the PING that
            # grpc-core sends with its shutdown notice); the GOAWAY itself was processed.
            if self.conn.state_machine.state != h2.connection.ConnectionState.CLOSED:
                raise
            ev = h2.events.ConnectionTerminated()
            ev.error_code, ev.additional_data = None, b"(frames after GOAWAY dropped)"
            self.events.append(ev)
            self.closed_by_peer = True
            return False
        for ev in events:
            self.events.append(ev)
            sid = getattr(ev, "stream_id", None)
            r = self.responses.get(sid)
            if isinstance(ev, h2.events.ResponseReceived) and r is not None:
                r.headers = dict(ev.headers)
            elif isinstance(ev, h2.events.TrailersReceived) and r is not None:
                r.trailers = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                if r is not None:
                    r.data += ev.data
                if self.auto_ack and ev.flow_controlled_length:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamEnded) and r is not None:
                r.ended = True
            elif isinstance(ev, h2.events.StreamReset) and r is not None:
                r.reset = ev.error_code
                r.ended = True
        self.flush()
        return True

    def wait(self, cond, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError("timed out waiting on the server")
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            if not self.pump():
                if not cond():
                    raise ConnectionError("server closed the connection")
        return True

    def response(self, sid, timeout=10.0):
        r = self.responses[sid]
        self.wait(lambda: r.ended, timeout)
        return r

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()
