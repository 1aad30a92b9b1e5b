"""The committee's CSV, read whole over HTTP from a real server: the rows are streamed after
the request's own session is gone, which the test client (inside the test's app context)
never showed."""

import csv
import io
from datetime import timedelta

import pytest

from app.hours import calendar
from tests.sync.helpers import envelope, op, report_data
from tests.violations.test_scenarios import at

INSPECTOR = "inspector-9a"  # district 9: no other live test reports there
NOTE = '=HYPERLINK("http://x","y")'


def days(first: str, count: int) -> list[str]:
    start = calendar.to_gregorian(calendar.parse_date(first))
    return [calendar.format_date(calendar.from_gregorian(start + timedelta(days=n))) for n in range(count)]


@pytest.fixture(scope="module")
def cases(live) -> dict[str, int]:
    """More than a batch of cases in district 9 (each office found closed at 10:00 on each
    day of Farvardin and Ordibehesht 1405: those in mandated hours open a case), one case
    with a second report; returns {case id: its reports}."""
    offices = live.request("GET", "/api/v1/offices?district=9&page_size=10", user=INSPECTOR).json()
    ops = [op(data=report_data(office, state="closed", observed_at=at(day, "10:00")), changed_at=at(day, "10:00"))
           for office in offices for day in days("1405-01-05", 62)]
    counts = {}
    for start in range(0, len(ops), 400):
        pushed = live.request("POST", "/api/v1/sync/push", envelope(ops[start:start + 400]), user=INSPECTOR)
        assert pushed.status == 200, pushed.body
        records = [result["record"] for result in pushed.json()["results"]]
        counts |= {record["violation_id"]: 1 for record in records if record["violation_id"]}
    again = op(data=report_data(offices[0], state="closed", observed_at=at("1405-01-06", "11:00")))
    (second,) = live.request("POST", "/api/v1/sync/push", envelope([again]), user=INSPECTOR).json()["results"]
    counts[second["record"]["violation_id"]] += 1
    assert len(counts) > 200  # more than one batch (EXPORT_BATCH) and one piece of lines
    return counts


def export(live, query: str = "") -> list[list[str]]:
    answer = live.request("GET", "/api/v1/violations/export.csv" + query, user="committee1")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(answer.text[1:])))


def test_the_whole_export_arrives_with_every_case_and_its_reports_counted(live, cases):
    header, *rows = export(live, "?district=9")
    assert header[0] == "شناسه پرونده" and len(header) == 11
    assert {row[0]: int(row[8]) for row in rows} == cases
    assert all(row[2] == "9" and row[6] == "open" for row in rows)


def test_a_decision_note_that_excel_would_run_as_a_formula_is_exported_as_text(live, cases):
    case_id = next(iter(cases))
    path = f"/api/v1/violations/{case_id}/decision"
    assert live.request("POST", path, {"version": 1, "status": "under_review"}, user="committee1").status == 200
    decided = live.request("POST", path, {"version": 2, "status": "dismissed", "note": NOTE}, user="committee1")
    assert decided.status == 200, decided.body
    (row,) = [row for row in export(live, "?district=9&status=dismissed") if row[0] == case_id]
    assert row[10] == "'" + NOTE and row[7] == "none" and row[9].startswith("1405-")
