"""Argon2id as installed computes the standard's hashes, whichever build of argon2-cffi-bindings
`make install` ended with (scripts/argon2_build.py builds it with AVX2 where the CPU has it).

The known answers come from another implementation, libsodium's crypto_pwhash (PyNaCl 1.6.2,
ALG_ARGON2ID13, 32-byte output), so a build flag that changed a single bit of a hash fails here
rather than at an inspector's login on the first morning of Nowruz.
"""

import base64
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from argon2.low_level import Type, hash_secret_raw

from app import argon2_guard, passwords

ROOT = Path(__file__).resolve().parents[2]

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
    """scripts/argon2_build.py's build may die of an illegal instruction on a CPU without AVX2 (a
    venv or image moved to another machine): the app refuses to start rather than lose every login."""
    folder = tmp_path / "_argon2_cffi_bindings"
    folder.mkdir()
    (folder / "_ffi.abi3.so").write_bytes(b"a library built here")
    monkeypatch.setattr(argon2_guard, "library_folder", lambda: folder)
    monkeypatch.setattr(argon2_guard, "cpu_has_avx2", lambda: False)
    argon2_guard.check_the_build()  # no note beside it: PyPI's wheel or a build not ours, which runs anywhere

    (folder / argon2_guard.MARKER).write_text(argon2_guard.library_digest(folder) + "\n")
    with pytest.raises(RuntimeError, match="make clean install"):
        argon2_guard.check_the_build()

    monkeypatch.setattr(argon2_guard, "cpu_has_avx2", lambda: None)  # flags unreadable: not refused
    argon2_guard.check_the_build()
    monkeypatch.setattr(argon2_guard, "cpu_has_avx2", lambda: True)
    argon2_guard.check_the_build()
    monkeypatch.setattr(argon2_guard, "cpu_has_avx2", lambda: False)
    (folder / "_ffi.abi3.so").write_bytes(b"PyPI's wheel, installed over it since")
    argon2_guard.check_the_build()


def test_the_app_refuses_before_the_library_is_loaded():
    """The check runs as the app is imported, before argon2 loads the library (whose very loading
    might use an instruction the CPU lacks): in a fresh interpreter told the CPU has no AVX2 and
    the library is the AVX2 build, `import app` fails with the fix and the library is not loaded."""
    program = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("app.argon2_guard", {str(ROOT / "app" / "argon2_guard.py")!r})
        guard = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(guard)
        sys.modules["app.argon2_guard"] = guard
        guard.cpu_has_avx2 = lambda: False
        guard.is_avx2_build = lambda: True
        try:
            import app
        except RuntimeError as error:
            print("refused:", "make clean install" in str(error), "_argon2_cffi_bindings" in sys.modules)
        else:
            print("started")
    """)
    out = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "refused: True False", out.stdout + out.stderr


def test_avx2_is_read_from_the_cpus_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 ssse3 avx avx2 bmi2\n")
    assert argon2_guard.cpu_has_avx2(cpuinfo) is True
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 ssse3 avx avx512f_not_avx2\n")
    assert argon2_guard.cpu_has_avx2(cpuinfo) is False
    cpuinfo.write_text("processor\t: 0\n")  # no flags line (not x86)
    assert argon2_guard.cpu_has_avx2(cpuinfo) is None
    assert argon2_guard.cpu_has_avx2(tmp_path / "absent") is None
