"""The base of every request schema (a body, a query, a pushed op): what no input may hold."""

import math
import re
from collections.abc import Mapping

import marshmallow as ma

NUL = "\x00"
# A user's name wherever one is given (the users table holds up to 64 characters).
USERNAME = ma.validate.Length(1, 64)
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."
SURROGATE_MESSAGE = ("Text may not contain a lone surrogate (U+D800 to U+DFFF, as a JSON escape such as "
                     "\\ud800 without its pair): it is not Unicode text.")
# No request of the API nests deeper than a pushed op's photo list (op → data → photos →
# photo); past this, input is refused before anything walks it, so no recursion (ours,
# marshmallow's or the JSON encoder's) meets a hostile depth.
MAX_DEPTH = 10
DEPTH_MESSAGE = f"Nested too deep: at most {MAX_DEPTH} levels of objects and lists."
TOO_DEEP_MARK = f"(nested deeper than {MAX_DEPTH} levels: not kept)"
# A JSON string's surrogate pair decodes to one character beyond U+FFFF, so any surrogate
# left in decoded text is a lone one.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why no database can store `text` as it is, or None when it can."""
    if NUL not in text:
        # Without a regular expression, which took 1.9 ms of a push of 500 reports (their
        # notes and checklist items; this, 0.7): UTF-8 cannot encode a lone surrogate either.
        if text.isascii():
            return None
        try:
            text.encode()
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
        return None
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == NUL else SURROGATE_MESSAGE


def too_deep(value, limit: int = MAX_DEPTH) -> str | None:
    """The path to where `value` nests deeper than `limit`, or None. The path names the
    object keys that lead there ("data.checklist.a"), not list indexes: a person can find
    a key, not the 600th index of a list in a list. Iterative: the value may nest deeper
    than Python can recurse."""
    stack = [(value, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if not isinstance(item, Mapping | list | tuple):
            continue
        if depth >= limit:
            return path or "_schema"
        if isinstance(item, Mapping):
            stack.extend((child, depth + 1, f"{path}.{key}" if path else str(key)) for key, child in item.items())
        else:
            stack.extend((child, depth + 1, path) for child in item)
    return None


def without_lone_surrogates(value, depth: int = 0):
    """`value` (any JSON) as it can be stored and answered: each lone surrogate replaced by
    U+FFFD (what was sent, in a form UTF-8, and so every database and strict JSON parser,
    can carry), NaN and ±Infinity (which the standard library's parser lets through, and no
    JSON holds) as the text `NaN`, `Infinity`, `-Infinity`, and anything nested deeper than
    MAX_DEPTH replaced by a mark."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping | list | tuple) and depth > MAX_DEPTH:
        return TOO_DEEP_MARK
    if isinstance(value, Mapping):
        return {without_lone_surrogates(key): without_lone_surrogates(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_lone_surrogates(item, depth + 1) for item in value]
    return value


class InputSchema(ma.Schema):
    """Text holding U+0000 or a lone surrogate is refused, naming the field. PostgreSQL's
    text can neither store nor compare U+0000 (the query itself fails, a 500), while SQLite
    would store it; a lone surrogate cannot even be encoded as UTF-8 for either database
    (the JSON parser webargs uses lets `"\\ud800"` through). Refused here, both databases
    answer the same.

    A `Raw` field is left to whoever loads it: a push's ops are each checked on their own,
    so that one bad op never sinks the others (DESIGN §5.2)."""

    @ma.pre_load
    def _no_nul(self, data, **kwargs):
        if isinstance(data, Mapping):
            raw = {field.data_key or name for name, field in self.fields.items() if _is_raw(field)}
            data_to_check = {key: value for key, value in data.items() if key not in raw}
        else:
            data_to_check = data
        deep = too_deep(data_to_check)
        if deep is not None:
            raise ma.ValidationError({deep: [DEPTH_MESSAGE]})
        found = dict(_unstorable_paths(data_to_check))
        if found:
            raise ma.ValidationError({path: [found[path]] for path in sorted(found)})
        return data


def _is_raw(field: ma.fields.Field) -> bool:
    inner = field.inner if isinstance(field, ma.fields.List) else field
    return type(inner) is ma.fields.Raw


def _unstorable_paths(value, path: str = ""):
    """(path, why) for each text in `value` that cannot be stored."""
    if isinstance(value, str):
        why = unstorable(value)
        if why:
            yield path or "_schema", why
    elif isinstance(value, Mapping):
        for key, item in value.items():
            why = unstorable(str(key))
            # A bad key is named as best it can be: its bad characters shown as U+FFFD.
            here = UNSTORABLE.sub("\ufffd", f"{path}.{key}" if path else str(key))
            if why:
                yield here, why
            else:
                yield from _unstorable_paths(item, here)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unstorable_paths(item, f"{path}.{index}" if path else str(index))
