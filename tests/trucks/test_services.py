"""Building the engine's day from the database, storing its answer, exporting it."""
import csv
import io
import json

import numpy as np
import pytest
from sqlalchemy import inspect, select

from scheduling import UnservedReason, solve
from tests.factories import DAY, make_csv_files, make_day
from trucks.constraints import add_forbid, add_lock, add_pin
from trucks.importer import import_day
from trucks.models import CommitteeReport, Stock
from trucks.exports import CSV_COLUMNS, export, schedule_document
from trucks.publishing import publish
from trucks.services import (
    PlanningSettings,
    build_problem,
    latest_schedule,
    load_schedule,
    loaded_trucks,
    store_schedule,
)

SETTINGS = PlanningSettings(time_limit=0.5)


def by_id(day_problem):
    return {c.id: c for c in day_problem.problem.compounds}


def solve_and_store(dbsession, day):
    day_problem = build_problem(dbsession, day.date, day.retailer.id, SETTINGS)
    result = solve(day_problem.problem, time_limit=SETTINGS.time_limit, seed=0)
    return day_problem, store_schedule(dbsession, day_problem, result, params={"solver": "highs"})


def test_settings_come_from_the_ini_keys():
    settings = PlanningSettings.from_settings({
        "scheduling.time_limit_seconds": "7", "scheduling.service_base_minutes": "12",
        "scheduling.solver": "cbc", "scheduling.max_stops_default": ""})
    assert (settings.time_limit, settings.service_base_minutes, settings.solver) == (7.0, 12.0, "cbc")
    assert settings.max_stops_default == 30 and settings.speed_kmh == 25.0


def test_service_minutes_default_rule_rounds_households_up(dbsession):
    day = make_day(dbsession)
    compounds = by_id(build_problem(dbsession, DAY, day.retailer.id, SETTINGS))
    assert compounds["A-C01"].service == 10 + 5  # 420 households: 5 hundreds, rounded up
    assert compounds["A-C02"].service == 10 + 13  # 1250
    day.compounds[0].service_minutes = 42
    assert by_id(build_problem(dbsession, DAY, day.retailer.id, SETTINGS))["A-C01"].service == 42


def test_service_must_finish_inside_the_window(dbsession):
    day = make_day(dbsession)
    built = build_problem(dbsession, DAY, day.retailer.id, SETTINGS)
    c04 = by_id(built)["A-C04"]  # window 09:00-12:00, 2300 households: 33 minutes
    assert (c04.ready, c04.due, c04.service) == (540, 720 - 33, 33)
    assert c04.priority == 3 and c04.demand == {"vegetables": 69, "dairy": 46, "eggs": 23}
    truck = built.problem.trucks[0]
    assert (truck.shift_start, truck.shift_end, truck.max_stops) == (420, 1140, 10)
    assert truck.stock["vegetables"] > 0 and built.settled == ()


def test_window_shorter_than_service_is_unreachable_without_the_engine(dbsession):
    day = make_day(dbsession)
    day.compounds[3].window_end = 9 * 60 + 20  # 20 minutes for 33 minutes of service
    built = build_problem(dbsession, DAY, day.retailer.id, SETTINGS)
    assert "A-C04" not in by_id(built)
    assert [(u.compound_id, u.reason) for u in built.settled] == [("A-C04", UnservedReason.UNREACHABLE)]


def test_committee_refusal_keeps_the_compound_out(dbsession):
    day = make_day(dbsession)
    dbsession.add(CommitteeReport(compound=day.compounds[1], date=DAY, reason="封控升级"))
    dbsession.add(CommitteeReport(compound=day.compounds[2], date=DAY.replace(day=21), reason="next day"))
    dbsession.flush()
    built = build_problem(dbsession, DAY, day.retailer.id, SETTINGS)
    assert "A-C02" not in by_id(built) and "A-C03" in by_id(built)
    assert [(u.compound_id, u.reason) for u in built.settled] == [("A-C02", UnservedReason.REFUSED)]


def test_pins_forbids_and_locks_reach_the_engine(dbsession):
    day = make_day(dbsession)
    t1, t2 = day.trucks
    c = day.compounds
    add_pin(dbsession, DAY, day.retailer.id, t2.id, c[0].id)
    add_forbid(dbsession, DAY, day.retailer.id, t1.id, c[1].id)
    _, schedule = solve_and_store(dbsession, day)
    route = next(r for r in schedule.routes if r.stops)
    add_lock(dbsession, DAY, day.retailer.id, route.truck_id, schedule)
    built = build_problem(dbsession, DAY, day.retailer.id, SETTINGS)
    compounds = by_id(built)
    assert compounds["A-C01"].allowed_trucks == {"A-T2"}
    assert compounds["A-C02"].allowed_trucks == {"A-T2"}
    assert compounds["A-C03"].allowed_trucks is None
    locked = {t.id: t.locked_route for t in built.problem.trucks}
    assert locked[route.truck.code] == tuple(s.compound.code for s in route.stops)


def test_only_the_retailers_own_trucks_and_compounds(dbsession):
    own = make_day(dbsession)
    make_day(dbsession, retailer_name="良友", prefix="B", n_compounds=3)
    built = build_problem(dbsession, DAY, own.retailer.id, SETTINGS)
    assert built.problem.truck_ids == ("A-T1", "A-T2")
    assert len(built.problem.compounds) == 8
    assert all(c.id.startswith("A-") for c in built.problem.compounds)
    assert build_problem(dbsession, DAY.replace(day=21), own.retailer.id, SETTINGS).problem.compounds == ()


def test_loaded_trucks_are_the_retailers_own_with_stock_that_day(dbsession):
    own = make_day(dbsession)
    make_day(dbsession, retailer_name="良友", prefix="B", n_compounds=3)
    assert [t.code for t in loaded_trucks(dbsession, DAY, own.retailer.id)] == ["A-T1", "A-T2"]
    for stock in dbsession.scalars(select(Stock).where(Stock.truck_id == own.trucks[0].id)):
        dbsession.delete(stock)
    dbsession.flush()
    assert [t.code for t in loaded_trucks(dbsession, DAY, own.retailer.id)] == ["A-T2"]
    assert loaded_trucks(dbsession, DAY.replace(day=21), own.retailer.id) == []


def test_load_schedule_brings_routes_stops_and_unserved_or_none(dbsession):
    day = make_day(dbsession)
    day.compounds[3].window_end = 9 * 60 + 20  # unreachable: one unserved row
    _, stored = solve_and_store(dbsession, day)
    served = sorted(s.compound.code for r in stored.routes for s in r.stops)
    dbsession.expire_all()
    loaded = load_schedule(dbsession, stored.id)
    state = inspect(loaded)
    assert "routes" not in state.unloaded and "unserved" not in state.unloaded
    assert "A-C04" in [u.compound.code for u in loaded.unserved]
    assert sorted(s.compound.code for r in loaded.routes for s in r.stops) == served != []
    assert load_schedule(dbsession, stored.id + 1000) is None


def test_imported_travel_matrix_overrides_great_circle(dbsession):
    files = make_csv_files()
    files["travel"] = b"from_id,to_id,minutes\nA-T1,A-C01,55\n"
    day = import_day(dbsession, DAY, files)
    built = build_problem(dbsession, DAY, day.retailer_id, SETTINGS)
    travel = built.problem.travel
    c01 = by_id(built)["A-C01"].location
    assert travel[0, c01] == 55
    assert travel[1, c01] == pytest.approx(travel[c01, 1])  # truck 2's leg stays great-circle
    assert 0 < travel[1, c01] < 10
    assert np.all(np.diag(travel) == 0)


def test_store_and_export_round_trip(dbsession):
    day = make_day(dbsession)
    day.compounds[3].window_end = 9 * 60 + 20
    day_problem, schedule = solve_and_store(dbsession, day)
    document = json.loads(export(dbsession, DAY, retailer_id=day.retailer.id, fmt="json", latest=True))
    assert list(document) == ["date", "version", "routes", "unserved"]
    assert document["date"] == "2022-04-20" and document["version"] is None  # not published
    seen = []
    for route in document["routes"]:
        assert list(route) == ["truck_id", "depart", "return", "stops"]
        assert route["depart"].startswith("2022-04-20T") and route["return"] >= route["depart"]
        for stop in route["stops"]:
            assert list(stop) == ["compound_id", "arrival", "departure", "deliveries"]
            assert stop["arrival"] < stop["departure"]
            assert all(isinstance(q, int) for q in stop["deliveries"].values())
            seen.append(stop["compound_id"])
    seen += [u["compound_id"] for u in document["unserved"]]
    assert sorted(seen) == sorted(c.code for c in day.compounds)
    assert {"compound_id": "A-C04", "reason": "unreachable"} in document["unserved"]
    # stored times are the engine's minutes as local date-times of the day
    stop = schedule.routes[0].stops[0]
    visit = next(v for r in solve(day_problem.problem, time_limit=SETTINGS.time_limit, seed=0).routes for v in r.visits
                 if v.compound_id == stop.compound.code)
    assert stop.start.hour * 60 + stop.start.minute == pytest.approx(visit.start, abs=1)


def test_version_is_the_publications_number_and_csv_has_a_row_per_stop(dbsession):
    day = make_day(dbsession)
    _, first = solve_and_store(dbsession, day)
    _, second = solve_and_store(dbsession, day)
    publish(dbsession, second, "planner")
    assert latest_schedule(dbsession, DAY, day.retailer.id) is second
    assert schedule_document(dbsession, first, None)["version"] is None
    rows = list(csv.DictReader(io.StringIO(export(dbsession, DAY, retailer_id=day.retailer.id, fmt="csv"))))
    stops = [r for r in rows if r["stop"]]
    assert len(stops) == sum(len(r.stops) for r in second.routes)
    assert len(rows) == len(stops) + len(second.unserved) == 8
    assert {"version": "1", "truck_id": stops[0]["truck_id"]}.items() <= stops[0].items()
    assert set(CSV_COLUMNS) | {"vegetables", "dairy", "eggs"} == set(rows[0])
    delivered = sum(int(r["vegetables"]) for r in stops)
    assert delivered == sum(s.deliveries.get("vegetables", 0) for r in second.routes for s in r.stops) > 0


def test_export_without_schedule_or_with_unknown_format(dbsession):
    day = make_day(dbsession)
    with pytest.raises(LookupError):
        export(dbsession, DAY, retailer_id=day.retailer.id, fmt="json", latest=True)
    solve_and_store(dbsession, day)
    with pytest.raises(LookupError, match="nothing published"):
        export(dbsession, DAY, retailer_id=day.retailer.id, fmt="json")
    with pytest.raises(ValueError, match="unknown export format"):
        export(dbsession, DAY, retailer_id=day.retailer.id, fmt="xml")
