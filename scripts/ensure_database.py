"""Create a PostgreSQL database and its postgis extension if they are missing (for `make serve`)."""

import sys

import psycopg
from sqlalchemy.engine import make_url


def main(url: str) -> None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return  # SQLite: the file is made on first use
    libpq = parsed.set(drivername="postgresql")
    name = parsed.database
    with psycopg.connect(libpq.set(database="postgres").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    with psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


if __name__ == "__main__":
    main(sys.argv[1])
