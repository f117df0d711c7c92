"""Publishing: numbered immutable versions per (date, retailer) and the diff of arrivals."""
import datetime as dt

import pytest

from tests import fieldday
from tests.factories import make_day
from trucks.publishing import (
    PublishedMeanwhile,
    PublishError,
    arrival_diff,
    get_publication,
    latest_publication,
    list_publications,
    publish,
)


def make_schedule(dbsession, day, plan: dict[int, list[tuple[int, int]]]):
    """A stored schedule: ``plan`` maps truck index to (compound index, arrival minute) stops,
    each served on arrival for 15 minutes."""
    return fieldday.make_schedule(dbsession, day, {
        truck: [(compound, _clock(minute), _clock(minute), _clock(minute + 15)) for compound, minute in stops]
        for truck, stops in plan.items()
    })


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def test_versions_count_up_per_day_and_retailer_and_stay_readable(dbsession):
    day = make_day(dbsession, prefix="PUB1")
    other = make_day(dbsession, prefix="PUB1B", retailer_name="叮咚")
    first = make_schedule(dbsession, day, {0: [(0, 480)]})
    second = make_schedule(dbsession, day, {0: [(0, 500)]})
    assert latest_publication(dbsession, day.date, day.retailer.id) is None

    v1 = publish(dbsession, first, "planner-a")
    v2 = publish(dbsession, second, "planner-a")
    other_v1 = publish(dbsession, make_schedule(dbsession, other, {0: [(0, 480)]}))

    assert (v1.version, v2.version, other_v1.version) == (1, 2, 1)
    assert latest_publication(dbsession, day.date, day.retailer.id).id == v2.id
    assert [p.version for p in list_publications(dbsession, day.date, day.retailer.id)] == [2, 1]
    old = get_publication(dbsession, day.date, day.retailer.id, 1)
    assert old.schedule.routes[0].stops[0].arrival == fieldday.at(day.date, "08:00")
    assert get_publication(dbsession, day.date, other.retailer.id, 2) is None
    assert get_publication(dbsession, day.date + dt.timedelta(days=1), day.retailer.id, 1) is None


def test_publishing_the_latest_version_again_is_refused(dbsession):
    day = make_day(dbsession, prefix="PUB2")
    schedule = make_schedule(dbsession, day, {0: [(0, 480)]})
    publish(dbsession, schedule)
    with pytest.raises(PublishError, match="already published as version 1"):
        publish(dbsession, schedule)
    assert [p.version for p in list_publications(dbsession, day.date, day.retailer.id)] == [1]


def test_a_twin_published_at_the_same_moment_is_refused_and_the_transaction_goes_on(dbsession):
    day = make_day(dbsession, prefix="PUB5")
    publish(dbsession, make_schedule(dbsession, day, {0: [(0, 480)]}))
    newer = make_schedule(dbsession, day, {0: [(0, 500)]})
    fieldday.publish_twin_at_next_flush(dbsession)
    with pytest.raises(PublishedMeanwhile, match="same moment; review again"):
        publish(dbsession, newer)
    assert [p.version for p in list_publications(dbsession, day.date, day.retailer.id)] == [1]
    assert publish(dbsession, newer).version == 2  # the session is still usable


def test_diff_names_moved_added_and_dropped_compounds(dbsession):
    day = make_day(dbsession, prefix="PUB3")
    before = make_schedule(dbsession, day, {0: [(0, 480), (1, 520), (2, 560), (5, 700)], 1: [(3, 600)]})
    after = make_schedule(dbsession, day, {0: [(0, 480), (2, 545)], 1: [(1, 610), (3, 600), (4, 650), (5, 700)]})

    diff = arrival_diff(before, after)

    assert not diff.first and diff.changed
    assert [(m.compound.code, m.minutes, m.truck_changed) for m in diff.moved] == [
        ("PUB3-C02", 90, True),
        ("PUB3-C03", -15, False),
        ("PUB3-C06", 0, True),  # same time, other truck
    ]
    assert [m.compound.code for m in diff.retimed] == ["PUB3-C02", "PUB3-C03"]
    assert [s.compound.code for s in diff.added] == ["PUB3-C05"]
    assert [s.compound.code for s in diff.dropped] == []
    assert diff.unchanged == 2

    back = arrival_diff(after, before)
    assert [s.compound.code for s in back.dropped] == ["PUB3-C05"]
    assert [m.minutes for m in back.moved] == [-90, 15, 0]


def test_diff_against_nothing_published_lists_every_stop_as_added_by_arrival(dbsession):
    day = make_day(dbsession, prefix="PUB4")
    schedule = make_schedule(dbsession, day, {0: [(0, 600), (1, 480)], 1: [(2, 500)]})
    diff = arrival_diff(None, schedule)
    assert diff.first and diff.changed
    assert [s.compound.code for s in diff.added] == ["PUB4-C02", "PUB4-C03", "PUB4-C01"]
    assert diff.moved == [] and diff.dropped == []


def test_identical_schedules_have_no_changes(dbsession):
    day = make_day(dbsession, prefix="PUB5")
    plan = {0: [(0, 480), (1, 520)]}
    diff = arrival_diff(make_schedule(dbsession, day, plan), make_schedule(dbsession, day, plan))
    assert not diff.changed and diff.unchanged == 2
