"""Argon2id as installed computes the standard's hashes, whichever build of argon2-cffi-bindings
`make install` ended with (scripts/argon2_build.py builds it with AVX2 where the CPU has it).

The known answers come from another implementation, libsodium's crypto_pwhash (PyNaCl 1.6.2,
ALG_ARGON2ID13, 32-byte output), so a build flag that changed a single bit of a hash fails here
rather than at an inspector's login on the first morning of Nowruz.
"""

import base64

import pytest
from argon2.low_level import Type, hash_secret_raw

from app import passwords

KNOWN = [
    # password, salt, passes, KiB, libsodium's hash
    ("bazres-demo", b"Bazres-KAT-salt1", 2, 19456,
     "0da6e946724dc248d30d89fd262114ceab7bf097f9aa7d8512a6a704f3166620"),
    ("گذرواژهٔ بازرس ۱۴۰۵", bytes(range(16)), 2, 19456,
     "54a3cb2e9a720c2ad3571f5c5dfe290be0cb402bfade64f42bc45ef002db06f6"),
    ("bazres-demo", b"\xff" * 16, 5, 7168,
     "c7f3206a3bf952838eb5b4a9b37bb7fb565045b7a6c9c0350b810f52c191a0be"),
]


def encoded(salt: bytes, passes: int, kib: int, digest: bytes) -> str:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")
    return f"$argon2id$v=19$m={kib},t={passes},p=1${b64(salt)}${b64(digest)}"


@pytest.mark.parametrize(("password", "salt", "passes", "kib", "expected"), KNOWN)
def test_argon2id_as_installed_gives_libsodiums_hashes(password, salt, passes, kib, expected):
    digest = hash_secret_raw(password.encode(), salt, time_cost=passes, memory_cost=kib, parallelism=1,
                             hash_len=32, type=Type.ID)
    assert digest.hex() == expected


@pytest.mark.parametrize(("password", "salt", "passes", "kib", "expected"), KNOWN)
def test_a_hash_made_by_libsodium_logs_in_with_its_password_only(password, salt, passes, kib, expected):
    stored = encoded(salt, passes, kib, bytes.fromhex(expected))
    assert passwords.verify(stored, password)
    assert not passwords.verify(stored, password + " ")
    assert passwords.needs_rehash(stored) == ((passes, kib) != (2, 19456))


def test_an_avx2_build_on_a_cpu_without_avx2_refuses_to_start_and_says_how_to_fix_it(tmp_path, monkeypatch):
    """scripts/argon2_build.py's build dies of an illegal instruction on a CPU without AVX2 (a venv
    moved to another machine): the app refuses to start rather than lose every login."""
    marker = tmp_path / "bazres-argon2-avx2"
    monkeypatch.setattr(passwords, "AVX2_MARKER", marker)
    monkeypatch.setattr(passwords, "cpu_has_avx2", lambda: False)
    passwords.check_the_build()  # no note: PyPI's wheel or a build not ours, which runs anywhere

    marker.write_text(passwords.library_digest() + "\n")
    with pytest.raises(RuntimeError, match="make clean install"):
        passwords.check_the_build()

    monkeypatch.setattr(passwords, "cpu_has_avx2", lambda: True)
    passwords.check_the_build()
    monkeypatch.setattr(passwords, "cpu_has_avx2", lambda: False)
    marker.write_text("0" * 64 + "\n")  # the library was replaced since (pip install of the wheel)
    passwords.check_the_build()


def test_avx2_is_read_from_the_cpus_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 ssse3 avx avx2 bmi2\n")
    assert passwords.cpu_has_avx2(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 ssse3 avx avx512f_not_avx2\n")
    assert not passwords.cpu_has_avx2(cpuinfo)
    assert not passwords.cpu_has_avx2(tmp_path / "absent")
