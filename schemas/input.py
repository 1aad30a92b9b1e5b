"""The base of every request schema (a body, a query, a pushed op): what no input may hold."""

from collections.abc import Mapping

import marshmallow as ma

NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


class InputSchema(ma.Schema):
    """Text holding U+0000 is refused, naming the field. PostgreSQL's text can neither store
    nor compare it (the query itself fails, a 500), while SQLite would store it: refused
    here, both databases answer the same.

    A `Raw` field is left to whoever loads it: a push's ops are each checked on their own,
    so that one bad op never sinks the others (DESIGN §5.2)."""

    @ma.pre_load
    def _no_nul(self, data, **kwargs):
        if isinstance(data, Mapping):
            raw = {field.data_key or name for name, field in self.fields.items() if _is_raw(field)}
            data_to_check = {key: value for key, value in data.items() if key not in raw}
        else:
            data_to_check = data
        found = sorted(_paths_with_nul(data_to_check))
        if found:
            raise ma.ValidationError({path: [NUL_MESSAGE] for path in found})
        return data


def _is_raw(field: ma.fields.Field) -> bool:
    inner = field.inner if isinstance(field, ma.fields.List) else field
    return type(inner) is ma.fields.Raw


def _paths_with_nul(value, path: str = ""):
    if isinstance(value, str):
        if NUL in value:
            yield path or "_schema"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield here
            else:
                yield from _paths_with_nul(item, here)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _paths_with_nul(item, f"{path}.{index}" if path else str(index))
