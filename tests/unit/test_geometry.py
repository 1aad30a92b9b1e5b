"""Points written for the database read back exactly, without parsing what was written."""

from geoalchemy2.elements import WKTElement
from hypothesis import given
from hypothesis import strategies as st

from geo.geometry import lon_lat, point, to_db, to_geojson


@given(st.floats(-180, 180), st.floats(-90, 90))
def test_a_point_written_for_the_database_reads_back_as_its_wkt_says(lon, lat):
    written = to_db(point(lon, lat))
    parsed = to_geojson(WKTElement(written.data, srid=written.srid))  # the WKT, read the long way
    assert to_geojson(written) == parsed == {"type": "Point", "coordinates": [lon, lat]}
    assert lon_lat(written) == (lon, lat)
