"""Queries on violation cases and their events."""

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.hours import calendar
from app.hours.rules import DateSpan
from app.models import CaseEvent, Office, Report, ViolationCase
from app.repositories import bulk

ORDER = (ViolationCase.jalali_date.desc(), ViolationCase.opened_at.desc())  # newest day first
# The export's sort order as one key (every part descending), to pick a batch up after a row.
EXPORT_KEY = (ViolationCase.jalali_date, ViolationCase.opened_at, ViolationCase.id)


def _visible(districts: Collection[int] | None, author_id: int | None):
    """A WHERE clause for the cases one may see: given `author_id`, those holding that
    author's reports; else those of `districts` (None: all)."""
    if author_id is not None:
        mine = sa.select(Report.violation_id).where(Report.author_id == author_id, Report.violation_id.is_not(None))
        return ViolationCase.id.in_(mine)
    if districts is None:
        return sa.true()
    return ViolationCase.district.in_(sorted(districts))


def _filtered(districts: Collection[int] | None, author_id: int | None, filters: dict) -> list:
    """WHERE clauses for the cases one may see, narrowed by the queue's filters."""
    clauses = [_visible(districts, author_id)]
    if "status" in filters:
        clauses.append(ViolationCase.status == filters["status"])
    if "kind" in filters:
        clauses.append(ViolationCase.kind == filters["kind"])
    if "district" in filters:
        clauses.append(ViolationCase.district == filters["district"])
    if "date_from" in filters:
        clauses.append(ViolationCase.jalali_date >= calendar.format_date(filters["date_from"]))
    if "date_to" in filters:
        clauses.append(ViolationCase.jalali_date <= calendar.format_date(filters["date_to"]))
    return clauses


def get_visible(case_id: uuid.UUID, districts: Collection[int] | None,
                author_id: int | None) -> ViolationCase | None:
    """The case, if one may see it (see _visible)."""
    return db.session.scalar(sa.select(ViolationCase).where(ViolationCase.id == case_id,
                                                            _visible(districts, author_id)))


def list_page(districts: Collection[int] | None, author_id: int | None, filters: dict, offset: int,
              limit: int) -> tuple[list[ViolationCase], int]:
    """One page of the cases one may see (see _visible), newest day first, with the total count."""
    query = sa.select(ViolationCase).where(*_filtered(districts, author_id, filters))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*ORDER).offset(offset).limit(limit)).all()
    return rows, total


def export_query(districts: Collection[int] | None, author_id: int | None, filters: dict, limit: int) -> sa.Select:
    """The first `limit` rows of the CSV export (each case with its office) one may see (see
    _visible), built now; list_export_batch runs it, later, batch after batch."""
    return (sa.select(ViolationCase.id, ViolationCase.jalali_date, ViolationCase.opened_at, ViolationCase.district,
                      Office.code.label("office_code"), Office.name.label("office_name"), ViolationCase.kind,
                      ViolationCase.status, ViolationCase.penalty, ViolationCase.decided_at,
                      ViolationCase.decision_note)
            .join(Office, Office.id == ViolationCase.office_id).where(*_filtered(districts, author_id, filters))
            .order_by(*ORDER, ViolationCase.id.desc()).limit(limit))


def list_export_batch(query: sa.Select, after: sa.Row | None) -> list[sa.Row]:
    """The export query's rows after the row `after` (keyset on the sort order; None: the first)."""
    if after is not None:
        query = query.where(sa.tuple_(*EXPORT_KEY) < sa.tuple_(*(
            sa.literal(getattr(after, column.key), column.type) for column in EXPORT_KEY)))
    return db.session.execute(query).all()


# A case a report joins is locked until the push commits: the join raises its version and
# may reopen it, and a committee decision (which locks it too) must see that, or answer 409,
# never decide on the case as it was before the report (PostgreSQL; SQLite's writes are serial).
def lock_on_days(pairs: Collection[tuple[uuid.UUID, str]]) -> dict:
    """The cases of these (office, Jalali day) pairs, in one query, locked."""
    if not pairs:
        return {}
    offices = sorted({office for office, _ in pairs})
    days = sorted({day for _, day in pairs})
    rows = db.session.scalars(_LOCK_ON_DAYS(), {"offices": offices, "days": days})
    return {(c.office_id, c.jalali_date): c for c in rows}


# A push's lock on the cases its reports may join: it has their offices already, so a case's
# own (the model's selectin load: a second query, each office an ORM object with its point)
# is left to load only if something asks for it.
_LOCK_ON_DAYS = bulk.Prebuilt(lambda dialect: sa.select(ViolationCase).where(
    bulk.any_of(ViolationCase.office_id, "offices", dialect), bulk.any_of(ViolationCase.jalali_date, "days", dialect))
    .options(orm.lazyload(ViolationCase.office)).with_for_update().execution_options(populate_existing=True))


def lock_on_day(office_id: uuid.UUID, day: str) -> ViolationCase | None:
    """The case of an office and Jalali day, locked (an op landing alone: its office is known, as above)."""
    return db.session.scalar(sa.select(ViolationCase).where(ViolationCase.office_id == office_id,
                                                            ViolationCase.jalali_date == day)
                             .options(orm.lazyload(ViolationCase.office))
                             .with_for_update().execution_options(populate_existing=True))


def lock(case_id: uuid.UUID) -> ViolationCase | None:
    """The case, locked against a concurrent decision or join until the transaction ends (PostgreSQL)."""
    return db.session.scalar(sa.select(ViolationCase).where(ViolationCase.id == case_id).with_for_update()
                             .execution_options(populate_existing=True))


def lock_on_spans(spans: list[DateSpan], statuses: Collection[str]) -> dict:
    """The cases in `statuses` on the spans' days, by id, locked."""
    return {c.id: c for c in db.session.scalars(
        sa.select(ViolationCase).where(ViolationCase.status.in_(statuses), _on_days(spans)).with_for_update())}


def ids_on_spans(spans: list[DateSpan], statuses: Collection[str]) -> sa.Select:
    """The ids of the cases in `statuses` on the spans' days, as a subquery for other queries."""
    return sa.select(ViolationCase.id).where(ViolationCase.status.in_(statuses), _on_days(spans))


def _on_days(spans: list[DateSpan]):
    """Cases on the spans' days (their Jalali date as text: a dated span compares whole
    dates, an every-year one the month and day)."""
    def one(span: DateSpan):
        md = lambda month_day: f"{month_day[0]:02d}-{month_day[1]:02d}"  # noqa: E731
        if span.year is None:
            return sa.func.substr(ViolationCase.jalali_date, 6, 5).between(md(span.start), md(span.end))
        return ViolationCase.jalali_date.between(f"{span.year:04d}-{md(span.start)}", f"{span.year:04d}-{md(span.end)}")

    return sa.or_(sa.false(), *(one(span) for span in spans))


def create(case: ViolationCase) -> ViolationCase:
    db.session.add(case)
    return case


def create_event(event: CaseEvent) -> CaseEvent:
    db.session.add(event)
    return event


def list_events(case_id: uuid.UUID) -> list[CaseEvent]:
    return list(db.session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


# Visit lists


def statuses_up_to(office_ids: Collection[uuid.UUID], jalali_date: str,
                   statuses: Collection[str]) -> list[tuple[uuid.UUID, str, str]]:
    """(office, status, day) of these offices' cases in these statuses up to the day, oldest first."""
    if not office_ids:
        return []
    return [tuple(row) for row in db.session.execute(
        sa.select(ViolationCase.office_id, ViolationCase.status, ViolationCase.jalali_date)
        .where(ViolationCase.office_id.in_(office_ids), ViolationCase.jalali_date <= jalali_date,
               ViolationCase.status.in_(statuses))
        .order_by(ViolationCase.jalali_date))]
