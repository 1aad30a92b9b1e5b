// The coverage map: districts shaded by coverage, offices coloured by what their last visit
// found and ringed when systemic monitoring suspects them of closure, a Jalali period, the
// figures of what is clicked, and the offices by days since a visit.
"use strict";

// The same colours as the PNG (geo/coverage_map.py).
const COVERAGE_CLASSES = [[20, "#eff3ff"], [40, "#bdd7e7"], [60, "#6baed6"], [80, "#3182bd"], [Infinity, "#08519c"]];
const NO_OFFICES = "#e0e0e0";
const MARKS = {
  case_open: { color: "#7b1fa2", label: "پرونده باز" },
  closed: { color: "#d32f2f", label: "بسته یافت شد" },
  open: { color: "#2e7d32", label: "باز یافت شد" },
  other: { color: "#f57c00", label: "جابه‌جا / غیرقابل دسترس" },
  not_visited: { color: "#9e9e9e", label: "بازدید نشده" },
};
// A suspicion of closure (DESIGN §10b) is a ring around the office's mark, not a mark of its
// own: it is a lead for a visit, and what visits found stays readable inside it.
const SUSPECTED = { color: "#ffd600", edge: "#212121", label: "مشکوک به تعطیلی (نظارت سیستمی)" };
const FOUND = { open: "باز", closed: "بسته", open_not_serving: "باز ولی بدون خدمت", relocated: "جابه‌جا شده",
  permanently_closed: "تعطیل دائم", inaccessible: "غیرقابل دسترس" };
const MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];

const todayParts = new Intl.DateTimeFormat("en-u-ca-persian-nu-latn", {
  timeZone: "Asia/Tehran", year: "numeric", month: "numeric", day: "numeric" });
const clock = new Intl.DateTimeFormat("fa-IR", { timeZone: "Asia/Tehran", hour: "2-digit", minute: "2-digit" });
const pad = (n) => String(n).padStart(2, "0");
const jalaliDay = (iso) => faDigits(iso.replaceAll("-", "/"));
const percent = (pct) => (pct == null ? "—" : `${faDigits(String(pct).replace(".", "٫"))}٪`);

let me = null;
let map = null;
let districtLayer = null;
let signalLayer = null; // the rings, under the offices' marks
let officeLayer = null;
let current = null; // the last coverage answer
let focus = null; // the district clicked on, whose offices the table lists
let longestFirst = true;
const markers = new Map(); // office code → its marker

// ---- the Jalali period

function jalaliToday() {
  const parts = Object.fromEntries(todayParts.formatToParts(new Date()).map((p) => [p.type, p.value]));
  return { year: parseInt(parts.year, 10), month: parseInt(parts.month, 10) };
}

function monthLength(year, month) {
  if (month <= 6) return 31;
  if (month <= 11) return 30;
  return [1, 5, 9, 13, 17, 22, 26, 30].includes(year % 33) ? 30 : 29; // as jdatetime reckons leap years
}

function fillMonths() {
  let { year, month } = jalaliToday();
  const select = $("month");
  select.replaceChildren(el("option", "دوره دلخواه"));
  select.firstChild.value = "";
  for (let i = 0; i < 13; i += 1) {
    const option = el("option", `${MONTHS[month - 1]} ${faDigits(year)}`);
    option.value = `${year}-${pad(month)}`;
    select.appendChild(option);
    month -= 1;
    if (month === 0) { month = 12; year -= 1; }
  }
  select.selectedIndex = 1;
  pickMonth();
}

function pickMonth() {
  if (!$("month").value) return;
  showMonth(...$("month").value.split("-").map(Number));
}

function showMonth(year, month) {
  $("from").value = faDigits(`${year}/${pad(month)}/01`);
  $("to").value = faDigits(`${year}/${pad(month)}/${pad(monthLength(year, month))}`);
}

// A period without a single report says so, and offers the month of the latest report there
// is (the page opens on the current month, which may have none yet).
function showNoReports() {
  const empty = current.totals.visits === 0;
  $("no-reports").hidden = !empty;
  if (!empty) return;
  const where = focus ? `منطقه ${faDigits(focus)}` : "همه مناطق";
  const latest = current.latest_report_date;
  $("no-reports-text").textContent = latest
    ? `در این دوره هیچ گزارشی از ${where} ثبت نشده است. آخرین گزارش: ${jalaliDay(latest)}.`
    : `هنوز هیچ گزارشی از ${where} ثبت نشده است.`;
  $("latest-period").hidden = !latest;
  if (!latest) return;
  const [year, month] = latest.split("-").map(Number);
  $("latest-period").textContent = `نمایش ${MONTHS[month - 1]} ${faDigits(year)}`;
  $("latest-period").dataset.month = `${year}-${pad(month)}`;
}

const LABELS = { from: "از تاریخ", to: "تا تاریخ" };

// A Jalali date as typed (any digits, - or /), checked here so that a slip is explained at
// once; the server checks it again. Throws the message to show.
function readDate(id) {
  const text = $(id).value.trim().replace(/[۰-۹]/g, (d) => "۰۱۲۳۴۵۶۷۸۹".indexOf(d))
    .replace(/[٠-٩]/g, (d) => "٠١٢٣٤٥٦٧٨٩".indexOf(d));
  const match = /^(\d{4})\s*[-/]\s*(\d{1,2})\s*[-/]\s*(\d{1,2})$/.exec(text);
  const [year, month, day] = match ? match.slice(1).map(Number) : [];
  if (!match || month < 1 || month > 12 || day < 1 || day > monthLength(year, month)) {
    throw new Error(`${LABELS[id]}: تاریخ شمسی معتبر بنویسید، مثلاً ${faDigits("1405/01/05")}.`);
  }
  return `${year}-${pad(month)}-${pad(day)}`;
}

function query() {
  const params = new URLSearchParams({ from: readDate("from"), to: readDate("to") });
  if (params.get("from") > params.get("to")) throw new Error("دوره پیش از آغازش تمام می‌شود: «تا تاریخ» را دیرتر بگذارید.");
  if ($("district").value) params.set("district", $("district").value);
  return params;
}

// ---- drawing

function coverageColour(pct) {
  if (pct == null) return NO_OFFICES;
  return COVERAGE_CLASSES.find(([upper]) => pct < upper)[1];
}

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren(el("strong", "راهنما"));
  const item = (colour, label, round) => {
    const row = el("span", undefined, "legend-item");
    const swatch = el("i", undefined, round ? "swatch round" : "swatch");
    swatch.style.backgroundColor = colour;
    row.append(swatch, el("span", label));
    legend.appendChild(row);
  };
  for (const mark of Object.values(MARKS)) item(mark.color, mark.label, true);
  const ring = el("span", undefined, "legend-item suspected-legend");
  ring.append(el("i", undefined, "swatch ring"), el("span", SUSPECTED.label));
  legend.appendChild(ring);
  COVERAGE_CLASSES.forEach(([upper, colour], i) => {
    const lower = i ? COVERAGE_CLASSES[i - 1][0] : 0;
    item(colour, upper === Infinity ? `پوشش ${faDigits(lower)} تا ${faDigits(100)}٪`
      : `پوشش ${faDigits(lower)} تا کمتر از ${faDigits(upper)}٪`);
  });
  item(NO_OFFICES, "بدون دفتر");
}

function figures(rows) {
  const dl = document.createElement("dl");
  for (const [term, value] of rows) { dl.appendChild(el("dt", term)); dl.appendChild(el("dd", value)); }
  return dl;
}

function districtFigures(p) {
  return [["دفاتر", faDigits(p.offices)], ["دفاتر بازدیدشده", faDigits(p.offices_visited)],
    ["پوشش", percent(p.coverage_pct)], ["بازدیدها", faDigits(p.visits)],
    ["تعطیلی یافته‌شده", faDigits(p.closures_found)], ["پرونده‌های باز", faDigits(p.open_cases)]];
}

function lastVisit(p) {
  return p.last_visit_at ? `${jalaliDay(p.last_visit_date)}، ساعت ${clock.format(new Date(p.last_visit_at))}` : "هرگز";
}

function officeFigures(p) {
  return [["آخرین بازدید", lastVisit(p)], ["یافت شد", p.last_state ? FOUND[p.last_state] || p.last_state : "—"],
    ["روز از آخرین بازدید", p.days_since_last_visit == null ? "—" : faDigits(p.days_since_last_visit)],
    ["بازدید در این دوره", faDigits(p.visits)], ["تعطیلی یافته‌شده", faDigits(p.closures_found)],
    ["پرونده باز", p.open_case ? "دارد" : "ندارد"], ["وضعیت دفتر", p.status === "active" ? "فعال" : p.status],
    ["نشانی", p.address || "—"]];
}

// An office's suspicion: the day and span the platform saw it silent, and why that is suspicious.
function signalFigures(p) {
  const s = p.signal;
  if (!s) return [];
  const [from, to] = [s.silent_from, s.silent_to].map((at) => clock.format(new Date(at)));
  const span = `${jalaliDay(s.day)}، ${from} تا ${to}`;
  const state = s.field_status === "confirmed" ? "مشکوک به تعطیلی، تأییدشده با بازدید" : "مشکوک به تعطیلی";
  return [["نظارت سیستمی", state], ["سکوت در سامانه", span], ["دلیل", s.reason]];
}

function showDetails(title, rows) {
  $("details").hidden = false;
  $("details-title").textContent = title;
  $("details-figures").replaceWith(Object.assign(figures(rows), { id: "details-figures" }));
}

function showDistrict(p) {
  focus = p.number;
  showDetails(p.name_fa, districtFigures(p));
  fillTable();
}

function showOffice(p) {
  showDetails(`${p.code} — ${p.name}`, [...officeFigures(p), ...signalFigures(p)]);
  document.querySelectorAll("#coverage-offices tbody tr").forEach((tr) =>
    tr.classList.toggle("selected", tr.dataset.code === p.code));
}

function popup(p) {
  const box = el("div", undefined, "office-popup");
  box.append(el("strong", `${p.code} — ${p.name}`), figures(officeFigures(p).slice(0, 6)));
  if (p.signal) box.appendChild(Object.assign(figures(signalFigures(p)), { className: "signal-figures" }));
  return box;
}

function draw() {
  districtLayer.clearLayers();
  signalLayer.clearLayers();
  officeLayer.clearLayers();
  markers.clear();
  const features = current.features;
  const districts = features.filter((f) => f.properties.kind === "district");
  const offices = features.filter((f) => f.properties.kind === "office");
  for (const feature of districts) {
    const p = feature.properties;
    const layer = L.geoJSON(feature, { style: {
      fillColor: coverageColour(p.coverage_pct), fillOpacity: 0.85, color: "#37474f", weight: 1.2,
      className: "district-shape" } });
    layer.on("click", () => showDistrict(p));
    if (districts.length > 1) {
      layer.bindTooltip(el("span", `${faDigits(p.number)} · ${percent(p.coverage_pct)}`),
        { permanent: true, direction: "center", className: "district-label" });
    }
    districtLayer.addLayer(layer);
    layer.eachLayer((shape) => shape.getElement()?.setAttribute("data-district", p.number));
  }
  // The rings first: one SVG holds every shape in the order added, and no ring may cover
  // a neighbour's mark.
  for (const feature of offices.filter((f) => f.properties.signal)) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const ring = L.circleMarker([lat, lon], {
      radius: 12, color: SUSPECTED.edge, weight: 1, fillColor: SUSPECTED.color, fillOpacity: 1,
      className: "office-signal" });
    ring.bindPopup(() => popup(p));
    ring.on("click", () => showOffice(p));
    signalLayer.addLayer(ring);
    ring.getElement().setAttribute("data-code", p.code);
  }
  for (const feature of offices) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const marker = L.circleMarker([lat, lon], {
      radius: p.mark === "case_open" ? 8 : 6.5, color: "#ffffff", weight: 1.5, fillColor: MARKS[p.mark].color,
      fillOpacity: 1, className: `office-marker mark-${p.mark}` });
    marker.bindPopup(() => popup(p));
    marker.on("click", () => showOffice(p));
    officeLayer.addLayer(marker);
    marker.getElement().setAttribute("data-code", p.code);
    markers.set(p.code, marker);
  }
  if (districts.length) map.fitBounds(districtLayer.getBounds(), { padding: [12, 12], animate: false });
  const t = current.totals;
  const suspected = offices.filter((f) => f.properties.signal).length;
  $("summary").textContent = `از ${jalaliDay(current.period.from)} تا ${jalaliDay(current.period.to)}: ` +
    `${faDigits(t.offices_visited)} از ${faDigits(t.offices)} دفتر بازدید شد (پوشش ${percent(t.coverage_pct)})، ` +
    `${faDigits(t.visits)} بازدید، ${faDigits(t.closures_found)} تعطیلی یافته‌شده، ${faDigits(t.open_cases)} پرونده باز` +
    (suspected ? `، ${faDigits(suspected)} دفتر مشکوک به تعطیلی (نظارت سیستمی).` : ".");
  focus = districts.length === 1 ? districts[0].properties.number : null;
  if (focus) showDetails(districts[0].properties.name_fa, districtFigures(districts[0].properties));
  else showDetails("همه مناطق", districtFigures(t));
  fillTable();
  showNoReports();
}

function fillTable() {
  const days = (p) => (p.days_since_last_visit == null ? Infinity : p.days_since_last_visit);
  const offices = current.features.map((f) => f.properties)
    .filter((p) => p.kind === "office" && (focus == null || p.district === focus))
    .sort((a, b) => (longestFirst ? days(b) - days(a) : days(a) - days(b)) || a.code.localeCompare(b.code));
  const body = $("coverage-offices").querySelector("tbody");
  body.replaceChildren();
  for (const p of offices) {
    const row = document.createElement("tr");
    row.dataset.code = p.code;
    const code = cell(row, p.code, "ltr");
    const dot = el("i", undefined, "swatch round");
    dot.style.backgroundColor = MARKS[p.mark].color;
    dot.title = MARKS[p.mark].label;
    if (p.signal) {
      dot.classList.add("suspected");
      dot.title += ` · ${SUSPECTED.label}`;
    }
    code.prepend(dot);
    cell(row, p.name);
    cell(row, p.last_visit_date ? jalaliDay(p.last_visit_date) : "هرگز");
    cell(row, p.last_state ? FOUND[p.last_state] || p.last_state : "—");
    cell(row, p.days_since_last_visit == null ? "—" : faDigits(p.days_since_last_visit), "days");
    cell(row, faDigits(p.visits));
    row.addEventListener("click", () => {
      const marker = markers.get(p.code);
      map.panTo(marker.getLatLng());
      marker.openPopup();
      showOffice(p);
    });
    body.appendChild(row);
  }
  $("offices-title").textContent = focus ? `دفاتر منطقه ${faDigits(focus)}` : "دفاتر همه مناطق";
  $("days-header").setAttribute("aria-sort", longestFirst ? "descending" : "ascending");
  $("sort-arrow").textContent = longestFirst ? "▼" : "▲";
}

// ---- loading

async function load() {
  $("map-error").hidden = true;
  $("no-reports").hidden = true;
  try {
    const params = query();
    const { data } = await api.call("GET", `/api/v1/coverage?${params}`);
    current = data;
    draw();
  } catch (error) {
    const fields = Object.entries(error.problem?.errors || {}).map(([field, messages]) => `${field}: ${messages.join(" ")}`);
    $("map-error").textContent = fields.length ? fields.join(" — ") : error.message;
    $("map-error").hidden = false;
  }
}

function setUpMap() {
  if (map) return;
  const box = $("map");
  map = L.map(box, { attributionControl: Boolean(box.dataset.tileUrl), zoomSnap: 0.25 });
  if (box.dataset.tileUrl) {
    L.tileLayer(box.dataset.tileUrl, { attribution: box.dataset.tileAttribution || "" }).addTo(map);
  }
  districtLayer = L.featureGroup().addTo(map);
  signalLayer = L.featureGroup().addTo(map);
  officeLayer = L.featureGroup().addTo(map);
  map.setView([35.7, 51.4], 10);
}

function fillDistricts() {
  const select = $("district");
  select.replaceChildren();
  const numbers = me.role === "district_head" ? me.districts : Array.from({ length: 22 }, (_, i) => i + 1);
  if (me.role !== "district_head") {
    select.appendChild(el("option", "همه مناطق"));
    select.firstChild.value = "";
  }
  for (const n of numbers) {
    const option = el("option", `منطقه ${faDigits(n)}`);
    option.value = n;
    select.appendChild(option);
  }
  select.disabled = numbers.length < 2 && me.role === "district_head";
}

async function showSession() {
  me = await signedIn();
  if (me.role === "inspector") {
    $("map-error").textContent = "نقشه پوشش برای شهرداران مناطق، کمیته انضباطی و مدیران است.";
    $("map-error").hidden = false;
    return;
  }
  setUpMap();
  map.invalidateSize();
  drawLegend();
  fillDistricts();
  fillMonths();
  await load();
}

$("period").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("month").addEventListener("change", () => { pickMonth(); if ($("month").value) load(); });
for (const id of ["from", "to"]) $(id).addEventListener("input", () => { $("month").value = ""; });
$("district").addEventListener("change", load);
$("latest-period").addEventListener("click", () => {
  const wanted = $("latest-period").dataset.month;
  const listed = Array.from($("month").options).some((option) => option.value === wanted);
  $("month").value = listed ? wanted : "";
  showMonth(...wanted.split("-").map(Number));
  load();
});
$("sort-days").addEventListener("click", () => { longestFirst = !longestFirst; fillTable(); });
$("picture").addEventListener("click", async (event) => {
  event.preventDefault();
  $("map-error").hidden = true;
  try {
    const url = await api.blob(`/api/v1/coverage.png?${query()}`);
    const link = el("a");
    link.href = url;
    link.download = `coverage-${$("district").value || "tehran"}.png`;
    link.click();
  } catch (error) {
    $("map-error").textContent = `تصویر ساخته نشد: ${error.message}`;
    $("map-error").hidden = false;
  }
});

wireSession(showSession);
