"""The pieces of a large day spread over every worker on every machine.

The run's own worker splits the day (``scheduling.decompose``), records a row per piece and
sends a ``solve_piece`` task for each (a group: run id and piece index only). Any worker that
takes one rebuilds the day from the database, checks it got the same piece, claims the row with
a conditional UPDATE and stores the piece's result there. Meanwhile the run's worker claims and
solves pieces nobody has taken yet (so a day never waits on busy workers) and, once every piece
has a result, goes on with the seam rounds. A piece claimed by a worker that died is taken back
after its time limit and a grace period.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduling import Problem, Result, solve
from scheduling.decompose import PIECE_SHARE, PIECE_SIZE, PieceSolver, split
from scheduling.progress import ProgressLine
from scheduling.result import Route, Unserved, UnservedReason, Visit

from .db import in_transaction
from .models import SolveRun, SolveRunPiece, SolveStatus, utcnow
from .services import PlanningSettings, build_problem

log = logging.getLogger("foodtrucks.pieces")

#: how often the run's worker looks at its pieces' rows
POLL_SECONDS = 0.5
#: a claimed piece without a result this long after its time limit is taken back
PIECE_GRACE_SECONDS = 15.0


class RunStopped(RuntimeError):
    """The run was cancelled or taken over while its pieces were solved."""


def split_settings(settings: Mapping[str, str]) -> tuple[int | None, int | None]:
    """``scheduling.split_above`` and ``scheduling.piece_size``: when a day is split, and how
    (None: the engine's own)."""
    return tuple(int(settings[key]) if settings.get(key) else None
                 for key in ("scheduling.split_above", "scheduling.piece_size"))


def result_json(result: Result) -> dict:
    return {
        "routes": [{"truck_id": r.truck_id, "depart": r.depart, "back": r.back, "travel_minutes": r.travel_minutes,
                    "visits": [{"compound_id": v.compound_id, "arrival": v.arrival, "start": v.start,
                                "departure": v.departure, "deliveries": dict(v.deliveries), "fill": dict(v.fill)}
                               for v in r.visits]} for r in result.routes],
        "unserved": [{"compound_id": u.compound_id, "reason": str(u.reason)} for u in result.unserved],
        "travel_minutes": result.travel_minutes, "seconds": result.seconds, "iterations": result.iterations,
        "seed": result.seed, "status": result.status,
    }


def result_from_json(data: dict) -> Result:
    return Result(
        routes=tuple(Route(truck_id=r["truck_id"], depart=r["depart"], back=r["back"], travel_minutes=r["travel_minutes"],
                           visits=tuple(Visit(**v) for v in r["visits"])) for r in data["routes"]),
        unserved=tuple(Unserved(u["compound_id"], UnservedReason(u["reason"])) for u in data["unserved"]),
        travel_minutes=data["travel_minutes"], seconds=data["seconds"], iterations=data["iterations"],
        seed=data["seed"], status=data["status"],
    )


def _claim_piece(session_factory: sessionmaker, run_id: int, index: int | None, worker: str) -> SolveRunPiece | None:
    """Claims piece ``index`` (or any) of the run if queued, or claimed by a worker that died."""
    now = utcnow()

    def claim(session: Session) -> SolveRunPiece | None:
        candidates = select(SolveRunPiece).where(SolveRunPiece.run_id == run_id, SolveRunPiece.result.is_(None))
        if index is not None:
            candidates = candidates.where(SolveRunPiece.index == index)
        for piece in session.scalars(candidates.order_by(SolveRunPiece.index)):
            overdue = now - dt.timedelta(seconds=piece.time_limit + PIECE_GRACE_SECONDS)
            if session.execute(update(SolveRunPiece).where(
                    SolveRunPiece.id == piece.id, SolveRunPiece.result.is_(None),
                    or_(SolveRunPiece.status == SolveStatus.QUEUED,
                        and_(SolveRunPiece.status == SolveStatus.RUNNING, SolveRunPiece.claimed_at < overdue)))
                    .values(status=SolveStatus.RUNNING, worker=worker, claimed_at=now)
                    .execution_options(synchronize_session=False)).rowcount == 1:
                session.refresh(piece)
                session.expunge(piece)
                return piece
        return None

    return in_transaction(session_factory, claim)


def _store_piece(session_factory: sessionmaker, piece: SolveRunPiece, worker: str, result: Result) -> None:
    in_transaction(session_factory, lambda session: session.execute(update(SolveRunPiece).where(
        SolveRunPiece.id == piece.id, SolveRunPiece.worker == worker, SolveRunPiece.result.is_(None))
        .values(status=SolveStatus.DONE, result=result_json(result))))


def _solve(piece: Problem, row: SolveRunPiece, lp_solver: str, stop: Callable[[], bool] | None) -> Result:
    return solve(piece, time_limit=row.time_limit, seed=row.seed, lp_solver=lp_solver, stop=stop)


def piece_solver(
    session_factory: sessionmaker, run_id: int, worker: str, send_piece: Callable[[int, int], None],
    progress: Callable[[float, str], None] = lambda fraction, line: None,
) -> PieceSolver:
    """``solve_day``'s ``solve_pieces`` for a run: pieces as tasks, this worker helping;
    ``progress`` hears how many pieces have their result."""

    def solve_pieces(pieces: Sequence[Problem], piece_limit: float, seed: int, lp_solver: str, stop) -> list[Result]:
        def record(session: Session) -> None:
            session.execute(delete(SolveRunPiece).where(SolveRunPiece.run_id == run_id))  # a restarted run
            session.add_all(SolveRunPiece(run_id=run_id, index=index, status=SolveStatus.QUEUED, time_limit=piece_limit,
                                          seed=seed + index, compound_ids=[c.id for c in piece.compounds])
                            for index, piece in enumerate(pieces))

        in_transaction(session_factory, record)
        for index in range(len(pieces)):
            send_piece(run_id, index)
        while True:
            if stop is not None and stop():
                raise RunStopped(f"solve run {run_id} stopped while its pieces were solved")
            row = _claim_piece(session_factory, run_id, None, worker)
            if row is not None:  # no other worker has taken it: solve it here
                _store_piece(session_factory, row, worker, _solve(pieces[row.index], row, lp_solver, stop))
                continue
            with session_factory() as session:
                done = session.execute(select(SolveRunPiece.index, SolveRunPiece.result).where(
                    SolveRunPiece.run_id == run_id, SolveRunPiece.result.is_not(None))).all()
            progress(PIECE_SHARE * len(done) / len(pieces), ProgressLine("pieces_solved", done=len(done), total=len(pieces)))
            if len(done) == len(pieces):
                return [result_from_json(data) for _, data in sorted(done)]
            time.sleep(POLL_SECONDS)

    return solve_pieces


def solve_piece_of_run(session_factory: sessionmaker, run_id: int, index: int, worker: str,
                       settings: Mapping[str, str]) -> bool:
    """A worker's share of a large day: rebuilds the run's day, claims piece ``index`` and stores
    its result. False when the run has ended, the piece was taken, or the day changed."""
    planning = PlanningSettings.from_settings(settings)
    with session_factory() as session:
        run = session.get(SolveRun, run_id)
        expected = session.scalar(select(SolveRunPiece.compound_ids).where(
            SolveRunPiece.run_id == run_id, SolveRunPiece.index == index))
        if run is None or run.status != SolveStatus.RUNNING or expected is None:
            return False
        day = build_problem(session, run.date, run.retailer_id, planning)
    pieces = split(day.problem, split_settings(settings)[1] or PIECE_SIZE)
    if index >= len(pieces) or [c.id for c in pieces[index].compounds] != expected:
        log.warning("piece %s of solve run %s: the day changed since it was split; left to the run", index, run_id)
        return False
    row = _claim_piece(session_factory, run_id, index, worker)
    if row is None:
        return False
    _store_piece(session_factory, row, worker, _solve(pieces[index], row, planning.solver, _run_stopped(session_factory, run_id)))
    return True


def _run_stopped(session_factory: sessionmaker, run_id: int) -> Callable[[], bool]:
    """The engine's stop for a piece: true once the run is no longer running (read at most
    every ``POLL_SECONDS``)."""
    state = {"checked": 0.0, "stopped": False}

    def stopped() -> bool:
        now = time.monotonic()
        if not state["stopped"] and now - state["checked"] >= POLL_SECONDS:
            state["checked"] = now
            with session_factory() as session:
                state["stopped"] = session.get(SolveRun, run_id).status != SolveStatus.RUNNING
        return state["stopped"]

    return stopped
