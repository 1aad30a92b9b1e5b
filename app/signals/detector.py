"""Is an office silent in its mandated window for longer than its own traffic makes
plausible? (DESIGN §10b.) Pure: minutes, counts and rates in, a verdict out.

The model. Transactions at an open office arrive as a Poisson process whose rate depends
on the office and the hour of the week: `rate` gives the expected count in each minute of
the window, learnt from the office's own history at that weekday and hour and shrunk
toward its district's where the history is short (`shrunk_rate`). The test: the longest
silence in the window (a run of minutes with no transaction at all), Λ the expected count
over it. An open office leaves about one gap per transaction, each this long with
probability exp(-Λ), so the chance of a silence this long anywhere in the window is at most
(E + 1)·exp(-Λ), E the window's expected count; below `ALPHA` the office is
`suspected_closure`, with that chance's complement as the confidence. An office merely quieter than usual
keeps serving: its silences stay short, and is not suspected. Minutes of a platform outage
(most offices silent at once, `outage_minutes`) are no evidence: they are left out of Λ,
and a silence that is nothing but outage is `outage`. An office with no history is
`no_data`: silence from a feed that never covered it says nothing.
"""

import math
from dataclasses import dataclass
from datetime import datetime

# An open office at its usual rate has a silence this long in under one window in a thousand.
ALPHA = 1e-3
MIN_SILENCE_MINUTES = 15  # shorter silences are a queue's lull, whatever the rate says
SHRINK_DAYS = 4  # a district's rate counts as this many days of the office's own history
OUTAGE_SHARE = 0.2  # the platform at under a fifth of its expected traffic: an outage


@dataclass(frozen=True)
class Verdict:
    state: str  # suspected_closure | normal | no_data | outage
    silent_from: datetime | None
    silent_to: datetime | None
    expected: float  # transactions expected in the window so far
    observed: int
    confidence: float | None  # 1 - P(this silence | open), for a suspicion
    reason: str  # a stable code: silent_beyond_expectation, serving, no_history, platform_outage


def shrunk_rate(own: float, own_days: int, district: float) -> float:
    """An office's expected transactions a minute: its own mean over `own_days` days of
    history, pulled toward its district's when those days are few, but never above its own
    where it has any: a busier district must not make a quiet office's silences look long
    (a rate too high suspects an open office; one too low only misses a short closure)."""
    pulled = (own * own_days + district * SHRINK_DAYS) / (own_days + SHRINK_DAYS)
    return min(own, pulled) if own_days else pulled


def judge(minutes: list[datetime], counts: dict[datetime, int], rates: list[float], outage: set[datetime],
          has_history: bool) -> Verdict:
    """The verdict on one office's window: `minutes` its minutes so far, in order; `counts`
    the transactions counted in them; `rates` the expected count in each."""
    busy = [index for index, minute in enumerate(minutes) if counts.get(minute, 0)]
    return judge_busy(minutes, busy, sum(counts[minutes[i]] for i in busy), rates, outage, has_history)


def judge_busy(minutes: list[datetime], busy: list[int], observed: int, rates: list[float], outage: set[datetime],
               has_history: bool) -> Verdict:
    """`judge`, told only which of the window's minutes had a transaction (`busy`, their
    indices in order) and how many transactions there were: the silences are the gaps between
    busy minutes, so judging a city's day costs its busy minutes, not every minute of every
    office. Only a gap of MIN_SILENCE_MINUTES or more is summed (a shorter one is never the
    evidence), each in the window's order, as `judge` always summed them."""
    expected = sum(rates)
    if not has_history:
        return Verdict("no_data", None, None, round(expected, 1), observed, None, "no_history")
    best = None  # (Λ of the silence without outage minutes, first, last)
    first = 0  # the silence's first minute: the one after the last busy minute
    for end in [*busy, len(minutes)]:
        if end - first >= MIN_SILENCE_MINUTES:
            evidence = sum(rates[i] for i in range(first, end) if minutes[i] not in outage)
            if best is None or evidence > best[0]:
                best = (evidence, first, end - 1)
        first = end + 1
    if best is None:
        return Verdict("normal", None, None, round(expected, 1), observed, None, "serving")
    evidence, first, last = best
    # The longest of the window's silences: an open office's n transactions leave n + 1 gaps,
    # each as long as this one with probability exp(-Λ) (a scan statistic's bound).
    p_open = chance_if_open(expected, evidence)
    if p_open < ALPHA:
        return Verdict("suspected_closure", minutes[first], minutes[last], round(expected, 1), observed,
                       round(1 - p_open, 6), "silent_beyond_expectation")
    outage_in_it = sum(1 for minute in minutes[first:last + 1] if minute in outage)
    if outage_in_it and outage_in_it >= (last - first + 1) // 2:
        return Verdict("outage", minutes[first], minutes[last], round(expected, 1), observed, None, "platform_outage")
    return Verdict("normal", None, None, round(expected, 1), observed, None, "serving")


def chance_if_open(expected: float, evidence: float) -> float:
    """The bound on the chance that an open office expecting `expected` transactions in its
    window shows a silence anywhere in it over which `evidence` were expected: (E + 1)·e^−Λ."""
    return min(1.0, (expected + 1) * math.exp(-evidence))


def habitual(verdict: Verdict, span_counts: list[int]) -> bool:
    """Is a suspected silence one the office keeps every day? `span_counts`: its transactions
    over the same clock span on each day of its history it served at all. Their mean, at the
    lower 95 % bound of a Poisson count, is the expected count over the span by its own
    minutes (where the hour's rate averages a break away): a lunch or prayer break taken every
    day leaves it near nothing, and the silence is then no evidence."""
    if verdict.state != "suspected_closure" or not span_counts:
        return False
    total = sum(span_counts)
    evidence = max(0.0, total - 1.645 * math.sqrt(total)) / len(span_counts)
    return chance_if_open(verdict.expected, evidence) >= ALPHA


def outage_minutes(observed_total: dict[datetime, int], expected_total: dict[datetime, float],
                   half_width: int = 15) -> set[datetime]:
    """The minutes when the whole platform carried under OUTAGE_SHARE of the traffic its
    open offices make expected, over a sliding window of 2 × `half_width` + 1 minutes; and
    the `half_width` minutes either side of each, which that window cannot tell from it (no
    office is suspected for them)."""
    minutes = sorted(expected_total)
    quiet = []
    for i, minute in enumerate(minutes):
        around = minutes[max(0, i - half_width):i + half_width + 1]
        expected = sum(expected_total[m] for m in around)
        if expected > 0 and sum(observed_total.get(m, 0) for m in around) < OUTAGE_SHARE * expected:
            quiet.append(i)
    return {minutes[j] for i in quiet for j in range(max(0, i - half_width), min(len(minutes), i + half_width + 1))}
