"""Whether the argon2-cffi-bindings installed can run on this CPU, asked before it is imported.

`make install` builds argon2-cffi-bindings with AVX2 where the CPU has it (scripts/argon2_build.py):
the same hashes in 0.54-0.61x the CPU of PyPI's wheel. That build may die of an illegal
instruction on a CPU without AVX2 (a venv, a site-packages or an image moved from another
machine), so `app.passwords` calls `check_the_build` before it imports argon2: the app refuses to
start there, naming the fix, rather than lose every login. The build leaves MARKER next to the
library it built (so it travels with it), holding that library's sha256: a library replaced since
(PyPI's wheel, which runs anywhere) no longer matches, and nothing is refused.

No import of argon2 here, nor of the rest of the app: scripts/argon2_build.py loads this file alone.
"""

import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "_argon2_cffi_bindings"
MARKER = "BAZRES-AVX2-BUILD"
CPUINFO = Path("/proc/cpuinfo")


def cpu_has_avx2(cpuinfo: Path = CPUINFO) -> bool | None:
    """True or False as the CPU's flags say; None when they cannot be read (no /proc)."""
    try:
        with cpuinfo.open() as lines:
            for line in lines:
                if line.startswith("flags"):
                    return "avx2" in line.split()
    except OSError:
        return None
    return None


def library_folder() -> Path | None:
    """Where the installed bindings are, found without importing them."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def library_digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(f.read_bytes() for f in sorted(folder.glob("_ffi*.so")))).hexdigest()


def is_avx2_build() -> bool:
    """Is the library installed the one scripts/argon2_build.py built with AVX2?"""
    folder = library_folder()
    if folder is None or not (folder / MARKER).is_file():
        return False
    return (folder / MARKER).read_text().strip() == library_digest(folder)


def check_the_build() -> None:
    if cpu_has_avx2() is False and is_avx2_build():
        raise RuntimeError("argon2-cffi-bindings here was built with AVX2 on another machine and this CPU has "
                           "none: every login would die of an illegal instruction. Rebuild it here: make clean "
                           "install (or: .venv/bin/python scripts/argon2_build.py)")
