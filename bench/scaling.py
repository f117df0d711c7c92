"""Scaling: generated lockdown days of growing size, solve time and peak memory.

    python -m bench.scaling [--sizes 12,35,100] [--time-limit S] [--seed 0] [--split auto|always]
                            [--piece-size N]

Each day is solved in a child process so that its peak memory is its own: the table shows the
solving process's peak RSS and the peak RSS of its whole process tree (the pieces of a split day
run in grandchildren), sampled every 0.1 s with psutil.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from collections import Counter

import psutil

from bench.days import COMPOUNDS_PER_TRUCK, lockdown_day
from scheduling.decompose import PIECE_SIZE

#: issue 3's targets: seconds allowed for days of about this many compounds
TARGET_SECONDS = ((400, 20.0), (1200, 60.0), (None, 300.0))
MEMORY_TARGET_MIB = 4096
SAMPLE_SECONDS = 0.1


def target_seconds(compounds: int) -> float:
    for most, seconds in TARGET_SECONDS:
        if most is None or compounds <= most:
            return seconds
    raise AssertionError("the last target has no bound")


def _solve_day(trucks: int, seed: int, time_limit: float, split: str, piece_size: int, answer) -> None:
    """Runs in the child: build the day, solve it, send back the figures."""
    from scheduling import solve_day
    from scheduling.decompose import solve_large

    problem = lockdown_day(trucks, seed=seed)
    started = time.monotonic()
    if split == "always":
        result = solve_large(problem, time_limit=time_limit, seed=seed, piece_size=piece_size)
    else:
        result = solve_day(problem, time_limit=time_limit, seed=seed)
    seconds = time.monotonic() - started
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    answer.send({
        "compounds": len(problem.compounds),
        "seconds": seconds,
        "served": len(result.served_ids),
        "unserved": Counter(u.reason.value for u in result.unserved),
        "travel_hours": result.travel_minutes / 60,
        "routes": sum(1 for r in result.routes if r.visits),
        "own_mib": own_kib / 1024,
        "children_mib": children_kib / 1024,
    })
    answer.close()


def measure(trucks: int, seed: int, time_limit: float, split: str, piece_size: int = PIECE_SIZE) -> dict:
    """Solve one generated day in a child process, sampling its process tree's memory."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_solve_day, args=(trucks, seed, time_limit, split, piece_size, send))
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
        raise RuntimeError(f"the solve of {trucks} trucks failed (exit code {child.exitcode})")
    figures["tree_mib"] = tree_peak / 2**20
    return figures


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
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cores = psutil.cpu_count()
    pieces = f", pieces of {args.piece_size}" if args.split == "always" else ""
    print(f"# scaling: generated lockdown days, seed {args.seed}, split {args.split}{pieces}, {cores} cores")
    header = (f"{'trucks':>6} {'compounds':>9} {'limit s':>7} {'target s':>8} {'seconds':>8} {'served':>6} "
              f"{'unserved':>8} {'routes':>6} {'travel h':>8} {'solver MiB':>10} {'tree MiB':>8}  unserved reasons")
    print(header)
    print("-" * len(header))
    for trucks in sizes:
        compounds = trucks * COMPOUNDS_PER_TRUCK
        target = target_seconds(compounds)
        limit = args.time_limit if args.time_limit is not None else target
        f = measure(trucks, args.seed, limit, args.split, args.piece_size)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(f["unserved"].items())) or "-"
        peak_solver = max(f["own_mib"], f["children_mib"])
        print(f"{trucks:>6} {f['compounds']:>9} {limit:>7.0f} {target:>8.0f} {f['seconds']:>8.1f} "
              f"{f['served']:>6} {sum(f['unserved'].values()):>8} {f['routes']:>6} {f['travel_hours']:>8.1f} "
              f"{peak_solver:>10.0f} {f['tree_mib']:>8.0f}  {reasons}", flush=True)
    print(f"# memory target: {MEMORY_TARGET_MIB} MiB for the whole tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
