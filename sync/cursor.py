"""The pull cursor: opaque to clients, a position in the change feed plus the scope it was for.

If the caller's scope changed since the cursor was issued (an inspector reassigned to
other districts), the cursor no longer fits: the pull answers `reset: true` and pages the
whole scope again.
"""

import base64
import hashlib
import json
from dataclasses import dataclass

VERSION = 1


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    seq: int
    scope: str  # a short hash of the caller's scope

    def encode(self) -> str:
        raw = json.dumps({"v": VERSION, "s": self.seq, "k": self.scope}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            if data["v"] != VERSION or not isinstance(data["s"], int) or data["s"] < 0:
                raise ValueError
            return cls(seq=data["s"], scope=str(data["k"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadCursor("This cursor was not issued by this server; pull with cursor null.") from exc


def scope_key(role: str, user_id: int, districts) -> str:
    text = f"{role}|{user_id}|{','.join(map(str, sorted(districts or [])))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
