"""Who may see and change what, pages and API side by side: every attempt across a tenant's
boundary gets 403 or 404 and changes nothing, and each test first shows the same request
succeeding for the rightful user, so a route that merely failed could not pass.

Two retailers share today: 逸刻 (codes ``A-``, version 1 published, a newer schedule waiting)
and 联华 (codes ``B-``, versions 1 and 2 published, a constraint and a solve run of its own).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import make_csv_files, make_day, make_user
from tests.fieldday import FIRST_PLAN, PublishedDay, make_schedule, publish_day
from tests.views.api_helpers import api_login, csrf_token
from trucks.models import (
    CommitteeReport,
    ConstraintKind,
    ImportBatch,
    PlanConstraint,
    Publication,
    Role,
    Schedule,
    SolveRun,
    SolveStatus,
    Stock,
    StopEvent,
)
from trucks.publishing import publish


@dataclass
class World:
    mine: PublishedDay  # 逸刻
    theirs: PublishedDay  # 联华
    candidate: Schedule  # 逸刻's newer schedule, not yet published
    their_constraint: PlanConstraint
    their_run: SolveRun

    @property
    def date(self) -> str:
        return self.mine.day.date.isoformat()


@pytest.fixture
def world(dbsession) -> World:
    mine = publish_day(dbsession, prefix="A")
    their_day = make_day(dbsession, date=mine.day.date, retailer_name="联华", prefix="B")
    first = make_schedule(dbsession, their_day, FIRST_PLAN)
    publish(dbsession, first, "planner-b")
    second = make_schedule(dbsession, their_day, FIRST_PLAN)
    theirs = PublishedDay(their_day, second, publish(dbsession, second, "planner-b"))
    constraint = PlanConstraint(
        date=their_day.date, kind=ConstraintKind.PIN, truck=their_day.trucks[0], compound=their_day.compounds[0]
    )
    run = SolveRun(date=their_day.date, retailer_id=their_day.retailer.id, status=SolveStatus.DONE)
    dbsession.add_all([constraint, run])
    for user in (
        dict(role=Role.PLANNER, username="planner-a", retailer=mine.day.retailer),
        dict(role=Role.PLANNER, username="planner-b", retailer=their_day.retailer),
        dict(role=Role.DRIVER, username="driver-a1", truck=mine.day.trucks[0]),
    ):
        make_user(dbsession, **user)
    candidate = make_schedule(dbsession, mine.day, {0: FIRST_PLAN[0]})
    return World(mine, theirs, candidate, constraint, run)


def count(dbsession, model, *where) -> int:
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


def page_token(testapp) -> str:
    return testapp.get("/login").html.find("meta", attrs={"name": "csrf-token"})["content"]


def text_of(response) -> str:
    """What a page or an API answer says, with JSON's escaped Chinese made readable."""
    if response.content_type == "application/json":
        return json.dumps(response.json, ensure_ascii=False)
    return response.text


def shows_only_mine(text: str, mine: str) -> None:
    assert mine in text
    assert "B-T" not in text and "B测试小区" not in text and "联华" not in text and "versions/2" not in text


# --------------------------------------------------------------------------- planners


def test_a_planner_sees_only_own_trucks_stock_and_plans(testapp, world):
    api_login(testapp, "planner-a")
    other = {"retailer": world.theirs.day.retailer.id}  # an admin's parameter: ignored for a planner
    pages = {"": "A-T1", "/versions": "versions/1", "/versions/1": "A-T1", "/publish": "A测试小区",
             "/export.json": "A-T1", "/map.svg": "A-T1", "/gantt.svg": "A-T1"}
    for path, mine in pages.items():
        shows_only_mine(text_of(testapp.get(f"/plan/{world.date}{path}", params=other)), mine)
    for path, mine in {"": "A-T1", "/publications": "A-C04", "/publications/1": "A-T1"}.items():
        shows_only_mine(text_of(testapp.get(f"/api/days/{world.date}{path}", params=other)), mine)
    assert testapp.get(f"/api/days/{world.date}/constraints", params=other).json == {"constraints": []}
    day = testapp.get(f"/api/days/{world.date}", params=other).json
    assert day["retailer"]["name"] == "逸刻" and day["imported"]["trucks"] == 2


def test_a_planner_cannot_read_another_retailers_solve_run_or_version(testapp, dbsession, world):
    api_login(testapp, "planner-a")
    own_run = SolveRun(date=world.mine.day.date, retailer_id=world.mine.day.retailer.id, status=SolveStatus.DONE)
    dbsession.add(own_run)
    dbsession.flush()
    testapp.get(f"/plan/{world.date}/solve/{own_run.id}", status=200)
    testapp.get(f"/api/solve-runs/{own_run.id}", status=200)
    testapp.get(f"/plan/{world.date}/solve/{world.their_run.id}", status=404)  # not a run of this day
    assert testapp.get(f"/api/solve-runs/{world.their_run.id}", status=403).json == {"error": "forbidden"}
    # 联华 has a version 2, 逸刻 none: it does not exist for this planner
    testapp.get(f"/plan/{world.date}/versions/2", status=404)
    testapp.get(f"/api/days/{world.date}/publications/2", status=404)
    testapp.get(f"/plan/{world.date}/map.svg", params={"version": 2}, status=404)


def test_a_planner_cannot_change_another_retailers_constraints(testapp, dbsession, world):
    token = api_login(testapp, "planner-a")
    mine, theirs = world.mine.day, world.theirs.day
    url = f"/api/days/{world.date}/constraints"
    for truck, compound in ((theirs.trucks[0], theirs.compounds[1]), (mine.trucks[0], theirs.compounds[1]),
                            (theirs.trucks[0], mine.compounds[1])):
        testapp.post(f"/plan/{world.date}/constraints",
                     {"csrf_token": token, "action": "forbid", "truck_id": truck.code, "compound_id": compound.code},
                     status=404)
        testapp.post_json(url, {"kind": "forbid", "truck_id": truck.code, "compound_id": compound.code},
                          headers={"X-CSRF-Token": token}, status=404)
    testapp.post_json(url, {"kind": "lock", "truck_id": theirs.trucks[0].code}, headers={"X-CSRF-Token": token},
                      status=404)
    testapp.post(f"/plan/{world.date}/constraints",
                 {"csrf_token": token, "action": "remove", "constraint_id": world.their_constraint.id}, status=404)
    testapp.delete(f"{url}/{world.their_constraint.id}", headers={"X-CSRF-Token": token}, status=404)
    assert count(dbsession, PlanConstraint) == 1  # only 联华's own, untouched
    testapp.post_json(url, {"kind": "forbid", "truck_id": mine.trucks[0].code, "compound_id": mine.compounds[1].code},
                      headers={"X-CSRF-Token": token}, status=201)


def test_a_planner_cannot_import_another_retailers_fleet_or_stock(testapp, dbsession, world):
    token = api_login(testapp, "planner-a")
    their_files = make_csv_files(date=world.mine.day.date, retailer_name="联华", prefix="B")
    stock_before, batches_before = count(dbsession, Stock), count(dbsession, ImportBatch)
    response = testapp.post(
        f"/api/days/{world.date}/import",
        upload_files=[(kind, f"{kind}.csv", data) for kind, data in their_files.items()],
        headers={"X-CSRF-Token": token}, status=422,
    )
    assert {p["code"] for p in response.json["problems"]} >= {"other_retailer"}
    page = testapp.post(
        f"/plan/{world.date}/import", {"csrf_token": token},
        upload_files=[(kind, f"{kind}.csv", data) for kind, data in their_files.items()], status=400,
    )
    assert "属于其他零售商" in page.text and "联华" not in page.text  # refused without naming whose
    assert count(dbsession, Stock) == stock_before and count(dbsession, ImportBatch) == batches_before


def test_a_planner_publishes_and_solves_only_their_own_day(testapp, dbsession, world):
    token = api_login(testapp, "planner-a")
    their_schedule = world.theirs.schedule.id
    theirs = Publication.retailer_id == world.theirs.day.retailer.id
    testapp.post(f"/plan/{world.date}/publish", {"csrf_token": token, "schedule_id": their_schedule}, status=303)
    testapp.post_json(f"/api/days/{world.date}/publications", {"schedule_id": their_schedule},
                      headers={"X-CSRF-Token": token}, status=409)
    assert count(dbsession, Publication, theirs) == 2
    published = testapp.post_json(f"/api/days/{world.date}/publications", {"schedule_id": world.candidate.id},
                                  headers={"X-CSRF-Token": token}, status=201)
    assert published.json["publication"]["version"] == 2 and count(dbsession, Publication, theirs) == 2
    testapp.post(f"/api/days/{world.date}/solve", params={"retailer": world.theirs.day.retailer.id},
                 headers={"X-CSRF-Token": token}, status=202)
    assert count(dbsession, SolveRun, SolveRun.retailer_id == world.theirs.day.retailer.id) == 1


# --------------------------------------------------------------------------- drivers


def test_a_driver_sees_only_own_trucks_stop_list(testapp, world):
    api_login(testapp, "driver-a1")
    own = [s.compound.name for s in world.mine.schedule.routes[0].stops]
    others = [world.mine.stop(1, 1).compound.name] + [c.name for c in world.theirs.day.compounds]
    for truck in (None, "A-T2", "B-T1"):  # ?truck= is an admin's parameter: ignored for a driver
        params = {"truck": truck} if truck else {}
        page = testapp.get(f"/driver/{world.date}", params=params).text
        api = text_of(testapp.get(f"/api/driver/days/{world.date}", params=params))
        for text in (page, api):
            assert all(name in text for name in own)
            assert not any(name in text for name in others)
        assert testapp.get(f"/driver/{world.date}/sheet", params=params).text.count(others[0]) == 0


def test_a_driver_cannot_report_on_another_trucks_stop(testapp, dbsession, world):
    token = api_login(testapp, "driver-a1")
    for stop in (world.mine.stop(1, 1), world.theirs.stop(0, 1)):
        testapp.post(f"/driver/{world.date}/stops/{stop.id}", {"csrf_token": token, "kind": "arrived", "at": "09:31"},
                     status=404)
        testapp.post_json(f"/api/driver/stops/{stop.id}/events", {"kind": "arrived", "at": "09:31"},
                          headers={"X-CSRF-Token": token}, status=404)
    assert count(dbsession, StopEvent) == 0
    own = world.mine.stop(0, 1)
    testapp.post_json(f"/api/driver/stops/{own.id}/events", {"kind": "arrived", "at": "10:40"},
                      headers={"X-CSRF-Token": token}, status=201)


def test_drivers_and_planners_stay_out_of_each_others_parts(testapp, world):
    api_login(testapp, "driver-a1")
    for path in (f"/plan/{world.date}", f"/plan/{world.date}/versions", "/plan"):
        testapp.get(path, status=403)
    for path in (f"/api/days/{world.date}", f"/api/days/{world.date}/publications", f"/api/solve-runs/{world.their_run.id}"):
        assert testapp.get(path, status=403).json == {"error": "forbidden"}
    testapp.post("/logout", {"csrf_token": page_token(testapp)}, status=302)
    api_login(testapp, "planner-a")
    testapp.get(f"/driver/{world.date}", status=403)
    testapp.get(f"/api/driver/days/{world.date}", status=403)


# --------------------------------------------------------------------------- committees


def test_a_committee_link_shows_only_its_own_compound(testapp, world):
    compound = world.mine.day.compounds[0]
    everyone_else = [c for c in world.mine.day.compounds[1:] + world.theirs.day.compounds]
    for path in (f"/c/{compound.access_token}", f"/c/{compound.access_token}/notice",
                 f"/api/compounds/{compound.access_token}"):
        text = text_of(testapp.get(path))
        assert compound.name in text and compound.contact not in text
        for other in everyone_else:
            assert other.name not in text and other.contact not in text and other.access_token not in text


def test_a_wrong_committee_token_is_404_everywhere(testapp, dbsession, world):
    token = csrf_token(testapp)
    wrong = world.mine.day.compounds[0].access_token[:-2] + "xx"
    for path in (f"/c/{wrong}", f"/c/{wrong}/notice", f"/c/{wrong}/qr.svg", f"/api/compounds/{wrong}"):
        testapp.get(path, status=404)
    testapp.post(f"/c/{wrong}/report", {"csrf_token": token, "date": world.date, "reason": "x"}, status=404)
    testapp.post_json(f"/api/compounds/{wrong}/report", {"reason": "x"}, headers={"X-CSRF-Token": token}, status=404)
    assert count(dbsession, CommitteeReport) == 0


# --------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize("path", ["/plan", "/plan/{date}", "/plan/{date}/versions", "/plan/{date}/publish",
                                  "/plan/{date}/export.json", "/driver", "/driver/{date}", "/driver/{date}/sheet"])
def test_anonymous_pages_send_to_login_and_back(testapp, world, path):
    path = path.format(date=world.date)
    response = testapp.get(path, status=302)
    assert response.location == f"http://example.com/login?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/days/{date}"),
    ("GET", "/api/days/{date}/constraints"),
    ("GET", "/api/days/{date}/publications"),
    ("GET", "/api/days/{date}/publications/1"),
    ("GET", "/api/solve-runs/{run}"),
    ("GET", "/api/driver/days/{date}"),
    ("POST", "/api/days/{date}/solve"),
    ("POST", "/api/days/{date}/publications"),
    ("POST", "/api/days/{date}/constraints"),
    ("DELETE", "/api/days/{date}/constraints/{constraint}"),
    ("POST", "/api/days/{date}/import"),
    ("POST", "/api/driver/stops/{stop}/events"),
])
def test_anonymous_api_calls_are_403(testapp, dbsession, world, method, path):
    path = path.format(date=world.date, run=world.their_run.id, constraint=world.their_constraint.id,
                       stop=world.mine.stop(0, 1).id)
    token = csrf_token(testapp)  # even with a valid token of an anonymous session
    response = testapp.request(path, method=method, headers={"X-CSRF-Token": token}, status=403)
    assert response.json == {"error": "forbidden"}
    assert count(dbsession, SolveRun) == 1 and count(dbsession, StopEvent) == 0 and count(dbsession, PlanConstraint) == 1


# --------------------------------------------------------------------------- CSRF


def _csv_uploads(world):
    files = make_csv_files(date=world.mine.day.date, prefix="A")
    return [(kind, f"{kind}.csv", data) for kind, data in files.items()]


#: area -> (user, request builder, what a success adds, its status)
STATE_CHANGES = {
    "page import": ("planner-a", lambda w: ("POST", f"/plan/{w.date}/import", {}, _csv_uploads(w)), ImportBatch, 303),
    "api import": ("planner-a", lambda w: ("POST", f"/api/days/{w.date}/import", {}, _csv_uploads(w)), ImportBatch, 201),
    "page solve": ("planner-a", lambda w: ("POST", f"/plan/{w.date}/solve", {}, None), SolveRun, 303),
    "api solve": ("planner-a", lambda w: ("POST", f"/api/days/{w.date}/solve", None, None), SolveRun, 202),
    "page constraint": ("planner-a", lambda w: ("POST", f"/plan/{w.date}/constraints", {
        "action": "pin", "truck_id": w.mine.day.trucks[0].code, "compound_id": w.mine.day.compounds[0].code}, None),
        PlanConstraint, 303),
    "api constraint": ("planner-a", lambda w: ("POST", f"/api/days/{w.date}/constraints", {
        "kind": "pin", "truck_id": "A-T1", "compound_id": "A-C01"}, None), PlanConstraint, 201),
    "page publish": ("planner-a", lambda w: ("POST", f"/plan/{w.date}/publish", {"schedule_id": w.candidate.id}, None),
                     Publication, 303),
    "api publish": ("planner-a", lambda w: ("POST", f"/api/days/{w.date}/publications",
                                            {"schedule_id": w.candidate.id}, None), Publication, 201),
    "page committee report": (None, lambda w: ("POST", f"/c/{w.mine.day.compounds[0].access_token}/report", {
        "date": w.date, "reason": "封控", "code": w.mine.day.compounds[0].committee_code}, None), CommitteeReport, 303),
    "api committee report": (None, lambda w: ("POST", f"/api/compounds/{w.mine.day.compounds[0].access_token}/report",
                                              {"reason": "封控", "code": w.mine.day.compounds[0].committee_code}, None),
                             CommitteeReport, 201),
    "page driver event": ("driver-a1", lambda w: ("POST", f"/driver/{w.date}/stops/{w.mine.stop(0, 1).id}", {
        "kind": "arrived", "at": "10:40"}, None), StopEvent, 303),
    "api driver event": ("driver-a1", lambda w: ("POST", f"/api/driver/stops/{w.mine.stop(0, 1).id}/events", {
        "kind": "arrived", "at": "10:40"}, None), StopEvent, 201),
}


def _send(testapp, world, build, token: str | None, status):
    method, path, params, uploads = build(world)
    api = path.startswith("/api/")
    headers = {"X-CSRF-Token": token} if api and token else {}
    if uploads is not None:
        fields = dict(params, csrf_token=token) if token and not api else params
        return testapp.post(path, fields, upload_files=uploads, headers=headers, status=status)
    if api:
        return testapp.post_json(path, params or {}, headers=headers, status=status)
    return testapp.post(path, dict(params, csrf_token=token) if token else params, status=status)


@pytest.mark.parametrize("area", sorted(STATE_CHANGES))
def test_every_state_change_needs_the_sessions_csrf_token(testapp, dbsession, world, area):
    user, build, model, success = STATE_CHANGES[area]
    token = api_login(testapp, user) if user else csrf_token(testapp)
    before = count(dbsession, model)
    for missing_or_wrong in (None, "not-the-token"):
        refused = _send(testapp, world, build, missing_or_wrong, status=403)
        assert "CSRF" in refused.text or "表单已过期" in refused.text
    assert count(dbsession, model) == before
    _send(testapp, world, build, token, status=success)
    assert count(dbsession, model) == before + 1


def test_login_and_logout_need_the_csrf_token(testapp, world):
    testapp.get("/login")
    testapp.post("/login", {"username": "planner-a", "password": "correct horse battery"}, status=403)
    assert testapp.get("/api/session").json["user"] is None
    token = api_login(testapp, "planner-a")
    testapp.post("/logout", status=403)
    testapp.post("/logout", {"csrf_token": "not-the-token"}, status=403)
    assert testapp.get("/api/session").json["user"]["username"] == "planner-a"
    testapp.post("/logout", {"csrf_token": token}, status=302)
    assert testapp.get("/api/session").json["user"] is None


def test_a_token_from_another_session_is_refused(testapp, app, dbsession, tm, world):
    import webtest

    other = webtest.TestApp(app, extra_environ=dict(testapp.extra_environ))
    their_token = api_login(other, "planner-b")
    api_login(testapp, "planner-a")
    testapp.post_json(f"/api/days/{world.date}/constraints",
                      {"kind": "pin", "truck_id": "A-T1", "compound_id": "A-C01"},
                      headers={"X-CSRF-Token": their_token}, status=403)
    assert count(dbsession, PlanConstraint) == 1


# --------------------------------------------------------------------------- one place, closed by default


def test_a_view_registered_without_a_permission_is_closed_even_to_an_admin(app_settings, dbengine, testapp,
                                                                            dbsession):
    from pyramid.config import Configurator
    from pyramid.response import Response
    from pyramid.security import NO_PERMISSION_REQUIRED

    with Configurator(settings=dict(app_settings, dbengine=dbengine)) as config:
        config.include("trucks")
        config.include("views")
        config.scan("views")
        config.add_route("forgotten", "/forgotten")
        config.add_view(lambda request: Response("open"), route_name="forgotten")
        config.add_route("public", "/public")
        config.add_view(lambda request: Response("open"), route_name="public", permission=NO_PERMISSION_REQUIRED)
    import webtest

    client = webtest.TestApp(config.make_wsgi_app(), extra_environ=dict(testapp.extra_environ))
    make_user(dbsession, Role.ADMIN, username="root")
    api_login(client, "root")
    client.get("/forgotten", status=403)
    assert client.get("/public").text == "open"


def test_a_coordinator_reads_every_retailers_plans_and_changes_none(testapp, dbsession, world):
    make_user(dbsession, Role.COORDINATOR, username="coordinator")
    token = api_login(testapp, "coordinator")
    mine, theirs = world.mine.day.retailer, world.theirs.day.retailer
    for retailer, shown in ((mine, "A-T1"), (theirs, "B-T1")):
        day = testapp.get(f"/api/days/{world.date}", params={"retailer": retailer.id}).json
        assert day["retailer"]["name"] == retailer.name and shown in json.dumps(day)
        page = testapp.get(f"/plan/{world.date}", params={"retailer": retailer.id})
        assert shown in page.text and retailer.name in page.text
        assert not {"import-form", "solve-form", "pin-form"} & {form.id for form in page.forms.values()}
        assert "publish-form" not in testapp.get(f"/plan/{world.date}/publish").forms
    assert testapp.get(f"/api/solve-runs/{world.their_run.id}").json["id"] == world.their_run.id
    before = (count(dbsession, Publication), count(dbsession, SolveRun), count(dbsession, PlanConstraint))
    testapp.post_json(f"/api/days/{world.date}/publications", {}, headers={"X-CSRF-Token": token}, status=403)
    testapp.post(f"/api/days/{world.date}/solve", headers={"X-CSRF-Token": token}, status=403)
    testapp.post_json(f"/api/days/{world.date}/constraints", {"kind": "lock", "truck_id": "B-T1"},
                      headers={"X-CSRF-Token": token}, status=403)
    testapp.delete(f"/api/days/{world.date}/constraints/{world.their_constraint.id}",
                   headers={"X-CSRF-Token": token}, status=403)
    assert (count(dbsession, Publication), count(dbsession, SolveRun), count(dbsession, PlanConstraint)) == before
    testapp.get(f"/driver/{world.date}", status=403)


def test_only_the_coordinator_and_the_admin_own_the_districts_compounds(dbsession, world):
    from pyramid.testing import DummyRequest

    from views.contexts import DistrictContext, RetailerContext
    from views.security import Permission, SessionSecurityPolicy

    policy = SessionSecurityPolicy()
    users = {
        "admin": make_user(dbsession, Role.ADMIN, username="root"),
        "coordinator": make_user(dbsession, Role.COORDINATOR, username="zhao"),
        "planner": make_user(dbsession, Role.PLANNER, username="wang", retailer=world.mine.day.retailer),
        "driver": make_user(dbsession, Role.DRIVER, username="li", truck=world.mine.day.trucks[0]),
    }
    district = DistrictContext(DummyRequest())  # the district as a whole: no day in the path
    allowed = {name for name, user in users.items()
               if policy.acl.permits(district, policy.principals(user), Permission.DISTRICT_COMPOUNDS_WRITE)}
    assert allowed == {"admin", "coordinator"}
    assert not policy.acl.permits(district, policy.principals(None), Permission.DISTRICT_READ)
    # a retailer's plans: the coordinator reads them, never writes or publishes
    plans = RetailerContext.__new__(RetailerContext)
    plans.retailer = world.mine.day.retailer
    coordinator = policy.principals(users["coordinator"])
    assert policy.acl.permits(plans, coordinator, Permission.PLAN_READ)
    assert not policy.acl.permits(plans, coordinator, Permission.PLAN_WRITE)
    assert not policy.acl.permits(plans, coordinator, Permission.PLAN_PUBLISH)
