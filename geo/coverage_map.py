"""A coverage map drawn as a picture (PNG): district polygons shaded by coverage, offices
coloured by what their last visit found, ringed when systemic monitoring suspects them of
closure, with a Persian title, period and legend.

Drawn on a matplotlib `Figure` of its own with the Agg canvas, never through pyplot's
global state, so that concurrent requests cannot draw on each other's figures. Matplotlib
3.11 shapes Persian text itself (joining forms, right-to-left runs), so strings go in as
they are written; the font must have Arabic-script glyphs (Vazirmatn is vendored).
"""

import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Polygon

from geo.geometry import lon_lat, to_shapely

# The same colours as the map page (app/static/js/map.js): coverage classes from light to
# dark blue (ColorBrewer "Blues"), so that the office colours stand out on every class.
COVERAGE_CLASSES = ((20, "#eff3ff"), (40, "#bdd7e7"), (60, "#6baed6"), (80, "#3182bd"), (math.inf, "#08519c"))
NO_OFFICES = "#e0e0e0"
MARK_COLOURS = {"case_open": "#7b1fa2", "closed": "#d32f2f", "open": "#2e7d32", "other": "#f57c00",
                "not_visited": "#9e9e9e"}
MARK_LABELS = {"case_open": "پرونده باز", "closed": "بسته یافت شد", "open": "باز یافت شد",
               "other": "جابه‌جا / غیرقابل دسترس", "not_visited": "بازدید نشده"}
# A suspicion of closure (DESIGN §10b) is a ring around the office's mark, not a mark of its
# own: what visits found stays readable under it. Yellow is in no other mark nor coverage
# class, and its dark edge keeps it visible on the lightest and darkest districts alike.
SUSPECTED_COLOUR, SUSPECTED_EDGE = "#ffd600", "#212121"
SUSPECTED_LABEL = "مشکوک به تعطیلی (نظارت سیستمی)"
FA_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")


@dataclass(frozen=True)
class Texts:
    title: str
    period: str
    summary: str
    footer: str


def fa(value) -> str:
    """A number (or any text) with Persian digits."""
    return str(value).translate(FA_DIGITS)


def coverage_colour(pct: float | None) -> str:
    if pct is None:
        return NO_OFFICES
    return next(colour for upper, colour in COVERAGE_CLASSES if pct < upper)


def _class_label(index: int) -> str:
    lower = 0 if index == 0 else COVERAGE_CLASSES[index - 1][0]
    upper = COVERAGE_CLASSES[index][0]
    return f"پوشش {fa(lower)}–{fa(100)}٪" if math.isinf(upper) else f"پوشش {fa(lower)} تا کمتر از {fa(upper)}٪"


def _dot(colour: str, size: float = 8, edge: str = "white") -> Line2D:
    """A legend's round swatch."""
    return Line2D([], [], linestyle="", marker="o", markersize=size, markerfacecolor=colour, markeredgecolor=edge)


def _path(geometry) -> MplPath:
    """A (Multi)Polygon as one matplotlib path, holes included."""
    shape = to_shapely(geometry)
    polygons = shape.geoms if isinstance(shape, MultiPolygon) else [shape] if isinstance(shape, Polygon) else []
    rings = [ring for polygon in polygons for ring in (polygon.exterior, *polygon.interiors)]
    return MplPath.make_compound_path(*[MplPath(list(ring.coords), closed=True) for ring in rings])


def draw_png(districts: Sequence, offices: Sequence, texts: Texts, font_dir: Path,
             size: tuple[float, float] = (10, 8), dpi: int = 120) -> bytes:
    """The picture, as PNG bytes. `districts` have number, name_fa, geometry and coverage_pct;
    `offices` have location, mark and signal (None, or a suspicion of closure)."""
    regular = FontProperties(fname=str(font_dir / "Vazirmatn-Regular.ttf"))
    bold = FontProperties(fname=str(font_dir / "Vazirmatn-Bold.ttf"))
    figure = Figure(figsize=size, dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(0.97, 0.965, texts.title, ha="right", va="top", fontproperties=bold, fontsize=17, color="#0d4a6b")
    figure.text(0.97, 0.915, texts.period, ha="right", va="top", fontproperties=regular, fontsize=12)
    figure.text(0.97, 0.878, texts.summary, ha="right", va="top", fontproperties=regular, fontsize=10.5,
                color="#333333")
    figure.text(0.03, 0.02, texts.footer, ha="left", va="bottom", fontproperties=regular, fontsize=8,
                color="#666666")
    # Right to left: the map on the right under the title, the legend in a column on its left.
    axes = figure.add_axes((0.25, 0.06, 0.72, 0.79))
    axes.set_axis_off()

    paths = []
    for district in districts:
        path = _path(district.geometry)
        paths.append(path)
        axes.add_patch(PathPatch(path, facecolor=coverage_colour(district.coverage_pct), edgecolor="#37474f",
                                 linewidth=0.8))
    if len(districts) > 1:  # the city: name each district by its number and coverage
        for district, path in zip(districts, paths):
            point = to_shapely(district.geometry).representative_point()
            dark = district.coverage_pct is not None and district.coverage_pct >= 60
            pct = "—" if district.coverage_pct is None else f"{fa(round(district.coverage_pct))}٪"
            axes.text(point.x, point.y, f"{fa(district.number)}\n{pct}", ha="center", va="center", fontsize=8,
                      fontproperties=regular, color="white" if dark else "#1d2733")

    marks = Counter(office.mark for office in offices)
    suspected = [lon_lat(office.location) for office in offices if office.signal is not None]
    if suspected:  # under every mark, so that the ring shows round the mark it belongs to
        xs, ys = zip(*suspected)
        axes.scatter(xs, ys, s=210, c=SUSPECTED_COLOUR, edgecolors=SUSPECTED_EDGE, linewidths=1.0, zorder=2.5)
    for mark in reversed(list(MARK_COLOURS)):  # the strongest marks drawn last, on top
        points = [lon_lat(office.location) for office in offices if office.mark == mark]
        if points:
            xs, ys = zip(*points)
            axes.scatter(xs, ys, s=70 if mark == "case_open" else 44, c=MARK_COLOURS[mark], edgecolors="white",
                         linewidths=1.2, zorder=3)
    if len(districts) == 1:  # one district: room to name each office by its code
        for office in offices:
            x, y = lon_lat(office.location)
            axes.annotate(office.code, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=7,
                          color="#37474f", zorder=4)

    bounds = [p.get_extents() for p in paths]
    if bounds:
        x0, y0 = min(b.x0 for b in bounds), min(b.y0 for b in bounds)
        x1, y1 = max(b.x1 for b in bounds), max(b.y1 for b in bounds)
        pad = 0.04 * max(x1 - x0, y1 - y0)
        axes.set_xlim(x0 - pad, x1 + pad)
        axes.set_ylim(y0 - pad, y1 + pad)
        # Degrees of longitude are shorter than degrees of latitude by cos(latitude).
        axes.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))

    entries = [(_dot(MARK_COLOURS[mark]), f"{MARK_LABELS[mark]} ({fa(marks.get(mark, 0))})") for mark in MARK_COLOURS]
    # The ring as a ring: a yellow disc with a white one on it (a tuple's handles are overlaid).
    entries.append(((_dot(SUSPECTED_COLOUR, 12, SUSPECTED_EDGE), _dot("white", 6)),
                    f"{SUSPECTED_LABEL} ({fa(len(suspected))})"))
    entries += [(Patch(facecolor=colour, edgecolor="#37474f", linewidth=0.6), _class_label(i))
                for i, (_, colour) in enumerate(COVERAGE_CLASSES)]
    handles, labels = zip(*entries)
    legend = figure.legend(handles=handles, labels=labels, loc="lower left", bbox_to_anchor=(0.02, 0.08),
                           markerfirst=False, prop=regular, framealpha=0.92, title="راهنما",
                           title_fontproperties=bold)
    legend.get_title().set_fontsize(10)
    for text in legend.get_texts():
        text.set_fontsize(9)

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
