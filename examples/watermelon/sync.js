// A WatermelonDB client of Bazres for headless Node: a database on the LokiJS adapter, in
// memory, and one call of WatermelonDB's synchronize() against /api/v1/sync/watermelon (DESIGN §5.8).

const { randomUUID } = require('node:crypto')
const { Database } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')
const { schemaMigrations } = require('@nozbe/watermelondb/Schema/migrations')
const { schema, modelClasses } = require('./schema')

// No migrations yet; the (empty) spec is what lets synchronize() take migrationsEnabledAtVersion.
const migrations = schemaMigrations({ migrations: [] })

// Bazres refuses a report whose id is not a UUID: WatermelonDB's own ids are 16 letters.
setGenerator(() => randomUUID())

function makeDatabase({ dbName = `bazres-${randomUUID()}` } = {}) {
  const adapter = new LokiJSAdapter({
    schema,
    migrations,
    dbName,
    useWebWorker: false,
    useIncrementalIndexedDB: false, // with no IndexedDB (Node) Loki falls back to memory anyway
    // Loki's default autosave is a 500 ms timer, which would keep a Node process alive;
    // there is nothing to save in memory.
    extraLokiOptions: { autosave: false },
    onSetUpError: (error) => { throw error },
  })
  return new Database({ adapter, modelClasses })
}

async function request(fetchImpl, url, options) {
  const response = await fetchImpl(url, options)
  const body = await response.text()
  if (!response.ok) {
    // Thrown from pullChanges/pushChanges this fails the whole synchronize(): see NOTES.md.
    const error = new Error(`${options.method} ${url}: ${response.status} ${body.slice(0, 500)}`)
    error.status = response.status
    error.body = body
    throw error
  }
  return body ? JSON.parse(body) : {}
}

function syncWith(database, {
  baseUrl, token, sendCreatedAsUpdated = false, migrationsEnabledAtVersion,
  log, fetch: fetchImpl = globalThis.fetch,
}) {
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/sync/watermelon`
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' }
  return synchronize({
    database,
    sendCreatedAsUpdated,
    migrationsEnabledAtVersion,
    log,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const query = new URLSearchParams({
        last_pulled_at: lastPulledAt == null ? 'null' : String(lastPulledAt),
        schema_version: String(schemaVersion),
        migration: JSON.stringify(migration ?? null),
      })
      // Such a client wants every record under `updated` (WatermelonDB logs an error otherwise).
      if (sendCreatedAsUpdated) query.set('send_created_as_updated', 'true')
      const { changes, timestamp } = await request(fetchImpl, `${url}?${query}`, { method: 'GET', headers })
      return { changes, timestamp }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      const query = new URLSearchParams({ last_pulled_at: String(lastPulledAt) })
      // `sent_at`: the phone's clock as it sends, for the clock skew (§5.2's `sent_at`).
      const body = JSON.stringify({ changes, sent_at: Date.now() })
      await request(fetchImpl, `${url}?${query}`, {
        method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body,
      })
      // No `experimentalRejectedIds`: a rejected record would stay dirty and be pushed
      // forever; Bazres quarantines it instead and the next pull sends the server's truth.
    },
  })
}

module.exports = { makeDatabase, syncWith }
