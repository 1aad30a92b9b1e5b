// The sync protocol (DESIGN §5) from the phone: log in, pull, the outbox and its push,
// photos after their reports. The same rules as the Python reference client
// (sync/client.py), in IndexedDB:
//
// - an op is written to the outbox, with its op_id, in the same transaction as the
//   report it changes, before anything is sent; a retry resends the very same op, so a
//   lost answer is answered `duplicate`, never a second report;
// - one op per report per push; an edit made before the report's create landed waits,
//   and is based on what the create's answer says;
// - the answers are settled in one transaction; a refused op keeps its reason and never
//   blocks the ops behind it;
// - a page of a pull and its cursor are stored together; the phone's unsent edits are
//   never overwritten by a pull;
// - photos go up after their report, in pieces that resume from the server's
//   Upload-Offset; one that cannot go up now holds up no other.
import { isoWithOffset } from "./fa.js";
import { json, request, RequestFailed, withRetries, backoffMs, sleep } from "./net.js";
import { meta, run, keyOf, SERVER_ENTITIES } from "./store.js";

export const CLIENT_FIELDS = ["office_id", "round_id", "observed_at", "gps_fix_at", "location", "accuracy_m",
  "office_state", "staff_present", "checklist", "notes", "photos"];
const PUSH_BATCH = 100; // ops a push: far under the server's 500 ops and 5 MB
export const PIECE = 128 * 1024; // bytes a photo PATCH: about 3 s at 400 kbit/s

export class AuthNeeded extends Error {}

const clientFields = (record) => Object.fromEntries(CLIENT_FIELDS.map((k) => [k, record[k] ?? null]));
const uuid = () => crypto.randomUUID();

export async function deviceId() {
  let id = await meta.get("device_id");
  if (!id) {
    id = uuid();
    await meta.set("device_id", id);
  }
  return id;
}

// ------------------------------------------------------------------ the session

export async function session() {
  return meta.get("session");
}

export async function login(username, password) {
  const previous = await meta.get("owner");
  if (previous && previous !== username && (await unsent()).total) {
    throw new Error(`این گوشی گزارش‌های ارسال‌نشدهٔ «${previous}» را دارد؛ نخست با همان کاربر وارد شوید و همگام کنید.`);
  }
  const answer = await json("POST", "/api/v1/auth/token", {
    body: { username, password, device_id: await deviceId() }, auth: false,
  });
  if (previous && previous !== username) await forgetServerData();
  await meta.set("session", { token: answer.token, expires_at: answer.expires_at, user: answer.user });
  await meta.set("owner", username);
  return answer.user;
}

// Revoke the token; the outbox and the synced data stay on the phone for the same user.
// The phone forgets the token first, so a sync running meanwhile cannot use it again.
export async function logout() {
  const current = await meta.get("session");
  await meta.set("session", current ? { user: current.user, token: null, expires_at: null, logged_out: true } : null);
  if (!current?.token) return;
  try {
    await request("DELETE", "/api/v1/auth/token", { timeoutMs: 5000, auth: false,
      headers: { Authorization: `Bearer ${current.token}` } });
  } catch { /* offline or already expired: forgetting it here is what counts */ }
}

async function forgetServerData() {
  await run(async (d) => {
    const stores = ["records", "reports", "outcomes", "visit_lists", "photos", "drafts"];
    const tx = d.transaction([...stores, "meta"], "readwrite");
    const metaStore = tx.objectStore("meta");
    await Promise.all([...stores.map((s) => tx.objectStore(s).clear()),
      ...["cursor", "pulled_at", "generation", "resetting"].map((key) => metaStore.delete(key)), tx.done]);
  });
}

async function authed(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RequestFailed && error.auth) {
      const current = await meta.get("session");
      if (current?.token) await meta.set("session", { ...current, token: null });
      throw new AuthNeeded(current?.logged_out ? "logged out" : "token expired or revoked");
    }
    throw error;
  }
}

// ------------------------------------------------------------------ offline work

async function pendingIn(tx, id) {
  return (await tx.objectStore("outbox").index("report").count(id)) > 0;
}

// Everything on this phone the server does not have yet: ops, photos, drafts. What the
// warnings before logging out or clearing count, and what no other user may log in over.
export async function unsent() {
  return run(async (d) => {
    const tx = d.transaction(["outbox", "photos", "drafts"]);
    // Photos a saved report uses (a draft's are counted with the draft). Blobs are read
    // by reference, not loaded, so listing them costs little.
    const photos = await tx.objectStore("photos").index("uploaded").getAll(0);
    const counts = { ops: await tx.objectStore("outbox").count(),
      photos: photos.filter((p) => (p.reports || []).length).length,
      drafts: await tx.objectStore("drafts").count() };
    await tx.done;
    return { ...counts, total: counts.ops + counts.photos + counts.drafts };
  });
}

// Save a report and its op in one transaction, before anything is sent.
// - A new report: `fields` are all its client fields.
// - An edit: `fields` are only what the inspector changed, against the report as the form
//   showed it, which was `baseVersion` (a sync may have brought a newer one meanwhile: the
//   server merges the edit three-way against what the inspector saw, §5.4).
// An edit joins the report's last op while that op has never been sent (one op, as the
// reference client does); once an op has gone out it is never changed (a replay must match
// it), and the edit waits behind it with no base until its answer says which version it made.
export async function saveReport(fields, { id = null, draftId = null, baseVersion = null } = {}) {
  const now = isoWithOffset(new Date());
  const fresh = { report: uuid(), op: uuid() };
  return run(async (d) => {
    const tx = d.transaction(["reports", "outbox", "photos", "drafts", "outcomes"], "readwrite");
    const reports = tx.objectStore("reports");
    const outbox = tx.objectStore("outbox");
    const existing = id ? await reports.get(id) : null;
    const reportId = existing?.id || id || fresh.report;
    const refusedCreate = existing?.refused && existing.version === null;
    let data;
    if (!existing || refusedCreate) {
      // New, or a create the server refused, sent again as a create (with what was changed).
      data = { ...clientFields({ ...existing?.data, ...fields }), id: reportId };
      await outbox.add({ op_id: fresh.op, entity: "reports", action: "create", id: reportId, base_version: null,
        changed_at: now, data, attempts: 0 });
      await reports.put({ id: reportId, data: clientFields(data), version: null, server: null, saved_at: now });
    } else {
      const changed = Object.fromEntries(Object.entries(fields).filter(([key]) => CLIENT_FIELDS.includes(key)
        && key !== "office_id")); // office_id is immutable after create (§5.4)
      if (!Object.keys(changed).length) {
        if (draftId) await tx.objectStore("drafts").delete(draftId);
        await tx.done;
        return reportId;
      }
      const ops = await outbox.index("report").getAll(reportId);
      const last = ops.sort((a, b) => a.seq - b.seq).at(-1);
      if (last && last.attempts === 0 && last.action !== "delete") {
        await outbox.put({ ...last, data: { ...last.data, ...changed }, changed_at: now });
      } else {
        await outbox.add({ op_id: fresh.op, entity: "reports", action: "update", id: reportId,
          base_version: ops.length ? null : (baseVersion ?? existing.version), changed_at: now, data: changed,
          attempts: 0 });
      }
      data = { ...existing.data, ...changed };
      await reports.put({ ...existing, data, saved_at: now });
    }
    for (const photo of data.photos || []) {
      const stored = await tx.objectStore("photos").get(photo.sha256);
      if (stored && !(stored.reports || []).includes(reportId)) {
        await tx.objectStore("photos").put({ ...stored, reports: [...(stored.reports || []), reportId] });
      }
    }
    await tx.objectStore("outcomes").delete(reportId);
    if (draftId) await tx.objectStore("drafts").delete(draftId);
    await tx.done;
    return reportId;
  });
}

// ------------------------------------------------------------------ pull

export async function pull({ onPage = () => {}, limit = 500 } = {}) {
  const device = await deviceId();
  let pages = 0;
  for (;;) {
    const cursor = await meta.get("cursor");
    const page = await authed(() => withRetries(() => json("POST", "/api/v1/sync/pull", {
      body: { protocol: 1, device_id: device, cursor: cursor ?? null, limit },
    })));
    await storePage(page);
    pages += 1;
    onPage(pages, page.has_more);
    if (!page.has_more) break;
  }
  await meta.set("pulled_at", new Date().toISOString());
  return pages;
}

// A page and its cursor in one transaction. Every record is stamped with the scope's
// generation; a `reset` page starts a new one, kept in the store with the page, so a reset
// pull cut off half way and finished later (another day, after a crash) still ends by
// dropping what the new scope did not bring: never the phone's unsent reports.
async function storePage(page) {
  await run(async (d) => {
    const tx = d.transaction(["records", "reports", "outbox", "meta", "photos"], "readwrite");
    const records = tx.objectStore("records");
    const reports = tx.objectStore("reports");
    const metaStore = tx.objectStore("meta");
    let generation = (await metaStore.get("generation")) || 0;
    if (page.reset) {
      generation += 1;
      await metaStore.put(generation, "generation");
      await metaStore.put(true, "resetting");
    }
    for (const entity of SERVER_ENTITIES) {
      const block = page.changes[entity] || { upserted: [], deleted: [] };
      for (const record of block.upserted) await records.put({ entity, key: keyOf(record), record, generation });
      for (const key of block.deleted) await records.delete([entity, String(key)]);
    }
    const own = page.changes.reports || { upserted: [], deleted: [] };
    for (const record of own.upserted) {
      const existing = await reports.get(record.id);
      if (existing && await pendingIn(tx, record.id)) {
        // Our unsent edits stay; only what the server owns is refreshed.
        await reports.put({ ...existing, server: record, generation });
      } else {
        await reports.put({ id: record.id, data: clientFields(record), version: record.version, server: record,
          saved_at: existing?.saved_at ?? null, generation });
      }
      await markMissing(tx.objectStore("photos"), record.photos_pending || []);
    }
    for (const key of own.deleted) {
      if (!await pendingIn(tx, String(key))) await reports.delete(String(key));
    }
    await metaStore.put(page.cursor, "cursor");
    if (!page.has_more && await metaStore.get("resetting")) {
      await dropOlder(tx, generation);
      await metaStore.delete("resetting");
    }
    await tx.done;
  });
}

async function dropOlder(tx, generation) {
  const records = tx.objectStore("records");
  for (const row of await records.getAll()) {
    if ((row.generation || 0) < generation) await records.delete([row.entity, row.key]);
  }
  const reports = tx.objectStore("reports");
  for (const report of await reports.getAll()) {
    if (report.version !== null && (report.generation || 0) < generation && !await pendingIn(tx, report.id)) {
      await reports.delete(report.id);
    }
  }
}

// The server says it still lacks these photos: whatever this phone believed, send them.
async function markMissing(photos, shas) {
  for (const sha of shas) {
    const stored = await photos.get(sha);
    if (stored?.uploaded) await photos.put({ ...stored, uploaded: 0, started: true });
  }
}

// ------------------------------------------------------------------ push

const WIRE = ["op_id", "entity", "action", "id", "base_version", "changed_at"];

// The ops of the next push: in the order they were made, one per report, none that waits
// for an earlier op of its report to land. Chosen and counted as sent in one transaction,
// so an edit saved meanwhile either joins an op before it goes or waits behind it: an op
// once sent is never changed (its replay must match).
async function nextBatch() {
  return run(async (d) => {
    const tx = d.transaction("outbox", "readwrite");
    const taken = new Set();
    const batch = [];
    for (const op of await tx.store.getAll()) {
      if (batch.length >= PUSH_BATCH) break;
      if (taken.has(op.id)) continue;
      taken.add(op.id);
      if (op.base_version === null && op.action !== "create") continue;
      const sent = { ...op, attempts: (op.attempts || 0) + 1 };
      await tx.store.put(sent);
      batch.push(sent);
    }
    await tx.done;
    return batch;
  });
}

export async function push({ onProgress = () => {}, onWait = () => {} } = {}) {
  const device = await deviceId();
  const total = await run((d) => d.count("outbox"));
  let done = 0;
  const results = [];
  for (;;) {
    const batch = await nextBatch();
    if (!batch.length) break;
    const ops = batch.map((op) => ({ ...Object.fromEntries(WIRE.map((k) => [k, op[k]])),
      ...(op.data ? { data: op.data } : {}) }));
    const answer = await authed(() => withRetries(() => json("POST", "/api/v1/sync/push", {
      // sent_at is the moment of this attempt: the server reckons the phone's clock from it.
      body: { protocol: 1, device_id: device, sent_at: isoWithOffset(new Date()), ops },
      timeoutMs: 60000,
    }), { onWait }));
    await settle(batch, answer);
    results.push(...answer.results);
    done += batch.length;
    onProgress(done, Math.max(total, done));
  }
  return results;
}

// The version the edits waiting behind an op are to be merged against. Their fields were
// changed on the phone's own copy, which is what the op made only if the server took it as
// it was: a create (version 1), or an update applied with no conflict. After a merge, the
// server's record differs from the phone's copy, so they stay on the op's own base and the
// server merges them three-way like any other late edit: nothing either side wrote is lost.
function baseForWaiting(op, result) {
  if (op.action === "create") return 1;
  const clean = !(result.conflicts || []).length;
  if (result.status === "applied" && clean) return result.version;
  if (result.status === "duplicate" && clean && result.op_version) return result.op_version;
  return op.base_version;
}

async function settle(batch, answer) {
  const at = new Date().toISOString();
  await run(async (d) => {
    const tx = d.transaction(["outbox", "reports", "outcomes", "photos"], "readwrite");
    const outbox = tx.objectStore("outbox");
    const reports = tx.objectStore("reports");
    const later = async (id) => (await outbox.index("report").getAll(id));
    for (const [index, op] of batch.entries()) {
      const result = answer.results[index];
      await outbox.delete(op.seq);
      if (op.entity !== "reports") continue;
      await tx.objectStore("outcomes").put({ id: op.id, op_id: op.op_id, action: op.action, status: result.status,
        at, conflicts: result.conflicts || [], flags: result.flags || [], reason: result.reason || null,
        errors: result.errors || null, missing: result.missing_attachments || [] });
      const existing = await reports.get(op.id);
      if (result.status === "rejected") {
        if (op.action === "create") {
          // Nothing of it landed, so nothing made on top of it can: the phone keeps the
          // report (with those edits) as refused, to be corrected and sent again.
          for (const next of await later(op.id)) await outbox.delete(next.seq);
          if (existing) await reports.put({ ...existing, refused: true });
        } else {
          for (const next of await later(op.id)) {
            if (next.base_version === null) await outbox.put({ ...next, base_version: op.base_version });
          }
        }
        continue;
      }
      if (op.action === "delete" && result.status !== "merged" && !result.reason) {
        await reports.delete(op.id);
        continue;
      }
      const record = result.record || {};
      const version = result.version ?? existing?.version ?? null;
      const waiting = await later(op.id);
      const base = baseForWaiting(op, result);
      for (const next of waiting) {
        if (next.base_version === null) await outbox.put({ ...next, base_version: base });
      }
      if (waiting.length) {
        if (existing) await reports.put({ ...existing, version, server: record, refused: false });
      } else if (Object.keys(record).length) {
        await reports.put({ id: op.id, data: clientFields(record), version, server: record,
          saved_at: existing?.saved_at ?? null, generation: existing?.generation });
      }
      await markMissing(tx.objectStore("photos"), result.missing_attachments || []);
    }
    await tx.done;
  });
}

// ------------------------------------------------------------------ photos

// Photos that a report the server holds uses (§5.5: the report first), not yet uploaded.
// A photo used by two reports goes up once either of them has landed.
export async function photosToSend() {
  return run(async (d) => {
    const tx = d.transaction(["photos", "reports"]);
    const ready = [];
    for (const photo of await tx.objectStore("photos").index("uploaded").getAll(0)) {
      if (photo.failed) continue;
      for (const id of photo.reports || []) {
        const report = await tx.objectStore("reports").get(id);
        if (report && report.version !== null && !report.refused) {
          ready.push(photo);
          break;
        }
      }
    }
    await tx.done;
    return ready;
  });
}

// Each photo on its own: one that cannot go up now is left for the next sync and the
// others go on (the pull after them still brings the server's answer). Returns how many
// are left.
export async function uploadPhotos({ onProgress = () => {}, onWait = () => {} } = {}) {
  const queue = await photosToSend();
  const totalBytes = queue.reduce((sum, p) => sum + p.size, 0);
  let sentBefore = 0;
  let left = 0;
  for (const photo of queue) {
    try {
      await authed(() => uploadPhoto(photo, {
        onWait,
        onBytes: (offset) => onProgress(sentBefore + offset, totalBytes),
      }));
    } catch (error) {
      if (error instanceof AuthNeeded) throw error;
      left += 1;
    }
    sentBefore += photo.size;
    onProgress(sentBefore, totalBytes);
  }
  return left;
}

async function markPhoto(sha, changes) {
  await run(async (d) => {
    const tx = d.transaction("photos", "readwrite");
    const stored = await tx.store.get(sha);
    if (stored) await tx.store.put({ ...stored, ...changes });
    await tx.done;
  });
}

// What the server says it holds of a photo. An answer without it (a captive portal's
// page, a proxy's) is not the server's: the piece is treated as not delivered.
function offsetOf(response) {
  const header = response.headers.get("Upload-Offset");
  if (header === null || !/^[0-9]+$/.test(header)) {
    throw new RequestFailed("an answer without Upload-Offset", { network: true });
  }
  return Number(header);
}

// Upload one photo in pieces. After any failure, ask the server where it is (HEAD:
// Upload-Offset, what it has committed) and go on from there.
export async function uploadPhoto(photo, { onBytes = () => {}, onWait = () => {}, attempts = 12 } = {}) {
  const url = `/api/v1/attachments/${photo.sha256}`;
  const size = photo.blob.size;
  let resume = Boolean(photo.started);
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      let offset = resume ? offsetOf(await request("HEAD", url, { timeoutMs: 15000 })) : 0;
      if (!resume) await markPhoto(photo.sha256, { started: true });
      resume = true;
      for (;;) {
        const end = Math.min(offset + PIECE, size) - 1;
        let response;
        try {
          response = await request("PATCH", url, {
            body: photo.blob.slice(offset, end + 1),
            headers: { "Content-Type": photo.type, "Content-Range": `bytes ${offset}-${end}/${size}` },
            timeoutMs: 120000,
          });
        } catch (error) {
          // Only an offset the server does not hold is resumed; a length that differs from the
          // upload it holds (upload-length-mismatch) would fail again at any offset.
          if (error instanceof RequestFailed && error.code === "upload-offset-mismatch" && error.headers) {
            offset = offsetOf(error); // the server is elsewhere: go on from where it is
            if (offset >= size) break;
            continue;
          }
          throw error;
        }
        offset = offsetOf(response);
        onBytes(offset);
        if (response.status === 201 || response.status === 200) break; // whole, and hashed right
        if (offset >= size) throw new RequestFailed("all sent but not stored", { network: true });
      }
      await markPhoto(photo.sha256, { uploaded: 1 });
      return;
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      if (!error.retry) {
        if (error.auth) throw error;
        // The server will never take these bytes (not an image, too big): say so, go on.
        await markPhoto(photo.sha256, { failed: error.message, failed_code: error.code });
        return;
      }
      const wait = backoffMs(attempt, { base: 500, cap: 30000, serverAsked: error.retryAfterMs });
      onWait(wait, error);
      await sleep(wait);
    }
  }
  throw new RequestFailed("upload did not finish", { network: true });
}

// ------------------------------------------------------------------ all of it

let running = null;

// Push, then photos, then pull: the server's answer (judged, merged) comes back in the pull.
// `onProgress({stage, fraction, waitMs})`. One sync at a time, across tabs too.
export function syncAll(onProgress = () => {}) {
  if (running) return running;
  const work = async () => {
    const report = (stage, fraction, extra = {}) => onProgress({ stage, fraction, ...extra });
    const onWait = (waitMs, error) => report("waiting", null, { waitMs, error });
    report("push", 0);
    const results = await push({ onWait, onProgress: (done, total) => report("push", 0.5 * done / total) });
    report("photos", 0.5);
    const photosLeft = await uploadPhotos({ onWait,
      onProgress: (done, total) => report("photos", 0.5 + 0.3 * (total ? done / total : 1)) });
    report("pull", 0.8);
    await pull({ onPage: (pages, more) => report("pull", more ? 0.8 + 0.2 * (1 - 1 / (pages + 1)) : 1) });
    report("done", 1, { photosLeft });
    return results;
  };
  const locked = navigator.locks
    ? navigator.locks.request("bazres-sync", work)
    : work();
  running = locked.finally(() => { running = null; });
  return running;
}

// The visit list of a day (§7) from the phone's position, kept for the day offline.
export async function fetchVisitList(date, position) {
  const query = new URLSearchParams({ date });
  if (position) {
    query.set("lat", position.lat.toFixed(6));
    query.set("lon", position.lon.toFixed(6));
  }
  const list = await authed(() => withRetries(() => json("GET", `/api/v1/visit-list?${query}`, { timeoutMs: 30000 }),
    { attempts: 2 }));
  const kept = { date, fetched_at: new Date().toISOString(), position: position || null, list };
  await run((d) => d.put("visit_lists", kept));
  return kept;
}

