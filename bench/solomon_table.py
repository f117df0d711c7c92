"""Solomon instances solved by our engine, against the best-known distances.

    python -m bench.solomon_table [--time-limit 60] [--seed 0] [--instances c101,r101]

Prints one row per instance (vehicles, distance, best-known, gap, seconds, feasibility checked
by bench.vrptw from the routes alone) and the mean gap. A table, never pass/fail.
"""
from __future__ import annotations

import statistics
import sys
import time

from bench.vrptw import best_known, distance, gap, load, our_routes, parse_arguments, violations


def main(argv: list[str] | None = None) -> int:
    args, names = parse_arguments(__doc__.splitlines()[0], argv)
    bks = best_known()
    print(f"# Solomon instances, our engine, {args.time_limit:g} s per instance, seed {args.seed}")
    header = (f"{'instance':<9} {'vehicles':>8} {'distance':>9} {'bks veh':>7} {'bks dist':>9} "
              f"{'gap %':>7} {'seconds':>7}  feasible")
    print(header)
    print("-" * len(header))
    gaps = []
    for name in names:
        instance = load(name)
        started = time.monotonic()
        routes = our_routes(instance, args.time_limit, args.seed)
        seconds = time.monotonic() - started
        found = distance(instance, routes)
        wrong = violations(instance, routes)
        best_vehicles, best_distance = bks[name]
        instance_gap = gap(found, best_distance)
        gaps.append(instance_gap)
        verdict = "yes" if not wrong else f"NO: {wrong[0]}" + (f" (+{len(wrong) - 1} more)" if len(wrong) > 1 else "")
        print(f"{name:<9} {len(routes):>8} {found:>9.1f} {best_vehicles:>7} {best_distance:>9.1f} "
              f"{instance_gap:>7.2f} {seconds:>7.1f}  {verdict}", flush=True)
    print("-" * len(header))
    print(f"mean gap {statistics.fmean(gaps):.2f} %, worst {max(gaps):.2f} % over {len(gaps)} instances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
