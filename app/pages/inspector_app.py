"""The inspector's app (DESIGN §10a): its shell, manifest and service worker under `/app/`.

The app is static files (`app/static/app/`) plus three answers made here:

- `/app/` the shell page, which names every asset with the app's release in its query;
- `/app/manifest.webmanifest`, scope `/app/`;
- `/app/sw.js`, the service worker, whose text carries the release and the list of files it
  keeps for offline use. The release is a hash of those files' bytes (and of
  `BAZRES_APP_RELEASE`, a label a deploy may set), so any change to the app changes the
  worker's bytes, the browser installs the new worker, and the new worker drops only the
  old release's cache: the synced data and the outbox live in IndexedDB, which no release
  touches.
"""

import base64
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, redirect, render_template

from app.security import PAGE_POLICY

bp = Blueprint("inspector_app", __name__)

STATIC = Path(__file__).resolve().parents[1] / "static"
TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "inspector_app.html"
# What the worker keeps for a whole round offline: the app, its fonts, Leaflet. The
# district map is data (district polygons from the sync), kept in IndexedDB.
SHELL_FILES = (
    "app/css/app.css",
    "app/js/main.js", "app/js/store.js", "app/js/net.js", "app/js/sync.js", "app/js/photos.js",
    "app/js/hours.js", "app/js/fa.js", "app/js/ui.js", "app/js/screens.js", "app/js/map.js",
    "app/vendor/idb/idb.js",
    "app/icons/icon-192.png", "app/icons/icon-512.png", "app/icons/icon-maskable-512.png",
    "vendor/vazirmatn/vazirmatn.css", "vendor/vazirmatn/Vazirmatn-Regular.woff2",
    "vendor/vazirmatn/Vazirmatn-Bold.woff2",
    "vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png", "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png", "vendor/leaflet/images/layers.png",
)


WORKER = STATIC / "app" / "sw.js"
RELEASE_FILES = tuple(STATIC / name for name in SHELL_FILES) + (WORKER, TEMPLATE)


@lru_cache(maxsize=8)
def _release_of(label: str, stamps: tuple) -> str:
    digest = hashlib.sha256(label.encode())
    for path, _, _ in stamps:
        digest.update(str(path.relative_to(STATIC.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def release() -> str:
    """The app's release: changes whenever a file of it (or the deploy's label) changes.

    Hashed once per set of file stamps (a stat of each file per call, no read)."""
    stamps = tuple((path, path.stat().st_mtime_ns, path.stat().st_size) for path in RELEASE_FILES)
    return _release_of(current_app.config.get("APP_RELEASE_LABEL", ""), stamps)


def asset(name: str) -> str:
    return f"/static/{name}?v={release()}"


@bp.get("/app")
def app_root():
    return redirect("/app/", code=301)


@bp.get("/app/")
def shell():
    html = render_template("inspector_app.html", release=release(), asset=asset,
                           label=current_app.config.get("APP_RELEASE_LABEL", ""))
    response = Response(html)
    # The worker serves the shell offline; online, the browser must never keep a stale one.
    response.headers["Cache-Control"] = "no-cache"
    # The page's one inline script is its import map (browsers take no external one): the
    # policy allows exactly that text, by its hash, and nothing else inline.
    import_map = _IMPORT_MAP.search(html).group(1)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
        "script-src 'self'", f"script-src 'self' 'sha256-{digest}'")
    return response


_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


@bp.get("/app/manifest.webmanifest")
def manifest():
    body = {
        "name": "بازرس — بازدید دفاتر خدمات الکترونیک",
        "short_name": "بازرس",
        "description": "گزارش بازدید میدانی از دفاتر خدمات الکترونیک شهر تهران، با کار بی‌اینترنت",
        "lang": "fa", "dir": "rtl",
        "id": "/app/", "start_url": "/app/", "scope": "/app/",
        "display": "standalone", "orientation": "portrait",
        "background_color": "#f6f7f9", "theme_color": "#14532d",
        "icons": [
            {"src": asset("app/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": asset("app/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": asset("app/icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/app/sw.js")
def service_worker():
    files = ["/app/", "/app/manifest.webmanifest"] + [asset(name) for name in SHELL_FILES]
    text = WORKER.read_text(encoding="utf-8")
    text = text.replace("__RELEASE__", release()).replace('"__FILES__"', json.dumps(files))
    response = Response(text, mimetype="text/javascript")
    # The browser checks the worker for updates on every visit; it must ask us, not a cache.
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["Service-Worker-Allowed"] = "/app"  # the scope takes in /app itself
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
