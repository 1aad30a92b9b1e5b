"""Reading districts and offices through the HTTP API, as each role sees them."""

import json

from tests.support import assert_problem


def test_committee_sees_all_22_districts_as_geojson_with_office_counts(client):
    response = client.as_("committee1").get("/api/v1/districts")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = response.get_json(force=True)
    assert collection["type"] == "FeatureCollection"
    numbers = [f["properties"]["number"] for f in collection["features"]]
    assert numbers == list(range(1, 23))
    assert sum(f["properties"]["office_count"] for f in collection["features"]) >= 110
    assert all(f["properties"]["office_count"] >= 2 for f in collection["features"])
    first = collection["features"][0]
    assert first["geometry"]["type"] == "MultiPolygon"
    assert first["properties"]["name_fa"].startswith("منطقه")
    assert first["properties"]["name_en"] == "District 1"
    assert json.loads(response.headers["X-Pagination"])["total"] == 22


def test_inspector_sees_only_their_district(client):
    collection = client.as_("inspector-6a").get("/api/v1/districts").get_json(force=True)
    assert [f["properties"]["number"] for f in collection["features"]] == [6]


def test_district_head_cannot_read_another_district(client):
    assert client.as_("head-3").get("/api/v1/districts/3").status_code == 200
    assert_problem(client.as_("head-3").get("/api/v1/districts/4"), 403)


def test_unknown_district_is_404(client):
    assert_problem(client.as_("committee1").get("/api/v1/districts/23"), 404)


def test_office_list_is_paginated_and_scoped(client):
    response = client.as_("inspector-2b").get("/api/v1/offices?page_size=3&page=2")
    assert response.status_code == 200
    meta = json.loads(response.headers["X-Pagination"])
    assert meta["page"] == 2 and meta["total"] >= 3
    offices = response.get_json()
    assert len(offices) == 3
    assert {o["district"] for o in offices} == {2}
    assert set(offices[0]) >= {"id", "code", "name", "district", "category", "location", "address",
                               "phone", "status", "version"}
    assert offices[0]["location"]["type"] == "Point"


def test_inspector_asking_for_another_district_is_refused(client):
    assert_problem(client.as_("inspector-6a").get("/api/v1/offices?district=5"), 403)


def test_office_outside_scope_is_refused_and_inside_is_served(client):
    office = client.as_("committee1").get("/api/v1/offices?district=5&page_size=1").get_json()[0]
    assert client.as_("inspector-5a").get(f"/api/v1/offices/{office['id']}").get_json() == office
    assert_problem(client.as_("inspector-6a").get(f"/api/v1/offices/{office['id']}"), 403)


def test_unknown_office_is_404(client):
    assert_problem(client.as_("admin").get("/api/v1/offices/00000000-0000-0000-0000-000000000000"), 404)


def test_offices_as_geojson_on_request(client):
    for kwargs in ({"headers": {"Accept": "application/geo+json"}}, {}):
        url = "/api/v1/offices?district=7" + ("" if kwargs else "&format=geojson")
        response = client.as_("head-7").get(url, **kwargs)
        assert response.mimetype == "application/geo+json"
        collection = response.get_json(force=True)
        assert collection["type"] == "FeatureCollection"
        feature = collection["features"][0]
        assert feature["geometry"]["type"] == "Point"
        assert feature["properties"]["district"] == 7 and "location" not in feature["properties"]
        assert "X-Pagination" in response.headers


def test_bad_query_arguments_name_the_field(client):
    inspector = client.as_("inspector-1a")
    assert_problem(inspector.get("/api/v1/offices?district=23"), 422, "district")
    assert_problem(inspector.get("/api/v1/offices?near=abc"), 422, "near")
    assert_problem(inspector.get("/api/v1/offices?near=95,51"), 422, "near")
    assert_problem(inspector.get("/api/v1/offices?within_m=500"), 422, "within_m")
    assert_problem(inspector.get("/api/v1/offices?page_size=100000"), 422, "page_size")
