"""Password hashes: Argon2id, at the first of OWASP's equivalent settings for it (19 MiB,
2 passes, one lane; Password Storage Cheat Sheet), through argon2-cffi.

Why not werkzeug's default (scrypt, N=2^15, r=8, p=1): it is below OWASP's minimum for
scrypt (N=2^17) and yet cost 93 ms of CPU a check here, against 20 ms for Argon2id at the
setting above; on the first morning of Nowruz every phone logs in at once (README
"Security"). Hashes made earlier (werkzeug's `scrypt:` and `pbkdf2:`) still verify and
are replaced by an Argon2id hash at the user's next successful login.

Why not OWASP's 7 MiB, 5-pass setting, listed as of equal defence and 0.84x the CPU of a
check here (bench/passwords_bench.py): it does 0.92x the work for an attacker too, and one
bound by memory (GPUs) gets some 3x the guesses from the same hardware (cost ~ memory^2 x
passes); the cheapest of OWASP's minimums for 6-8 % of the rush's server CPU was not worth
that (bench/HISTORY.md, "An eleventh machine"). Hashes of any other setting are replaced at the next login.

`make install` builds argon2-cffi-bindings with AVX2 where the CPU has it (scripts/argon2_build.py):
the same hashes in 0.54-0.61x the CPU of PyPI's wheel. Such a build may die of an illegal
instruction on a CPU without AVX2, so it is checked before argon2 is imported (app.argon2_guard).
"""

from werkzeug.security import check_password_hash

from app import argon2_guard

argon2_guard.check_the_build()  # before the library is loaded: it may not run on this CPU

from argon2 import PasswordHasher  # noqa: E402
from argon2.exceptions import InvalidHashError, VerificationError  # noqa: E402

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
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
