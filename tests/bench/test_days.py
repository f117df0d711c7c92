"""The scaling bench's generated days: valid problems of the asked size, reproducible, short goods."""
from __future__ import annotations

from bench.days import COMPOUNDS_PER_TRUCK, lockdown_day


def test_a_day_has_thirty_compounds_per_truck_and_the_same_seed_gives_the_same_day():
    day = lockdown_day(4, seed=3)
    assert len(day.trucks) == 4 and len(day.compounds) == 4 * COMPOUNDS_PER_TRUCK
    again = lockdown_day(4, seed=3)
    assert day.compounds == again.compounds and day.trucks == again.trucks
    assert (day.travel == again.travel).all()
    assert lockdown_day(4, seed=4).compounds != day.compounds


def test_dairy_and_eggs_are_short_and_staples_are_not():
    day = lockdown_day(12)
    stock = {c: sum(t.stock.get(c, 0) for t in day.trucks) for c in day.categories}
    asked = {c: sum(x.demand.get(c, 0) for x in day.compounds) for c in day.categories}
    assert stock["dairy"] < asked["dairy"] and stock["eggs"] < asked["eggs"]
    assert stock["rice"] > asked["rice"]


def test_windows_leave_room_for_the_service_inside_them():
    day = lockdown_day(2)
    assert all(c.ready <= c.due and c.due + c.service <= 18 * 60 for c in day.compounds)
    assert len({(c.ready, c.due + c.service) for c in day.compounds}) > 1
