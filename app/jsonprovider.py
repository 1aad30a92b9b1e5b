"""JSON for requests and responses through orjson: a 500-op push answer is most of a
megabyte, which orjson writes several times faster than the standard library."""

import json
import typing
import uuid
from datetime import date, datetime
from decimal import Decimal

import orjson
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj, default=_default, option=OPTIONS).decode()
        except TypeError:
            # orjson stops at 64-bit integers and at lone surrogates, and a rejected op is
            # echoed as it was sent: the standard library writes both (a lone surrogate as
            # its escape, `\\udc00`, which only ASCII output can carry).
            return json.dumps(obj, default=_default, ensure_ascii=True)

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def _default(value):
    if isinstance(value, orjson.Fragment):  # JSON written already (a stored record), for the fallback above
        return orjson.loads(orjson.dumps(value))
    # The same answers as Flask's own provider, so switching changes no wire form.
    if isinstance(value, datetime | date):
        return DefaultJSONProvider.default(value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return DefaultJSONProvider.default(value)


class JsonArgumentsParser(FlaskParser):
    """webargs' parser for the API's request bodies: orjson where it reads the body as the
    standard library would, the standard library where it may not.

    orjson reads a 500-op push five times faster, but it reads an integer past 64 bits as a
    float (10**30 would pass as a whole number of staff), and it refuses a lone surrogate
    escape, NaN and 1e400 outright. A body that may hold an integer of 19 digits or more
    (`may_hold_wide_integer`) is therefore read by the standard library, which keeps
    integers exact, and so is a body orjson refuses: the schemas then name the field that
    holds what is wrong, and a body that is not JSON is answered as before.

    The standard library's decoder recurses once per level of nesting, so a body of a few
    kilobytes nested a thousand deep ran out of stack: a 500. Such a body is read again by
    orjson, which nests without recursing and refuses more than 1024 levels as a decode
    error (answered 400); within that, the schemas refuse more than a few levels naming the
    field (schemas.input.MAX_DEPTH)."""

    def _raw_load_json(self, req) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not may_hold_wide_integer(body):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass  # the standard library's reading, or its error, as before
        try:
            return core.parse_json(body)
        except RecursionError:
            return orjson.loads(body)


def may_hold_wide_integer(body: bytes) -> bool:
    """Whether a JSON body may hold an integer of 19 digits or more, which orjson would read
    as a float (it reads up to 2**64 - 1 exactly, but not every 19-digit number). A JSON
    number starts the body or follows whitespace, `[`, `,`, `:` or `-`: a run of 19 digits
    after any of those counts, one inside a hash's hex (after a letter a-f or a quote) does
    not, so that a push of photos is not sent to the slower reader for its hashes. Looked for
    with bytes' own search once the body is translated to a few classes of byte: a regular
    expression took longer than orjson's whole reading."""
    classes = body.translate(_CLASSES)
    return classes.startswith(_DIGITS_19) or _NUMBER_19 in classes


_CLASSES = bytes(b"0"[0] if byte in b"0123456789" else b"x"[0] if byte in b"abcdefABCDEF" else
                 b"q"[0] if byte == b'"'[0] else b" "[0] for byte in range(256))
_DIGITS_19 = b"0" * 19
_NUMBER_19 = b" " + _DIGITS_19


def loads_exact(text: str | bytes):
    """JSON text as the standard library reads it where it may hold an integer of 19 digits
    or more (exact), else as orjson does (the same values, faster): for what was stored as
    sent, such as a quarantined op (app.repositories.ledger)."""
    data = text.encode() if isinstance(text, str) else text
    return json.loads(data) if may_hold_wide_integer(data) else orjson.loads(data)
