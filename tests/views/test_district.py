"""The coordinator's pages through the real app: the district's day before and after a district
solve, the assignment's proposal, pin and confirmation, the compounds, and the users page."""
from __future__ import annotations

import pytest
import webtest
from sqlalchemy import func, select

from bench.district import DATE, district_files
from scheduling import solve_day
from tests.conftest import app_settings_for
from tests.factories import make_user
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import login, table_rows
from trucks.district import demand_retailers, split_result
from trucks.importer import import_day
from trucks.models import Compound, Retailer, Role, Schedule, SolveRun, SolveStatus, Truck, User
from trucks.services import PlanningSettings, build_problem, store_schedule
from views import main

DAY_URL = f"/district/{DATE.isoformat()}"
COMPOUNDS = 90


@pytest.fixture
def district(dbsession):
    import_day(dbsession, DATE, district_files(COMPOUNDS))
    make_user(dbsession, Role.COORDINATOR, username="coordinator")
    retailers = {r.name: r for r in dbsession.scalars(select(Retailer))}
    make_user(dbsession, Role.PLANNER, username="planner-c", retailer=retailers["丙"])
    return retailers


def served_column(page) -> list[int]:
    return [int(row[4]) for row in table_rows(page, "table.district-load")]


def solve_each_retailer(dbsession, seconds: float) -> None:
    for retailer_id in set(demand_retailers(dbsession, DATE).values()):
        day = build_problem(dbsession, DATE, retailer_id, PlanningSettings())
        store_schedule(dbsession, day, solve_day(day.problem, time_limit=seconds))


def solve_district(dbsession, seconds: float) -> None:
    """What a district solve stores, inside the test's transaction."""
    day = build_problem(dbsession, DATE, None, PlanningSettings())
    owners = dict(dbsession.execute(select(Truck.code, Truck.retailer_id)).all())
    result = solve_day(day.problem, time_limit=seconds)
    parts = split_result(day, result, owners, demand_retailers(dbsession, DATE), sorted(set(owners.values())))
    for part in parts.values():
        store_schedule(dbsession, part.day, part.result)


def test_the_district_page_shows_the_district_solve_serving_more(testapp, dbsession, district):
    login(testapp, "coordinator")
    page = testapp.get(DAY_URL)
    assert "最近仓库" in page.text  # the fallback rule is named
    assert [row[0] for row in table_rows(page, "table.district-load")] == ["丙", "乙", "甲"]

    solve_each_retailer(dbsession, 1.0)
    nearest = sum(served_column(testapp.get(DAY_URL)))
    solve_district(dbsession, 3.0)
    page = testapp.get(DAY_URL)
    assert sum(served_column(page)) >= nearest
    scarce = table_rows(page, "table.district-scarce")  # dairy and eggs are short in the district
    assert {"奶制品", "禽蛋"} <= {row[0] for row in scarce}
    testapp.set_cookie("lang", "en")
    english = testapp.get(DAY_URL)
    assert "load against its capacity" in english.text


def test_propose_pin_and_confirm_through_the_page(testapp, dbsession, district):
    login(testapp, "coordinator")
    page = testapp.get(DAY_URL)
    page.forms["propose-form"].submit("action", value="propose", status=303)
    page = testapp.get(DAY_URL)
    assert "待确认" in page.text
    rows = table_rows(page, "table.district-assignment")
    assert len(rows) == COMPOUNDS

    compound = dbsession.scalar(select(Compound).order_by(Compound.code).limit(1))
    token = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    testapp.post(f"{DAY_URL}/assignment", {"csrf_token": token, "action": "pin", "compound_id": compound.id,
                                           "retailer_id": district["丙"].id}, status=303)
    testapp.post(f"{DAY_URL}/assignment", {"csrf_token": token, "action": "confirm"}, status=303)
    page = testapp.get(DAY_URL)
    assert "分配已确认" in page.text
    assert demand_retailers(dbsession, DATE)[compound.id] == district["丙"].id

    testapp.post("/logout", {"csrf_token": token})
    login(testapp, "planner-c")
    plan = testapp.get(f"/plan/{DATE.isoformat()}")
    stats = {stat.get_text(strip=True).lstrip("0123456789"): int(stat.b.get_text()) for stat in plan.html.select(".stat")}
    assigned = sum(1 for r in demand_retailers(dbsession, DATE).values() if r == district["丙"].id)
    assert stats["个小区有需求"] == assigned  # the planner plans what the coordinator gave 丙
    testapp.get(DAY_URL, status=403)  # a planner has no district page


def test_bad_assignment_input_is_refused_clearly(testapp, district):
    login(testapp, "coordinator")
    token = testapp.get(DAY_URL).html.find("meta", attrs={"name": "csrf-token"})["content"]
    testapp.post(f"{DAY_URL}/assignment", {"csrf_token": token, "action": "explode"}, status=400)
    testapp.post(f"{DAY_URL}/assignment", {"csrf_token": token, "action": "pin", "compound_id": "x"}, status=400)
    testapp.post(f"{DAY_URL}/assignment", {"csrf_token": token, "action": "confirm"}, status=303)
    assert "no assignment proposed" in testapp.get(DAY_URL).text
    testapp.post(f"{DAY_URL}/assignment", {"action": "confirm"}, status=403)  # no CSRF token


def test_compounds_page_lists_master_data(testapp, district):
    login(testapp, "coordinator")
    page = testapp.get("/district/compounds")
    assert len(table_rows(page, "table.district-compounds")) == COMPOUNDS


def test_users_page_coordinator_manages_planners_and_drivers_only(testapp, dbsession, district):
    login(testapp, "coordinator")
    page = testapp.get("/users")
    listed = {row[0] for row in table_rows(page, "table.users")}
    assert "planner-c" in listed and "coordinator" not in listed
    form = page.forms["new-user"]
    form["username"], form["password"], form["role"] = "planner-a", "long enough pw", "planner"
    form["retailer_id"] = str(district["甲"].id)
    form.submit(status=303)
    assert dbsession.scalar(select(User.role).where(User.username == "planner-a")) == "planner"
    token = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    refused = testapp.post("/users", {"csrf_token": token, "username": "boss", "password": "long enough pw",
                                      "role": "admin"}, status=400)
    assert "admin" in refused.text
    assert dbsession.scalar(select(User).where(User.username == "boss")) is None


@pytest.mark.parametrize("role", [Role.PLANNER, Role.DRIVER])
def test_planners_and_drivers_have_no_district_pages(testapp, dbsession, district, role):
    truck = dbsession.scalar(select(Truck).limit(1))
    bound = {"retailer": district["甲"]} if role == Role.PLANNER else {"truck": truck}
    make_user(dbsession, role, username="someone", **bound)
    login(testapp, "someone")
    for url in (DAY_URL, "/district/compounds", "/users"):
        testapp.get(url, status=403)


def test_api_starts_the_district_solve_once(testapp, dbsession, district):
    token = api_login(testapp, "coordinator")
    url = f"/api/districts/{DATE.isoformat()}/solve"
    started = documented(testapp, testapp.post(url, headers={"X-CSRF-Token": token}, status=202), "post_district_solve")
    assert sorted(run["status"] for run in started["runs"]) == ["queued"] * 3
    refused = documented(testapp, testapp.post(url, headers={"X-CSRF-Token": token}, status=409), "post_district_solve")
    assert refused["run_id"] in {run["id"] for run in started["runs"]}
    assert dbsession.scalar(select(func.count()).select_from(SolveRun)) == 3
    page = testapp.get(DAY_URL)  # the page follows the runs while they are alive
    assert 'http-equiv="refresh"' in page.text and page.text.count("进行中 0%") == 3
    assert page.html.select_one("#solve form") is None
    empty = testapp.post("/api/districts/2022-05-01/solve", headers={"X-CSRF-Token": token}, status=422)
    assert "nothing to solve" in documented(testapp, empty, "post_district_solve")["error"]


def test_the_coordinator_reads_every_retailers_plan_and_changes_none(testapp, dbsession, district):
    solve_each_retailer(dbsession, 0.5)
    login(testapp, "coordinator")
    day = testapp.get(DAY_URL)
    link = day.html.select_one("table.district-load a")
    plan = testapp.get(link["href"])
    assert plan.status_int == 200 and link.get_text() in plan.text
    token = plan.html.find("meta", attrs={"name": "csrf-token"})["content"]
    before = dbsession.scalar(select(func.count()).select_from(SolveRun))
    testapp.post(f"/plan/{DATE.isoformat()}/solve", {"csrf_token": token}, status=403)
    testapp.post(f"/plan/{DATE.isoformat()}/publish", {"csrf_token": token}, status=403)
    assert dbsession.scalar(select(func.count()).select_from(SolveRun)) == before


def test_the_coordinator_imports_the_districts_files_all_or_nothing(testapp, dbsession):
    make_user(dbsession, Role.COORDINATOR, username="coordinator")
    login(testapp, "coordinator")
    files = district_files(COMPOUNDS)
    form = testapp.get(DAY_URL).forms["import-form"]
    for kind in ("trucks", "compounds", "stock"):
        form[kind] = (f"{kind}.csv", files[kind])
    form["demand"] = ("demand.csv", files["demand"].replace(b",vegetables,", b",vegetables,-5,", 1))
    failed = form.submit(status=400)
    assert table_rows(failed, "table.problems")
    assert dbsession.scalar(select(func.count()).select_from(Compound)) == 0
    form = testapp.get(DAY_URL).forms["import-form"]
    for kind in ("trucks", "compounds", "stock", "demand"):
        form[kind] = (f"{kind}.csv", files[kind])
    form.submit(status=303)
    assert dbsession.scalar(select(func.count()).select_from(Compound)) == COMPOUNDS
    assert len(demand_retailers(dbsession, DATE)) == COMPOUNDS


def test_the_district_solve_runs_as_a_task_once_the_request_commits(file_database):
    """The button only records the runs; the task (eager here, a worker elsewhere) solves them
    together after the commit, and every retailer's run ends done with its part as schedule."""
    settings = app_settings_for(file_database)
    settings["scheduling.time_limit_seconds"] = "3"
    app = main({}, **settings)
    factory = app.registry["dbsession_factory"]
    with factory.begin() as session:
        import_day(session, DATE, district_files(40))
        make_user(session, Role.COORDINATOR, username="coordinator")
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    login(testapp, "coordinator")
    testapp.get(DAY_URL).forms["district-solve-form"].submit(status=303)
    with factory() as session:
        runs = list(session.scalars(select(SolveRun)))
        assert len(runs) == 3 and {run.status for run in runs} == {SolveStatus.DONE}
        assert all(session.get(Schedule, run.schedule_id).params["district"] for run in runs)
    factory.kw["bind"].dispose()
