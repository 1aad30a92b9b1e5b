"""WatermelonDB's raw form of the records a pull brings (DESIGN §5.8), written from each
table's read schema: the same fields as `/api/v1/sync/pull`, made flat.

Ids become strings (a district's is its number), instants epoch milliseconds, a point two
columns (`latitude`, `longitude`), and anything nested (a district's polygon, a rule's
windows, a round's stops) a JSON string. The conversion of each field is chosen once from
its marshmallow type, so a field added to a read schema reaches the raw form with no line
here; a report's raw form is sync.watermelon's, from its declared fields.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import marshmallow as ma
import orjson
from marshmallow import validate

from schemas.fields import GeoJSONGeometry, GeoJSONPoint, Instant
from schemas.input import InputSchema
from sync.watermelon import EARLIEST_MS, LATEST_MS, epoch_ms, point_columns

NESTED = (ma.fields.List, ma.fields.Dict, ma.fields.Nested, ma.fields.Tuple, GeoJSONGeometry)


def raw_writer(schema: ma.Schema, id_field: str = "id") -> Callable[[dict], dict]:
    """A function from a record as `schema` dumps it to its WatermelonDB raw record (its id
    the string of `id_field`; a district's number is both its id and a column)."""
    steps = [_step(name, field) for name, field in schema.fields.items() if name != "id"]

    def write(record: dict) -> dict:
        raw = {"id": str(record[id_field])}
        for step in steps:
            step(record, raw)
        return raw
    return write


def _step(name: str, field: ma.fields.Field):
    if isinstance(field, GeoJSONPoint):
        latitude, longitude = point_columns(name)

        def point(record, raw):
            coordinates = (record[name] or {}).get("coordinates") or (None, None)
            raw[latitude], raw[longitude] = coordinates[1], coordinates[0]
        return point
    if isinstance(field, Instant):
        return _copied(name, epoch_ms)
    if isinstance(field, NESTED):
        return _copied(name, _json)
    return _copied(name, None)


def _copied(name: str, convert):
    def copy(record, raw):
        value = record[name]
        raw[name] = value if convert is None else convert(value)
    return copy


def _json(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


# ---------------------------------------------------------------- the endpoints' own shapes (DESIGN §5.8)

MAX_POSITION = 2**53 - 1  # what a JavaScript number holds exactly
TABLES = ("offices", "districts", "hours_rules", "holidays", "rounds", "reports")


class Position(ma.fields.Integer):
    """A WatermelonDB `last_pulled_at`: a number from an earlier answer's `timestamp`, or
    `null` (also empty, absent, 0) for a phone that never pulled."""

    OPENAPI = {"type": "integer", "minimum": 0, "maximum": MAX_POSITION, "nullable": True}

    def _deserialize(self, value, attr, data, **kwargs):
        if value in (None, "", "null", "undefined"):
            return None
        number = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= number <= MAX_POSITION:
            raise ma.ValidationError(f"Must be a timestamp this server answered (0 to {MAX_POSITION}).")
        return number or None


class EpochOrInstant(ma.fields.Field):
    """The phone's clock: epoch milliseconds (JavaScript's Date.now()) or an ISO 8601 instant."""

    OPENAPI = {"oneOf": [{"type": "integer"}, Instant.OPENAPI]}

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) in (int, float):
            if not EARLIEST_MS <= value <= LATEST_MS:
                raise ma.ValidationError("Give a time in the years 1900 to 2199 (epoch milliseconds).")
            return datetime.fromtimestamp(value / 1000, UTC)
        return Instant()._deserialize(value, attr, data, **kwargs)


class MigrationSpec(ma.fields.String):
    """WatermelonDB's `migration` argument as JSON text: `null`, or an object."""

    OPENAPI = {"maxLength": 10_000}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 10_000:
            raise ma.ValidationError("Longer than 10,000 characters.")
        if text.strip() in ("", "undefined"):
            return None
        try:
            spec = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ma.ValidationError("Must be JSON: null, or WatermelonDB's migration object.") from exc
        if spec is not None and not isinstance(spec, dict):
            raise ma.ValidationError("Must be null or an object ({\"from\", \"tables\", \"columns\"}).")
        return spec


class PullQuerySchema(InputSchema):
    last_pulled_at = Position(load_default=None, allow_none=True,
                              metadata={"description": "The `timestamp` of your last pull; null for everything"})
    schema_version = ma.fields.Integer(load_default=None, validate=validate.Range(min=1))
    migration = MigrationSpec(load_default=None, allow_none=True, metadata={
        "description": "WatermelonDB's migration spec as JSON (`{\"from\", \"tables\", \"columns\"}`), or null. "
                       "Not null: the whole scope is sent again, so the new columns are filled"})
    send_created_as_updated = ma.fields.Boolean(load_default=False, metadata={
        "description": "For a client synchronizing with `sendCreatedAsUpdated: true`: every record under "
                       "`updated` (else new records come under `created`, as WatermelonDB expects by default)"})


class PushQuerySchema(InputSchema):
    last_pulled_at = Position(required=True, metadata={"description": "The `timestamp` of the pull just made"})


MAX_TABLES = 32
CHANGE_SETS = ("created", "updated", "deleted")
_RECORDS = {"type": "array", "items": {"type": "object", "additionalProperties": True}}


class PushBodySchema(InputSchema):
    # `Raw`, so that the records are not refused here as a whole: each is checked on its own
    # as the op it becomes, and one bad record is quarantined, never the push (DESIGN §5.8).
    changes = ma.fields.Raw(required=True, metadata={
        "type": "object", "maxProperties": MAX_TABLES,
        "additionalProperties": {"type": "object", "additionalProperties": False, "properties": {
            "created": _RECORDS, "updated": _RECORDS,
            "deleted": {"type": "array", "items": {"type": "string"}}}},
        "description": "As pushChanges receives it: {table: {created, updated, deleted}}. Only `reports` is "
                       "applied; a record of another table, or one the server refuses, goes to the quarantine "
                       "and the next pull sends the server's truth"})
    sent_at = EpochOrInstant(load_default=None, metadata={
        "description": "Optional: the phone's clock as it sends (Date.now()), for the clock skew of §5.2"})

    @ma.validates("changes")
    def _shape(self, changes, **kwargs):
        if not isinstance(changes, dict):
            raise ma.ValidationError("Must be an object of tables: {\"reports\": {\"created\": [...], ...}}.")
        if len(changes) > MAX_TABLES:
            raise ma.ValidationError(f"At most {MAX_TABLES} tables.")
        for table, sets in changes.items():
            if not isinstance(sets, dict):
                raise ma.ValidationError({table: ["Must be an object: {created, updated, deleted}."]})
            for name, records in sets.items():
                if name not in CHANGE_SETS:
                    raise ma.ValidationError({table: {name: [f"Unknown: a table's changes are "
                                                             f"{', '.join(CHANGE_SETS)}."]}})
                if not isinstance(records, list):
                    raise ma.ValidationError({table: {name: ["Must be a list."]}})


# The raw form of each table, for the OpenAPI document: the columns `raw_writer` (and, for
# reports, sync.watermelon.to_raw) write, with their JSON types, derived as they are.

_MS = "Epoch milliseconds"
_JSON = "A JSON string"


def _doc_columns(schema: ma.Schema) -> dict:
    columns = {}
    for name, field in schema.fields.items():
        if name == "id":
            continue
        if isinstance(field, GeoJSONPoint):
            for column in point_columns(name):
                columns[column] = ma.fields.Float(allow_none=True)
        elif isinstance(field, Instant):
            columns[name] = ma.fields.Integer(allow_none=True, metadata={"description": _MS})
        elif isinstance(field, NESTED):
            columns[name] = ma.fields.String(allow_none=True, metadata={"description": _JSON})
        elif isinstance(field, ma.fields.Boolean | ma.fields.Integer | ma.fields.Float):
            columns[name] = type(field)()
        else:
            columns[name] = ma.fields.String(allow_none=True)
    return columns


def _report_columns() -> dict:
    from sync.report import CHECKLIST, COUNT, FIELDS, INSTANT, NUMBER, PHOTOS, POINT
    from sync.watermelon import SERVER_INSTANTS, SERVER_LISTS

    columns = {}
    for f in FIELDS:
        if f.kind == POINT:
            for column in point_columns(f.name):
                columns[column] = ma.fields.Float(allow_none=True)
        elif f.kind == INSTANT:
            columns[f.name] = ma.fields.Integer(allow_none=not f.required, metadata={"description": _MS})
        elif f.kind in (CHECKLIST, PHOTOS):
            columns[f.name] = ma.fields.String(metadata={"description": _JSON})
        elif f.kind in (NUMBER, COUNT):
            columns[f.name] = (ma.fields.Float if f.kind == NUMBER else ma.fields.Integer)(allow_none=True)
        else:
            columns[f.name] = ma.fields.String(allow_none=not f.required)
    columns |= {name: ma.fields.Integer(allow_none=True, metadata={"description": _MS}) for name in SERVER_INSTANTS}
    columns |= {name: ma.fields.String(metadata={"description": _JSON}) for name in SERVER_LISTS}
    columns |= {"version": ma.fields.Integer(), "evidence_time_source": ma.fields.String(),
                "clock_skew_s": ma.fields.Float(), "distance_to_office_m": ma.fields.Float(allow_none=True),
                "locked": ma.fields.Boolean(), "violation_id": ma.fields.String(allow_none=True)}
    return columns


def _table_changes(name: str, columns: dict) -> type[ma.Schema]:
    raw = ma.Schema.from_dict({"id": ma.fields.String(), **columns}, name=f"Watermelon{name}Raw")
    return ma.Schema.from_dict({"created": ma.fields.List(ma.fields.Nested(raw)),
                                "updated": ma.fields.List(ma.fields.Nested(raw)),
                                "deleted": ma.fields.List(ma.fields.String())}, name=f"Watermelon{name}Changes")


def _changes_doc() -> type[ma.Schema]:
    from schemas.hours import HolidaySchema, HoursRuleSchema
    from schemas.places import DistrictSchema, OfficeSchema
    from schemas.rounds import RoundSchema

    tables = {"offices": ("Office", _doc_columns(OfficeSchema())),
              "districts": ("District", _doc_columns(DistrictSchema())),
              "hours_rules": ("HoursRule", _doc_columns(HoursRuleSchema())),
              "holidays": ("Holiday", _doc_columns(HolidaySchema())),
              "rounds": ("Round", _doc_columns(RoundSchema())),
              "reports": ("Report", _report_columns())}
    return ma.Schema.from_dict({table: ma.fields.Nested(_table_changes(name, columns))
                                for table, (name, columns) in tables.items()}, name="WatermelonChanges")


class PullAnswerSchema(ma.Schema):
    changes = ma.fields.Nested(_changes_doc(), metadata={
        "description": "WatermelonDB raw records: flat snake_case columns, ids as strings, instants as epoch "
                       "milliseconds, a point as latitude/longitude, objects and lists as JSON strings"})
    timestamp = ma.fields.Integer(metadata={"description": "A change-feed position (not a clock), above 0: send "
                                                           "it as last_pulled_at"})


class PushResultSchema(ma.Schema):
    op_id = ma.fields.String()
    id = ma.fields.Raw()
    status = ma.fields.String(metadata={"description": "applied, merged, duplicate or rejected (quarantined)"})
    version = ma.fields.Integer()
    errors = ma.fields.Dict()
    reason = ma.fields.String()
    conflicts = ma.fields.List(ma.fields.Dict())


class PushAnswerSchema(ma.Schema):
    replayed = ma.fields.Integer(metadata={"description": "Records that had already landed (a lost answer)"})
    results = ma.fields.List(ma.fields.Nested(PushResultSchema), metadata={
        "description": "WatermelonDB ignores this; the next pull sends every pushed record as the server holds it"})
