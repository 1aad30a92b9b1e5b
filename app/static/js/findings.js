// The API's machine codes in Persian for the committee page: a case's findings (the codes of
// app/violations/judge.py, with their parameters), report states, time sources, event actions
// and report fields. A code this page does not know yet is shown as the API's English text.
"use strict";

const STATUS = { open: "باز", under_review: "در حال بررسی", confirmed: "تأیید شده", dismissed: "رد شده", withdrawn: "منتفی" };
const KIND = { closed_during_mandated_hours: "تعطیلی در ساعات موظف", needs_verification: "نیازمند بررسی" };
const STATE = { open: "باز", closed: "بسته", open_not_serving: "باز ولی بدون خدمت", relocated: "جابه‌جا شده",
  permanently_closed: "تعطیل دائم", inaccessible: "غیرقابل دسترس" };
const ACTION = { opened: "گشایش پرونده", joined: "افزوده شدن گزارش", context: "گزارش تکمیلی", under_review: "آغاز بررسی",
  decided: "تصمیم", rejudged: "داوری دوباره", withdrawn: "منتفی شدن خودکار", reopened: "بازگشایی پرونده" };
// Why a case was reopened (the event's `cause`).
const REOPENED_BY = { sound_finding_joined: "یافته‌ای معتبر به پرونده ردشده افزوده شد",
  finding_joined: "یافته‌ای به پرونده منتفی‌شده افزوده شد",
  hours_mandate_again: "ساعات مقرر دوباره باز بودن دفتر را الزامی می‌کند" };
const SOURCE = { gps: "زمان GPS", corrected_device: "ساعت گوشی (اصلاح‌شده)", device: "ساعت گوشی" };
const PENALTY = { none: "بدون جریمه", warning: "تذکر", fine: "جریمه نقدی", suspension: "تعلیق" };
const CATEGORY = { standard: "عادی", permit_hub: "مرکز صدور مجوز" };
const FIELD = { observed_at: "زمان مشاهده", gps_fix_at: "زمان GPS", location: "موقعیت", accuracy_m: "دقت GPS",
  office_state: "وضعیت دفتر", staff_present: "کارکنان حاضر", checklist: "فهرست وارسی", notes: "یادداشت",
  photos: "عکس‌ها" };

const faNumber = (n) => faDigits(String(n).replace(".", "٫"));
const state = (code) => `«${STATE[code] || code}»`;

function scopeText(scope) {
  const [kind, value] = String(scope).split(/:(.*)/s);
  if (kind === "city") return "همه شهر";
  if (kind === "district") return `منطقه ${faDigits(value)}`;
  if (kind === "category") return `دفاتر ${CATEGORY[value] || value}`;
  if (kind === "office") return "همین دفتر";
  return scope;
}

// What decided the day's hours (a finding's `hours`).
function hoursText(hours) {
  if (!hours || hours.basis === "none") return "هیچ قاعده‌ای برای این روز ساعت کاری تعیین نکرده است";
  if (hours.basis === "holiday") return `تعطیل رسمی (${hours.holidays.join("، ")})`;
  if (hours.basis !== "rule") throw new Error(`unknown basis ${hours.basis}`);
  const windows = hours.windows.map((w) => w.split("–").map(faDigits).join(" تا ")).join(" و ");
  const what = windows ? `باز از ${windows}` : "تعطیل";
  const holiday = hours.on_holiday ? "، روز تعطیل هم" : "";
  return `${what} به حکم «${hours.rule}» (${scopeText(hours.scope)})${holiday}`;
}

const FINDINGS = {
  found_state: (p) => `دفتر ${state(p.state)} یافت شد`,
  found_closed_not_mandated: (p) => `دفتر ${state(p.state)} یافت شد، ولی در آن ساعت باز بودنش الزامی نبود: ${hoursText(p.hours)}`,
  found_closed_while_mandated: (p) => `دفتر ${state(p.state)} یافت شد، در ساعتی که باید باز می‌بود: ${hoursText(p.hours)}`,
  evidence_sound: (p) => `شواهد معتبر است: گوشی ${faNumber(p.distance_m)} متر از دفتر، دقت GPS ${faNumber(p.accuracy_m)} متر، ` +
    `زمان از ${SOURCE[p.time_source] || p.time_source}`,
  no_position: () => "موقعیت گوشی ثبت نشده است: نمی‌توان نشان داد بازرس در محل دفتر بوده است",
  too_far: (p) => `گوشی ${faNumber(p.distance_m)} متر از دفتر دور بود (بیش از ${faNumber(p.max_m)} متر)`,
  no_accuracy: () => "دقت GPS گزارش نشده است",
  poor_accuracy: (p) => `دقت GPS ${faNumber(p.accuracy_m)} متر بود (باید کمتر از ${faNumber(p.max_m)} متر باشد)`,
  clock_unexplained: (p) => `ساعت گوشی ${faNumber(Math.abs(p.skew_h))} ساعت اختلاف داشت و زمان GPS برای تأیید آن نیست`,
  evidence_after_receipt: () => "زمان شواهد پس از رسیدن گزارش به سرور است",
  gps_time_disagrees: () => "زمان GPS با ساعت اصلاح‌شده گوشی درباره ساعات موظف هم‌خوان نیست",
  no_report_left: () => "گزارشی در پرونده نمانده است",
};

// A finding in Persian; the API's English text for a code (or a shape) this page does not know.
function findingText(finding) {
  const word = FINDINGS[finding.code];
  if (!word) return finding.text;
  try {
    return word(finding.params || {});
  } catch (error) {
    return finding.text;
  }
}

// A case's or an event's findings in Persian; a record made before findings existed has only
// its English reasons.
function findingsOf(record) {
  if (record.findings && record.findings.length) return record.findings.map(findingText);
  return record.reasons || [];
}

// What an event says, after its action: the findings, the decision, the note.
function eventText(event) {
  const d = event.detail;
  const parts = [ACTION[event.action] || event.action];
  if (event.action === "joined" && d.flag) parts[0] += ` (${KIND[d.flag] || d.flag})`;
  if (event.action === "rejudged" && d.kind) parts.push(KIND[d.kind] || d.kind);
  if (event.action === "withdrawn") parts.push("دیگر برقرار نیست");
  if (event.action === "reopened") {
    parts.push(`${STATUS[d.status] || d.status}، ${REOPENED_BY[d.cause] || d.reason}`);
    return parts.join(": ");
  }
  if (event.action === "decided") {
    parts.push([STATUS[d.status] || d.status, d.penalty && (PENALTY[d.penalty] || d.penalty)].filter(Boolean).join("، "));
  }
  const findings = findingsOf(event);
  if (findings.length) parts.push(findings.join("؛ "));
  else if (d.reason) parts.push(d.reason); // an old withdrawal, before findings
  if (d.note) parts.push(d.note);
  return parts.join(": ");
}

// A value kept as an amendment to a locked report.
function amendmentValue(field, value) {
  if (field === "office_state") return STATE[value] || value;
  if (typeof value === "number") return faNumber(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
