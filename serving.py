"""make serve's gunicorn worker: gunicorn's threaded worker, with each request's wait for a
thread put in its WSGI environ (`QUEUED_S`, a key only the server sets), from which the app
sheds a request that waited too long (app/shedding.py).

Outside the `app` package on purpose: gunicorn's master loads the worker class, and importing
anything of `app` would load the whole application into the master too (66 MB more, issue 18).
"""

import os
import re
import threading
import time

from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

QUEUED_S = "bazres.queued_s"
# Set by the app on an answer after which the connection must close (a request shed with a
# large body unread: gunicorn would otherwise read the rest of it on a thread before the
# connection's next request, the very thread the shed meant to free).
CLOSE_AFTER = "bazres.close_after"


class SettledConfig(Config):
    """gunicorn's settings with each one's value kept on the instance, read as a plain attribute.

    gunicorn reads a setting as `cfg.name`, which Config answers in `__getattr__`: Python 3.11
    gets there only after its ordinary lookup has failed, formatting an AttributeError's
    message and dropping it, and then calls the setting's `get()`. The parser, the environ,
    the worker's loop and the access log read settings some 25 times a request (a twelfth of
    a tiny GET's instructions, issue 18). A worker's settings do not change while it lives
    (gunicorn reloads by starting new workers); this object's own `set` updates its copy, a
    Setting changed behind its back (`cfg.settings[name].set`) would not be seen. Config's
    properties (`is_ssl`, `worker_class`, `sendfile`, ...) stay properties, now reading plain
    attributes; the settings they stand in front of are not copied."""

    def __init__(self, cfg: Config):
        # Not Config.__init__, which would make a second set of settings: this one's are cfg's.
        state = vars(self)
        state.update(vars(cfg))
        state.update((name, setting.get()) for name, setting in cfg.settings.items() if not hasattr(Config, name))

    def set(self, name, value):
        super().set(name, value)
        if not hasattr(Config, name):
            vars(self)[name] = self.settings[name].get()


class QueueTimedWorker(ThreadWorker):
    """gunicorn's threaded worker, with each request's wait for a thread put in its environ,
    and its settings read as plain attributes (SettledConfig)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queued = threading.local()

    def init_process(self):
        # In the worker's own process (its __init__ runs in the master, whose logger this
        # one is a copy of after the fork): the worker, its logger and the parser it makes
        # read the settled copy.
        self.cfg = self.log.cfg = SettledConfig(self.cfg)
        super().init_process()

    def enqueue_req(self, conn):
        # Called when a request's first bytes are there (a new connection, or a kept-alive
        # one readable again): from here on it waits for a thread.
        conn.bazres_ready_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        now = time.monotonic()
        self._queued.seconds = now - getattr(conn, "bazres_ready_at", now)
        return super().handle(conn)

    def load_wsgi(self):
        super().load_wsgi()
        app, queued = self.wsgi, self._queued

        def stamped(environ, start_response):
            environ[QUEUED_S] = getattr(queued, "seconds", 0.0)
            answer = app(environ, start_response)
            if environ.get(CLOSE_AFTER):  # before the headers go out: they say Connection: close
                start_response.__self__.force_close()
            return answer

        self.wsgi = stamped


class AccessLogger(Logger):
    """gunicorn's logger, its access line built from only the atoms access_log_format names.

    gunicorn's own builds every atom for every request, whatever the format uses: the time
    (strftime), the Basic-auth user, and one per request header, response header and environ
    key, each then escaped; some 4 % of a photo's PATCH (bench/cycle_instructions.py). These
    are the same atoms, written the same way; a format naming any other falls back to gunicorn's."""

    # The atoms worked out here, as gunicorn's Logger.atoms works them out.
    CHEAP = frozenset("hlrsmUqHbBTDMLp")

    def setup(self, cfg):
        super().setup(cfg)
        named = set(re.findall(r"%\(([^)]*)\)", cfg.access_log_format))
        self._lean = named <= self.CHEAP

    def atoms(self, resp, req, environ, request_time):
        if not self._lean:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        seconds, micros = request_time.seconds, request_time.microseconds
        return {
            "h": environ.get("REMOTE_ADDR", "-"), "l": "-",
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status, "m": environ.get("REQUEST_METHOD"), "U": environ.get("PATH_INFO"),
            "q": environ.get("QUERY_STRING"), "H": environ.get("SERVER_PROTOCOL"),
            "b": str(sent) if sent is not None else "-", "B": sent,
            "T": seconds, "D": seconds * 1_000_000 + micros, "M": seconds * 1000 + int(micros / 1000),
            "L": "%d.%06d" % (seconds, micros), "p": f"<{os.getpid()}>",
        }
