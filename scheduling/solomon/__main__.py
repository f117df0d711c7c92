"""Solves one Solomon instance with the app's engine and prints one JSON object.

    python -m scheduling.solomon FILE [--time-limit S] [--seed N]

prints ``{"instance", "vehicles", "distance", "seconds", "routes"}``; exits 1 when some customer
is left unserved.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..engine import solve
from . import read_solomon, summary, to_problem


def _print_progress(fraction: float, message: str) -> None:
    print(f"{100 * fraction:5.1f}% {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduling.solomon", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lp-solver", choices=("highs", "cbc"), default="highs")
    parser.add_argument("--progress", action="store_true", help="progress lines on stderr")
    args = parser.parse_args(argv)
    try:
        instance = read_solomon(args.file)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    result = solve(
        to_problem(instance), time_limit=args.time_limit, seed=args.seed,
        progress=_print_progress if args.progress else None, lp_solver=args.lp_solver,
    )
    print(json.dumps(summary(instance, result)))
    if result.unserved:
        missing = ", ".join(u.compound_id for u in result.unserved)
        print(f"not every customer served: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
