"""The committee's and the driver's JSON API through the real app, checked against the
OpenAPI document: public compound data by token, reports, the driver's stops and events."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login, csrf_token, documented
from trucks.models import CommitteeReport, Compound, Role, StopEvent


@pytest.fixture
def published(dbsession):
    return publish_day(dbsession, prefix="AF")


@pytest.fixture
def driver_token(testapp, dbsession, published):
    """Truck 1's driver, logged in; the session's CSRF token."""
    make_user(dbsession, Role.DRIVER, username="driver-1", truck=published.day.trucks[0])
    return api_login(testapp, "driver-1")


def count(dbsession, model) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))


def test_compound_shows_its_window_goods_and_nothing_private(testapp, published):
    compound, *others = published.day.compounds
    response = testapp.get(f"/api/compounds/{compound.access_token}")
    body = documented(testapp, response, "get_compound")
    today, tomorrow = body["days"]
    date = published.day.date.isoformat()
    assert today["window"] == [f"{date}T10:30", f"{date}T10:45"] and today["stay_minutes"] == 25
    assert today["plate"] == published.day.trucks[0].plate and today["version"] == 1
    assert {g["category"]: g["quantity"] for g in today["goods"]} == {"vegetables": 12, "dairy": 4}
    assert tomorrow["published"] is False
    assert compound.contact not in response.text and "planner" not in response.text
    for other in others:
        assert other.name not in response.text and other.access_token not in response.text


def test_a_wrong_token_is_404(testapp, published):
    assert testapp.get("/api/compounds/not-a-token", status=404).json == {"error": "not found"}
    token = csrf_token(testapp)
    testapp.post_json("/api/compounds/not-a-token/report", {"reason": "x"}, headers={"X-CSRF-Token": token},
                      status=404)


def test_cannot_receive_is_stored_with_the_committee_code_and_the_csrf_token(testapp, dbsession, published):
    compound = published.day.compounds[0]
    url = f"/api/compounds/{compound.access_token}/report"
    code = compound.committee_code
    testapp.post_json(url, {"reason": "封控升级", "code": code}, status=403)
    token = csrf_token(testapp)
    wrong = testapp.post_json(url, {"reason": "封控升级"}, headers={"X-CSRF-Token": token}, status=403)
    assert documented(testapp, wrong, "post_compound_report")["problems"][0]["field"] == "code"
    response = testapp.post_json(url, {"reason": "封控升级", "code": code}, headers={"X-CSRF-Token": token}, status=201)
    assert documented(testapp, response, "post_compound_report")["reason"] == "封控升级"
    shown = testapp.get(f"/api/compounds/{compound.access_token}").json["days"][0]["cannot_receive_reports"]
    assert [r["reason"] for r in shown] == ["封控升级"]
    empty = testapp.post_json(url, {"reason": "  ", "code": code}, headers={"X-CSRF-Token": token}, status=422)
    assert documented(testapp, empty, "post_compound_report")["problems"][0]["field"] == "reason"
    bad_date = testapp.post_json(url, {"reason": "x", "date": "tomorrow", "code": code},
                                 headers={"X-CSRF-Token": token}, status=422)
    assert bad_date.json["problems"][0]["field"] == "date"
    assert count(dbsession, CommitteeReport) == 1
    withdraw = f"/api/compounds/{compound.access_token}/reports/{response.json['id']}/withdraw"
    withdrawn = testapp.post_json(withdraw, {"code": code}, headers={"X-CSRF-Token": token}, status=200)
    assert documented(testapp, withdrawn, "post_compound_withdraw")["withdrawn_at"] is not None
    again = testapp.post_json(withdraw, {"code": code}, headers={"X-CSRF-Token": token}, status=409)
    documented(testapp, again, "post_compound_withdraw")


def test_driver_day_lists_own_stops_with_contact_and_navigation(testapp, driver_token, published):
    url = f"/api/driver/days/{published.day.date.isoformat()}"
    body = documented(testapp, testapp.get(url), "get_driver_day")
    stops = body["route"]["stops"]
    own = [s.compound for s in published.schedule.routes[0].stops]
    assert [s["compound_id"] for s in stops] == [c.code for c in own]
    assert stops[0]["contact"] == own[0].contact and stops[0]["navigation"].startswith("geo:")
    other = published.stop(1, 1).compound
    assert other.code not in json.dumps(body, ensure_ascii=False)
    nothing = testapp.get("/api/driver/days/2000-01-01").json
    assert nothing["route"] is None


def test_driver_events_re_time_later_stops_and_the_compound_sees_it(testapp, dbsession, driver_token, published):
    first, second = published.stop(0, 1), published.stop(0, 2)
    headers = {"X-CSRF-Token": driver_token}
    arrived = testapp.post_json(f"/api/driver/stops/{first.id}/events", {"kind": "arrived", "at": "10:50"},
                                headers=headers, status=201)
    body = documented(testapp, arrived, "post_driver_stop_event")
    assert body["stop"]["estimate"]["status"] == "arrived" and body["stop"]["estimate"]["updated"] is True
    delay = testapp.post_json(f"/api/driver/stops/{second.id}/events", {"kind": "delay", "delay_minutes": 20},
                              headers=headers, status=201)
    date = published.day.date.isoformat()
    assert delay.json["stop"]["estimate"]["arrival"] == f"{date}T11:40"
    committee = testapp.get(f"/api/compounds/{dbsession.get(Compound, second.compound_id).access_token}").json["days"][0]
    assert committee["estimate"]["updated"] is True and committee["estimate"]["arrival"] == f"{date}T11:40"
    assert count(dbsession, StopEvent) == 2


@pytest.mark.parametrize(
    "report, field",
    [
        ({"kind": "delay"}, "delay_minutes"),
        ({"kind": "delay", "delay_minutes": "20"}, "delay_minutes"),
        ({"kind": "arrived", "at": "25:00"}, "at"),
        ({"kind": "lunch"}, "kind"),
    ],
)
def test_bad_events_are_422_naming_the_field_and_store_nothing(testapp, dbsession, driver_token, published, report, field):
    response = testapp.post_json(f"/api/driver/stops/{published.stop(0, 1).id}/events", report,
                                 headers={"X-CSRF-Token": driver_token}, status=422)
    assert documented(testapp, response, "post_driver_stop_event")["problems"][0]["field"] == field
    assert count(dbsession, StopEvent) == 0


def test_a_planner_gets_403_from_the_driver_api(testapp, dbsession, published):
    make_user(dbsession, Role.PLANNER, username="planner", retailer=published.day.retailer)
    token = api_login(testapp, "planner")
    testapp.get(f"/api/driver/days/{published.day.date.isoformat()}", status=403)
    testapp.post_json(f"/api/driver/stops/{published.stop(0, 1).id}/events", {"kind": "arrived"},
                      headers={"X-CSRF-Token": token}, status=403)


def test_an_admin_names_the_truck(testapp, dbsession, published):
    make_user(dbsession, Role.ADMIN, username="admin")
    api_login(testapp, "admin")
    url = f"/api/driver/days/{published.day.date.isoformat()}"
    assert testapp.get(url, status=400).json["error"] == "an admin names the truck with ?truck=CODE"
    truck = published.day.trucks[1]
    assert testapp.get(url, params={"truck": truck.code}).json["truck_id"] == truck.code
