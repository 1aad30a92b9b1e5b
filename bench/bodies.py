"""Hostile request bodies, made on the fly, and what they cost a server: for
bench/hostile_bench.py and the live-server tests (tests/fuzz/test_hostile_bodies.py).

Bodies are iterators of pieces, never held whole: a 300 MB upload costs the sender 64 KB.
`send` writes the request from a thread of its own and reads the answer meanwhile, so an
answer that comes before the body is all sent (a 401 or 413 mid-upload) is seen when it
comes, whatever the server then does with the rest. `PeakRss` measures the most any one of
the server's processes grew while a request ran (the kernel's high-water mark, reset first).
"""

import http.client
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

MB = 1024 * 1024
PIECE = 64 * 1024


def zeros(total: int) -> Iterator[bytes]:
    """`total` zero bytes, a piece at a time."""
    piece = bytes(PIECE)
    for start in range(0, total, PIECE):
        yield piece[:min(PIECE, total - start)]


def gzipped(pieces: Iterable[bytes], level: int = 9) -> Iterator[bytes]:
    """The pieces as one gzip stream, compressed as they come. Level 0 stores them (a gzip
    body as large as what it inflates to); level 9 makes a bomb (1 GB of zeros: about 1 MB)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in pieces:
        out = compressor.compress(piece)
        if out:
            yield out
    yield compressor.flush()


def json_bytes(total: int) -> Iterator[bytes]:
    """A JSON document (a string inside an object) of about `total` bytes: valid once whole."""
    yield b'{"protocol": 1, "pad": "'
    yield from (piece.replace(b"\0", b"a") for piece in zeros(total))
    yield b'"}'


@dataclass
class Answer:
    status: int | None  # None: the server closed the connection without answering
    body: bytes
    seconds: float  # from the first byte sent to the answer's status line
    sent: int  # body bytes the sender got into the socket before it stopped
    error: str = ""


def send(url: str, method: str, path: str, pieces: Iterable[bytes], headers: dict | None = None, *,
         chunked: bool = True, length: int | None = None, timeout: float = 120) -> Answer:
    """One request whose body is `pieces`, chunked or with `Content-Length: length`; the
    answer as soon as it comes (the rest of the body is then not sent)."""
    host, port = url.rsplit("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    stop = threading.Event()
    sent = [0]

    def write() -> None:
        try:
            sock.sendall(head)
            for piece in pieces:
                if stop.is_set():
                    return
                if piece:
                    sock.sendall(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
                    sent[0] += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the answer is what counts

    began = time.monotonic()
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    response = http.client.HTTPResponse(sock, method=method)
    try:
        response.begin()
        seconds = time.monotonic() - began
        body = response.read()
        answer = Answer(response.status, body, seconds, sent[0])
    except (OSError, http.client.HTTPException) as error:
        answer = Answer(None, b"", time.monotonic() - began, sent[0], f"{type(error).__name__}: {error}")
    finally:
        stop.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a writer blocked on a full socket
        except OSError:
            pass
        writer.join(timeout)
        sock.close()
    return answer


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """`with PeakRss(server.pids) as peak: …`, then `peak.growth`: the most bytes any one
    process grew above its resident size at the start, at its peak during the block (each
    process's VmHWM is reset through /proc/<pid>/clear_refs first, then read after)."""

    def __init__(self, pids: Callable[[], list[int]]):
        self.pids = pids
        self.before: dict[int, int] = {}
        self.growth = 0

    def __enter__(self) -> "PeakRss":
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                self.before[pid] = _status_kb(pid, "VmRSS")
            except OSError:
                continue
        return self

    def __exit__(self, *_exc) -> None:
        grown = []
        for pid, before in self.before.items():
            try:
                grown.append(_status_kb(pid, "VmHWM") - before)
            except OSError:
                continue
        self.growth = max(0, *grown) * 1024
