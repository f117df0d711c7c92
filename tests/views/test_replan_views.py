"""Re-plan from now through the real app: the planner page's action and the JSON API."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.factories import DAY, make_day, make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import login, solve_now
from trucks.models import Retailer, Role, SolveRun
from trucks.publishing import latest_publication, publish
from trucks.solving import start_solve_run
from trucks.week import CARRY_OVER_WEIGHT

URL = f"/api/days/{DAY.isoformat()}"


def _busier_truck(schedule):
    return max(schedule.routes, key=lambda r: len(r.stops)).truck


def _published(factory, prefix: str, username: str):
    """A solved and published day of one retailer, and its planner; returns what tests need."""
    with factory.begin() as session:
        day = make_day(session, prefix=prefix)
        make_user(session, Role.PLANNER, username=username, retailer=day.retailer)
        schedule = solve_now(session, day)
        publish(session, schedule, username)
        broken = _busier_truck(schedule)
        orphans = {s.compound.code for r in schedule.routes if r.truck_id == broken.id for s in r.stops}
        return day.retailer.id, broken.id, broken.code, orphans


def _version(factory, retailer_id: int) -> int:
    with factory() as session:
        return latest_publication(session, DAY, retailer_id).version


def test_planner_page_queues_a_replan_and_shows_the_version_it_published(committed):
    testapp, factory = committed
    retailer_id, broken_id, broken_code, _ = _published(factory, "RV1", "planner-rv1")
    login(testapp, "planner-rv1")
    form = testapp.get(f"/plan/{DAY.isoformat()}").forms["replan-form"]
    form["truck_id"] = str(broken_id)
    form["from"] = "25:00"
    refused = form.submit(status=303).follow()
    assert "HH:MM" in refused.text or "时:分" in refused.text
    form = refused.forms["replan-form"]
    form["truck_id"] = str(broken_id)
    form["from"] = "07:00"
    day_page = form.submit(status=303).follow()
    assert _version(factory, retailer_id) == 2
    notice = day_page.html.select_one("#last-replan")
    assert notice is not None and f"{broken_code} 自 07:00 停运" in notice.text
    assert "第 2 版" in notice.text
    shown = day_page.click(href="/versions/2")
    assert shown.request.path == f"/plan/{DAY.isoformat()}/versions/2"
    testapp.get("/lang/en")
    assert f"{broken_code} out of service from 07:00" in testapp.get(f"/plan/{DAY.isoformat()}").text


def test_api_queues_a_replan_and_its_run_names_the_published_version(committed):
    testapp, factory = committed
    retailer_id, _, broken_code, orphans = _published(factory, "RV2", "planner-rv2")
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv2")}
    bad = testapp.post_json(URL + "/replans", {"truck_id": broken_code, "from": "eleven"}, headers=headers,
                            status=422)
    assert documented(testapp, bad, "post_replan")["problems"][0]["field"] == "from"
    queued = testapp.post_json(URL + "/replans", {"truck_id": broken_code, "from": "07:00"}, headers=headers,
                               status=202)
    started = documented(testapp, queued, "post_replan")
    assert started["kind"] == "replan" and started["asked"] == {"truck_id": broken_code, "from": "07:00"}
    run = documented(testapp, testapp.get(queued.location), "get_solve_run")
    assert run["status"] == "done" and run["finished"] and run["published_version"] == 2, run["message"]
    assert _version(factory, retailer_id) == 2
    figures = run["figures"]
    assert figures["truck"] == broken_code and figures["version"] == 2
    assert figures["reserved"] + figures["dropped"] <= len(orphans)
    assert testapp.get(URL + "/publications/2", headers=headers).json["publication"]["version"] == 2


def test_api_refuses_a_replan_before_anything_is_published(testapp, dbsession):
    day = make_day(dbsession, prefix="RV9")
    make_user(dbsession, Role.PLANNER, username="planner-rv9", retailer=day.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv9")}
    refused = testapp.post_json(URL + "/replans", {"truck_id": day.trucks[0].code, "from": "11:00"},
                                headers=headers, status=409)
    assert "nothing is published" in documented(testapp, refused, "post_replan")["error"]
    assert dbsession.scalar(select(SolveRun.id).where(SolveRun.retailer_id == day.retailer.id)) is None


def test_a_replan_waits_for_a_running_solve_of_the_same_day(testapp, dbsession):
    """One writer per day: a re-plan while a solve is queued is refused."""
    day = make_day(dbsession, prefix="RV8")
    make_user(dbsession, Role.PLANNER, username="planner-rv8", retailer=day.retailer)
    publish(dbsession, solve_now(dbsession, day), "planner-rv8")
    start_solve_run(dbsession, DAY, day.retailer.id, "someone")
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv8")}
    busy = testapp.post_json(URL + "/replans", {"truck_id": day.trucks[0].code, "from": "11:00"},
                             headers=headers, status=409)
    assert "already queued" in documented(testapp, busy, "post_replan")["error"]
    assert latest_publication(dbsession, DAY, day.retailer.id).version == 1


def test_a_driver_may_not_replan(testapp, dbsession):
    day = make_day(dbsession, prefix="RV3")
    make_user(dbsession, Role.DRIVER, username="driver-rv3", truck=day.trucks[0])
    headers = {"X-CSRF-Token": api_login(testapp, "driver-rv3")}
    testapp.post_json(URL + "/replans", {"truck_id": day.trucks[0].code, "from": "11:00"}, headers=headers,
                      status=403)


def test_urgent_stop_page_lists_the_places_and_publishes_the_choice(testapp, dbsession):
    published = publish_day(dbsession, prefix="RV4", date=DAY)
    make_user(dbsession, Role.PLANNER, username="planner-rv4", retailer=published.day.retailer)
    login(testapp, "planner-rv4")
    urgent = published.day.compounds[2]
    form = testapp.get(f"/plan/{DAY.isoformat()}").forms["urgent-form"]
    form["compound"] = urgent.code
    form["from"] = "09:00"
    options = form.submit(status=200)
    rows = options.html.select("table.urgent-options tbody tr")
    assert rows and "15" in options.html.select_one("section.card p").text
    shown = options.forms[next(k for k in options.forms if options.forms[k].action.endswith("/urgent"))].submit(
        status=303).follow()
    assert "/versions/2" in shown.request.url and urgent.code in shown.text
    planned = testapp.get(f"/plan/{DAY.isoformat()}/urgent", {"compound": urgent.code, "from": "09:00"}, status=303)
    assert "already on the published plan" in planned.follow().text


def test_urgent_stop_through_the_api(testapp, dbsession):
    published = publish_day(dbsession, prefix="RV5", date=DAY)
    make_user(dbsession, Role.PLANNER, username="planner-rv5", retailer=published.day.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv5")}
    urgent = published.day.compounds[2].code
    found = documented(testapp, testapp.get(URL + "/urgent-stops", {"compound_id": urgent, "from": "09:00"}),
                       "get_urgent")
    assert found["base_version"] == 1 and found["options"][0]["within_limit"]
    best = found["options"][0]
    bad = testapp.post_json(URL + "/urgent-stops", {"compound_id": urgent, "from": "09:00", "truck_id": best["truck_id"]},
                            headers=headers, status=422)
    assert documented(testapp, bad, "post_urgent")["problems"][0]["field"] == "position"
    answer = documented(testapp, testapp.post_json(URL + "/urgent-stops", {
        "compound_id": urgent, "from": "09:00", "truck_id": best["truck_id"], "position": best["position"]},
        headers=headers, status=201), "post_urgent")
    assert answer["publication"]["version"] == 2 and answer["inserted"] == best
    again = testapp.get(URL + "/urgent-stops", {"compound_id": urgent, "from": "09:00"}, status=409)
    assert "already on the published plan" in documented(testapp, again, "get_urgent")["error"]


def test_week_page_shows_days_served_missed_and_todays_extra_priority(testapp, dbsession):
    from tests.trucks.test_week import run_week

    unserved = run_week(dbsession, "RV6", days=2)
    retailer = dbsession.scalar(select(Retailer).where(Retailer.name == "逸刻"))
    make_user(dbsession, Role.PLANNER, username="planner-rv6", retailer=retailer)
    login(testapp, "planner-rv6")
    tomorrow = (DAY + dt.timedelta(days=2)).isoformat()
    testapp.set_cookie("lang", "en")
    page = testapp.get(f"/plan/{tomorrow}/week")
    assert f"weighing more in the solve of {tomorrow}: {len(unserved[1])}" in page.html.select_one("#carried").text
    rows = {r.select_one("td span.muted").text: [td.get_text(strip=True) for td in r.select("td")]
            for r in page.html.select("table.week tbody tr")}
    for code in unserved[1]:
        assert rows[code][-1] == f"+{CARRY_OVER_WEIGHT}" and rows[code][-6] == "missed"
    assert all(cells[-1] == "—" for code, cells in rows.items() if code not in unserved[1])


def test_a_planner_cannot_replan_or_insert_with_another_retailers_truck_or_compound(testapp, dbsession):
    mine = publish_day(dbsession, prefix="RV7", date=DAY)
    other = make_day(dbsession, prefix="RV7C", retailer_name="联华")
    publish(dbsession, solve_now(dbsession, other), "planner-c")
    make_user(dbsession, Role.PLANNER, username="planner-rv7", retailer=mine.day.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv7")}
    own = testapp.post_json(URL + "/replans", {"truck_id": mine.day.trucks[1].code, "from": "07:00"},
                            headers=headers, status=202)  # the rightful request is queued
    assert own.json["kind"] == "replan"
    foreign = testapp.post_json(URL + "/replans", {"truck_id": other.trucks[0].code, "from": "07:00"},
                                headers=headers, status=404)
    documented(testapp, foreign, "post_replan")
    testapp.get(URL + "/urgent-stops", {"compound_id": other.compounds[0].code, "from": "09:00"}, status=404)
    testapp.post_json(URL + "/urgent-stops", {"compound_id": other.compounds[0].code, "from": "09:00",
                                              "truck_id": mine.day.trucks[0].code, "position": 0},
                      headers=headers, status=404)
    assert latest_publication(dbsession, DAY, other.retailer.id).version == 1
    assert dbsession.scalars(select(SolveRun.retailer_id)).all() == [mine.day.retailer.id]
