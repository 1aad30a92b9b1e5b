"""The map page as served: Persian, right to left, no inline script, everything from this server."""

import re

from app import create_app

EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_the_map_page_is_persian_right_to_left_and_self_contained(client):
    response = client.get("/map")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="fa"' in html and 'dir="rtl"' in html
    assert not EXTERNAL_URL.search(html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    assert not INLINE_HANDLER.search(html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert "/static/vendor/leaflet/leaflet.js" in assets and "/static/js/map.js" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert 'data-tile-url=""' in html  # no tile server unless one is configured


def test_vendored_libraries_keep_their_licences(client):
    for path in ("leaflet/LICENSE", "vazirmatn/OFL.txt", "vazirmatn/Vazirmatn-Regular.woff2",
                 "vazirmatn/Vazirmatn-Regular.ttf", "leaflet/images/marker-icon.png"):
        assert client.get(f"/static/vendor/{path}").status_code == 200, path
    css = client.get("/static/vendor/vazirmatn/vazirmatn.css").get_data(as_text=True)
    assert not EXTERNAL_URL.search(css) and "https://" not in css


def test_the_start_page_links_the_map(client):
    assert 'href="/map"' in client.get("/").get_data(as_text=True)


def test_a_configured_tile_server_reaches_the_page(monkeypatch, database_url):
    monkeypatch.setenv("BAZRES_MAP_TILE_URL", "https://tiles.example/{z}/{x}/{y}.png")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    html = app.test_client().get("/map").get_data(as_text=True)
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html
