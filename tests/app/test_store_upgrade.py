"""A new release that changes the phone's store must find everything an older one left
(enketo/enketo#986): the app opens a store written by the first release's layout (version 1,
no drafts store), upgrades it by its added steps, and the outbox and the synced records are
all there, offline."""

OLD_STORE = """async ({report, op, office}) => {
  await new Promise((resolve, reject) => {
    const open = indexedDB.open("bazres", 1);
    open.onupgradeneeded = () => {
      const db = open.result;  // the first release's layout (store.js STEPS[0])
      db.createObjectStore("meta");
      const records = db.createObjectStore("records", { keyPath: ["entity", "key"] });
      records.createIndex("entity", "entity");
      db.createObjectStore("reports", { keyPath: "id" });
      const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      outbox.createIndex("op_id", "op_id", { unique: true });
      outbox.createIndex("report", "id");
      const photos = db.createObjectStore("photos", { keyPath: "sha256" });
      photos.createIndex("uploaded", "uploaded");
      db.createObjectStore("outcomes", { keyPath: "id" });
      db.createObjectStore("visit_lists", { keyPath: "date" });
    };
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(["meta", "records", "reports", "outbox"], "readwrite");
      tx.objectStore("meta").put({ token: null, user: { username: "inspector-22a", role: "inspector" } }, "session");
      tx.objectStore("records").put({ entity: "offices", key: office.id, record: office });
      tx.objectStore("reports").put(report);
      tx.objectStore("outbox").add(op);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    open.onerror = () => reject(open.error);
  });
}"""


def test_a_store_left_by_an_older_release_is_upgraded_with_nothing_lost(phones, mandated):
    office = mandated.request("GET", "/api/v1/offices?district=22&page_size=1", user="admin").json()[0]
    data = {"office_id": office["id"], "office_state": "closed", "observed_at": "2026-12-01T10:00:00+03:30",
            "notes": "left by the old release", "checklist": {}, "photos": [], "staff_present": 0,
            "round_id": None, "gps_fix_at": None, "location": None, "accuracy_m": None}
    report_id = "6b9f7a52-8a55-4f0a-9d5e-3f1f6c7e0a11"
    phone = phones("inspector-22a")
    phone.page.goto(f"{phone.url}/healthz")  # the app's origin, before the app has run
    phone.page.evaluate(OLD_STORE, {
        "office": office,
        "report": {"id": report_id, "data": data, "version": None, "server": None},
        "op": {"op_id": "0c7e1f0e-63f4-4a4f-8f5e-2b7a4de0c9d1", "entity": "reports", "action": "create",
               "id": report_id, "base_version": None, "changed_at": data["observed_at"],
               "data": data | {"id": report_id}, "attempts": 0}})
    phone.open("#/outbox")
    assert phone.page.evaluate("() => window.bazres.store.db().then(d => [d.version, [...d.objectStoreNames]])") \
        == [2, ["drafts", "meta", "outbox", "outcomes", "photos", "records", "reports", "visit_lists"]]
    assert phone.outbox_states() == {report_id: "waiting"}
    assert "left by the old release" in phone.page.evaluate(
        "id => window.bazres.store.reports.get(id).then(r => r.data.notes)", report_id)
