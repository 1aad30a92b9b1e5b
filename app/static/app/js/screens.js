// The inspector's screens (DESIGN §10a): log in, today's visit list, the map, an office's
// card, the report form and the outbox. Each `render…` returns the screen's element; data
// comes from the phone's store first, and from the server when there is a network.
import { clock, faDigits, jalaliDateTime, jalaliDay, jalaliText, metres, tehran, isoWithOffset,
  asciiDigits } from "./fa.js";
import { dayHours, windowAt } from "./hours.js";
import { takePhoto } from "./photos.js";
import { drafts, meta, outboxView, photos, records, reports, visitLists } from "./store.js";
import { fetchVisitList, login, saveReport } from "./sync.js";
import { h, toast } from "./ui.js";

export const STATES = { open: "باز", closed: "بسته", open_not_serving: "باز ولی بدون خدمت",
  relocated: "جابه‌جا شده", permanently_closed: "تعطیل دائم", inaccessible: "دسترسی‌ناپذیر" };
export const CHECKLIST = { hours_sign: "تابلوی ساعت کاری نصب است", manager_present: "مدیر دفتر حاضر است",
  systems_online: "سامانه‌ها برقرار است", citizens_served: "به مراجعان خدمت داده می‌شود" };
const FLAGS = { closed_during_mandated_hours: "بسته در ساعت موظف (پرونده تشکیل شد)",
  needs_verification: "نیازمند راستی‌آزمایی" };
const SOURCES = { gps: "زمان GPS", corrected_device: "ساعت گوشی، اصلاح‌شده با ساعت سرور", device: "ساعت گوشی" };
const FIELDS = { observed_at: "زمان مشاهده", gps_fix_at: "زمان GPS", location: "موقعیت", accuracy_m: "دقت GPS",
  office_state: "وضعیت دفتر", staff_present: "کارکنان حاضر", checklist: "فهرست وارسی", notes: "یادداشت",
  photos: "عکس‌ها", office_id: "دفتر", round_id: "برنامهٔ بازدید", data: "گزارش" };
const POLICIES = { latest_edit: "ویرایش تازه‌تر ماند", merge_text: "هر دو متن نگه داشته شد",
  union: "عکس‌های هر دو طرف نگه داشته شد", locked_amendment: "گزارش نزد کمیته است: به‌صورت الحاقیه ثبت شد",
  update_beats_delete: "حذف انجام نشد: گزارش در این میان تغییر کرده بود", over_limit: "بیش از حد مجاز",
  round_refused: "برنامهٔ بازدید با دفتر و روز گزارش نمی‌خواند" };
const PRIORITY = { suspected_closure: "مظنون به تعطیلی", not_visited: "بازدیدنشده در این دوره",
  past_violation: "تخلف پیشین", routine: "عادی" };
export const PROBLEMS = {
  "invalid-credentials": "نام کاربری یا گذرواژه نادرست است.",
  unauthenticated: "نشست شما پایان یافته است؛ دوباره وارد شوید.",
  forbidden: "نقش شما اجازهٔ این کار را ندارد.",
  "out-of-scope": "این مورد بیرون از منطقه‌های شماست؛ یک بار همگام کنید.",
  "too-many-requests": "تلاش‌های ناموفق بسیار بود؛ کمی بعد دوباره امتحان کنید.",
  "payload-too-large": "بستهٔ ارسالی بیش از اندازه بزرگ است.",
  "photo-too-large": "عکس بیش از ۱۵ مگابایت است؛ عکس کوچک‌تری بگیرید.",
  "photo-hash-mismatch": "فایل عکس روی گوشی آسیب دیده است؛ دوباره عکس بگیرید.",
  "not-an-image": "این فایل عکس JPEG، PNG یا WebP نیست.",
  "unsupported-media-type": "این نوع فایل پذیرفته نمی‌شود؛ عکس JPEG، PNG یا WebP بفرستید.",
  "upload-length-mismatch": "بارگذاری نیمه‌کارهٔ دیگری از همین عکس با اندازهٔ دیگر روی سرور هست.",
  "too-many-open-uploads": "بارگذاری‌های نیمه‌کارهٔ شما بسیار است؛ پس از تمام شدن آن‌ها دوباره امتحان می‌شود.",
  unavailable: "سرور اکنون در دسترس نیست؛ کمی بعد دوباره امتحان کنید.",
  "internal-error": "خطایی در سرور رخ داد؛ چیزی نیمه‌کاره ثبت نشد.",
};

export function problemText(error) {
  if (error?.network) return "به سرور دسترسی نیست (اینترنت؟)؛ کار شما روی گوشی محفوظ است.";
  const code = error?.code;
  if (code === "too-many-requests" && error.retryAfterMs) {
    return `تلاش‌های ناموفق بسیار بود؛ پس از ${faDigits(Math.ceil(error.retryAfterMs / 1000))} ثانیه دوباره امتحان کنید.`;
  }
  return PROBLEMS[code] || error?.message || String(error);
}

const header = (title, ...extra) => h("div", { class: "screen-head" }, h("h2", {}, title), ...extra);

// ------------------------------------------------------------------ log in

// `expired`: the password again, in a dialog over another screen (its own element ids).
export function renderLogin({ onDone, expired = false, username = "" }) {
  const id = expired ? "again" : "login";
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const user = h("input", { id: expired ? "again-username" : "username", name: "username", required: true,
    autocomplete: "username", dir: "ltr", value: username, autocapitalize: "off", spellcheck: "false" });
  const pass = h("input", { id: expired ? "again-password" : "password", name: "password", type: "password",
    required: true, autocomplete: "current-password", dir: "ltr" });
  const submit = h("button", { type: "submit", class: "primary big" }, "ورود");
  const form = h("form", { class: "card", id: `${id}-form`, onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await login(user.value.trim(), pass.value);
      await onDone();
    } catch (failure) {
      error.textContent = problemText(failure);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  } },
  h("h2", {}, expired ? "گذرواژه را دوباره وارد کنید" : "ورود بازرس"),
  expired ? h("p", {}, "نشست شما پایان یافته است. گزارش‌های ارسال‌نشده روی گوشی محفوظ است و پس از ورود فرستاده می‌شود.") : null,
  h("label", { for: user.id }, "نام کاربری"), user,
  h("label", { for: pass.id }, "گذرواژه"), pass,
  submit, error);
  return expired ? form : h("section", { class: "screen", id: "screen-login" }, form);
}

// ------------------------------------------------------------------ today's visit list

function officeLine(office) {
  return h("span", { class: "muted" }, h("bdi", { dir: "ltr" }, office.code), " · ", office.address || "");
}

function windowText(window) {
  return window ? `${faDigits(window.start)} تا ${faDigits(window.end)}` : "—";
}

export async function lastPosition() {
  return meta.get("position");
}

// Where the phone is now, for planning the day: a fix of the last five minutes will do,
// and with none in eight seconds, the last one known (or none: the server starts the
// round from the centre of the inspector's offices).
async function positionForPlanning() {
  try {
    const position = await currentPosition({ enableHighAccuracy: false, timeout: 8000, maximumAge: 300000 });
    const fix = { lat: position.coords.latitude, lon: position.coords.longitude, accuracy_m: position.coords.accuracy,
      at: isoWithOffset(new Date(position.timestamp)) };
    await meta.set("position", fix);
    return fix;
  } catch {
    return lastPosition();
  }
}

const rad = (deg) => (deg * Math.PI) / 180;
export function distanceM(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(x));
}

export const officePoint = (office) => ({ lon: office.location.coordinates[0], lat: office.location.coordinates[1] });

export async function renderVisits({ online, go, refresh = false }) {
  const today = tehran();
  const screen = h("section", { class: "screen", id: "screen-visits" });
  const status = h("p", { class: "muted", id: "visits-source", role: "status" });
  const list = h("ol", { class: "stops", id: "stops" });
  const refreshButton = h("button", { type: "button", class: "secondary", disabled: !online, onclick: () => go("#/visits?refresh=1") },
    "به‌روزرسانی فهرست");
  screen.append(header(`بازدیدهای امروز`, h("p", { class: "muted" }, jalaliDay(new Date(), true))), h("div", { class: "row" },
    refreshButton, h("a", { href: "#/map", class: "button secondary" }, "نقشه")), status, list);

  let kept = await visitLists.get(today.iso);
  const stale = !kept || Date.now() - new Date(kept.fetched_at) > 15 * 60 * 1000;
  if (online && (refresh || stale)) {
    status.textContent = "در حال دریافت فهرست امروز…";
    try {
      kept = await fetchVisitList(today.iso, await positionForPlanning());
    } catch (error) {
      status.textContent = problemText(error);
    }
  }
  const fallback = kept || await visitLists.latest();
  if (fallback?.list) {
    const when = jalaliDateTime(fallback.fetched_at);
    status.textContent = fallback.date === today.iso
      ? `فهرست امروز، دریافت‌شده در ${when}${online ? "" : " (بی‌اینترنت: آخرین فهرست نگه‌داشته)"}`
      : `فهرست امروز در دست نیست؛ آخرین فهرست (${jalaliText(fallback.date)}) نشان داده می‌شود.`;
    // Visited: what the server knew when the list was made, and what this phone has
    // reported today since (offline too).
    const done = new Set((fallback.list.done || []).map((d) => String(d.office.id)));
    for (const report of await reports.all()) {
      if (report.data.observed_at && tehran(new Date(report.data.observed_at)).iso === today.iso) {
        done.add(String(report.data.office_id));
      }
    }
    for (const stop of fallback.list.stops || []) list.append(stopItem(stop, done.has(String(stop.office.id))));
    if (fallback.list.dropped?.length) {
      screen.append(h("h3", {}, "در برنامهٔ امروز نمی‌گنجد"));
      const dropped = h("ul", { class: "stops dropped" });
      for (const stop of fallback.list.dropped) dropped.append(stopItem(stop, done.has(String(stop.office.id))));
      screen.append(dropped);
    }
    if (!(fallback.list.stops || []).length && !(fallback.list.dropped || []).length) {
      list.append(h("li", { class: "empty" }, "برای امروز بازدیدی برنامه‌ریزی نشده است."));
    }
  } else {
    // Never fetched: the synced offices of the inspector's districts, nearest first.
    status.textContent = online ? status.textContent || "فهرست امروز در دست نیست." :
      "بی‌اینترنت و بدون فهرست نگه‌داشته: دفاتر همگام‌شده، نزدیک‌ترین اول.";
    const position = await lastPosition();
    const offices = await records.all("offices");
    if (position) offices.sort((a, b) => distanceM(position, officePoint(a)) - distanceM(position, officePoint(b)));
    offices.forEach((office, i) => list.append(stopItem({ seq: i + 1, office: { ...office, ...officePoint(office) },
      travel_m: position ? distanceM(position, officePoint(office)) : null }, false)));
  }
  return screen;
}

function stopItem(stop, visited) {
  const office = stop.office;
  return h("li", { class: `stop${visited ? " visited" : ""}` },
    h("a", { href: `#/office/${office.id}`, class: "stop-link" },
      h("span", { class: "seq", "aria-hidden": "true" }, faDigits(stop.seq ?? "–")),
      h("span", { class: "stop-body" },
        h("strong", {}, office.name),
        officeLine(office),
        h("span", { class: "stop-facts" },
          stop.eta ? `رسیدن ${clock(stop.eta)}` : null,
          stop.window ? ` · ساعت موظف ${windowText(stop.window)}` : null,
          stop.travel_m != null ? ` · ${metres(stop.travel_m)}` : null),
        stop.priority && stop.priority !== "routine"
          ? h("span", { class: `badge ${stop.priority}` }, PRIORITY[stop.priority] || stop.priority) : null,
        stop.reason && !stop.seq ? h("span", { class: "muted" }, stop.reason) : null,
        visited ? h("span", { class: "badge ok" }, "امروز بازدید شد") : null)));
}

// ------------------------------------------------------------------ an office's card

export async function todaysHours(office, when = new Date()) {
  const day = tehran(when);
  const hours = dayHours(office, day, await records.all("hours_rules"), await records.all("holidays"));
  return { day, hours, now: windowAt(hours, day.seconds) };
}

export function hoursSentence({ hours }) {
  if (hours.basis === "holiday") return `تعطیل رسمی (${hours.holidays.join("، ")}): ساعت موظفی ندارد.`;
  if (hours.basis === "none") return "هیچ قاعده‌ای برای امروز ساعت موظف تعیین نکرده است.";
  if (!hours.windows.length) return `به حکم قاعدهٔ «${hours.rule.name}» امروز تعطیل است.`;
  const windows = hours.windows.map(windowText).join(" و ");
  return `باید ${windows} باز باشد (قاعدهٔ «${hours.rule.name}»${hours.holidays.length ? "، در روز تعطیل هم" : ""}).`;
}

export async function renderOffice({ id }) {
  const office = await records.get("offices", id);
  if (!office) return h("section", { class: "screen" }, h("p", { class: "error" }, "این دفتر روی گوشی نیست؛ همگام کنید."));
  const today = await todaysHours(office);
  const mine = (await reports.all()).filter((r) => r.data.office_id === id)
    .sort((a, b) => (a.data.observed_at < b.data.observed_at ? 1 : -1));
  const last = mine[0];
  const point = officePoint(office);
  return h("section", { class: "screen", id: "screen-office" },
    header(office.name, h("p", { class: "muted" }, h("bdi", { dir: "ltr" }, office.code), ` · منطقه ${faDigits(office.district)}`)),
    h("div", { class: "card" },
      h("h3", {}, `ساعت موظف امروز، ${jalaliDay(new Date(), true)}`),
      h("p", { id: "office-hours", dataset: { basis: today.hours.basis,
        windows: today.hours.windows.map((w) => `${w.start}–${w.end}`).join(" ") } }, hoursSentence(today)),
      h("p", { class: today.now ? "badge warn" : "badge" }, today.now ? "اکنون باید باز باشد" : "اکنون ملزم به باز بودن نیست")),
    h("dl", { class: "card facts" },
      h("dt", {}, "نشانی"), h("dd", {}, office.address || "—"),
      h("dt", {}, "تلفن"), h("dd", {}, office.phone ? h("a", { href: `tel:${office.phone}`, dir: "ltr" }, faDigits(office.phone)) : "—"),
      h("dt", {}, "آخرین بازدید شما"), h("dd", { id: "office-last" }, last
        ? `${jalaliDateTime(last.data.observed_at)} — ${STATES[last.data.office_state] || last.data.office_state}` : "تاکنون بازدید نکرده‌اید")),
    h("div", { class: "row" },
      h("a", { href: `#/report/new/${id}`, class: "button primary big", id: "new-report" }, "ثبت گزارش بازدید"),
      h("a", { href: `geo:${point.lat},${point.lon}?q=${point.lat},${point.lon}`, class: "button secondary" }, "مسیریابی")));
}

// ------------------------------------------------------------------ the report form

function currentPosition(options = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("no geolocation"));
    navigator.geolocation.getCurrentPosition(resolve, reject,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0, ...options });
  });
}

export async function locate() {
  const position = await currentPosition();
  const fix = { lat: position.coords.latitude, lon: position.coords.longitude, accuracy_m: position.coords.accuracy,
    at: isoWithOffset(new Date(position.timestamp)) };
  await meta.set("position", fix);
  return fix;
}

function radioGroup(name, legend, options, selected, onChange, extraClass = "") {
  return h("fieldset", { class: `choices ${extraClass}` }, h("legend", {}, legend),
    Object.entries(options).map(([value, label]) => h("label", { class: "choice" },
      h("input", { type: "radio", name, value, checked: selected === value, onchange: () => onChange(value) }),
      h("span", {}, label))));
}

// Only the report form on screen may write its draft: a GPS fix or a photo that arrives
// after the form was saved or left must not bring it back as a draft (main.js closes the
// form on every change of screen).
let formSeq = 0;
export function closeForms() {
  formSeq += 1;
}

// `id`: an existing report to edit; else `office`: a new report of that office.
//
// The form keeps what the report was when it opened (`opened`, and the version that was)
// and what the inspector changed since (`changes`); an edit sends only `changes`, based on
// that version, so a sync that brings another phone's edit while the form is open is merged
// by the server, not overwritten by what the form showed. The draft holds `changes` too,
// written on every input once the inspector has touched the form.
export async function renderReport({ id = null, office: officeId = null, go, afterSave }) {
  const token = ++formSeq;
  let saved = false;
  const alive = () => token === formSeq && !saved;
  const existing = id ? await reports.get(id) : null;
  const draftKey = existing ? `edit:${id}` : `new:${officeId}`;
  const draft = await drafts.get(draftKey);
  const opened = existing ? { ...existing.data } : { office_id: officeId, checklist: {}, notes: "", photos: [],
    staff_present: null, observed_at: isoWithOffset(new Date()) }; // observed when the form opens, at the office
  const openedVersion = draft ? draft.base_version : existing?.version ?? null;
  const changes = { ...(draft?.changes || {}) };
  const form = { ...opened, ...changes };
  let touched = Boolean(draft);
  const office = await records.get("offices", form.office_id);
  const screen = h("section", { class: "screen", id: "screen-report" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const saveDraft = () => {
    if (!alive() || !touched) return Promise.resolve();
    if (!existing) changes.observed_at = form.observed_at;
    return drafts.put({ id: draftKey, changes, base_version: openedVersion, saved_at: new Date().toISOString() })
      .catch(() => {});
  };
  // `byHand`: the inspector did it (a draft from now on); else the app did (a GPS fix).
  const set = (key, value, byHand = true) => {
    form[key] = value;
    changes[key] = value;
    touched = touched || byHand;
    return saveDraft();
  };

  screen.append(header(existing ? "ویرایش گزارش" : "گزارش بازدید", h("p", { class: "muted" }, office?.name || form.office_id)));
  if (draft) {
    screen.append(h("p", { class: "note", id: "draft-note" }, `پیش‌نویس ذخیره‌شده در ${jalaliDateTime(draft.saved_at)} بازیابی شد. `,
      h("button", { type: "button", class: "link", onclick: async () => {
        await drafts.del(draftKey);
        await forgetLoosePhotos(changes.photos || []);
        go(location.hash);
      } }, "کنار گذاشتن پیش‌نویس")));
  }
  if (existing?.refused) {
    screen.append(h("p", { class: "note" }, "سرور این گزارش را نپذیرفت (دلیل در صندوق ارسال). پس از اصلاح، دوباره به‌عنوان گزارش تازه فرستاده می‌شود."));
  }
  if (existing?.server?.locked) {
    screen.append(h("p", { class: "note" }, "این گزارش نزد کمیته انضباطی است؛ تغییر شما به‌صورت الحاقیه ثبت می‌شود."));
  }
  const stateGroup = radioGroup("office_state", "وضعیت دفتر", STATES, form.office_state,
    (value) => set("office_state", value), "states");

  const staff = h("input", { id: "staff_present", type: "text", inputmode: "numeric", pattern: "[0-9۰-۹٠-٩]*",
    autocomplete: "off", dir: "ltr", value: form.staff_present == null ? "" : faDigits(form.staff_present),
    oninput: () => {
      const value = asciiDigits(staff.value).replace(/[^0-9]/g, "");
      set("staff_present", value === "" ? null : Math.min(10000, Number(value)));
    } });

  const checklist = h("fieldset", { class: "checklist" }, h("legend", {}, "فهرست وارسی"),
    Object.entries(CHECKLIST).map(([key, label]) => {
      const current = form.checklist?.[key];
      const pick = (value) => set("checklist", { ...(form.checklist || {}), [key]: value });
      return h("div", { class: "check-item", role: "radiogroup", "aria-label": label }, h("span", {}, label),
        h("span", { class: "tri" },
          [["yes", true, "بله"], ["no", false, "خیر"], ["unknown", null, "نامعلوم"]].map(([suffix, value, text]) =>
            h("label", {}, h("input", { type: "radio", name: `check-${key}`, value: suffix,
              checked: current === value || (value === null && current === undefined),
              onchange: () => pick(value) }), h("span", {}, text)))));
    }));

  const notes = h("textarea", { id: "notes", rows: 4, maxlength: 4000, oninput: () => set("notes", notes.value) });
  notes.value = form.notes || "";

  // Photos: the camera, shrunk and hashed on the phone, kept in IndexedDB at once.
  const thumbs = h("div", { class: "thumbs", id: "thumbs" });
  const showThumbs = async () => {
    thumbs.replaceChildren();
    for (const entry of form.photos || []) {
      const stored = await photos.get(entry.sha256);
      const img = h("img", { alt: "عکس گزارش", width: 96, height: 72 });
      if (stored?.blob) img.src = URL.createObjectURL(stored.blob);
      thumbs.append(h("figure", {}, img, h("button", { type: "button", class: "link", "aria-label": "حذف این عکس",
        onclick: async () => {
          await set("photos", form.photos.filter((p) => p.sha256 !== entry.sha256));
          await forgetLoosePhotos([entry]);
          showThumbs();
        } }, "حذف")));
    }
  };
  const busy = h("span", { class: "muted", role: "status" });
  const camera = h("input", { id: "camera", type: "file", accept: "image/*", capture: "environment", multiple: true,
    class: "visually-hidden", onchange: async () => {
      const files = [...camera.files];
      camera.value = "";
      busy.textContent = "در حال آماده‌سازی عکس…";
      try {
        for (const file of files) {
          const entry = await takePhoto(file, isoWithOffset(new Date()));
          if (!(form.photos || []).some((p) => p.sha256 === entry.sha256)) {
            await set("photos", [...(form.photos || []), entry]);
          }
        }
        await showThumbs();
        busy.textContent = "";
      } catch (failure) {
        busy.textContent = `عکس خوانده نشد: ${failure.message}`;
      }
    } });
  await showThumbs();

  // The GPS fix: position, accuracy and the fix's own time, apart from the phone's clock.
  const gps = h("p", { id: "gps", role: "status" });
  const showFix = () => {
    if (!form.location) {
      gps.textContent = "موقعیت هنوز ثبت نشده است.";
      return;
    }
    const [lon, lat] = form.location.coordinates;
    const away = office ? distanceM({ lat, lon }, officePoint(office)) : null;
    gps.textContent = `${decimal(lat, 5)}، ${decimal(lon, 5)} · دقت ${metres(form.accuracy_m)}`
      + ` · زمان GPS ${clock(form.gps_fix_at)}${away != null ? ` · ${metres(away)} تا دفتر` : ""}`;
  };
  let fixing = null;
  const takeFix = (byHand) => {
    gps.textContent = "در حال گرفتن موقعیت…";
    fixing = locate().then((fix) => {
      if (!alive()) return;
      set("location", { type: "Point", coordinates: [fix.lon, fix.lat] }, byHand);
      set("accuracy_m", Math.round(fix.accuracy_m * 10) / 10, byHand);
      set("gps_fix_at", fix.at, byHand);
      showFix();
    }).catch((failure) => {
      if (alive()) gps.textContent = `موقعیت گرفته نشد (${failure.message || failure.code}); دوباره امتحان کنید.`;
    }).finally(() => { fixing = null; });
    return fixing;
  };
  const fixButton = h("button", { type: "button", class: "secondary", id: "locate", onclick: () => takeFix(true) },
    "ثبت موقعیت");
  showFix();
  // A new report takes a fresh fix (a restored draft's may be hours old); an edit keeps
  // the position of what was observed unless the inspector asks for a new one.
  if (!existing) takeFix(false);

  const deviceClock = h("p", { class: "muted", id: "device-time" });
  const tick = () => { deviceClock.textContent = `ساعت گوشی: ${jalaliDateTime(new Date().toISOString())}`; };
  tick();
  const ticker = setInterval(() => (document.body.contains(deviceClock) ? tick() : clearInterval(ticker)), 15000);

  const save = h("button", { type: "submit", class: "primary big", id: "save" }, "ذخیره در صندوق ارسال");
  const element = h("form", { class: "report-form", onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!form.office_state) {
      error.textContent = "وضعیت دفتر را انتخاب کنید.";
      error.hidden = false;
      return;
    }
    save.disabled = true;
    try {
      if (fixing && !form.location) {
        // Saved while the first fix is on its way: a few seconds for it, not more.
        save.textContent = "در انتظار موقعیت…";
        await Promise.race([fixing, new Promise((resolve) => setTimeout(resolve, 5000))]);
      }
      let fields;
      if (!existing) {
        const list = await visitLists.get(tehran().iso);
        const round = list?.list?.round_id;
        const inRound = round && (await records.get("rounds", round))?.stops?.some((s) => s.office_id === form.office_id);
        fields = { ...form, round_id: inRound ? round : null };
      } else {
        fields = changes;
      }
      saved = true; // from here no late fix or photo writes a draft
      const reportId = await saveReport(fields, { id: existing?.id, draftId: draftKey, baseVersion: openedVersion });
      toast("گزارش در صندوق ارسال ذخیره شد.", "ok");
      afterSave(reportId);
    } catch (failure) {
      saved = false;
      error.textContent = `ذخیره نشد: ${failure.message}`;
      error.hidden = false;
      save.disabled = false;
      save.textContent = "ذخیره در صندوق ارسال";
    }
  } },
  stateGroup,
  h("label", { for: "staff_present" }, "شمار کارکنان حاضر"), staff,
  checklist,
  h("label", { for: "notes" }, "یادداشت"), notes,
  h("fieldset", { class: "photos" }, h("legend", {}, "عکس‌ها"),
    h("label", { for: "camera", class: "button secondary big" }, "گرفتن عکس"), camera, busy, thumbs),
  h("fieldset", { class: "gps" }, h("legend", {}, "موقعیت GPS"), gps, fixButton),
  deviceClock, save, error);
  screen.append(element);
  return screen;
}

// Photos taken for a form and then put aside: kept by no report, so not the server's to have.
async function forgetLoosePhotos(entries) {
  for (const entry of entries) {
    const stored = await photos.get(entry.sha256);
    if (stored && !(stored.reports || []).length) await photos.del(entry.sha256);
  }
}

const decimal = (value, places) => faDigits(Number(value).toFixed(places)).replace(".", "٫");

// ------------------------------------------------------------------ the outbox

// A field's value as an inspector reads it (never raw JSON).
function shown(field, value) {
  if (value === null || value === undefined || value === "") return "—";
  switch (field) {
    case "office_state": return STATES[value] || value;
    case "checklist": return Object.entries(value).map(([key, v]) =>
      `${CHECKLIST[key] || key}: ${v === true ? "بله" : v === false ? "خیر" : "نامعلوم"}`).join("؛ ") || "—";
    case "photos": return `${faDigits(value.length)} عکس`;
    case "location": return value.coordinates
      ? `${decimal(value.coordinates[1], 5)}، ${decimal(value.coordinates[0], 5)}` : "—";
    case "accuracy_m": return metres(value);
    case "observed_at": case "gps_fix_at": return jalaliDateTime(value);
    default: return typeof value === "object" ? JSON.stringify(value) : faDigits(value);
  }
}

function conflictText(conflict) {
  const show = (value) => shown(conflict.field, value);
  return h("li", {}, h("strong", {}, FIELDS[conflict.field] || conflict.field), ": ",
    POLICIES[conflict.policy] || conflict.policy,
    h("div", { class: "conflict" },
      h("span", {}, "نسخهٔ سرور: ", h("bdi", {}, show(conflict.server))),
      h("span", {}, "نسخهٔ شما: ", h("bdi", {}, show(conflict.client))),
      h("span", {}, "نتیجه: ", h("bdi", { class: "resolved" }, show(conflict.resolved)))));
}

function errorsText(errors) {
  const out = [];
  const walk = (value, path) => {
    if (Array.isArray(value)) value.forEach((v) => (typeof v === "object" ? walk(v, path) : out.push([path, v])));
    else if (value && typeof value === "object") Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    else out.push([path, value]);
  };
  walk(errors || {}, "");
  return out.map(([path, message]) => `${FIELDS[path.replace(/^data\./, "")] || path}: ${message}`);
}

// One report's state in the outbox: waiting, sent, merged, refused, photos pending (from
// store.outboxView(): no reads of its own).
export function reportState(report, view) {
  const ops = view.opsOf.get(report.id) || [];
  const outcome = view.outcomes.get(report.id);
  const local = (report.data.photos || []).map((p) => view.photos.get(p.sha256));
  const photosWaiting = local.filter((p) => p && !p.uploaded && !p.failed).length
    || (ops.length ? 0 : (report.server?.photos_pending || []).length);
  const failedPhotos = local.filter((p) => p?.failed);
  let state;
  if (ops.length) state = ops.some((op) => op.attempts > 0) ? "sending" : "waiting";
  else if (report.refused || outcome?.status === "rejected") state = "refused";
  else if (outcome?.status === "merged") state = "merged";
  else state = "sent";
  return { state, ops, outcome, photosWaiting, failedPhotos };
}

// Sent and settled reports shown besides everything that still needs the inspector or the
// network: the newest ones (weeks of rounds come back with every pull).
const SETTLED_SHOWN = 50;

const STATE_TEXT = { waiting: "در انتظار ارسال", sending: "در انتظار ارسال (پاسخی نرسید؛ همان دوباره فرستاده می‌شود)",
  sent: "ارسال شد", merged: "ادغام شد", refused: "رد شد" };

export async function renderOutbox({ syncButton, storageNote, onLogout, onClear, release }) {
  const view = await outboxView();
  const newestFirst = view.reports.sort((a, b) => ((a.data.observed_at || "") < (b.data.observed_at || "") ? 1 : -1));
  const offices = Object.fromEntries((await records.all("offices")).map((o) => [o.id, o]));
  const list = h("ul", { class: "outbox", id: "outbox-list" });
  let settled = 0;
  let hidden = 0;
  for (const report of newestFirst) {
    const info = reportState(report, view);
    const needsLooking = info.state !== "sent" || info.photosWaiting || info.failedPhotos.length;
    if (!needsLooking && (settled += 1) > SETTLED_SHOWN) {
      hidden += 1;
      continue;
    }
    const server = report.server;
    const item = h("li", { class: `outbox-item ${info.state}`, dataset: { report: report.id, state: info.state } },
      h("a", { href: `#/report/${report.id}`, class: "outbox-link" },
        h("strong", {}, offices[report.data.office_id]?.name || "دفتر"),
        h("span", { class: "muted" }, `${STATES[report.data.office_state] || ""} · ${jalaliDateTime(report.data.observed_at)}`)),
      h("span", { class: `badge ${info.state}`, dataset: { role: "sync-state" } }, STATE_TEXT[info.state]),
      info.photosWaiting ? h("span", { class: "badge warn", dataset: { role: "photos-pending" } },
        `${faDigits(info.photosWaiting)} عکس در انتظار ارسال`) : null,
      info.failedPhotos.length ? h("p", { class: "error" },
        `عکس پذیرفته نشد: ${PROBLEMS[info.failedPhotos[0].failed_code] || info.failedPhotos[0].failed}`) : null);
    if (info.state === "refused") {
      const reasons = errorsText(info.outcome?.errors);
      item.append(h("div", { class: "refusal", dataset: { role: "reason" } }, h("strong", {}, "دلیل: "),
        reasons.length ? reasons.join("؛ ") : (info.outcome?.reason || "سرور نپذیرفت")));
    }
    if (info.outcome?.conflicts?.length && !info.ops.length) {
      item.append(h("div", { class: "merged", dataset: { role: "conflicts" } }, h("p", {}, "سرور این تغییرها را ادغام کرد:"),
        h("ul", {}, info.outcome.conflicts.map(conflictText))));
    }
    if (info.outcome?.reason && info.state !== "refused") item.append(h("p", { class: "note" }, info.outcome.reason));
    if (server && !info.ops.length) {
      item.append(h("p", { class: "judged", dataset: { role: "evidence" } },
        `زمان شواهد: ${jalaliDateTime(server.evidence_time)} (${SOURCES[server.evidence_time_source] || server.evidence_time_source})`,
        server.distance_to_office_m != null ? ` · ${metres(server.distance_to_office_m)} تا دفتر` : ""));
      for (const flag of server.flags || []) item.append(h("span", { class: `badge flag ${flag}` }, FLAGS[flag] || flag));
    }
    list.append(item);
  }
  if (!newestFirst.length) list.append(h("li", { class: "empty" }, "هنوز گزارشی ثبت نکرده‌اید."));
  if (hidden) list.append(h("li", { class: "empty" }, `${faDigits(hidden)} گزارش قدیمی‌ترِ ارسال‌شده نشان داده نشد.`));
  return h("section", { class: "screen", id: "screen-outbox" },
    header("صندوق ارسال", h("p", { class: "muted", id: "outbox-count" }, view.waiting
      ? `${faDigits(view.waiting)} تغییر در انتظار ارسال` : "همه چیز ارسال شده است")),
    syncButton,
    h("p", { class: "muted" }, `آخرین همگام‌سازی: ${view.pulledAt ? jalaliDateTime(view.pulledAt) : "هرگز"}`),
    list,
    h("div", { class: "card" }, h("h3", {}, "این گوشی"), storageNote,
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", id: "logout", onclick: onLogout }, "خروج"),
        h("button", { type: "button", class: "danger", id: "clear", onclick: onClear }, "پاک کردن داده‌های این گوشی")),
      h("p", { class: "muted small" }, `نسخهٔ برنامه: `, h("bdi", { dir: "ltr", id: "release" }, release))));
}
