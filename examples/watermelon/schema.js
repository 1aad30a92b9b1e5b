// The WatermelonDB raw form of what Bazres syncs (DESIGN §5.8): an appSchema an app can paste,
// and plain Model classes for it.
//
// Raw form: flat snake_case columns; a record's `id` a string (a district's is its number,
// "6"); instants as epoch milliseconds; a location as `latitude`/`longitude`; objects and lists
// as JSON strings. A column that may be null is `isOptional`; WatermelonDB stores a missing or
// mistyped value as null there, and as '' / 0 / false elsewhere (RawRecord.sanitizedRaw).

const { appSchema, tableSchema, Model } = require('@nozbe/watermelondb')

const SCHEMA_VERSION = 1

const text = (name, more = {}) => ({ name, type: 'string', ...more })
const number = (name, more = {}) => ({ name, type: 'number', ...more })
const flag = (name, more = {}) => ({ name, type: 'boolean', ...more })
const json = text // a JSON string: an object or a list
const optional = { isOptional: true }
const indexed = { isIndexed: true }

// schemas/places.py OfficeSchema
const offices = tableSchema({
  name: 'offices',
  columns: [
    text('code'), text('name'), number('district', indexed), text('category'),
    number('latitude'), number('longitude'), text('address'), text('phone'),
    text('status'), // active | suspended | closed_permanently
    number('version'),
  ],
})

// schemas/places.py DistrictSchema; `id` is String(number)
const districts = tableSchema({
  name: 'districts',
  columns: [
    number('number'), text('name_fa'), text('name_en'),
    json('geometry', optional), // a GeoJSON MultiPolygon, only for the caller's own districts
    number('version'),
  ],
})

// schemas/hours.py HoursRuleSchema
const hoursRules = tableSchema({
  name: 'hours_rules',
  columns: [
    text('name'), text('scope'), // city | district:N | category:NAME | office:ID
    text('date_from'), text('date_to'), // Jalali 1405-01-05, or 01-05 for every year
    flag('every_year'),
    json('weekdays'), // ["sat", …]; [] every day
    text('kind'), // open | closed
    json('windows'), // [{"start": "08:00", "end": "16:30"}]
    json('exempt_categories'),
    flag('on_holidays'), text('note'), number('published_at', optional),
    number('version'), flag('withdrawn'),
  ],
})

// schemas/hours.py HolidaySchema
const holidays = tableSchema({
  name: 'holidays',
  columns: [
    text('date'), // Jalali
    text('gregorian_date'), // YYYY-MM-DD
    text('title'), text('source'), flag('cancelled'), number('version'),
  ],
})

// schemas/rounds.py RoundSchema
const rounds = tableSchema({
  name: 'rounds',
  columns: [
    number('version'), text('date'), number('district', indexed),
    text('inspector'), number('inspector_id'), text('method'), number('planned_minutes'),
    json('stops'), // [{"seq", "office_id", "eta": "HH:MM" | null}] in planned order
    number('updated_at'),
  ],
})

// The phone's fields, from sync/report.py FIELDS (in its order; `location` is latitude/longitude).
const REPORT_CLIENT_COLUMNS = [
  text('office_id', indexed), text('round_id', optional),
  number('observed_at'), number('gps_fix_at', optional),
  number('latitude', optional), number('longitude', optional), number('accuracy_m', optional),
  text('office_state'), number('staff_present', optional),
  json('checklist'), // {"item": true | false | null}; "{}" for none
  text('notes'),
  json('photos'), // [{"sha256", "taken_at" (epoch ms | null), "caption"}]; "[]" for none
]
// The server's fields, from schemas/sync.py _SERVER_FIELDS: the phone never edits them.
const REPORT_SERVER_COLUMNS = [
  number('version'), number('received_at', optional),
  number('evidence_time', optional), text('evidence_time_source', optional),
  number('clock_skew_s', optional), number('distance_to_office_m', optional),
  flag('locked'), json('flags'), text('violation_id', optional),
  json('amendments'), json('photos_pending'),
]
// WatermelonDB's own timestamps (phone clock): it sets created_at on create and touches
// updated_at on every update, so updated_at is the edit time of the columns in `_changed`.
const REPORT_TIMESTAMPS = [number('created_at'), number('updated_at')]

const reports = tableSchema({
  name: 'reports',
  columns: [...REPORT_CLIENT_COLUMNS, ...REPORT_SERVER_COLUMNS, ...REPORT_TIMESTAMPS],
})

const schema = appSchema({
  version: SCHEMA_VERSION,
  tables: [offices, districts, hoursRules, holidays, rounds, reports],
})

// One accessor per column, named as the column: JSON columns read parsed and write stringified.
// (Decorators need Babel; these are what @field/@json would define.)
function defineColumns(ModelClass, columns, jsonColumns = []) {
  for (const { name } of columns) {
    const isJson = jsonColumns.includes(name)
    Object.defineProperty(ModelClass.prototype, name, {
      get() {
        const raw = this._getRaw(name)
        return isJson && typeof raw === 'string' && raw !== '' ? JSON.parse(raw) : raw
      },
      set(value) {
        this._setRaw(name, isJson ? JSON.stringify(value) : value)
      },
      configurable: true,
    })
  }
  return ModelClass
}

const JSON_COLUMNS = ['geometry', 'weekdays', 'windows', 'exempt_categories', 'stops',
  'checklist', 'photos', 'flags', 'amendments', 'photos_pending']

class Office extends Model { static table = 'offices' }
class District extends Model { static table = 'districts' }
class HoursRule extends Model { static table = 'hours_rules' }
class Holiday extends Model { static table = 'holidays' }
class Round extends Model { static table = 'rounds' }
class Report extends Model { static table = 'reports' }

const tables = { offices, districts, hours_rules: hoursRules, holidays, rounds, reports }
const modelClasses = [Office, District, HoursRule, Holiday, Round, Report]
for (const ModelClass of modelClasses) {
  defineColumns(ModelClass, tables[ModelClass.table].columnArray, JSON_COLUMNS)
}
// `createdAt` / `updatedAt` present on the model is what makes WatermelonDB set them
// (Model/helpers.js createTimestampsFor, Model.prepareUpdate).
Object.defineProperties(Report.prototype, {
  createdAt: { get() { return this._getRaw('created_at') }, configurable: true },
  updatedAt: { get() { return this._getRaw('updated_at') }, configurable: true },
})

module.exports = {
  SCHEMA_VERSION, schema, modelClasses, JSON_COLUMNS,
  REPORT_CLIENT_COLUMNS, REPORT_SERVER_COLUMNS, REPORT_TIMESTAMPS,
  Office, District, HoursRule, Holiday, Round, Report,
}
