"""Pin, forbid and lock: only on the planner's own trucks, never contradicting each other."""
import pytest

from tests.factories import make_day
from tests.trucks.test_publishing import make_schedule
from trucks.constraints import (
    ConstraintError,
    NotOwned,
    active_constraints,
    add_forbid,
    add_lock,
    add_pin,
    remove_constraint,
)
from trucks.models import ConstraintKind


@pytest.fixture
def days(dbsession):
    mine = make_day(dbsession, prefix="CON")
    theirs = make_day(dbsession, prefix="CONB", retailer_name="叮咚")
    return mine, theirs


def test_pin_forbid_and_lock_are_stored_and_listed(dbsession, days):
    day, _ = days
    t1, t2 = day.trucks
    c1, c2, c3 = day.compounds[:3]
    schedule = make_schedule(dbsession, day, {1: [(2, 480), (3, 520)]})
    rid = day.retailer.id

    add_pin(dbsession, day.date, rid, t1.id, c1.id)
    add_forbid(dbsession, day.date, rid, t1.id, c2.id)
    lock = add_lock(dbsession, day.date, rid, t2.id, schedule)

    assert lock.locked_route == ["CON-C03", "CON-C04"]
    listed = {(c.kind, c.truck.code, c.compound.code if c.compound else None)
              for c in active_constraints(dbsession, day.date, rid)}
    assert listed == {
        (ConstraintKind.PIN, "CON-T1", "CON-C01"),
        (ConstraintKind.FORBID, "CON-T1", "CON-C02"),
        (ConstraintKind.LOCK, "CON-T2", None),
    }
    remove_constraint(dbsession, day.date, rid, lock.id)
    assert len(active_constraints(dbsession, day.date, rid)) == 2


def test_another_retailers_trucks_compounds_and_constraints_are_out_of_reach(dbsession, days):
    day, other = days
    rid = day.retailer.id
    with pytest.raises(NotOwned):
        add_pin(dbsession, day.date, rid, other.trucks[0].id, day.compounds[0].id)
    with pytest.raises(NotOwned):
        add_forbid(dbsession, day.date, rid, day.trucks[0].id, other.compounds[0].id)
    with pytest.raises(NotOwned):
        add_lock(dbsession, day.date, rid, other.trucks[0].id, make_schedule(dbsession, other, {0: [(0, 480)]}))
    theirs = add_pin(dbsession, other.date, other.retailer.id, other.trucks[0].id, other.compounds[0].id)
    with pytest.raises(NotOwned):
        remove_constraint(dbsession, day.date, rid, theirs.id)
    assert active_constraints(dbsession, day.date, rid) == []
    assert [c.id for c in active_constraints(dbsession, other.date, other.retailer.id)] == [theirs.id]


@pytest.mark.parametrize("first, second, reason", [
    (("pin", 0), ("pin", 1), "already_pinned"),
    (("forbid", 0), ("pin", 0), "pin_forbidden"),
    (("pin", 0), ("forbid", 0), "forbid_pinned"),
    (("forbid", 0), ("forbid", 0), "duplicate"),
])
def test_contradictions_are_refused_with_a_reason(dbsession, days, first, second, reason):
    day, _ = days
    add = {"pin": add_pin, "forbid": add_forbid}
    compound = day.compounds[0].id
    add[first[0]](dbsession, day.date, day.retailer.id, day.trucks[first[1]].id, compound)
    with pytest.raises(ConstraintError) as refused:
        add[second[0]](dbsession, day.date, day.retailer.id, day.trucks[second[1]].id, compound)
    assert refused.value.reason == reason
    assert len(active_constraints(dbsession, day.date, day.retailer.id)) == 1


def test_a_locked_route_keeps_out_pins_and_forbids_that_would_break_it(dbsession, days):
    day, _ = days
    rid = day.retailer.id
    t1, t2 = day.trucks
    schedule = make_schedule(dbsession, day, {0: [(0, 480), (1, 520)], 1: [(2, 500)]})
    add_lock(dbsession, day.date, rid, t1.id, schedule)
    with pytest.raises(ConstraintError) as refused:
        add_pin(dbsession, day.date, rid, t1.id, day.compounds[5].id)
    assert refused.value.reason == "truck_locked"
    with pytest.raises(ConstraintError) as refused:
        add_pin(dbsession, day.date, rid, t2.id, day.compounds[0].id)
    assert refused.value.reason == "in_locked_route"
    with pytest.raises(ConstraintError) as refused:
        add_forbid(dbsession, day.date, rid, t1.id, day.compounds[1].id)
    assert refused.value.reason == "in_locked_route"
    with pytest.raises(ConstraintError) as refused:
        add_lock(dbsession, day.date, rid, t1.id, schedule)
    assert refused.value.reason == "duplicate_lock"
    add_pin(dbsession, day.date, rid, t1.id, day.compounds[1].id)  # already on the route: fine


def test_lock_is_refused_for_a_truck_without_a_route_or_against_its_pins(dbsession, days):
    day, _ = days
    rid = day.retailer.id
    t1, t2 = day.trucks
    schedule = make_schedule(dbsession, day, {0: [(0, 480), (1, 520)]})
    with pytest.raises(ConstraintError) as refused:
        add_lock(dbsession, day.date, rid, t2.id, schedule)
    assert refused.value.reason == "no_route"
    add_pin(dbsession, day.date, rid, t2.id, day.compounds[1].id)
    with pytest.raises(ConstraintError) as refused:
        add_lock(dbsession, day.date, rid, t1.id, schedule)
    assert refused.value.reason == "lock_pinned_elsewhere"
