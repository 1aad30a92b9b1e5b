"""Build argon2-cffi-bindings from source with AVX2 on an x86-64 CPU that has it: PyPI's wheel runs
Argon2id in about 1.7x the CPU.

    .venv/bin/python scripts/argon2_build.py           # make install runs it
    .venv/bin/python scripts/argon2_build.py --check   # say which build is installed, change nothing

Every login checks a password with Argon2id (app/passwords.py). PyPI's manylinux wheel of
argon2-cffi-bindings is built for any x86-64 CPU; the same vendored library built with `-mavx2`
(its optimised code's AVX2 rounds; SSE2 or SSSE3 alone measured no faster than the wheel, AVX-512
no faster than AVX2) computes the same hashes in 0.54-0.61x the CPU (bench/passwords_bench.py
--builds). The hash and its setting are unchanged: an attacker runs optimised code anyway, so the
defender running it too costs no defence. tests/unit/test_passwords.py checks the installed build
against Argon2id hashes from libsodium's own implementation, so a build that computed anything
else fails the suite.

The build is for this machine's CPU kind, like any `-march` build: a venv copied to a CPU
without AVX2 would die of an illegal instruction at the first login. So this leaves a note in the
venv (the built library's sha256) and the app refuses to start on a CPU without
AVX2 while that library is installed, naming the fix (`make clean install`).

Idempotent: a build of our own (a wheel tagged linux_x86_64, not manylinux) is left alone; a CPU
without AVX2 keeps PyPI's wheel. If the build fails (no C compiler, no network for CMake), the
wheel stays and this says so; the service works the same, at about 1.7x the CPU a password check.
"""

import argparse
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.passwords import AVX2_MARKER, cpu_has_avx2, library_digest  # noqa: E402

PACKAGE = "argon2-cffi-bindings"
X86_64 = {"x86_64", "amd64"}


def installed_tags() -> list[str]:
    wheel = metadata.distribution(PACKAGE).read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]


def is_prebuilt() -> bool:
    """True for a wheel from PyPI (manylinux/musllinux tags), built for any x86-64 CPU."""
    return any("manylinux" in tag or "musllinux" in tag for tag in installed_tags())


def build() -> int:
    version = metadata.version(PACKAGE)
    flags = f"{os.environ.get('CFLAGS', '')} -mavx2".strip()
    environment = dict(os.environ, ARGON2_CFFI_USE_SSE2="1", CFLAGS=flags)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", "--no-cache-dir",
               "--no-binary", PACKAGE, f"{PACKAGE}=={version}"]
    print(f"argon2: building {PACKAGE} {version} from source with AVX2 (up to a minute)", flush=True)
    return subprocess.run(command, env=environment).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which build is installed")
    args = parser.parse_args()

    if platform.machine().lower() not in X86_64 or not cpu_has_avx2():
        print(f"argon2: this CPU ({platform.machine()}) has no AVX2; PyPI's build is used as it is")
        return 0
    if not is_prebuilt():
        state = "with AVX2" if AVX2_MARKER.is_file() and AVX2_MARKER.read_text().strip() == library_digest() \
            else "not by this script"
        print(f"argon2: {PACKAGE} is a build of our own ({', '.join(installed_tags())}), {state}")
        return 0
    if args.check:
        print(f"argon2: {PACKAGE} is PyPI's wheel, without AVX2 (about 1.7x the CPU a password check)")
        return 1
    if build() != 0 or is_prebuilt():
        print(f"argon2: WARNING: could not build {PACKAGE} with AVX2 (needs a C compiler and CMake); "
              "PyPI's wheel stays: the same hashes at about 1.7x the CPU a password check", file=sys.stderr)
        return 0
    AVX2_MARKER.write_text(library_digest() + "\n")
    print(f"argon2: {PACKAGE} built with AVX2 ({', '.join(installed_tags())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
