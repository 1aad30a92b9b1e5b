"""The hours book, which decides an office's day once for many reports, answers as
must_be_open does for every instant: across days, at the edges of windows, on holidays."""

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.hours import calendar
from app.hours.rules import must_be_open
from app.models import Office
from app.repositories import hours as hours_repo
from app.services.hours_book import HoursBook, office_facts, to_rule


def test_the_books_answers_are_must_be_opens_for_every_office_and_instant(app_context):
    offices = list(db.session.scalars(sa.select(Office).where(Office.district.in_([6, 7])).order_by(Office.code)))
    assert {o.category for o in offices} > {"standard"}  # an exempt category among them
    start = calendar.tehran_instant(calendar.parse_date("1405-01-04"), calendar.parse_time("07:59"))
    # Nowruz days, a holiday, a Thursday and a Friday; before, inside and at the edges of windows.
    instants = [start + timedelta(days=d, minutes=m) for d in range(0, 12) for m in (0, 1, 241, 510, 511, 600)]
    rules = [to_rule(r) for r in hours_repo.rules_in_force_for_year(1405)]

    def holidays_on(day):
        return hours_repo.holiday_titles_on(calendar.format_date(day))

    book, seen = HoursBook(), set()
    for instant in instants:
        for office in offices:
            expected = must_be_open(office_facts(office), instant, rules, holidays_on)
            answer = book.answer(office, instant)
            assert (answer.must_be_open, answer.window, answer.hours) == \
                   (expected.must_be_open, expected.window, expected.hours), (office.code, instant)
            seen.add((answer.must_be_open, bool(answer.hours.holidays)))
    assert seen == {(True, False), (False, False), (False, True)}  # open, closed, and a holiday met
