"""Distances on the WGS 84 ellipsoid, vectorised with pyproj's GeographicLib binding."""

import numpy as np
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    """Geodesic distance in metres; scalars or arrays of equal shape (broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, dist = WGS84.inv(lon1, lat1, lon2, lat2)
    return dist if np.ndim(dist) else float(dist)


def matrix(lons, lats):
    """The n×n matrix of geodesic metres between n points, built in one vectorised call."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    n = len(lons)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    _, _, dist = WGS84.inv(lons[i].ravel(), lats[i].ravel(), lons[j].ravel(), lats[j].ravel())
    return dist.reshape(n, n)
