"""The OpenAPI document, the interactive docs and the start page, all served with no internet."""

import re

EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def test_openapi_document_lists_every_endpoint_with_bearer_auth(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.startswith(("/api/v1/docs", "/api/v1/openapi")):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            assert path in spec["paths"], path
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403"} <= set(me["responses"])
    login = spec["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in login and "201" in login["responses"]


def test_interactive_docs_load_their_assets_from_this_server(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert not EXTERNAL_URL.search(html)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/api/v1/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.data) > 10_000


def test_start_page_is_persian_right_to_left_and_self_contained(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="fa"' in html and 'dir="rtl"' in html
    assert not EXTERNAL_URL.search(html)
    assert "<script>" not in html  # no inline scripts
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_health_says_the_database_answers(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] in ("sqlite", "postgresql")
