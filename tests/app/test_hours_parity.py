"""The phone works out an office's mandated hours by itself (app/static/app/js/hours.js), from
the rules and holidays as the pull sends them; the server judges by app/hours/rules.py. The
two must agree on every branch: scope ranks, later publication, the id tie-break, exempt
categories, weekdays, every-year and dated spans, holidays with and without rules that apply
on them, withdrawn rules. Hundreds of generated (rule set, office, day) cases, run through
both, in Node (the machine's Node 20) and in Python."""

import json
import random
import shutil
import subprocess
from datetime import date, datetime, time, timedelta, timezone

import jdatetime
import pytest

from app.hours.calendar import WEEKDAYS, from_gregorian
from app.hours.rules import OfficeFacts, Rule, Scope, Window, day_hours, parse_span
from tests.app.phone import ROOT

HOURS_JS = ROOT / "app" / "static" / "app" / "js" / "hours.js"
OFFICES = [OfficeFacts("o-1", 6, "standard"), OfficeFacts("o-2", 6, "permit_hub"), OfficeFacts("o-3", 7, "standard"),
           OfficeFacts("o-4", 12, "permit_hub")]
SCOPES = ["city", "district:6", "district:7", "category:standard", "category:permit_hub", "office:o-1", "office:o-3"]
WINDOWS = [[("08:00", "16:30")], [("08:00", "13:00")], [("07:30", "12:00"), ("14:00", "18:00")], [("10:00", "14:00")]]


def wire_rule(rng: random.Random, index: int, published: datetime) -> dict:
    """A rule as the pull sends it (schemas/hours.py HoursRuleSchema)."""
    every_year = rng.random() < 0.3
    start = date(2026, 3, 15) + timedelta(days=rng.randrange(40))
    end = start + timedelta(days=rng.randrange(12))
    first, last = jdatetime.date.fromgregorian(date=start), jdatetime.date.fromgregorian(date=end)
    if last.year != first.year:
        last = first
    md = lambda d: f"{d.month:02d}-{d.day:02d}"  # noqa: E731
    kind = "closed" if rng.random() < 0.25 else "open"
    return {
        "id": f"00000000-0000-4000-8000-{index:012d}", "name": f"rule {index}", "scope": rng.choice(SCOPES),
        "date_from": md(first) if every_year else f"{first.year}-{md(first)}",
        "date_to": md(last) if every_year else f"{last.year}-{md(last)}", "every_year": every_year,
        "weekdays": sorted(rng.sample(WEEKDAYS, rng.randrange(3, 8))) if rng.random() < 0.4 else [],
        "kind": kind, "windows": [] if kind == "closed" else [{"start": a, "end": b} for a, b in rng.choice(WINDOWS)],
        "exempt_categories": ["permit_hub"] if rng.random() < 0.2 else [],
        "on_holidays": rng.random() < 0.3,
        # To the second, as the wire carries them (and the server keeps them); ties happen.
        "published_at": (published + timedelta(seconds=rng.choice([0, 0, 1, 3600]))).isoformat(),
        "withdrawn": rng.random() < 0.1,
    }


def server_rule(wire: dict) -> Rule:
    return Rule(id=wire["id"], name=wire["name"], scope=Scope.parse(wire["scope"]),
                span=parse_span(wire["date_from"], wire["date_to"]), kind=wire["kind"],
                windows=tuple(Window(time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
                              for w in wire["windows"]),
                weekdays=frozenset(wire["weekdays"]), exempt_categories=frozenset(wire["exempt_categories"]),
                on_holidays=wire["on_holidays"], published_at=datetime.fromisoformat(wire["published_at"]))


def cases(seed: int) -> dict:
    rng = random.Random(seed)
    published = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    rules = [wire_rule(rng, i, published) for i in range(rng.randrange(3, 12))]
    days = [date(2026, 3, 15) + timedelta(days=i) for i in range(0, 52, 3)]
    holidays = []
    for day in rng.sample(days, 3):
        j = from_gregorian(day)
        holidays.append({"id": f"h-{day}", "date": f"{j.year:04d}-{j.month:02d}-{j.day:02d}",
                         "gregorian_date": day.isoformat(), "title": f"holiday {day}",
                         "cancelled": rng.random() < 0.2})
    return {"rules": rules, "holidays": holidays, "days": days}


def server_answers(case: dict) -> list:
    rules = [server_rule(r) for r in case["rules"] if not r["withdrawn"]]
    out = []
    for office in OFFICES:
        for day in case["days"]:
            j = from_gregorian(day)
            titles = tuple(h["title"] for h in case["holidays"] if not h["cancelled"] and h["gregorian_date"]
                           == day.isoformat())
            hours = day_hours(office, j, rules, titles)
            out.append({"rule": hours.rule.id if hours.rule else None,
                        "windows": [f"{w.start:%H:%M}-{w.end:%H:%M}" for w in hours.windows]})
    return out


NODE = """
import { dayHours } from %s;
const input = JSON.parse(await new Promise((resolve) => {
  let text = ""; process.stdin.on("data", (c) => { text += c; }); process.stdin.on("end", () => resolve(text));
}));
const out = [];
for (const c of input.cases) {
  for (const office of input.offices) {
    for (const day of c.days) out.push(dayHours(office, day, c.rules, c.holidays));
  }
}
console.log(JSON.stringify(out.map((h) => ({ rule: h.rule ? h.rule.id : null,
  windows: h.windows.map((w) => `${w.start}-${w.end}`) }))));
"""


def phone_day(day: date) -> dict:
    """fa.tehran()'s answer for a civil day in Tehran (what the phone passes to dayHours)."""
    j = from_gregorian(day)
    return {"year": j.year, "month": j.month, "day": j.day, "weekday": WEEKDAYS[j.weekday()],
            "iso": f"{j.year:04d}-{j.month:02d}-{j.day:02d}", "gregorian": day.isoformat()}


def test_the_phone_and_the_server_decide_the_same_hours():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for this test (apt-get install -y nodejs)")
    generated = [cases(seed) for seed in range(60)]
    payload = {"offices": [{"id": o.id, "district": o.district, "category": o.category} for o in OFFICES],
               "cases": [{**c, "days": [phone_day(d) for d in c["days"]]} for c in generated]}
    run = subprocess.run([node, "--input-type=module", "-e", NODE % json.dumps(HOURS_JS.as_uri())],
                         input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    phone = json.loads(run.stdout)
    server = [answer for case in generated for answer in server_answers(case)]
    assert len(phone) == len(server) > 3000
    differ = [(i, p, s) for i, (p, s) in enumerate(zip(phone, server)) if p != s]
    assert not differ, differ[:5]
    assert {bool(s["rule"]) for s in server} == {True, False} and any(s["windows"] == [] and s["rule"]
                                                                        for s in server)
