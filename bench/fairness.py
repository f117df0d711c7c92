"""Scarce goods shared across trucks: each day solved with the trucks' loads matched to their
compounds (the engine as it is) and without (the fair-share weights of the search and the
floor of the sharing set to zero, as the engine was before), same seed and limit.

    python -m bench.fairness [--days demo,4x100,12x360,12x400] [--seeds 0,1,2] [--time-limit 20]

A day ``TxN`` is a generated lockdown day (bench/days.py) of T trucks and N compounds (12x400
is over capacity); ``demo`` is the demo day (``trucks.demo``) imported into a throwaway
database, each of its retailers solved apart as the app solves it. Per scarce category (the
trucks on the road carry less than their compounds ask), over the served compounds asking for
it: ``share`` = stock / demand, the lowest fill and its ratio to the share (the goal: at least
0.9), the Gini coefficient of fill, the priority-weighted fill, and the units brought back to
the depot. Rows are means over the seeds;
``worst`` is the lowest min-fill/share ratio of any seed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from contextlib import contextmanager, nullcontext
from functools import cache
from statistics import mean

import scheduling.engine as engine
import scheduling.search as search
from bench.days import lockdown_day
from bench.district import throwaway_database
from scheduling import Problem, solve_day
from scheduling.fairness import day_fairness
from trucks.demo import demo_files
from trucks.importer import import_day
from trucks.services import PlanningSettings, build_problem, retailers_with_demand

DEMO_DATE = dt.date(2022, 4, 20)


@contextmanager
def matching_off():
    """The engine without its across-truck matching: as it shared goods before."""
    saved = search.FAIR_BALANCE, search.WASTE_BALANCE, search.FAIR_DEEP_BALANCE, engine.FAIR_FLOOR
    search.FAIR_BALANCE = search.WASTE_BALANCE = search.FAIR_DEEP_BALANCE = engine.FAIR_FLOOR = 0.0
    try:
        yield
    finally:
        search.FAIR_BALANCE, search.WASTE_BALANCE, search.FAIR_DEEP_BALANCE, engine.FAIR_FLOOR = saved


@cache
def demo_problems() -> tuple[Problem, ...]:
    """Each retailer's problem of the demo day, built from its import as the app builds it
    (once: the demo day does not depend on the seed)."""
    with tempfile.TemporaryDirectory() as directory:
        session_factory = throwaway_database(directory)
        with session_factory.begin() as session:
            import_day(session, DEMO_DATE, demo_files(DEMO_DATE))
        with session_factory() as session:
            return tuple(build_problem(session, DEMO_DATE, retailer.id, PlanningSettings()).problem
                         for retailer in retailers_with_demand(session, DEMO_DATE))


def problems(day: str, seed: int) -> list[Problem]:
    if day == "demo":
        return list(demo_problems())
    trucks, compounds = (int(x) for x in day.split("x"))
    return [lockdown_day(trucks, seed=seed, compounds=compounds)]


def run(problem: Problem, seed: int, time_limit: float) -> dict:
    result = solve_day(problem, time_limit=time_limit, seed=seed)
    scarce = [f for f in day_fairness(problem, result) if f.scarce]
    return {
        "served": len(result.served_ids),
        "travel": result.travel_minutes,
        "share": mean(f.share for f in scarce),
        "min": mean(f.min_fill for f in scarce),
        "ratio": mean(f.min_fill / f.share for f in scarce),
        "worst": min(f.min_fill / f.share for f in scarce),
        "gini": mean(f.gini for f in scarce),
        "weighted": mean(f.weighted_fill for f in scarce),
        "back": sum(f.brought_back for f in scarce),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="demo,4x100,12x360,12x400")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"time limit {args.time_limit:g} s, seeds {args.seeds}; per scarce category, means over "
          f"categories and seeds (worst: the lowest min fill / share of any category and seed)\n")
    print("| day | matching | served | travel min | share | min fill | min / share | worst | Gini | "
          "priority-weighted fill | units brought back |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for day in args.days.split(","):
        cases = [(problem, seed) for seed in seeds for problem in problems(day, seed)]
        for label in ("before", "after"):
            with matching_off() if label == "before" else nullcontext():
                rows = [run(problem, seed, args.time_limit) for problem, seed in cases]
            print(f"| {day} | {label} | {mean(r['served'] for r in rows):.1f} | {mean(r['travel'] for r in rows):,.0f} "
                  f"| {mean(r['share'] for r in rows):.3f} | {mean(r['min'] for r in rows):.3f} "
                  f"| {mean(r['ratio'] for r in rows):.2f} | {min(r['worst'] for r in rows):.2f} "
                  f"| {mean(r['gini'] for r in rows):.3f} | {mean(r['weighted'] for r in rows):.3f} "
                  f"| {mean(r['back'] for r in rows):,.0f} |", flush=True)
    print(f"\nload average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
