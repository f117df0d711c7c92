"""The LP solver's wrapper: a running MILP gives up when asked (a cancelled run ends at once)."""
import random
import time

import pulp

from scheduling.lp import make_solver, proved_optimal, solved


def hard_knapsack() -> pulp.LpProblem:
    """A 100-item knapsack with 30 capacity rows: HiGHS on one thread needed 7.3 s to prove it."""
    rng = random.Random(1)
    prob = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(100)]
    worth = [rng.randint(10, 99) for _ in x]
    for row in range(30):
        prob += pulp.lpSum(rng.randint(10, 99) * v for v in x) <= 1000, f"capacity_{row}"
    prob += pulp.lpSum(w * v for w, v in zip(worth, x))
    return prob


def test_a_milp_gives_up_with_its_best_answer_once_stop_says_so():
    prob = hard_knapsack()
    asked = []

    def stop() -> bool:
        asked.append(time.monotonic())
        return len(asked) >= 3  # the third question says stop

    started = time.monotonic()
    prob.solve(make_solver("highs", 60, stop=stop))
    took = time.monotonic() - started
    assert len(asked) == 3, "the solve must be asked until it is told to stop, and then end"
    assert solved(prob) and not proved_optimal(prob), "interrupted: a feasible answer, not a proof"
    assert took < 2.0, f"the solve went on {took:.1f} s; its limit was 60 s"


def test_a_stop_that_never_says_so_leaves_the_solve_alone():
    prob = pulp.LpProblem("small", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(5)]
    prob += pulp.lpSum(x) <= 2
    prob += pulp.lpSum((i + 1) * v for i, v in enumerate(x))
    prob.solve(make_solver("highs", 10, stop=lambda: False))
    assert proved_optimal(prob) and pulp.value(prob.objective) == 9
