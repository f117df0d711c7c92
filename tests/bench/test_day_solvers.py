"""The side-by-side day bench: one judge for every solver, catching each broken rule."""
from __future__ import annotations

import pytest

from bench.day_solvers import judge, pyvrp, travel_only
from bench.days import lockdown_day
from scheduling.instance import prepare
from tests.scheduling.factory import day

LINE = [(10.0, 0.0), (20.0, 0.0), (30.0, 0.0)]


def test_judge_counts_served_and_travel_of_a_feasible_plan():
    problem = day(LINE, trucks=2)
    judged = judge(problem, [("t1", ["c1", "c2"]), ("t2", ["c3"])])
    assert judged.served == 3 and judged.wrong == ()
    assert judged.travel_minutes == pytest.approx(40.0 + 60.0)


@pytest.mark.parametrize(
    ("plans", "overrides", "broken"),
    [
        ([("t1", ["c1", "c2"]), ("t2", ["c2"])], {}, "c2 visited twice"),
        ([("t1", ["c1", "c2", "c3"])], {"max_stops": 2}, "3 stops, more than 2"),
        ([("t1", ["c3", "c1"])], {"c1": {"due": 500.0}}, "t1 starts at c1"),
        ([("t1", ["c1", "c2", "c3"])], {"shift": (480.0, 530.0)}, "t1 returns at"),
    ],
)
def test_judge_names_each_broken_rule(plans, overrides, broken):
    options = {k: v for k, v in overrides.items() if k in ("max_stops", "shift")}
    compound_overrides = {k: v for k, v in overrides.items() if k.startswith("c")}
    problem = day(LINE, trucks=2, **options, **compound_overrides)
    judged = judge(problem, plans)
    assert any(broken in wrong for wrong in judged.wrong), judged.wrong


def test_travel_only_makes_nothing_short_so_goods_carry_no_value():
    problem = lockdown_day(2)
    assert prepare(problem).instance.goods_value.any()
    plain = travel_only(problem)
    assert not prepare(plain).instance.goods_value.any()
    assert plain.compounds == problem.compounds and [t.depot for t in plain.trucks] == [t.depot for t in problem.trucks]


def test_pyvrp_answers_a_generated_day_that_the_judge_finds_feasible():
    pytest.importorskip("pyvrp", reason="PyVRP comes with the [bench] extra")
    problem = lockdown_day(1)
    plans, _ = pyvrp(problem, time_limit=1.0, seed=0)
    judged = judge(problem, plans)
    assert judged.wrong == ()
    assert 0 < judged.served <= problem.trucks[0].max_stops
