"""Consecutive days: yesterday's unserved weigh more today; the planner's week table."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduling import solve_day
from scheduling.fairness import gini
from tests.factories import DAY, Day, make_csv_files, make_day
from tests.fieldday import make_schedule
from trucks.importer import import_day
from trucks.models import Retailer
from trucks.publishing import publish
from trucks.services import PlanningSettings, build_problem, store_schedule
from trucks.week import (
    DayOutcome,
    CompoundWeek,
    carried_priority,
    day_outcomes,
    day_totals,
    missed_in_a_row,
    short_categories,
    week_table,
)

SETTINGS = PlanningSettings(time_limit=0.5)
#: reasons a better plan could have avoided (not a refusal, not out of every truck's reach)
AVOIDABLE = {"fleet_full", "no_stock"}


def short_day_files(date: dt.date, prefix: str) -> dict[str, bytes]:
    """make_day's day with three stops per truck: six stops for eight compounds."""
    files = make_csv_files(date=date, prefix=prefix)
    lines = files["trucks"].decode("utf-8").splitlines()
    lines[1:] = [line.rsplit(",", 1)[0] + ",3" for line in lines[1:]]
    files["trucks"] = ("\n".join(lines) + "\n").encode("utf-8")
    return files


def run_week(dbsession, prefix: str, days: int = 4) -> list[dict[str, str]]:
    """Imports, solves and publishes ``days`` identical short days; per day {compound: reason}."""
    unserved = []
    for offset in range(days):
        date = DAY + dt.timedelta(days=offset)
        import_day(dbsession, date, short_day_files(date, prefix))
        retailer = dbsession.scalar(select(Retailer).where(Retailer.name == "逸刻"))
        day = build_problem(dbsession, date, retailer.id, SETTINGS)
        result = solve_day(day.problem, time_limit=SETTINGS.time_limit, seed=0)
        publish(dbsession, store_schedule(dbsession, day, result), "planner")
        unserved.append({u.compound_id: str(u.reason) for u in day.settled + result.unserved})
    return unserved


def missed_twice_running(unserved: list[dict[str, str]]) -> set[str]:
    return {cid for today, tomorrow in zip(unserved, unserved[1:]) for cid, reason in tomorrow.items()
            if reason in AVOIDABLE and today.get(cid) in AVOIDABLE}


def test_on_a_week_of_short_days_nobody_reachable_goes_unserved_two_days_running(dbsession):
    unserved = run_week(dbsession, "WK1")
    assert all(len(day) == 2 for day in unserved)  # six stops for eight compounds, every day
    assert missed_twice_running(unserved) == set()


def test_yesterdays_unserved_weigh_more_today_and_the_week_table_shows_it(dbsession):
    unserved = run_week(dbsession, "WK3", days=2)
    retailer = dbsession.scalar(select(Retailer).where(Retailer.name == "逸刻"))
    tomorrow = DAY + dt.timedelta(days=2)
    import_day(dbsession, tomorrow, short_day_files(tomorrow, "WK3"))
    day = build_problem(dbsession, tomorrow, retailer.id, SETTINGS)
    missed = set(unserved[1])
    weights = {c.id: c.priority for c in day.problem.compounds}
    streak = missed_in_a_row(dbsession, tomorrow)
    assert {code for code, cid in day.compound_ids.items() if cid in streak} == missed
    dates, rows = week_table(dbsession, tomorrow, retailer.id, days=3)
    assert dates == [DAY, DAY + dt.timedelta(days=1), tomorrow]
    by_code = {row.compound.code: row for row in rows}
    for code in missed:
        row = by_code[code]
        assert weights[code] == carried_priority(row.compound.priority, 1) == row.compound.priority + row.extra_priority
        assert row.missed == (1 + (code in unserved[0])) and row.days[-1] is None  # nothing solved today yet
    for code, row in by_code.items():
        assert row.served + row.missed == 2
        if code not in missed:
            assert row.extra_priority == 0 and weights[code] == row.compound.priority


@pytest.mark.parametrize("priority, days, expected", [(1, 0, 1), (1, 1, 7), (3, 2, 15)])
def test_carried_priority_grows_per_day_missed(priority, days, expected):
    assert carried_priority(priority, days) == expected


STOP = ("10:00", "10:00", "10:20")


def test_a_compound_moved_to_another_retailer_keeps_its_streak_and_any_plan_serving_it_counts(dbsession):
    mine = make_day(dbsession, prefix="WK5")
    theirs = make_day(dbsession, prefix="WK6", retailer_name="联华")
    first, second, third = (DAY + dt.timedelta(days=n) for n in range(3))
    moved = Day(second, theirs.retailer, theirs.trucks, mine.compounds)  # the coordinator gave them to 联华
    make_schedule(dbsession, mine, {0: [(i, *STOP) for i in (2, 3)]}, {0: "fleet_full", 1: "no_stock"})
    make_schedule(dbsession, moved, {0: [(1, *STOP)]}, {0: "fleet_full"})
    assert missed_in_a_row(dbsession, third) == {mine.compounds[0].id: 2}
    assert missed_in_a_row(dbsession, second) == {mine.compounds[0].id: 1, mine.compounds[1].id: 1}
    # 逸刻's plan of the second day still leaves compound 1 out, 联华's serves it: served
    make_schedule(dbsession, Day(second, mine.retailer, mine.trucks, mine.compounds), {}, {1: "fleet_full"})
    outcomes = day_outcomes(dbsession, second, None)
    assert outcomes[mine.compounds[1].id].served and outcomes[mine.compounds[1].id].retailer_id == theirs.retailer.id
    assert not day_outcomes(dbsession, second, mine.retailer.id)[mine.compounds[1].id].served
    assert short_categories(dbsession, [first]) == ["dairy", "eggs"]  # make_day's trucks carry half of those
    assert short_categories(dbsession, [second]) == []  # nothing loaded that day


def test_the_most_days_missed_in_a_row_and_a_days_totals():
    served = [DayOutcome(DAY, True, {"dairy": fill}) for fill in (0.2, 0.6, 1.0)]
    missed, refused = DayOutcome(DAY, False, reason="fleet_full"), DayOutcome(DAY, False, reason="refused")
    row = CompoundWeek(None, (missed, None, missed, missed, refused, missed, served[0]), 0)
    assert (row.served, row.missed, row.in_a_row) == (1, 4, 2)  # no order, or a refusal, ends a run
    totals = day_totals(DAY, [*served, missed, refused, None], ["dairy", "eggs"])
    assert (totals.served, totals.unserved, dict(totals.min_fill)) == (3, 2, {"dairy": 0.2})
    assert totals.gini["dairy"] == pytest.approx(gini([0.2, 0.6, 1.0])) == pytest.approx(3.2 / (2 * 9 * 0.6))  # mean difference / twice the mean
