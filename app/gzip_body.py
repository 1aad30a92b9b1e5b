"""Request bodies sent with `Content-Encoding: gzip` (phones on 2G compress their pushes).

A WSGI middleware: the body is inflated before Flask reads it, with the same size limit as
an uncompressed body, so a small bomb cannot become a large body.
"""

import io
import zlib

from werkzeug.wrappers import Request


class GzipRequestBody:
    def __init__(self, app, max_size: int, problem):
        self.app = app
        self.max_size = max_size
        self.problem = problem  # (environ, start_response, code, detail) -> iterable

    def __call__(self, environ, start_response):
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if not encoding or encoding == "identity" or not environ.get("PATH_INFO", "").startswith("/api/"):
            return self.app(environ, start_response)
        if encoding != "gzip":
            return self.problem(environ, start_response, "unsupported-media-type",
                                f"Content-Encoding {encoding!r} is not supported; send gzip or none.")
        if int(environ.get("CONTENT_LENGTH") or 0) > self.max_size:
            return self.problem(environ, start_response, "payload-too-large",
                                f"The body is over {self.max_size} bytes.")
        compressed = Request(environ).get_data(cache=False)
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(compressed, self.max_size + 1)
            if len(body) > self.max_size or inflater.unconsumed_tail:
                return self.problem(environ, start_response, "payload-too-large",
                                    f"The body inflates to over {self.max_size} bytes.")
            if not inflater.eof:
                raise zlib.error("truncated")
        except zlib.error:
            return self.problem(environ, start_response, "malformed-json",
                                "The body is not valid gzip (Content-Encoding: gzip).")
        environ = dict(environ, **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        environ.pop("HTTP_CONTENT_ENCODING", None)
        return self.app(environ, start_response)
