// Shared by the pages: the API client (bearer token in sessionStorage), small DOM helpers.
"use strict";

const api = {
  token: sessionStorage.getItem("bazres.token"),
  async call(method, url, body, extraHeaders) {
    const headers = { Accept: "application/json", ...(extraHeaders || {}) };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body: body && JSON.stringify(body) });
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) {
      throw Object.assign(new Error(data.detail || data.title),
        { problem: data, status: response.status, retryAfter: response.headers.get("Retry-After") });
    }
    return { data, response };
  },
  async blob(url) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  },
  async login(username, password) {
    const { data } = await this.call("POST", "/api/v1/auth/token", { username, password });
    this.token = data.token;
    sessionStorage.setItem("bazres.token", data.token);
    return data.user;
  },
  async logout() {
    try { await this.call("DELETE", "/api/v1/auth/token"); } finally {
      this.token = null;
      sessionStorage.removeItem("bazres.token");
    }
  },
};

const $ = (id) => document.getElementById(id);
const faDigits = (value) => String(value).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]);
const ROLES = { inspector: "بازرس", district_head: "شهردار منطقه", committee: "کمیته انضباطی", admin: "مدیر سامانه" };
const jalali = new Intl.DateTimeFormat("fa-IR-u-ca-persian", {
  timeZone: "Asia/Tehran", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
});
const jalaliTime = (iso) => (iso ? jalali.format(new Date(iso)) : "—");

// The problems of app/errors.py in Persian (their English detail for any other); a refused
// field named by its label in `labels`.
const PROBLEMS = {
  "invalid-credentials": "نام کاربری یا گذرواژه نادرست است.",
  unauthenticated: "نشست شما پایان یافته است؛ دوباره وارد شوید.",
  forbidden: "نقش شما اجازهٔ این کار را ندارد.",
  "out-of-scope": "این مورد بیرون از منطقه‌های شماست.",
  "not-found": "پیدا نشد، یا دیدنش در حوزه شما نیست.",
  conflict: "در این میان تغییر کرده است؛ دوباره بارگذاری کنید.",
  "stale-version": "کس دیگری در این میان آن را تغییر داده است؛ دوباره بارگذاری کنید و کارتان را از نو انجام دهید.",
  "case-transition-forbidden": "پرونده در وضعیت کنونی‌اش به این وضعیت نمی‌رود؛ وضعیت دیگری برگزینید.",
  "correction-decided": "دربارهٔ این اصلاحیه پیش‌تر تصمیم گرفته شده است.",
  "rule-withdrawn": "این قاعده پس گرفته شده است؛ به جای آن قاعدهٔ تازه‌ای منتشر کنید.",
  "round-exists": "برای این منطقه در این روز پیش‌تر برنامهٔ بازدید چیده شده است.",
  "inspector-busy": "این بازرس در این روز در منطقهٔ دیگری برنامهٔ بازدید دارد.",
  "too-many-requests": "تلاش‌های ناموفق بسیار بود؛ کمی بعد دوباره امتحان کنید.",
  "internal-error": "خطایی در سرور رخ داد و چیزی نیمه‌کاره ثبت نشد؛ کمی بعد دوباره امتحان کنید.",
  unavailable: "سرور اکنون در دسترس نیست؛ کمی بعد دوباره امتحان کنید.",
};

function problemText(error, labels = {}) {
  const code = (error.problem?.type || "").split("/").pop();
  if (code === "too-many-requests" && error.retryAfter) {
    return `تلاش‌های ناموفق بسیار بود؛ پس از ${faDigits(error.retryAfter)} ثانیه دوباره امتحان کنید.`;
  }
  const fields = Object.keys(error.problem?.errors || {}).filter((name) => labels[name]);
  if (code === "validation-failed" && fields.length) {
    return `این خانه‌ها را درست کنید: ${fields.map((name) => `«${labels[name]}»`).join("، ")}.`;
  }
  return PROBLEMS[code] || error.message;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text; // never innerHTML: everything here is data
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}


// The signed-in user, shown in the header; the login form hidden. Every page starts so.
async function signedIn() {
  const { data: me } = await api.call("GET", "/api/v1/auth/me");
  $("who").textContent = me.username;
  $("role").textContent = ROLES[me.role] || me.role;
  $("login").hidden = true;
  $("session").hidden = false;
  return me;
}

// The login form, the logout button and a remembered token, the same on every page.
function wireSession(showSession) {
  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").hidden = true;
    try {
      await api.login($("username").value, $("password").value);
      await showSession();
    } catch (error) {
      $("login-error").textContent = problemText(error);
      $("login-error").hidden = false;
    }
  });
  $("logout").addEventListener("click", async () => {
    await api.logout();
    $("session").hidden = true;
    $("login").hidden = false;
  });
  if (api.token) showSession().catch(() => api.logout());
}
