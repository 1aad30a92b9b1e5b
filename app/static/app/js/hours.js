// An office's mandated hours on a day, worked out on the phone from the synced rules and
// holidays, with no network: the same precedence as the server's app/hours/rules.py
// (README, "Mandated hours"), which judges the report when it lands.
//
// 1. A rule applies when it is not withdrawn, its Jalali dates and weekdays cover the
//    day, its scope takes in the office, and the office's category is not exempt.
// 2. On an official holiday only rules marked `on_holidays` apply; with none, it is closed.
// 3. The most specific scope wins (office > district > category > city); at the same
//    scope the later-published rule, then the larger id.
// 4. The winner's windows are [start, end); a `closed` rule has none. No rule: nothing
//    is mandated.
import { asciiDigits } from "./fa.js";

const RANK = { city: 0, category: 1, district: 2, office: 3 };

function scopeOf(text) {
  const [kind, ...rest] = asciiDigits(text).trim().split(":");
  return { kind, value: rest.join(":").trim() };
}

function takesIn(scope, office) {
  return scope.kind === "city"
    || (scope.kind === "district" && Number(scope.value) === Number(office.district))
    || (scope.kind === "category" && scope.value === office.category)
    || (scope.kind === "office" && scope.value === String(office.id));
}

function monthDay(text) {
  const parts = asciiDigits(text).split("-").map(Number);
  return parts.length === 3 ? { year: parts[0], md: [parts[1], parts[2]] } : { year: null, md: parts };
}

const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

function covers(rule, day) {
  const from = monthDay(rule.date_from);
  const to = monthDay(rule.date_to);
  if (from.year !== null && from.year !== day.year) return false;
  const md = [day.month, day.day];
  return !before(md, from.md) && !before(to.md, md);
}

function applies(rule, office, day) {
  return !rule.withdrawn
    && covers(rule, day)
    && (!rule.weekdays?.length || rule.weekdays.includes(day.weekday))
    && takesIn(scopeOf(rule.scope), office)
    && !(rule.exempt_categories || []).includes(office.category);
}

// `day` is fa.tehran(): {year, month, day, weekday, iso, gregorian}.
export function dayHours(office, day, rules, holidays) {
  const titles = holidays.filter((h) => !h.cancelled && (h.date === day.iso || h.gregorian_date === day.gregorian))
    .map((h) => h.title);
  let applicable = rules.filter((rule) => applies(rule, office, day));
  if (titles.length) applicable = applicable.filter((rule) => rule.on_holidays);
  if (!applicable.length) {
    return { windows: [], rule: null, holidays: titles, basis: titles.length ? "holiday" : "none" };
  }
  applicable.sort((a, b) => {
    const rank = RANK[scopeOf(b.scope).kind] - RANK[scopeOf(a.scope).kind];
    if (rank) return rank;
    const published = new Date(b.published_at) - new Date(a.published_at);
    if (published) return published;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
  const winner = applicable[0];
  const windows = winner.kind === "closed" ? [] : [...winner.windows].sort((a, b) => (a.start < b.start ? -1 : 1));
  return { windows, rule: winner, holidays: titles, basis: "rule" };
}

const seconds = (hhmm) => {
  const [h, m, s] = hhmm.split(":").map(Number);
  return h * 3600 + m * 60 + (s || 0);
};

// The window open at `day.seconds` (Tehran wall clock), or null.
export function windowAt(hours, daySeconds) {
  return hours.windows.find((w) => seconds(w.start) <= daySeconds && daySeconds < seconds(w.end)) || null;
}
