"""Solve runs: never two of one day at a time, progress and result on the row, failures visible."""
import datetime as dt
import threading

import pytest
import transaction
from sqlalchemy import select

from tests.factories import DAY, make_day
from trucks.db import get_engine, get_session_factory, get_tm_session
from trucks.models import Schedule, SolveRun, SolveStatus, utcnow
from trucks.services import PlanningSettings
from trucks.solving import NothingToSolve, SolveAlreadyRunning, execute_solve_run, start_solve_run


def test_a_second_run_of_the_same_day_is_refused(dbsession):
    day = make_day(dbsession)
    first = start_solve_run(dbsession, DAY, day.retailer.id, user="p")
    assert (first.status, first.progress, first.created_by) == (SolveStatus.QUEUED, 0.0, "p")
    with pytest.raises(SolveAlreadyRunning) as refused:
        start_solve_run(dbsession, DAY, day.retailer.id)
    assert refused.value.run is first
    first.status = SolveStatus.RUNNING
    with pytest.raises(SolveAlreadyRunning):
        start_solve_run(dbsession, DAY, day.retailer.id)
    other_day = make_day(dbsession, date=DAY + dt.timedelta(days=1), prefix="N")
    assert start_solve_run(dbsession, other_day.date, other_day.retailer.id).id != first.id


def test_a_run_older_than_three_time_limits_counts_as_dead(dbsession):
    day = make_day(dbsession)
    stale = start_solve_run(dbsession, DAY, day.retailer.id, time_limit=30)
    stale.created_at = utcnow() - dt.timedelta(seconds=91)
    fresh = start_solve_run(dbsession, DAY, day.retailer.id, time_limit=30)
    assert stale.status == SolveStatus.FAILED and "abandoned" in stale.message
    assert fresh.status == SolveStatus.QUEUED


def test_finished_runs_do_not_block(dbsession):
    day = make_day(dbsession)
    done = start_solve_run(dbsession, DAY, day.retailer.id)
    done.status = SolveStatus.DONE
    assert start_solve_run(dbsession, DAY, day.retailer.id).id != done.id


def test_nothing_to_solve_without_demand(dbsession):
    day = make_day(dbsession)
    with pytest.raises(NothingToSolve, match="no demand"):
        start_solve_run(dbsession, DAY + dt.timedelta(days=3), day.retailer.id)


@pytest.fixture
def file_sessions(file_database):
    engine = get_engine({"sqlalchemy.url": file_database})
    yield get_session_factory(engine)
    engine.dispose()


def committed_run(session_factory, **settings):
    """A tiny day and a queued run, committed the way a request commits them."""
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(session_factory, tm)
        day = make_day(dbsession)
        return start_solve_run(dbsession, DAY, day.retailer.id, user="p").id


def test_a_run_executed_in_a_thread_stores_its_schedule(file_sessions):
    run_id = committed_run(file_sessions)
    seen = []
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("schedule_id", execute_solve_run(
        file_sessions, run_id, {"scheduling.time_limit_seconds": "1"},
        on_progress=lambda fraction, message: seen.append(fraction))))
    thread.start()
    thread.join(timeout=60)
    with file_sessions() as session:
        run = session.get(SolveRun, run_id)
        assert (run.status, run.progress, run.schedule_id) == (SolveStatus.DONE, 1.0, outcome["schedule_id"])
        assert run.finished_at is not None and "8 served" in run.message
        schedule = session.get(Schedule, run.schedule_id)
        assert schedule.params["solver"] == "highs" and schedule.params["run_id"] == run_id
        assert sum(len(r.stops) for r in schedule.routes) + len(schedule.unserved) == 8
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


def test_a_failing_run_ends_failed_with_the_error(file_sessions):
    run_id = committed_run(file_sessions)
    assert execute_solve_run(file_sessions, run_id, PlanningSettings(time_limit=1, solver="no-such-solver")) is None
    with file_sessions() as session:
        run = session.get(SolveRun, run_id)
        assert run.status == SolveStatus.FAILED and "no-such-solver" in run.message
        assert session.scalars(select(Schedule)).first() is None
