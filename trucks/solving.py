"""Solve runs: one (date, retailer) solve at a time, owned by the worker that claimed it.

``start_solve_run`` runs inside the caller's transaction (a request's or the CLI's) and only
records a queued run. ``execute_solve_run`` does the work on a worker (or in the CLI's own
processes when there is no broker): it claims the run with a conditional UPDATE, so a second
delivery of the same task does nothing, and while it solves a ``RunWatch`` thread writes the
run's heartbeat and progress every ``HEARTBEAT_SECONDS`` in short transactions of its own. A
run whose heartbeat is older than ``dead_after`` seconds is abandoned: ``recover_abandoned_runs``
(every worker runs it on a timer) queues it again, or after ``MAX_ATTEMPTS`` claims marks it
failed. Whoever cancels or takes a run over changes its row; the watch sees that its
conditional heartbeat no longer matches and stops the engine, and nothing is stored.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from celery import current_task
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduling import solve_day

from .db import in_transaction
from .live import decide_breakdown
from .models import BreakdownReport, BreakdownStatus, Demand, Retailer, RunKind, SolveRun, SolveStatus, Stock, Truck, utcnow
from .pieces import RunStopped, piece_solver, solve_piece_of_run, split_settings
from .replan import ReplanError, check_replan, plan_replan, store_replan
from .services import PlanningSettings, build_problem, store_schedule
from .tasks import get_task, has_broker, task

log = logging.getLogger("foodtrucks.solving")

#: how often a solving worker writes the run's heartbeat and progress, and notices a cancel
HEARTBEAT_SECONDS = 0.5
#: a queued or running run whose heartbeat is older than this is abandoned (the ini's
#: ``solving.dead_after_seconds`` overrides it)
DEAD_AFTER_SECONDS = 30.0
#: claims of one run: a run whose worker died this often is marked failed, not queued again
MAX_ATTEMPTS = 2

class SolveAlreadyRunning(RuntimeError):
    """Another solve of the same day is queued or running; there is never a second writer."""

    def __init__(self, run: SolveRun):
        super().__init__(f"solve run {run.id} of {run.date} is still {run.status}")
        self.run = run


class NothingToSolve(ValueError):
    """The retailer has no demand or no loaded truck on the date."""


def dead_after(settings: Mapping[str, str]) -> float:
    """Seconds without a heartbeat after which a run counts as abandoned."""
    return float(settings.get("solving.dead_after_seconds") or DEAD_AFTER_SECONDS)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_alive(run: SolveRun, dead_after_seconds: float, now: dt.datetime | None = None) -> bool:
    """Queued or running, with a heartbeat newer than ``dead_after_seconds``."""
    if run.ended:
        return False
    beat = run.heartbeat_at or run.created_at
    return (now or utcnow()) - beat < dt.timedelta(seconds=dead_after_seconds)


def start_solve_run(
    dbsession: Session, date: dt.date, retailer_id: int, user: str = "", *,
    time_limit: float = PlanningSettings.time_limit, dead_after_seconds: float = DEAD_AFTER_SECONDS,
    district: bool = False, kind: RunKind = RunKind.SOLVE, asked: Mapping | None = None,
) -> SolveRun:
    """Records a queued run, or refuses while another run (a solve or a re-plan) of the day is
    alive (an abandoned one is marked failed first). A ``district`` run (part of a solve of
    every retailer at once) needs demand in the district, not its own."""
    # The day's write lock before anything is read: a row lock on PostgreSQL, the database's
    # write lock on SQLite. A second start waits here and then sees the first one's run.
    dbsession.execute(update(Retailer).where(Retailer.id == retailer_id).values(name=Retailer.name)
                      .execution_options(synchronize_session=False))
    own_demand = [] if district else [Demand.retailer_id == retailer_id]
    has_demand = dbsession.scalar(select(exists().where(Demand.date == date, *own_demand)))
    has_trucks = dbsession.scalar(select(exists().where(
        Stock.date == date, Stock.truck_id == Truck.id, Truck.retailer_id == retailer_id)))
    if not has_demand or not has_trucks:
        raise NothingToSolve(f"nothing to solve on {date}: " + ("no demand" if not has_demand else "no loaded truck"))
    now = utcnow()
    for run in dbsession.scalars(select(SolveRun).where(
            SolveRun.date == date, SolveRun.retailer_id == retailer_id,
            SolveRun.status.in_(SolveStatus.active()))):
        if is_alive(run, dead_after_seconds, now):
            raise SolveAlreadyRunning(run)
        _mark_abandoned(run, now)
    dbsession.flush()  # the abandoned run leaves the one-active-run index before the new one enters
    run = SolveRun(date=date, retailer_id=retailer_id, status=SolveStatus.QUEUED, created_by=user,
                   progress=0.0, message="", time_limit=time_limit, heartbeat_at=now, attempts=0,
                   progress_key="queued", progress_params={}, kind=kind, asked=dict(asked or {}))
    dbsession.add(run)
    dbsession.flush()
    return run


def _mark_abandoned(run: SolveRun, now: dt.datetime) -> None:
    run.message = ("abandoned: no worker took it in time" if run.status == SolveStatus.QUEUED
                   else "abandoned: the worker solving it stopped answering")
    run.status, run.finished_at = SolveStatus.FAILED, now
    run.progress_key, run.progress_params = "abandoned", {"attempts": run.attempts}


def cancel_solve_run(dbsession: Session, run: SolveRun, user: str = "") -> bool:
    """Cancels a queued or running run; False when it had already ended. A running run's worker
    sees the change at its next heartbeat, stops the engine and stores nothing."""
    done = dbsession.execute(
        update(SolveRun).where(SolveRun.id == run.id, SolveRun.status.in_(SolveStatus.active()))
        .values(status=SolveStatus.CANCELLED, finished_at=utcnow(), progress_key="cancelled",
                progress_params={"by": user}, message=f"cancelled by {user}" if user else "cancelled")
        .execution_options(synchronize_session=False)).rowcount == 1
    dbsession.refresh(run)
    return done


@dataclass(frozen=True)
class Claim:
    """What the worker that claimed a run needs of it."""

    run_id: int
    worker: str
    date: dt.date
    retailer_id: int
    time_limit: float
    attempt: int
    kind: str
    asked: dict
    user: str


def claim_run(session_factory: sessionmaker, run_id: int, worker: str, dead_after_seconds: float) -> Claim | None:
    """Makes the run this worker's if it is queued, or running with a stale heartbeat; None when
    it is finished, cancelled, alive elsewhere or out of attempts (the conditional UPDATE decides,
    so two workers never both claim it)."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=dead_after_seconds)

    def claim(session: Session) -> Claim | None:
        claimed = session.execute(
            update(SolveRun)
            .where(SolveRun.id == run_id, SolveRun.attempts < MAX_ATTEMPTS, or_(
                SolveRun.status == SolveStatus.QUEUED,
                and_(SolveRun.status == SolveStatus.RUNNING, SolveRun.heartbeat_at < stale)))
            .values(status=SolveStatus.RUNNING, worker=worker, heartbeat_at=now, started_at=now,
                    attempts=SolveRun.attempts + 1, progress=0.0, progress_key="building", progress_params={})
            .execution_options(synchronize_session=False)).rowcount == 1
        if not claimed:
            return None
        run = session.get(SolveRun, run_id)
        return Claim(run_id, worker, run.date, run.retailer_id, run.time_limit, run.attempts, run.kind,
                     dict(run.asked), run.created_by)

    return in_transaction(session_factory, claim)


def _owned(claim: Claim):
    """The WHERE clause that holds only while the run is still this claim's."""
    return and_(SolveRun.id == claim.run_id, SolveRun.worker == claim.worker, SolveRun.status == SolveStatus.RUNNING)


class RunWatch:
    """While a claimed run solves: keeps the latest progress, writes it with the heartbeat every
    ``HEARTBEAT_SECONDS``, and sets ``lost`` once the row is no longer this claim's."""

    def __init__(self, session_factory: sessionmaker, claim: Claim):
        self.session_factory, self.claim = session_factory, claim
        self.lost = threading.Event()
        self._finished = threading.Event()
        self._latest: dict = {}
        self._thread = threading.Thread(target=self._beat, name=f"solve-run-{claim.run_id}-heartbeat", daemon=True)

    def progress(self, fraction: float, message: str) -> None:
        """The engine's progress callback: remembered here, written by the heartbeat."""
        key = getattr(message, "key", "")  # the engine's lines carry a catalog key (scheduling.progress)
        self._latest = {"progress": min(fraction, 0.99), "progress_key": key,
                        "progress_params": getattr(message, "params", {}), "message": "" if key else message[:500]}

    def step(self, key: str, fraction: float, **params) -> None:
        """A progress line of our own (a catalog key), written with the next heartbeat."""
        self._latest = {"progress": fraction, "progress_key": key, "progress_params": params, "message": ""}

    def __enter__(self) -> RunWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._finished.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._finished.wait(HEARTBEAT_SECONDS):
            try:
                with self.session_factory.begin() as session:
                    mine = session.execute(update(SolveRun).where(_owned(self.claim)).values(
                        heartbeat_at=utcnow(), **self._latest)).rowcount == 1
            except OperationalError:  # a busy database must not stop the solve; the next beat catches up
                log.warning("could not write the heartbeat of solve run %s", self.claim.run_id, exc_info=True)
                continue
            if not mine:
                log.info("solve run %s was cancelled or taken over: stopping", self.claim.run_id)
                self.lost.set()
                return


def execute_solve_run(
    session_factory: sessionmaker,
    run_id: int,
    settings: Mapping[str, str],
    *,
    worker: str | None = None,
    dead_after_seconds: float = DEAD_AFTER_SECONDS,
    send_piece: Callable[[int, int], None] | None = None,
) -> int | None:
    """Claims the run, solves its day and stores the Schedule; returns its id, or None when the
    run was not ours, was cancelled, or failed (the error is then the run's message). A large
    day's pieces go to the workers through ``send_piece`` when given, else to local processes.
    Idempotent by run id, and it raises nothing."""
    planning = PlanningSettings.from_settings(settings)
    split_above, piece_size = split_settings(settings)
    claim = claim_run(session_factory, run_id, worker or worker_name(), dead_after_seconds)
    if claim is None:
        log.info("solve run %s is finished, cancelled or alive elsewhere: nothing to do", run_id)
        return None
    try:
        if claim.kind == RunKind.REPLAN:
            return _execute_replan(session_factory, claim, planning)
        with RunWatch(session_factory, claim) as watch:
            with session_factory() as session:
                day = build_problem(session, claim.date, claim.retailer_id, planning)
            result = solve_day(
                day.problem,
                time_limit=claim.time_limit,
                seed=planning.seed,
                lp_solver=planning.solver,
                progress=watch.progress,
                stop=watch.lost.is_set,
                split_above=split_above,
                piece_size=piece_size,
                solve_pieces=piece_solver(session_factory, run_id, claim.worker, send_piece, watch.progress)
                if send_piece else None,
            )
        if watch.lost.is_set():
            return None

        def store(session: Session) -> int | None:
            served = len(result.served_ids)
            finished = session.execute(update(SolveRun).where(_owned(claim)).values(
                status=SolveStatus.DONE, progress=1.0, finished_at=utcnow(), heartbeat_at=utcnow(),
                progress_key="finished", progress_params={
                    "served": served, "unserved": day.compound_count - served,
                    "minutes": round(result.travel_minutes)},
                message=f"{served} served, {day.compound_count - served} unserved, "
                        f"{result.travel_minutes:.0f} min travel")).rowcount == 1
            if not finished:  # cancelled between the last heartbeat and now: store nothing
                return None
            schedule = store_schedule(session, day, result, params={
                "solver": planning.solver, "time_limit": claim.time_limit, "run_id": run_id})
            session.execute(update(SolveRun).where(SolveRun.id == run_id).values(schedule_id=schedule.id))
            return schedule.id

        return in_transaction(session_factory, store)
    except RunStopped:  # cancelled or taken over while its pieces were solved: nothing to store
        return None
    except ReplanError as refused:  # the day changed since the request checked it: no traceback
        _record_failure(session_factory, claim, refused)
        return None
    except Exception as exc:  # the run must end visibly failed whatever went wrong
        log.exception("solve run %s failed", run_id)
        _record_failure(session_factory, claim, exc)
        return None


def _record_failure(session_factory: sessionmaker, claim: Claim, exc: Exception) -> None:
    try:
        in_transaction(session_factory, lambda session: session.execute(update(SolveRun).where(_owned(claim)).values(
            status=SolveStatus.FAILED, finished_at=utcnow(), progress_key="failed",
            progress_params={"error": f"{type(exc).__name__}: {exc}"[:500]},
            message=f"{type(exc).__name__}: {exc}"[:2000])))
    except Exception:
        log.exception("could not record the failure of solve run %s", claim.run_id)


def _execute_replan(session_factory: sessionmaker, claim: Claim, planning: PlanningSettings) -> int | None:
    """A re-plan run: computed while the watch beats, then stored and published in the same
    transaction that marks the run done, so a run cancelled before then publishes nothing."""
    cut = dt.datetime.combine(claim.date, dt.time.fromisoformat(claim.asked["from"]))
    with session_factory() as session:
        with RunWatch(session_factory, claim) as watch:
            watch.step("replanning", 0.1, truck=claim.asked["truck_id"], at=claim.asked["from"])
            planned = plan_replan(session, claim.date, claim.retailer_id,
                                  replace(planning, time_limit=claim.time_limit),
                                  truck_code=claim.asked["truck_id"], cut=cut)
        if watch.lost.is_set():
            return None
        # end the read transaction: its snapshot predates the heartbeats, and SQLite (WAL) refuses
        # to turn a stale snapshot into a write
        session.rollback()
        outcome = store_replan(session, planned, claim.user)
        replan = outcome.replan
        finished = session.execute(update(SolveRun).where(_owned(claim)).values(
            status=SolveStatus.DONE, progress=1.0, finished_at=utcnow(), heartbeat_at=utcnow(),
            schedule_id=outcome.schedule.id, progress_key="replanned", progress_params={
                "truck": planned.truck_code, "at": claim.asked["from"], "version": outcome.publication.version,
                "kept": len(replan.kept), "reserved": len(replan.reserved), "dropped": len(replan.dropped),
                "moved": len(replan.moved), "mean": round(replan.moved_mean), "max": round(replan.moved_max)},
            message="").execution_options(synchronize_session=False)).rowcount == 1
        if not finished:  # cancelled after the last heartbeat: publish nothing
            session.rollback()
            return None
        session.commit()
        return outcome.schedule.id


def recover_abandoned_runs(
    session_factory: sessionmaker, dead_after_seconds: float, resend: Callable[[int], None],
) -> dict[int, str]:
    """Runs whose heartbeat is stale: a queued one is sent again (its message may have died with
    a worker), a running one is queued again and sent, or failed after ``MAX_ATTEMPTS`` claims.
    Returns {run id: what was done}. Each change is a conditional UPDATE: with several workers
    recovering at once, each run is handled once."""
    now = utcnow()
    stale = now - dt.timedelta(seconds=dead_after_seconds)
    handled: dict[int, str] = {}
    with session_factory.begin() as session:
        runs = session.execute(select(SolveRun.id, SolveRun.status, SolveRun.attempts).where(
            SolveRun.status.in_(SolveStatus.active()),
            func.coalesce(SolveRun.heartbeat_at, SolveRun.created_at) < stale)).all()
        for run_id, status, attempts in runs:
            still_stale = and_(SolveRun.id == run_id, SolveRun.status == status,
                               func.coalesce(SolveRun.heartbeat_at, SolveRun.created_at) < stale)
            if status == SolveStatus.RUNNING and attempts >= MAX_ATTEMPTS:
                action, values = "failed", {
                    "status": SolveStatus.FAILED, "finished_at": now, "progress_key": "abandoned",
                    "progress_params": {"attempts": attempts},
                    "message": f"abandoned: the worker solving it stopped answering ({attempts} attempts)"}
            elif status == SolveStatus.RUNNING:
                action, values = "requeued", {"status": SolveStatus.QUEUED, "worker": "", "heartbeat_at": now,
                                              "progress_key": "requeued", "progress_params": {"attempts": attempts}}
            else:
                action, values = "resent", {"heartbeat_at": now}
            if session.execute(update(SolveRun).where(still_stale).values(**values)).rowcount == 1:
                handled[run_id] = action
    for run_id, action in handled.items():
        log.warning("solve run %s had no heartbeat for %.0f s: %s", run_id, dead_after_seconds, action)
        if action != "failed":
            resend(run_id)
    return handled


def start_day_solve(request, date: dt.date, retailer_id: int, user: str) -> SolveRun:
    """The page's and the API's start of a solve: a queued run with the ini's time limit, sent
    to the workers once the request commits."""
    settings = request.registry.settings
    run = start_solve_run(request.dbsession, date, retailer_id, user=user,
                          time_limit=PlanningSettings.from_settings(settings).time_limit,
                          dead_after_seconds=dead_after(settings))
    request.task(solve_run).delay(run.id)
    return run


def this_worker() -> str:
    """The Celery worker's name and this process's id (host and pid when run eagerly)."""
    hostname = current_task.request.hostname if current_task else None
    return f"{hostname}:{os.getpid()}" if hostname else worker_name()


def start_day_replan(request, date: dt.date, retailer_id: int, user: str, *, truck_code: str,
                     cut: dt.datetime) -> SolveRun:
    """The page's and the API's re-plan: checked at once (ReplanError: nothing published, a
    truck not on the day), then a queued re-plan run, sent to the workers once the request
    commits. It shares the day's one active run with solves: a day never has two writers."""
    check_replan(request.dbsession, date, retailer_id, truck_code=truck_code, cut=cut)
    settings = request.registry.settings
    run = start_solve_run(request.dbsession, date, retailer_id, user=user,
                          time_limit=PlanningSettings.from_settings(settings).time_limit,
                          dead_after_seconds=dead_after(settings), kind=RunKind.REPLAN,
                          asked={"truck_id": truck_code, "from": cut.strftime("%H:%M")})
    request.task(solve_run).delay(run.id)
    return run


def confirm_breakdown(request, report: BreakdownReport, user: str) -> SolveRun:
    """The planner confirms a driver's breakdown report: a re-plan run with its truck out of
    service from the reported time (refused like any re-plan: ReplanError, SolveAlreadyRunning)."""
    run = start_day_replan(request, report.date, report.truck.retailer_id, user, truck_code=report.truck.code,
                           cut=report.at)
    decide_breakdown(report, BreakdownStatus.CONFIRMED, user, run_id=run.id)
    return run


@task()
def solve_run(request, run_id: int) -> None:
    """Solves a queued run on a worker; a run that is not queued (or abandoned) is left alone.
    A large day's pieces become ``solve_piece`` tasks when there is a broker."""
    registry = request.registry
    send_piece = get_task(registry["celery.app"], solve_piece).send_now if has_broker(registry) else None
    execute_solve_run(registry["dbsession_factory"], run_id, registry.settings, worker=this_worker(),
                      dead_after_seconds=dead_after(registry.settings), send_piece=send_piece)


@task()
def solve_piece(request, run_id: int, index: int) -> None:
    """One piece of a large day's run, on whichever worker takes it first."""
    solve_piece_of_run(request.registry["dbsession_factory"], run_id, index, this_worker(), request.registry.settings)
