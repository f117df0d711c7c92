"""The SVG drawings are valid XML with what the planner needs to read them."""
import xml.etree.ElementTree as ET

from views.svg import (
    SERVICE,
    TRAVEL,
    WAIT,
    Lane,
    MapPoint,
    MapRoute,
    MapStop,
    gantt,
    lane_bars,
    route_map,
    truck_colour,
)

SVG = "{http://www.w3.org/2000/svg}"
LEGEND = {TRAVEL: "行驶", WAIT: "等待", SERVICE: "服务"}


def _routes():
    return [
        MapRoute("T1 <沪A0001>", 31.11, 121.38, "莘庄仓 & co", [
            MapStop(31.12, 121.37, "小区1"), MapStop(31.13, 121.39, "小区2"), MapStop(31.10, 121.40, "小区3"),
        ]),
        MapRoute("T2", 31.11, 121.38, "莘庄仓 & co", [MapStop(31.09, 121.36, "小区4")]),
        MapRoute("T3", 31.05, 121.45, "吴泾仓", []),
    ]


def test_route_map_has_one_polyline_per_route_inside_the_canvas():
    root = ET.fromstring(route_map(_routes(), [MapPoint(31.14, 121.33, "未送达")], width=800, height=600))
    assert root.tag == f"{SVG}svg"
    polylines = root.findall(f".//{SVG}polyline")
    assert len(polylines) == 3
    assert [p.get("stroke") for p in polylines] == [truck_colour(0), truck_colour(1), truck_colour(2)]
    for polyline, route in zip(polylines, _routes()):
        points = [tuple(map(float, pair.split(","))) for pair in polyline.get("points").split()]
        assert len(points) == len(route.stops) + 2  # depot, stops, depot
        assert points[0] == points[-1]
        assert all(0 <= x <= 800 and 0 <= y <= 600 for x, y in points)


def test_route_map_numbers_stops_in_order_and_keeps_north_up():
    root = ET.fromstring(route_map(_routes()))
    first_route = root.findall(f".//{SVG}g[@class='route']")[0]
    numbers = [t.text for t in first_route.iter(f"{SVG}text")]
    assert numbers == ["1", "2", "3"]
    circles = first_route.findall(f".//{SVG}circle")
    # stop 2 (lat 31.13) is further north than stop 1 (31.12): smaller y on screen
    assert float(circles[1].get("cy")) < float(circles[0].get("cy"))
    # stop 3 (lon 121.40) is further east than stop 1 (121.37): larger x
    assert float(circles[2].get("cx")) > float(circles[0].get("cx"))


def test_route_map_escapes_text_and_draws_shared_depot_once():
    text = route_map(_routes())
    root = ET.fromstring(text)
    assert "T1 <沪A0001>" in [t.text.split(" (")[0] for t in root.iter(f"{SVG}text") if t.text]
    assert len(root.findall(f".//{SVG}g[@class='depot']")) == 2
    assert len(root.findall(f".//{SVG}g[@class='unserved']")) == 0


def test_route_map_of_an_empty_day_is_still_valid():
    root = ET.fromstring(route_map([]))
    assert root.findall(f".//{SVG}polyline") == []


def test_lane_bars_split_a_day_into_travel_wait_and_service():
    bars = lane_bars(420, 600, [(440, 480, 500, "A"), (520, 520, 540, "B")])
    assert [(b.kind, b.start, b.end) for b in bars] == [
        (TRAVEL, 420, 440), (WAIT, 440, 480), (SERVICE, 480, 500),
        (TRAVEL, 500, 520), (SERVICE, 520, 540), (TRAVEL, 540, 600),
    ]


def test_gantt_draws_a_lane_per_truck_with_its_bars_and_hour_axis():
    lanes = [
        Lane("T1", lane_bars(420, 600, [(440, 480, 500, "A"), (520, 520, 540, "B")])),
        Lane("T2", lane_bars(450, 700, [(470, 470, 690, "C")])),
    ]
    root = ET.fromstring(gantt(lanes, legend=LEGEND, width=1000))
    drawn = root.findall(f".//{SVG}g[@class='lane']")
    assert [g.get("data-truck") for g in drawn] == ["T1", "T2"]
    kinds = [g.get("class") for g in drawn[0].findall(f"{SVG}g")]
    assert kinds == ["bar travel", "bar wait", "bar service", "bar travel", "bar service", "bar travel"]
    axis = [t.text for t in root.iter(f"{SVG}text") if t.text and ":" in t.text]
    assert axis[0] == "07:00" and axis[-1] == "12:00"  # 07:00 to 11:40 rounded out to hours
    service = drawn[0].findall(f"{SVG}g[@class='bar service']/{SVG}rect")
    assert float(service[1].get("x")) > float(service[0].get("x"))
    assert all(float(r.get("x")) + float(r.get("width")) <= 1000 for r in root.iter(f"{SVG}rect"))


def test_gantt_without_trucks_is_still_valid():
    ET.fromstring(gantt([], legend=LEGEND))


def test_route_map_takes_the_shape_of_the_area_within_limits():
    def height(stops):
        root = ET.fromstring(route_map([MapRoute("T", 31.0, 121.0, "仓", stops)], width=800))
        return float(root.get("height"))

    wide = height([MapStop(31.0, 121.2, "东"), MapStop(31.05, 121.1, "北")])
    tall = height([MapStop(31.2, 121.05, "北"), MapStop(31.1, 121.02, "北")])
    assert wide < 800 * 0.5 + 40  # half the width plus the legend
    assert 800 * 1.25 <= tall < 800 * 1.25 + 40
