"""The coverage map as a picture: a real PNG of the right size that shows the district, its
offices' marks, and a ring round an office suspected of closure, named in the legend."""

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

from PIL import Image
from shapely.geometry import MultiPolygon, Point, box

from geo.coverage_map import MARK_COLOURS, SUSPECTED_COLOUR, Texts, coverage_colour, draw_png
from tests.coverage import suspicion
from tests.support import assert_problem
from tests.violations.test_scenarios import at, report

FONTS = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "vazirmatn"


def picture(response) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    return Image.open(io.BytesIO(response.data)).convert("RGB")


def share(image: Image.Image, hex_colour: str) -> float:
    """The share of the picture's pixels in exactly this colour."""
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    counts = {colour: n for n, colour in image.getcolors(maxcolors=1 << 20)}
    return counts.get(rgb, 0) / (image.width * image.height)


def test_a_district_heads_picture_shows_the_district_and_its_offices(client):
    offices = client.as_("head-6").get("/api/v1/offices?district=6&page_size=50").get_json()
    report(client, offices[0], at("1405-02-06", "10:00"), state="closed")  # a case
    report(client, offices[1], at("1405-02-10", "09:00"), state="open")
    response = client.as_("head-6").get("/api/v1/coverage.png?from=1405-02-01&to=1405-02-31")
    image = picture(response)
    assert image.size == (1200, 960)
    assert 'filename="coverage-tehran-1405-02-01-1405-02-31.png"' in response.headers["Content-Disposition"]
    assert len(image.getcolors(maxcolors=1 << 20)) > 50  # not blank: text, shapes, antialiasing
    pct = 100 * 2 / len(offices)
    assert share(image, coverage_colour(pct)) > 0.05  # the district, filled by its coverage class
    for mark in ("case_open", "open", "not_visited"):
        assert share(image, MARK_COLOURS[mark]) > 0, mark


def test_a_suspected_office_is_ringed_and_the_legend_names_the_ring(client):
    url = "/api/v1/coverage.png?from=1405-01-01&to=1405-01-31"
    before = picture(client.as_("head-6").get(url))
    four = client.as_("head-6").get("/api/v1/offices?district=6&page_size=4").get_json()
    suspicion.post_activity(client.as_(suspicion.FEED).post, [o["code"] for o in four], four[0]["code"])
    after = picture(client.as_("head-6").get(url))
    # The legend's ring is drawn whatever the period holds (with its count); the map's ring
    # round the office only with a suspicion, in the map's part of the picture (right of the legend).
    legend, map_part = (0, 0, 380, 960), (380, 150, 1200, 960)
    assert share(before.crop(legend), SUSPECTED_COLOUR) > 0
    assert share(before.crop(map_part), SUSPECTED_COLOUR) == 0
    assert share(after.crop(map_part), SUSPECTED_COLOUR) > 0
    assert before.crop(legend).tobytes() != after.crop(legend).tobytes()  # its count: ۰, then ۱


def test_the_committee_gets_the_whole_city_and_others_are_refused(client):
    image = picture(client.as_("committee1").get("/api/v1/coverage.png?from=1405-02-01&to=1405-02-31"))
    assert image.size == (1200, 960) and share(image, coverage_colour(0)) > 0.10
    assert_problem(client.as_("head-6").get("/api/v1/coverage.png?district=7"), 403)
    assert_problem(client.as_("inspector-6a").get("/api/v1/coverage.png"), 403)


def test_pictures_drawn_at_once_on_several_threads_do_not_mix():
    # Each picture has its own Figure and canvas (no pyplot state), so threads cannot collide.
    def draw(n: int) -> bytes:
        district = SimpleNamespace(number=n, name_fa=f"منطقه {n}", geometry=MultiPolygon([box(51.3, 35.6, 51.4 + n / 100, 35.7)]),
                                   coverage_pct=20.0 * n)
        offices = [SimpleNamespace(code=f"TEH-{n}-{i}", location=Point(51.31 + i / 100, 35.65), mark="open",
                                   signal=None) for i in range(n)]
        return draw_png([district], offices, Texts(f"پوشش {n}", "از ۱ تا ۲", "دفاتر", "بازرس"), FONTS)

    serial = [draw(n) for n in range(1, 5)]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(draw, list(range(1, 5)) * 2))
    assert concurrent == serial * 2
