// Proves the harness runs headless: WatermelonDB on LokiJS in Node 20, synchronize() against a
// tiny in-process stub of §5.8 (not Bazres: the stub knows two offices and stores reports).
// Runs the scenario twice: a plain client, and a sendCreatedAsUpdated one served all as `updated`.
// `node selftest.mjs` exits 0 when every check holds.

import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { makeDatabase, syncWith } = require('./sync.js')
const { logger } = require('@nozbe/watermelondb/utils/common')

const TOKEN = 'token-of-inspector-6a'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const CLIENT = ['office_id', 'round_id', 'observed_at', 'gps_fix_at', 'latitude', 'longitude', 'accuracy_m',
  'office_state', 'staff_present', 'checklist', 'notes', 'photos']

// WatermelonDB's logger writes to console; keep what it says, to report it.
const said = []
for (const level of ['log', 'warn', 'error']) {
  const original = logger[level].bind(logger)
  logger[level] = (...args) => { said.push(`${level}: ${args.join(' ')}`); if (process.env.VERBOSE) original(...args) }
}

function stub({ allAsUpdated }) {
  let seq = 1000 // a feed position; WatermelonDB wants a timestamp > 0 (synchronize.js)
  const records = { offices: new Map(), reports: new Map() } // id → { raw, seq, createdSeq, creator }
  const put = (table, raw, creator = null) => {
    seq += 1
    const old = records[table].get(raw.id)
    records[table].set(raw.id, { raw, seq, createdSeq: old ? old.createdSeq : seq, creator: old ? old.creator : creator })
  }
  for (const [code, lat, lon] of [['TEH-06-01', 35.7219, 51.3890], ['TEH-06-02', 35.7301, 51.4012]]) {
    put('offices', { id: randomUUID(), code, name: `Office ${code}`, district: 6, category: 'standard',
      latitude: lat, longitude: lon, address: '', phone: '', status: 'active', version: 1 })
  }
  const log = { pulls: [], pushes: [] }
  const control = { failNextPush: false }
  // An edit made on the server (another phone, the committee): a new feed position.
  const serverEdit = (id, fields) => {
    const { raw } = records.reports.get(id)
    put('reports', { ...raw, ...fields, version: raw.version + 1 })
  }

  const pull = (token, since) => {
    const changes = {}
    for (const [table, map] of Object.entries(records)) {
      const created = [], updated = []
      for (const { raw, seq: at, createdSeq, creator } of map.values()) {
        if (since !== null && at <= since) continue
        // A caller's own records, and anything it may already hold, come as `updated`.
        const isNew = since === null || createdSeq > since
        ;(allAsUpdated || creator === token || !isNew ? updated : created).push(raw)
      }
      changes[table] = { created, updated, deleted: [] }
    }
    return { changes, timestamp: seq }
  }

  const push = (token, body) => {
    for (const [table, { created = [], updated = [], deleted = [] }] of Object.entries(body.changes)) {
      if (created.length + updated.length + deleted.length === 0) continue
      assert.equal(table, 'reports', 'only reports are pushed')
      for (const raw of [...created, ...updated]) {
        const old = records.reports.get(raw.id)?.raw
        const mine = Object.fromEntries(CLIENT.map((name) => [name, raw[name]]))
        put('reports', { ...(old ?? {}), id: raw.id, ...mine, version: (old?.version ?? 0) + 1,
          received_at: Date.now(), evidence_time: raw.observed_at, evidence_time_source: 'device',
          clock_skew_s: (Date.now() - body.sent_at) / 1000, distance_to_office_m: null, locked: false,
          flags: JSON.stringify(['needs_verification']), violation_id: null, amendments: '[]',
          photos_pending: '[]' }, token)
      }
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://stub')
    const answer = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    if (token !== TOKEN) return answer(401, { title: 'Unauthorized' })
    if (url.pathname !== '/api/v1/sync/watermelon') return answer(404, {})
    const lastPulledAt = JSON.parse(url.searchParams.get('last_pulled_at'))
    if (req.method === 'GET') {
      const result = pull(token, lastPulledAt)
      log.pulls.push({ query: Object.fromEntries(url.searchParams), result })
      return answer(200, result)
    }
    let text = ''
    for await (const chunk of req) text += chunk
    const body = JSON.parse(text)
    log.pushes.push({ lastPulledAt, body })
    if (control.failNextPush) {
      // The push lands but its answer is lost.
      control.failNextPush = false
      push(token, body)
      return answer(503, { title: 'Answer lost' })
    }
    push(token, body)
    return answer(200, {})
  })
  return { server, log, records, control, serverEdit }
}

const count = (changes, table, kind) => changes[table]?.[kind]?.length ?? 0

async function scenario({ allAsUpdated }) {
  const { server, log, records, control, serverEdit } = stub({ allAsUpdated })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${server.address().port}`
  const options = { baseUrl, token: TOKEN, sendCreatedAsUpdated: allAsUpdated, migrationsEnabledAtVersion: 1 }
  const db = makeDatabase()
  const reports = db.get('reports')
  try {
    // 1. First sync: the offices land; nothing to push, so pushChanges is not called.
    await syncWith(db, options)
    assert.equal(log.pulls[0].query.last_pulled_at, 'null')
    assert.equal(log.pulls[0].query.schema_version, '1')
    assert.equal(log.pulls[0].query.migration, 'null')
    assert.equal(count(log.pulls[0].result.changes, 'offices', allAsUpdated ? 'updated' : 'created'), 2)
    const offices = await db.get('offices').query().fetch()
    assert.equal(offices.length, 2)
    assert.equal(log.pushes.length, 0)

    // 2. Three reports, created offline.
    const observedAt = Date.now()
    await db.write(() => Promise.all([0, 1, 2].map((i) => reports.create((r) => {
      Object.assign(r, {
        office_id: offices[i % 2].id, observed_at: observedAt + i, office_state: 'closed',
        latitude: 35.7219, longitude: 51.389, accuracy_m: 12, staff_present: 0,
        checklist: { sign_posted: true }, notes: `report ${i}`, photos: [],
        flags: [], amendments: [], photos_pending: [],
      })
    }))))
    const local = await reports.query().fetch()
    assert.equal(local.length, 3)
    for (const r of local) {
      assert.match(r.id, UUID)
      assert.equal(r._raw._status, 'created')
      assert.equal(r._raw._changed, '') // a create marks no columns
      assert.ok(r._raw.created_at > 0 && r._raw.updated_at > 0)
    }

    // 3. Sync: the pull brings nothing new, then the push sends the three as created.
    await syncWith(db, options)
    assert.equal(log.pushes.length, 1)
    const [pushed] = log.pushes
    assert.equal(pushed.lastPulledAt, log.pulls[1].result.timestamp) // push carries the new position
    assert.equal(count(pushed.body.changes, 'reports', 'created'), 3)
    assert.equal(count(pushed.body.changes, 'reports', 'updated'), 0)
    const sent = pushed.body.changes.reports.created[0]
    assert.equal(sent._status, 'created') // not stripped, despite the docs
    assert.equal(typeof sent.checklist, 'string')
    assert.equal(records.reports.size, 3)
    for (const r of await reports.query().fetch()) assert.equal(r._raw._status, 'synced')

    // 4. The next sync pulls them back under `updated` (own records), with the server's fields.
    await syncWith(db, options)
    const back = log.pulls[2].result.changes
    assert.equal(count(back, 'reports', 'updated'), 3)
    assert.equal(count(back, 'reports', 'created'), 0)
    assert.equal(log.pushes.length, 1)
    for (const r of await reports.query().fetch()) {
      assert.equal(r._raw._status, 'synced')
      assert.equal(r.version, 1)
      assert.deepEqual(r.flags, ['needs_verification'])
    }

    // 5. An edit: `_changed` names the edited column (and updated_at, which WatermelonDB touches).
    const [first] = await reports.query().fetch()
    await db.write(() => first.update((r) => { r.notes = 'edited on the phone' }))
    assert.equal(first._raw._status, 'updated')
    await syncWith(db, options)
    const edit = log.pushes[1].body.changes.reports.updated[0]
    assert.deepEqual(edit._changed.split(',').sort(), ['notes', 'updated_at'])
    assert.equal(edit.notes, 'edited on the phone')
    assert.equal(first._raw._status, 'synced')

    // 6. Conflict on pull: the server changed office_state, the phone notes. The pull keeps the
    // phone's `_changed` columns and takes the server's others; the record stays `updated`.
    // The push's answer is lost: synchronize() rejects, but the pull was committed.
    await db.write(() => first.update((r) => { r.notes = 'second edit' }))
    serverEdit(first.id, { office_state: 'open', notes: 'server notes' })
    control.failNextPush = true
    await assert.rejects(syncWith(db, options), /503/)
    const lost = log.pushes[2]
    assert.equal(lost.body.changes.reports.updated[0].office_state, 'open')
    assert.equal(lost.body.changes.reports.updated[0].notes, 'second edit')
    // `version` is the pulled one (3), not the base of the edit: a push states no base.
    assert.equal(lost.body.changes.reports.updated[0].version, 3)
    assert.equal(first._raw._status, 'updated') // not marked synced: it will be pushed again
    assert.equal(first.office_state, 'open')
    const pulledAt = log.pulls.at(-1).result.timestamp

    // 7. The retry pulls the landed record back (its own edit) and pushes the same columns again:
    // without an op id, the server must see the replay by its content.
    await syncWith(db, options)
    assert.equal(log.pulls.at(-1).query.last_pulled_at, String(pulledAt)) // the failed sync's pull counted
    const replay = log.pushes[3].body.changes.reports.updated[0]
    assert.equal(replay._changed, lost.body.changes.reports.updated[0]._changed)
    assert.equal(replay.updated_at, lost.body.changes.reports.updated[0].updated_at)
    assert.equal(replay.notes, 'second edit')
    assert.equal(first._raw._status, 'synced')

    return {
      pulls: log.pulls.map((p) => `${p.query.last_pulled_at}→${p.result.timestamp}`).join(', '),
      pushes: log.pushes.map((p) => Object.fromEntries(['created', 'updated', 'deleted']
        .map((k) => [k, count(p.body.changes, 'reports', k)]))),
      sampleChanged: edit._changed,
    }
  } finally {
    server.close()
  }
}

for (const allAsUpdated of [false, true]) {
  const result = await scenario({ allAsUpdated })
  console.log(`sendCreatedAsUpdated=${allAsUpdated}: ok; pulls ${result.pulls}; pushes ${JSON.stringify(result.pushes)}; _changed "${result.sampleChanged}"`)
}
const noise = said.filter((line) => !/\[Loki\]/.test(line))
console.log(`WatermelonDB said (${said.length} lines, ${said.length - noise.length} of them [Loki] setup):`)
for (const line of [...new Set(noise)]) console.log(`  ${line}`)
console.log(`node ${process.version}, @nozbe/watermelondb ${require('@nozbe/watermelondb/package.json').version}, lokijs ${require('lokijs/package.json').version}: selftest passed`)
