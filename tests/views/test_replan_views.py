"""Re-plan from now through the real app: the planner page's action and the JSON API."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.factories import DAY, make_day, make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import login, solve_now
from trucks.models import Retailer, Role
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
        assert rows[code][-1] == "+3" and rows[code][-6] == "missed"
    assert all(cells[-1] == "—" for code, cells in rows.items() if code not in unserved[1])


def test_a_planner_cannot_replan_or_insert_with_another_retailers_truck_or_compound(testapp, dbsession):
    mine = publish_day(dbsession, prefix="RV7", date=DAY)
    other = make_day(dbsession, prefix="RV7C", retailer_name="联华")
    publish(dbsession, solve_now(dbsession, other), "planner-c")
    make_user(dbsession, Role.PLANNER, username="planner-rv7", retailer=mine.day.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "planner-rv7")}
    own = testapp.post_json(URL + "/replans", {"truck_id": mine.day.trucks[1].code, "from": "07:00"},
                            headers=headers, status=201)  # the rightful request succeeds
    assert own.json["publication"]["version"] == 2
    foreign = testapp.post_json(URL + "/replans", {"truck_id": other.trucks[0].code, "from": "07:00"},
                                headers=headers, status=404)
    documented(testapp, foreign, "post_replan")
    testapp.get(URL + "/urgent-stops", {"compound_id": other.compounds[0].code, "from": "09:00"}, status=404)
    testapp.post_json(URL + "/urgent-stops", {"compound_id": other.compounds[0].code, "from": "09:00",
                                              "truck_id": mine.day.trucks[0].code, "position": 0},
                      headers=headers, status=404)
    assert latest_publication(dbsession, DAY, other.retailer.id).version == 1
    assert latest_publication(dbsession, DAY, mine.day.retailer.id).version == 2
