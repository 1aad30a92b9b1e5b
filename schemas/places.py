"""Wire forms of districts and offices (DESIGN §5.7), and the queries on them."""

import marshmallow as ma
from marshmallow import validate

from schemas.fields import GeoJSONGeometry, GeoJSONPoint, LatLon, WholeMatch
from schemas.normalize import ascii_digits
from schemas.geojson import feature_collection_schema, properties_schema
from schemas.input import InputSchema

OFFICE_STATUSES = ("active", "suspended", "closed_permanently")


class OfficeSchema(ma.Schema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()
    district = ma.fields.Integer(metadata={"description": "District number 1–22, by point-in-polygon"})
    category = ma.fields.String()
    location = GeoJSONPoint(metadata={"description": "GeoJSON Point, [longitude, latitude]"})
    address = ma.fields.String()
    phone = ma.fields.String()
    status = ma.fields.String(validate=validate.OneOf(OFFICE_STATUSES))
    version = ma.fields.Integer()


class OfficeHitSchema(OfficeSchema):
    """An office in a list; with its distance when the list was asked `near` a point."""

    distance_m = ma.fields.Float(allow_none=True, metadata={"description": "Ellipsoidal metres from `near`"})

    @ma.pre_dump
    def _unpack(self, hit, **kwargs):
        office, distance = hit
        item = {name: getattr(office, name) for name in OfficeSchema._declared_fields}
        if distance is not None:
            item["distance_m"] = round(distance, 1)
        return item


class OfficeQuerySchema(InputSchema):
    district = ma.fields.Integer(validate=validate.Range(1, 22))
    near = LatLon(metadata={"description": "`lat,lon`: list nearest first, with `distance_m`"})
    within_m = ma.fields.Float(validate=validate.Range(min=1, max=100_000),
                               metadata={"description": "With `near`: only offices within this many metres"})
    format = ma.fields.String(validate=validate.OneOf(["json", "geojson"]),
                              metadata={"description": "`geojson` for a FeatureCollection (or send "
                                                       "`Accept: application/geo+json`)"})

    @ma.validates_schema
    def _within_needs_near(self, data, **kwargs):
        if "within_m" in data and "near" not in data:
            raise ma.ValidationError("Give `near` with `within_m`.", "within_m")


class DistrictSchema(ma.Schema):
    number = ma.fields.Integer()
    name_fa = ma.fields.String()
    name_en = ma.fields.String()
    geometry = GeoJSONGeometry(metadata={"description": "GeoJSON MultiPolygon"})
    version = ma.fields.Integer()


class DistrictSummarySchema(DistrictSchema):
    office_count = ma.fields.Integer()

    @ma.pre_dump
    def _unpack(self, row, **kwargs):
        district, office_count = row
        item = {name: getattr(district, name) for name in DistrictSchema._declared_fields}
        item["office_count"] = office_count
        return item


DistrictCollectionSchema = feature_collection_schema(
    "District", properties_schema("District", DistrictSummarySchema, geometry="geometry"))
OfficeCollectionSchema = feature_collection_schema(
    "Office", properties_schema("Office", OfficeHitSchema, geometry="location"))


class OfficeImportRowSchema(ma.Schema):
    """One office in an import file (a CSV row, or a GeoJSON feature's properties + point).

    Columns other than these (a `district` label, notes) are ignored: the district is
    decided by where the office is.
    """

    class Meta:
        unknown = ma.EXCLUDE

    code = ma.fields.String(required=True, validate=WholeMatch(
        r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", error="Use 1–32 letters, digits, - or _."))
    name = ma.fields.String(required=True, validate=validate.Length(1, 200))
    category = ma.fields.String(required=True, validate=WholeMatch(
        r"^[a-z][a-z0-9_]{0,39}$", error="Use a lower-case identifier such as standard or permit_hub."))
    latitude = ma.fields.Float(required=True, validate=validate.Range(-90, 90))
    longitude = ma.fields.Float(required=True, validate=validate.Range(-180, 180))
    address = ma.fields.String(load_default="", validate=validate.Length(max=400))
    phone = ma.fields.String(load_default="", validate=WholeMatch(
        r"^[0-9+()\- ]{0,40}$", error="Use digits, spaces, +, - and parentheses only."))
    status = ma.fields.String(load_default="active", validate=validate.OneOf(OFFICE_STATUSES))

    @ma.pre_load
    def _normalise(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if key in ("latitude", "longitude", "phone"):
                    value = ascii_digits(value)
                if value == "" and key in ("address", "phone", "status"):
                    continue
            out[key] = value
        return out
