"""The sync protocol's wire format (DESIGN §5): envelopes, ops, reports, corrections, results."""

import uuid
from datetime import datetime
from functools import partial
from operator import attrgetter

import marshmallow as ma
import orjson
from marshmallow import validate

from geo.geometry import plain_point, points, to_geojson
from schemas.fields import GeoJSONPoint, Instant, InstantError, TextUuid, WholeMatch, read_instant, write_instant
from schemas.input import InputSchema, unstorable
from schemas import patterns
from sync import report as declared
from sync.report import CAPTION_MAX, CHECKLIST_ITEM_MAX, FIELDS

PROTOCOL = 1
MAX_OPS = 500
MAX_PULL_LIMIT = 2_000  # records a pull page may ask for: 2,000 reports are some 2 MB of JSON
# WholeMatch matches the whole value: `$` alone would also match before a trailing newline.
SHA256 = WholeMatch(f"^{patterns.SHA256_HEX}$", error="Must be a lower-case hex SHA-256 (64 characters).")


class _Protocol(ma.fields.Integer):
    OPENAPI = {"enum": [PROTOCOL]}

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if number != PROTOCOL:
            raise ma.ValidationError(f"This server speaks sync protocol {PROTOCOL}, not {number}.")
        return number


class PullRequestSchema(InputSchema):
    protocol = _Protocol(required=True)
    device_id = ma.fields.UUID(required=True)
    cursor = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    limit = ma.fields.Integer(load_default=500, validate=validate.Range(1, MAX_PULL_LIMIT))


class ChangesSchema(ma.Schema):
    upserted = ma.fields.List(ma.fields.Dict())
    deleted = ma.fields.List(ma.fields.Raw())


class PullResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    cursor = ma.fields.String()
    has_more = ma.fields.Boolean()
    reset = ma.fields.Boolean(metadata={"description": "Drop server-owned records not in the pages that follow "
                                                       "(never unsynced reports)"})
    server_time = Instant()
    changes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ChangesSchema))


class PushRequestSchema(InputSchema):
    protocol = _Protocol(required=True)
    device_id = ma.fields.UUID(required=True)
    sent_at = Instant(required=True, metadata={"description": "The phone's clock when it sent the push"})
    # Any JSON, null too: a bad op is refused alone, in its result (DESIGN §5.2).
    ops = ma.fields.List(ma.fields.Raw(allow_none=True), required=True,
                         metadata={"description": f"At most {MAX_OPS} (more: 413); each is checked on its own",
                                   "maxItems": MAX_OPS})


class OpSchema(InputSchema):
    op_id = ma.fields.UUID(required=True)
    entity = ma.fields.String(required=True, validate=validate.OneOf(["reports", "office_corrections"]))
    action = ma.fields.String(required=True, validate=validate.OneOf(["create", "update", "delete"]))
    id = ma.fields.UUID(required=True)
    base_version = ma.fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    changed_at = Instant(required=True)
    data = ma.fields.Dict(load_default=None, allow_none=True)

    @ma.validates_schema
    def _shape(self, op, **kwargs):
        action = op.get("action")
        if op.get("entity") == "office_corrections" and action != "create":
            raise ma.ValidationError("Office corrections can only be created.", "action")
        if action == "create" and op.get("base_version") is not None:
            raise ma.ValidationError("A create has no base_version.", "base_version")
        if action in ("update", "delete") and op.get("base_version") is None:
            raise ma.ValidationError("Give the version this change was based on.", "base_version")
        if action in ("create", "update") and not isinstance(op.get("data"), dict):
            raise ma.ValidationError("Give the report's fields.", "data")
        if action == "delete" and op.get("data"):
            raise ma.ValidationError("A delete carries no data.", "data")


class PhotoSchema(InputSchema):
    sha256 = ma.fields.String(required=True, validate=SHA256)
    taken_at = Instant(allow_none=True, load_default=None)
    caption = ma.fields.String(load_default="", validate=validate.Length(max=CAPTION_MAX))


# ---------------------------------------------------------------- a report's fields, from sync.report.FIELDS


def _checklist(**options) -> ma.fields.Field:
    return ma.fields.Dict(keys=ma.fields.String(validate=validate.Length(1, CHECKLIST_ITEM_MAX)),
                          values=ma.fields.Boolean(allow_none=True), **options)


# Each kind's field as a client writes it, with the validators its declaration asks for.
_INPUT = {
    declared.UUID: lambda f: ma.fields.UUID,
    declared.INSTANT: lambda f: Instant,
    declared.POINT: lambda f: GeoJSONPoint,
    declared.NUMBER: lambda f: lambda **o: ma.fields.Float(validate=validate.Range(*f.range), **o),
    declared.COUNT: lambda f: lambda **o: ma.fields.Integer(validate=validate.Range(*f.range), **o),
    declared.CHOICE: lambda f: lambda **o: ma.fields.String(validate=validate.OneOf(f.choices), **o),
    declared.CHECKLIST: lambda f: lambda **o: _checklist(validate=validate.Length(max=f.most), **o),
    declared.TEXT: lambda f: lambda **o: ma.fields.String(validate=validate.Length(max=f.most), **o),
    declared.PHOTOS: lambda f: lambda **o: ma.fields.List(ma.fields.Nested(PhotoSchema),
                                                          validate=validate.Length(max=f.most), **o),
}
# ... and as the server writes it back.
_OUTPUT = {
    declared.UUID: ma.fields.UUID, declared.INSTANT: Instant, declared.POINT: GeoJSONPoint,
    declared.NUMBER: ma.fields.Float, declared.COUNT: ma.fields.Integer, declared.CHOICE: ma.fields.String,
    declared.CHECKLIST: ma.fields.Dict, declared.TEXT: ma.fields.String,
    declared.PHOTOS: lambda **o: ma.fields.List(ma.fields.Dict(), **o),
}


def _input_field(f: declared.Field) -> ma.fields.Field:
    if f.required:
        presence = {"required": True}
    elif f.nullable:
        presence = {"allow_none": True, "load_default": None}
    else:
        presence = {"load_default": declared.EMPTY[f.kind]}
    return _INPUT[f.kind](f)(**presence, **_described(f))


def _output_field(f: declared.Field) -> ma.fields.Field:
    return _OUTPUT[f.kind](**({"allow_none": True} if f.nullable else {}), **_described(f))


def _described(f: declared.Field) -> dict:
    return {"metadata": {"description": f.description}} if f.description else {}


# The report's id is the op's `id`; data may repeat it (equal is accepted, different is a
# rejected op: sync.push._load).
ReportCreateSchema = InputSchema.from_dict(
    {"id": ma.fields.UUID(metadata={"description": "Optional: the op's id again"}),
     **{f.name: _input_field(f) for f in FIELDS}},
    name="ReportCreateSchema")


class ReportUpdateSchema(ReportCreateSchema):
    """The fields a client changed; any subset of the create fields."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


def load_plain_creates(raws: list) -> list[tuple[dict, dict] | None]:
    """For each raw op, `(OpSchema().load(raw), ReportCreateSchema().load(raw["data"]))` if
    it is the op a phone sends most, the create of a report in plain JSON shapes; else None.

    marshmallow costs some 0.4 ms to load one such op, more than landing it. This reads only
    what is plainly valid (ids and instants as strings, numbers as JSON numbers within their
    ranges, a Point with two coordinates, known keys only) and gives what the schemas give;
    everything else, valid or not, is left to the schemas, which alone word the errors.
    tests/unit/test_plain_create.py holds the two equal on valid and invalid ops alike."""
    loaded: list[tuple[dict, dict] | None] = []
    for raw in raws:
        try:
            loaded.append(_plain_create(raw))
        except _NotPlain:
            loaded.append(None)
    # The Points are made in one vectorised call: one at a time, shapely takes longer than
    # all the rest of the load.
    for name in _POINT_FIELDS:
        located = [data for _, data in filter(None, loaded) if data[name] is not None]
        for data, made in zip(located, points([data[name] for data in located])):
            data[name] = made
    return loaded


class _NotPlain(Exception):
    """Not in the plain shapes: for the schemas to load (or to say what is wrong)."""


_POINT_FIELDS = [f.name for f in FIELDS if f.kind == declared.POINT]
_OP_KEYS = frozenset(OpSchema._declared_fields)
_CREATE_KEYS = frozenset(ReportCreateSchema._declared_fields)
_PHOTO_KEYS = frozenset(PhotoSchema._declared_fields)


def _plain_create(raw) -> tuple[dict, dict]:
    if (type(raw) is not dict or not raw.keys() <= _OP_KEYS or raw.get("entity") != "reports"
            or raw.get("action") != "create" or raw.get("base_version") is not None
            or type(raw.get("data")) is not dict):
        raise _NotPlain
    op = {"op_id": _plain_uuid(raw.get("op_id")), "entity": "reports", "action": "create",
          "id": _plain_uuid(raw.get("id")), "base_version": None, "changed_at": _plain_instant(raw.get("changed_at")),
          "data": dict(raw["data"])}
    return op, _plain_report(raw["data"])


def _plain_report(data: dict) -> dict:
    if not data.keys() <= _CREATE_KEYS:
        raise _NotPlain
    given_id = {"id": _plain_uuid(data["id"])} if "id" in data else {}
    return given_id | _plain_fields(data)  # the location made a Point later, all at once


def _compile_plain_fields():
    """`_plain_fields(data)`: every declared field of `data` read by its kind's plain reader,
    as one dict display written from FIELDS (as dataclasses writes an __init__): the fast
    path reads every field of every create, and a loop of calls per field cost a 500-report
    push some 3 % (bench/sync_bench.py, interleaved with the code before). A field left out
    reads as its kind's empty value; a nullable one's null stays null."""
    readers, parts = {}, []
    for i, f in enumerate(FIELDS):
        readers[f"read{i}"] = _PLAIN[f.kind](f)
        if f.nullable:
            parts.append(f"{f.name!r}: None if (v{i} := data.get({f.name!r})) is None else read{i}(v{i})")
        elif f.required:
            parts.append(f"{f.name!r}: read{i}(data.get({f.name!r}))")
        else:
            readers[f"empty{i}"] = declared.EMPTY[f.kind]
            parts.append(f"{f.name!r}: read{i}(data[{f.name!r}] if {f.name!r} in data else empty{i}())")
    source = "def _plain_fields(data):\n    return {" + ", ".join(parts) + "}\n"
    exec(source, readers)  # noqa: S102  (source made above from the declaration, nothing from input)
    return readers["_plain_fields"]


def _or_none(read, value):
    return None if value is None else read(value)


def _plain_uuid(value) -> uuid.UUID:
    if type(value) is not str:
        raise _NotPlain
    try:
        return TextUuid.of(value)
    except ValueError:
        raise _NotPlain from None


def _plain_instant(value) -> datetime:
    if type(value) is not str:
        raise _NotPlain
    try:
        return read_instant(value)
    except InstantError:
        raise _NotPlain from None


def _plain_lon_lat(value) -> tuple[float, float]:
    lon_lat = plain_point(value)
    if lon_lat is None:
        raise _NotPlain
    return lon_lat


def _plain_number(value, low, high) -> float:
    if type(value) not in (int, float) or not low <= value <= high:
        raise _NotPlain
    return float(value)


def _plain_count(value, low, high) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _NotPlain
    return value


def _plain_choice(value, choices) -> str:
    if type(value) is not str or value not in choices:
        raise _NotPlain
    return value


def _plain_text(value, longest: int) -> str:
    if type(value) is not str or len(value) > longest or unstorable(value):
        raise _NotPlain
    return value


def _plain_checklist(value, longest: int) -> dict:
    if type(value) is not dict or len(value) > longest:
        raise _NotPlain
    for key, answer in value.items():
        if type(key) is not str or not 1 <= len(key) <= CHECKLIST_ITEM_MAX or unstorable(key):
            raise _NotPlain
        if not (answer is None or answer is True or answer is False):  # not 0 or 1
            raise _NotPlain
    return dict(value)


def _plain_photos(value, longest: int) -> list:
    if type(value) is not list or len(value) > longest:
        raise _NotPlain
    out = []
    for photo in value:
        if type(photo) is not dict or not photo.keys() <= _PHOTO_KEYS:
            raise _NotPlain
        sha = photo.get("sha256")
        if type(sha) is not str or not SHA256.regex.fullmatch(sha):
            raise _NotPlain
        out.append({"sha256": sha, "taken_at": _or_none(_plain_instant, photo.get("taken_at")),
                    "caption": _plain_text(photo.get("caption", ""), CAPTION_MAX)})
    return out


_PLAIN = {
    declared.UUID: lambda f: _plain_uuid,
    declared.INSTANT: lambda f: _plain_instant,
    declared.POINT: lambda f: _plain_lon_lat,  # made a Point by load_plain_creates, all at once
    declared.NUMBER: lambda f: partial(_plain_number, low=f.range[0], high=f.range[1]),
    declared.COUNT: lambda f: partial(_plain_count, low=f.range[0], high=f.range[1]),
    declared.CHOICE: lambda f: partial(_plain_choice, choices=f.choices),
    declared.CHECKLIST: lambda f: partial(_plain_checklist, longest=f.most),
    declared.TEXT: lambda f: partial(_plain_text, longest=f.most),
    declared.PHOTOS: lambda f: partial(_plain_photos, longest=f.most),
}
_plain_fields = _compile_plain_fields()


class OfficeCorrectionSchema(InputSchema):
    office_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["moved", "phone", "closed_permanently"]))
    location = GeoJSONPoint(allow_none=True, load_default=None)
    phone = ma.fields.String(allow_none=True, load_default=None,
                             validate=WholeMatch(r"^[0-9+()\- ]{3,40}$", error="Digits, spaces, +, - and ()."))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))

    @ma.validates_schema
    def _needs(self, data, **kwargs):
        if data.get("kind") == "moved" and data.get("location") is None:
            raise ma.ValidationError("A move needs the new location.", "location")
        if data.get("kind") == "phone" and not data.get("phone"):
            raise ma.ValidationError("Give the new phone number.", "phone")


# The server-owned fields of a report, as pulls, push results and the API show them.
_SERVER_FIELDS = {
    "version": ma.fields.Integer(),
    "received_at": Instant(),
    "evidence_time": Instant(),
    "evidence_time_source": ma.fields.String(),
    "clock_skew_s": ma.fields.Float(),
    "distance_to_office_m": ma.fields.Float(allow_none=True),
    "locked": ma.fields.Boolean(),
    "flags": ma.fields.List(ma.fields.String()),
    "violation_id": ma.fields.UUID(allow_none=True),
    "amendments": ma.fields.List(ma.fields.Dict()),
    "photos_pending": ma.fields.List(ma.fields.String(), metadata={"description": "sha256s not yet uploaded"}),
}


class _ReportSchema(ma.Schema):
    @ma.pre_dump
    def _unpack(self, item, **kwargs):
        report, pending = item
        out = {name: getattr(report, name) for name in self.fields if name != "photos_pending"}
        out["photos_pending"] = sorted(pending)
        return out


ReportSchema = _ReportSchema.from_dict(
    {"id": ma.fields.UUID(), **{f.name: _output_field(f) for f in FIELDS}, **_SERVER_FIELDS}, name="ReportSchema")
ReportSchema.__doc__ = "A report with its server-owned fields, as pulls, push results and the API show it."


def write_report(report, pending) -> dict:
    """`ReportSchema().dump((report, pending))`, written out field by field, in the same
    order and with the same conversions.

    A push answers with every report it landed, and a pull sends thousands: marshmallow's
    per-field machinery costs some 0.2 ms a report, more than inserting it. ReportSchema
    stays the documented wire form; tests/unit/test_wire_writers.py holds the two equal on
    varied reports (a new server field in the schema fails it until it is written here too;
    a client field is written by its kind)."""
    # One dict, filled key by key: a pull writes thousands, and a second dict per report
    # merged in costs its allocation and, in a process holding many objects, the garbage
    # collector's passes over them (the first pull measured 1.2x slower that way).
    out = {"id": _text(report.id)}
    for name, write, value in zip(_CLIENT_NAMES, _CLIENT_WRITES, _client_values(report)):
        out[name] = write(value)
    out["version"] = _int(report.version)
    out["received_at"] = write_instant(report.received_at)
    out["evidence_time"] = write_instant(report.evidence_time)
    out["evidence_time_source"] = _text(report.evidence_time_source)
    out["clock_skew_s"] = _float(report.clock_skew_s)
    out["distance_to_office_m"] = _float(report.distance_to_office_m)
    out["locked"] = report.locked
    out["flags"] = None if report.flags is None else [_text(f) for f in report.flags]
    out["violation_id"] = _text(report.violation_id)
    out["amendments"] = _dicts(report.amendments)
    out["photos_pending"] = sorted(pending)
    return out


# The columns write_report reads: a read for the wire asks for these and no others.
REPORT_WIRE_COLUMNS = ("id", *(f.name for f in FIELDS),
                       *(name for name in _SERVER_FIELDS if name != "photos_pending"))


# marshmallow's conversions on dump: String and UUID write str(), Float float(), Integer
# int(), Dict a shallow copy, Boolean the value as it is; None stays None.
def _text(value):
    return None if value is None else str(value)


def _float(value):
    return None if value is None else float(value)


def _int(value):
    return None if value is None else int(value)


def _dict(value):
    return None if value is None else dict(value)


def _dicts(value):
    return None if value is None else [_dict(item) for item in value]


_WRITE = {declared.UUID: _text, declared.INSTANT: write_instant, declared.POINT: to_geojson,
          declared.NUMBER: _float, declared.COUNT: _int, declared.CHOICE: _text, declared.CHECKLIST: _dict,
          declared.TEXT: _text, declared.PHOTOS: _dicts}
_CLIENT_NAMES = [f.name for f in FIELDS]
_CLIENT_WRITES = [_WRITE[f.kind] for f in FIELDS]
_client_values = attrgetter(*_CLIENT_NAMES)  # all of a report's client fields in one call


class ConflictSchema(ma.Schema):
    field = ma.fields.String()
    base = ma.fields.Raw(allow_none=True)
    server = ma.fields.Raw(allow_none=True)
    client = ma.fields.Raw(allow_none=True)
    resolved = ma.fields.Raw(allow_none=True)
    policy = ma.fields.String()


class _Record(ma.fields.Dict):
    """A report's record: a dict, or the JSON the push stored as it landed (an orjson.Fragment),
    which is sent as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, orjson.Fragment) else super()._serialize(value, attr, obj, **kwargs)


class OpResultSchema(ma.Schema):
    op_id = ma.fields.Raw()
    status = ma.fields.String(metadata={"description": "applied, merged, duplicate or rejected"})
    id = ma.fields.UUID()
    version = ma.fields.Integer()
    op_version = ma.fields.Integer(metadata={"description": "On a duplicate: the version this op made when it "
                                                            "landed (`version` is the report's now)"})
    record = _Record()
    conflicts = ma.fields.List(ma.fields.Nested(ConflictSchema))
    missing_attachments = ma.fields.List(ma.fields.String())
    flags = ma.fields.List(ma.fields.String())
    reason = ma.fields.String(metadata={"description": "Why the op did not do what it asked (a delete refused)"})
    errors = ma.fields.Dict()


class PushResponseSchema(ma.Schema):
    protocol = ma.fields.Integer()
    server_time = Instant()
    clock_skew_s = ma.fields.Float()
    results = ma.fields.List(ma.fields.Nested(OpResultSchema))


def write_push_response(answer: dict) -> dict:
    """`PushResponseSchema().dump(answer)`, written out: marshmallow's nested dumps cost
    more than the rest of answering a push of 500 reports. The same keys, order and
    conversions (unknown keys dropped, absent ones left out); tests/unit/test_wire_writers.py
    holds the two equal on every kind of result."""
    return {"protocol": _int(answer["protocol"]), "server_time": write_instant(answer["server_time"]),
            "clock_skew_s": _float(answer["clock_skew_s"]),
            "results": [_written(result, _RESULT_WRITERS) for result in answer["results"]]}


def write_pull_response(answer: dict) -> dict:
    """`PullResponseSchema().dump(answer)`, written out: a page of 2,000 records went through
    marshmallow's List and Dict fields record by record. The records are written already
    (write_report and the other entities' schemas); tests/unit/test_wire_writers.py holds the
    two equal."""
    return {"protocol": _int(answer["protocol"]), "cursor": _text(answer["cursor"]), "has_more": answer["has_more"],
            "reset": answer["reset"], "server_time": write_instant(answer["server_time"]),
            "changes": {_text(entity): {"upserted": change["upserted"], "deleted": change["deleted"]}
                        for entity, change in answer["changes"].items()}}


def _written(item: dict, writers: tuple) -> dict:
    return {key: write(item[key]) for key, write in writers if key in item}


def _list_of(write):
    return lambda values: None if values is None else [write(value) for value in values]


def _as_is(value):
    return value


def _record(value):
    # A record the push stored as it landed comes as JSON already written (orjson.Fragment).
    return value if isinstance(value, orjson.Fragment) else _dict(value)


_CONFLICT_WRITERS = (("field", _text), ("base", _as_is), ("server", _as_is), ("client", _as_is),
                     ("resolved", _as_is), ("policy", _text))
_RESULT_WRITERS = (("op_id", _as_is), ("status", _text), ("id", _text), ("version", _int), ("op_version", _int),
                   ("record", _record),
                   ("conflicts", _list_of(lambda c: None if c is None else _written(c, _CONFLICT_WRITERS))),
                   ("missing_attachments", _list_of(_text)), ("flags", _list_of(_text)), ("reason", _text),
                   ("errors", _dict))


class QuarantineSchema(ma.Schema):
    id = ma.fields.Integer()
    op_id = ma.fields.String()
    user_id = ma.fields.Integer()
    device_id = ma.fields.UUID(allow_none=True)
    entity = ma.fields.String(allow_none=True)
    action = ma.fields.String(allow_none=True)
    payload = ma.fields.Raw(metadata={"description": "The op as it was sent. In a list, null when its JSON is over "
                                                     "65,536 characters: read it alone, `GET /sync/quarantine/{id}`"})
    payload_length = ma.fields.Integer(metadata={"description": "Characters of the payload's JSON as stored"})
    errors = ma.fields.Dict()
    received_at = Instant()
