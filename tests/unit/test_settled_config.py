"""serving.SettledConfig: a worker reads each gunicorn setting as gunicorn's Config gives it,
as a plain attribute (not through Config.__getattr__); Config's properties and `set` work as
they did. The served worker uses it: the live tests of `make serve` (tests/live_server/,
tests/faults/) run through it."""

import pytest
from gunicorn.config import Config

from serving import SettledConfig


def _config() -> Config:
    config = Config()
    config.set("bind", ["127.0.0.1:8123"])
    config.set("threads", 3)
    config.set("keepalive", 7)
    config.set("access_log_format", '%(h)s "%(r)s"')
    config.set("worker_class", "serving.QueueTimedWorker")
    config.set("pre_request", lambda worker, req: None)
    return config


def test_every_setting_reads_as_gunicorns():
    config = _config()
    settled = SettledConfig(config)
    for name in config.settings:
        assert getattr(settled, name) == getattr(config, name), name
    for name in ("is_ssl", "address", "worker_class_str", "worker_class", "logger_class", "sendfile", "env",
                 "proc_name"):
        assert getattr(settled, name) == getattr(config, name), name
    assert settled.settings is config.settings


def test_a_setting_is_read_without_getattr(monkeypatch):
    settled = SettledConfig(_config())
    asked = []
    monkeypatch.setattr(Config, "__getattr__", lambda self, name: asked.append(name))
    assert (settled.keepalive, settled.limit_request_line, settled.strip_header_spaces) == (7, 4094, False)
    assert not settled.is_ssl  # a property of Config's, reading two settings
    assert asked == []


def test_set_is_kept():
    settled = SettledConfig(_config())
    settled.set("keepalive", 9)
    assert settled.keepalive == 9 == settled.settings["keepalive"].get()
    with pytest.raises(AttributeError):
        settled.set("no_such_setting", 1)
    with pytest.raises(AttributeError):
        settled.keepalive = 3  # as Config refuses it


def test_the_served_worker_reads_the_settled_copy(monkeypatch):
    """QueueTimedWorker, in its own process, before gunicorn's set-up runs: the worker and its
    logger (a copy of the master's after the fork) read a SettledConfig."""
    from types import SimpleNamespace

    from gunicorn.workers.gthread import ThreadWorker

    from serving import QueueTimedWorker

    seen = {}
    monkeypatch.setattr(ThreadWorker, "init_process", lambda self: seen.update(cfg=self.cfg, log=self.log.cfg))
    worker = QueueTimedWorker.__new__(QueueTimedWorker)
    config = _config()
    worker.cfg, worker.log = config, SimpleNamespace(cfg=config)
    worker.init_process()
    assert isinstance(seen["cfg"], SettledConfig) and seen["log"] is seen["cfg"]
    assert seen["cfg"].keepalive == 7
