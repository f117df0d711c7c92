"""Solve runs: one (date, retailer) solve at a time, its progress on a SolveRun row.

``start_solve_run`` runs inside the caller's transaction (a request's or the CLI's) and only
records the run. ``execute_solve_run`` does the work outside any request, in a background
thread or the CLI: it uses plain sessions from the session factory with short transactions
of its own (``sessionmaker.begin()``), because each progress write must be committed at once
for the polling page to see it, and the long solve itself must hold no transaction open.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping

from sqlalchemy import exists, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduling import solve_day

from .models import Demand, Retailer, SolveRun, SolveStatus, Stock, Truck, utcnow
from .services import PlanningSettings, build_problem, store_schedule

log = logging.getLogger("foodtrucks.solving")

#: at most one progress write per this many seconds (the page polls about once a second)
PROGRESS_INTERVAL_SECONDS = 0.5
#: a queued or running run older than this many time limits is taken for dead (its process died)
DEAD_AFTER_TIME_LIMITS = 3
#: but never sooner than this: building the problem and storing the answer take time too
DEAD_AFTER_MIN_SECONDS = 60.0

ProgressCallback = Callable[[float, str], None]


class SolveAlreadyRunning(RuntimeError):
    """Another solve of the same day is queued or running; there is never a second writer."""

    def __init__(self, run: SolveRun):
        super().__init__(f"solve run {run.id} of {run.date} is still {run.status}")
        self.run = run


class NothingToSolve(ValueError):
    """The retailer has no demand or no loaded truck on the date."""


def dead_after(time_limit: float) -> dt.timedelta:
    return dt.timedelta(seconds=max(DEAD_AFTER_MIN_SECONDS, DEAD_AFTER_TIME_LIMITS * time_limit))


def start_solve_run(
    dbsession: Session, date: dt.date, retailer_id: int, user: str = "", *,
    time_limit: float = PlanningSettings.time_limit,
) -> SolveRun:
    """Records a queued run, or refuses while another run of the day is alive."""
    # Serialises concurrent starts on PostgreSQL; SQLite has a single writer anyway.
    dbsession.scalar(select(Retailer.id).where(Retailer.id == retailer_id).with_for_update())
    has_demand = dbsession.scalar(select(exists().where(Demand.date == date, Demand.retailer_id == retailer_id)))
    has_trucks = dbsession.scalar(select(exists().where(
        Stock.date == date, Stock.truck_id == Truck.id, Truck.retailer_id == retailer_id)))
    if not has_demand or not has_trucks:
        raise NothingToSolve(f"nothing to solve on {date}: " + ("no demand" if not has_demand else "no loaded truck"))
    now = utcnow()
    for run in dbsession.scalars(select(SolveRun).where(
            SolveRun.date == date, SolveRun.retailer_id == retailer_id,
            SolveRun.status.in_((SolveStatus.QUEUED, SolveStatus.RUNNING)))):
        if now - run.created_at < dead_after(time_limit):
            raise SolveAlreadyRunning(run)
        run.status = SolveStatus.FAILED
        run.finished_at = now
        run.message = "abandoned: no result in time (the process running it stopped)"
    run = SolveRun(date=date, retailer_id=retailer_id, status=SolveStatus.QUEUED, created_by=user,
                   progress=0.0, message="")
    dbsession.add(run)
    dbsession.flush()
    return run


class _ProgressWriter:
    """The engine's progress callback: writes to the run's row at most every interval."""

    def __init__(self, session_factory: sessionmaker, run_id: int, echo: ProgressCallback | None):
        self.session_factory, self.run_id, self.echo = session_factory, run_id, echo
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.echo is not None:
            self.echo(fraction, message)
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_SECONDS:
            return
        self.last = now
        try:
            _update_run(self.session_factory, self.run_id, progress=min(fraction, 0.99), message=message[:500])
        except OperationalError:  # a busy database must not stop the solve; the next write catches up
            log.warning("could not record progress of solve run %s", self.run_id, exc_info=True)


def _update_run(session_factory: sessionmaker, run_id: int, **values) -> None:
    with session_factory.begin() as session:
        session.execute(update(SolveRun).where(SolveRun.id == run_id).values(**values))


def execute_solve_run(
    session_factory: sessionmaker,
    run_id: int,
    settings: Mapping[str, str] | PlanningSettings,
    *,
    on_progress: ProgressCallback | None = None,
) -> int | None:
    """Solves the run's day and stores the Schedule; returns its id, or None when it failed
    (the error is then the run's message). Safe as a thread's target: it raises nothing."""
    planning = settings if isinstance(settings, PlanningSettings) else PlanningSettings.from_settings(settings)
    try:
        with session_factory.begin() as session:
            run = session.get(SolveRun, run_id)
            if run is None:
                raise LookupError(f"no solve run {run_id}")
            run.status, run.message = SolveStatus.RUNNING, "building the day"
            date, retailer_id = run.date, run.retailer_id
        with session_factory() as session:
            day = build_problem(session, date, retailer_id, planning)
        result = solve_day(
            day.problem,
            time_limit=planning.time_limit,
            seed=planning.seed,
            lp_solver=planning.solver,
            progress=_ProgressWriter(session_factory, run_id, on_progress),
        )
        with session_factory.begin() as session:
            schedule = store_schedule(session, day, result, params={
                "solver": planning.solver, "time_limit": planning.time_limit, "run_id": run_id})
            served = len(result.served_ids)
            session.execute(update(SolveRun).where(SolveRun.id == run_id).values(
                status=SolveStatus.DONE, progress=1.0, schedule_id=schedule.id, finished_at=utcnow(),
                message=f"{served} served, {day.compound_count - served} unserved, "
                        f"{result.travel_minutes:.0f} min travel"))
            return schedule.id
    except Exception as exc:  # the run must end visibly failed whatever went wrong
        log.exception("solve run %s failed", run_id)
        try:
            _update_run(session_factory, run_id, status=SolveStatus.FAILED, finished_at=utcnow(),
                        message=f"{type(exc).__name__}: {exc}"[:2000])
        except Exception:
            log.exception("could not record the failure of solve run %s", run_id)
        return None
