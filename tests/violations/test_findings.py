"""A case's reasons as findings: stable codes with parameters beside the English words, on the
case and on its events, so that the committee page can word them in Persian."""

import importlib.util
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.hours import calendar
from app.hours.rules import DayHours, Rule, Scope, Window
from app.services.violations import REOPENED_BY
from app.violations.judge import CODES, Evidence, judge
from tests.violations.test_scenarios import at, cases_of, moved, report

ROOT = Path(__file__).resolve().parents[2]
NOWRUZ = {"basis": "rule", "rule": "ساعات کاری نوروز ۱۴۰۵", "scope": "city", "windows": ["08:00–16:30"],
          "on_holiday": False}


@pytest.fixture
def office(client):
    return client.as_("inspector-6a").get("/api/v1/offices?district=6&page_size=1").get_json()[0]


def case_detail(client, office, day: str) -> dict:
    (case,) = cases_of(client, office, day)
    return client.as_("committee1").get(f"/api/v1/violations/{case['id']}").get_json()


def codes(findings) -> list[str]:
    return [f["code"] for f in findings]


def test_a_sound_case_gives_its_reasons_as_codes_with_parameters_beside_the_english(client, office):
    report(client, office, at("1405-01-06", "10:00"))
    detail = case_detail(client, office, "1405-01-06")
    found, sound = detail["findings"]
    assert found == {"code": "found_closed_while_mandated", "params": {"state": "closed", "hours": NOWRUZ},
                     "text": detail["reasons"][0]}
    assert sound["code"] == "evidence_sound" and sound["text"] == detail["reasons"][1]
    assert sound["params"] == {"distance_m": 0, "accuracy_m": 15, "time_source": "device"}
    assert detail["reasons"][0].startswith("found closed while mandated open")  # kept for older clients
    (opened,) = detail["events"]
    assert opened["findings"] == detail["findings"] and opened["detail"]["reasons"] == detail["reasons"]
    assert "findings" not in opened["detail"]  # sent once, beside the detail
    listed = client.as_("committee1").get("/api/v1/violations?date_from=1405-01-06&date_to=1405-01-06").get_json()
    assert [c["findings"] for c in listed if c["id"] == detail["id"]] == [detail["findings"]]


def test_weak_evidence_is_named_by_code_with_its_measures(client, office):
    report(client, office, at("1405-01-06", "10:00"), location=moved(office["location"], 900), accuracy_m=150.0)
    findings = case_detail(client, office, "1405-01-06")["findings"]
    assert codes(findings) == ["found_closed_while_mandated", "too_far", "poor_accuracy"]
    assert 890 <= findings[1]["params"]["distance_m"] <= 910 and findings[1]["params"]["max_m"] == 200
    assert findings[2]["params"] == {"accuracy_m": 150, "max_m": 100}


def test_no_position_and_a_clock_a_day_off_are_named(client, office):
    # The phone says 04:00 on 1405-01-05 and is 30 h slow: really 10:00 on 1405-01-06.
    now = datetime.now(timezone.utc)
    report(client, office, at("1405-01-05", "04:00"), sent_at=now - timedelta(hours=30), location=None,
           accuracy_m=None)
    findings = case_detail(client, office, "1405-01-06")["findings"]
    assert codes(findings) == ["found_closed_while_mandated", "no_position", "no_accuracy", "clock_unexplained"]
    assert findings[3]["params"]["skew_h"] == pytest.approx(30.0, abs=0.1)


def test_a_later_open_report_and_a_withdrawal_carry_their_findings(client, office):
    report(client, office, at("1405-02-05", "10:00"))
    report(client, office, at("1405-02-05", "14:00"), state="open")
    assert client.as_("admin").post("/api/v1/hours-rules", json={
        "name": "تعطیلی اضطراری ۵ اردیبهشت", "scope": "district:6", "date_from": "1405-02-05",
        "date_to": "1405-02-05", "kind": "closed"}).status_code == 201
    events = {e["action"]: e for e in case_detail(client, office, "1405-02-05")["events"]}
    assert events["context"]["findings"] == [{"code": "found_state", "params": {"state": "open"},
                                              "text": "found open"}]
    (why,) = events["withdrawn"]["findings"]
    assert why["code"] == "found_closed_not_mandated"
    assert why["params"]["hours"] == {"basis": "rule", "rule": "تعطیلی اضطراری ۵ اردیبهشت", "scope": "district:6",
                                      "windows": [], "on_holiday": False}
    assert events["withdrawn"]["detail"]["reason"] == f"no longer holds: {why['text']}"


def test_the_openapi_document_lists_every_finding_code(client):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    described = spec["Finding"]["properties"]["code"]["description"]
    assert all(f"`{code}`" in described for code in CODES)
    assert spec["Case"]["properties"]["findings"]["items"]["$ref"].endswith("/Finding")
    assert spec["CaseEvent"]["properties"]["findings"]["items"]["$ref"].endswith("/Finding")


def test_the_committee_page_has_a_persian_sentence_for_every_finding_code():
    script = (ROOT / "app/static/js/findings.js").read_text(encoding="utf-8")
    table = script[script.index("const FINDINGS = {"):script.index("};", script.index("const FINDINGS = {"))]
    assert set(re.findall(r"^  (\w+): \(", table, re.M)) == set(CODES)
    reopened = script[script.index("const REOPENED_BY = {"):script.index("};", script.index("const REOPENED_BY = {"))]
    assert set(re.findall(r"(\w+): \"", reopened)) == set(REOPENED_BY)


# ---- reading back reasons written before findings existed (migration 0009)

def _migration():
    path = ROOT / "migrations/versions/0009_case_findings.py"
    spec = importlib.util.spec_from_file_location("case_findings_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hours_of_every_kind() -> list[DayHours]:
    day = calendar.parse_date("1405-01-06")
    rule = lambda name, scope, windows: Rule("r", name, Scope.parse(scope), None, "open", windows)  # noqa: E731
    two = (Window(datetime.strptime("08:00", "%H:%M").time(), datetime.strptime("12:00", "%H:%M").time()),
           Window(datetime.strptime("14:00", "%H:%M").time(), datetime.strptime("18:30", "%H:%M").time()))
    return [DayHours(day, two, rule("ساعات (ویژه) نوروز", "district:6", two)),
            DayHours(day, (), rule("تعطیلی اضطراری", "category:permit_hub", ()), ("روز طبیعت",)),
            DayHours(day, (), None, ("عید فطر", "تعطیل به مناسبت")),
            DayHours(day, (), None)]


@pytest.mark.parametrize("hours", _hours_of_every_kind(), ids=["rule", "closing-rule", "holiday", "none"])
def test_every_reason_the_judge_wrote_reads_back_to_its_finding(hours):
    finding = _migration().finding
    received = at("1405-01-06", "10:05")
    kinds = [dict(distance_to_office_m=12.4, accuracy_m=8.6), dict(distance_to_office_m=None, accuracy_m=None),
             dict(distance_to_office_m=950.5, accuracy_m=180.0, clock_skew_s=-97_200.0),
             dict(distance_to_office_m=3.0, accuracy_m=5.0, evidence_time=received + timedelta(hours=1))]
    for state in ("closed", "open_not_serving", "open"):
        for must_be_open in (True, False):
            for kind in kinds:
                evidence = Evidence(**{"office_state": state, "evidence_time": at("1405-01-06", "10:00"),
                                       "evidence_time_source": "device", "clock_skew_s": 3.0,
                                       "received_at": received, **kind})
                for written in judge(evidence, must_be_open, hours.reason, hours.basis).findings:
                    assert finding(written.text) == written.as_dict(), written.text
    assert finding("no report left in the case")["code"] == "no_report_left"
    assert finding("something else")["code"] == "unrecognised"
