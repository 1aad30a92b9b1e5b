"""A report's fields are declared once (sync.report.FIELDS): the model, the wire schemas, the
canonical form, the merge and the fast writers all agree with that declaration."""

import re
from pathlib import Path

import sqlalchemy as sa
from geoalchemy2 import Geometry

from app.database import UTCDateTime
from app.models import Report
from schemas.sync import ReportCreateSchema, ReportSchema, ReportUpdateSchema
from sync import canonical, merge, report
from sync.report import FIELDS, NAMES

# The column type each kind is stored in.
COLUMN_TYPES = {
    report.UUID: sa.Uuid, report.INSTANT: UTCDateTime, report.POINT: Geometry, report.NUMBER: sa.Float,
    report.COUNT: sa.Integer, report.CHOICE: sa.String, report.CHECKLIST: sa.JSON, report.TEXT: sa.Text,
    report.PHOTOS: sa.JSON,
}


def test_every_declared_field_is_a_column_of_its_kind_on_the_report_model():
    columns = Report.__table__.columns
    for f in FIELDS:
        assert f.name in columns, f"{f.name} is declared but the model has no column for it"
        assert isinstance(columns[f.name].type, COLUMN_TYPES[f.kind]), f.name
        # A field that may be null (or left out, for a kind whose empty value is not null)
        # must fit its column: a required one never needs the column to take null.
        if f.nullable:
            assert columns[f.name].nullable, f"{f.name} may be null on the wire but not in its column"


def test_a_choice_field_has_its_choices_checked_by_the_database_too():
    checks = [c for c in Report.__table__.constraints if isinstance(c, sa.CheckConstraint)]
    for f in FIELDS:
        if f.kind == report.CHOICE:
            assert any(f.name in str(c.sqltext) and all(choice in str(c.sqltext.compile(
                compile_kwargs={"literal_binds": True})) for choice in f.choices) for c in checks), f.name


def test_the_wire_schemas_take_and_give_exactly_the_declared_fields():
    assert list(ReportCreateSchema().fields) == ["id", *NAMES]
    assert list(ReportUpdateSchema().fields) == ["id", *NAMES]
    written = list(ReportSchema().fields)
    assert written[:len(NAMES) + 1] == ["id", *NAMES]
    for f in FIELDS:
        assert ReportCreateSchema().fields[f.name].required == f.required
        assert ReportSchema().fields[f.name].allow_none == f.nullable


def test_every_declared_field_has_a_merge_policy_and_mergeable_ones_are_merged():
    for f in FIELDS:
        assert f.merge in (report.IMMUTABLE, report.AT_CREATION, *report.MERGED), f.name
    assert set(merge.MERGEABLE_FIELDS) == {f.name for f in FIELDS if f.merge in report.MERGED}
    assert set(merge.IMMUTABLE_FIELDS) == {f.name for f in FIELDS if f.merge == report.IMMUTABLE}
    for f in FIELDS:
        if f.merge in report.MERGED and f.most is not None:
            assert merge.DECLARED_LIMITS[f.name] == f.most


def test_the_canonical_form_of_a_stored_report_holds_every_declared_field():
    row = Report(**{f.name: f.empty() for f in FIELDS})
    assert list(canonical.canonical_of(row)) == list(NAMES)


def test_the_apps_list_of_fields_it_sends_is_the_declared_one():
    # The app filters every create and update through CLIENT_FIELDS: a field missing there
    # would be dropped on the phone without a word. (sync/client.py imports NAMES itself.)
    source = (Path(__file__).resolve().parents[2] / "app/static/app/js/sync.js").read_text()
    listed = re.search(r"export const CLIENT_FIELDS = \[(.*?)\];", source, re.S).group(1)
    assert re.findall(r'"([a-z_]+)"', listed) == list(NAMES)
