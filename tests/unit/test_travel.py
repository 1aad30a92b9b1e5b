"""The travel model: straight lines on the ellipsoid, and the OSRM table adapter against a fake router."""

import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from pyproj import Geod

from geo.travel import OsrmError, OsrmTableTravel, StraightLineTravel, TravelMatrix

WGS84 = Geod(ellps="WGS84")


def tehran_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(51.2, 51.6), rng.uniform(35.55, 35.8)) for _ in range(n)]


def test_straight_line_metres_are_the_geodesic_times_the_detour():
    points = tehran_points(12)
    travel = StraightLineTravel(detour=1.35)
    m = travel.matrix(points)
    assert m.metres.dtype == np.int64 and m.metres.shape == (12, 12)
    for i, (lon1, lat1) in enumerate(points):
        for j, (lon2, lat2) in enumerate(points):
            _, _, geodesic = WGS84.inv(lon1, lat1, lon2, lat2)
            assert abs(m.metres[i, j] - geodesic * 1.35) <= 1


def test_seconds_are_the_detoured_metres_at_the_urban_speed():
    points = tehran_points(6)
    default = StraightLineTravel().matrix(points)
    # 20 km/h is 5.556 m/s: seconds = metres / 5.556, to the second (rounding both sides).
    assert np.all(np.abs(default.seconds - default.metres / (20 / 3.6)) <= 1)
    fast = StraightLineTravel(speed_kmh=36).matrix(points)  # 10 m/s
    assert np.all(np.abs(fast.seconds - fast.metres / 10) <= 1)
    assert np.array_equal(fast.metres, default.metres)


def test_a_known_distance_comes_out_in_metres_and_seconds():
    # Azadi Tower to Milad Tower: about 4.9 km as the crow flies (pyproj says so too).
    a, b = (51.3380, 35.6997), (51.3752, 35.7448)
    _, _, crow = WGS84.inv(*a, *b)
    m = StraightLineTravel(detour=1.0, speed_kmh=36).matrix([a, b])
    assert 4_500 < m.metres[0, 1] < 6_500
    assert m.metres[0, 1] == round(crow) and m.seconds[0, 1] == round(crow / 10)


def test_the_diagonal_is_zero_and_the_matrix_symmetric():
    m = StraightLineTravel().matrix(tehran_points(9))
    assert np.all(np.diag(m.metres) == 0) and np.all(np.diag(m.seconds) == 0)
    assert np.array_equal(m.metres, m.metres.T) and np.all(m.metres[~np.eye(9, dtype=bool)] > 0)


def test_no_points_make_an_empty_matrix_and_one_point_a_zero():
    assert StraightLineTravel().matrix([]).metres.shape == (0, 0)
    one = StraightLineTravel().matrix([(51.4, 35.7)])
    assert one.metres.tolist() == [[0]] and one.seconds.tolist() == [[0]]


def test_a_detour_below_one_or_a_speed_of_zero_is_refused():
    with pytest.raises(ValueError):
        StraightLineTravel(detour=0.9)
    with pytest.raises(ValueError):
        StraightLineTravel(speed_kmh=0)


class FakeOsrm:
    """A local OSRM `table` service that answers whatever the test sets and records requests."""

    def __init__(self):
        self.answer: dict = {}
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.paths.append(self.path)
                body = json.dumps(fake.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def osrm():
    with FakeOsrm() as fake:
        yield fake


def test_the_osrm_adapter_asks_for_lon_lat_pairs_and_both_annotations(osrm):
    osrm.answer = {"code": "Ok", "durations": [[0, 61.4, 122.6], [60.5, 0, 70.2], [121.9, 69.8, 0]],
                   "distances": [[0, 501.2, 1003.7], [499.6, 0, 650.4], [1001.1, 649.5, 0]]}
    points = [(51.41, 35.70), (51.42, 35.71), (51.43, 35.72)]
    m = OsrmTableTravel(osrm.url).matrix(points)
    (path,) = osrm.paths
    parts = urlsplit(path)
    assert unquote(parts.path) == "/table/v1/driving/51.410000,35.700000;51.420000,35.710000;51.430000,35.720000"
    assert parts.query == "annotations=duration,distance"
    assert isinstance(m, TravelMatrix)
    assert m.metres.tolist() == [[0, 501, 1004], [500, 0, 650], [1001, 650, 0]]
    assert m.seconds.tolist() == [[0, 61, 123], [60, 0, 70], [122, 70, 0]]  # half to even at 60.5
    assert m.metres.dtype == np.int64 and m.seconds.dtype == np.int64


def test_an_osrm_error_code_is_raised(osrm):
    osrm.answer = {"code": "InvalidQuery", "message": "Query string malformed close to position 42"}
    with pytest.raises(OsrmError, match="InvalidQuery"):
        OsrmTableTravel(osrm.url).matrix([(51.4, 35.7), (51.5, 35.8)])


def test_a_pair_osrm_cannot_route_is_raised_not_guessed(osrm):
    osrm.answer = {"code": "Ok", "durations": [[0, None], [10, 0]], "distances": [[0, None], [80, 0]]}
    with pytest.raises(OsrmError, match="no route"):
        OsrmTableTravel(osrm.url).matrix([(51.4, 35.7), (51.5, 35.8)])
