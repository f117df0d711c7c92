"""Input the app cannot use is the client's error: 400, 404, 415 or 422, never 500, with the
API's error shape under /api/, on SQLite and PostgreSQL alike; and the OpenAPI document states
the limits the server enforces."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.factories import make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login, csrf_token
from trucks.models import Role, SolveRun, SolveStatus

TOO_BIG = str(2**64 + 1)
OUT_OF_RANGE = (TOO_BIG, str(2**63), "-1", "0", "１２")  # the last: full-width digits


@pytest.fixture
def planner_day(dbsession):
    published = publish_day(dbsession, prefix="A")
    make_user(dbsession, Role.PLANNER, username="planner-a", retailer=published.day.retailer)
    make_user(dbsession, Role.DRIVER, username="driver-a", truck=published.day.trucks[0])
    make_user(dbsession, Role.ADMIN, username="admin")
    run = SolveRun(date=published.day.date, retailer_id=published.day.retailer.id, status=SolveStatus.DONE)
    dbsession.add(run)
    dbsession.flush()
    return published


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_ids_no_row_can_have_are_404(testapp, planner_day, value):
    token = api_login(testapp, "planner-a")
    date, segment = planner_day.day.date.isoformat(), quote(value)
    for path in (f"/api/solve-runs/{segment}", f"/api/days/{date}/publications/{segment}"):
        assert testapp.get(path, status=404).json == {"error": "not found"}
    testapp.delete(f"/api/days/{date}/constraints/{segment}", headers={"X-CSRF-Token": token}, status=404)
    for path in (f"/plan/{date}/solve/{segment}", f"/plan/{date}/versions/{segment}"):
        testapp.get(path, status=404)
    testapp.get(f"/plan/{date}/map.svg", params={"version": value}, status=404)
    testapp.post(f"/plan/{date}/constraints", {"csrf_token": token, "action": "remove", "constraint_id": value},
                 status=404)
    testapp.post(f"/plan/{date}/constraints",
                 {"csrf_token": token, "action": "pin", "truck_id": value, "compound_id": value}, status=404)
    api_login(testapp, "admin")
    refused = testapp.get(f"/api/days/{date}", params={"retailer": value}, status=[400, 404]).json["error"]
    assert refused == ("not found" if value.isascii() and value.isdigit() else "retailer must be a number")


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_drivers_stop_ids_out_of_range_are_404(testapp, planner_day, value):
    token = api_login(testapp, "driver-a")
    date = planner_day.day.date.isoformat()
    testapp.post_json(f"/api/driver/stops/{quote(value)}/events", {"kind": "arrived"}, headers={"X-CSRF-Token": token},
                      status=404)
    testapp.post(f"/driver/{date}/stops/{quote(value)}", {"csrf_token": token, "kind": "arrived"}, status=404)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2022-02-30", "20220420", "2022-W16-3"])
def test_days_the_app_cannot_name_are_404(testapp, planner_day, day):
    api_login(testapp, "planner-a")
    testapp.get(f"/plan/{day}", status=404)
    testapp.get(f"/api/days/{day}", status=404)
    token = planner_day.day.compounds[0].access_token
    testapp.get(f"/c/{token}", params={"date": day}, status=404)
    assert testapp.get(f"/api/compounds/{token}", params={"date": day}, status=404).json == {"error": "not found"}


def test_a_multipart_body_without_a_boundary_is_400_not_500(testapp, planner_day):
    date = planner_day.day.date.isoformat()
    broken = {"CONTENT_TYPE": "multipart/form-data"}
    for path in ("/login", f"/plan/{date}/import", f"/c/{planner_day.day.compounds[0].access_token}/report"):
        response = testapp.post(path, b"csrf_token=x", extra_environ=broken, status=400)
        assert "multipart/form-data body cannot be read" in response.text
    api_login(testapp, "planner-a")
    response = testapp.post(f"/api/days/{date}/import", b"--x\r\n", extra_environ=broken, status=400)
    assert "multipart/form-data body cannot be read" in response.json["error"]


def test_bodies_of_the_wrong_media_type_are_415_and_malformed_json_400(testapp, planner_day):
    token = api_login(testapp, "planner-a")
    date = planner_day.day.date.isoformat()
    headers = {"X-CSRF-Token": token}
    url = f"/api/days/{date}/constraints"
    response = testapp.post(url, b'{"kind": "lock"}', headers=headers, content_type="text/plain", status=415)
    assert response.json["error"] == "send the body as application/json, not text/plain"
    for body in (b"{", b"[1, 2]", b"\xff\xfe", b"[" * 100_000):
        response = testapp.post(url, body, headers=headers, content_type="application/json", status=400)
        assert response.json["error"].startswith("the body")
    response = testapp.post_json(f"/api/days/{date}/import", {"stock": "x"}, headers=headers, status=415)
    assert response.json["error"] == "send the files as multipart/form-data, not application/json"
    assert testapp.post_json(url, {"kind": "pin", "truck_id": " "}, headers=headers, status=422).json["problems"]


def test_a_nul_character_is_refused_with_4xx_on_every_database(testapp, planner_day):
    api_login(testapp, "admin")
    date = planner_day.day.date.isoformat()
    response = testapp.get(f"/api/driver/days/{date}", params={"truck": "A-T1\x00"}, expect_errors=True)
    assert response.status_int in (400, 404) and "error" in response.json
    testapp.get("/api/session")
    token = csrf_token(testapp)
    response = testapp.post_json(f"/api/days/{date}/constraints", {"kind": "lock", "truck_id": "A\x00"},
                                 headers={"X-CSRF-Token": token}, expect_errors=True)
    assert response.status_int in (400, 404) and "error" in response.json


def test_the_document_states_the_limits_the_server_enforces(testapp):
    document = testapp.get("/api/openapi.json").json
    schemas = document["components"]["schemas"]
    constraint = schemas["NewConstraint"]["properties"]
    assert constraint["truck_id"]["minLength"] == 1 and constraint["compound_id"]["minLength"] == 1
    assert constraint["kind"]["enum"] == ["pin", "forbid", "lock"]
    report = schemas["NewReport"]["properties"]["reason"]
    assert (report["minLength"], report["maxLength"]) == (1, 500)
    assert schemas["NewStopEvent"]["properties"]["delay_minutes"]["maximum"] == 720
    run = document["paths"]["/api/solve-runs/{run_id}"]["get"]
    assert run["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert "coordinator" in schemas["Session"]["properties"]["user"]["anyOf"][0]["properties"]["role"]["enum"]
    assert {"400", "415"} <= set(document["paths"]["/api/days/{date}/constraints"]["post"]["responses"])
