// The start page: log in through the API, then list districts and their offices.
"use strict";

let officePage = 1;
let officeDistrict = null;

async function showOffices(district, page = 1) {
  officeDistrict = district;
  officePage = page;
  const query = new URLSearchParams({ page, page_size: 25 });
  if (district) query.set("district", district);
  const { data, response } = await api.call("GET", `/api/v1/offices?${query}`);
  const body = $("offices").querySelector("tbody");
  if (page === 1) body.replaceChildren();
  for (const office of data) {
    const row = document.createElement("tr");
    cell(row, office.code, "ltr");
    [office.name, faDigits(office.district), office.address].forEach((t) => cell(row, t));
    cell(row, office.phone, "ltr");
    body.appendChild(row);
  }
  $("offices-title").textContent = district ? `دفاتر منطقه ${faDigits(district)}` : "دفاتر";
  const meta = JSON.parse(response.headers.get("X-Pagination") || "{}");
  $("more").hidden = !meta.next_page;
}

async function showSession() {
  const me = await signedIn();
  // Inspectors work in the app (/app): the start page points them there.
  $("inspector-app").hidden = me.role !== "inspector";
  const { data } = await api.call("GET", "/api/v1/districts");
  const body = $("districts").querySelector("tbody");
  body.replaceChildren();
  for (const feature of data.features) {
    const p = feature.properties;
    const row = document.createElement("tr");
    [faDigits(p.number), p.name_fa, faDigits(p.office_count)].forEach((t) => cell(row, t));
    row.addEventListener("click", () => showOffices(p.number));
    body.appendChild(row);
  }
  await showOffices(null);
}

$("more").addEventListener("click", () => showOffices(officeDistrict, officePage + 1));

wireSession(showSession);
