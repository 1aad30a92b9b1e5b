// The committee page: the queue of cases, a case with its evidence, and the decision form.
"use strict";

const FILTERS = { status: "وضعیت", kind: "نوع", district: "منطقه", date_from: "از تاریخ", date_to: "تا تاریخ" };
const PENALTY_NEEDED = "تأیید تخلف یکی از جریمه‌ها را می‌خواهد (بدون جریمه، تذکر، جریمه نقدی یا تعلیق)؛ " +
  "پرونده‌ای که رد می‌شود یا در بررسی است جریمه ندارد.";
// A refused decision on a case that moved on: the case is shown again as it is now.
const STALE = {
  "stale-version": "پرونده در این میان تغییر کرده است؛ نسخه تازه‌اش نمایش داده شد، دوباره تصمیم بگیرید.",
  "case-transition-forbidden": "این تصمیم برای وضعیت کنونی پرونده ممکن نیست؛ نسخه تازه‌اش نمایش داده شد، " +
    "تصمیم دیگری بگیرید.",
};
let me = null;
let current = null;

function filters() {
  const query = new URLSearchParams({ page_size: 100 });
  const pairs = { status: "f-status", kind: "f-kind", district: "f-district", date_from: "f-from", date_to: "f-to" };
  for (const [name, id] of Object.entries(pairs)) if ($(id).value.trim()) query.set(name, $(id).value.trim());
  return query;
}

async function showQueue() {
  $("queue-error").hidden = true;
  try {
    const query = filters();
    const { data } = await api.call("GET", `/api/v1/violations?${query}`);
    const body = $("queue").querySelector("tbody");
    body.replaceChildren();
    for (const c of data) {
      const row = document.createElement("tr");
      row.dataset.id = c.id;
      [faDigits(c.date.replaceAll("-", "/")), faDigits(c.district), c.office_code || "", KIND[c.kind] || c.kind,
        STATUS[c.status] || c.status].forEach((t) => cell(row, t));
      if (current && current.id === c.id) row.classList.add("selected");
      row.addEventListener("click", () => showCase(c.id));
      body.appendChild(row);
    }
    query.delete("page_size");
    $("export").dataset.query = query.toString();
  } catch (error) {
    $("queue-error").textContent = problemText(error, FILTERS);
    $("queue-error").hidden = false;
  }
}

function drawMap(svg, office, reports) {
  // A local map in metres around the office: the 200 m circle the evidence must fall in.
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const [lon0, lat0] = office.location.coordinates;
  const mx = 111320 * Math.cos((lat0 * Math.PI) / 180);
  const shape = (tag, attrs) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.appendChild(node);
    return node;
  };
  const far = Math.max(250, ...reports.filter((r) => r.location).map((r) => 1.2 * (r.distance_to_office_m || 0)));
  const k = 280 / far;
  shape("circle", { cx: 0, cy: 0, r: 200 * k, fill: "#d7ecd9", stroke: "#4b8f57", "stroke-dasharray": "6 4" });
  shape("rect", { x: -9, y: -9, width: 18, height: 18, fill: "#0d4a6b" }).appendChild(el("title", office.name));
  reports.filter((r) => r.location).forEach((r, i) => {
    const [lon, lat] = r.location.coordinates;
    const x = (lon - lon0) * mx * k;
    const y = -(lat - lat0) * 111320 * k;
    if (r.accuracy_m) shape("circle", { cx: x, cy: y, r: r.accuracy_m * k, fill: "rgba(166,27,27,.12)", stroke: "none" });
    const dot = shape("circle", { cx: x, cy: y, r: 8, fill: "#a61b1b", class: "phone" });
    dot.appendChild(el("title", `گزارش ${faDigits(i + 1)}: ${faDigits(Math.round(r.distance_to_office_m || 0))} متر`));
    const label = shape("text", { x: x + 11, y: y + 5, "font-size": 22 });
    label.textContent = faDigits(i + 1);
  });
  const scale = shape("text", { x: 0, y: 285, "font-size": 20, "text-anchor": "middle" });
  scale.textContent = "دایره: ۲۰۰ متر از دفتر";
}

async function showCase(id) {
  const { data } = await api.call("GET", `/api/v1/violations/${id}`);
  current = data;
  $("case").hidden = false;
  $("case-title").textContent = `پرونده ${data.office.code} — ${faDigits(data.date.replaceAll("-", "/"))} — ${STATUS[data.status]}`;
  $("case-office").textContent = `${data.office.name}، ${data.office.address}`;
  const rule = data.rule || {};
  $("case-rule").textContent = rule.kind === "rule" ? `${rule.name} (${faDigits(rule.window || "")})` : (rule.titles || []).join("، ");
  $("case-reasons").replaceChildren(...findingsOf(data).map((r) => el("li", r)));
  drawMap($("case-map"), data.office, data.reports);
  const reports = $("case-reports");
  reports.replaceChildren();
  data.reports.forEach((r, i) => {
    const box = el("div", undefined, "report");
    box.appendChild(el("h4", `گزارش ${faDigits(i + 1)} — ${STATE[r.office_state] || r.office_state}`));
    if (r.flags.length) box.appendChild(el("p", r.flags.map((f) => KIND[f] || f).join("، "), "flag"));
    const dl = document.createElement("dl");
    const row = (term, value) => { dl.appendChild(el("dt", term)); dl.appendChild(el("dd", value)); };
    row("زمان مشاهده (ملاک)", `${jalaliTime(r.evidence_time)} — ${SOURCE[r.evidence_time_source] || r.evidence_time_source}`);
    row("ساعت گوشی", jalaliTime(r.observed_at));
    row("اختلاف ساعت گوشی", `${faDigits(Math.round(r.clock_skew_s))} ثانیه`);
    row("فاصله از دفتر", r.distance_to_office_m == null ? "نامعلوم" : `${faDigits(Math.round(r.distance_to_office_m))} متر`);
    row("دقت GPS", r.accuracy_m == null ? "نامعلوم" : `${faDigits(Math.round(r.accuracy_m))} متر`);
    row("کارکنان حاضر", r.staff_present == null ? "—" : faDigits(r.staff_present));
    row("یادداشت", r.notes || "—");
    box.appendChild(dl);
    for (const a of r.amendments || []) {
      box.appendChild(el("p", `اصلاحیه پس از قفل: ${FIELD[a.field] || a.field} ← ${amendmentValue(a.field, a.value)}`));
    }
    for (const photo of r.photos) {
      const img = el("img");
      img.alt = photo.caption || "عکس گزارش";
      if (r.photos_pending.includes(photo.sha256)) {
        box.appendChild(el("p", "عکس هنوز بارگذاری نشده است"));
        continue;
      }
      api.blob(`/api/v1/attachments/${photo.sha256}`).then((url) => { img.src = url; });
      box.appendChild(img);
    }
    reports.appendChild(box);
  });
  showSignals($("case-signals"), $("case-signals-list"), data.signals);
  $("case-events").replaceChildren(...data.events.map((e) => el("li", `${jalaliTime(e.at)} — ${eventText(e)}`)));
  const open = ["open", "under_review"].includes(data.status);
  $("decision").hidden = !(me.role === "committee" && open);
  $("d-status").value = data.status === "open" ? "under_review" : "confirmed";
  $("decision-error").hidden = true;
  document.querySelectorAll("#queue tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
}

$("decision").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("decision-error").hidden = true;
  const body = { version: current.version, status: $("d-status").value, note: $("d-note").value };
  if ($("d-penalty").value) body.penalty = $("d-penalty").value;
  try {
    await api.call("POST", `/api/v1/violations/${current.id}/decision`, body);
    $("d-note").value = "";
    await showCase(current.id);
    await showQueue();
  } catch (error) {
    const stale = STALE[(error.problem?.type || "").split("/").pop()];
    $("decision-error").textContent = error.problem?.errors?.penalty ? PENALTY_NEEDED
      : stale || problemText(error, { status: "وضعیت", note: "یادداشت" });
    $("decision-error").hidden = false;
    if (stale) await showCase(current.id);
  }
});

$("export").addEventListener("click", async (event) => {
  event.preventDefault();
  const url = await api.blob(`/api/v1/violations/export.csv?${$("export").dataset.query || ""}`);
  const link = el("a");
  link.href = url;
  link.download = "violations.csv";
  link.click();
});

async function showSession() {
  me = await signedIn();
  await showQueue();
}

$("filters").addEventListener("submit", (event) => { event.preventDefault(); showQueue(); });
wireSession(showSession);
