"""Coverage queries: visits, closures and open cases per office and per district in a period.

Everything is counted by the database (GROUP BY over the period's reports); Python only
receives one row per office and one per district. The same SQL runs on SQLite + SpatiaLite
and PostgreSQL + PostGIS.
"""

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import District, Office, Report, ViolationCase
from app.models.places import OfficeStatus
from app.models.violations import OPEN_STATUSES
from app.violations.judge import CLOSED_STATES
from geo.sql import as_geojson


def _of_offices_in(column, districts: Collection[int] | None):
    """`column` (an office id) names an office of these districts (anything, for the city)."""
    if districts is None:
        return sa.true()
    return column.in_(sa.select(Office.id).where(Office.district.in_(sorted(districts))))


def _visits(start: datetime, end: datetime, districts: Collection[int] | None):
    """Per office: the reports (visits) whose evidence time falls in [start, end), and how
    many of them found the office closed. Deleted reports do not count."""
    return (
        sa.select(Report.office_id.label("office_id"),
                  sa.func.count().label("visits"),
                  sa.func.count(sa.case((Report.office_state.in_(CLOSED_STATES), 1))).label("closures"))
        .where(Report.deleted_at.is_(None), Report.evidence_time >= start, Report.evidence_time < end,
               _of_offices_in(Report.office_id, districts))
        .group_by(Report.office_id)
        .subquery("visits")
    )


def _open_cases(first_day: str, last_day: str, districts: Collection[int] | None):
    """Per office: its cases of the period's Jalali days that are still undecided."""
    return (
        sa.select(ViolationCase.office_id.label("office_id"), sa.func.count().label("open_cases"))
        .where(ViolationCase.status.in_(OPEN_STATUSES),
               ViolationCase.jalali_date >= first_day, ViolationCase.jalali_date <= last_day,
               _of_offices_in(ViolationCase.office_id, districts))
        .group_by(ViolationCase.office_id)
        .subquery("cases")
    )


def latest_report_at(districts: Collection[int] | None, before: datetime) -> datetime | None:
    """The evidence time of the latest report (not deleted) about these districts' offices
    before `before`: one seek down ix_reports_evidence_time for the city."""
    return db.session.scalar(sa.select(sa.func.max(Report.evidence_time)).where(
        Report.deleted_at.is_(None), Report.evidence_time < before, _of_offices_in(Report.office_id, districts)))


def list_offices(districts: Collection[int] | None, start: datetime, end: datetime, first_day: str, last_day: str):
    """One row per office: the office, its visits and closures in the period, its open cases,
    and its last visit at or before the period's end (which may lie before the period)."""
    visits = _visits(start, end, districts)
    cases = _open_cases(first_day, last_day, districts)
    last = aliased(Report, name="last_report")
    # The office's latest report, found by one seek on ix_reports_office_evidence per office
    # (a correlated subquery works the same on both databases, unlike DISTINCT ON).
    last_id = (
        sa.select(Report.id)
        .where(Report.office_id == Office.id, Report.deleted_at.is_(None), Report.evidence_time < end)
        .order_by(Report.evidence_time.desc(), Report.id.desc())
        .limit(1)
        .correlate(Office)
        .scalar_subquery()
    )
    query = (
        sa.select(Office.id, Office.code, Office.name, Office.district, Office.category, Office.status,
                  Office.address, Office.location,
                  sa.func.coalesce(visits.c.visits, 0).label("visits"),
                  sa.func.coalesce(visits.c.closures, 0).label("closures"),
                  sa.func.coalesce(cases.c.open_cases, 0).label("open_cases"),
                  last.evidence_time.label("last_visit_at"), last.office_state.label("last_state"))
        .outerjoin(visits, visits.c.office_id == Office.id)
        .outerjoin(cases, cases.c.office_id == Office.id)
        .outerjoin(last, last.id == last_id)
        .order_by(Office.district, Office.code)
    )
    if districts is not None:
        query = query.where(Office.district.in_(sorted(districts)))
    return db.session.execute(query).all()


def list_districts(districts: Collection[int] | None, start: datetime, end: datetime, first_day: str,
                   last_day: str):
    """One row per district: its number, names, polygon (GeoJSON text) and totals for the period.

    `offices` and `offices_visited` count the offices in service (not closed for good), so
    that coverage is visited offices over offices that can be visited."""
    visits = _visits(start, end, districts)
    cases = _open_cases(first_day, last_day, districts)
    in_service = Office.status != OfficeStatus.CLOSED_PERMANENTLY.value
    totals = (
        sa.select(Office.district.label("district"),
                  sa.func.count(sa.case((in_service, 1))).label("offices"),
                  sa.func.count(sa.case((sa.and_(in_service, visits.c.visits > 0), 1))).label("offices_visited"),
                  sa.func.coalesce(sa.func.sum(visits.c.visits), 0).label("visits"),
                  sa.func.coalesce(sa.func.sum(visits.c.closures), 0).label("closures"),
                  sa.func.coalesce(sa.func.sum(cases.c.open_cases), 0).label("open_cases"))
        .outerjoin(visits, visits.c.office_id == Office.id)
        .outerjoin(cases, cases.c.office_id == Office.id)
        .group_by(Office.district)
    )
    if districts is not None:
        totals = totals.where(Office.district.in_(sorted(districts)))
    totals = totals.subquery("totals")
    query = (
        sa.select(District.number, District.name_fa, District.name_en,
                  as_geojson(District.geometry, 6).label("geometry"),
                  sa.func.coalesce(totals.c.offices, 0).label("offices"),
                  sa.func.coalesce(totals.c.offices_visited, 0).label("offices_visited"),
                  sa.func.coalesce(totals.c.visits, 0).label("visits"),
                  sa.func.coalesce(totals.c.closures, 0).label("closures"),
                  sa.func.coalesce(totals.c.open_cases, 0).label("open_cases"))
        .outerjoin(totals, totals.c.district == District.number)
        .order_by(District.number)
    )
    if districts is not None:
        query = query.where(District.number.in_(sorted(districts)))
    return db.session.execute(query).all()
