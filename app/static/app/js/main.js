// The inspector's app: starts the store, the service worker and the screens, and keeps the
// header's network state, outbox count and sync in step (DESIGN §10a).
import { faDigits, tehran } from "./fa.js";
import { stopWatching, renderMap } from "./map.js";
import { RequestFailed } from "./net.js";
import { closeForms, problemText, renderLogin, renderOffice, renderOutbox, renderReport, renderVisits } from "./screens.js";
import * as store from "./store.js";
import { AuthNeeded, logout, pull, saveReport, session, syncAll, unsent } from "./sync.js";
import { $, ask, h, toast } from "./ui.js";

const RELEASE = document.documentElement.dataset.release;
let editing = false; // the report form is open: a new release waits for it to close
let releaseWaiting = false; // a new release took over while the form was open

// ------------------------------------------------------------------ the header

const online = () => navigator.onLine;

async function refreshHeader() {
  $("net").textContent = online() ? "آنلاین" : "بی‌اینترنت";
  $("net").className = `chip ${online() ? "on" : "off"}`;
  const left = await unsent().catch(() => ({ ops: 0, photos: 0 }));
  const count = left.ops + left.photos;
  $("outbox-badge").textContent = count ? faDigits(count) : "";
  $("outbox-badge").hidden = !count;
}

// ------------------------------------------------------------------ sync with progress

const progress = h("progress", { id: "sync-progress", max: 1, value: 0, hidden: true, "aria-label": "پیشرفت همگام‌سازی" });
const syncStatus = h("p", { id: "sync-status", role: "status", class: "muted" });
const syncNow = h("button", { type: "button", class: "primary big", id: "sync", onclick: () => sync({ manual: true }) },
  "همگام‌سازی");
const syncButton = h("div", { class: "sync" }, syncNow, progress, syncStatus);

const STAGES = { push: "ارسال گزارش‌ها…", photos: "ارسال عکس‌ها…", pull: "دریافت داده‌های تازه…", done: "همگام شد." };

async function sync({ manual = false } = {}) {
  if (!online()) {
    if (manual) toast("بی‌اینترنت: گزارش‌ها روی گوشی محفوظ است و پس از وصل شدن فرستاده می‌شود.", "warn");
    return;
  }
  const current = await session();
  if (!current?.token) {
    // Expired or revoked: ask again. Logged out on purpose: nothing syncs until a login.
    if (current?.user && !current.logged_out) await askPassword();
    return;
  }
  syncNow.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  try {
    await syncAll(({ stage, fraction, waitMs, photosLeft }) => {
      if (fraction !== null && fraction !== undefined) progress.value = fraction;
      syncStatus.textContent = stage === "waiting"
        ? `پاسخ نیامد؛ تلاش دوباره تا ${faDigits(Math.ceil(waitMs / 1000))} ثانیهٔ دیگر…` : STAGES[stage] || "";
      if (photosLeft) syncStatus.textContent = `همگام شد؛ ${faDigits(photosLeft)} عکس هنوز نرسید و در همگام‌سازی بعد فرستاده می‌شود.`;
      document.body.dataset.sync = stage;
    });
    return true;
  } catch (error) {
    document.body.dataset.sync = "failed";
    if (error instanceof AuthNeeded) {
      if (!(await session())?.logged_out) {
        syncStatus.textContent = "نشست پایان یافته؛ گذرواژه را دوباره وارد کنید.";
        await askPassword();
      }
    } else {
      syncStatus.textContent = error instanceof RequestFailed ? problemText(error) : `همگام نشد: ${error.message}`;
    }
    return false;
  } finally {
    syncNow.disabled = false;
    progress.hidden = true;
    document.body.dataset.syncs = String(Number(document.body.dataset.syncs || 0) + 1);
    await refreshHeader();
    // The screens that show what a sync changes are drawn again; a map or a form is not.
    const screen = parse(location.hash).parts[0] || "visits";
    if (screen === "outbox" || screen === "visits") await route();
  }
}

// A token that expired: the password again, in a dialog over whatever screen is open.
async function askPassword() {
  const dialog = $("auth");
  const current = await session();
  dialog.replaceChildren(renderLogin({ expired: true, username: current?.user?.username || "", onDone: async () => {
    dialog.close();
    toast("وارد شدید؛ همگام‌سازی ادامه می‌یابد.", "ok");
    sync();
  } }));
  if (!dialog.open) dialog.showModal();
}

// ------------------------------------------------------------------ persistent storage

// Whether this release is kept for offline use (the worker installed it and controls the
// page): an inspector should see it before driving off.
async function offlineNote() {
  const ready = Boolean(navigator.serviceWorker?.controller)
    && (await caches.keys()).some((name) => name.endsWith(RELEASE.split(" ")[0]));
  return h("p", { id: "offline-ready", dataset: { ready: String(ready) } }, ready
    ? "برنامه برای کار بی‌اینترنت آماده است."
    : "برنامه هنوز برای کار بی‌اینترنت آماده نیست؛ تا آماده شدن به اینترنت وصل بمانید.");
}

async function storageNote() {
  const note = h("p", { id: "storage", role: "status" });
  if (!navigator.storage?.persist) {
    note.textContent = "این مرورگر ذخیره‌سازی ماندگار ندارد: داده‌های مرورگر را پاک نکنید.";
    return note;
  }
  const granted = await navigator.storage.persisted();
  const estimate = await navigator.storage.estimate?.().catch(() => null);
  const used = estimate ? ` (${faDigits((estimate.usage / 1048576).toFixed(1)).replace(".", "٫")} مگابایت)` : "";
  note.dataset.persisted = String(granted);
  note.textContent = granted
    ? `ذخیره‌سازی ماندگار: داده شد — مرورگر داده‌های این برنامه را خودسرانه پاک نمی‌کند${used}.`
    : `ذخیره‌سازی ماندگار: داده نشد — اگر فضای گوشی کم شود مرورگر ممکن است داده‌ها را پاک کند؛ برنامه را نصب کنید${used}.`;
  return note;
}

// Asked once the inspector has logged in (Chrome grants it to an installed or much-used
// app without a prompt); never waited for: some browsers answer only after a prompt.
function askPersistence() {
  if (!navigator.storage?.persist) return;
  navigator.storage.persisted()
    .then((granted) => (granted ? true : navigator.storage.persist()))
    .then((granted) => {
      const note = $("storage");
      if (note && String(granted) !== note.dataset.persisted) route();
    })
    .catch(() => { /* not offered: the note on the outbox screen says so */ });
}

// ------------------------------------------------------------------ logout and clearing

// What is still only on this phone, in words: "۲ تغییر گزارش، ۱ عکس و ۱ پیش‌نویس".
function unsentText(left) {
  const parts = [[left.ops, "تغییر گزارش"], [left.photos, "عکس"], [left.drafts, "پیش‌نویس"]]
    .filter(([n]) => n).map(([n, what]) => `${faDigits(n)} ${what}`);
  return parts.length > 1 ? `${parts.slice(0, -1).join("، ")} و ${parts.at(-1)}` : parts[0];
}

async function onLogout() {
  const left = await unsent();
  if (left.total && !(await ask(`${unsentText(left)} هنوز ارسال نشده است. پس از خروج روی این گوشی می‌ماند و با ورود دوبارهٔ شما فرستاده می‌شود. خارج می‌شوید؟`,
    { yes: "خروج" }))) return;
  await logout();
  location.hash = "#/login";
  await route();
}

async function onClear() {
  const left = await unsent();
  if (left.total) {
    if (!(await ask(`${unsentText(left)} هنوز ارسال نشده است و با پاک کردن برای همیشه از دست می‌رود. نخست همگام کنید.`,
      { yes: "با این حال پاک کن", no: "نه، نگه دار", danger: true }))) return;
    if (!(await ask("مطمئنید؟ گزارش‌های ارسال‌نشده بازگرداندنی نیستند.", { yes: "پاک کن", danger: true }))) return;
  } else if (!(await ask("همهٔ داده‌های این برنامه از این گوشی پاک شود؟", { yes: "پاک کن", danger: true }))) return;
  await logout();
  const device = await store.meta.get("device_id");
  await store.clearAll();
  if (device) await store.meta.set("device_id", device); // one phone, one device id
  location.hash = "#/login";
  await route();
}

// ------------------------------------------------------------------ routing

const TABS = { visits: "#/visits", map: "#/map", outbox: "#/outbox" };

function parse(hash) {
  const [path, query = ""] = (hash || "#/visits").slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  return { parts, query: new URLSearchParams(query) };
}

const go = (hash) => {
  if (location.hash === hash) route();
  else location.hash = hash;
};

async function route() {
  const { parts, query } = parse(location.hash);
  if (releaseWaiting && parts[0] !== "report") {
    location.reload(); // the form is closed: now into the new release
    return;
  }
  const current = await session();
  const view = $("view");
  stopWatching();
  closeForms();
  editing = false;
  if (!current?.user || current.logged_out || parts[0] === "login") {
    $("tabs").hidden = true;
    view.replaceChildren(renderLogin({ username: current?.user?.username || "", onDone: async () => {
      askPersistence();
      // The first sync shows its progress on the outbox screen, then today's visits.
      location.hash = "#/outbox";
      if (await sync()) location.hash = "#/visits";
    } }));
    return;
  }
  $("tabs").hidden = false;
  for (const [name, hash] of Object.entries(TABS)) {
    $(`tab-${name}`).setAttribute("aria-current", hash === `#/${parts[0]}` ? "page" : "false");
  }
  let screen;
  switch (parts[0]) {
    case "map": screen = await renderMap(); break;
    case "office": screen = await renderOffice({ id: parts[1] }); break;
    case "report":
      editing = true;
      screen = await renderReport({
        id: parts[1] === "new" ? null : parts[1], office: parts[1] === "new" ? parts[2] : null, go,
        afterSave: async () => {
          editing = false;
          await refreshHeader();
          location.hash = "#/outbox";
          if (online()) sync();
        },
      });
      break;
    case "outbox":
      screen = await renderOutbox({ syncButton, storageNote: h("div", {}, await offlineNote(), await storageNote()),
        onLogout, onClear, release: RELEASE });
      break;
    default:
      screen = await renderVisits({ online: online(), go, refresh: query.get("refresh") === "1" });
      if (query.get("refresh")) history.replaceState(null, "", "#/visits"); // asked once, not on every redraw
  }
  view.replaceChildren(screen);
  view.focus({ preventScroll: true });
}

// ------------------------------------------------------------------ a new release

// The browser looks for a new worker when the app is opened; an inspector keeps it open
// all day, so the app also looks when the network comes back and when it is brought to
// the front, at most every ten minutes.
let lastCheck = 0;
async function checkForRelease(force = false) {
  if (!online() || (!force && Date.now() - lastCheck < 10 * 60 * 1000)) return;
  lastCheck = Date.now();
  try {
    await (await navigator.serviceWorker.getRegistration("/app"))?.update();
  } catch { /* offline again, or the server is down: the next chance will do */ }
}

function watchForUpdates() {
  if (!("serviceWorker" in navigator)) return;
  // Scope `/app` (no slash): the worker also answers a bookmark of /app offline.
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch((error) => {
    console.warn("service worker not registered", error);
  });
  lastCheck = Date.now(); // registering checked just now
  window.addEventListener("online", () => checkForRelease(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") checkForRelease();
  });
  let reloading = false;
  // A new release took over (sw.js installs and claims at once). The data is in IndexedDB,
  // untouched; the page reloads into the new app, unless a report is being typed: then it
  // waits (the draft is saved on every key anyway) and says so.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !document.documentElement.dataset.controlled) {
      document.documentElement.dataset.controlled = "1";
      return;
    }
    if (editing) {
      releaseWaiting = true; // reloads when the form is left (route)
      $("update").hidden = false;
      return;
    }
    reloading = true;
    location.reload();
  });
  if (navigator.serviceWorker.controller) document.documentElement.dataset.controlled = "1";
  $("update-now").addEventListener("click", () => location.reload());
}

// ------------------------------------------------------------------ start

async function start() {
  try {
    await store.db();
  } catch (error) {
    $("view").replaceChildren(h("section", { class: "screen card", id: "no-storage" },
      h("h2", {}, "کار بی‌اینترنت در این پنجره ممکن نیست"),
      h("p", {}, "این مرورگر (احتمالاً پنجرهٔ ناشناس/خصوصی) به برنامه اجازهٔ ذخیره روی گوشی نمی‌دهد؛ "
        + "گزارشی که اینجا بنویسید با بستن پنجره از دست می‌رود. برنامه را در پنجرهٔ عادی Chrome باز کنید و نصب کنید."),
      h("p", { class: "muted small", dir: "ltr" }, String(error.message || error))));
    $("tabs").hidden = true;
    return;
  }
  store.onStoreEvent((kind) => {
    if (kind === "newer-version") {
      // A newer release opened the store in another tab: this old page must not hold it.
      $("update").hidden = false;
      if (editing) releaseWaiting = true;
      else location.reload();
    }
  });
  watchForUpdates();
  window.addEventListener("online", async () => {
    await refreshHeader();
    sync();
  });
  window.addEventListener("offline", refreshHeader);
  window.addEventListener("hashchange", () => route());
  await refreshHeader();
  await route();
  document.body.dataset.ready = "1";
  const current = await session();
  if (current?.token && online()) {
    const left = await unsent();
    if (left.ops + left.photos) sync();
  }
}

// For the tests and for support: the app's own functions, on the page.
window.bazres = { store, saveReport, sync, pull, route, release: RELEASE, today: () => tehran().iso };

start();
