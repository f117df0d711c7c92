"""The scheduling engine: plain dataclasses in, a validated result out.

It imports neither Pyramid nor SQLAlchemy.
"""
from .problem import Compound, Problem, Truck
from .result import Result, Route, Unserved, UnservedReason, Visit

__all__ = [
    "Compound",
    "Problem",
    "Result",
    "Route",
    "Truck",
    "Unserved",
    "UnservedReason",
    "Visit",
]
