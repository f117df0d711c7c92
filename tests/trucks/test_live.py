"""The field's view of a published day: windows, versions, the driver's reports and estimates."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.fieldday import FIRST_PLAN, at, publish_day, republish
from trucks.live import (
    FieldInputError,
    PublishedTimes,
    Reports,
    service_window,
    compound_day,
    driver_route,
    estimate_route,
    parse_clock,
    record_stop_event,
)
from trucks.models import StopEvent

D = dt.date(2022, 4, 20)


@pytest.mark.parametrize(
    "clock, window",
    [("10:37", ("10:30", "10:45")), ("10:30", ("10:30", "10:45")), ("10:44", ("10:30", "10:45")),
     ("23:50", ("23:45", "00:00"))],
)
def test_arrival_window_is_the_quarter_hour_it_falls_in(clock, window):
    start, end = service_window(at(D, clock) + dt.timedelta(seconds=42))
    assert (start.strftime("%H:%M"), end.strftime("%H:%M")) == window


def _route():
    """Depot 08:00; stop 1 10:00-10:20; stop 2 10:40-11:00; stop 3 arrives 11:10, window 12:00."""
    return [
        PublishedTimes(at(D, "10:00"), at(D, "10:00"), at(D, "10:20"), at(D, "07:00")),
        PublishedTimes(at(D, "10:40"), at(D, "10:40"), at(D, "11:00"), at(D, "07:00")),
        PublishedTimes(at(D, "11:10"), at(D, "12:00"), at(D, "12:15"), at(D, "12:00")),
    ]


def test_without_reports_the_estimate_is_the_plan():
    estimates = estimate_route(at(D, "08:00"), _route(), [Reports()] * 3)
    assert [(e.arrival, e.departure, e.updated, e.status) for e in estimates] == [
        (p.arrival, p.departure, False, "planned") for p in _route()
    ]


def test_a_delay_shifts_later_stops_until_the_plan_had_waiting():
    reports = [Reports(delay_minutes=30, expected_arrival=at(D, "10:30")), Reports(), Reports()]
    first, second, third = estimate_route(at(D, "08:00"), _route(), reports)
    assert (first.arrival, first.departure, first.updated) == (at(D, "10:30"), at(D, "10:50"), True)
    assert (second.arrival, second.departure) == (at(D, "11:10"), at(D, "11:30"))
    # leg 10 minutes: arrives 11:40 instead of 11:10, but service still starts at the 12:00 window
    assert (third.arrival, third.start, third.departure) == (at(D, "11:40"), at(D, "12:00"), at(D, "12:15"))
    assert third.updated  # the arrival moved even though the service did not
    assert third.window == (at(D, "12:00"), at(D, "12:15")) and third.stay_minutes == 15  # from the start
    assert second.window == (at(D, "11:00"), at(D, "11:15")) and second.stay_minutes == 20


def test_reported_times_replace_estimates_and_an_early_finish_never_pulls_later_stops_forward():
    reports = [Reports(arrived_at=at(D, "09:50"), departed_at=at(D, "10:05")), Reports(), Reports()]
    first, second, _ = estimate_route(at(D, "08:00"), _route(), reports)
    assert (first.arrival, first.departure, first.status) == (at(D, "09:50"), at(D, "10:05"), "departed")
    assert (second.arrival, second.updated) == (at(D, "10:40"), False)


def test_late_departure_pushes_the_next_stop_by_the_same_leg():
    reports = [Reports(arrived_at=at(D, "10:00"), departed_at=at(D, "10:45")), Reports(), Reports()]
    _, second, _ = estimate_route(at(D, "08:00"), _route(), reports)
    assert (second.arrival, second.departure) == (at(D, "11:05"), at(D, "11:25"))


def test_compound_day_shows_the_published_stop_without_anything_private(dbsession):
    published = publish_day(dbsession, prefix="LV1")
    compound = published.day.compounds[0]
    facts = compound_day(dbsession, compound, published.day.date)
    assert facts.version == 1
    assert facts.published_at == published.publication.published_at + dt.timedelta(hours=8)  # UTC stored, Shanghai shown
    assert [m.strftime("%H:%M") for m in facts.window] == ["10:30", "10:45"]
    assert facts.stay_minutes == 25
    assert facts.plate == published.day.trucks[0].plate
    assert {(g.key, g.quantity) for g in facts.goods} == {("vegetables", 12), ("dairy", 4)}  # zero eggs left out
    assert facts.change is None and not facts.estimate.updated
    assert compound.contact not in str(facts.as_json())
    assert compound_day(dbsession, compound, published.day.date + dt.timedelta(days=1)).published is False


def test_a_truck_that_waits_shows_the_window_of_its_service_start_and_sells_until_it_leaves(dbsession):
    published = publish_day(dbsession, prefix="LVW")
    date = published.day.date
    facts = compound_day(dbsession, published.day.compounds[5], date)  # arrives 12:10, starts 13:00
    assert (facts.arrival, facts.start) == (at(date, "12:10"), at(date, "13:00"))
    assert facts.window == (at(date, "13:00"), at(date, "13:15")) and facts.stay_minutes == 15
    document = facts.as_json()
    assert document["window"] == [f"{date}T13:00", f"{date}T13:15"] and document["arrival"] == f"{date}T12:10"
    assert document["stay_minutes"] == 15
    later = {0: FIRST_PLAN[0][:2] + [(5, "12:40", "13:00", "13:15")], 1: FIRST_PLAN[1]}
    republish(dbsession, published, later)  # arrives later, still serves at 13:00
    again = compound_day(dbsession, published.day.compounds[5], date)
    assert again.version == 2 and again.window == facts.window and again.change is None


def test_a_newer_version_that_moved_the_window_is_reported_with_the_old_window(dbsession):
    published = publish_day(dbsession, prefix="LV2")
    moved = {0: [(0, "11:05", "11:05", "11:30")] + FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]}
    republish(dbsession, published, moved)
    date = published.day.date
    facts = compound_day(dbsession, published.day.compounds[0], date)
    assert facts.version == 2
    assert [m.strftime("%H:%M") for m in facts.window] == ["11:00", "11:15"]
    assert facts.change.previous_version == 1 and facts.change.moved_minutes == 28
    assert [m.strftime("%H:%M") for m in facts.change.previous_window] == ["10:30", "10:45"]
    assert compound_day(dbsession, published.day.compounds[1], date).change is None  # same time in v2


def test_a_compound_dropped_by_the_newer_version_says_so_instead_of_the_old_time(dbsession):
    published = publish_day(dbsession, prefix="LV3")
    republish(dbsession, published, {0: FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]})
    facts = compound_day(dbsession, published.day.compounds[0], published.day.date)
    assert facts.published is False and facts.removed_in_version == 2


def test_driver_reports_move_the_estimates_and_survive_a_new_version(dbsession):
    published = publish_day(dbsession, prefix="LV4")
    truck, date = published.day.trucks[0], published.day.date
    record_stop_event(dbsession, truck, date, published.stop(0, 1).id, "delay", delay_minutes=30)
    route = driver_route(dbsession, truck, date)
    assert [s.estimate.arrival.strftime("%H:%M") for s in route.stops] == ["11:07", "11:50", "12:40"]
    assert [s.estimate.start.strftime("%H:%M") for s in route.stops][2] == "13:00"
    assert route.stops[0].contact == published.day.compounds[0].contact  # the driver may call

    republish(dbsession, published, FIRST_PLAN)
    again = driver_route(dbsession, truck, date)
    assert again.version == 2 and again.stops[0].stop_id != route.stops[0].stop_id
    assert again.stops[0].estimate.delay_minutes == 30 and again.stops[1].estimate.updated


def test_a_stop_of_another_truck_or_an_old_version_is_not_found(dbsession):
    published = publish_day(dbsession, prefix="LV5")
    mine, other = published.day.trucks
    date = published.day.date
    with pytest.raises(LookupError):
        record_stop_event(dbsession, mine, date, published.stop(1, 1).id, "arrived", at=at(date, "09:00"))
    republish(dbsession, published, FIRST_PLAN)
    with pytest.raises(LookupError):
        record_stop_event(dbsession, mine, date, published.stop(0, 1).id, "arrived", at=at(date, "10:40"))
    with pytest.raises(LookupError):
        record_stop_event(dbsession, mine, date + dt.timedelta(days=1), published.stop(0, 1).id, "arrived")
    assert dbsession.scalars(select(StopEvent)).all() == []


@pytest.mark.parametrize(
    "kind, values, field, code",
    [
        ("parked", {}, "kind", "unknown_kind"),
        ("delay", {}, "delay_minutes", "delay_range"),
        ("delay", {"delay_minutes": 0}, "delay_minutes", "delay_range"),
        ("delay", {"delay_minutes": 24 * 60}, "delay_minutes", "delay_range"),
        ("arrived", {"delay_minutes": 5}, "delay_minutes", "minutes_only_for_delay"),
        ("arrived", {"at": dt.datetime(2000, 1, 1, 10, 0)}, "at", "time_other_date"),
    ],
)
def test_bad_reports_name_the_field_and_store_nothing(dbsession, kind, values, field, code):
    published = publish_day(dbsession, prefix="LV6")
    with pytest.raises(FieldInputError) as error:
        record_stop_event(dbsession, published.day.trucks[0], published.day.date, published.stop(0, 1).id, kind, **values)
    assert (error.value.field, error.value.code) == (field, code)
    assert dbsession.scalars(select(StopEvent)).all() == []


def test_clock_parsing_names_the_bad_time():
    assert parse_clock(D, "10:37") == at(D, "10:37")
    with pytest.raises(FieldInputError, match="at: '25:00'"):
        parse_clock(D, "25:00")
