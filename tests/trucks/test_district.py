"""The district: the coordinator's assignment (propose, pin, confirm) and the district solve,
on a generated day of three retailers with unbalanced depots, through the real import."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import transaction
from sqlalchemy import func, select

from bench.district import DATE, district_files
from scheduling import Compound as EngineCompound
from scheduling import Problem, Result, Route, Unserved, UnservedReason, Visit
from scheduling import Truck as EngineTruck
from trucks.cli import main
from trucks.db import get_engine, get_session_factory, get_tm_session
from trucks.district import (
    DistrictError,
    assignment_rows,
    confirm_assignment,
    demand_retailers,
    execute_district_solve,
    is_confirmed,
    pin_compound,
    propose_assignment,
    split_result,
    start_district_solve,
)
from trucks.importer import import_day
from trucks.models import Compound, Retailer, Schedule, SolveRun, SolveStatus, Truck
from trucks.services import DayProblem, PlanningSettings, build_problem, latest_schedule
from trucks.solving import execute_solve_run, start_solve_run

#: 90 compounds, one truck of 30 stops per retailer: nearest depot gives the first far more than 30
COMPOUNDS = 90


def retailer_ids(dbsession) -> dict[str, int]:
    return dict(dbsession.execute(select(Retailer.name, Retailer.id)).all())


def test_proposal_balances_the_retailers_and_confirming_moves_the_demand(dbsession):
    import_day(dbsession, DATE, district_files(COMPOUNDS))
    ids = retailer_ids(dbsession)
    nearest = demand_retailers(dbsession, DATE)
    assert max(list(nearest.values()).count(r) for r in ids.values()) > 30  # the import's rule overloads one

    assignment = propose_assignment(dbsession, DATE, PlanningSettings(time_limit=20))
    rows = assignment_rows(dbsession, DATE)
    assert {row.compound_id for row in rows} == set(nearest)
    assert not is_confirmed(rows)
    assert all(load.compounds <= load.stops for load in assignment.loads)
    assert demand_retailers(dbsession, DATE) == nearest  # nothing moves before confirmation

    # pin a compound the proposal gave the first retailer to the last one: the next proposal keeps it
    first, last = ids["甲"], ids["丙"]
    moved = next(row.compound_id for row in rows if row.retailer_id == first)
    pin_compound(dbsession, DATE, moved, last)
    propose_assignment(dbsession, DATE, PlanningSettings(time_limit=20))
    rows = {row.compound_id: row for row in assignment_rows(dbsession, DATE)}
    assert rows[moved].retailer_id == last and rows[moved].pinned

    changed = confirm_assignment(dbsession, DATE, "coordinator")
    assert changed > 0 and is_confirmed(list(rows.values()))
    now = demand_retailers(dbsession, DATE)
    assert now == {c: row.retailer_id for c, row in rows.items()}
    code = dbsession.get(Compound, moved).code
    assert code in build_problem(dbsession, DATE, last, PlanningSettings()).compound_ids  # its planner sees it


def test_pins_are_checked(dbsession):
    import_day(dbsession, DATE, district_files(COMPOUNDS))
    with pytest.raises(DistrictError, match="no demand"):
        pin_compound(dbsession, DATE.replace(day=21), 1, retailer_ids(dbsession)["甲"])
    compound = dbsession.scalar(select(Compound.id).limit(1))
    with pytest.raises(DistrictError, match="no retailer"):
        pin_compound(dbsession, DATE, compound, 999)
    with pytest.raises(DistrictError, match="no assignment"):
        confirm_assignment(dbsession, DATE, "coordinator")


@pytest.fixture
def file_sessions(file_database):
    engine = get_engine({"sqlalchemy.url": file_database})
    yield get_session_factory(engine)
    engine.dispose()


def _in_transaction(session_factory, work):
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        return work(get_tm_session(session_factory, tm))


def _served(session, schedule_id: int) -> int:
    return sum(len(route.stops) for route in session.get(Schedule, schedule_id).routes)


def test_district_solve_serves_at_least_what_nearest_depot_serves(file_sessions):
    """Same day, same seconds in all: each retailer alone on its nearest-depot compounds, then
    one solve with every truck. Each retailer's part is its schedule; demand follows the trucks."""
    _in_transaction(file_sessions, lambda s: import_day(s, DATE, district_files(COMPOUNDS)))
    ids = _in_transaction(file_sessions, retailer_ids)
    nearest_served = 0
    for retailer_id in ids.values():
        run_id = _in_transaction(file_sessions, lambda s: start_solve_run(s, DATE, retailer_id, time_limit=3).id)
        schedule_id = execute_solve_run(file_sessions, run_id, {"scheduling.time_limit_seconds": "3"})
        with file_sessions() as session:
            nearest_served += _served(session, schedule_id)

    run_ids = _in_transaction(file_sessions, lambda s: [r.id for r in start_district_solve(s, DATE, "coord")])
    schedules = execute_district_solve(file_sessions, run_ids, PlanningSettings(time_limit=9))
    assert schedules is not None and set(schedules) == set(ids.values())
    with file_sessions() as session:
        runs = [session.get(SolveRun, run_id) for run_id in run_ids]
        assert all(run.status == SolveStatus.DONE and run.schedule_id == schedules[run.retailer_id] for run in runs)
        district_served = sum(_served(session, schedule_id) for schedule_id in schedules.values())
        assert district_served >= nearest_served
        assert district_served > 80
        demand = demand_retailers(session, DATE)
        for retailer_id, schedule_id in schedules.items():
            schedule = session.get(Schedule, schedule_id)
            assert latest_schedule(session, DATE, retailer_id).id == schedule_id and schedule.params["district"]
            planned = [stop.compound_id for route in schedule.routes for stop in route.stops]
            planned += [entry.compound_id for entry in schedule.unserved]
            assert all(session.get(Truck, route.truck_id).retailer_id == retailer_id for route in schedule.routes)
            assert {t["code"] for t in schedule.facts["idle_trucks"]} <= {
                t.code for t in session.scalars(select(Truck).where(Truck.retailer_id == retailer_id))}
            assert sorted(planned) == sorted(c for c, r in demand.items() if r == retailer_id)
        assert is_confirmed(assignment_rows(session, DATE))
        total = session.scalar(select(func.count()).select_from(Compound))
        assert len(demand) == total


def test_solve_district_command(file_ini, file_database, tmp_path, capsys):
    for name, data in district_files(COMPOUNDS).items():
        (tmp_path / f"{name}.csv").write_bytes(data)
    args = ["import", str(file_ini), "--date", DATE.isoformat()]
    args += [a for name in ("trucks", "compounds", "stock", "demand") for a in (f"--{name}", str(tmp_path / f"{name}.csv"))]
    assert main(args) == 0
    assert main(["solve", str(file_ini), "--date", DATE.isoformat(), "--district", "--time-limit", "3"]) == 0
    out = capsys.readouterr().out
    assert all(f"{name}: " in out and " served, " in out for name in ("甲", "乙", "丙"))
    assert main(["publish", str(file_ini), "--date", DATE.isoformat(), "--retailer", "丙"]) == 0
    capsys.readouterr()
    assert main(["export", str(file_ini), "--date", DATE.isoformat(), "--format", "json", "--retailer", "丙"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["routes"] and all(route["truck_id"].startswith("R3-") for route in exported["routes"])
    assert main(["solve", str(file_ini), "--date", DATE.isoformat(), "--district", "--retailer", "丙"]) == 2
    assert main(["adduser", str(file_ini), "--role", "coordinator", "--username", "district-office",
                 "--password", "long enough pw"]) == 0
    assert "user district-office (coordinator) created" in capsys.readouterr().out


def test_a_new_import_of_the_day_keeps_the_confirmed_assignment(dbsession):
    """Demand imported again after confirmation goes to the confirmed retailers, not the nearest."""
    files = district_files(COMPOUNDS)
    import_day(dbsession, DATE, files)
    propose_assignment(dbsession, DATE, PlanningSettings(time_limit=10))
    confirm_assignment(dbsession, DATE, "coordinator")
    confirmed = demand_retailers(dbsession, DATE)
    import_day(dbsession, DATE, {"stock": files["stock"], "demand": files["demand"]})
    assert demand_retailers(dbsession, DATE) == confirmed


def test_split_result_gives_each_retailer_its_trucks_routes_and_its_unserved():
    """Routes go by their truck's retailer; an unserved compound stays with the retailer its
    demand names, and one of a retailer without trucks goes to the first retailer solved."""
    trucks = (EngineTruck("T1", 0, 480, 1080, 5), EngineTruck("T2", 0, 480, 1080, 5))
    compounds = tuple(EngineCompound(code, i + 1, 480, 1000, 10) for i, code in enumerate("abc"))
    problem = Problem(trucks=trucks, compounds=compounds, travel=np.ones((4, 4)))
    day = DayProblem(date=dt.date(2022, 4, 20), retailer_id=None, problem=problem,
                     settled=(Unserved("d", UnservedReason.REFUSED),),
                     truck_ids={"T1": 11, "T2": 12}, compound_ids={"a": 1, "b": 2, "c": 3, "d": 4},
                     trucks={}, compounds={}, demand={}, import_id=None)
    route = lambda truck, code: Route(truck, 480, 501, (Visit(code, 481, 481, 491),), 2.0)  # noqa: E731
    result = Result(routes=(route("T1", "a"), route("T2", "b")), unserved=(Unserved("c", UnservedReason.FLEET_FULL),),
                    travel_minutes=4.0, seconds=1.0, iterations=1, seed=0)
    parts = split_result(day, result, owners={"T1": 1, "T2": 2}, current={1: 2, 2: 2, 3: 3, 4: 2},
                         retailer_ids=[1, 2])
    assert [r.truck_id for r in parts[1].result.routes] == ["T1"] and parts[1].result.travel_minutes == 2.0
    assert [u.compound_id for u in parts[1].result.unserved] == ["c"] and parts[1].day.settled == ()
    assert [r.truck_id for r in parts[2].result.routes] == ["T2"] and parts[2].result.unserved == ()
    assert [u.compound_id for u in parts[2].day.settled] == ["d"]
    assert (parts[1].day.retailer_id, parts[2].day.retailer_id) == (1, 2)
    assert [t.id for t in parts[1].day.problem.trucks] == ["T1"] and [t.id for t in parts[2].day.problem.trucks] == ["T2"]
