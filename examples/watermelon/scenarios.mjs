// WatermelonDB against a real Bazres (DESIGN §5.8): each scenario of issue 16, run by
// tests/watermelon/test_real_client.py on both databases against a server process.
//
//   BAZRES_URL=http://127.0.0.1:5000 BAZRES_PASSWORD=bazres-demo \
//   BAZRES_SETUP='{"inspector": "inspector-6a", "district": 6, "foreign_office": "<id>"}' \
//   node scenarios.mjs <scenario> [--created-as-updated]
//
// Exits 0 and prints `ok <scenario>` when every check holds; anything WatermelonDB logs as an
// error fails the scenario too (a `created` it already holds, an `updated` it lacks…).

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { makeDatabase, syncWith } = require('./sync.js')
const { logger } = require('@nozbe/watermelondb/utils/common')

const BASE = process.env.BAZRES_URL
const PASSWORD = process.env.BAZRES_PASSWORD ?? 'bazres-demo'
const SETUP = JSON.parse(process.env.BAZRES_SETUP ?? '{}')
const [name, ...flags] = process.argv.slice(2)
const createdAsUpdated = flags.includes('--created-as-updated')

const errors = []
logger.log = (...args) => { if (process.env.VERBOSE) console.log(...args) } // Loki's set-up chatter
for (const level of ['error', 'warn']) {
  const original = logger[level].bind(logger)
  logger[level] = (...args) => {
    const line = args.map(String).join(' ')
    // LokiJS's own deprecation notice about an option WatermelonDB still passes.
    if (level === 'error' || !/deprecated/.test(line)) errors.push(`${level}: ${line}`)
    if (process.env.VERBOSE) original(...args)
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function api(method, path, { token, body } = {}) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

async function login(username) {
  const answer = await api('POST', '/api/v1/auth/token', { body: { username, password: PASSWORD, device_id: randomUUID() } })
  assert.equal(answer.status, 201, JSON.stringify(answer.body))
  return answer.body.token
}

/** A phone: its own login (token), its own WatermelonDB, and a network that can lose answers. */
async function phone(username = SETUP.inspector) {
  const token = await login(username)
  const database = makeDatabase()
  const network = { loseNextPushAnswer: false, dropNextPush: false, pushes: [] }
  const fetchImpl = async (url, options) => {
    if (options.method === 'POST' && network.dropNextPush) {
      network.dropNextPush = false
      throw new Error('the line dropped before the push got through')
    }
    const response = await fetch(url, options)
    if (process.env.VERBOSE) console.log(options.method, url, await response.clone().text())
    if (options.method === 'POST') {
      network.pushes.push(JSON.parse(options.body))
      if (network.loseNextPushAnswer) {
        network.loseNextPushAnswer = false
        await response.text()
        throw new Error('the answer was lost on the way back')
      }
    }
    return response
  }
  const sync = () => syncWith(database, {
    baseUrl: BASE, token, sendCreatedAsUpdated: createdAsUpdated, migrationsEnabledAtVersion: 1, fetch: fetchImpl,
  })
  return { token, database, network, sync, reports: database.get('reports') }
}

/** The inspector's reports as the server holds them: §5.1's pull from scratch. */
async function serverReports(token) {
  const out = new Map()
  let cursor = null
  for (;;) {
    const answer = await api('POST', '/api/v1/sync/pull', {
      token, body: { protocol: 1, device_id: randomUUID(), cursor, limit: 1000 },
    })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    for (const r of answer.body.changes.reports.upserted) out.set(r.id, r)
    for (const id of answer.body.changes.reports.deleted) out.delete(id)
    cursor = answer.body.cursor
    if (!answer.body.has_more) return out
  }
}

async function districtOffices(token) {
  const answer = await api('GET', `/api/v1/offices?district=${SETUP.district}&page_size=500`, { token })
  assert.equal(answer.status, 200)
  return answer.body
}

// Closures go to the district's first office (by code), everything else to the others: a
// closure opens a case that locks every report of its office and day.
async function newReport(p, fields) {
  const offices = (await p.database.get('offices').query().fetch()).sort((x, y) => x.code.localeCompare(y.code))
  const closure = ['closed', 'open_not_serving'].includes(fields.office_state)
  const office = offices.find((o) => o.id === fields.office_id) ?? (closure ? offices[0] : offices[1])
  let made
  await p.database.write(async () => {
    made = await p.reports.create((r) => {
      Object.assign(r, {
        office_id: office.id, observed_at: Date.now() - 60_000, office_state: 'open',
        latitude: office.latitude, longitude: office.longitude, accuracy_m: 12, staff_present: 2,
        checklist: { sign_posted: true }, notes: '', photos: [], flags: [], amendments: [], photos_pending: [],
        ...fields,
      })
    })
  })
  return made
}

async function edit(p, id, fields) {
  const record = await p.reports.find(id)
  await p.database.write(() => record.update((r) => Object.assign(r, fields)))
}

async function local(p, id) {
  try {
    return await p.reports.find(id)
  } catch {
    return null
  }
}

// The client fields of a local record as the server's wire form has them.
function clientView(record) {
  return {
    office_state: record.office_state, notes: record.notes, staff_present: record.staff_present,
    checklist: record.checklist, version: record.version, locked: record.locked,
  }
}
function serverView(report) {
  return {
    office_state: report.office_state, notes: report.notes, staff_present: report.staff_present,
    checklist: report.checklist, version: report.version, locked: report.locked,
  }
}

// ------------------------------------------------------------------ scenarios

const scenarios = {
  async first_sync() {
    const p = await phone()
    await p.sync()
    const offices = await p.database.get('offices').query().fetch()
    const expected = await districtOffices(p.token)
    assert.deepEqual(offices.map((o) => o.id).sort(), expected.map((o) => o.id).sort())
    assert.ok(offices.every((o) => o.district === SETUP.district))
    const districts = await p.database.get('districts').query().fetch()
    assert.deepEqual(districts.map((d) => d.id), [String(SETUP.district)])
    assert.equal(districts[0].geometry.type, 'MultiPolygon')
    const rules = await p.database.get('hours_rules').query().fetch()
    assert.ok(rules.length >= 1, 'the mandated hours')
    assert.ok(rules.every((r) => Array.isArray(r.windows)))
    assert.ok((await p.database.get('holidays').query().fetch()).length >= 20, 'the holidays')
    const rounds = await p.database.get('rounds').query().fetch()
    if (SETUP.round) assert.ok(rounds.some((r) => r.id === SETUP.round), 'the district round')
    assert.ok(rounds.every((r) => r.district === SETUP.district))
    assert.ok(rounds.every((r) => Array.isArray(r.stops)))
    // A second sync with nothing new brings nothing and pushes nothing.
    await p.sync()
    assert.equal(p.network.pushes.length, 0)
    return { offices: offices.length, rules: rules.length, rounds: rounds.length }
  },

  async three_reports() {
    const p = await phone()
    await p.sync()
    const made = []
    for (const state of ['closed', 'open', 'inaccessible']) made.push((await newReport(p, { office_state: state })).id)
    await p.sync()
    const server = await serverReports(p.token)
    for (const id of made) {
      assert.ok(server.has(id), `report ${id} on the server`)
      assert.equal(server.get(id).version, 1)
      assert.equal((await local(p, id))._raw._status, 'synced')
    }
    const closed = server.get(made[0])
    assert.ok(closed.flags.includes('closed_during_mandated_hours'), JSON.stringify(closed.flags))
    assert.ok(closed.violation_id, 'judged: a case holds it')
    assert.ok(server.get(made[1]).evidence_time, 'judged: an evidence time')
    // The next pull brings them back with the server's fields, as `updated`: nothing doubles.
    await p.sync()
    const all = await p.reports.query().fetch()
    assert.equal(all.filter((r) => made.includes(r.id)).length, 3)
    const back = await local(p, made[0])
    assert.deepEqual(back.flags, closed.flags)
    assert.equal(back.violation_id, closed.violation_id)
    assert.equal(back.locked, true)
    return { judged: closed.flags }
  },

  async lost_answer() {
    const p = await phone()
    await p.sync()
    const report = await newReport(p, { notes: 'first words' })
    p.network.loseNextPushAnswer = true
    await assert.rejects(p.sync(), /lost/)
    await p.sync() // pulls the landed report back, pushes the very same create again
    await edit(p, report.id, { notes: 'first words, then more' })
    p.network.loseNextPushAnswer = true
    await assert.rejects(p.sync(), /lost/)
    await p.sync() // the same update again, after a pull that brought it back
    await p.sync()
    const server = (await serverReports(p.token)).get(report.id)
    assert.equal(server.notes, 'first words, then more') // not merged in twice
    assert.equal(server.version, 2) // one create, one update
    assert.deepEqual(clientView(await local(p, report.id)), serverView(server))
    const replays = await api('GET', '/api/v1/sync/quarantine', { token: p.token })
    assert.ok(!replays.body.some((q) => JSON.stringify(q.payload).includes(report.id)), 'nothing quarantined')
    return { pushes: p.network.pushes.length, version: server.version }
  },

  async two_clients_merge() {
    const a = await phone()
    const b = await phone()
    await a.sync()
    const report = await newReport(a, { notes: 'Door locked at 08:10.', office_state: 'open' })
    await a.sync()
    await b.sync()
    assert.ok(await local(b, report.id), 'the second phone has it')
    await sleep(1200) // the edits come well after the pulls they were made on
    await edit(a, report.id, { notes: 'Door locked at 08:10. Guard says manager is late.', office_state: 'relocated' })
    await sleep(50)
    await edit(b, report.id, { notes: 'Door locked at 08:10. Sign on door: moved to Azadi St.', office_state: 'inaccessible' })
    await a.sync()
    await b.sync()
    await a.sync() // each phone's next pull brings the merged record
    await b.sync()
    const server = (await serverReports(a.token)).get(report.id)
    assert.match(server.notes, /Guard says manager is late/)
    assert.match(server.notes, /moved to Azadi St/)
    assert.equal(server.notes.split('Door locked at 08:10.').length - 1, 1, server.notes) // each text once
    assert.equal(server.office_state, 'inaccessible') // latest_edit: the second phone edited later
    for (const p of [a, b]) {
      const mine = await local(p, report.id)
      assert.equal(mine._raw._status, 'synced')
      assert.deepEqual(clientView(mine), serverView(server))
    }
    return { notes: server.notes, version: server.version }
  },

  // A push that never reached the server: the next sync pulls first, and that pull brings the
  // other phone's edit, which WatermelonDB keeps its own columns over. The merge base must be
  // what the phone held when it edited, or the other phone's words would be lost.
  async failed_push() {
    const a = await phone()
    const b = await phone()
    await a.sync()
    const report = await newReport(a, { notes: 'Two counters open.' })
    await a.sync()
    await b.sync()
    await sleep(1200)
    await edit(a, report.id, { notes: 'Two counters open. Printer broken.' })
    a.network.dropNextPush = true
    await assert.rejects(a.sync(), /dropped/)
    await edit(b, report.id, { notes: 'Two counters open. Queue of 30.' })
    await b.sync()
    await a.sync() // pulls B's edit (kept under its own), then pushes its edit again
    await a.sync()
    await b.sync()
    const server = (await serverReports(a.token)).get(report.id)
    assert.match(server.notes, /Printer broken/)
    assert.match(server.notes, /Queue of 30/)
    for (const p of [a, b]) assert.deepEqual(clientView(await local(p, report.id)), serverView(server))
    return { notes: server.notes }
  },

  async locked_amendment() {
    const p = await phone()
    await p.sync()
    const report = await newReport(p, { office_state: 'closed', notes: 'Shutters down.' })
    await p.sync()
    await p.sync()
    assert.equal((await local(p, report.id)).locked, true, 'the committee holds it')
    await edit(p, report.id, { notes: 'Shutters down. Actually open at 09:00.', office_state: 'open' })
    await p.sync()
    await p.sync()
    const server = (await serverReports(p.token)).get(report.id)
    assert.equal(server.notes, 'Shutters down.')
    assert.equal(server.office_state, 'closed')
    assert.deepEqual(server.amendments.map((x) => x.field).sort(), ['notes', 'office_state'])
    const mine = await local(p, report.id)
    assert.deepEqual(clientView(mine), serverView(server)) // the phone converged
    assert.deepEqual(mine.amendments.map((x) => x.value).sort(), ['Shutters down. Actually open at 09:00.', 'open'])
    return { amendments: server.amendments.length }
  },

  async refused_record() {
    const p = await phone()
    await p.sync()
    const foreign = await newReport(p, { office_id: SETUP.foreign_office, notes: 'not my district' })
    const good = await newReport(p, { notes: 'mine' })
    await p.sync() // resolves: one bad record never fails the push
    const server = await serverReports(p.token)
    assert.ok(server.has(good.id))
    assert.ok(!server.has(foreign.id))
    const quarantine = await api('GET', '/api/v1/sync/quarantine', { token: p.token })
    const held = quarantine.body.find((q) => JSON.stringify(q.payload).includes(foreign.id))
    assert.ok(held, 'the quarantine holds it')
    assert.match(JSON.stringify(held.errors), /outside your districts/)
    await p.sync()
    assert.equal(await local(p, foreign.id), null, 'the next pull removed it')
    assert.equal((await local(p, good.id))._raw._status, 'synced')
    // Later records still sync.
    const later = await newReport(p, { notes: 'later' })
    await p.sync()
    assert.ok((await serverReports(p.token)).has(later.id))
    return { errors: held.errors }
  },

  async deletes() {
    const a = await phone()
    const b = await phone()
    await a.sync()
    const gone = await newReport(a, { notes: 'made in error' })
    await a.sync()
    await b.sync()
    assert.ok(await local(b, gone.id))
    await a.database.write(() => gone.markAsDeleted())
    await a.sync()
    await b.sync()
    assert.equal(await local(b, gone.id), null, 'the delete reached the other phone')
    assert.ok(!(await serverReports(a.token)).has(gone.id))

    // A stale delete: the server changed the report since this phone last pulled it.
    const kept = await newReport(a, { notes: 'Queue of 12.' })
    await a.sync()
    await b.sync()
    await sleep(1200)
    await edit(b, kept.id, { notes: 'Queue of 12. Counter 3 closed.' })
    await b.sync()
    const stale = await a.reports.find(kept.id)
    await a.database.write(() => stale.markAsDeleted())
    await a.sync() // pushes the delete: refused, update_beats_delete
    const server = (await serverReports(a.token)).get(kept.id)
    assert.ok(server, 'the report stays')
    assert.equal(server.notes, 'Queue of 12. Counter 3 closed.')
    await a.sync()
    const back = await local(a, kept.id)
    assert.ok(back, 'the report returned to the deleting phone')
    assert.deepEqual(clientView(back), serverView(server))
    return { version: server.version }
  },
}

const run = scenarios[name]
if (!run) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`)
  process.exit(2)
}
try {
  const result = await run()
  assert.deepEqual(errors, [], 'WatermelonDB logged errors')
  console.log(`ok ${name}${createdAsUpdated ? ' (sendCreatedAsUpdated)' : ''} ${JSON.stringify(result)}`)
} catch (error) {
  const { message, stack } = error
  console.error(`FAILED ${name}${createdAsUpdated ? ' (sendCreatedAsUpdated)' : ''}: ${message.slice(0, 3000)}\n${stack.split('\n').filter((l) => l.includes('scenarios.mjs')).join('\n')}`)
  if (errors.length) console.error('WatermelonDB said:\n' + errors.join('\n'))
  process.exit(1)
}
