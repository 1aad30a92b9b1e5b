// The phone's own store (DESIGN §10a): IndexedDB through `idb`, the synced records, the
// pull cursor, the outbox, the photos and the drafts, all of which outlive a reload, a
// closed tab, a dead battery and a new release of the app.
//
// Two ways phones lose data, answered here:
// - the OS closes an idle database connection under memory pressure (enketo/enketo#1576):
//   every use goes through `run()`, which reopens a connection that was closed and tries
//   once more, instead of failing the save;
// - a new release changes the database's layout (enketo/enketo#986): upgrades are
//   additive steps from any older version, never a drop, and an open page of an older
//   release closes its connection when a newer one asks (`blocking`), then reloads.
import { openDB } from "../vendor/idb/idb.js";

export const NAME = "bazres";
export const VERSION = 2;
export const SERVER_ENTITIES = ["offices", "districts", "hours_rules", "holidays", "rounds"];

// Each step takes the database from version i to i + 1. Never edit a step that shipped:
// add one. (Step 2 came with the draft store.)
const STEPS = [
  (db) => {
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
  },
  (db) => {
    db.createObjectStore("drafts", { keyPath: "id" });
  },
];

let opening = null;
const listeners = new Set();

class StoreUnavailable extends Error {}

export function onStoreEvent(listener) {
  listeners.add(listener);
}

function emit(kind) {
  for (const listener of listeners) listener(kind);
}

function open() {
  if (!("indexedDB" in self) || !self.indexedDB) {
    return Promise.reject(new StoreUnavailable("no IndexedDB"));
  }
  const promise = openDB(NAME, VERSION, {
    upgrade(db, oldVersion) {
      for (let step = oldVersion; step < VERSION; step += 1) STEPS[step](db);
    },
    blocking() {
      // A newer release wants to upgrade: let it, and reload into it.
      promise.then((db) => db.close()).catch(() => {});
      opening = null;
      emit("newer-version");
    },
    terminated() {
      // The browser closed the connection abnormally (memory pressure, storage cleared):
      // the next use opens a new one.
      opening = null;
    },
  }).catch((error) => {
    opening = null;
    // A newer release upgraded the store since this page loaded: only a reload reads it.
    if (error?.name === "VersionError") emit("newer-version");
    throw new StoreUnavailable(error?.message || String(error));
  });
  return promise;
}

export function db() {
  if (!opening) opening = open();
  return opening;
}

function isClosed(error) {
  return error && (error.name === "InvalidStateError" || /clos/i.test(error.message || ""));
}

// Run `work(db)`; a connection found closed is reopened once and the work redone from the
// start (each piece of work is one transaction, so a half of it never landed).
export async function run(work) {
  const first = await db();
  try {
    return await work(first);
  } catch (error) {
    if (!isClosed(error)) throw error;
    opening = null;
    return work(await db());
  }
}

// For tests and for the "close under memory pressure" case: close the live connection
// as the OS would, without telling the app.
export async function closeForTest() {
  (await db()).close();
}

export const meta = {
  get: (key) => run((d) => d.get("meta", key)),
  set: (key, value) => run((d) => d.put("meta", value, key)),
};

export function keyOf(record) {
  return String(record.id ?? record.number);
}

export const records = {
  all: (entity) => run(async (d) => (await d.getAllFromIndex("records", "entity", entity)).map((r) => r.record)),
  get: (entity, key) => run(async (d) => (await d.get("records", [entity, String(key)]))?.record),
};

export const reports = {
  all: () => run((d) => d.getAll("reports")),
  get: (id) => run((d) => d.get("reports", id)),
};

export const outbox = {
  count: () => run((d) => d.count("outbox")),
};

export const photos = {
  get: (sha) => run((d) => d.get("photos", sha)),
  pending: () => run((d) => d.getAllFromIndex("photos", "uploaded", 0)),
  put: (photo) => run((d) => d.put("photos", photo)),
  del: (sha) => run((d) => d.delete("photos", sha)),
};

// Everything the outbox screen shows, read in one transaction (one per report made the
// screen grow with every report a pull brings back: 0.5 s at 200 reports).
export async function outboxView() {
  return run(async (d) => {
    const tx = d.transaction(["reports", "outbox", "outcomes", "photos", "meta"]);
    const [all, ops, done, kept, pulledAt] = await Promise.all([tx.objectStore("reports").getAll(),
      tx.objectStore("outbox").getAll(), tx.objectStore("outcomes").getAll(), tx.objectStore("photos").getAll(),
      tx.objectStore("meta").get("pulled_at")]);
    await tx.done;
    const opsOf = new Map();
    for (const op of ops) opsOf.set(op.id, [...(opsOf.get(op.id) || []), op]);
    return { reports: all, opsOf, outcomes: new Map(done.map((o) => [o.id, o])),
      photos: new Map(kept.map((p) => [p.sha256, p])), waiting: ops.length, pulledAt };
  });
}

export const drafts = {
  get: (id) => run((d) => d.get("drafts", id)),
  put: (draft) => run((d) => d.put("drafts", draft)),
  del: (id) => run((d) => d.delete("drafts", id)),
};

export const visitLists = {
  get: (date) => run((d) => d.get("visit_lists", date)),
  latest: () => run(async (d) => {
    const all = await d.getAll("visit_lists");
    return all.sort((a, b) => (a.fetched_at < b.fetched_at ? 1 : -1))[0];
  }),
};

// Everything of this phone, for "clear this phone" (asked twice when the outbox holds work).
export async function clearAll() {
  await run(async (d) => {
    const names = [...d.objectStoreNames];
    const tx = d.transaction(names, "readwrite");
    await Promise.all([...names.map((name) => tx.objectStore(name).clear()), tx.done]);
  });
}
