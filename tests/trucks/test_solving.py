"""Solve runs: never two of one day at a time, owned by the worker that claimed them, alive while
their heartbeat is fresh, cancelled or recovered without a second writer."""
import datetime as dt
import threading
import time

import pytest
import transaction
from sqlalchemy import func, select

from tests.factories import DAY, make_day
from tests.fieldday import publish_day
from trucks import demo, solving
from trucks.db import get_engine, get_session_factory, get_tm_session, in_transaction
from trucks.importer import import_day
from trucks.models import Retailer, RunKind, Schedule, SolveRun, SolveStatus, utcnow
from trucks.publishing import latest_publication
from trucks.solving import (
    MAX_ATTEMPTS,
    NothingToSolve,
    SolveAlreadyRunning,
    cancel_solve_run,
    claim_run,
    execute_solve_run,
    recover_abandoned_runs,
    start_solve_run,
)

#: the dead interval these tests use: short, so abandoned runs show quickly
DEAD = 3.0


def test_a_second_run_of_the_same_day_is_refused(dbsession):
    day = make_day(dbsession)
    first = start_solve_run(dbsession, DAY, day.retailer.id, user="p", time_limit=7)
    assert (first.status, first.progress, first.created_by, first.time_limit) == (SolveStatus.QUEUED, 0.0, "p", 7)
    with pytest.raises(SolveAlreadyRunning) as refused:
        start_solve_run(dbsession, DAY, day.retailer.id)
    assert refused.value.run is first
    first.status = SolveStatus.RUNNING
    with pytest.raises(SolveAlreadyRunning):
        start_solve_run(dbsession, DAY, day.retailer.id)
    other_day = make_day(dbsession, date=DAY + dt.timedelta(days=1), prefix="N")
    assert start_solve_run(dbsession, other_day.date, other_day.retailer.id).id != first.id


@pytest.mark.parametrize("status", [SolveStatus.QUEUED, SolveStatus.RUNNING])
def test_a_run_whose_heartbeat_is_stale_is_abandoned(dbsession, status):
    day = make_day(dbsession)
    stale = start_solve_run(dbsession, DAY, day.retailer.id, dead_after_seconds=DEAD)
    stale.status = status
    stale.heartbeat_at = utcnow() - dt.timedelta(seconds=DEAD + 1)
    fresh = start_solve_run(dbsession, DAY, day.retailer.id, dead_after_seconds=DEAD)
    assert stale.status == SolveStatus.FAILED and stale.message.startswith("abandoned")
    assert stale.progress_key == "abandoned" and fresh.status == SolveStatus.QUEUED


@pytest.mark.parametrize("status", [SolveStatus.DONE, SolveStatus.FAILED, SolveStatus.CANCELLED])
def test_ended_runs_do_not_block(dbsession, status):
    day = make_day(dbsession)
    ended = start_solve_run(dbsession, DAY, day.retailer.id)
    ended.status = status
    assert start_solve_run(dbsession, DAY, day.retailer.id).id != ended.id


def test_nothing_to_solve_without_demand(dbsession):
    day = make_day(dbsession)
    with pytest.raises(NothingToSolve, match="no demand"):
        start_solve_run(dbsession, DAY + dt.timedelta(days=3), day.retailer.id)


@pytest.fixture
def file_sessions(file_database):
    engine = get_engine({"sqlalchemy.url": file_database})
    yield get_session_factory(engine)
    engine.dispose()


def committed_run(session_factory, time_limit: float = 1.0, day_files=None) -> int:
    """A tiny day (or the demo day's files) and a queued run, committed as a request commits them."""
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(session_factory, tm)
        if day_files is None:
            retailer_id = make_day(dbsession).retailer.id
        else:
            import_day(dbsession, DAY, day_files)
            retailer_id = dbsession.scalar(select(Retailer.id).where(Retailer.name == "良友"))
        return start_solve_run(dbsession, DAY, retailer_id, user="p", time_limit=time_limit).id


def run_row(session_factory, run_id: int) -> SolveRun:
    with session_factory() as session:
        run = session.get(SolveRun, run_id)
        session.expunge(run)
        return run


def test_a_run_stores_its_schedule_and_a_second_delivery_does_nothing(file_sessions):
    run_id = committed_run(file_sessions)
    schedule_id = execute_solve_run(file_sessions, run_id, {}, worker="w1@test", dead_after_seconds=DEAD)
    run = run_row(file_sessions, run_id)
    assert (run.status, run.progress, run.schedule_id, run.worker, run.attempts) == (
        SolveStatus.DONE, 1.0, schedule_id, "w1@test", 1)
    assert run.finished_at is not None and "8 served" in run.message
    assert run.progress_key == "finished" and run.progress_params["served"] == 8
    with file_sessions() as session:
        schedule = session.get(Schedule, run.schedule_id)
        assert schedule.params["solver"] == "highs" and schedule.params["run_id"] == run_id
        assert schedule.params["time_limit"] == 1.0  # the run's own limit, not the ini's
        assert sum(len(r.stops) for r in schedule.routes) + len(schedule.unserved) == 8
    # the same task delivered again (a redelivery after a lost ack): nothing happens
    assert execute_solve_run(file_sessions, run_id, {}, worker="w2@test", dead_after_seconds=DEAD) is None
    again = run_row(file_sessions, run_id)
    assert (again.status, again.worker, again.attempts, again.schedule_id) == (SolveStatus.DONE, "w1@test", 1, schedule_id)
    with file_sessions() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 1


def test_a_failing_run_ends_failed_with_the_error(file_sessions):
    run_id = committed_run(file_sessions)
    assert execute_solve_run(file_sessions, run_id, {"scheduling.solver": "no-such-solver"}) is None
    run = run_row(file_sessions, run_id)
    assert run.status == SolveStatus.FAILED and "no-such-solver" in run.message
    with file_sessions() as session:
        assert session.scalars(select(Schedule)).first() is None


def test_a_claim_is_refused_while_another_worker_is_alive_and_taken_over_once_it_is_stale(file_sessions):
    run_id = committed_run(file_sessions)
    first = claim_run(file_sessions, run_id, "w1@test", DEAD)
    assert first is not None and first.attempt == 1 and first.time_limit == 1.0
    assert claim_run(file_sessions, run_id, "w2@test", DEAD) is None  # w1's heartbeat is fresh
    with file_sessions.begin() as session:
        session.get(SolveRun, run_id).heartbeat_at = utcnow() - dt.timedelta(seconds=DEAD + 1)
    second = claim_run(file_sessions, run_id, "w2@test", DEAD)
    assert second is not None and second.attempt == 2
    with file_sessions.begin() as session:
        session.get(SolveRun, run_id).heartbeat_at = utcnow() - dt.timedelta(seconds=DEAD + 1)
    assert claim_run(file_sessions, run_id, "w3@test", DEAD) is None  # out of attempts
    assert MAX_ATTEMPTS == 2


def test_recovery_requeues_a_dead_worker_s_run_then_fails_it(file_sessions):
    run_id = committed_run(file_sessions)
    sent = []
    assert recover_abandoned_runs(file_sessions, DEAD, sent.append) == {}  # fresh: left alone

    def go_stale():
        with file_sessions.begin() as session:
            session.get(SolveRun, run_id).heartbeat_at = utcnow() - dt.timedelta(seconds=DEAD + 1)

    go_stale()  # queued, and its message may be lost: sent again
    assert recover_abandoned_runs(file_sessions, DEAD, sent.append) == {run_id: "resent"}
    assert recover_abandoned_runs(file_sessions, DEAD, sent.append) == {}  # once per interval
    claim_run(file_sessions, run_id, "w1@test", DEAD)
    go_stale()  # its worker died
    assert recover_abandoned_runs(file_sessions, DEAD, sent.append) == {run_id: "requeued"}
    run = run_row(file_sessions, run_id)
    assert (run.status, run.worker, run.progress_key) == (SolveStatus.QUEUED, "", "requeued")
    claim_run(file_sessions, run_id, "w2@test", DEAD)
    go_stale()  # and the second one too
    assert recover_abandoned_runs(file_sessions, DEAD, sent.append) == {run_id: "failed"}
    assert sent == [run_id, run_id]
    run = run_row(file_sessions, run_id)
    assert run.status == SolveStatus.FAILED and "stopped answering (2 attempts)" in run.message


def test_a_cancelled_run_stops_within_a_second_and_stores_nothing(file_sessions):
    run_id = committed_run(file_sessions, time_limit=60, day_files=demo.demo_files(DAY))
    outcome = {}
    solver = threading.Thread(target=lambda: outcome.setdefault("result", execute_solve_run(
        file_sessions, run_id, {}, worker="w1@test")))
    solver.start()
    deadline = time.monotonic() + 30
    while run_row(file_sessions, run_id).progress <= 0.0:  # the search has begun
        assert time.monotonic() < deadline, "the solve never reported progress"
        time.sleep(0.1)
    # as a request would be retried by pyramid_retry when the heartbeat's commit overtook it
    assert in_transaction(file_sessions, lambda session: cancel_solve_run(session, session.get(SolveRun, run_id), user="p"))
    cancelled_at = time.monotonic()
    solver.join(timeout=30)
    took = time.monotonic() - cancelled_at
    assert not solver.is_alive() and took < 1.5, f"the solve went on {took:.1f} s after the cancel"
    run = run_row(file_sessions, run_id)
    assert (run.status, run.progress_key, outcome["result"]) == (SolveStatus.CANCELLED, "cancelled", None)
    with file_sessions() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 0
        assert not cancel_solve_run(session, session.get(SolveRun, run_id))  # already ended


def test_two_simultaneous_starts_create_exactly_one_run(fresh_database):
    engine = get_engine({"sqlalchemy.url": fresh_database})
    factory = get_session_factory(engine)
    with factory.begin() as session:
        retailer_id = make_day(session).retailer.id
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        """As a request does: run again when the database says the transaction may be retried."""
        tm = transaction.TransactionManager(explicit=True)
        first = True
        try:
            for attempt in tm.attempts(3):
                with attempt:
                    dbsession = get_tm_session(factory, tm)
                    dbsession.scalar(select(func.count(SolveRun.id)))  # each has read before either writes
                    if first:
                        first = False
                        barrier.wait()
                    run_id = start_solve_run(dbsession, DAY, retailer_id, user="p").id
            outcomes.append(run_id)
        except SolveAlreadyRunning as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with factory() as session:
        runs = session.scalars(select(SolveRun)).all()
    engine.dispose()
    assert len(runs) == 1 and runs[0].status == SolveStatus.QUEUED
    assert sorted(type(o).__name__ for o in outcomes) == ["SolveAlreadyRunning", "int"]


def _published_replan_run(session_factory) -> tuple[int, int]:
    """A tiny day solved and published as version 1, and a queued re-plan run of its busiest
    truck from 07:00, committed as the page's request commits them; (run id, retailer id)."""
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(session_factory, tm)
        published = publish_day(dbsession, prefix="RR", date=DAY)
        retailer_id = published.day.retailer.id
        run = start_solve_run(dbsession, DAY, retailer_id, user="p", time_limit=1.0, kind=RunKind.REPLAN,
                              asked={"truck_id": published.day.trucks[0].code, "from": "07:00"})
        return run.id, retailer_id


def _version(session_factory, retailer_id: int) -> int:
    from trucks.publishing import latest_publication

    with session_factory() as session:
        return latest_publication(session, DAY, retailer_id).version


def test_a_replan_run_publishes_the_next_version_and_names_it(file_sessions):
    run_id, retailer_id = _published_replan_run(file_sessions)
    schedule_id = execute_solve_run(file_sessions, run_id, {}, worker="w1@test", dead_after_seconds=DEAD)
    run = run_row(file_sessions, run_id)
    assert (run.status, run.schedule_id, run.progress_key) == (SolveStatus.DONE, schedule_id, "replanned")
    assert run.progress_params["version"] == 2 == _version(file_sessions, retailer_id)
    with file_sessions() as session:
        assert session.get(Schedule, schedule_id).params["replan"]["from"] == "07:00"
    assert execute_solve_run(file_sessions, run_id, {}, worker="w2@test", dead_after_seconds=DEAD) is None
    assert _version(file_sessions, retailer_id) == 2  # a second delivery publishes nothing


def test_a_replan_cancelled_while_it_computes_publishes_nothing(file_sessions, monkeypatch):
    run_id, retailer_id = _published_replan_run(file_sessions)
    computed = solving.plan_replan

    def cancelled_meanwhile(session, *args, **kwargs):
        planned = computed(session, *args, **kwargs)
        with file_sessions.begin() as other:  # the planner presses cancel as the search ends
            assert cancel_solve_run(other, other.get(SolveRun, run_id), user="p")
        return planned

    monkeypatch.setattr(solving, "plan_replan", cancelled_meanwhile)
    assert execute_solve_run(file_sessions, run_id, {}, worker="w1@test", dead_after_seconds=DEAD) is None
    assert run_row(file_sessions, run_id).status == SolveStatus.CANCELLED
    assert _version(file_sessions, retailer_id) == 1
    with file_sessions() as session:
        assert session.scalar(select(func.count(Schedule.id))) == 1  # the re-plan was not stored
