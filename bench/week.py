"""A week of identical over-capacity days: who goes unserved two days running, with and without
yesterday's unserved weighing more today (``trucks.week.carried_priority``), and how scarce
goods were shared each day.

    python -m bench.week [--trucks 4] [--days 4] [--time-limit S] [--seed 0]

The day is a generated lockdown day (bench/days.py) with each truck's stop limit cut to three
quarters of its share of the compounds, so the fleet cannot serve everyone. Each day is solved as the app
solves it; "carry-over" re-weighs a compound missed for a reason a plan could avoid (fleet full,
no stock) by the days it went without in a row. Fill figures are over the served compounds of
the scarcest category (lowest stock to demand): min fill, Gini of fill, priority-weighted fill.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from bench.days import lockdown_day
from scheduling import UnservedReason, solve_day
from trucks.week import carried_priority

AVOIDABLE = {UnservedReason.FLEET_FULL, UnservedReason.NO_STOCK}


def gini(values: list[float]) -> float:
    """0 when everyone gets the same share, towards 1 when a few get everything."""
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    return sum((2 * (i + 1) - n - 1) * v for i, v in enumerate(ordered)) / (n * sum(ordered))


def scarcest(problem) -> str:
    stock = {c: sum(t.stock.get(c, 0) for t in problem.trucks) for c in problem.categories}
    demand = {c: sum(x.demand.get(c, 0) for x in problem.compounds) for c in problem.categories}
    return min((c for c in demand if demand[c]), key=lambda c: stock[c] / demand[c])


def run_week(problem, days: int, time_limit: float, seed: int, carry: bool) -> list[dict]:
    streak: dict[str, int] = {}
    rows = []
    category = scarcest(problem)
    for _ in range(days):
        today = replace(problem, compounds=tuple(
            replace(c, priority=carried_priority(c.priority, streak.get(c.id, 0) if carry else 0))
            for c in problem.compounds))
        result = solve_day(today, time_limit=time_limit, seed=seed)
        missed = {u.compound_id for u in result.unserved if u.reason in AVOIDABLE}
        twice = {cid for cid in missed if streak.get(cid, 0) > 0}
        streak = {cid: streak.get(cid, 0) + 1 for cid in missed}
        priority = {c.id: c.priority for c in problem.compounds}
        fills = [(v.fill[category], priority[v.compound_id]) for r in result.routes for v in r.visits
                 if category in v.fill]
        rows.append({
            "served": len(result.served_ids), "missed": len(missed), "twice": len(twice),
            "min": min((f for f, _ in fills), default=0.0), "gini": gini([f for f, _ in fills]),
            "weighted": sum(f * w for f, w in fills) / max(1, sum(w for _, w in fills)),
        })
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=4)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    day = lockdown_day(args.trucks, seed=args.seed)
    stops = max(1, len(day.compounds) // len(day.trucks) * 3 // 4)
    day = replace(day, trucks=tuple(replace(t, max_stops=stops) for t in day.trucks))
    print(f"{len(day.trucks)} trucks x {stops} stops, {len(day.compounds)} compounds, scarcest: {scarcest(day)}, "
          f"{args.time_limit:g} s per day")
    print("carry-over  day  served  missed  missed 2 days running  min fill  Gini  weighted fill")
    for carry in (False, True):
        for number, row in enumerate(run_week(day, args.days, args.time_limit, args.seed, carry), 1):
            print(f"{'yes' if carry else 'no':<10}  {number:<3}  {row['served']:<6}  {row['missed']:<6}  "
                  f"{row['twice']:<21}  {row['min']:.2f}      {row['gini']:.3f}  {row['weighted']:.2f}")


if __name__ == "__main__":
    main()
