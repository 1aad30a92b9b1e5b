"""Cases' findings: each reason as a stable code with parameters (app.violations.judge.Finding),
so that pages can word them in Persian. Cases and events judged before are given theirs by
reading back the English reasons, which the judge wrote from fixed templates (the templates
are copied here: a migration must not change when the app's code does).

Revision ID: e56378c7d385
Revises: 6e0f3a9d2c17
Create Date: 2026-12-02 10:00:00

"""
import json
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e56378c7d385'
down_revision = '6e0f3a9d2c17'
branch_labels = None
depends_on = None

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_REASONS = [
    (re.compile(r"found (\w+)"), "found_state", ("state",)),
    (re.compile(r"found (\w+), but no opening was mandated then: (.*)"), "found_closed_not_mandated",
     ("state", "hours")),
    (re.compile(r"found (\w+) while mandated open: (.*)"), "found_closed_while_mandated", ("state", "hours")),
    (re.compile(rf"evidence sound: {_NUMBER} m from the office, fix ±{_NUMBER} m, time from (\w+)"),
     "evidence_sound", ("distance_m", "accuracy_m", "time_source")),
    (re.compile("no phone position: cannot show the inspector was at the office"), "no_position", ()),
    (re.compile(rf"phone {_NUMBER} m from the office \(over {_NUMBER} m\)"), "too_far", ("distance_m", "max_m")),
    (re.compile("no GPS accuracy given"), "no_accuracy", ()),
    (re.compile(rf"GPS accuracy ±{_NUMBER} m \(must be under {_NUMBER} m\)"), "poor_accuracy",
     ("accuracy_m", "max_m")),
    (re.compile(rf"phone clock off by {_NUMBER} h with no GPS time to confirm it"), "clock_unexplained",
     ("skew_h",)),
    (re.compile("evidence time is after the report reached the server"), "evidence_after_receipt", ()),
    (re.compile("no report left in the case"), "no_report_left", ()),
]
_RULE = re.compile(r"(closed|open (.+?)) by rule «(.*)» \(([^()]*)\)( \(applies on holidays\))?")
_HOLIDAY = re.compile(r"closed: official holiday \((.*)\)")


def _value(name: str, text: str):
    if name == "hours":
        return _hours(text)
    if name == "skew_h":
        return float(text)
    return int(text) if name in ("distance_m", "accuracy_m", "max_m") else text


def _hours(text: str) -> dict:
    if text == "no rule mandates hours on this day":
        return {"basis": "none"}
    if match := _HOLIDAY.fullmatch(text):
        return {"basis": "holiday", "holidays": match[1].split("؛ ")}
    if match := _RULE.fullmatch(text):
        return {"basis": "rule", "rule": match[3], "scope": match[4],
                "windows": match[2].split(", ") if match[2] else [], "on_holiday": bool(match[5])}
    raise ValueError(text)


def finding(text: str) -> dict:
    """The finding an English reason was written from; `unrecognised` (which a page shows as
    the text) for one that fits no template."""
    for pattern, code, names in _REASONS:
        if match := pattern.fullmatch(text):
            try:
                return {"code": code, "params": {n: _value(n, v) for n, v in zip(names, match.groups())},
                        "text": text}
            except ValueError:
                break
    return {"code": "unrecognised", "params": {}, "text": text}


def _with_findings(detail: dict) -> dict:
    detail = dict(detail)
    if "reasons" in detail:
        detail["findings"] = [finding(r) for r in detail["reasons"]]
    if isinstance(detail.get("reason"), str):  # a withdrawal: "no longer holds: <reason>"
        detail["findings"] = [finding(detail["reason"].removeprefix("no longer holds: "))]
    if isinstance(detail.get("before"), dict) and "reasons" in detail["before"]:
        detail["before"] = _with_findings(detail["before"])
    return detail


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    op.add_column('violation_cases', sa.Column('findings', sa.JSON(), server_default=sa.text("'[]'"),
                                               nullable=False))
    connection = op.get_bind()
    cases = sa.table('violation_cases', sa.column('id', sa.Uuid()), sa.column('reasons', sa.JSON()),
                     sa.column('findings', sa.JSON()))
    for case_id, reasons in connection.execute(sa.select(cases.c.id, cases.c.reasons)).all():
        connection.execute(cases.update().where(cases.c.id == case_id).values(
            findings=[finding(r) for r in _json(reasons) or []]))
    events = sa.table('case_events', sa.column('id', sa.Integer()), sa.column('detail', sa.JSON()))
    for event_id, detail in connection.execute(sa.select(events.c.id, events.c.detail)).all():
        detail = _json(detail) or {}
        read_back = detail if "findings" in detail else _with_findings(detail)
        if read_back != detail:
            connection.execute(events.update().where(events.c.id == event_id).values(detail=read_back))


def downgrade():
    # Events keep their findings: the detail is free-form, and the reasons are still there.
    op.drop_column('violation_cases', 'findings')
