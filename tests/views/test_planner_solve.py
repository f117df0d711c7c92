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
from trucks.models import Compound, Role, Schedule, ScheduleRoute, ScheduleStop, SolveRun, SolveStatus, Truck, utcnow
from trucks.solving import DEAD_AFTER_SECONDS
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
                       progress=0.5, progress_key="searching",
                       progress_params={"served": 12, "total": 15, "minutes": 140}, created_by="colleague")
        session.add(run)
        session.flush()
        status_url = f"/plan/{date}/solve/{run.id}"
    page = testapp.get(f"/plan/{date}")
    assert page.html.select_one("#solve-progress .message").text == "已安排 12/15 个小区，行驶 140 分钟"
    assert page.html.select_one("#solve-progress")["data-status-url"].endswith(status_url)
    assert testapp.get(status_url).json["message"] == "已安排 12/15 个小区，行驶 140 分钟"
    testapp.set_cookie("lang", "en")
    assert testapp.get(status_url).json["message"] == "served 12/15, travel 140 min"


def test_an_abandoned_run_shows_why_with_the_solve_button_and_its_poll_ends(live):
    testapp, factory, facts = live
    date = facts["date"]
    with factory.begin() as session:  # its worker died 40 s ago, before anyone noticed
        run = SolveRun(date=dt.date.fromisoformat(date), retailer_id=facts["retailer_id"], status=SolveStatus.RUNNING,
                       progress=0.3, progress_key="searching", attempts=1, created_by="colleague",
                       progress_params={"served": 3, "total": 8, "minutes": 60},
                       heartbeat_at=utcnow() - dt.timedelta(seconds=DEAD_AFTER_SECONDS + 10))
        session.add(run)
        session.flush()
        run_id = run.id
    status = testapp.get(f"/plan/{date}/solve/{run_id}").json
    assert (status["status"], status["alive"], status["finished"]) == ("running", False, True)
    assert status["message"].startswith("已放弃")
    page = testapp.get(f"/plan/{date}")
    assert "solve-form" in page.forms and page.html.select_one("#solve-progress").has_attr("hidden")
    assert page.html.select_one("#last-run").text.startswith("上一次排班未完成：已放弃")
    first = solve_through_page(testapp, factory, date)  # a new start marks it failed and solves
    assert first["status"] == SolveStatus.DONE
    with factory() as session:
        assert session.get(SolveRun, run_id).status == SolveStatus.FAILED


@pytest.mark.parametrize("through", ["page", "api"])
def test_a_queued_run_is_cancelled_from_the_page_or_the_api(live, through):
    testapp, factory, facts = live
    date = facts["date"]
    with factory.begin() as session:  # queued, no worker has taken it yet
        run = SolveRun(date=dt.date.fromisoformat(date), retailer_id=facts["retailer_id"], status=SolveStatus.QUEUED,
                       progress=0.0, progress_key="queued", progress_params={}, created_by="colleague",
                       heartbeat_at=utcnow())
        session.add(run)
        session.flush()
        run_id = run.id
    page = testapp.get(f"/plan/{date}")
    if through == "page":
        page = page.forms["cancel-form"].submit(status=303).follow()
        assert "排班已取消" in page.text and "solve-form" in page.forms
        assert page.html.select_one("#last-run").text == "上一次排班未完成：已由 bg-planner 取消"
    else:
        csrf = page.html.select_one('meta[name="csrf-token"]')["content"]
        cancelled = testapp.post(f"/api/solve-runs/{run_id}/cancel", headers={"X-CSRF-Token": csrf}).json
        assert (cancelled["status"], cancelled["finished"]) == ("cancelled", True)
        again = testapp.post(f"/api/solve-runs/{run_id}/cancel", headers={"X-CSRF-Token": csrf}, status=409)
        assert again.json["run_id"] == run_id
    with factory() as session:
        run = session.get(SolveRun, run_id)
        assert (run.status, run.progress_params) == (SolveStatus.CANCELLED, {"by": "bg-planner"})
