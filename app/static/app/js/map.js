// Today's visits on a map with the phone's position, with no tile server and no network:
// the district polygons and offices come from the sync, Leaflet from the app's cache.
import { faDigits, tehran } from "./fa.js";
import { records, visitLists, meta } from "./store.js";
import { h } from "./ui.js";

let watch = null;
let leaflet = null;

// Leaflet, the first time the map is shown: from the worker's cache offline, at this
// release's address (the page names it), not in the way of the app's start.
function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  leaflet ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = document.documentElement.dataset.leaflet;
    script.onload = () => resolve(window.L);
    script.onerror = () => {
      leaflet = null;
      reject(new Error("Leaflet did not load"));
    };
    document.head.append(script);
  });
  return leaflet;
}

export function stopWatching() {
  if (watch !== null) navigator.geolocation?.clearWatch(watch);
  watch = null;
}

export async function renderMap() {
  const L = await loadLeaflet().catch(() => null);
  const box = h("div", { id: "visit-map", class: "map", role: "region", "aria-label": "نقشهٔ بازدیدهای امروز" });
  const legend = h("p", { class: "muted", id: "map-legend" });
  const screen = h("section", { class: "screen", id: "screen-map" },
    h("div", { class: "screen-head" }, h("h2", {}, "نقشهٔ بازدیدها"), h("a", { href: "#/visits", class: "button secondary" }, "فهرست")),
    box, legend);
  if (!L) {
    legend.textContent = "نقشه بارگذاری نشد.";
    return screen;
  }
  // Leaflet needs the box in the page to measure it.
  requestAnimationFrame(() => draw(L, box, legend));
  return screen;
}

async function draw(L, box, legend) {
  // A view first: Leaflet's canvas renderer measures the map's bounds when a layer is added,
  // and a map with no view yet has none ("reading 'min' of undefined").
  const map = L.map(box, { zoomControl: true, attributionControl: false, preferCanvas: true })
    .setView([35.7, 51.4], 11);
  const districts = await records.all("districts");
  const layer = L.geoJSON({ type: "FeatureCollection", features: districts.map((d) => ({
    type: "Feature", geometry: d.geometry, properties: { name: d.name_fa, number: d.number } })) }, {
    style: { color: "#14532d", weight: 2, fillColor: "#bbf7d0", fillOpacity: 0.25 },
  }).addTo(map);
  const list = (await visitLists.get(tehran().iso)) || (await visitLists.latest());
  const order = new Map((list?.list?.stops || []).map((s) => [String(s.office.id), s.seq]));
  const offices = await records.all("offices");
  for (const office of offices) {
    const [lon, lat] = office.location.coordinates;
    const seq = order.get(String(office.id));
    const marker = seq
      ? L.marker([lat, lon], { icon: L.divIcon({ className: "stop-icon", html: "", iconSize: [30, 30] }),
        title: office.name, keyboard: true })
      : L.circleMarker([lat, lon], { radius: 6, color: "#475569", weight: 1, fillOpacity: 0.6 });
    if (seq) marker.on("add", () => { marker.getElement().textContent = faDigits(seq); });
    marker.bindPopup(() => h("a", { href: `#/office/${office.id}` }, office.name));
    marker.addTo(map);
  }
  if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  legend.textContent = `${faDigits(order.size)} بازدید برنامه‌ریزی‌شده (شماره‌دار) از ${faDigits(offices.length)} دفتر؛ نقطهٔ آبی: شما`;

  let me = null;
  let ring = null;
  const place = (fix) => {
    const at = [fix.lat, fix.lon];
    if (!me) {
      me = L.circleMarker(at, { radius: 8, color: "#fff", weight: 2, fillColor: "#2563eb", fillOpacity: 1 }).addTo(map);
      ring = L.circle(at, { radius: fix.accuracy_m || 0, color: "#2563eb", weight: 1, fillOpacity: 0.1 }).addTo(map);
    } else {
      me.setLatLng(at);
      ring.setLatLng(at).setRadius(fix.accuracy_m || 0);
    }
  };
  const known = await meta.get("position");
  if (known) place(known);
  stopWatching();
  if (navigator.geolocation) {
    watch = navigator.geolocation.watchPosition((position) => {
      const fix = { lat: position.coords.latitude, lon: position.coords.longitude, accuracy_m: position.coords.accuracy,
        at: new Date(position.timestamp).toISOString() };
      meta.set("position", fix).catch(() => {});
      place(fix);
    }, () => {}, { enableHighAccuracy: true, maximumAge: 30000 });
  }
}
