"""What makes a replayed op the same op (DESIGN §5.2): pure functions, no database.

An `op_id` is the idempotency key, but a key is a name, not a proof: a phone with a bug,
or a hostile one, can send another op under an op_id that already landed. A replay is
answered `duplicate` only when it is the op that landed: the same entity, action and
record id, and the same digest of what it carried (its base version and data). Anything
else under a used op_id is refused, so a second report is never silently dropped as the
"duplicate" of the first.
"""

import hashlib
import json

import orjson


def op_digest(raw: dict) -> str:
    """SHA-256 of the op's base version and data, in a canonical JSON form (keys sorted),
    so the same op sent again with its keys in another order digests the same."""
    payload = {"base_version": raw.get("base_version"), "data": raw.get("data")}
    try:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson refuses (a lone surrogate): the standard encoder escapes it
        text = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    digest = _SHA256.copy()
    digest.update(text)
    return digest.hexdigest()


# Copied for each digest: making a new one (hashlib's py_evp_fromname) took some 8,000
# instructions here, more than hashing an op (1 % of a push of 500's, callgrind).
_SHA256 = hashlib.sha256()


def same_op(landed_entity: str, landed_action: str, landed_id, landed_digest: str | None, raw: dict) -> bool:
    """Is `raw` the op the ledger holds? A ledger entry from before digests were kept
    (digest None) is matched on entity, action and id alone."""
    if (raw.get("entity"), raw.get("action"), str(raw.get("id"))) != (landed_entity, landed_action, str(landed_id)):
        return False
    return landed_digest is None or landed_digest == op_digest(raw)
