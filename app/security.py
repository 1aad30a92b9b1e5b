"""Security headers: a strict Content-Security-Policy on every page, and the usual hardening.

The pages have no inline scripts or styles and load nothing from elsewhere (vendored
files only), so the policy allows only this origin. The interactive API docs (Swagger
UI, /api/v1/docs) start with an inline script of their own and get a policy that allows it.
"""

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

PAGE_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'",
])
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        policy = DOCS_POLICY if request.path.startswith("/api/v1/docs") else PAGE_POLICY
        tiles = _origin(current_app.config.get("MAP_TILE_URL"))
        if tiles:  # a configured tile server (optional: the map needs none)
            policy = policy.replace("img-src 'self'", f"img-src 'self' {tiles}")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def register(app: Flask) -> None:
    app.after_request(_headers)
