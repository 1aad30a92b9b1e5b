#!/usr/bin/env bash
# `make serve`: Bazres as it runs in production — gunicorn, several workers, PostGIS,
# attachments on disk. Creates the database (and the postgis extension) if it is missing,
# migrates, seeds an empty database, then hands the process to gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DATABASE_URL="${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/bazres}"
export ATTACHMENTS_DIR="${ATTACHMENTS_DIR:-$PWD/instance/attachments}"
# Failed logins counted in the database, so that every worker counts the same ones.
export BAZRES_RATELIMIT_STORAGE_URI="${BAZRES_RATELIMIT_STORAGE_URI:-database://}"
if [ -z "${SECRET_KEY:-}" ]; then
  # Flask's; Bazres signs nothing with it and keeps no cookie session (app.NoSessions).
  export SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
fi
mkdir -p "$ATTACHMENTS_DIR"
"$BIN/python" scripts/ensure_database.py "$DATABASE_URL"
"$BIN/flask" --app app db upgrade
"$BIN/flask" --app app seed --if-empty
echo "Serving on http://${BAZRES_BIND:-127.0.0.1:8000}/ (health: /healthz). Ctrl-C or SIGTERM stops it gracefully."
exec "$BIN/gunicorn" -c gunicorn.conf.py "app:create_app()"
