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

The build is for this machine's CPU kind, like any `-march` build: copied to a CPU without
AVX2 it may die of an illegal instruction. So this leaves a note next to the library it built
(its sha256: app/argon2_guard.py) and the app refuses to start on a CPU without AVX2 while that
library is installed; run here, this puts PyPI's wheel back in its place. CFLAGS is set, not
added to: a `-march=native` of the caller's would bring in instructions the guard does not check.

Idempotent: a build of our own (a wheel tagged linux_x86_64, not manylinux) is left alone; a CPU
without AVX2, or whose flags cannot be read, keeps PyPI's wheel. The build needs a C compiler,
Python's headers (Debian: gcc, python3-dev) and CMake (Debian's `cmake`, or fetched from PyPI
with the other build tools); if it fails, the wheel stays and this says so: the service works
the same, at about 1.7x the CPU a password check.
"""

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# app/argon2_guard.py alone: importing the app would import argon2 (and refuse to, where this
# is to repair a build the CPU cannot run).
_spec = importlib.util.spec_from_file_location(
    "argon2_guard", Path(__file__).resolve().parents[1] / "app" / "argon2_guard.py")
guard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(guard)

PACKAGE = "argon2-cffi-bindings"
X86_64 = {"x86_64", "amd64"}


def installed_tags() -> list[str]:
    wheel = metadata.distribution(PACKAGE).read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]


def is_prebuilt() -> bool:
    """True for a wheel from PyPI (manylinux/musllinux tags), built for any x86-64 CPU."""
    return any("manylinux" in tag or "musllinux" in tag for tag in installed_tags())


def pip_install(*options: str, environment: dict | None = None) -> int:
    version = metadata.version(PACKAGE)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", "--no-cache-dir",
               *options, f"{PACKAGE}=={version}"]
    return subprocess.run(command, env=environment).returncode


def marker() -> Path:
    return guard.library_folder() / guard.MARKER


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which build is installed")
    args = parser.parse_args()
    avx2 = guard.cpu_has_avx2() if platform.machine().lower() in X86_64 else False
    ours = guard.is_avx2_build()

    if not avx2:
        reason = "has no AVX2" if avx2 is False else "does not say whether it has AVX2"
        if not ours:
            print(f"argon2: this CPU ({platform.machine()}) {reason}; PyPI's build is used as it is")
            return 0
        if args.check:
            print(f"argon2: {PACKAGE} was built with AVX2 and this CPU {reason}: run this script without --check")
            return 1
        print(f"argon2: this CPU {reason}: putting PyPI's wheel back in place of the AVX2 build", flush=True)
        if pip_install("--only-binary", ":all:") != 0:
            print(f"argon2: ERROR: could not install PyPI's wheel of {PACKAGE}", file=sys.stderr)
            return 1
        marker().unlink(missing_ok=True)
        return 0
    if not is_prebuilt():
        print(f"argon2: {PACKAGE} is a build of our own ({', '.join(installed_tags())}), "
              f"{'with AVX2' if ours else 'not made by this script'}")
        return 0
    if args.check:
        print(f"argon2: {PACKAGE} is PyPI's wheel, without AVX2 (about 1.7x the CPU a password check)")
        return 1
    print(f"argon2: building {PACKAGE} {metadata.version(PACKAGE)} from source with AVX2 (up to a minute)",
          flush=True)
    if pip_install("--no-binary", PACKAGE, environment=dict(os.environ, CFLAGS="-mavx2")) != 0 or is_prebuilt():
        print(f"argon2: WARNING: could not build {PACKAGE} with AVX2 (it needs a C compiler, Python's headers "
              "and CMake: Debian's gcc, python3-dev, cmake); PyPI's wheel stays: the same hashes at about 1.7x "
              "the CPU a password check", file=sys.stderr)
        return 0
    folder = guard.library_folder()
    (folder / guard.MARKER).write_text(guard.library_digest(folder) + "\n")
    print(f"argon2: {PACKAGE} built with AVX2 ({', '.join(installed_tags())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
