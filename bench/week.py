"""A week of identical over-capacity days: who goes unserved two days running, with and without
yesterday's unserved weighing more today (``trucks.week.carried_priority``), and how scarce
goods were shared each day.

    python -m bench.week [--trucks 4] [--days 4] [--time-limit S] [--seed 0]
    python -m bench.week --weights 3,6,10 [--seeds 20] [--days 6] [--time-limit 0.5] [--cpu-clock]

The day is a generated lockdown day (bench/days.py, ``--seed``) with each truck's stop limit cut
to three quarters of its share of the compounds, so the fleet cannot serve everyone. Each day is
solved as the app solves it; "carry-over" re-weighs a compound missed for a reason a plan could
avoid (fleet full, no stock) by the days it went without in a row. A compound no truck can reach
inside its window and shift (the engine's ``unreachable``) is counted apart, never as missed.
Fill figures are over the served compounds of the scarcest category (lowest stock to demand):
min fill, Gini of fill, priority-weighted fill. A third week, carry-over on, runs without the
across-truck sharing (``bench.fairness.matching_off``: the engine as it shared goods before), so
each day's fill shows before and after it.

``--weights`` compares carry-over weights instead: for each, ``--seeds`` weeks (solver seeds 0,
1, ...) and the compounds missed two days running in all of them. The search ends at its time
limit, so on a busy machine each day gets less search; ``--cpu-clock`` makes the limit count
this process's CPU seconds, so that the comparison does not depend on what else runs.
"""
from __future__ import annotations

import argparse
import time
from contextlib import nullcontext
from dataclasses import replace

from bench.days import lockdown_day
from bench.fairness import matching_off
from scheduling import UnservedReason, solve_day
from scheduling.fairness import day_fairness
from trucks.week import CARRY_OVER_WEIGHT, carried_priority

AVOIDABLE = {UnservedReason.FLEET_FULL, UnservedReason.NO_STOCK}


def scarcest(problem) -> str:
    stock = {c: sum(t.stock.get(c, 0) for t in problem.trucks) for c in problem.categories}
    demand = {c: sum(x.demand.get(c, 0) for x in problem.compounds) for c in problem.categories}
    return min((c for c in demand if demand[c]), key=lambda c: stock[c] / demand[c])


def run_week(problem, days: int, time_limit: float, seed: int, weight: int) -> list[dict]:
    """Each day's figures; ``weight`` is the carry-over per day missed (0: none)."""
    streak: dict[str, int] = {}
    rows = []
    category = scarcest(problem)
    for _ in range(days):
        today = replace(problem, compounds=tuple(
            replace(c, priority=carried_priority(c.priority, streak.get(c.id, 0), weight)) for c in problem.compounds))
        result = solve_day(today, time_limit=time_limit, seed=seed)
        missed = {u.compound_id for u in result.unserved if u.reason in AVOIDABLE}
        unreachable = {u.compound_id for u in result.unserved if u.reason == UnservedReason.UNREACHABLE}
        twice = {cid for cid in missed if streak.get(cid, 0) > 0}
        streak = {cid: streak.get(cid, 0) + 1 for cid in missed}
        fairness = next(f for f in day_fairness(problem, result) if f.category == category)  # base priorities
        rows.append({
            "served": len(result.served_ids), "missed": len(missed), "twice": len(twice),
            "unreachable": len(unreachable),
            "min": fairness.min_fill, "gini": fairness.gini, "weighted": fairness.weighted_fill,
            "share": fairness.share,
        })
    return rows


def print_week(day, args) -> None:
    print("carry-over  sharing      day  served  missed  missed 2 days running  unreachable  share  min fill  "
          "min/share  Gini   weighted fill")
    for weight, sharing in ((0, "across trucks"), (CARRY_OVER_WEIGHT, "across trucks"), (CARRY_OVER_WEIGHT, "per truck")):
        with matching_off() if sharing == "per truck" else nullcontext():
            rows = run_week(day, args.days, args.time_limit, args.seed, weight)
        for number, row in enumerate(rows, 1):
            print(f"{'+' + str(weight) if weight else 'no':<10}  {sharing:<13}  {number:<3}  {row['served']:<6}  "
                  f"{row['missed']:<6}  {row['twice']:<21}  {row['unreachable']:<11}  {row['share']:.2f}   "
                  f"{row['min']:.2f}      {row['min'] / row['share']:.2f}       {row['gini']:.3f}  {row['weighted']:.2f}")


def print_weights(day, args) -> None:
    print(f"{args.seeds} weeks of {args.days} days per weight (solver seeds 0-{args.seeds - 1})")
    print("weight  missed 2 days running  unreachable  mean served  mean min fill  wall s")
    for weight in (int(w) for w in args.weights.split(",")):
        started = time.perf_counter()
        rows = [row for seed in range(args.seeds) for row in run_week(day, args.days, args.time_limit, seed, weight)]
        print(f"+{weight:<6}  {sum(r['twice'] for r in rows):<21}  {sum(r['unreachable'] for r in rows):<11}  "
              f"{sum(r['served'] for r in rows) / len(rows):<11.2f}  {sum(r['min'] for r in rows) / len(rows):<13.3f}  "
              f"{time.perf_counter() - started:.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=4)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", help="compare these carry-over weights, e.g. 3,6,10")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cpu-clock", action="store_true", help="time limits count CPU seconds of this process")
    args = parser.parse_args(argv)
    day = lockdown_day(args.trucks, seed=args.seed)
    stops = max(1, len(day.compounds) // len(day.trucks) * 3 // 4)
    day = replace(day, trucks=tuple(replace(t, max_stops=stops) for t in day.trucks))
    print(f"{len(day.trucks)} trucks x {stops} stops, {len(day.compounds)} compounds, scarcest: {scarcest(day)}, "
          f"{args.time_limit:g} {'CPU ' if args.cpu_clock else ''}s per day")
    if args.cpu_clock:
        time.monotonic = time.process_time  # the engine's deadlines then count this process's CPU
    (print_weights if args.weights else print_week)(day, args)


if __name__ == "__main__":
    main()
