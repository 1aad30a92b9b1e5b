"""Password hashes: Argon2id, at the last of OWASP's five settings of equal defence for it
(7 MiB, 5 passes, one lane; Password Storage Cheat Sheet), through argon2-cffi.

OWASP gives five settings, from 46 MiB and one pass to 7 MiB and five, which "provide an
equal level of defense, and the only difference is a trade off between CPU and RAM usage".
The last costs the least CPU here and the least memory for logins checked at once (eight
threads on 2 cores in the 08:00 rush): a check 0.84x the 19 MiB, 2-pass setting's alone and
0.78x with both cores busy (bench/passwords_bench.py, README "Load and faults"), and 7 MiB a
check rather than 19. Hashes made at an earlier setting still verify and are replaced at
the user's next successful login, as other schemes' are.

Why not werkzeug's default (scrypt, N=2^15, r=8, p=1): it is below OWASP's minimum for
scrypt (N=2^17) and yet cost 93 ms of CPU a check here, against 20 ms for Argon2id at
19 MiB; on the first morning of Nowruz every phone logs in at once (README "Load and
faults"). Hashes made earlier (werkzeug's `scrypt:` and `pbkdf2:`) still verify and are
replaced by an Argon2id hash at the user's next successful login.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

# OWASP's settings, each (MiB, passes): (46, 1), (19, 2), (12, 3), (9, 4), (7, 5); one lane.
_HASHER = PasswordHasher(time_cost=5, memory_cost=7 * 1024, parallelism=1)
_ARGON2 = "$argon2"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored: str, password: str) -> bool:
    if not stored.startswith(_ARGON2):
        return check_password_hash(stored, password)  # werkzeug's own formats
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash of another scheme or of other Argon2 settings than today's."""
    return not stored.startswith(_ARGON2) or _HASHER.check_needs_rehash(stored)
