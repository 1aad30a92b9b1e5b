"""The detector of silent offices (app/signals/detector.py) on a labelled synthetic month
(DESIGN §10b, issue 17): Poisson traffic with busy mornings, offices busy and quiet, closures
of 30 minutes to a whole day, a platform outage, an office with three days of history, and
holidays (no mandated window, so nothing judged). It must find the closures of an hour or
more (recall ≥ 0.95) and suspect almost nothing else (precision ≥ 0.95), never in the outage.
Tehran keeps no daylight saving: a window is 08:00–16:30 at +03:30 all year."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from app.signals.demo import poisson
from app.signals.detector import judge, outage_minutes, shrunk_rate

TEHRAN = timezone(timedelta(hours=3, minutes=30))
FIRST_DAY = datetime(2026, 4, 4, 8, 0, tzinfo=TEHRAN)
WINDOW = 510  # 08:00-16:30
HOLIDAYS = {5, 12}  # days of the month with no mandated window
OUTAGE_DAY, OUTAGE = 9, range(120, 240)  # 10:00-12:00, every office silent


def profile(minute: int) -> float:
    """Busy mornings: the share of an office's base rate at that minute of the window."""
    hour = minute // 60
    return (0.6, 1.4, 1.6, 1.3, 0.9, 0.7, 0.8, 1.0, 0.6)[hour]


def month(seed: int = 1405):
    rng = random.Random(seed)
    offices = {f"O{n:02d}": rng.uniform(0.3, 1.5) for n in range(36)}  # transactions a minute
    offices |= {"QUIET-1": 0.25, "QUIET-2": 0.3}  # quiet but open: never closed
    closures = {}  # (office, day) -> (first minute, last minute) closed
    lengths = [30, 45, 60, 60, 90, 120, 120, 180, 240, 300, WINDOW]
    days = [d for d in range(30) if d not in HOLIDAYS and d != OUTAGE_DAY]
    for i, length in enumerate(lengths * 4):
        office, day = f"O{(i * 7) % 36:02d}", days[(i * 5) % len(days)]
        start = rng.randrange(0, WINDOW - length + 1)
        closures[(office, day)] = (start, start + length - 1)
    traffic = {}
    for office, base in offices.items():
        for day in range(30):
            if day in HOLIDAYS:
                continue
            closed = closures.get((office, day))
            for minute in range(WINDOW):
                if closed and closed[0] <= minute <= closed[1]:
                    continue
                if day == OUTAGE_DAY and minute in OUTAGE:
                    continue
                count = poisson(rng, base * profile(minute))
                if count:
                    traffic[(office, day, minute)] = count
    return offices, closures, traffic


@pytest.mark.parametrize("seed", [1405, 1, 2])
def test_the_labelled_month_scores_precision_and_recall_of_095_and_nothing_in_the_outage(seed):
    offices, closures, traffic = month(seed)
    # The history: four ordinary weeks, learnt as each office's mean rate at each hour; one
    # office has three days of it, shrunk toward the district's (all offices') mean.
    history = {office: [base * profile(m) for m in range(WINDOW)] for office, base in offices.items()}
    district = [sum(rates[m] for rates in history.values()) / len(history) for m in range(WINDOW)]
    history["O35"] = [shrunk_rate(own, 3, d) for own, d in zip(history["O35"], district)]
    suspected, hits, outage_suspicions = set(), set(), []
    for day in range(30):
        if day in HOLIDAYS:
            continue  # no mandated window: nothing judged (the hours engine gives none)
        minutes = [FIRST_DAY + timedelta(days=day, minutes=m) for m in range(WINDOW)]
        totals = {minutes[m]: sum(traffic.get((o, day, m), 0) for o in offices) for m in range(WINDOW)}
        expected = {minutes[m]: sum(history[o][m] for o in offices) for m in range(WINDOW)}
        outage = outage_minutes(totals, expected)
        if day != OUTAGE_DAY:
            assert not outage, day
        for office in offices:
            counts = {minutes[m]: traffic[(office, day, m)] for m in range(WINDOW) if (office, day, m) in traffic}
            verdict = judge(minutes, counts, history[office], outage, has_history=True)
            if verdict.state == "suspected_closure":
                suspected.add((office, day))
                if day == OUTAGE_DAY:
                    outage_suspicions.append(office)
                closed = closures.get((office, day))
                first = (verdict.silent_from - minutes[0]).seconds // 60
                last = (verdict.silent_to - minutes[0]).seconds // 60
                if closed and first <= closed[1] and last >= closed[0]:
                    hits.add((office, day))
    long_closures = {key for key, (a, b) in closures.items() if b - a + 1 >= 60}
    precision = len(hits) / len(suspected)
    recall = len(hits & long_closures) / len(long_closures)
    assert outage_suspicions == []
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, sorted(long_closures - hits))
    assert not {key for key in suspected if key[0].startswith("QUIET")}


def test_an_office_with_no_history_is_no_data_and_a_whole_silent_day_the_strongest_suspicion():
    minutes = [FIRST_DAY + timedelta(minutes=m) for m in range(WINDOW)]
    rates = [0.5] * WINDOW
    assert judge(minutes, {}, rates, set(), has_history=False).state == "no_data"
    silent = judge(minutes, {}, rates, set(), has_history=True)
    assert silent.state == "suspected_closure" and silent.silent_from == minutes[0] and silent.silent_to == minutes[-1]
    assert silent.confidence == pytest.approx(1.0) and silent.observed == 0 and silent.expected == 255.0


def test_a_silence_that_is_all_outage_is_an_outage_not_a_suspicion():
    minutes = [FIRST_DAY + timedelta(minutes=m) for m in range(120)]
    counts = {m: 1 for m in minutes[:30] + minutes[90:]}
    verdict = judge(minutes, counts, [0.8] * 120, set(minutes[30:90]), has_history=True)
    assert verdict.state == "outage" and verdict.reason == "platform_outage"
