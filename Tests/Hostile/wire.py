"""Byte-level HTTP/1.1 and WebSocket clients for the hostile-request suite (hostile_test.py).

Only the standard library. Nothing here tidies what it is given: the request target, the header
lines and the body go on the wire exactly as written, which is the point (http.client refuses or
rewrites several of the requests the suite needs: control bytes in a target, duplicated headers,
a body shorter than its Content-Length). Every exchange writes and reads at once, so an answer
the server sends before it has read the whole request (413 while a body streams in, 431 while a
header line does) is read rather than lost to a broken pipe, and every exchange has a deadline.
"""
import base64
import hashlib
import re
import select
import socket
import struct
import time

# Seconds an exchange may take before it counts as unanswered.
TIMEOUT = 10.0

STATUS_LINE = re.compile(r"HTTP/1\.[01] (\d{3})(?: (.*))?$")


class Answer:
    """One HTTP answer: its status, headers (names lower-cased, in order), body, and the 1xx
    interim answers that came before it."""

    def __init__(self, status, reason, headers, body, interim):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.interim = interim

    def header(self, name):
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def keep_alive(self):
        tokens = [token.strip().lower() for token in (self.header("connection") or "").split(",")]
        return "close" not in tokens

    def json(self):
        import json
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def problem(self):
        """The problem type's last part and its detail, for failure lines ("internal: …")."""
        document = self.json()
        if not isinstance(document, dict) or "type" not in document:
            return f"{self.header('content-type') or 'no type'}, {len(self.body)} bytes"
        kind = str(document.get("type", "")).rsplit(":", 1)[-1]
        return f"{kind}: {document.get('detail', document.get('title', ''))}"[:160]


class Outcome:
    """What came of one exchange: the answer (None without one), whether the server closed the
    connection, the seconds it took, what went wrong on the wire (None, "timeout", "closed",
    "reset", "refused" or "malformed: …"), and any bytes that came after the answer."""

    def __init__(self, answer, closed, elapsed, error, extra=b"", unsent=0):
        self.answer = answer
        self.closed = closed
        self.elapsed = elapsed
        self.error = error
        self.extra = extra
        self.unsent = unsent  # bytes of the request not written when the answer came

    @property
    def status(self):
        return self.answer.status if self.answer else None

    def describe(self):
        """The answer or its absence, in a few words, for failure lines."""
        if self.answer is not None:
            return f"{self.answer.status}"
        if self.error == "timeout":
            return f"no answer within {TIMEOUT:g} s" + (", connection kept open" if not self.closed else "")
        if self.error == "closed":
            return "closed the connection without an answer"
        if self.error == "reset":
            return "reset the connection without an answer"
        if self.error == "refused":
            return "refused the connection"
        return f"answered bytes that are not HTTP ({self.error})"


def parse_answer(data, method, eof):
    """(Answer, bytes consumed) when data holds a whole answer; None while more is needed.
    Raises ValueError for bytes that are not an HTTP answer."""
    interim = []
    position = 0
    while True:
        end = data.find(b"\r\n\r\n", position)
        if end < 0:
            if eof and len(data) > position:
                raise ValueError(f"an unfinished head {bytes(data[position:position + 40])!r}")
            return None
        lines = bytes(data[position:end]).decode("latin-1").split("\r\n")
        match = STATUS_LINE.match(lines[0])
        if not match:
            raise ValueError(f"status line {lines[0][:60]!r}")
        status, reason = int(match.group(1)), match.group(2) or ""
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"header line {line[:60]!r}")
            headers.append((name.strip().lower(), value.strip()))
        start = end + 4
        if 100 <= status < 200 and status != 101:
            interim.append(status)
            position = start
            continue
        fields = dict(headers)
        if method == "HEAD" or status in (101, 204, 304):
            return Answer(status, reason, headers, b"", interim), start
        if "chunked" in fields.get("transfer-encoding", "").lower():
            body = bytearray()
            cursor = start
            while True:
                line_end = data.find(b"\r\n", cursor)
                if line_end < 0:
                    return None
                size = int(bytes(data[cursor:line_end]).split(b";")[0].strip() or b"0", 16)
                cursor = line_end + 2
                if size == 0:
                    while True:  # trailers, up to an empty line
                        trailer_end = data.find(b"\r\n", cursor)
                        if trailer_end < 0:
                            return None
                        empty = trailer_end == cursor
                        cursor = trailer_end + 2
                        if empty:
                            return Answer(status, reason, headers, bytes(body), interim), cursor
                if len(data) < cursor + size + 2:
                    return None
                body += data[cursor:cursor + size]
                cursor += size + 2
        if "content-length" in fields:
            length = int(fields["content-length"])
            if len(data) < start + length:
                return None
            return Answer(status, reason, headers, bytes(data[start:start + length]), interim), start + length
        if not eof:
            return None
        return Answer(status, reason, headers, bytes(data[start:]), interim), len(data)


def exchange(sock, data, method, timeout=TIMEOUT, pending=b"", half_close=False, wait_for_close=False, upgrade=False):
    """Writes data to sock while reading its answer, within timeout seconds.

    half_close shuts the writing side once everything is written (the client's end of the
    request). wait_for_close goes on reading after the answer until the server closes (or the
    time is up), keeping what else came as Outcome.extra. upgrade stops right after a 101's head,
    leaving the bytes after it (the first frames) in Outcome.extra.
    Returns (Outcome, the bytes read beyond the answer on a connection that stays open)."""
    started = time.monotonic()
    deadline = started + timeout
    sock.setblocking(False)
    view = memoryview(data)
    sent = 0
    writable = True
    received = bytearray(pending)
    answer = None
    extra = b""
    eof = reset = False
    shut = False
    error = None
    while True:
        if answer is None and received:
            try:
                parsed = parse_answer(received, "HEAD" if upgrade else method, eof)
            except (ValueError, IndexError) as problem:
                error = f"malformed: {problem}"
                break
            if parsed:
                answer, consumed = parsed
                del received[:consumed]
                if upgrade or not wait_for_close:
                    break
        if eof:
            break
        if half_close and not shut and (sent >= len(view) or not writable):
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            shut = True
        remaining = deadline - time.monotonic()
        want_write = writable and sent < len(view)
        # Polled at least once, even past the deadline: what has arrived already counts.
        readable, can_write, _ = select.select([sock], [sock] if want_write else [], [], max(0.0, min(remaining, 1.0)))
        if not readable and not can_write and remaining <= 0:
            if answer is None:
                error = "timeout"
            break
        if readable:
            try:
                chunk = sock.recv(1 << 16)
            except (ConnectionResetError, OSError):
                chunk = b""
                reset = True
            if chunk:
                received += chunk
            else:
                eof = True
        if can_write:
            try:
                sent += sock.send(view[sent:sent + (1 << 16)])
            except (BrokenPipeError, ConnectionResetError, OSError):
                writable = False
    if answer is None and error is None:
        error = "reset" if reset else "closed"
    if answer is not None and (wait_for_close or upgrade):
        extra = bytes(received)
        received = bytearray()
    return Outcome(answer, eof, time.monotonic() - started, error, extra, len(view) - sent), bytes(received)


def connect(host, port, timeout=TIMEOUT):
    """A TCP connection, or None when the server refuses it."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def as_bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def request_bytes(method, target, host, headers=(), body=b"", content_length=True):
    """The bytes of one request, exactly as given; Host and Content-Length are added unless the
    headers name them (or content_length is False)."""
    names = {as_bytes(name).lower() for name, _ in headers}
    lines = [as_bytes(method) + b" " + as_bytes(target) + b" HTTP/1.1"]
    if b"host" not in names:
        lines.append(b"Host: " + as_bytes(host))
    lines += [as_bytes(name) + b": " + as_bytes(value) for name, value in headers]
    if content_length and b"content-length" not in names and b"transfer-encoding" not in names \
            and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class Connection:
    """One keep-alive connection, opened again whenever the server has closed it."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sock = None
        self.pending = b""

    def request(self, method, target, headers=(), body=b"", timeout=TIMEOUT):
        if self.sock is not None and self._finished():
            self.close()
        reused = self.sock is not None
        if self.sock is None:
            self.sock = connect(self.host, self.port)
            if self.sock is None:
                return Outcome(None, True, 0.0, "refused")
        data = request_bytes(method, target, f"{self.host}:{self.port}", headers, body)
        outcome, self.pending = exchange(self.sock, data, method, timeout, self.pending)
        if reused and outcome.error in ("closed", "reset"):
            # The server closed the idle connection as the request went out (its head time
            # limit runs between requests too): once more on a new one. A request that itself
            # makes the server close (or die) fails the same way again.
            self.close()
            return self.request(method, target, headers, body, timeout)
        # A request answered before it was all written (413 while its body streamed in) leaves
        # the connection in the middle of a message: it is not used again.
        if outcome.answer is None or outcome.closed or outcome.unsent or not outcome.answer.keep_alive:
            self.close()
        return outcome

    def _finished(self):
        """Whether the server has closed the idle connection (or sent what nobody asked for)."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.pending = b""


# WebSocket (RFC 6455): a client's frames are masked; a server's are not.
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def masked(payload, key):
    """payload XOR the repeated 4-byte key, as one big integer (fast enough for 64 KiB)."""
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def frame(opcode, payload, rng, fin=True, rsv=0, mask=True, declared_length=None):
    """One frame's bytes. declared_length puts another length in the header than the payload's."""
    length = len(payload) if declared_length is None else declared_length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack(">H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", length)
    if not mask:
        return head + payload
    key = rng.randbytes(4)
    return head + key + masked(payload, key)


class WebSocket:
    """A minimal client: the opening handshake, frames out, frames in."""

    def __init__(self, host, port, rng):
        self.host, self.port, self.rng = host, port, rng
        self.sock = None
        self.buffer = bytearray()
        self.key = base64.b64encode(rng.randbytes(16)).decode()

    def handshake_bytes(self, target, headers=(), version="13", key=True):
        lines = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", version)]
        if key:
            lines.append(("Sec-WebSocket-Key", self.key))
        return request_bytes("GET", target, f"{self.host}:{self.port}", lines + list(headers))

    def send_handshake(self, target, headers=(), **options):
        """Connects and writes the upgrade request (without waiting), or returns False."""
        self.sock = connect(self.host, self.port)
        if self.sock is None:
            return False
        self.sock.sendall(self.handshake_bytes(target, headers, **options))
        return True

    def read_handshake(self, timeout=TIMEOUT):
        """The answer to the upgrade request; on 101 the socket stays open for frames. The
        outcome's error names a wrong Sec-WebSocket-Accept."""
        outcome, _ = exchange(self.sock, b"", "GET", timeout, upgrade=True)
        if outcome.answer is not None and outcome.answer.status == 101:
            self.buffer += outcome.extra
            expected = base64.b64encode(hashlib.sha1(self.key.encode() + WEBSOCKET_GUID).digest()).decode()
            if outcome.answer.header("sec-websocket-accept") != expected:
                outcome.error = "a wrong Sec-WebSocket-Accept"
        else:
            self.close()
        return outcome

    def open(self, target, headers=(), timeout=TIMEOUT, **options):
        if not self.send_handshake(target, headers, **options):
            return Outcome(None, True, 0.0, "refused")
        return self.read_handshake(timeout)

    def send(self, opcode, payload=b"", **options):
        """Writes one frame; False when the server has already closed the connection."""
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(TIMEOUT)
            self.sock.sendall(frame(opcode, payload, self.rng, **options))
            return True
        except OSError:
            return False

    def send_text(self, text):
        return self.send(TEXT, text.encode())

    def receive(self, deadline):
        """The next frame as (opcode, payload), or "eof" or "timeout"."""
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            remaining = deadline - time.monotonic()
            self.sock.setblocking(False)
            readable, _, _ = select.select([self.sock], [], [], max(0.0, remaining))
            if not readable:
                if remaining <= 0:
                    return "timeout"
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                return "eof"
            self.buffer += chunk

    def _parse(self):
        data = self.buffer
        if len(data) < 2:
            return None
        opcode, length, offset = data[0] & 0x0F, data[1] & 0x7F, 2
        if length == 126:
            if len(data) < 4:
                return None
            length, offset = struct.unpack(">H", data[2:4])[0], 4
        elif length == 127:
            if len(data) < 10:
                return None
            length, offset = struct.unpack(">Q", data[2:10])[0], 10
        key = None
        if data[1] & 0x80:
            key, offset = bytes(data[offset:offset + 4]), offset + 4
        if len(data) < offset + length:
            return None
        payload = bytes(data[offset:offset + length])
        del self.buffer[:offset + length]
        return opcode, masked(payload, key) if key else payload

    def until_close(self, timeout=TIMEOUT, answer_pings=True):
        """Reads until the server's close frame: ("close", code or None, the text messages before
        it), ("eof", None, messages) when the connection ends without one, or ("timeout", …)."""
        deadline = time.monotonic() + timeout
        messages = []
        while True:
            received = self.receive(deadline)
            if received in ("eof", "timeout"):
                return received, None, messages
            opcode, payload = received
            if opcode == CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                self.send(CLOSE, payload[:2])
                return "close", code, messages
            if opcode == PING and answer_pings:
                self.send(PONG, payload)
            elif opcode == TEXT:
                messages.append(payload.decode("utf-8", "replace"))

    def next_message(self, timeout=TIMEOUT):
        """The next text message, or ("close", code) / "eof" / "timeout"."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.receive(deadline)
            if received in ("eof", "timeout"):
                return received
            opcode, payload = received
            if opcode == TEXT:
                return payload.decode("utf-8", "replace")
            if opcode == CLOSE:
                return "close", struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            if opcode == PING:
                self.send(PONG, payload)

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
