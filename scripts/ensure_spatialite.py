"""Make sure SpatiaLite can be loaded: install Debian's package when we are root, else say how."""

import os
import shutil
import subprocess
import sys

PACKAGE = "libsqlite3-mod-spatialite"


def loads() -> bool:
    try:
        import pysqlite3.dbapi2 as sqlite

        connection = sqlite.connect(":memory:")
        connection.enable_load_extension(True)
        connection.load_extension("mod_spatialite")
        connection.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not loadable"
        return False


def main() -> int:
    if loads():
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"SpatiaLite is missing: installing Debian's {PACKAGE}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", PACKAGE], env=env, check=False)
        if not loads():
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", PACKAGE], env=env, check=True)
        if loads():
            return 0
    print(f"SpatiaLite (mod_spatialite) cannot be loaded. Install it with:\n\n"
          f"    sudo apt-get install -y {PACKAGE}\n", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
