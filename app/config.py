"""Settings, read from the environment once when the app is created."""

import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'bazres.sqlite'}"


def _secret_key() -> str:
    # A random key per process is safe (tokens are stored hashed, not signed), but
    # flashes and CSRF in the pages need one key shared by every worker: set it.
    return os.environ.get("SECRET_KEY") or secrets.token_hex(32)


def from_environment() -> dict:
    """The app's configuration, from environment variables with working defaults."""
    database_url = os.environ.get("DATABASE_URL") or _default_database_url()
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": _secret_key(),
        "ATTACHMENTS_DIR": os.environ.get("ATTACHMENTS_DIR", str(INSTANCE_DIR / "attachments")),
        # Photos nobody references are cleaned up (`flask --app app cleanup-attachments`): uploads in
        # pieces untouched for this many hours, and stored photos no report names after this many days.
        "ATTACHMENT_PARTIAL_HOURS": float(os.environ.get("BAZRES_ATTACHMENT_PARTIAL_HOURS", "72")),
        "ATTACHMENT_UNREFERENCED_DAYS": float(os.environ.get("BAZRES_ATTACHMENT_UNREFERENCED_DAYS", "30")),
        "BAZRES_DEMO_PASSWORD": os.environ.get("BAZRES_DEMO_PASSWORD", "bazres-demo"),
        "TOKEN_TTL_HOURS": float(os.environ.get("BAZRES_TOKEN_TTL_HOURS", "168")),
        # Tests only: every pull checks each stored report record against its columns.
        "BAZRES_CHECK_STORED_RECORDS": os.environ.get("BAZRES_CHECK_STORED_RECORDS") == "1",
        # A label a deploy may set; it joins the inspector's app's release (app/pages/inspector_app.py).
        "APP_RELEASE_LABEL": os.environ.get("BAZRES_APP_RELEASE", ""),
        # The coverage map needs no tiles (the district polygons are its base map); a tile
        # server of your own (`https://tiles.example/{z}/{x}/{y}.png`) may be laid under them.
        "MAP_TILE_URL": os.environ.get("BAZRES_MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": os.environ.get("BAZRES_MAP_TILE_ATTRIBUTION", ""),
        # A push carries at most 5 MB of JSON (DESIGN §5.2); attachments have their own
        # limit and are streamed, so this is the cap on everything else.
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 5 * 1024 * 1024,
        # Visit lists and rounds (DESIGN §7): the travel model and the solver's budget.
        "TRAVEL_DETOUR_FACTOR": float(os.environ.get("BAZRES_DETOUR_FACTOR", "1.35")),
        "TRAVEL_SPEED_KMH": float(os.environ.get("BAZRES_SPEED_KMH", "20")),
        "VISIT_SERVICE_MINUTES": int(os.environ.get("BAZRES_SERVICE_MINUTES", "15")),
        "ROUTE_TIME_BUDGET_S": float(os.environ.get("BAZRES_ROUTE_BUDGET_S", "1.0")),
        "VISIT_LOOK_BACK_DAYS": int(os.environ.get("BAZRES_VISIT_LOOK_BACK_DAYS", "30")),
        # Failed logins allowed before 429 (flask-limiter syntax): for one username from one
        # address (the lock-out, which leaves the owner's own address alone), for one username
        # from all addresses together (looser: spread-out guessing), and from one address.
        "LOGIN_LIMIT_PER_USER_AT_ADDRESS": os.environ.get("BAZRES_LOGIN_LIMIT_PER_USER_AT_ADDRESS",
                                                          "5/minute;30/hour"),
        "LOGIN_LIMIT_PER_USER": os.environ.get("BAZRES_LOGIN_LIMIT_PER_USER", "100/hour"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("BAZRES_LOGIN_LIMIT_PER_ADDRESS", "30/minute;300/hour"),
        # `database://`: counted in this database, shared by every worker (app.ratelimit).
        "RATELIMIT_STORAGE_URI": os.environ.get("BAZRES_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Past capacity, a request that waited longer than this for a thread of `make serve`'s
        # workers is answered 503 `overloaded` with Retry-After, unstarted (app.shedding); 0: never.
        # (With 300, a login's p95 in the 08:00 rush was 480–570 ms; with 250, 450–505: issue 18.)
        "SHED_AFTER_MS": float(os.environ.get("BAZRES_SHED_AFTER_MS", "250")),
    }
