"""Re-planning a published day from a moment on, checked by ``replan_check`` (independent of
the engine's validation and of trucks.replan)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.days import lockdown_day
from scheduling import Route, Visit, solve_day
from tests.factories import DAY, make_csv_files, make_day
from tests.fieldday import publish_day
from tests.trucks.test_cli import import_args, write_files
from tests.trucks.replan_check import replan_violations
from trucks.cli import main
from trucks.live import compound_day, driver_route, record_stop_event
from trucks.models import Schedule
from trucks.publishing import latest_publication, publish
from trucks.replan import (
    ReplanError,
    insert_urgent,
    kept_count,
    minutes_of,
    replan_day,
    replan_routes,
    urgent_insertions,
    urgent_options,
)
from trucks.services import PlanningSettings, build_problem, load_schedule, store_schedule

SETTINGS = PlanningSettings(time_limit=1.0)
ELEVEN = 11 * 60.0


def _visit(cid, arrival, departure):
    return Visit(cid, arrival, arrival, departure)


def test_kept_stops_are_the_reported_ones_those_reached_before_the_cut_and_the_one_driven_to():
    route = Route("T", 480, 900, (_visit("a", 500, 520), _visit("b", 600, 620), _visit("c", 700, 720),
                                  _visit("d", 800, 820)), 60)
    assert kept_count(route, (), 610, broken=False) == 2  # at b: b is under way
    assert kept_count(route, (), 630, broken=False) == 3  # left b, driving to c
    assert kept_count(route, (), 630, broken=True) == 2  # broken down on the road: c is not reached
    assert kept_count(route, {"c"}, 550, broken=True) == 3  # the driver reported c: all before it stays
    assert kept_count(route, (), 470, broken=False) == 0  # still at the depot


@pytest.fixture(scope="module")
def generated_day():
    problem = lockdown_day(3, seed=2)
    return problem, solve_day(problem, time_limit=3.0, seed=0)


def test_breakdown_at_eleven_on_a_generated_day_keeps_the_morning_and_moves_the_rest(generated_day):
    problem, published = generated_day
    broken = max(published.routes, key=lambda r: len(r.visits)).truck_id
    replan = replan_routes(problem, published.routes, broken=broken, cut=ELEVEN, time_limit=3.0)

    assert replan_violations(problem, published.routes, replan.routes, broken=broken, cut=ELEVEN) == []
    orphans = {v.compound_id for r in published.routes if r.truck_id == broken for v in r.visits
               if v.compound_id not in replan.kept}
    assert orphans and set(replan.reserved) | set(replan.dropped) == orphans
    served = {v.compound_id for r in replan.routes for v in r.visits}
    assert set(replan.reserved) <= served and not set(replan.dropped) & served
    tails = {v.compound_id for r in published.routes for v in r.visits} - set(replan.kept)
    assert {u.compound_id for u in replan.unserved} == tails - served
    for moved in replan.moved:
        assert moved.compound_id in served and moved.compound_id not in orphans
    assert replan.moved_max >= replan.moved_mean >= 0


def test_a_truck_that_has_not_left_yet_starts_from_its_depot_at_the_cut(generated_day):
    problem, published = generated_day
    late = 6 * 60.0  # before every shift: nothing kept, the broken truck's day goes to the others
    broken = published.routes[0].truck_id
    replan = replan_routes(problem, published.routes, broken=broken, cut=late, time_limit=2.0)
    assert replan.kept == ()
    assert broken not in {r.truck_id for r in replan.routes}
    assert replan_violations(problem, published.routes, replan.routes, broken=broken, cut=late) == []


def test_unknown_truck_is_refused(generated_day):
    problem, published = generated_day
    with pytest.raises(ReplanError, match="not on this day"):
        replan_routes(problem, published.routes, broken="nobody", cut=ELEVEN)


# --------------------------------------------------------------------------- through the database


def _publish_solved_day(dbsession, prefix):
    day = make_day(dbsession, prefix=prefix)
    problem = build_problem(dbsession, day.date, day.retailer.id, SETTINGS)
    result = solve_day(problem.problem, time_limit=SETTINGS.time_limit, seed=0)
    schedule = store_schedule(dbsession, problem, result)
    publish(dbsession, schedule, "planner")
    return day, problem, load_schedule(dbsession, schedule.id)


def _routes_now(dbsession, day):
    """The published routes as the drivers' page now expects them (their reports applied)."""
    routes = []
    for truck in day.trucks:
        found = driver_route(dbsession, truck, day.date)
        if found is None:
            continue
        visits = tuple(Visit(s.compound_code, minutes_of(day.date, s.estimate.arrival),
                             minutes_of(day.date, s.estimate.start), minutes_of(day.date, s.estimate.departure),
                             s.goods and {g.key: g.quantity for g in s.goods})
                       for s in found.stops)
        routes.append(Route(truck.code, minutes_of(day.date, found.depart), minutes_of(day.date, found.back),
                            visits, 0.0))
    return routes


def test_replan_keeps_reported_stops_moves_the_broken_trucks_compounds_and_publishes(dbsession):
    day, problem, published = _publish_solved_day(dbsession, "RP1")
    routes = sorted(published.routes, key=lambda r: len(r.stops))
    running, broken = routes[0], routes[-1]
    assert len(broken.stops) >= 2, "the tiny day should give the busier truck two stops or more"
    # the running truck's driver reports its first stop, leaving 7 minutes later than planned
    first = running.stops[0]
    driver_truck = next(t for t in day.trucks if t.id == running.truck_id)
    record_stop_event(dbsession, driver_truck, day.date, first.id, "arrived", at=first.arrival)
    left = first.departure + dt.timedelta(minutes=7)
    record_stop_event(dbsession, driver_truck, day.date, first.id, "departed", at=left)
    cut = broken.stops[0].arrival + dt.timedelta(minutes=1)
    before = _routes_now(dbsession, day)
    reported = {first.compound.code}

    outcome = replan_day(dbsession, day.date, day.retailer.id, SETTINGS, truck_code=broken.truck.code,
                         cut=cut, user="planner")

    assert outcome.publication.version == 2 and outcome.base_version == 1
    assert latest_publication(dbsession, day.date, day.retailer.id).schedule_id == outcome.schedule.id
    new = load_schedule(dbsession, outcome.schedule.id)
    stops = {s.compound.code: (r.truck.code, s) for r in new.routes for s in r.stops}
    assert stops[first.compound.code][1].departure == left  # as it happened, not as planned
    assert stops[broken.stops[0].compound.code][0] == broken.truck.code  # under way at the cut: kept
    after = [Route(r.truck.code, minutes_of(day.date, r.depart), minutes_of(day.date, r.back), tuple(
        Visit(s.compound.code, minutes_of(day.date, s.arrival), minutes_of(day.date, s.start),
              minutes_of(day.date, s.departure), s.deliveries) for s in r.stops), r.travel_minutes)
        for r in new.routes]
    assert replan_violations(problem.problem, before, after, broken=broken.truck.code,
                             cut=minutes_of(day.date, cut), reported=reported, tol=0.02) == []
    orphans = [s.compound.code for s in broken.stops[1:]]
    unserved = {u.compound.code: u.reason for u in new.unserved}
    for code in orphans:  # each of the broken truck's later compounds is re-served or listed with a reason
        assert (code in stops and stops[code][0] != broken.truck.code) or code in unserved
    assert new.params["replan"]["truck"] == broken.truck.code
    assert new.params["replan"]["reserved"] + new.params["replan"]["dropped"] == len(orphans)


def test_replan_refuses_an_unpublished_day_and_a_foreign_truck(dbsession):
    day = make_day(dbsession, prefix="RP2")
    other = make_day(dbsession, prefix="RP2B", retailer_name="叮咚")
    cut = dt.datetime.combine(day.date, dt.time(11))
    with pytest.raises(ReplanError, match="nothing is published"):
        replan_day(dbsession, day.date, day.retailer.id, SETTINGS, truck_code=day.trucks[0].code, cut=cut)
    _publish_solved_day(dbsession, "RP2C")
    with pytest.raises(ReplanError, match="fleet"):
        replan_day(dbsession, day.date, day.retailer.id, SETTINGS, truck_code=other.trucks[0].code, cut=cut)


def test_replan_command_publishes_the_next_version_and_export_shows_it(file_ini, file_database, tmp_path, capsys):
    assert main(import_args(file_ini, write_files(tmp_path, make_csv_files()))) == 0
    assert main(["solve", str(file_ini), "--date", "2022-04-20", "--time-limit", "0.5"]) == 0
    replan = ["replan", str(file_ini), "--date", "2022-04-20", "--truck", "A-T1", "--from", "11:00"]
    assert main(replan) == 1
    assert "nothing is published" in capsys.readouterr().err
    engine = create_engine(file_database)
    with Session(engine) as session, session.begin():
        publish(session, session.scalars(select(Schedule)).one(), "planner")
        first = {stop.compound.code: stop.arrival for route in session.scalars(select(Schedule)).one().routes
                 for stop in route.stops if route.truck.code == "A-T1" and stop.arrival.time() <= dt.time(11)}
    engine.dispose()
    assert main(replan + ["--retailer", "叮咚"]) == 1
    assert main(replan + ["--time-limit", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "A-T1 out of service from 11:00" in out and "published version 2" in out
    assert main(["export", str(file_ini), "--date", "2022-04-20", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 2
    truck_one = next((r for r in document["routes"] if r["truck_id"] == "A-T1"), {"stops": []})
    assert {s["compound_id"] for s in truck_one["stops"]} == set(first)  # nothing new after 11:00


# --------------------------------------------------------------------------- urgent stop


def test_an_urgent_stop_goes_where_it_fits_best_without_moving_windows(generated_day):
    problem, published = generated_day
    route = max(published.routes, key=lambda r: len(r.visits))
    urgent = route.visits[len(route.visits) // 2]  # taken off its route: as if it had never been planned
    without = [replace(r, visits=tuple(v for v in r.visits if v.compound_id != urgent.compound_id))
               for r in published.routes]
    options = urgent_insertions(problem, without, urgent.compound_id, cut=9 * 60.0)

    assert options and options[0].within_limit  # at least its old place fits, moving nobody
    best = options[0]
    assert best.visit.compound_id == urgent.compound_id and best.extra_travel >= -1e-6
    changed = [best.route if r.truck_id == best.truck_id else r for r in without]
    assert replan_violations(problem, without, changed, broken="", cut=9 * 60.0) == []
    within = [o for o in options if o.within_limit]
    assert [o.extra_travel for o in within] == sorted(o.extra_travel for o in within)
    for option in options:
        old = {v.compound_id: v.start for r in without if r.truck_id == option.truck_id for v in r.visits}
        for visit in option.route.visits:
            if visit.compound_id != urgent.compound_id:
                assert visit.start >= old[visit.compound_id] - 1e-6  # never earlier than told
        assert {m.compound_id for m in option.moves} == {
            v.compound_id for v in option.route.visits if v.compound_id in old and v.start > old[v.compound_id] + 1e-6}
    with pytest.raises(ReplanError, match="already on the published plan"):
        urgent_insertions(problem, published.routes, urgent.compound_id, cut=9 * 60.0)


def test_urgent_stop_is_published_as_the_next_version_with_every_other_stop_unchanged(dbsession):
    published = publish_day(dbsession, prefix="UR1", date=DAY)
    day = published.day
    urgent = day.compounds[2]  # not on the hand-made plan
    cut = dt.datetime.combine(DAY, dt.time(9))
    found = urgent_options(dbsession, DAY, day.retailer.id, SETTINGS, compound_code=urgent.code, cut=cut)
    assert found.base_version == 1 and found.best is not None
    best = found.best
    chosen, publication = insert_urgent(
        dbsession, DAY, day.retailer.id, SETTINGS, compound_code=urgent.code, cut=cut, truck_code=best.truck_id,
        position=best.position, user="planner")
    assert publication.version == 2 and chosen == best
    new = load_schedule(dbsession, publication.schedule_id)
    before = {s.compound.code: (s.arrival, s.start, s.departure) for r in published.schedule.routes for s in r.stops}
    after = {s.compound.code: (s.arrival, s.start, s.departure) for r in new.routes for s in r.stops}
    assert set(after) == set(before) | {urgent.code}
    assert all(after[code][1] - before[code][1] <= dt.timedelta(minutes=15) for code in before)
    stop = next(s for r in new.routes for s in r.stops if s.compound.code == urgent.code)
    assert stop.route.truck.code == best.truck_id and any(stop.deliveries.values())
    with pytest.raises(ReplanError, match="already on the published plan"):
        urgent_options(dbsession, DAY, day.retailer.id, SETTINGS, compound_code=urgent.code, cut=cut)
    with pytest.raises(ReplanError, match="does not fit"):
        insert_urgent(dbsession, DAY, day.retailer.id, SETTINGS, compound_code=day.compounds[4].code, cut=cut,
                      truck_code=best.truck_id, position=99)


def test_committees_see_the_new_window_or_not_today_after_a_replan(dbsession):
    day, _, published = _publish_solved_day(dbsession, "RP3")
    broken = max(published.routes, key=lambda r: len(r.stops))
    cut = dt.datetime.combine(day.date, dt.time(7))  # before anyone left: all its compounds move or drop
    outcome = replan_day(dbsession, day.date, day.retailer.id, SETTINGS, truck_code=broken.truck.code, cut=cut)
    for stop in broken.stops:
        seen = compound_day(dbsession, next(c for c in day.compounds if c.id == stop.compound_id), day.date)
        if stop.compound.code in outcome.replan.reserved:
            assert seen.version == 2 and seen.plate != broken.truck.plate
        else:
            assert seen.removed_in_version == 2
