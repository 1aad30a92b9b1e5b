// Persian digits, Jalali dates and Tehran's clock, as the inspector reads them (DESIGN §3).
// The calendar is the browser's own (ICU's Persian calendar, Intl): nothing to download.

const DIGITS = "۰۱۲۳۴۵۶۷۸۹";
export const faDigits = (value) => String(value ?? "").replace(/[0-9]/g, (d) => DIGITS[d]);
export const asciiDigits = (text) => String(text ?? "")
  .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
  .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660));

export const MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
  "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];
export const WEEKDAYS_FA = { sat: "شنبه", sun: "یکشنبه", mon: "دوشنبه", tue: "سه‌شنبه", wed: "چهارشنبه",
  thu: "پنجشنبه", fri: "جمعه" };

const PARTS = new Intl.DateTimeFormat("en-US-u-ca-persian-nu-latn", {
  timeZone: "Asia/Tehran", year: "numeric", month: "numeric", day: "numeric", weekday: "short",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const GREGORIAN = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tehran", year: "numeric", month: "2-digit",
  day: "2-digit" });

// The Jalali day and wall clock of an instant in Tehran.
export function tehran(instant = new Date()) {
  const parts = Object.fromEntries(PARTS.formatToParts(instant).map((p) => [p.type, p.value]));
  const day = {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    weekday: parts.weekday.slice(0, 3).toLowerCase(),
    clock: `${parts.hour}:${parts.minute}`, seconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60
      + Number(parts.second),
    gregorian: GREGORIAN.format(instant), // YYYY-MM-DD, Tehran's civil day
  };
  day.iso = `${String(day.year).padStart(4, "0")}-${String(day.month).padStart(2, "0")}-`
    + `${String(day.day).padStart(2, "0")}`;
  return day;
}

// `۵ فروردین ۱۴۰۵` (and the weekday when asked).
export function jalaliDay(instant, withWeekday = false) {
  const t = tehran(instant instanceof Date ? instant : new Date(instant));
  const text = `${faDigits(t.day)} ${MONTHS[t.month - 1]} ${faDigits(t.year)}`;
  return withWeekday ? `${WEEKDAYS_FA[t.weekday]} ${text}` : text;
}

// `۱۴۰۵/۰۱/۰۵ ۰۸:۱۵` of an ISO instant, in Tehran; a dash for none.
export function jalaliDateTime(iso) {
  if (!iso) return "—";
  const t = tehran(new Date(iso));
  return faDigits(`${t.iso.replaceAll("-", "/")} ${t.clock}`);
}

export function clock(iso) {
  return iso ? faDigits(tehran(new Date(iso)).clock) : "—";
}

// `1405-01-05` as `۵ فروردین ۱۴۰۵`.
export function jalaliText(isoDate) {
  const [y, m, d] = asciiDigits(isoDate).split("-").map(Number);
  return `${faDigits(d)} ${MONTHS[m - 1]} ${faDigits(y)}`;
}

export const metres = (m) => (m == null ? "—" : m >= 1000
  ? `${faDigits((m / 1000).toFixed(1)).replace(".", "٫")} کیلومتر` : `${faDigits(Math.round(m))} متر`);

// An instant as ISO 8601 with Tehran's offset (the wire's form, DESIGN §3), from the
// phone's clock as it is (wrong or not: the server corrects it, §5.3).
export function isoWithOffset(date = new Date()) {
  const pad = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
    + `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}
