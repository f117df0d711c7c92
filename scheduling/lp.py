"""The PuLP side: which LP solver to use and how to read its answer honestly."""
from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from functools import cache

import pulp

SOLVERS = ("highs", "cbc")
#: how often a running HiGHS solve asks ``stop`` whether to give up
STOP_POLL_SECONDS = 0.1


@cache
def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner on stdout when the first solver object is created in a
    process, whatever the options; create that first one with stdout pointed at /dev/null so
    command lines that print JSON stay clean."""
    try:
        import highspy
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _interrupted_by(stop: Callable[[], bool]) -> dict:
    """pulp.HiGHS options for a callback that interrupts the solve once ``stop()`` is true,
    asking it at most every ``STOP_POLL_SECONDS`` (HiGHS calls back many times a second)."""
    import highspy

    asked = [time.monotonic()]

    def interrupt(kind, message, data_out, data_in, user_data) -> None:
        now = time.monotonic()
        if now - asked[0] >= STOP_POLL_SECONDS:
            asked[0] = now
            if stop():
                data_in.user_interrupt = True

    kinds = highspy.cb.HighsCallbackType
    return {"callbackTuple": (interrupt, None),
            "callbacksToActivate": [kinds.kCallbackMipInterrupt, kinds.kCallbackSimplexInterrupt]}


def check_solver_name(name: str) -> None:
    if name not in SOLVERS:
        raise ValueError(f"unknown lp_solver {name!r}; use one of {', '.join(SOLVERS)}")


class _WarmHiGHS(pulp.HiGHS):
    """HiGHS started from the variables' initial values (``setInitialValue``), which PuLP's
    highspy interface does not pass on by itself: a time-limited MILP then never answers
    worse than the start."""

    def callSolver(self, lp):
        import highspy

        start = highspy.HighsSolution()
        start.col_value = [float(v.varValue or 0.0) for v in lp.variables()]
        start.value_valid = True
        lp.solverModel.setSolution(start)
        super().callSolver(lp)


def make_solver(
    name: str, time_limit: float, mip: bool = True, warm_start: bool = False, gap: float = 1e-9,
    presolve: bool = True, stop: Callable[[], bool] | None = None,
) -> pulp.LpSolver:
    """HiGHS through highspy by default; CBC (bundled with PuLP) when asked or when HiGHS is missing.
    ``gap`` is the relative MIP gap at which the search may stop; ``presolve=False`` skips the
    solver's presolve (see ``pool.RoutePool.recombine`` for why). HiGHS gives up with its best
    answer so far once ``stop()`` says so (a cancelled run ends within a second, not at the
    MILP's time limit); CBC has no such hook and runs to its limit.

    HiGHS runs on one thread: its threads wait for each other by spinning, and with other
    processes on the cores (two solves niced below a web server on 2 cores) a recombination
    given 1.8 s took 32 s, so 30 s solves took 37-42 s; on one thread the same took 2-4 s."""
    check_solver_name(name)
    limit = max(0.05, float(time_limit))
    if name == "highs":
        _silence_highs_banner()
        kind = _WarmHiGHS if warm_start else pulp.HiGHS
        options = {} if presolve else {"presolve": "off"}
        if stop is not None:
            options.update(_interrupted_by(stop))
        solver = kind(msg=False, timeLimit=limit, gapRel=gap, mip=mip, threads=1, **options)
        if solver.available():
            return solver
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3.3's bundled CBC is what we want
        return pulp.PULP_CBC_CMD(
            msg=False, timeLimit=max(1, round(limit)), gapRel=gap, mip=mip, warmStart=warm_start,
            presolve=None if presolve else False,
        )


def solved(problem: pulp.LpProblem) -> bool:
    """True when the solver returned a usable (optimal or merely feasible) solution.

    Under a time limit ``LpStatus`` may say Optimal for a feasible answer, so read ``sol_status``.
    """
    return problem.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)


def proved_optimal(problem: pulp.LpProblem) -> bool:
    return problem.sol_status == pulp.LpSolutionOptimal
