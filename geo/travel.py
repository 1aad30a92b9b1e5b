"""Travel between points: the metres and seconds a route is planned with.

A `TravelModel` turns (lon, lat) points into a `TravelMatrix`. Today that is
`StraightLineTravel` (the WGS 84 geodesic stretched by a detour factor, driven at an
urban speed); `OsrmTableTravel` asks an OSRM road router instead, so a road network can
replace the straight lines without the solver noticing.
"""

import json
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from geo import distance


@dataclass(frozen=True)
class TravelMatrix:
    """Row i, column j: from point i to point j, whole metres and whole seconds (int64, n×n)."""

    metres: np.ndarray
    seconds: np.ndarray


class TravelModel(Protocol):
    def matrix(self, lonlat: Sequence[tuple[float, float]]) -> TravelMatrix: ...


class StraightLineTravel:
    """Ellipsoidal distance × `detour` (streets are not straight: 1.35 is a common urban
    ratio of road to crow-fly distance), driven at `speed_kmh` (20 km/h: Tehran's daytime
    traffic, parking included)."""

    def __init__(self, detour: float = 1.35, speed_kmh: float = 20.0):
        if detour < 1 or speed_kmh <= 0:
            raise ValueError("detour must be at least 1 and speed_kmh positive")
        self.detour = detour
        self.speed_kmh = speed_kmh

    def matrix(self, lonlat: Sequence[tuple[float, float]]) -> TravelMatrix:
        points = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        # One vectorised Geod.inv over all n² pairs (geo.distance.matrix), never a pair loop.
        road_m = distance.matrix(points[:, 0], points[:, 1]) * self.detour
        seconds = road_m / (self.speed_kmh / 3.6)
        return TravelMatrix(np.rint(road_m).astype(np.int64), np.rint(seconds).astype(np.int64))


class OsrmError(RuntimeError):
    """The router answered with an error or without a route between two points."""


class OsrmTableTravel:
    """An OSRM `table` service (`osrm-routed`), e.g. `OsrmTableTravel("http://127.0.0.1:5000")`."""

    def __init__(self, base_url: str, profile: str = "driving", timeout_s: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout_s = timeout_s

    def matrix(self, lonlat: Sequence[tuple[float, float]]) -> TravelMatrix:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in lonlat)
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}?annotations=duration,distance"
        with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
            body = json.load(response)
        if body.get("code") != "Ok":
            raise OsrmError(f"OSRM table: {body.get('code')}: {body.get('message', '')}")
        return TravelMatrix(_whole(body["distances"], "distance"), _whole(body["durations"], "duration"))


def _whole(rows, what: str) -> np.ndarray:
    # OSRM writes null where it found no route (e.g. a point snapped to an island of the
    # road graph); a plan cannot be made through that, so say so rather than guess.
    if any(v is None for row in rows for v in row):
        raise OsrmError(f"OSRM table: no route for some pairs ({what} is null)")
    values = np.asarray(rows, dtype=float)
    if not np.all(np.isfinite(values)) or values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise OsrmError(f"OSRM table: malformed {what} matrix")
    return np.rint(values).astype(np.int64)

