"""Scaling: generated lockdown days of growing size, solve time and peak memory.

    python -m bench.scaling [--sizes 12,35,100] [--time-limit S] [--seed 0] [--split auto|always]
                            [--piece-size N] [--solvers ours,ours-travel-only,pyvrp] [--equal-coverage]

Several solvers run one after the other on each day, each in its own child process, and every
answer is judged by bench.day_solvers.judge from its routes alone.

Each day is solved in a child process so that its peak memory is its own: the table shows the
solving process's peak RSS and the peak RSS of its whole process tree (the pieces of a split day
run in grandchildren), sampled every 0.1 s with psutil.

Solvers that serve different compounds cannot be compared on travel: the last compounds a fleet
fits are the dearest. ``--equal-coverage`` therefore solves each day a second time with only the
compounds PyVRP served (rows "on PyVRP's N"): every solver can serve them all, so the travel
figures there compare like with like.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from dataclasses import replace

import psutil

from bench.day_solvers import SOLVERS, judge
from bench.days import COMPOUNDS_PER_TRUCK, lockdown_day
from scheduling.decompose import PIECE_SIZE

#: issue 3's targets: seconds allowed for days of about this many compounds
TARGET_SECONDS = ((400, 20.0), (1200, 60.0), (None, 300.0))
#: issue 12: the 3,000-compound day within 2 GiB
MEMORY_TARGET_MIB = 2048
SAMPLE_SECONDS = 0.1


def target_seconds(compounds: int) -> float:
    for most, seconds in TARGET_SECONDS:
        if most is None or compounds <= most:
            return seconds
    raise AssertionError("the last target has no bound")


def _solve_day(trucks: int, seed: int, time_limit: float, solver: str, options: dict, only, answer) -> None:
    """Runs in the child: build the day (with ``only`` the compounds of those ids), solve it,
    judge the plans, send back the figures."""
    problem = lockdown_day(trucks, seed=seed)
    if only is not None:
        problem = replace(problem, compounds=tuple(c for c in problem.compounds if c.id in only))
    started = time.monotonic()
    plans, handed_out = SOLVERS[solver](problem, time_limit, seed, **options)
    seconds = time.monotonic() - started
    judged = judge(problem, plans, handed_out)
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    answer.send({
        "compounds": len(problem.compounds),
        "stops": sum(t.max_stops for t in problem.trucks),
        "seconds": seconds,
        "served": judged.served,
        "served_ids": sorted(cid for _, ids in plans for cid in ids),
        "travel_hours": judged.travel_minutes / 60,
        "handed_out": judged.handed_out,
        "asked": sum(q for c in problem.compounds for q in c.demand.values()),
        "wrong": judged.wrong,
        "routes": sum(1 for _, ids in plans if ids),
        "own_mib": own_kib / 1024,
        "children_mib": children_kib / 1024,
    })
    answer.close()


def measure(trucks: int, seed: int, time_limit: float, solver: str = "ours", only: frozenset[str] | None = None,
            **options) -> dict:
    """Solve one generated day (or its compounds in ``only``) in a child process, sampling its
    process tree's memory."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_solve_day, args=(trucks, seed, time_limit, solver, options, only, send))
    child.start()
    send.close()
    watched = psutil.Process(child.pid)
    tree_peak = 0
    while child.is_alive() and not receive.poll(SAMPLE_SECONDS):
        total = 0
        try:
            for process in [watched, *watched.children(recursive=True)]:
                total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
        tree_peak = max(tree_peak, total)
    figures = receive.recv() if receive.poll(5.0) else None
    child.join()
    if figures is None:
        raise RuntimeError(f"{solver} on {trucks} trucks failed (exit code {child.exitcode})")
    figures["tree_mib"] = tree_peak / 2**20
    return figures


def _row(solver: str, trucks: int, limit: float, args, only: frozenset[str] | None = None) -> dict:
    """Measures one solver on the day (or on its compounds in ``only``) and prints its row."""
    options = {"split": args.split, "piece_size": args.piece_size} if solver.startswith("ours") else {}
    f = measure(trucks, args.seed, limit, solver, only, **options)
    handed = f"{100 * f['handed_out'] / f['asked']:.1f}" if f["handed_out"] else "-"
    peak_solver = max(f["own_mib"], f["children_mib"])
    feasible = "yes" if not f["wrong"] else f"NO: {f['wrong'][0]} (+{len(f['wrong']) - 1} more)"
    label = solver if only is None else f"{solver}, on PyVRP's {len(only)}"
    print(f"{label:<26} {trucks:>6} {f['compounds']:>9} {f['stops']:>5} {limit:>7.0f} {f['seconds']:>8.1f} "
          f"{f['served']:>6} {f['routes']:>6} {f['travel_hours']:>8.2f} {handed:>12} {peak_solver:>10.0f} "
          f"{f['tree_mib']:>8.0f}  {os.getloadavg()[0]:>4.1f}  {feasible}", flush=True)
    return f


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12,35,100", help="numbers of trucks, comma separated")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per day (default: issue 3's target for the day's size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", choices=("auto", "always"), default="auto",
                        help="auto: scheduling.solve_day as the app calls it; always: scheduling.decompose.solve_large")
    parser.add_argument("--piece-size", type=int, default=PIECE_SIZE,
                        help=f"compounds per piece with --split always (default {PIECE_SIZE})")
    parser.add_argument("--solvers", default="ours",
                        help=f"comma separated, run one after the other on each day: {', '.join(SOLVERS)}")
    parser.add_argument("--equal-coverage", action="store_true",
                        help="solve each day again with only the compounds PyVRP served (needs pyvrp in --solvers)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    solvers = [name for name in args.solvers.split(",") if name.strip()]
    unknown = set(solvers) - set(SOLVERS)
    if unknown:
        parser.error(f"unknown solvers: {', '.join(sorted(unknown))}")
    if args.equal_coverage and "pyvrp" not in solvers:
        parser.error("--equal-coverage compares on the compounds PyVRP serves: add pyvrp to --solvers")
    cores = psutil.cpu_count()
    pieces = f", pieces of {args.piece_size}" if args.split == "always" else ""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# scaling: generated lockdown days, seed {args.seed}, split {args.split}{pieces}, {cores} cores, "
          f"load average at the start {load}")
    header = (f"{'solver':<26} {'trucks':>6} {'compounds':>9} {'stops':>5} {'limit s':>7} {'seconds':>8} "
              f"{'served':>6} {'routes':>6} {'travel h':>8} {'handed out %':>12} {'solver MiB':>10} {'tree MiB':>8}"
              f"  {'load':>4}  feasible")
    print(header)
    print("-" * len(header))
    for trucks in sizes:
        compounds = trucks * COMPOUNDS_PER_TRUCK
        limit = args.time_limit if args.time_limit is not None else target_seconds(compounds)
        served_by_pyvrp = None
        for solver in solvers:
            f = _row(solver, trucks, limit, args)
            served_by_pyvrp = frozenset(f["served_ids"]) if solver == "pyvrp" else served_by_pyvrp
        if args.equal_coverage:
            for solver in solvers:
                _row(solver, trucks, limit, args, only=served_by_pyvrp)
    print(f"# memory target: {MEMORY_TARGET_MIB} MiB for the whole tree; stops: the fleet's stop limits added up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
