"""Sharing scarce stock among a truck's stops as a linear program (priority-weighted max-min).

For every truck t and category c whose stops S ask for more than the truck carries, find
deliveries q_i maximising z with q_i <= d_i, sum q_i <= stock, q_i >= z * w_i * d_i
(w_i = priority) and q_i >= f * d_i, where the engine sets the floor f from the day's share of
that category (``engine.FAIR_FLOOR``): nobody falls far behind because others rank higher. A stop whose weighted target reaches its whole demand is frozen at d_i and
the rest are raised again (water-filling), so higher priority is filled first but nobody is
starved. Finally, with every z fixed, total delivery is maximised. All (t, c) blocks are
independent and go into one LP per round. Integer units: round down, then the remainders go
to the largest fractional parts; stock and demand are never exceeded.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pulp

from .lp import make_solver, solved

TOL = 1e-7


@dataclass
class Block:
    """One truck's stops asking for one category."""

    stock: float
    demand: list[float]
    weight: list[float]
    #: the fill every stop gets at least (at most stock / sum(demand))
    floor: float = 0.0


def share(blocks: Sequence[Block], lp_solver: str = "highs", time_limit: float = 10.0) -> list[list[float]]:
    """Continuous optimal deliveries per block (same order as its demand)."""
    answer: list[list[float] | None] = []
    short: list[int] = []
    for b, block in enumerate(blocks):
        if sum(block.demand) <= block.stock + TOL:
            answer.append([float(d) for d in block.demand])
        else:
            answer.append(None)
            short.append(b)
    if not short:
        return answer  # type: ignore[return-value]
    frozen: dict[int, set[int]] = {b: {i for i, d in enumerate(blocks[b].demand) if d <= 0} for b in short}
    level: dict[int, float] = {}
    open_blocks = list(short)
    while open_blocks:
        z, q = _solve_round(blocks, open_blocks, frozen, level, lp_solver, time_limit, maximise_level=True)
        still_open = []
        for b in open_blocks:
            block = blocks[b]
            active = [i for i in range(len(block.demand)) if i not in frozen[b]]
            saturated = [i for i in active if z[b] * block.weight[i] >= 1.0 - TOL]
            stock_left = block.stock - sum(q[b]) > TOL
            if saturated and stock_left and len(saturated) < len(active):
                frozen[b].update(saturated)
                still_open.append(b)
            else:
                level[b] = z[b]
        open_blocks = still_open
    _, q = _solve_round(blocks, short, frozen, level, lp_solver, time_limit, maximise_level=False)
    for b in short:
        answer[b] = q[b]
    return answer  # type: ignore[return-value]


def _solve_round(blocks, indices, frozen, level, lp_solver, time_limit, maximise_level):
    """One LP over the given blocks: maximise their levels z_b, or (levels fixed) total delivery."""
    prob = pulp.LpProblem("fair_share", pulp.LpMaximize)
    q: dict[int, list[pulp.LpVariable]] = {}
    z: dict[int, pulp.LpVariable] = {}
    for b in indices:
        block = blocks[b]
        low = block.floor * (1.0 - TOL)
        q[b] = [prob.add_variable(f"q_{b}_{i}", low * float(d), float(d)) for i, d in enumerate(block.demand)]
        if maximise_level and any(d > 0 and i not in frozen[b] for i, d in enumerate(block.demand)):
            z[b] = prob.add_variable(f"z_{b}", 0)
        prob += pulp.lpSum(q[b]) <= float(block.stock), f"stock_{b}"
        for i, d in enumerate(block.demand):
            if d <= 0:
                continue
            if i in frozen[b]:
                prob += q[b][i] >= float(d) * (1.0 - TOL), f"frozen_{b}_{i}"
            elif maximise_level:
                prob += q[b][i] >= float(d) * block.weight[i] * z[b], f"level_{b}_{i}"
            else:
                floor = min(1.0, level[b] * block.weight[i]) * float(d) * (1.0 - TOL)
                prob += q[b][i] >= floor, f"level_{b}_{i}"
    if maximise_level:
        prob += pulp.lpSum(z.values())
    else:
        prob += pulp.lpSum(v for b in indices for v in q[b])
    prob.solve(make_solver(lp_solver, time_limit, mip=False))
    if not solved(prob):
        raise RuntimeError(f"fair-share LP failed: {pulp.LpStatus[prob.status]}")
    levels = {b: (z[b].value() or 0.0) if b in z else 1.0 for b in indices}
    values = {b: [max(0.0, v.value() or 0.0) for v in q[b]] for b in indices}
    return levels, values


def to_units(quantities: Sequence[float], demand: Sequence[int], stock: int) -> list[int]:
    """Whole units: round down, then hand the remainder to the largest fractional parts."""
    units = [min(int(math.floor(x + TOL)), d) for x, d in zip(quantities, demand)]
    target = min(stock, sum(demand), int(math.floor(sum(quantities) + TOL)))
    remainder = target - sum(units)
    order = sorted(range(len(units)), key=lambda i: (-(quantities[i] - units[i]), i))
    for i in order:
        if remainder <= 0:
            break
        if units[i] < demand[i]:
            units[i] += 1
            remainder -= 1
    return units
