"""The planner's pages through the real app: every route, import through the page, adjust,
publish and versions, the language switch, and one retailer's planner kept out of another's."""
from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from tests.factories import DAY, make_csv_files, make_day, make_retailer, make_user
from tests.fieldday import publish_twin_at_next_flush
from tests.views.planner_helpers import login, polylines, solve_now, table_rows
from trucks import exports, solving
from trucks.publishing import publish
from trucks.models import (
    CommitteeReport, Compound, ConstraintKind, PlanConstraint, Publication, Role, SolveRun, SolveStatus, Stock, Truck, utcnow,
)

D = DAY.isoformat()


@pytest.fixture
def mine(dbsession):
    """A day of retailer 逸刻 (codes PL-…) and its planner, logged in by the tests that need it."""
    day = make_day(dbsession, prefix="PL")
    make_user(dbsession, Role.PLANNER, username="planner-yike", retailer=day.retailer)
    return day


@pytest.fixture
def theirs(dbsession):
    """The same date for another retailer, 叮咚 (codes PLB-…), solved and published."""
    day = make_day(dbsession, prefix="PLB", retailer_name="叮咚")
    schedule = solve_now(dbsession, day)
    publish(dbsession, schedule, "planner-dingdong")
    return day


def test_plan_home_goes_to_the_latest_day_with_data_or_a_chosen_one(testapp, mine):
    login(testapp, "planner-yike")
    assert testapp.get("/plan", status=302).location.endswith(f"/plan/{D}")
    assert testapp.get("/plan", params={"date": "2022-05-01"}, status=302).location.endswith("/plan/2022-05-01")
    testapp.get("/plan/2022-13-45", status=404)


def test_anonymous_is_sent_to_login_and_a_driver_is_refused(testapp, dbsession, mine):
    assert "/login" in testapp.get(f"/plan/{D}", status=302).location
    make_user(dbsession, Role.DRIVER, username="driver-pl", truck=mine.trucks[0])
    login(testapp, "driver-pl")
    testapp.get(f"/plan/{D}", status=403)
    testapp.get(f"/plan/{D}/map.svg", status=403)


def test_every_planner_route_renders(testapp, dbsession, mine):
    schedule = solve_now(dbsession, mine)
    run = solving.start_solve_run(dbsession, mine.date, mine.retailer.id, user="planner-yike")
    login(testapp, "planner-yike")

    page = testapp.get(f"/plan/{D}")
    assert "已导入数据" in page.text and "排班结果" in page.text
    assert page.html.select_one("#solve-progress")["data-status-url"].endswith(f"/plan/{D}/solve/{run.id}")
    for route in schedule.routes:
        assert route.truck.code in page.text
    assert "<svg" in page.text  # map and timeline drawn inline

    status = testapp.get(f"/plan/{D}/solve/{run.id}").json
    assert status["id"] == run.id and status["status"] == "queued" and status["finished"] is False

    route_map = testapp.get(f"/plan/{D}/map.svg")
    assert route_map.content_type == "image/svg+xml"
    assert len(polylines(route_map.text)) == len(schedule.routes)
    gantt = ET.fromstring(testapp.get(f"/plan/{D}/gantt.svg").text)
    assert len(gantt.findall(".//{http://www.w3.org/2000/svg}g[@class='lane']")) == len(schedule.routes)

    testapp.get(f"/plan/{D}/export.json", status=404)  # nothing published: the page links ?latest=1
    assert f"/plan/{D}/export.json?latest=1" in page.text
    exported = json.loads(testapp.get(f"/plan/{D}/export.json", params={"latest": 1}).text)
    assert exported == json.loads(exports.export(dbsession, mine.date, retailer_id=mine.retailer.id, fmt="json", latest=True))
    csv_text = testapp.get(f"/plan/{D}/export.csv", params={"latest": 1}).text
    assert csv_text.splitlines()[0].startswith("date,version,truck_id")
    testapp.get(f"/plan/{D}/export.xml", status=404)

    for name, section in (("import", "import"), ("solve", "solve"), ("constraints", "adjust")):
        assert testapp.get(f"/plan/{D}/{name}", status=303).location.endswith(f"/plan/{D}#{section}")
    assert "首次发布" in testapp.get(f"/plan/{D}/publish").text
    assert "还没有发布过" in testapp.get(f"/plan/{D}/versions").text
    testapp.get(f"/plan/{D}/versions/1", status=404)


def test_the_fill_table_shows_how_fairly_each_category_was_shared(testapp, dbsession, mine):
    """Lowest fill and units brought back per category, as worked out here from the stored
    stops and each truck's stored load."""
    schedule = solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    page = testapp.get(f"/plan/{D}")
    shown = {row["data-category"]: row for row in page.html.select("table.fill tbody tr")}
    stops = [stop for route in schedule.routes for stop in route.stops]
    checked = 0
    for key, row in shown.items():
        fills = [stop.deliveries.get(key, 0) / stop.demand[key] for stop in stops if stop.demand.get(key, 0) > 0]
        if not fills:
            continue
        carried = sum(route.load.get(key, 0) for route in schedule.routes)
        handed = sum(stop.deliveries.get(key, 0) for stop in stops)
        assert row.select_one(".lowest-fill").get_text(strip=True) == f"{round(min(fills) * 100)}%"
        assert row.select_one(".brought-back").get_text(strip=True) == str(max(0, carried - handed))
        assert 0.0 <= float(row.select_one(".gini").get_text(strip=True)) < 1.0
        checked += 1
    assert checked >= 2
    testapp.set_cookie("lang", "en")
    assert "Lowest fill" in testapp.get(f"/plan/{D}").text


def test_english_switch_covers_the_page(testapp, dbsession, mine):
    solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    testapp.set_cookie("lang", "en")
    page = testapp.get(f"/plan/{D}")
    for text in ("Imported data", "The plan", "Fill rate per category", "Routes per truck", "Adjust", "Vegetables"):
        assert text in page.text
    assert "已导入数据" not in page.text


def test_import_through_the_page_then_failure_lists_problems_and_changes_nothing(testapp, dbsession):
    retailer = make_retailer(dbsession, "逸刻")
    make_user(dbsession, Role.PLANNER, username="importer", retailer=retailer)
    login(testapp, "importer")
    page = testapp.get("/plan/2022-04-21")
    assert "还没有本零售商的数据" in page.text

    files = make_csv_files(date=DAY.replace(day=21), prefix="IMP")
    form = page.forms["import-form"]
    for kind, data in files.items():
        form[kind] = (f"{kind}.csv", data)
    done = form.submit(status=303).follow()
    assert "导入成功" in done.text
    stats = [s.get_text(" ", strip=True) for s in done.html.select("#imported .stat")]
    assert stats[:2] == ["2 辆车（已装货）", "8 个小区有需求"]
    totals = {row[0]: row[1:] for row in table_rows(done, "#imported table.totals")}
    assert int(totals["蔬菜"][0]) >= int(totals["蔬菜"][1])  # vegetables: enough for everyone
    assert int(totals["禽蛋"][0]) < int(totals["禽蛋"][1])  # eggs: short
    stock_rows = dbsession.scalar(select(func.count(Stock.id)).where(Stock.date == DAY.replace(day=21)))

    broken = dict(files)
    broken["stock"] = files["stock"].replace(b",eggs,", b",eggs,-3", 1)
    broken["compounds"] = files["compounds"].replace(b"31.1160", b"91.1160", 1)
    form = done.forms["import-form"]
    for kind, data in broken.items():
        form[kind] = (f"{kind}.csv", data)
    failed = form.submit(status=400)
    rows = table_rows(failed, "table.problems")
    assert ["compounds.csv", "2", "lat"] in [r[:3] for r in rows]
    assert ["stock.csv", "4", "quantity"] in [r[:3] for r in rows]
    assert "数据库未做任何修改" in failed.text
    assert dbsession.scalar(select(func.count(Stock.id)).where(Stock.date == DAY.replace(day=21))) == stock_rows
    assert dbsession.scalar(select(Compound.lat).where(Compound.code == "IMP-C01")) == pytest.approx(31.116)


def test_a_planner_may_not_import_another_retailers_fleet(testapp, dbsession, mine):
    login(testapp, "planner-yike")
    form = testapp.get(f"/plan/{D}").forms["import-form"]
    for kind, data in make_csv_files(prefix="OTHER", retailer_name="叮咚").items():
        form[kind] = (f"{kind}.csv", data)
    failed = form.submit(status=400)
    assert any(row[0] == "trucks.csv" and row[2] == "retailer" for row in table_rows(failed, "table.problems"))
    assert dbsession.scalar(select(Truck.id).where(Truck.code == "OTHER-T1")) is None


def test_constraints_are_added_refused_and_removed_through_the_page(testapp, dbsession, mine):
    schedule = solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    routed = next(r for r in schedule.routes if r.stops)
    c1, truck = routed.stops[0].compound, routed.truck

    page = testapp.get(f"/plan/{D}")
    form = page.forms["pin-form"]
    form["action"] = "pin"
    form["compound_id"] = c1.code
    form["truck_id"] = truck.code
    page = form.submit(status=303).follow()
    assert "已固定" in page.text
    assert table_rows(page, "table.constraints")[0][:3] == ["固定到车辆", truck.code, f"{c1.code} {c1.name}"]

    form = page.forms["pin-form"]
    form["action"] = "forbid"
    form["compound_id"] = c1.code
    form["truck_id"] = truck.code
    page = form.submit(status=303).follow()
    assert f"{c1.name} 已固定到 {truck.code}：请先移除那条固定" in page.text  # refused, with what to do
    assert len(table_rows(page, "table.constraints")) == 1

    form = page.forms["lock-form"]
    form["truck_id"] = routed.truck.code
    page = form.submit(status=303).follow()
    locks = [row for row in table_rows(page, "table.constraints") if row[0] == "锁定路线"]
    assert locks and locks[0][1] == routed.truck.code

    pin = dbsession.scalar(select(PlanConstraint).where(PlanConstraint.kind == ConstraintKind.PIN))
    testapp.post(f"/plan/{D}/constraints", {"action": "remove", "constraint_id": pin.id,
                                            "csrf_token": _csrf(page)}, status=303)
    assert [c.kind for c in dbsession.scalars(select(PlanConstraint))] == [ConstraintKind.LOCK]


def test_a_resolve_honours_a_forbid_then_keeps_a_locked_route(testapp, dbsession, mine):
    first = solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    route = next(r for r in first.routes if r.stops)
    moved = route.stops[-1].compound
    other = next(t for t in mine.trucks if t.id != route.truck_id)
    form = testapp.get(f"/plan/{D}").forms["pin-form"]
    form["action"] = "forbid"
    form["compound_id"] = moved.code
    form["truck_id"] = route.truck.code
    form.submit(status=303)

    second = solve_now(dbsession, mine)
    trucks_of = {s.compound_id: r.truck_id for r in second.routes for s in r.stops}
    assert trucks_of[moved.id] == other.id

    other_route = [s.compound.code for r in second.routes if r.truck_id == other.id for s in r.stops]
    form = testapp.get(f"/plan/{D}").forms["lock-form"]
    form["truck_id"] = other.code
    form.submit(status=303)
    third = solve_now(dbsession, mine)
    assert [s.compound.code for r in third.routes if r.truck_id == other.id for s in r.stops] == other_route


def test_posts_without_the_csrf_token_are_refused(testapp, dbsession, mine):
    solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    testapp.post(f"/plan/{D}/constraints",
                 {"action": "pin", "truck_id": mine.trucks[0].code, "compound_id": mine.compounds[0].code}, status=403)
    testapp.post(f"/plan/{D}/publish", {"schedule_id": 1}, status=403)
    testapp.post(f"/plan/{D}/solve", status=403)
    assert dbsession.scalar(select(func.count(PlanConstraint.id))) == 0
    assert dbsession.scalar(select(func.count(Publication.id))) == 0


def test_publish_versions_and_the_diff_of_moved_compounds(testapp, dbsession, mine):
    first = solve_now(dbsession, mine)
    login(testapp, "planner-yike")

    preview = testapp.get(f"/plan/{D}/publish")
    served = sum(len(r.stops) for r in first.routes)
    assert f"将向 {served} 个小区公布到达时间" in preview.text
    to_publish = table_rows(preview, "table.added")
    assert len(to_publish) == served
    assert [row[1] for row in to_publish] == sorted(row[1] for row in to_publish)  # by arrival
    version_page = preview.forms["publish-form"].submit(status=303).follow()
    assert "已发布第 1 版" in version_page.text and "这是当前版本" in version_page.text

    again = testapp.get(f"/plan/{D}/publish")
    assert "已作为第 1 版发布" in again.text and "publish-form" not in again.forms

    # move the first truck's first compound to the other truck, solve again
    route = next(r for r in first.routes if r.stops)
    moved = route.stops[0].compound
    other_truck = next(t for t in mine.trucks if t.id != route.truck_id)
    form = testapp.get(f"/plan/{D}").forms["pin-form"]
    form["compound_id"] = moved.code
    form["truck_id"] = other_truck.code
    form.submit(status=303)
    second = solve_now(dbsession, mine)
    assert moved.id in {s.compound_id for r in second.routes if r.truck_id == other_truck.id for s in r.stops}

    preview = testapp.get(f"/plan/{D}/publish")
    assert "与第 1 版相比（将发布为第 2 版）" in preview.text
    moved_rows = {row[0]: row for row in table_rows(preview, "table.moved")}
    row = moved_rows[f"{moved.name} {moved.code}"]
    assert row[4] == f"{route.truck.code} → {other_truck.code}"
    before = route.stops[0].arrival.strftime("%H:%M")
    assert row[1] == before
    preview.forms["publish-form"].submit(status=303)

    versions = table_rows(testapp.get(f"/plan/{D}/versions"), "table.versions")
    assert [r[0] for r in versions] == ["2 当前", "1"]
    old = testapp.get(f"/plan/{D}/versions/1")
    assert "已被第 2 版取代" in old.text
    old_rows = table_rows(old, f"#truck-{route.truck.code} table")
    assert old_rows[0][1] == f"{moved.name} {moved.code}" and old_rows[0][3] == before
    assert "pin-form" not in old.forms  # read-only
    assert len(polylines(testapp.get(f"/plan/{D}/map.svg", params={"version": 1}).text)) == len(first.routes)


def test_publishing_a_plan_older_than_the_preview_is_refused(testapp, dbsession, mine):
    solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    form = testapp.get(f"/plan/{D}/publish").forms["publish-form"]
    solve_now(dbsession, mine)  # a newer solve lands between preview and confirmation
    page = form.submit(status=303).follow()
    assert "预览之后有新的排班结果" in page.text
    assert dbsession.scalar(select(func.count(Publication.id))) == 0


def test_a_publication_made_at_the_same_moment_sends_the_planner_back_to_review(testapp, dbsession, mine):
    solve_now(dbsession, mine)
    login(testapp, "planner-yike")
    form = testapp.get(f"/plan/{D}/publish").forms["publish-form"]
    publish_twin_at_next_flush(dbsession)  # another planner's click lands first
    page = form.submit(status=303).follow()
    assert page.request.path == f"/plan/{D}/publish"
    assert "同一时刻已有另一次发布" in page.text
    assert dbsession.scalar(select(func.count(Publication.id))) == 0


def test_a_planner_never_reaches_another_retailers_day(testapp, dbsession, mine, theirs):
    login(testapp, "planner-yike")
    page = testapp.get(f"/plan/{D}")
    assert "PLB-" not in page.text and "叮咚" not in page.text
    assert "这一天还没有排班结果" in page.text
    testapp.get(f"/plan/{D}/versions/1", status=404)
    testapp.get(f"/plan/{D}/map.svg", status=404)
    testapp.get(f"/plan/{D}/map.svg", params={"version": 1}, status=404)
    testapp.get(f"/plan/{D}/export.json", status=404)
    assert "还没有发布过" in testapp.get(f"/plan/{D}/versions").text

    their_run = solving.start_solve_run(dbsession, theirs.date, theirs.retailer.id)
    testapp.get(f"/plan/{D}/solve/{their_run.id}", status=404)

    csrf = _csrf(page)
    for action, compound, truck in (
        ("pin", mine.compounds[0], theirs.trucks[0]),
        ("forbid", theirs.compounds[0], mine.trucks[0]),
        ("lock", None, theirs.trucks[0]),
    ):
        params = {"action": action, "truck_id": truck.code, "csrf_token": csrf}
        if compound is not None:
            params["compound_id"] = compound.code
        testapp.post(f"/plan/{D}/constraints", params, status=404)
    their_pin = PlanConstraint(date=theirs.date, kind=ConstraintKind.PIN, truck=theirs.trucks[0],
                               compound=theirs.compounds[0])
    dbsession.add(their_pin)
    dbsession.flush()
    testapp.post(f"/plan/{D}/constraints", {"action": "remove", "constraint_id": their_pin.id,
                                            "csrf_token": csrf}, status=404)
    assert dbsession.get(PlanConstraint, their_pin.id) is not None
    # the retailer parameter is an admin's, not a planner's
    assert "PLB-" not in testapp.get(f"/plan/{D}", params={"retailer": theirs.retailer.id}).text


def test_committee_refusals_show_on_the_day_and_the_next_solve_leaves_them_out(testapp, dbsession, mine, theirs):
    refusing, elsewhere = mine.compounds[2], theirs.compounds[0]
    dbsession.add_all([
        CommitteeReport(compound=refusing, date=mine.date, reason="小区有新增阳性，今日封控升级"),
        CommitteeReport(compound=elsewhere, date=theirs.date, reason="其他零售商的小区"),
    ])
    dbsession.flush()
    login(testapp, "planner-yike")
    rows = table_rows(testapp.get(f"/plan/{D}"), "table.reports")
    assert [row[:2] for row in rows] == [[f"{refusing.name} {refusing.code}", "小区有新增阳性，今日封控升级"]]

    solve_now(dbsession, mine)
    unserved = table_rows(testapp.get(f"/plan/{D}"), "table.unserved")
    assert [(row[0], row[5]) for row in unserved] == [(f"{refusing.name} {refusing.code}", "居委会报告今天无法接收")]


def test_an_admin_picks_the_retailer(testapp, dbsession, mine, theirs):
    make_user(dbsession, Role.ADMIN, username="admin1")
    login(testapp, "admin1")
    page = testapp.get(f"/plan/{D}", params={"retailer": theirs.retailer.id})
    assert "叮咚" in page.text and "PLB-T1" in page.text
    assert testapp.get(f"/plan/{D}/versions/1").status_code == 200  # remembered in the session
    page = testapp.get(f"/plan/{D}", params={"retailer": mine.retailer.id})
    assert "PL-T1" in page.text and "PLB-T1" not in page.text


def _csrf(page) -> str:
    return page.html.select_one('meta[name="csrf-token"]')["content"]


@pytest.mark.parametrize("through", ["page", "api"])
def test_page_and_api_keep_a_run_alive_while_its_heartbeat_is_fresh(testapp, dbsession, mine, through):
    """A run queued long ago whose heartbeat is fresh (a worker holds it, or keeps resending it)
    is alive, whatever the time limit, whichever way the second solve is asked for."""
    queued = solving.start_solve_run(dbsession, mine.date, mine.retailer.id, user="planner-yike", time_limit=1)
    queued.created_at = utcnow() - dt.timedelta(hours=1)
    queued.heartbeat_at = utcnow() - dt.timedelta(seconds=solving.DEAD_AFTER_SECONDS - 5)
    login(testapp, "planner-yike")
    csrf = _csrf(testapp.get(f"/plan/{D}"))
    if through == "page":
        page = testapp.post(f"/plan/{D}/solve", {"csrf_token": csrf}, status=303).follow()
        assert "这一天已有一次排班正在进行" in page.text
    else:
        refused = testapp.post(f"/api/days/{D}/solve", headers={"X-CSRF-Token": csrf}, status=409)
        assert refused.json["run_id"] == queued.id
    assert queued.status == SolveStatus.QUEUED
    assert dbsession.scalar(select(func.count(SolveRun.id)).where(SolveRun.retailer_id == mine.retailer.id)) == 1
