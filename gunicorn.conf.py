"""gunicorn settings for `make serve` (production-style serving). Environment overrides:
BAZRES_WORKERS, BAZRES_THREADS, BAZRES_BIND, BAZRES_GRACEFUL_TIMEOUT_S."""

import multiprocessing
import os

bind = os.environ.get("BAZRES_BIND", "127.0.0.1:8000")
# Threads per worker keep a few slow 2G uploads from holding a whole worker.
# gthread, with each request's wait for a thread measured: past capacity the app sheds a
# request that waited too long (503 and Retry-After; serving.py, app/shedding.py, BAZRES_SHED_AFTER_MS).
worker_class = "serving.QueueTimedWorker"
# One worker a core: a process runs one Python thread at a time (the GIL), so a worker a core
# keeps the cores busy while the threads wait on the database or a client; with two a core,
# four processes took turns on 2 cores, and in the 08:00 rush (bench/load.py --phones 1000,
# shed phones' returns booked) a served login's p95 was 586–706 ms in five runs, against
# 451–572 ms in twelve with one (issue 18). The price: half the threads to hold bodies that
# clients send slowly (8 on 2 cores, was 16). Photos go up in pieces, so a slow one holds a
# thread for a piece at a time; where many phones are on slow links, raise BAZRES_THREADS, or
# put a proxy that reads whole requests before passing them on (nginx) in front.
workers = int(os.environ.get("BAZRES_WORKERS", str(multiprocessing.cpu_count())))
threads = int(os.environ.get("BAZRES_THREADS", "4"))
# On SIGTERM (or SIGINT) gunicorn stops accepting, lets in-flight requests finish for up to
# this long, then exits: a push in progress either commits whole or not at all.
graceful_timeout = int(os.environ.get("BAZRES_GRACEFUL_TIMEOUT_S", "30"))
timeout = 60
# Each worker tells the master it is alive by touching a file, on every turn of its loop (every
# request): on a tmpfs that is a memory write, on the container's disk a filesystem call each
# time (6 % of a worker's samples on a pull, issue 18). gunicorn's own advice for containers.
worker_tmp_dir = os.environ.get("BAZRES_WORKER_TMP_DIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
keepalive = 5
# Access log without query strings: nothing secret travels in URLs, and this keeps it so.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# gunicorn's logger, but building only the atoms the format above names (serving.py). Naming a
# logger class turns off gunicorn's switch to its statsd logger: with --statsd-host, set
# logger_class = "gunicorn.instrument.statsd.Statsd" as well (or instead).
logger_class = "serving.AccessLogger"
errorlog = "-"


def post_worker_init(worker):
    """Once the worker has loaded the app: its objects (modules, SQLAlchemy's mappers and
    compiled statements, marshmallow's schemas) live as long as the worker, so they are moved
    out of the collector's way (gc.freeze), and young objects are collected less often: a
    push of 500 reports makes some 100,000 short-lived objects, and at the default threshold
    each pass re-scanned the app's as well (7 % of an in-process push of 500 on PostGIS,
    issue 18). Cycles are still collected, in passes ~30 times rarer."""
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
