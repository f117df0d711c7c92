"""Every route of the app × every role × its methods, against a table of expected statuses.

The routes and their methods are read from the running app's registry, so a route added
without a row in ``EXPECTED`` fails ``test_the_table_names_every_route_and_method`` (and a row
for a route that is gone fails it too). Each request runs inside a savepoint rolled back after
it, so one role's change never decides another role's answer.

Roles: a visitor, the planners of retailers A (逸刻) and B (联华), the drivers of A's and B's
first trucks, the district's coordinator, an admin, and a compound committee (a visitor
holding compound A-C01's link). Paths name A's rows: A's solve run, A's constraint, version 1,
A's truck's first stop, compound A-C01's token, id and committee report; a visitor without the link gets a token that
names no compound. State changes carry the session's CSRF token and an empty body, so an
allowed role gets past the permission to the body's check (400/409/422) or succeeds, and a
refused one gets 403 (or, for a visitor's page, the login page: 302).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import webtest
from pyramid.interfaces import IRoutesMapper

from tests.factories import make_day, make_user
from tests.fieldday import FIRST_PLAN, PublishedDay, make_schedule, publish_day
from tests.views.api_helpers import api_login, csrf_token
from trucks.models import BreakdownReport, CommitteeReport, ConstraintKind, PlanConstraint, Role, SolveRun, SolveStatus
from trucks.publishing import publish

ROLES = ("visitor", "planner_a", "planner_b", "driver_a", "driver_b", "coordinator", "admin", "committee")

#: "route METHOD" -> the status each role in ROLES gets, in that order.
EXPECTED = {
    "home GET":                      "302 302 302 302 302 302 302 302",
    "lang GET":                      "302 302 302 302 302 302 302 302",
    "login GET":                     "200 200 200 200 200 200 200 200",
    "login POST":                    "400 400 400 400 400 400 400 400",
    "logout POST":                   "302 302 302 302 302 302 302 302",
    "committee GET":                 "404 200 200 200 200 200 200 200",
    "committee_notice GET":          "404 200 200 200 200 200 200 200",
    "committee_qr GET":              "404 200 200 200 200 200 200 200",
    "committee_report GET":          "404 200 200 200 200 200 200 200",
    "committee_report POST":         "404 400 400 400 400 400 400 400",
    "committee_withdraw POST":       "404 403 403 403 403 403 403 403",
    "links GET":                     "302 200 200 403 403 200 200 302",
    "links_csv GET":                 "302 200 200 403 403 200 200 302",
    "links_notices GET":             "302 200 200 403 403 200 200 302",
    "links_qr_sheet GET":            "302 200 200 403 403 200 200 302",
    "link_rotate POST":              "403 400 404 403 403 400 400 403",
    "link_webhook GET":              "302 200 404 403 403 200 200 302",
    "link_webhook POST":             "403 403 404 403 403 303 303 403",
    "plan_home GET":                 "302 302 302 403 403 302 302 302",
    "plan_day GET":                  "302 200 200 403 403 200 200 302",
    "plan_import GET":               "302 303 303 403 403 303 303 302",
    "plan_import POST":              "403 400 400 403 403 403 400 403",
    "plan_solve GET":                "302 303 303 403 403 303 303 302",
    "plan_solve POST":               "403 303 303 403 403 403 303 403",
    "plan_solve_status GET":         "302 200 404 403 403 200 200 302",
    "plan_solve_cancel POST":        "403 303 404 403 403 403 303 403",
    "plan_map GET":                  "302 200 200 403 403 200 200 302",
    "plan_gantt GET":                "302 200 200 403 403 200 200 302",
    "plan_constraints GET":          "302 303 303 403 403 303 303 302",
    "plan_constraints POST":         "403 400 400 403 403 403 400 403",
    "plan_publish GET":              "302 200 200 403 403 200 200 302",
    "plan_publish POST":             "403 404 404 403 403 403 404 403",
    "plan_versions GET":             "302 200 200 403 403 200 200 302",
    "plan_version GET":              "302 200 200 403 403 200 200 302",
    "plan_export GET":               "302 200 200 403 403 200 200 302",
    "plan_replan GET":               "302 303 303 403 403 303 303 302",
    "plan_replan POST":              "403 303 303 403 403 403 303 403",
    "plan_urgent GET":               "302 303 303 403 403 303 303 302",
    "plan_urgent POST":              "403 303 303 403 403 403 303 403",
    "plan_week GET":                 "302 200 200 403 403 200 200 302",
    "plan_report_decision POST":     "403 303 404 403 403 403 303 403",
    "plan_breakdown POST":           "403 303 404 403 403 403 303 403",
    "district_home GET":             "302 403 403 403 403 302 302 302",
    "district_compounds GET":        "302 403 403 403 403 200 200 302",
    "district_day GET":              "302 403 403 403 403 200 200 302",
    "district_import GET":           "302 403 403 403 403 302 302 302",
    "district_import POST":          "403 403 403 403 403 400 400 403",
    "district_assignment GET":       "302 403 403 403 403 302 302 302",
    "district_assignment POST":      "403 403 403 403 403 400 400 403",
    "district_solve POST":           "403 403 403 403 403 303 303 403",
    "district_week GET":             "302 403 403 403 403 200 200 302",
    "district_week_csv GET":         "302 403 403 403 403 200 200 302",
    "users GET":                     "302 403 403 403 403 200 200 302",
    "users POST":                    "403 403 403 403 403 400 400 403",
    "driver_home GET":               "302 403 403 303 303 403 303 302",
    "driver_day GET":                "302 403 403 200 200 403 200 302",
    "driver_sheet GET":              "302 403 403 200 200 403 200 302",
    "driver_stop_event POST":        "403 403 403 303 404 403 404 403",
    "driver_breakdown POST":         "403 403 403 303 303 403 404 403",
    "api_openapi GET":               "200 200 200 200 200 200 200 200",
    "api_docs GET":                  "200 200 200 200 200 200 200 200",
    "api_session GET":               "200 200 200 200 200 200 200 200",
    "api_day GET":                   "403 200 200 403 403 200 200 403",
    "api_import POST":               "403 415 415 403 403 403 415 403",
    "api_solve POST":                "403 202 202 403 403 403 202 403",
    "api_solve_run GET":             "403 200 403 403 403 200 200 403",
    "api_solve_run_cancel POST":     "403 409 403 403 403 403 409 403",
    "api_constraints GET":           "403 200 200 403 403 200 200 403",
    "api_constraints POST":          "403 422 422 403 403 403 422 403",
    "api_constraint DELETE":         "403 204 404 403 403 403 204 403",
    "api_publications GET":          "403 200 200 403 403 200 200 403",
    "api_publications POST":         "403 422 422 403 403 403 422 403",
    "api_publication GET":           "403 200 200 403 403 200 200 403",
    "api_replan POST":               "403 422 422 403 403 403 422 403",
    "api_urgent GET":                "403 422 422 403 403 422 422 403",
    "api_urgent POST":               "403 422 422 403 403 403 422 403",
    "api_compound GET":              "404 200 200 200 200 200 200 200",
    "api_compound_report POST":      "404 403 403 403 403 403 403 403",
    "api_compound_withdraw POST":    "404 403 403 403 403 403 403 403",
    "api_links GET":                 "403 200 200 403 403 200 200 403",
    "api_link_rotate POST":          "403 422 404 403 403 422 422 403",
    "api_report_decision POST":      "403 422 404 403 403 403 422 403",
    "api_district_solve POST":       "403 403 403 403 403 202 202 403",
    "api_driver_day GET":            "403 403 403 200 200 403 400 403",
    "api_driver_stop_event POST":    "403 403 403 422 422 403 400 403",
    "api_driver_breakdown POST":     "403 403 403 201 201 403 400 403",
}

#: Routes the matrix does not request, and why.
NOT_REQUESTED = {"__static/": "static files: public by design (NO_PERMISSION_REQUIRED)"}


def route_methods(app) -> dict[str, tuple[str, ...]]:
    """Each route's name and the methods its views answer, read from the app's registry (a view
    without a method predicate answers any: the matrix tries GET and POST)."""
    introspector = app.registry.introspector
    found = {}
    for route in introspector.get_category("routes"):
        name = route["introspectable"]["name"]
        methods = set()
        for view in introspector.related(route["introspectable"]):
            if view.category_name != "views":
                continue
            declared = view["request_methods"]
            methods |= {declared} if isinstance(declared, str) else set(declared or ("GET", "POST"))
        found[name] = tuple(sorted(methods - {"HEAD"}))
    return found


def test_the_table_names_every_route_and_method(app):
    served = {f"{name} {method}" for name, methods in route_methods(app).items() if name not in NOT_REQUESTED
              for method in methods}
    assert not served - set(EXPECTED), f"routes without a rule in EXPECTED: {sorted(served - set(EXPECTED))}"
    assert not set(EXPECTED) - served, f"rules for routes the app does not serve: {sorted(set(EXPECTED) - served)}"
    mapper = app.registry.getUtility(IRoutesMapper)
    assert set(NOT_REQUESTED) <= {route.name for route in mapper.get_routes()}


@dataclass
class Matrix:
    mine: PublishedDay
    theirs: PublishedDay
    run: SolveRun
    constraint: PlanConstraint
    report: CommitteeReport
    breakdown: BreakdownReport
    clients: dict[str, webtest.TestApp]
    tokens: dict[str, str]

    def path(self, app, route_name: str, role: str) -> str:
        compound = self.mine.day.compounds[0]
        values = {
            "date": self.mine.day.date.isoformat(),
            "run_id": self.run.id,
            "constraint_id": self.constraint.id,
            "version": 1,
            "format": "json",
            "code": "en",
            "stop_id": self.mine.stop(0, 1).id,
            "report_id": self.report.id,
            "breakdown_id": self.breakdown.id,
            "compound_id": compound.id,
            "token": "no-such-compound" if role == "visitor" else compound.access_token,
        }
        route = app.registry.getUtility(IRoutesMapper).get_route(route_name)
        return route.generate({name: str(value) for name, value in values.items()})


@pytest.fixture
def matrix(app, testapp, dbsession) -> Matrix:
    mine = publish_day(dbsession, prefix="A")
    their_day = make_day(dbsession, date=mine.day.date, retailer_name="联华", prefix="B")
    their_schedule = make_schedule(dbsession, their_day, FIRST_PLAN)
    theirs = PublishedDay(their_day, their_schedule, publish(dbsession, their_schedule, "planner-b"))
    make_schedule(dbsession, mine.day, {0: FIRST_PLAN[0]})  # A's newer schedule, not yet published
    run = SolveRun(date=mine.day.date, retailer_id=mine.day.retailer.id, status=SolveStatus.DONE)
    constraint = PlanConstraint(date=mine.day.date, kind=ConstraintKind.FORBID, truck=mine.day.trucks[0],
                                compound=mine.day.compounds[1])
    report = CommitteeReport(compound_id=mine.day.compounds[0].id, date=mine.day.date, reason="封控")
    breakdown = BreakdownReport(truck_id=mine.day.trucks[0].id, date=mine.day.date,
                                at=dt.datetime.combine(mine.day.date, dt.time(11, 0)))
    dbsession.add_all([run, constraint, report, breakdown])
    users = {
        "planner_a": dict(role=Role.PLANNER, retailer=mine.day.retailer),
        "planner_b": dict(role=Role.PLANNER, retailer=their_day.retailer),
        "driver_a": dict(role=Role.DRIVER, truck=mine.day.trucks[0]),
        "driver_b": dict(role=Role.DRIVER, truck=their_day.trucks[0]),
        "coordinator": dict(role=Role.COORDINATOR),
        "admin": dict(role=Role.ADMIN),
    }
    for role, bound in users.items():
        make_user(dbsession, username=role, **bound)
    dbsession.flush()
    clients, tokens = {}, {}
    for role in ROLES:
        client = webtest.TestApp(app, extra_environ=dict(testapp.extra_environ))
        tokens[role] = api_login(client, role) if role in users else csrf_token(client)
        clients[role] = client
    return Matrix(mine, theirs, run, constraint, report, breakdown, clients, tokens)


def request_as(matrix: Matrix, app, role: str, route_name: str, method: str) -> int:
    """The status of one request; the client's cookies are as before afterwards (a logout or a
    login must not change the next request's role)."""
    client = matrix.clients[role]
    cookies = list(client.cookiejar)
    try:
        return _send(client, matrix.tokens[role], matrix.path(app, route_name, role), method)
    finally:
        client.cookiejar.clear()
        for cookie in cookies:
            client.cookiejar.set_cookie(cookie)


def _send(client, token: str, path: str, method: str) -> int:
    if method == "GET":
        return client.get(path, expect_errors=True).status_int
    headers = {"X-CSRF-Token": token}
    if method == "DELETE":
        return client.delete(path, headers=headers, expect_errors=True).status_int
    assert method == "POST", f"the matrix does not send {method} yet"
    if path.startswith("/api/"):
        return client.post(path, b"{}", headers=headers, content_type="application/json",
                           expect_errors=True).status_int
    return client.post(path, {"csrf_token": token}, headers=headers, expect_errors=True).status_int


def test_every_route_answers_each_role_as_the_table_says(app, dbsession, matrix):
    methods = route_methods(app)
    wrong = []
    for rule, statuses in EXPECTED.items():
        route_name, method = rule.split()
        if method not in methods.get(route_name, ()):
            continue  # reported by test_the_table_names_every_route_and_method
        for role, expected in zip(ROLES, statuses.split(), strict=True):
            savepoint = dbsession.begin_nested()
            try:
                status = request_as(matrix, app, role, route_name, method)
            finally:
                savepoint.rollback()
            if status != int(expected):
                wrong.append(f"{rule} as {role}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
