"""SVG drawings of a day's plan: the route map and the Gantt timeline.

Pure functions from plain data to an SVG string, so the pages need no map tiles, chart
libraries or anything else from the internet, and the drawing is testable without the app.
Each truck keeps one colour in both drawings (``truck_colour`` by its position in the list).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

#: Distinct on screen and still apart when printed in grey (alternating light and dark).
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939",
    "#843c39", "#7b4173", "#3182bd", "#e6550d",
)
UNSERVED_COLOUR = "#9aa5b1"


def truck_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _attr(value) -> str:
    return quoteattr(str(value))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- route map


@dataclass(frozen=True)
class MapStop:
    lat: float
    lon: float
    title: str  # hover text: compound name and times


@dataclass(frozen=True)
class MapRoute:
    label: str  # the truck, as the legend shows it
    depot_lat: float
    depot_lon: float
    depot_name: str
    stops: Sequence[MapStop] = field(default_factory=tuple)


@dataclass(frozen=True)
class MapPoint:
    """A compound drawn without a route (unserved), as a grey cross."""

    lat: float
    lon: float
    title: str


class _Projection:
    """Equirectangular projection of the drawn points into a padded box, keeping the aspect
    ratio true at the mean latitude (fine at a district's scale)."""

    def __init__(self, points: Sequence[tuple[float, float]], width: float, height: float, pad: float):
        lats = [p[0] for p in points] or [0.0]
        lons = [p[1] for p in points] or [0.0]
        self.shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
        self.min_x, self.max_y = min(lons) * self.shrink, max(lats)
        span_x = max(max(lons) * self.shrink - self.min_x, 1e-6)
        span_y = max(self.max_y - min(lats), 1e-6)
        self.scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        self.off_x = pad + ((width - 2 * pad) - span_x * self.scale) / 2
        self.off_y = pad + ((height - 2 * pad) - span_y * self.scale) / 2

    @staticmethod
    def aspect(points: Sequence[tuple[float, float]]) -> float:
        """Height over width of the points' bounding box on screen, kept between 0.5 and 1.25."""
        if not points:
            return 0.7
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        wide = (max(lons) - min(lons)) * math.cos(math.radians((min(lats) + max(lats)) / 2))
        tall = max(lats) - min(lats)
        return min(max(tall / wide if wide > 0 else 1.25, 0.5), 1.25)

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            self.off_x + (lon * self.shrink - self.min_x) * self.scale,
            self.off_y + (self.max_y - lat) * self.scale,
        )


def route_map(
    routes: Sequence[MapRoute],
    unserved: Sequence[MapPoint] = (),
    *,
    width: int = 900,
    height: int | None = None,
    title: str = "",
) -> str:
    """One polyline per route (depot, stops in order, depot), numbered stop markers, square
    depots and a legend; unserved compounds as grey crosses. Without ``height`` the drawing
    takes the area's own shape (between half and one and a quarter of its width)."""
    points = [(r.depot_lat, r.depot_lon) for r in routes]
    points += [(s.lat, s.lon) for r in routes for s in r.stops]
    points += [(p.lat, p.lon) for p in unserved]
    legend_height = 22 * math.ceil(len(routes) / 4) + 10 if routes else 0
    if height is None:
        height = round(width * _Projection.aspect(points)) + legend_height
    project = _Projection(points, width, height - legend_height, pad=24)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="route-map" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for point in unserved:
        x, y = project(point.lat, point.lon)
        out.append(
            f'<g class="unserved"><title>{escape(point.title)}</title>'
            f'<path d="M{_num(x - 4)} {_num(y - 4)}L{_num(x + 4)} {_num(y + 4)}'
            f'M{_num(x - 4)} {_num(y + 4)}L{_num(x + 4)} {_num(y - 4)}" '
            f'stroke="{UNSERVED_COLOUR}" stroke-width="2"/></g>'
        )
    for index, route in enumerate(routes):
        colour = truck_colour(index)
        depot = project(route.depot_lat, route.depot_lon)
        path = [depot] + [project(s.lat, s.lon) for s in route.stops] + [depot]
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in path)
        out.append(f'<g class="route" data-truck={_attr(route.label)}>')
        out.append(f"<title>{escape(route.label)}</title>")
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2" '
            'stroke-linejoin="round" stroke-opacity="0.85"/>'
        )
        for number, (stop, (x, y)) in enumerate(zip(route.stops, path[1:-1]), 1):
            out.append(
                f'<g class="stop"><title>{escape(stop.title)}</title>'
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="8" fill="#ffffff" stroke="{colour}" stroke-width="2"/>'
                f'<text x="{_num(x)}" y="{_num(y + 3.5)}" text-anchor="middle" font-size="9" '
                f'fill="{colour}">{number}</text></g>'
            )
        out.append("</g>")
    drawn_depots: set[tuple[float, float]] = set()
    for route in routes:
        key = (route.depot_lat, route.depot_lon)
        if key in drawn_depots:
            continue
        drawn_depots.add(key)
        x, y = project(*key)
        out.append(
            f'<g class="depot"><title>{escape(route.depot_name)}</title>'
            f'<rect x="{_num(x - 7)}" y="{_num(y - 7)}" width="14" height="14" fill="#1f2933"/>'
            f'<text x="{_num(x + 10)}" y="{_num(y - 8)}" fill="#1f2933" font-weight="600" stroke="#ffffff" '
            f'stroke-width="3" paint-order="stroke">{escape(route.depot_name)}</text></g>'
        )
    top = height - legend_height + 8
    for index, route in enumerate(routes):
        x = 12 + (index % 4) * (width - 24) / 4
        y = top + 22 * (index // 4)
        out.append(
            f'<g class="legend"><rect x="{_num(x)}" y="{_num(y)}" width="18" height="6" '
            f'fill="{truck_colour(index)}"/><text x="{_num(x + 24)}" y="{_num(y + 7)}">'
            f"{escape(route.label)} ({len(route.stops)})</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------- Gantt timeline

TRAVEL, WAIT, SERVICE = "travel", "wait", "service"


@dataclass(frozen=True)
class Bar:
    kind: str  # TRAVEL, WAIT or SERVICE
    start: float  # minutes after midnight
    end: float
    title: str = ""


@dataclass(frozen=True)
class Lane:
    label: str  # the truck
    bars: Sequence[Bar]


def lane_bars(
    depart: float,
    back: float,
    visits: Sequence[tuple[float, float, float, str]],
) -> list[Bar]:
    """A truck's day as bars: travel to each stop, waiting for its window, service, travel home.
    ``visits`` are (arrival, start, departure, title) in route order, in minutes."""
    bars: list[Bar] = []
    leave = depart
    for arrival, start, departure, title in visits:
        if arrival > leave:
            bars.append(Bar(TRAVEL, leave, arrival, title))
        if start > arrival:
            bars.append(Bar(WAIT, arrival, start, title))
        bars.append(Bar(SERVICE, start, departure, title))
        leave = departure
    if back > leave:
        bars.append(Bar(TRAVEL, leave, back))
    return bars


def _text_width(text: str, font_size: float = 11) -> float:
    """A label's rough width: CJK characters are square, Latin ones about 0.6 of the size."""
    return sum(font_size if ord(ch) > 0x2E80 else 0.6 * font_size for ch in text)


def _clock(minutes: float) -> str:
    minutes = round(minutes)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def gantt(
    lanes: Sequence[Lane],
    *,
    legend: dict[str, str],
    width: int = 1000,
    title: str = "",
) -> str:
    """Every truck's day on one time axis: a row per truck with travel (thin), waiting (grey)
    and service (full height, numbered) bars, hour ticks across the top. ``legend`` names the
    three bar kinds in the page's language."""
    label_width, row, axis = 120, 26, 26
    all_bars = [b for lane in lanes for b in lane.bars]
    first = math.floor(min((b.start for b in all_bars), default=7 * 60) / 60) * 60
    last = math.ceil(max((b.end for b in all_bars), default=19 * 60) / 60) * 60
    last = max(last, first + 60)
    height = axis + row * len(lanes) + 34
    scale = (width - label_width - 24) / (last - first)  # room for the last hour's label

    def x_of(minute: float) -> float:
        return label_width + (minute - first) * scale

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="gantt" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for hour in range(first, last + 1, 60):
        x = _num(x_of(hour))
        out.append(
            f'<line x1="{x}" y1="{axis - 6}" x2="{x}" y2="{axis + row * len(lanes)}" stroke="#d9e2ec"/>'
            f'<text x="{x}" y="{axis - 10}" text-anchor="middle" fill="#616e7c">{_clock(hour)}</text>'
        )
    for index, lane in enumerate(lanes):
        colour = truck_colour(index)
        top = axis + row * index
        out.append(f'<g class="lane" data-truck={_attr(lane.label)}>')
        out.append(
            f'<text x="6" y="{top + row / 2 + 4}" fill="#1f2933">{escape(lane.label)}</text>'
        )
        number = 0
        for bar in lane.bars:
            x, w = x_of(bar.start), max((bar.end - bar.start) * scale, 0.5)
            span = f"{_clock(bar.start)}–{_clock(bar.end)}"
            hover = escape(f"{legend[bar.kind]} {span} {bar.title}".strip())
            if bar.kind == SERVICE:
                number += 1
                out.append(
                    f'<g class="bar service"><title>{hover}</title>'
                    f'<rect x="{_num(x)}" y="{top + 4}" width="{_num(w)}" height="{row - 8}" fill="{colour}"/>'
                    + (
                        f'<text x="{_num(x + w / 2)}" y="{top + row / 2 + 3.5}" text-anchor="middle" '
                        f'font-size="9" fill="#ffffff">{number}</text>'
                        if w >= 12 else ""
                    )
                    + "</g>"
                )
            elif bar.kind == WAIT:
                out.append(
                    f'<g class="bar wait"><title>{hover}</title><rect x="{_num(x)}" y="{top + 8}" '
                    f'width="{_num(w)}" height="{row - 16}" fill="#e4e7eb" stroke="#9aa5b1" '
                    'stroke-dasharray="2 2"/></g>'
                )
            else:
                out.append(
                    f'<g class="bar travel"><title>{hover}</title><rect x="{_num(x)}" y="{top + row / 2 - 2}" '
                    f'width="{_num(w)}" height="4" fill="{colour}" fill-opacity="0.6"/></g>'
                )
        out.append("</g>")
    key_y = axis + row * len(lanes) + 14
    samples = (
        (TRAVEL, '<rect x="{x}" y="{y}" width="22" height="4" fill="#52606d" fill-opacity="0.6"/>', 3),
        (WAIT, '<rect x="{x}" y="{y}" width="22" height="10" fill="#e4e7eb" stroke="#9aa5b1" '
               'stroke-dasharray="2 2"/>', 0),
        (SERVICE, '<rect x="{x}" y="{y}" width="22" height="14" fill="#52606d"/>', -2),
    )
    x = label_width
    for kind, shape, dy in samples:
        out.append(
            '<g class="legend">' + shape.format(x=x, y=key_y + dy)
            + f'<text x="{x + 28}" y="{key_y + 9}">{escape(legend[kind])}</text></g>'
        )
        x += 28 + _text_width(legend[kind]) + 24
    out.append("</svg>")
    return "\n".join(out)
