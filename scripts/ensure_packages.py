"""Make sure the Debian packages Bazres needs are there: install them when we are root, else say how.

    python scripts/ensure_packages.py spatialite            # make run
    python scripts/ensure_packages.py spatialite chromium   # make test (the browser tests)
"""

import os
import shutil
import subprocess
import sys


def spatialite_loads() -> bool:
    try:
        import pysqlite3.dbapi2 as sqlite

        connection = sqlite.connect(":memory:")
        connection.enable_load_extension(True)
        connection.load_extension("mod_spatialite")
        connection.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not loadable"
        return False


def chromium_found() -> bool:
    return shutil.which(os.environ.get("BAZRES_CHROMIUM", "/usr/bin/chromium")) is not None


NEEDS = {
    "spatialite": (spatialite_loads, ["libsqlite3-mod-spatialite"]),
    "chromium": (chromium_found, ["chromium", "fonts-dejavu-core"]),
}


def main(names: list[str]) -> int:
    missing = [name for name in names if not NEEDS[name][0]()]
    if not missing:
        return 0
    packages = [p for name in missing for p in NEEDS[name][1]]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Missing {', '.join(missing)}: installing Debian's {' '.join(packages)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, check=True)
        missing = [name for name in names if not NEEDS[name][0]()]
        if not missing:
            return 0
    print(f"{', '.join(missing)} not available. Install with:\n\n"
          f"    sudo apt-get install -y {' '.join(packages)}\n", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["spatialite"]))
