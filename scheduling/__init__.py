"""The scheduling engine: plain dataclasses in, a validated result out.

It imports neither Pyramid nor SQLAlchemy. ``solve(problem)`` serves as many compounds as it
can (weighted by priority), then balances hand-outs of what each truck carries against total
travel (stock left on a truck while others' compounds go short is worth a detour), then shares
scarce stock fairly on each truck;
``solve_day(problem)`` does the same for a day of any size, in parallel pieces when it is large.
"""
from .decompose import solve_day
from .engine import solve
from .problem import Compound, Problem, Truck
from .result import InvalidResult, Result, Route, Unserved, UnservedReason, Visit
from .solomon import SolomonInstance, read_solomon, to_problem

__all__ = [
    "Compound",
    "InvalidResult",
    "Problem",
    "Result",
    "Route",
    "SolomonInstance",
    "Truck",
    "Unserved",
    "UnservedReason",
    "Visit",
    "read_solomon",
    "solve",
    "solve_day",
    "to_problem",
]
