"""`flask --app app import-offices FILE`: CSV and GeoJSON, all rows or none.

The command writes through `db.session`, which the autouse fixture binds to the test's
rolled-back transaction, so every import here is read back through the API in the same
test and disappears afterwards. Expected districts come from shapely on the fixture polygons.
"""

import csv
import json
import re
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COLUMNS = ["code", "name", "category", "latitude", "longitude", "address", "phone", "status"]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# Three real places in Tehran; the second has its latitude written in Persian digits.
GOOD_ROWS = [
    {"code": "IMP-TAJRISH", "name": "دفتر خدمات تجریش", "category": "standard", "latitude": 35.8045,
     "longitude": 51.4334, "address": "تهران، میدان تجریش", "phone": "021-22700001", "status": "active"},
    {"code": "IMP-ENGHELAB", "name": "دفتر خدمات انقلاب", "category": "permit_hub", "latitude": 35.7009,
     "longitude": 51.3914, "address": "تهران، میدان انقلاب", "phone": "021-66400002", "status": "suspended",
     "persian_latitude": True},
    {"code": "IMP-RAHAHAN", "name": "دفتر خدمات راه‌آهن", "category": "standard", "latitude": 35.6566,
     "longitude": 51.4005, "address": "تهران، میدان راه‌آهن", "phone": "021-55600003", "status": "active"},
]


@pytest.fixture(scope="module")
def district_polygons() -> dict[int, object]:
    collection = json.loads((FIXTURES / "districts.geojson").read_text(encoding="utf-8"))
    return {int(f["properties"]["area"]): shape(f["geometry"]) for f in collection["features"]}


def district_at(polygons, lon: float, lat: float) -> int:
    (number,) = [n for n, polygon in polygons.items() if polygon.contains(Point(lon, lat))]
    return number


def csv_value(row: dict, column: str) -> str:
    text = str(row.get(column, ""))
    return text.translate(PERSIAN) if column == "latitude" and row.get("persian_latitude") else text


def write_csv(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([csv_value(row, column) for column in columns] for row in rows)
    return path


def write_geojson(path: Path, rows: list[dict]) -> Path:
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
        "properties": {k: row[k] for k in COLUMNS if k not in ("latitude", "longitude")},
    } for row in rows]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def import_file(app, path: Path):
    return app.test_cli_runner().invoke(args=["import-offices", str(path)])


def offices_by_code(client) -> dict[str, dict]:
    """Every office committee1 can see, by code, paging through the whole list."""
    committee, offices, page = client.as_("committee1"), {}, 1
    while True:
        response = committee.get(f"/api/v1/offices?page={page}&page_size=500")
        assert response.status_code == 200
        offices.update({office["code"]: office for office in response.get_json()})
        meta = json.loads(response.headers["X-Pagination"])
        if "next_page" not in meta:
            return offices
        page = meta["next_page"]


def assert_imported_as_in_file(client, rows: list[dict], polygons, version: int = 1) -> None:
    offices = offices_by_code(client)
    for row in rows:
        listed = offices[row["code"]]
        office = client.as_("committee1").get(f"/api/v1/offices/{listed['id']}").get_json()
        assert office == listed
        assert office["district"] == district_at(polygons, row["longitude"], row["latitude"])
        assert office["version"] == version
        assert office["location"]["type"] == "Point"
        assert office["location"]["coordinates"] == pytest.approx([row["longitude"], row["latitude"]], abs=1e-9)
        for key in ("name", "category", "address", "phone", "status"):
            assert office[key] == row[key], key


def test_a_good_csv_imports_every_row_with_the_district_decided_by_location(app, client, tmp_path,
                                                                             district_polygons):
    result = import_file(app, write_csv(tmp_path / "offices.csv", GOOD_ROWS))
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged" in result.output
    assert_imported_as_in_file(client, GOOD_ROWS, district_polygons)
    districts = {district_at(district_polygons, r["longitude"], r["latitude"]) for r in GOOD_ROWS}
    assert len(districts) == 3, "the rows should land in three different districts"


def test_importing_the_same_file_again_changes_nothing(app, client, tmp_path, district_polygons):
    path = write_csv(tmp_path / "offices.csv", GOOD_ROWS)
    assert import_file(app, path).exit_code == 0
    again = import_file(app, path)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 3 unchanged" in again.output
    assert_imported_as_in_file(client, GOOD_ROWS, district_polygons, version=1)


def test_changing_one_phone_updates_only_that_office_and_bumps_its_version(app, client, tmp_path,
                                                                           district_polygons):
    path = write_csv(tmp_path / "offices.csv", GOOD_ROWS)
    assert import_file(app, path).exit_code == 0
    changed = [dict(GOOD_ROWS[0], phone="021-22799999"), *GOOD_ROWS[1:]]
    result = import_file(app, write_csv(path, changed))
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 2 unchanged" in result.output
    assert_imported_as_in_file(client, changed[:1], district_polygons, version=2)
    assert_imported_as_in_file(client, changed[1:], district_polygons, version=1)


def test_a_good_geojson_feature_collection_imports(app, client, tmp_path, district_polygons):
    result = import_file(app, write_geojson(tmp_path / "offices.geojson", GOOD_ROWS))
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged" in result.output
    assert_imported_as_in_file(client, GOOD_ROWS, district_polygons)


def test_a_bad_csv_names_every_problem_by_line_and_field_and_imports_nothing(app, client, tmp_path,
                                                                             district_polygons):
    first, second = GOOD_ROWS[0], GOOD_ROWS[2]
    rows = [
        first,                                                     # line 2: good
        dict(GOOD_ROWS[1], code="IMP-BADLAT", latitude="abc"),     # line 3
        dict(second, code="IMP-OUTSIDE", latitude=35.0, longitude=50.0),  # line 4
        second,                                                    # line 5: good
        dict(first, name="the same code again"),                   # line 6
        dict(second, code="IMP-OPEN", status="open"),              # line 7
    ]
    assert not any(district_polygons[n].contains(Point(50.0, 35.0)) for n in district_polygons)
    result = import_file(app, write_csv(tmp_path / "bad.csv", rows))
    assert result.exit_code == 1, result.output

    problems = re.findall(r"line (\d+): ([\w/]+): (\S.*)", result.output)
    by_line = {int(line): field for line, field, _ in problems}
    assert sorted(by_line) == [3, 4, 6, 7], result.output
    assert len(problems) == 4, result.output
    assert by_line[3] == "latitude" and by_line[6] == "code" and by_line[7] == "status"
    assert "latitude" in by_line[4] or "longitude" in by_line[4]
    assert "nothing was imported" in result.output

    offices = offices_by_code(client)
    assert not {row["code"] for row in rows} & set(offices), "a rejected file must import nothing"


def test_a_bad_geojson_feature_is_named_by_its_number(app, client, tmp_path):
    rows = [GOOD_ROWS[0], dict(GOOD_ROWS[1], status="open")]
    result = import_file(app, write_geojson(tmp_path / "offices.geojson", rows))
    assert result.exit_code == 1, result.output
    assert "feature 2: status:" in result.output and "feature 1:" not in result.output
    assert GOOD_ROWS[0]["code"] not in offices_by_code(client)


@pytest.mark.parametrize("content,message", [
    ('{"type": "FeatureCollection", "features": [', "Not valid JSON"),
    ("this is not json", "Not valid JSON"),
    ('{"type": "Feature", "geometry": null, "properties": {}}', "must be a FeatureCollection"),
    ('[{"type": "Feature"}]', "must be a FeatureCollection"),
])
def test_a_geojson_file_that_is_not_a_feature_collection_is_rejected_clearly(app, tmp_path, content, message):
    path = tmp_path / "offices.geojson"
    path.write_text(content, encoding="utf-8")
    result = import_file(app, path)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "nothing was imported" in result.output


def test_an_unknown_district_column_is_ignored_and_the_location_decides(app, client, tmp_path,
                                                                        district_polygons):
    true_districts = [district_at(district_polygons, r["longitude"], r["latitude"]) for r in GOOD_ROWS]
    rows = [dict(row, district=true % 22 + 1, notes="ignore me") for row, true in zip(GOOD_ROWS, true_districts)]
    result = import_file(app, write_csv(tmp_path / "labelled.csv", rows, [*COLUMNS, "district", "notes"]))
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    offices = offices_by_code(client)
    assert [offices[row["code"]]["district"] for row in rows] == true_districts
    assert all(offices[row["code"]]["district"] != row["district"] for row in rows)


def test_a_file_that_is_not_utf8_is_rejected_with_the_reason(app, tmp_path):
    path = tmp_path / "windows-1256.csv"
    path.write_bytes(",".join(COLUMNS).encode() + "\nX-1,دفتر,standard,35.7,51.4,,,\n".encode("cp1256"))
    result = import_file(app, path)
    assert result.exit_code == 1
    assert "file: encoding: Not UTF-8" in result.output


def test_a_row_after_a_multi_line_field_is_numbered_by_its_own_first_line(app, tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text(",".join(COLUMNS) + "\n"
                    'M-1,"دفتر\nدو خطی",standard,35.7009,51.3914,,,\n'
                    "M-2,دفتر,standard,abc,51.3914,,,\n", encoding="utf-8")
    result = import_file(app, path)
    assert result.exit_code == 1
    assert "line 4: latitude:" in result.output
