"""The base of every request schema (a body, a query, a pushed op): what no input may hold."""

import re
from collections.abc import Mapping

import marshmallow as ma

NUL = "\x00"
# A user's name wherever one is given (the users table holds up to 64 characters).
USERNAME = ma.validate.Length(1, 64)
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."
SURROGATE_MESSAGE = ("Text may not contain a lone surrogate (U+D800 to U+DFFF, as a JSON escape such as "
                     "\\ud800 without its pair): it is not Unicode text.")
# A JSON string's surrogate pair decodes to one character beyond U+FFFF, so any surrogate
# left in decoded text is a lone one.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why no database can store `text` as it is, or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == NUL else SURROGATE_MESSAGE


def without_lone_surrogates(value):
    """`value` (any JSON) with each lone surrogate replaced by U+FFFD: what was sent, in a
    form UTF-8, and so every database and strict JSON parser, can carry."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {without_lone_surrogates(key): without_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_lone_surrogates(item) for item in value]
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
