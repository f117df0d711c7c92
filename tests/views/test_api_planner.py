"""The planner's JSON API through the real app: each answer checked against the OpenAPI document."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import DAY, make_csv_files, make_day, make_user
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import solve_now
from trucks.models import PlanConstraint, Publication, Role, SolveRun, Truck

URL = f"/api/days/{DAY.isoformat()}"


@pytest.fixture
def mine(dbsession):
    return make_day(dbsession, prefix="A")


@pytest.fixture
def token(testapp, dbsession, mine):
    """A planner of the day's retailer, logged in; the session's CSRF token."""
    make_user(dbsession, Role.PLANNER, username="planner-a", retailer=mine.retailer)
    return api_login(testapp, "planner-a")


def count(dbsession, model) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))


def test_day_before_solving_counts_what_was_imported(testapp, token, mine):
    body = documented(testapp, testapp.get(URL), "get_day")
    assert body["retailer"] == {"id": mine.retailer.id, "name": "逸刻"}
    assert (body["imported"]["trucks"], body["imported"]["compounds"]) == (2, 8)
    dairy = next(c for c in body["imported"]["categories"] if c["category"] == "dairy")
    assert dairy["name_zh"] == "奶制品" and dairy["stock"] < dairy["demand"]  # dairy is short
    assert body["schedule"] is None and body["fill_rates"] is None and body["solve_run"] is None


def test_day_after_solving_has_the_schedule_and_fill_rates(testapp, dbsession, token, mine):
    schedule = solve_now(dbsession, mine)
    body = documented(testapp, testapp.get(URL), "get_day")
    assert body["schedule"]["id"] == schedule.id
    routed = {stop["compound_id"] for route in body["schedule"]["routes"] for stop in route["stops"]}
    unserved = {u["compound_id"] for u in body["schedule"]["unserved"]}
    assert routed | unserved == {c.code for c in mine.compounds} and not routed & unserved
    by_category = {c["category"]: c for c in body["fill_rates"]["categories"]}
    delivered = sum(
        stop["deliveries"].get("dairy", 0) for route in body["schedule"]["routes"] for stop in route["stops"]
    )
    assert by_category["dairy"]["delivered"] == delivered
    assert by_category["dairy"]["rate"] == pytest.approx(delivered / by_category["dairy"]["demand"])
    assert {c["compound_id"] for c in body["fill_rates"]["compounds"]} == {c.code for c in mine.compounds}


def test_import_creates_the_day_and_reports_the_batch(testapp, dbsession, token, mine):
    files = make_csv_files(prefix="A")  # the same fleet and compounds: a re-import
    response = testapp.post(
        URL + "/import", upload_files=[(kind, f"{kind}.csv", data) for kind, data in files.items()],
        headers={"X-CSRF-Token": token}, status=201,
    )
    batch = documented(testapp, response, "post_import")
    assert batch["created_by"] == "planner-a" and batch["counts"]["trucks"] == 2
    assert documented(testapp, testapp.get(URL), "get_day")["imported"]["batches"][0]["id"] == batch["id"]


def test_a_failed_import_lists_every_problem_and_writes_nothing(testapp, dbsession, token):
    files = make_csv_files(prefix="N")
    files["trucks"] = files["trucks"].replace(b"31.1110", b"131.1110", 1)
    files["demand"] = files["demand"].replace(b",vegetables,", b",vegetables,-", 1)
    trucks_before = count(dbsession, Truck)
    response = testapp.post(
        URL + "/import", upload_files=[(kind, f"{kind}.csv", data) for kind, data in files.items()],
        headers={"X-CSRF-Token": token}, status=422,
    )
    body = documented(testapp, response, "post_import")
    assert body["error"] == "the import has problems: nothing was imported"
    where = {(p["file"], p["row"], p["column"]) for p in body["problems"]}
    assert ("trucks.csv", 2, "depot_lat") in where and ("demand.csv", 2, "quantity") in where
    assert count(dbsession, Truck) == trucks_before


def test_import_takes_files_only_never_a_path(testapp, dbsession, token):
    paths = {"stock": "/etc/passwd", "demand": "/etc/passwd"}
    response = testapp.post(URL + "/import", paths, headers={"X-CSRF-Token": token},
                            content_type="multipart/form-data", status=400)
    assert response.json["error"] == "send stock as a file part of the multipart body"
    testapp.post(URL + "/import", paths, headers={"X-CSRF-Token": token}, status=415)


def test_solve_starts_once_and_a_second_start_is_409(testapp, dbsession, token, mine):
    started = testapp.post(URL + "/solve", headers={"X-CSRF-Token": token}, status=202)
    run = documented(testapp, started, "post_solve")
    assert run["status"] == "queued" and started.location.endswith(f"/api/solve-runs/{run['id']}")
    refused = documented(testapp, testapp.post(URL + "/solve", headers={"X-CSRF-Token": token}, status=409),
                         "post_solve")
    assert refused["run_id"] == run["id"]
    assert documented(testapp, testapp.get(started.location), "get_solve_run")["id"] == run["id"]
    assert count(dbsession, SolveRun) == 1


def test_solving_a_day_without_data_is_422(testapp, token):
    response = testapp.post("/api/days/2022-05-01/solve", headers={"X-CSRF-Token": token}, status=422)
    assert "nothing to solve" in documented(testapp, response, "post_solve")["error"]


def test_constraints_are_added_refused_listed_and_removed(testapp, dbsession, token, mine):
    headers = {"X-CSRF-Token": token}
    pin = {"kind": "pin", "truck_id": "A-T1", "compound_id": "A-C01"}
    added = documented(testapp, testapp.post_json(URL + "/constraints", pin, headers=headers, status=201),
                       "post_constraints")
    assert (added["kind"], added["truck_id"], added["compound_id"]) == ("pin", "A-T1", "A-C01")
    forbid = {"kind": "forbid", "truck_id": "A-T1", "compound_id": "A-C01"}
    refused = testapp.post_json(URL + "/constraints", forbid, headers=headers, status=409)
    assert documented(testapp, refused, "post_constraints")["reason"] == "forbid_pinned"
    lock = testapp.post_json(URL + "/constraints", {"kind": "lock", "truck_id": "A-T2"}, headers=headers, status=409)
    assert documented(testapp, lock, "post_constraints")["reason"] == "no_route"
    bad = testapp.post_json(URL + "/constraints", {"kind": "swap", "truck_id": "A-T1"}, headers=headers, status=422)
    assert documented(testapp, bad, "post_constraints")["problems"][0]["field"] == "kind"
    listed = documented(testapp, testapp.get(URL + "/constraints"), "get_constraints")["constraints"]
    assert [c["id"] for c in listed] == [added["id"]]
    removed = testapp.delete(f"{URL}/constraints/{added['id']}", headers=headers, status=204)
    documented(testapp, removed, "delete_constraint")
    assert count(dbsession, PlanConstraint) == 0
    testapp.delete(f"{URL}/constraints/{added['id']}", headers=headers, status=404)


def test_a_lock_keeps_the_latest_routes_stops(testapp, dbsession, token, mine):
    schedule = solve_now(dbsession, mine)
    route = next(r for r in schedule.routes if r.stops)
    body = testapp.post_json(URL + "/constraints", {"kind": "lock", "truck_id": route.truck.code},
                             headers={"X-CSRF-Token": token}, status=201).json
    assert body["locked_route"] == [stop.compound.code for stop in route.stops]


def test_publish_previews_the_diff_then_publishes_versions(testapp, dbsession, token, mine):
    headers = {"X-CSRF-Token": token}
    assert documented(testapp, testapp.get(URL + "/publications"), "get_publications")["candidate"] is None
    assert testapp.post_json(URL + "/publications", {}, headers=headers, status=422).json["problems"][0]["field"] == "schedule_id"
    nothing = testapp.post_json(URL + "/publications", {"schedule_id": 1}, headers=headers, status=409)
    assert nothing.json["reason"] == "nothing_solved"
    first = solve_now(dbsession, mine)
    preview = documented(testapp, testapp.get(URL + "/publications"), "get_publications")["candidate"]
    assert preview["schedule_id"] == first.id and preview["diff"]["first"] is True
    published = documented(
        testapp, testapp.post_json(URL + "/publications", {"schedule_id": first.id}, headers=headers, status=201),
        "post_publications",
    )
    assert published["publication"]["version"] == 1
    assert len(published["diff"]["added"]) == published["publication"]["stops"] > 0
    again = testapp.post_json(URL + "/publications", {"schedule_id": first.id}, headers=headers, status=409)
    assert "already published as version 1" in documented(testapp, again, "post_publications")["error"]
    second = solve_now(dbsession, mine)
    stale = testapp.post_json(URL + "/publications", {"schedule_id": first.id}, headers=headers, status=409)
    assert f"the latest is {second.id}" in stale.json["error"] and stale.json["reason"] == "not_latest"
    published = testapp.post_json(URL + "/publications", {"schedule_id": second.id}, headers=headers, status=201)
    assert published.json["publication"]["version"] == 2 and published.json["diff"]["first"] is False
    versions = documented(testapp, testapp.get(URL + "/publications"), "get_publications")["publications"]
    assert [v["version"] for v in versions] == [2, 1]
    one = documented(testapp, testapp.get(URL + "/publications/1"), "get_publication")
    assert one["schedule"]["id"] == first.id  # earlier versions stay readable
    testapp.get(URL + "/publications/3", status=404)
    assert count(dbsession, Publication) == 2


def test_a_driver_gets_403_from_the_planner_api(testapp, dbsession, mine):
    make_user(dbsession, Role.DRIVER, username="driver-a", truck=mine.trucks[0])
    token = api_login(testapp, "driver-a")
    assert testapp.get(URL, status=403).json == {"error": "forbidden"}
    testapp.post(URL + "/solve", headers={"X-CSRF-Token": token}, status=403)
    assert count(dbsession, SolveRun) == 0


def test_an_admin_names_the_retailer(testapp, dbsession, mine):
    theirs = make_day(dbsession, prefix="B", retailer_name="联华")
    make_user(dbsession, Role.ADMIN, username="admin")
    api_login(testapp, "admin")
    assert testapp.get(URL, params={"retailer": theirs.retailer.id}).json["retailer"]["name"] == "联华"
    assert testapp.get(URL, params={"retailer": mine.retailer.id}).json["retailer"]["name"] == "逸刻"
    assert testapp.get(URL, params={"retailer": "x"}, status=400).json["error"] == "retailer must be a number"
