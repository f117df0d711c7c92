"""Solving through the page end to end: the solve task on a committed database (eagerly, as
testing.ini says), the page polling its progress, re-solving with a pin, and a second solve of
the same day refused."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import webtest
from sqlalchemy import func, select

from tests.conftest import app_settings_for
from tests.factories import make_day, make_user
from tests.views.planner_helpers import login, table_rows
from trucks.models import Compound, Role, Schedule, ScheduleRoute, ScheduleStop, SolveRun, SolveStatus, Truck
from views import main

POLL_TIMEOUT_SECONDS = 60


@pytest.fixture
def live(file_database):
    """The real app on a committed SQLite file, with one planner's tiny day in it."""
    settings = app_settings_for(file_database)
    settings["scheduling.time_limit_seconds"] = "0.5"
    app = main({}, **settings)
    factory = app.registry["dbsession_factory"]
    with factory.begin() as session:
        day = make_day(session, prefix="BG")
        make_user(session, Role.PLANNER, username="bg-planner", retailer=day.retailer)
        facts = {"date": day.date.isoformat(), "retailer_id": day.retailer.id}
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    login(testapp, "bg-planner")
    yield testapp, factory, facts
    factory.kw["bind"].dispose()


def solve_through_page(testapp, factory, date: str) -> dict:
    """Presses the solve button and polls the run as the page's script does, until it ends
    (testing.ini runs the task eagerly: it has usually ended when the page comes back)."""
    testapp.get(f"/plan/{date}").forms["solve-form"].submit(status=303).follow()
    with factory() as session:
        run_id = session.scalar(select(func.max(SolveRun.id)))
    deadline = time.monotonic() + POLL_TIMEOUT_SECONDS
    while True:
        status = testapp.get(f"/plan/{date}/solve/{run_id}").json
        assert 0.0 <= status["progress"] <= 1.0
        if status["finished"]:
            return status
        assert time.monotonic() < deadline, f"solve still {status['status']} after {POLL_TIMEOUT_SECONDS} s"
        time.sleep(0.2)


def truck_of(factory, schedule_id: int) -> dict[str, str]:
    """compound code -> truck code in a stored schedule."""
    with factory() as session:
        rows = session.execute(
            select(Compound.code, Truck.code)
            .join(ScheduleStop, ScheduleStop.compound_id == Compound.id)
            .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
            .join(Truck, ScheduleRoute.truck_id == Truck.id)
            .where(ScheduleRoute.schedule_id == schedule_id)
        )
        return dict(rows.all())


def test_solve_in_the_background_then_resolve_keeping_a_pin(live):
    testapp, factory, facts = live
    date = facts["date"]

    first = solve_through_page(testapp, factory, date)
    assert first["status"] == SolveStatus.DONE and first["progress"] == 1.0, first["message"]
    page = testapp.get(f"/plan/{date}")
    assert "排班结果" in page.text and "solve-form" in page.forms
    placed = truck_of(factory, first["schedule_id"])
    served = sum(len(table_rows(page, f"#truck-{code} table")) for code in set(placed.values()))
    assert served == len(placed) > 0

    compound_code, truck_code = sorted(placed.items())[0]
    other_code = "BG-T2" if truck_code == "BG-T1" else "BG-T1"
    form = page.forms["pin-form"]
    form["action"] = "pin"
    form["compound_id"] = compound_code
    form["truck_id"] = other_code
    form.submit(status=303)

    second = solve_through_page(testapp, factory, date)
    assert second["status"] == SolveStatus.DONE, second["message"]
    assert second["schedule_id"] != first["schedule_id"]
    assert truck_of(factory, second["schedule_id"])[compound_code] == other_code
    with factory() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 2


def test_a_second_solve_of_the_day_while_one_runs_is_refused(live):
    testapp, factory, facts = live
    date = facts["date"]
    form = testapp.get(f"/plan/{date}").forms["solve-form"]  # the page as it was before
    with factory.begin() as session:  # someone else's solve is running now
        session.add(SolveRun(date=dt.date.fromisoformat(date), retailer_id=facts["retailer_id"],
                             status=SolveStatus.RUNNING, progress=0.4, message="searching", created_by="colleague"))
    page = form.submit(status=303).follow()
    assert "这一天已有一次排班正在进行" in page.text
    assert "colleague" in page.html.select_one("#solve .notice").text
    assert page.html.select_one("#solve-progress progress")["value"] == "0.4"
    with factory() as session:
        assert session.scalar(select(func.count(SolveRun.id))) == 1


def test_progress_is_shown_in_the_planners_language(live):
    testapp, factory, facts = live
    date = facts["date"]
    with factory.begin() as session:
        run = SolveRun(date=dt.date.fromisoformat(date), retailer_id=facts["retailer_id"], status=SolveStatus.RUNNING,
                       progress=0.5, message="served 12/15, travel 140 min", created_by="colleague")
        session.add(run)
        session.flush()
        status_url = f"/plan/{date}/solve/{run.id}"
    page = testapp.get(f"/plan/{date}")
    assert page.html.select_one("#solve-progress .message").text == "已安排 12/15 个小区，行驶 140 分钟"
    assert page.html.select_one("#solve-progress")["data-status-url"].endswith(status_url)
    assert testapp.get(status_url).json["message"] == "已安排 12/15 个小区，行驶 140 分钟"
    testapp.set_cookie("lang", "en")
    assert testapp.get(status_url).json["message"] == "served 12/15, travel 140 min"
