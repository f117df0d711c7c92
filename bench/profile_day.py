"""Where the search spends its time: cProfile of ``scheduling.solve`` on a generated day.

    python -m bench.profile_day [--trucks 12] [--time-limit 10] [--seed 0] [--rows 25]

Prints the day's served count, travel and iterations, then the functions with the most own
time. One search, no pieces (``solve``, not ``solve_day``), so large days show the search
itself.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

from bench.days import lockdown_day
from scheduling import solve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=12)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=25, help="functions to list")
    args = parser.parse_args(argv)
    problem = lockdown_day(args.trucks, seed=args.seed)
    profile = cProfile.Profile()
    profile.enable()
    result = solve(problem, time_limit=args.time_limit, seed=args.seed)
    profile.disable()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# {len(problem.compounds)} compounds, {args.time_limit:g} s: served {len(result.served_ids)}, "
          f"travel {result.travel_minutes:.0f} min, {result.iterations} iterations, {result.seconds:.1f} s, "
          f"load average {load}")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
