"""Request bodies on /api/: read as streams with hard limits, and inflated as they are read
when sent with `Content-Encoding: gzip` (phones on 2G compress their pushes).

A WSGI middleware that reads nothing itself: it puts a bounded stream in place of
`wsgi.input`, and the body is read when the view parses it, which is after `requires` has
checked the token (every view's outermost decorator): an anonymous client's body is never
read. The stream holds one piece of input and one of output at a time and answers 413 as
soon as more than `max_size` bytes have come, of the body as sent or of what it inflates
to: a 300 MB gzip, or 1 MB that inflates to 1 GB, costs the server no more than the limit.

A chunked body (no Content-Length) is held to the limit here too. Werkzeug's own limit
stops reading such a body at exactly the limit without a word, so a push over 5 MB read
as broken JSON (400) instead of too large (413); here the byte after the limit is looked
for, and is a 413.
"""

import io
import time
import zlib

from werkzeug.wsgi import get_content_length

from app.errors import INFLATED, Problem
from serving import QUEUED_S

PIECE = 64 * 1024
# The moment an /api/ request's first bytes were there (time.time()), before its body is
# read and before its wait for a thread under `make serve`: a push's "server receive time"
# (DESIGN §5.2), which a body trickling in over 2G for minutes must not move.
ARRIVED_AT = "bazres.arrived_at"


class RequestBodyLimits:
    def __init__(self, app, max_size: int, problem):
        self.app = app
        self.max_size = max_size
        self.problem = problem  # (environ, start_response, code, detail) -> iterable

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith("/api/"):
            return self.app(environ, start_response)
        environ[ARRIVED_AT] = time.time() - environ.get(QUEUED_S, 0.0)
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            return self.problem(environ, start_response, "unsupported-media-type",
                                f"Content-Encoding {encoding!r} is not supported; send gzip or none.")
        length = get_content_length(environ)
        # As werkzeug does: a body without a length is read only from a server that ends
        # it itself (chunked, `wsgi.input_terminated`); otherwise there is none.
        declared = length if length is not None or environ.get("wsgi.input_terminated") else 0
        if encoding == "gzip":
            sent = Capped(environ["wsgi.input"], declared, self.max_size, "The body (gzip, as sent)")
            environ = dict(environ, **{"wsgi.input": Inflating(sent, self.max_size), "wsgi.input_terminated": True,
                                       INFLATED: True})
            environ.pop("CONTENT_LENGTH", None)
            environ.pop("HTTP_CONTENT_ENCODING", None)
        elif declared is None:
            environ = dict(environ, **{"wsgi.input": Capped(environ["wsgi.input"], None, self.max_size, "The body")})
        return self.app(environ, start_response)


def _too_large(what: str, limit: int) -> Problem:
    return Problem("payload-too-large", f"{what} is over the limit of {limit} bytes.")


class Capped(io.RawIOBase):
    """The body as the client sends it: `declared` bytes (Content-Length), or up to the end
    when None; more than `limit` is a 413, raised before the byte past the limit is handed on."""

    def __init__(self, source, declared: int | None, limit: int, what: str):
        self.source, self.left, self.limit, self.what = source, declared, limit, what
        self.count = 0
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left is not None and self.left > self.limit:
            raise Problem("payload-too-large", f"{self.what} is over the limit of {self.limit} bytes "
                                               f"(Content-Length: {self.left}).")
        want = min(len(buffer), self.limit - self.count, len(buffer) if self.left is None else self.left)
        data = self.source.read(want) if want > 0 else b""
        self.count += len(data)
        if self.left is not None:
            self.left -= len(data)
        elif self.count == self.limit and not self.ended:
            # The reader stops at the limit (werkzeug does): whether more follows is known
            # only by reading one byte more.
            if self.source.read(1):
                raise _too_large(self.what, self.limit)
            self.ended = True
        buffer[:len(data)] = data
        return len(data)


class Inflating(io.RawIOBase):
    """A gzip stream, inflated a piece at a time as it is read: at most `limit` bytes out."""

    def __init__(self, sent: Capped, limit: int):
        self.sent, self.limit = sent, limit
        self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not len(buffer):
            return 0
        data = self._inflate(max(1, min(len(buffer), self.limit - self.count)))
        self.count += len(data)
        # As in Capped: a reader that stops at the limit would never ask for the byte after it.
        if self.count > self.limit or (self.count == self.limit and self._inflate(1)):
            raise _too_large("The body, inflated,", self.limit)
        buffer[:len(data)] = data
        return len(data)

    def _inflate(self, room: int) -> bytes:
        """Up to `room` more bytes (b"" at the end of the body), reading input as needed. A gzip
        body may be several members one after the other (RFC 1952; what `cat a.gz b.gz` and
        some streaming compressors write): each is inflated in turn, and bytes after a member
        that do not begin another are refused, never dropped."""
        while True:
            if self.inflater.eof:
                # Zero bytes after a member are padding, skipped as gzip(1) and Python's gzip skip them.
                pending = self.inflater.unused_data.lstrip(b"\0")
                while not pending:
                    pending = self.sent.read(PIECE)
                    if not pending:
                        return b""
                    pending = pending.lstrip(b"\0")
                self.inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                pending = self.inflater.unconsumed_tail or self.sent.read(PIECE)
            if not pending:
                raise Problem("malformed-json", "The body is not valid gzip (Content-Encoding: gzip): it ends "
                                                "before the gzip stream does.")
            try:
                data = self.inflater.decompress(pending, room)
            except zlib.error as error:
                raise Problem("malformed-json", f"The body is not valid gzip (Content-Encoding: gzip): {error}.")
            if data:
                return data
