"""A large day's pieces as rows any worker may claim: results survive the database, the run's
own worker finishes pieces nobody took, and a worker that rebuilt a different piece stays out."""
from __future__ import annotations

import pytest
import transaction
from sqlalchemy import select

from scheduling import solve
from scheduling.decompose import split
from tests.factories import DAY, make_day
from tests.scheduling.factory import two_towns
from trucks.db import get_engine, get_session_factory, get_tm_session
from trucks.models import Compound, SolveRunPiece, SolveStatus
from trucks.pieces import piece_solver, result_from_json, result_json, solve_piece_of_run
from trucks.solving import claim_run, start_solve_run


def test_a_result_comes_back_from_json_as_it_was():
    problem = two_towns(5, 5)
    result = solve(problem, time_limit=1.0, seed=3)
    again = result_from_json(result_json(result))
    assert again == result
    again.check(problem)


@pytest.fixture
def sessions(file_database):
    engine = get_engine({"sqlalchemy.url": file_database})
    yield get_session_factory(engine)
    engine.dispose()


def running_run(sessions) -> int:
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(sessions, tm)
        run_id = start_solve_run(dbsession, DAY, make_day(dbsession).retailer.id).id
    assert claim_run(sessions, run_id, "w1@test:1", 30) is not None
    return run_id


def test_with_every_other_worker_busy_the_run_s_worker_solves_each_piece_itself(sessions):
    run_id = running_run(sessions)
    problem = two_towns(6, 6)
    pieces = split(problem, 6)
    sent, heard = [], []
    results = piece_solver(sessions, run_id, "w1@test:1", lambda run, index: sent.append((run, index)),
                           lambda fraction, line: heard.append((line.key, line.params)))(pieces, 1.0, 5, "highs", None)
    assert heard[-1] == ("pieces_solved", {"done": 2, "total": 2})
    assert sent == [(run_id, index) for index in range(len(pieces))] and len(pieces) == 2
    for piece, result in zip(pieces, results):
        result.check(piece)
    with sessions() as session:
        rows = session.scalars(select(SolveRunPiece).where(SolveRunPiece.run_id == run_id)).all()
    assert [(r.index, r.status, r.worker, r.seed) for r in rows] == [
        (0, SolveStatus.DONE, "w1@test:1", 5), (1, SolveStatus.DONE, "w1@test:1", 6)]


def test_a_worker_that_rebuilt_another_piece_leaves_it_to_the_run(sessions):
    run_id = running_run(sessions)
    with sessions.begin() as session:
        codes = list(session.scalars(select(Compound.code).order_by(Compound.code)))
        session.add(SolveRunPiece(run_id=run_id, index=0, status=SolveStatus.QUEUED, time_limit=1.0, seed=0,
                                  compound_ids=codes[:3]))  # not the piece this day splits into
    assert not solve_piece_of_run(sessions, run_id, 0, "w2@test:2", {"scheduling.piece_size": "400"})
    with sessions() as session:
        row = session.scalars(select(SolveRunPiece)).one()
    assert (row.status, row.worker, row.result) == (SolveStatus.QUEUED, "", None)
