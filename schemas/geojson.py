"""GeoJSON FeatureCollections built from already-dumped wire objects."""

import marshmallow as ma


def feature_collection(items: list[dict], geometry: str, id_field: str) -> dict:
    """Move each object's geometry field out of its properties into a Feature."""
    features = []
    for item in items:
        properties = dict(item)
        features.append({"type": "Feature", "id": properties.get(id_field),
                         "geometry": properties.pop(geometry, None), "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def properties_schema(name: str, schema: type[ma.Schema], geometry: str) -> type[ma.Schema]:
    """The fields of `schema` but its geometry: what `feature_collection` leaves in a Feature's properties."""
    return ma.Schema.from_dict({
        field_name: field for field_name, field in schema._declared_fields.items() if field_name != geometry
    }, name=f"{name}Properties")


def feature_collection_schema(name: str, properties: type[ma.Schema]) -> type[ma.Schema]:
    """A schema that documents a FeatureCollection of `properties` (documentation only)."""

    feature = ma.Schema.from_dict({
        "type": ma.fields.Constant("Feature"),
        "id": ma.fields.Raw(),
        "geometry": ma.fields.Dict(metadata={"description": "A GeoJSON geometry"}),
        "properties": ma.fields.Nested(properties),
    }, name=f"{name}Feature")
    return ma.Schema.from_dict({
        "type": ma.fields.Constant("FeatureCollection"),
        "features": ma.fields.List(ma.fields.Nested(feature)),
    }, name=f"{name}FeatureCollection")
