"""Our engine, OR-Tools routing and PyVRP side by side on the Solomon instances, in one run.

    python -m bench.compare [--time-limit 60] [--seed 0] [--instances c101,r101]

Every solver gets the same time limit and the same integer data (tenths; see bench.others) and
runs alone, one after the other. Distance, vehicles and feasibility are computed by bench.vrptw
from each solver's routes, never taken from the solver. A table, never pass/fail.
"""
from __future__ import annotations

import statistics
import sys
import time

from bench.others import SOLVERS, check_numbering
from bench.vrptw import best_known, distance, gap, load, our_routes, parse_arguments, violations

ALL_SOLVERS = {"ours": our_routes, **SOLVERS}
COLUMN = 25


def main(argv: list[str] | None = None) -> int:
    args, names = parse_arguments(__doc__.splitlines()[0], argv)
    bks = best_known()
    print(f"# Solomon instances, {args.time_limit:g} s per solver and instance, seed {args.seed}")
    print("# each cell: distance / vehicles / gap % to best-known; * marks an infeasible answer")
    header = f"{'instance':<9} {'best-known':>12}" + "".join(f" {name:>{COLUMN}}" for name in ALL_SOLVERS)
    print(header)
    print("-" * len(header))
    gaps = {name: [] for name in ALL_SOLVERS}
    seconds = {name: [] for name in ALL_SOLVERS}
    infeasible = {name: [] for name in ALL_SOLVERS}
    for name in names:
        instance = load(name)
        best_vehicles, best_distance = bks[name]
        cells = []
        for solver, run in ALL_SOLVERS.items():
            started = time.monotonic()
            routes = run(instance, args.time_limit, args.seed)
            seconds[solver].append(time.monotonic() - started)
            check_numbering(instance, routes)
            found = distance(instance, routes)
            wrong = violations(instance, routes)
            if wrong:
                infeasible[solver].append(f"{name}: {wrong[0]}")
            else:
                gaps[solver].append(gap(found, best_distance))
            if not routes:
                cells.append("no solution*")
            else:
                mark = "*" if wrong else " "
                cells.append(f"{found:>9.1f} / {len(routes):>3} / {gap(found, best_distance):>6.2f}{mark}")
        print(f"{name:<9} {best_distance:>8.1f}/{best_vehicles:>3}" + "".join(f" {c:>{COLUMN}}" for c in cells),
              flush=True)
    print("-" * len(header))
    for solver in ALL_SOLVERS:
        quality = (f"mean gap {statistics.fmean(gaps[solver]):6.2f} %, worst {max(gaps[solver]):6.2f} %"
                   if gaps[solver] else "no feasible answer")
        print(f"{solver:<9} {quality} (feasible answers only), mean {statistics.fmean(seconds[solver]):5.1f} s, "
              f"feasible {len(names) - len(infeasible[solver])}/{len(names)}")
        for note in infeasible[solver]:
            print(f"    infeasible {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
