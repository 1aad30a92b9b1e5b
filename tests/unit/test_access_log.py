"""serving.AccessLogger writes the access line gunicorn's own Logger writes, building only the
atoms the format names; a format naming others gets gunicorn's atoms whole."""

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from serving import AccessLogger

ENVIRON = {"REMOTE_ADDR": "10.1.2.3", "REQUEST_METHOD": "PATCH", "RAW_URI": "/api/v1/attachments/ab?x=1",
           "PATH_INFO": "/api/v1/attachments/ab", "QUERY_STRING": "x=1", "SERVER_PROTOCOL": "HTTP/1.1",
           "HTTP_USER_AGENT": 'phone "7"', "HTTP_REFERER": "http://x/"}


def _line(logger_class, format_: str, *, status="204 No Content", sent=0, elapsed=datetime.timedelta(0, 1, 234567)):
    config = Config()
    config.set("access_log_format", format_)
    logger = logger_class(config)
    response = SimpleNamespace(status=status, sent=sent, headers=[("Upload-Offset", "4096")])
    request = SimpleNamespace(headers=[("USER-AGENT", 'phone "7"')])
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, dict(ENVIRON), elapsed))
    return format_ % atoms


@pytest.mark.parametrize("format_", [
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms',  # gunicorn.conf.py's
    '%(h)s %(l)s "%(r)s" %(s)s %(b)s %(q)s %(T)s %(D)s %(L)s %(p)s',
])
@pytest.mark.parametrize("status, sent", [("204 No Content", 0), (200, 1234), ("404 NOT FOUND", None)])
def test_the_line_is_gunicorns(format_, status, sent):
    assert _line(AccessLogger, format_, status=status, sent=sent) == _line(Logger, format_, status=status, sent=sent)


def test_a_format_naming_other_atoms_gets_gunicorns_whole():
    format_ = '%(h)s "%(a)s" %({upload-offset}o)s %({user-agent}i)s %({path_info}e)s'
    line = _line(AccessLogger, format_)
    assert line == _line(Logger, format_)
    assert 'phone \\"7\\"' in line and "4096" in line and "/api/v1/attachments/ab" in line


def test_make_serve_uses_it():
    settings = {}
    exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(), settings)
    assert settings["logger_class"] == "serving.AccessLogger"
    assert set(AccessLogger.CHEAP) >= {"h", "m", "U", "H", "s", "B", "M"}


def test_for_make_serves_format_only_its_atoms_are_built():
    config = Config()
    settings = {}
    exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(), settings)
    config.set("access_log_format", settings["access_log_format"])
    logger = AccessLogger(config)
    assert logger._lean
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("Content-Type", "application/json")])
    atoms = logger.atoms(response, SimpleNamespace(headers=[("HOST", "x")]), dict(ENVIRON),
                         datetime.timedelta(0, 0, 5000))
    assert set(atoms) <= set(AccessLogger.CHEAP)  # no time, user, header or environ atoms
