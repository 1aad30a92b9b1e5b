"""Spatial queries on the real database, checked against shapely and pyproj on the same data.

Nothing here is a hard-coded answer: the districts come from shapely on
fixtures/districts.geojson and the distances from pyproj's geodesics (geo.distance).
"""

import json
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from geo.distance import metres

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CENTRES = [(35.6997, 51.3380), (35.7219, 51.3890), (35.6604, 51.4201)]  # Azadi sq., Keshavarz, south-east
RADII = [1500, 4000]
DISTANCE_TOLERANCE_M = 0.5


@pytest.fixture(scope="module")
def district_polygons() -> dict[int, object]:
    collection = json.loads((FIXTURES / "districts.geojson").read_text(encoding="utf-8"))
    return {int(f["properties"]["area"]): shape(f["geometry"]) for f in collection["features"]}


def districts_containing(polygons, lon: float, lat: float) -> list[int]:
    here = Point(lon, lat)
    return sorted(number for number, polygon in polygons.items() if polygon.contains(here))


def all_pages(client, url: str, page_size: int = 500) -> list[dict]:
    """Every item of a paginated list, following X-Pagination to the last page."""
    items, page = [], 1
    while True:
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}page={page}&page_size={page_size}")
        assert response.status_code == 200, response.get_data(as_text=True)
        items += response.get_json()
        meta = json.loads(response.headers["X-Pagination"])
        if "next_page" not in meta:
            assert len(items) == meta["total"]
            return items
        page = meta["next_page"]


def lon_lat(office: dict) -> tuple[float, float]:
    lon, lat = office["location"]["coordinates"]
    return lon, lat


def geodesic_from(lat: float, lon: float, office: dict) -> float:
    return metres(lon, lat, *lon_lat(office))


@pytest.fixture
def committee(client):
    return client.as_("committee1")


@pytest.fixture
def every_office(committee) -> list[dict]:
    return all_pages(committee, "/api/v1/offices")


def assert_nearest_first_and_matching_pyproj(offices: list[dict], lat: float, lon: float) -> None:
    distances = [office["distance_m"] for office in offices]
    assert distances == sorted(distances), "not nearest first"
    for office in offices:
        expected = geodesic_from(lat, lon, office)
        assert abs(office["distance_m"] - expected) <= DISTANCE_TOLERANCE_M, (office["code"], expected)


def assert_same_offices_as_pyproj_radius(found: list[dict], candidates: list[dict], lat, lon, radius) -> None:
    """`found` holds every candidate within `radius` by pyproj and none beyond it (offices
    within half a metre of the circle may go either way: the databases round differently)."""
    codes = {office["code"] for office in found}
    for office in candidates:
        distance = geodesic_from(lat, lon, office)
        if distance <= radius - DISTANCE_TOLERANCE_M:
            assert office["code"] in codes, (office["code"], distance, radius)
        elif distance > radius + DISTANCE_TOLERANCE_M:
            assert office["code"] not in codes, (office["code"], distance, radius)
    assert codes <= {office["code"] for office in candidates}


def test_every_seeded_office_is_in_the_district_whose_polygon_contains_it(every_office, district_polygons):
    assert len(every_office) >= 110
    for office in every_office:
        containing = districts_containing(district_polygons, *lon_lat(office))
        assert containing == [office["district"]], (office["code"], containing)


def test_every_district_has_offices_according_to_shapely_too(every_office, district_polygons):
    by_shapely = {districts_containing(district_polygons, *lon_lat(o))[0] for o in every_office}
    assert by_shapely == set(district_polygons) == set(range(1, 23))


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize("lat,lon", CENTRES)
def test_near_within_returns_exactly_the_offices_within_the_geodesic_radius_nearest_first(
        committee, every_office, lat, lon, radius):
    found = all_pages(committee, f"/api/v1/offices?near={lat},{lon}&within_m={radius}")
    assert found, "pick centres with offices around them"
    assert_same_offices_as_pyproj_radius(found, every_office, lat, lon, radius)
    assert_nearest_first_and_matching_pyproj(found, lat, lon)
    assert all(office["distance_m"] <= radius + DISTANCE_TOLERANCE_M for office in found)


def test_a_larger_radius_finds_more_offices_than_a_smaller_one(committee):
    lat, lon = CENTRES[1]
    small = all_pages(committee, f"/api/v1/offices?near={lat},{lon}&within_m={RADII[0]}")
    large = all_pages(committee, f"/api/v1/offices?near={lat},{lon}&within_m={RADII[1]}")
    assert {o["code"] for o in small} < {o["code"] for o in large}


def test_an_inspector_near_a_point_only_gets_offices_of_their_own_district(
        client, every_office, district_polygons):
    lat, lon = CENTRES[1]
    radius = RADII[1]
    (district,) = districts_containing(district_polygons, lon, lat)
    citywide = all_pages(client.as_("committee1"), f"/api/v1/offices?near={lat},{lon}&within_m={radius}")
    assert {o["district"] for o in citywide} - {district}, "the circle should cross into other districts"

    found = all_pages(client.as_(f"inspector-{district}a"), f"/api/v1/offices?near={lat},{lon}&within_m={radius}")
    assert found and {o["district"] for o in found} == {district}
    own_district = [o for o in every_office
                    if districts_containing(district_polygons, *lon_lat(o)) == [district]]
    assert_same_offices_as_pyproj_radius(found, own_district, lat, lon, radius)
    assert_nearest_first_and_matching_pyproj(found, lat, lon)
    assert [o["code"] for o in found] == [o["code"] for o in citywide if o["district"] == district]


@pytest.mark.parametrize("lat,lon", CENTRES)
def test_near_without_a_radius_orders_every_office_by_distance_across_pages(committee, every_office, lat, lon):
    found = all_pages(committee, f"/api/v1/offices?near={lat},{lon}", page_size=25)
    assert sorted(o["code"] for o in found) == sorted(o["code"] for o in every_office)
    assert_nearest_first_and_matching_pyproj(found, lat, lon)
    by_pyproj = [geodesic_from(lat, lon, o) for o in found]
    assert all(b >= a - 2 * DISTANCE_TOLERANCE_M for a, b in zip(by_pyproj, by_pyproj[1:]))


def test_near_without_a_radius_orders_an_inspectors_offices_by_distance(client, district_polygons):
    lat, lon = CENTRES[2]
    (district,) = districts_containing(district_polygons, lon, lat)
    found = all_pages(client.as_(f"head-{district}"), f"/api/v1/offices?near={lat},{lon}")
    assert len(found) >= 2 and {o["district"] for o in found} == {district}
    assert_nearest_first_and_matching_pyproj(found, lat, lon)


def test_a_list_without_near_has_no_distances(committee):
    offices = committee.get("/api/v1/offices?page_size=5").get_json()
    assert offices and all(office.get("distance_m") is None for office in offices)


@pytest.mark.parametrize("persian,ascii_", [
    ("۳۵.۷۰,۵۱.۳۹", "35.70,51.39"),
    ("۳۵٫۶۶۰۴،۵۱٫۴۲۰۱", "35.6604,51.4201"),  # Persian decimal mark and comma too
])
def test_persian_digits_in_near_give_the_same_offices_as_ascii_digits(committee, persian, ascii_):
    for radius in ("", f"&within_m={RADII[1]}"):
        in_persian = all_pages(committee, f"/api/v1/offices?near={persian}{radius}")
        in_ascii = all_pages(committee, f"/api/v1/offices?near={ascii_}{radius}")
        assert in_persian == in_ascii and in_ascii
    lat, lon = (float(v) for v in ascii_.split(","))
    assert_nearest_first_and_matching_pyproj(in_persian, lat, lon)
