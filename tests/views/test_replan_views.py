"""Re-plan from now through the real app: the planner page's action and the JSON API."""
from __future__ import annotations

from tests.factories import DAY, make_day, make_user
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import login, solve_now
from trucks.models import Role
from trucks.publishing import latest_publication, publish

URL = f"/api/days/{DAY.isoformat()}"


def _busier_truck(schedule):
    return max(schedule.routes, key=lambda r: len(r.stops)).truck


def test_planner_page_replans_a_published_day_and_shows_the_new_version(testapp, dbsession):
    day = make_day(dbsession, prefix="RV1")
    make_user(dbsession, Role.PLANNER, username="planner-rv1", retailer=day.retailer)
    login(testapp, "planner-rv1")
    page = testapp.get(f"/plan/{DAY.isoformat()}")
    assert page.html.select_one("#replan-form") is None  # nothing published: nothing to re-plan
    schedule = solve_now(dbsession, day)
    publish(dbsession, schedule, "planner-rv1")
    form = testapp.get(f"/plan/{DAY.isoformat()}").forms["replan-form"]
    broken = _busier_truck(schedule)
    form["truck_id"] = str(broken.id)
    form["from"] = "25:00"
    refused = form.submit(status=303).follow()
    assert "HH:MM" in refused.text or "时:分" in refused.text
    form = refused.forms["replan-form"]
    form["truck_id"] = str(broken.id)
    form["from"] = "07:00"
    shown = form.submit(status=303).follow()
    assert latest_publication(dbsession, DAY, day.retailer.id).version == 2
    assert "/versions/2" in shown.request.url
    assert f"{broken.code} 自 07:00 停运" in shown.text


def test_api_replans_and_publishes_with_a_documented_answer(testapp, dbsession):
    day = make_day(dbsession, prefix="RV2")
    make_user(dbsession, Role.PLANNER, username="planner-rv2", retailer=day.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv2")}
    body = {"truck_id": day.trucks[0].code, "from": "11:00"}
    refused = testapp.post_json(URL + "/replans", body, headers=headers, status=409)
    assert "nothing is published" in documented(testapp, refused, "post_replan")["error"]
    schedule = solve_now(dbsession, day)
    publish(dbsession, schedule, "planner-rv2")
    bad = testapp.post_json(URL + "/replans", {**body, "from": "eleven"}, headers=headers, status=422)
    assert documented(testapp, bad, "post_replan")["problems"][0]["field"] == "from"
    broken = _busier_truck(schedule)
    answer = documented(testapp, testapp.post_json(
        URL + "/replans", {"truck_id": broken.code, "from": "07:00"}, headers=headers, status=201), "post_replan")
    assert answer["publication"]["version"] == 2 and answer["base_version"] == 1
    orphans = {s.compound.code for r in schedule.routes if r.truck_id == broken.id for s in r.stops}
    assert set(answer["reserved"]) | set(answer["dropped"]) == orphans - set(answer["kept"])
    assert {u["compound_id"] for u in answer["unserved"]} >= set(answer["dropped"])


def test_a_driver_may_not_replan(testapp, dbsession):
    day = make_day(dbsession, prefix="RV3")
    make_user(dbsession, Role.DRIVER, username="driver-rv3", truck=day.trucks[0])
    headers = {"X-CSRF-Token": api_login(testapp, "driver-rv3")}
    testapp.post_json(URL + "/replans", {"truck_id": day.trucks[0].code, "from": "11:00"}, headers=headers,
                      status=403)
