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
            if window > 65535:
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


# ---------------------------------------------------------------- frames by hand

# Frame types and flags (RFC 9113 section 6), for frames that h2 refuses to emit.
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Error codes (RFC 9113 section 7).
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
FRAME_SIZE_ERROR, CANCEL, ENHANCE_YOUR_CALM = 0x6, 0x8, 0xB


def frame(ftype: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload (no size check)."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream_id & 0x7FFFFFFF) + payload


def settings_payload(pairs) -> bytes:
    return b"".join(struct.pack(">HI", k, v) for k, v in pairs)


class Frame:
    __slots__ = ("type", "flags", "stream_id", "payload")

    def __init__(self, ftype, flags, stream_id, payload):
        self.type, self.flags, self.stream_id, self.payload = ftype, flags, stream_id, payload

    @property
    def error_code(self):
        """The error code of a GOAWAY or RST_STREAM frame."""
        if self.type == GOAWAY:
            return struct.unpack(">I", self.payload[4:8])[0]
        if self.type == RST_STREAM:
            return struct.unpack(">I", self.payload[:4])[0]
        return None

    def __repr__(self):
        return (f"Frame(type={self.type}, flags={self.flags:#x}, stream={self.stream_id}, "
                f"len={len(self.payload)}, error={self.error_code})")


class FrameConn:
    """HTTP/2 as bytes: hand-built frames out (any size, any stream id, any order), parsed frames
    in. Every socket operation has a deadline; a peer that closes or resets is recorded, not raised."""

    def __init__(self, host, port, timeout=10.0, settings=()):
        import hpack
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host, self.port, self.timeout = host, port, timeout
        self.encoder = hpack.Encoder()
        self.buf = bytearray()
        self.frames = []
        self.closed = False        # the peer closed (EOF) or reset the connection
        self.reset = False         # ... by a TCP reset
        self.send_failed = False   # a send hit a closed or reset connection
        self.send(PREFACE + frame(SETTINGS, 0, 0, settings_payload(settings)))

    def send(self, data: bytes) -> bool:
        """Sends `data`; False (and `send_failed`) when the peer has closed the connection."""
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.send_failed = True
            return False

    def header_block(self, path, extra=(), method="POST"):
        headers = [(":method", method), (":scheme", "http"), (":path", path),
                   (":authority", f"{self.host}:{self.port}"), ("content-type", "application/grpc"),
                   ("te", "trailers"), *extra]
        return self.encoder.encode(headers)

    def _read_once(self, deadline) -> bool:
        """Reads what arrives before `deadline` once; False when closed or the deadline passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.closed:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, ConnectionAbortedError):
            self.closed = self.reset = True
            return False
        if not data:
            self.closed = True
            return False
        self.buf += data
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + n:
                break
            f = Frame(self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF,
                      bytes(self.buf[9:9 + n]))
            del self.buf[:9 + n]
            self.frames.append(f)
        return True

    def wait(self, cond, timeout=10.0) -> bool:
        """Reads until cond() holds (True) or the connection closed or `timeout` passed (False)."""
        deadline = time.monotonic() + timeout
        while not cond():
            if not self._read_once(deadline):
                return cond()
        return True

    def wait_closed_or(self, cond, timeout=10.0) -> bool:
        """Reads until cond() holds or the peer closed; False only when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while not (cond() or self.closed):
            if not self._read_once(deadline) and not self.closed:
                return False
        return True

    def handshake(self, timeout=10.0):
        """Waits for the server's SETTINGS, acknowledges it, and waits for the ACK of ours."""
        ok = self.wait(lambda: self.find(SETTINGS, lambda f: not f.flags & FLAG_ACK) is not None, timeout)
        assert ok, f"no SETTINGS from the server within {timeout}s (frames: {self.frames}, closed={self.closed})"
        self.send(frame(SETTINGS, FLAG_ACK, 0))
        ok = self.wait(lambda: self.find(SETTINGS, lambda f: f.flags & FLAG_ACK) is not None, timeout)
        assert ok, f"no SETTINGS ACK from the server within {timeout}s (frames: {self.frames})"

    def server_settings(self) -> dict:
        f = self.find(SETTINGS, lambda f: not f.flags & FLAG_ACK)
        p = f.payload if f else b""
        return {struct.unpack(">H", p[i:i + 2])[0]: struct.unpack(">I", p[i + 2:i + 6])[0]
                for i in range(0, len(p) - len(p) % 6, 6)}

    def find(self, ftype, pred=lambda f: True):
        return next((f for f in self.frames if f.type == ftype and pred(f)), None)

    def count(self, ftype, pred=lambda f: True) -> int:
        return sum(1 for f in self.frames if f.type == ftype and pred(f))

    @property
    def goaway(self):
        return self.find(GOAWAY)

    def ping_alive(self, data=b"alive?!!", timeout=10.0) -> bool:
        """True when a PING is acknowledged; False when the connection is closed (GOAWAY or EOF)."""
        if self.closed or not self.send(frame(PING, 0, 0, data)):
            return False
        acked = lambda: self.find(PING, lambda f: f.flags & FLAG_ACK and f.payload == data) is not None  # noqa: E731
        if not self.wait_closed_or(lambda: acked() or self.goaway is not None, timeout):
            raise TimeoutError(f"PING neither acknowledged nor the connection closed within {timeout}s")
        return acked()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
