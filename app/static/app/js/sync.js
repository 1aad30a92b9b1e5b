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
//   Upload-Offset.
import { isoWithOffset } from "./fa.js";
import { json, request, RequestFailed, withRetries, backoffMs, sleep } from "./net.js";
import { db, meta, run, keyOf, SERVER_ENTITIES } from "./store.js";

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
  const pending = await run((d) => d.count("outbox"));
  if (previous && previous !== username && pending) {
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
    await Promise.all([...stores.map((s) => tx.objectStore(s).clear()), tx.objectStore("meta").delete("cursor"),
      tx.done]);
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

// Save a report (new, or an edit of one the phone holds) and its op in one transaction.
// `fields`: client fields; `photoShas`: the photos (already in the photo store) it uses.
export async function saveReport(fields, { id = null, draftId = null } = {}) {
  const now = isoWithOffset(new Date());
  return run(async (d) => {
    const tx = d.transaction(["reports", "outbox", "photos", "drafts", "outcomes"], "readwrite");
    const reports = tx.objectStore("reports");
    const existing = id ? await reports.get(id) : null;
    const reportId = existing?.id || id || uuid();
    let op;
    if (!existing) {
      const data = { ...clientFields(fields), id: reportId };
      op = { op_id: uuid(), entity: "reports", action: "create", id: reportId, base_version: null,
        changed_at: now, data, attempts: 0 };
      await reports.put({ id: reportId, data: clientFields(data), version: null, server: null, saved_at: now });
    } else {
      const changed = {};
      for (const key of CLIENT_FIELDS) {
        if (key in fields && JSON.stringify(fields[key]) !== JSON.stringify(existing.data[key])) {
          changed[key] = fields[key];
        }
      }
      delete changed.office_id; // immutable after create (§5.4)
      if (!Object.keys(changed).length) {
        await tx.done;
        return reportId;
      }
      const waits = await pendingIn(tx, reportId);
      op = { op_id: uuid(), entity: "reports", action: "update", id: reportId,
        base_version: waits ? null : existing.version, changed_at: now, data: changed, attempts: 0 };
      await reports.put({ ...existing, data: { ...existing.data, ...changed }, saved_at: now });
    }
    await tx.objectStore("outbox").add(op);
    for (const photo of fields.photos || []) {
      const stored = await tx.objectStore("photos").get(photo.sha256);
      if (stored && !stored.report_id) await tx.objectStore("photos").put({ ...stored, report_id: reportId });
    }
    await tx.objectStore("outcomes").delete(reportId);
    if (draftId) await tx.objectStore("drafts").delete(draftId);
    await tx.done;
    return reportId;
  });
}

export async function deleteReport(id) {
  const now = isoWithOffset(new Date());
  return run(async (d) => {
    const tx = d.transaction(["reports", "outbox"], "readwrite");
    const existing = await tx.objectStore("reports").get(id);
    if (!existing) return;
    const waits = await pendingIn(tx, id);
    await tx.objectStore("outbox").add({ op_id: uuid(), entity: "reports", action: "delete", id,
      base_version: waits ? null : existing.version, changed_at: now, data: null, attempts: 0 });
    await tx.objectStore("reports").put({ ...existing, deleting: true });
    await tx.done;
  });
}

// ------------------------------------------------------------------ pull

export async function pull({ onPage = () => {}, limit = 500 } = {}) {
  const device = await deviceId();
  let resetting = false;
  const seen = new Set();
  let pages = 0;
  for (;;) {
    const cursor = await meta.get("cursor");
    const page = await authed(() => withRetries(() => json("POST", "/api/v1/sync/pull", {
      body: { protocol: 1, device_id: device, cursor: cursor ?? null, limit },
    })));
    resetting = resetting || page.reset;
    await storePage(page, seen);
    pages += 1;
    onPage(pages, page.has_more);
    if (!page.has_more) break;
  }
  if (resetting) await dropUnseen(seen);
  await meta.set("pulled_at", new Date().toISOString());
  return pages;
}

async function storePage(page, seen) {
  await run(async (d) => {
    const tx = d.transaction(["records", "reports", "outbox", "meta"], "readwrite");
    const records = tx.objectStore("records");
    const reports = tx.objectStore("reports");
    for (const entity of SERVER_ENTITIES) {
      const block = page.changes[entity] || { upserted: [], deleted: [] };
      for (const record of block.upserted) {
        const key = keyOf(record);
        seen.add(`${entity}/${key}`);
        await records.put({ entity, key, record });
      }
      for (const key of block.deleted) await records.delete([entity, String(key)]);
    }
    const own = page.changes.reports || { upserted: [], deleted: [] };
    for (const record of own.upserted) {
      seen.add(`reports/${record.id}`);
      const existing = await reports.get(record.id);
      if (existing && await pendingIn(tx, record.id)) {
        // Our unsent edits stay; only what the server owns is refreshed.
        await reports.put({ ...existing, server: record });
      } else {
        await reports.put({ id: record.id, data: clientFields(record), version: record.version, server: record,
          saved_at: existing?.saved_at ?? null });
      }
    }
    for (const key of own.deleted) {
      if (!await pendingIn(tx, String(key))) await reports.delete(String(key));
    }
    await tx.objectStore("meta").put(page.cursor, "cursor");
    await tx.done;
  });
}

async function dropUnseen(seen) {
  await run(async (d) => {
    const tx = d.transaction(["records", "reports", "outbox"], "readwrite");
    for (const row of await tx.objectStore("records").getAll()) {
      if (!seen.has(`${row.entity}/${row.key}`)) await tx.objectStore("records").delete([row.entity, row.key]);
    }
    for (const report of await tx.objectStore("reports").getAll()) {
      if (report.version !== null && !seen.has(`reports/${report.id}`) && !await pendingIn(tx, report.id)) {
        await tx.objectStore("reports").delete(report.id);
      }
    }
    await tx.done;
  });
}

// ------------------------------------------------------------------ push

// The ops of the next push: in the order they were made, one per report, none that waits
// for an earlier op of its report to land.
async function nextBatch() {
  const all = await run((d) => d.getAll("outbox"));
  const taken = new Set();
  const batch = [];
  for (const op of all) {
    if (batch.length >= PUSH_BATCH) break;
    if (taken.has(op.id)) continue;
    taken.add(op.id);
    if (op.base_version === null && op.action !== "create") continue;
    batch.push(op);
  }
  return batch;
}

const WIRE = ["op_id", "entity", "action", "id", "base_version", "changed_at"];

export async function push({ onProgress = () => {}, onWait = () => {} } = {}) {
  const device = await deviceId();
  const total = await run((d) => d.count("outbox"));
  let done = 0;
  const results = [];
  for (;;) {
    const batch = await nextBatch();
    if (!batch.length) break;
    // Counted before sending: an op once sent is never changed again (its replay must match).
    await run(async (d) => {
      const tx = d.transaction("outbox", "readwrite");
      await Promise.all(batch.map((op) => tx.store.put({ ...op, attempts: (op.attempts || 0) + 1 })));
      await tx.done;
    });
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
      const outcome = { id: op.id, op_id: op.op_id, action: op.action, status: result.status, at,
        conflicts: result.conflicts || [], flags: result.flags || [], reason: result.reason || null,
        errors: result.errors || null, missing: result.missing_attachments || [] };
      await tx.objectStore("outcomes").put(outcome);
      const existing = await reports.get(op.id);
      if (result.status === "rejected") {
        if (op.action === "create") {
          // Nothing of it landed: what was made on top of it cannot land either.
          for (const next of await later(op.id)) await outbox.delete(next.seq);
          if (existing) await reports.put({ ...existing, refused: true });
        } else {
          for (const next of await later(op.id)) {
            if (next.base_version === null) await outbox.put({ ...next, base_version: existing?.version ?? null });
          }
          if (existing) await reports.put({ ...existing, deleting: false });
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
      for (const next of waiting) {
        if (next.base_version === null || next.base_version === op.base_version) {
          await outbox.put({ ...next, base_version: version });
        }
      }
      if (waiting.length) {
        if (existing) await reports.put({ ...existing, version, server: record, deleting: false });
      } else if (Object.keys(record).length) {
        await reports.put({ id: op.id, data: clientFields(record), version, server: record,
          saved_at: existing?.saved_at ?? null });
      }
      if (!outcome.missing.length && (result.status === "applied" || result.status === "merged"
          || result.status === "duplicate")) {
        for (const photo of record.photos || []) {
          const stored = await tx.objectStore("photos").get(photo.sha256);
          if (stored && !stored.uploaded && !(record.photos_pending || []).includes(photo.sha256)) {
            await tx.objectStore("photos").put({ ...stored, uploaded: 1 });
          }
        }
      }
    }
    await tx.done;
  });
}

// ------------------------------------------------------------------ photos

// Photos whose report the server holds (§5.5: the report first), not yet uploaded.
export async function photosToSend() {
  return run(async (d) => {
    const tx = d.transaction(["photos", "reports"]);
    const waiting = await tx.objectStore("photos").index("uploaded").getAll(0);
    const ready = [];
    for (const photo of waiting) {
      if (!photo.report_id || photo.failed) continue;
      const report = await tx.objectStore("reports").get(photo.report_id);
      if (report && report.version !== null && !report.refused) ready.push(photo);
    }
    await tx.done;
    return ready;
  });
}

export async function uploadPhotos({ onProgress = () => {}, onWait = () => {} } = {}) {
  const queue = await photosToSend();
  const totalBytes = queue.reduce((sum, p) => sum + p.size, 0);
  let sentBefore = 0;
  for (const photo of queue) {
    await authed(() => uploadPhoto(photo, {
      onWait,
      onBytes: (offset) => onProgress(sentBefore + offset, totalBytes),
    }));
    sentBefore += photo.size;
    onProgress(sentBefore, totalBytes);
  }
  return queue.length;
}

async function markPhoto(sha, changes) {
  await run(async (d) => {
    const tx = d.transaction("photos", "readwrite");
    const stored = await tx.store.get(sha);
    if (stored) await tx.store.put({ ...stored, ...changes });
    await tx.done;
  });
}

// Upload one photo in pieces. After any failure, ask the server where it is (HEAD:
// Upload-Offset, what it has committed) and go on from there.
export async function uploadPhoto(photo, { onBytes = () => {}, onWait = () => {}, attempts = 12 } = {}) {
  const url = `/api/v1/attachments/${photo.sha256}`;
  const size = photo.blob.size;
  let resume = Boolean(photo.started);
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      let offset = 0;
      if (resume) {
        const head = await request("HEAD", url, { timeoutMs: 15000 });
        offset = Number(head.headers.get("Upload-Offset") || 0);
      }
      await markPhoto(photo.sha256, { started: true });
      resume = true;
      while (offset < size) {
        const end = Math.min(offset + PIECE, size) - 1;
        let response;
        try {
          response = await request("PATCH", url, {
            body: photo.blob.slice(offset, end + 1),
            headers: { "Content-Type": photo.type, "Content-Range": `bytes ${offset}-${end}/${size}` },
            timeoutMs: 120000,
          });
        } catch (error) {
          if (error instanceof RequestFailed && error.status === 409 && error.headers?.get("Upload-Offset")) {
            offset = Number(error.headers.get("Upload-Offset"));
            continue;
          }
          throw error;
        }
        offset = Number(response.headers.get("Upload-Offset") || end + 1);
        await markPhoto(photo.sha256, { offset });
        onBytes(offset);
        if (response.status === 201 || (response.status === 200 && offset >= size)) break;
      }
      await markPhoto(photo.sha256, { uploaded: 1, offset: size });
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
    await uploadPhotos({ onWait, onProgress: (done, total) => report("photos", 0.5 + 0.3 * (total ? done / total : 1)) });
    report("pull", 0.8);
    await pull({ onPage: (pages, more) => report("pull", more ? 0.8 + 0.2 * (1 - 1 / (pages + 1)) : 1) });
    report("done", 1);
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

export { db };
