"""marshmallow's error messages as the API names them: one list of messages per dotted field path."""


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into `{"a.b.0.c": ["…"]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for field, msgs in flatten_messages(value, name).items():
                out.setdefault(field, []).extend(msgs)
    elif isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        out[prefix or "body"] = list(messages)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            for field, msgs in flatten_messages(item, prefix).items():
                out.setdefault(field, []).extend(msgs)
    else:
        out[prefix or "body"] = [str(messages)]
    return out
