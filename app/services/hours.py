"""Mandated hours: answering "must this office be open?", and publishing rules and holidays."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jdatetime
import marshmallow as ma

from app.database import utcnow
from app.errors import Problem, flatten_messages, invalid
from app.hours import calendar
from app.hours.rules import Answer, DayHours, RuleError, Scope, Window, check_windows, parse_span
from app.models import Holiday, HoursChange, HoursRule, Office, User
from app.repositories import districts as district_repo
from app.repositories import hours as repo
from app.repositories import offices as office_repo
from app.services import changefeed, unit_of_work
from app.services.hours_book import HoursBook
from app.services.places import Page, get_office
from app.services.visibility import Visibility
from app.services.violations import reevaluate_open_flags
from schemas.hours import HolidaySchema, HoursRuleInputSchema, HoursRuleSchema

# ---------------------------------------------------------------- the question


@dataclass(frozen=True)
class OfficeHours:
    office: Office
    hours: DayHours
    answer: Answer | None = None


def _resolve_day(day: jdatetime.date | None, at: datetime | None) -> jdatetime.date:
    if at is None:
        return day
    at_day = calendar.tehran_day(at)
    if day is not None and day != at_day:
        raise invalid("at", f"This instant falls on {calendar.format_date(at_day)} in Tehran, "
                            f"not on {calendar.format_date(day)}.")
    return at_day


def office_hours(user: User, office_id: uuid.UUID, day: jdatetime.date | None,
                 at: datetime | None = None) -> OfficeHours:
    """An office's mandated hours on a Jalali day; with `at`, whether it must be open then."""
    office = get_office(user, office_id)
    book = HoursBook(_resolve_day(day, at))
    if at is None:
        return OfficeHours(office, book.hours(office))
    answer = book.answer(office, at)
    return OfficeHours(office, answer.hours, answer)


def district_hours(user: User, district: int | None, day: jdatetime.date | None, at: datetime | None,
                   page: Page):
    """Every office's hours on a day, for one district (or all the caller may see)."""
    districts = Visibility.of(user).narrowed_to(district)
    day = _resolve_day(day, at)
    hits, total = office_repo.list_page(districts, None, page.offset, page.limit)
    book = HoursBook(day)
    results = []
    for office, _ in hits:
        if at is None:
            results.append(OfficeHours(office, book.hours(office)))
        else:
            answer = book.answer(office, at)
            results.append(OfficeHours(office, answer.hours, answer))
    return results, total


# ---------------------------------------------------------------- publishing rules


def list_rules(include_withdrawn: bool, page: Page):
    return repo.list_rules(include_withdrawn, page.offset, page.limit)


def get_rule(rule_id: uuid.UUID) -> HoursRule:
    rule = repo.get_rule(rule_id)
    if rule is None:
        raise Problem("not-found", f"There is no rule {rule_id}.")
    return rule


def _load(raw: dict) -> dict:
    try:
        return HoursRuleInputSchema().load(raw)
    except ma.ValidationError as exc:
        errors = flatten_messages(exc.messages)
        raise Problem("validation-failed", "Invalid field(s): " + ", ".join(sorted(errors)), errors=errors) from exc


def _checked(data: dict) -> dict:
    """A rule's fields (as HoursRuleInputSchema loads them), checked as a whole: dates,
    windows, weekdays and a scope that exists. Returns the model's column values."""
    try:
        span = parse_span(data["date_from"], data["date_to"])
        windows = check_windows(data["kind"], [Window(w["start"], w["end"]) for w in data["windows"]])
        scope = Scope.parse(data["scope"])
    except RuleError as exc:
        raise invalid(exc.field, str(exc)) from exc
    except ValueError as exc:
        raise invalid("scope", str(exc)) from exc
    _check_scope_exists(scope, data["exempt_categories"])
    return {
        "name": data["name"], "scope": str(scope), "year": span.year,
        "from_month": span.start[0], "from_day": span.start[1], "to_month": span.end[0], "to_day": span.end[1],
        "weekdays": sorted(set(data["weekdays"]), key=calendar.WEEKDAYS.index), "kind": data["kind"],
        "windows": [{"start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"} for w in windows],
        "exempt_categories": sorted(set(data["exempt_categories"])), "on_holidays": data["on_holidays"],
        "note": data["note"],
    }


def _check_scope_exists(scope: Scope, exempt: list[str]) -> None:
    categories = set(repo.office_categories())
    if scope.kind == "district" and district_repo.get(int(scope.value)) is None:
        raise invalid("scope", f"There is no district {scope.value}.")
    if scope.kind == "office":
        try:
            found = office_repo.get(uuid.UUID(scope.value))
        except ValueError:
            found = None
        if found is None:
            raise invalid("scope", f"There is no office {scope.value}.")
    if scope.kind == "category" and scope.value not in categories:
        raise invalid("scope", f"No office has category {scope.value!r}; known: {', '.join(sorted(categories))}.")
    unknown = sorted(set(exempt) - categories)
    if unknown:
        raise invalid("exempt_categories", f"No office has category {', '.join(unknown)}; "
                                           f"known: {', '.join(sorted(categories))}.")


def _record(entity: str, row, action: str, user: User | None, before: dict | None, after: dict | None) -> HoursChange:
    gone = action in ("withdraw", "cancel")
    changefeed.record("hours_rules" if entity == "hours_rule" else "holidays", row.id, deleted=gone)
    change = repo.record_change(HoursChange(entity=entity, entity_id=row.id, action=action,
                                            user_id=user.id if user else None, at=utcnow(),
                                            before=before, after=after))
    change.reevaluated_flags = reevaluate_open_flags(change)
    return change


def _change(entity: str, row, action: str, user: User | None, **values) -> None:
    """Set `values` on a rule or holiday, count a new version and log the change with its before and after."""
    schema = HoursRuleSchema() if entity == "hours_rule" else HolidaySchema()
    before = schema.dump(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    _record(entity, row, action, user, before, schema.dump(row))


def create_rule(user: User | None, data: dict) -> HoursRule:
    """Publish a rule from its loaded input form (HoursRuleInputSchema)."""
    with unit_of_work():
        changefeed.lock(None)
        rule = publish_rule(user, data)
    return rule


def publish_rule(user: User | None, data: dict, published_at: datetime | None = None) -> HoursRule:
    """Check and add a rule, and log it (no commit: the caller's transaction)."""
    values = _checked(data)
    now = utcnow()
    rule = repo.create_rule(HoursRule(id=uuid.uuid4(), published_at=_to_the_second(published_at) if published_at
                                      else _publication_time(now), updated_at=now,
                                      created_by=user.id if user else None, **values))
    _record("hours_rule", rule, "create", user, None, HoursRuleSchema().dump(rule))
    return rule


def update_rule(user: User, rule_id: uuid.UUID, patch: dict) -> HoursRule:
    """Change a rule. The change counts as a new publication: it takes precedence as of now."""
    with unit_of_work():
        changefeed.lock(None)
        rule = _locked_current(rule_id, patch.pop("version"))
        if rule.withdrawn_at is not None:
            raise Problem("rule-withdrawn", "This rule was withdrawn; publish a new one instead.",
                          current=HoursRuleSchema().dump(rule))
        before = HoursRuleSchema().dump(rule)
        merged = {k: before[k] for k in HoursRuleInputSchema().fields} | patch
        values = _checked(_load(merged))
        for key, value in values.items():
            setattr(rule, key, value)
        rule.version += 1
        rule.updated_at = utcnow()
        rule.published_at = _publication_time(rule.updated_at)
        _record("hours_rule", rule, "update", user, before, HoursRuleSchema().dump(rule))
    return rule


def withdraw_rule(user: User, rule_id: uuid.UUID, version: int) -> HoursRule:
    with unit_of_work():
        changefeed.lock(None)
        rule = _locked_current(rule_id, version)
        if rule.withdrawn_at is None:
            now = utcnow()
            _change("hours_rule", rule, "withdraw", user, withdrawn_at=now, updated_at=now)
    return rule


def _locked_current(rule_id: uuid.UUID, version: int) -> HoursRule:
    # Lock, then compare versions: two admins saving at once cannot both win.
    rule = repo.lock_rule(rule_id)
    if rule is None:
        raise Problem("not-found", f"There is no rule {rule_id}.")
    if rule.version != version:
        raise Problem("stale-version", f"The rule is at version {rule.version}, not {version}: someone changed "
                                       "it. Reload it and apply your change again.",
                      current=HoursRuleSchema().dump(rule))
    return rule


# ---------------------------------------------------------------- holidays


def list_holidays(year: int | None, include_cancelled: bool, page: Page):
    return repo.list_holidays(year, include_cancelled, page.offset, page.limit)


def add_holiday(user: User | None, day: jdatetime.date, title: str, source: str = "admin") -> Holiday:
    with unit_of_work():
        changefeed.lock(None)
        holiday = put_holiday(user, day, title, source)
    return holiday


def put_holiday(user: User | None, day: jdatetime.date, title: str, source: str) -> Holiday:
    """Add a holiday, or restore a cancelled one with the same date and title (no commit)."""
    date_text = calendar.format_date(day)
    holiday = repo.find_holiday(date_text, title)
    if holiday is not None and holiday.cancelled_at is None:
        return holiday
    if holiday is None:
        holiday = repo.create_holiday(Holiday(id=uuid.uuid4(), jalali_date=date_text,
                                              gregorian_date=calendar.to_gregorian(day), title=title,
                                              source=source, created_by=user.id if user else None,
                                              updated_at=utcnow()))
        _record("holiday", holiday, "create", user, None, HolidaySchema().dump(holiday))
        return holiday
    _change("holiday", holiday, "restore", user, cancelled_at=None, updated_at=utcnow())
    return holiday


def cancel_holiday(user: User, holiday_id: uuid.UUID) -> Holiday:
    with unit_of_work():
        changefeed.lock(None)
        holiday = repo.get_holiday(holiday_id)
        if holiday is None:
            raise Problem("not-found", f"There is no holiday {holiday_id}.")
        if holiday.cancelled_at is None:
            now = utcnow()
            _change("holiday", holiday, "cancel", user, cancelled_at=now, updated_at=now)
    return holiday


def list_changes(entity_id: uuid.UUID | None, page: Page):
    return repo.list_changes(entity_id, page.offset, page.limit)


def _to_the_second(instant: datetime) -> datetime:
    """Publication times are kept to the second, as the wire carries them: the later-published
    rule wins a tie of scope, and a phone working the hours out from the wire (the app's
    hours.js) must see the same order the server does."""
    return instant.replace(microsecond=0)


def _publication_time(now: datetime) -> datetime:
    """Now, to the second, and after every rule published before: two rules published in one
    second (a script, a quick correction) are still ordered by when they came, never by id.
    Publishing holds the city's change-feed lock, so no two do this at once."""
    latest = repo.latest_publication()
    now = _to_the_second(now)
    return now if latest is None or latest < now else latest + timedelta(seconds=1)
