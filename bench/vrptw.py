"""What the Solomon benches share: instances, best-known table, one distance, one feasibility check.

Every solver's answer is judged here from its routes alone (lists of customer numbers), never by
the solver's own objective: distances in the DIMACS/CVRPLIB convention (each arc's Euclidean
length truncated to one decimal, travel time equal to distance), computed in tenths as integers
so that no rounding differs between solvers.
"""
from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduling.solomon import SolomonInstance, read_solomon, summary, to_problem

SOLOMON_DIR = Path(__file__).resolve().parent / "solomon"


@dataclass(frozen=True)
class Vrptw:
    """One instance as arrays in tenths of a unit; node 0 is the depot."""

    source: SolomonInstance
    name: str
    vehicles: int
    capacity: int
    demand: np.ndarray
    ready: np.ndarray  # tenths
    due: np.ndarray  # tenths; the depot's is the latest return
    service: np.ndarray  # tenths
    arc: np.ndarray  # tenths, truncated Euclidean length

    @property
    def customers(self) -> int:
        return len(self.demand) - 1


def tenths(coordinates: np.ndarray) -> np.ndarray:
    """Arc lengths in tenths, truncated: the DIMACS convention the best-known table uses.

    Computed here rather than taken from the engine's matrix so the check stays independent.
    """
    delta = coordinates[:, None, :] - coordinates[None, :, :]
    # the tiny epsilon keeps lengths like 0.3 from flooring to 0.2 through binary rounding
    return np.floor(np.sqrt((delta**2).sum(axis=2)) * 10 + 1e-9).astype(np.int64)


def load(name: str) -> Vrptw:
    """bench/solomon/NAME.txt through the engine's reader, as integer tenths."""
    source = read_solomon(SOLOMON_DIR / f"{name}.txt")
    nodes = np.array(source.nodes, dtype=np.float64)
    if not np.array_equal(nodes[:, 0], np.arange(len(nodes))):
        raise ValueError(f"{name}: customers are not numbered 0..n in file order")

    def as_tenths(column: int) -> np.ndarray:
        return np.rint(nodes[:, column] * 10).astype(np.int64)

    return Vrptw(
        source=source,
        name=name,
        vehicles=source.vehicles,
        capacity=source.capacity,
        demand=nodes[:, 3].astype(np.int64),
        ready=as_tenths(4),
        due=as_tenths(5),
        service=as_tenths(6),
        arc=tenths(nodes[:, 1:3]),
    )


def our_routes(instance: Vrptw, time_limit: float, seed: int = 0) -> list[list[int]]:
    """The app's engine on the instance, as ``python -m scheduling.solomon`` runs it."""
    from scheduling import solve

    result = solve(to_problem(instance.source), time_limit=time_limit, seed=seed)
    return summary(instance.source, result)["routes"]


def parse_arguments(description: str, argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options both Solomon benches take, and the instances they name."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instances", default=None, help="comma separated, default: all in bench/solomon/")
    args = parser.parse_args(argv)
    return args, instance_names(args.instances)


def instance_names(selected: str | None = None) -> list[str]:
    """The instances in bench/solomon/ (or those named, comma separated), in file-name order."""
    available = sorted(p.stem for p in SOLOMON_DIR.glob("*.txt"))
    if not selected:
        return available
    names = [n.strip().lower() for n in selected.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SystemExit(f"unknown instances {', '.join(unknown)}; bench/solomon/ has {', '.join(available)}")
    return names


def best_known() -> dict[str, tuple[int, float]]:
    """bks.csv: instance -> (vehicles, distance)."""
    with open(SOLOMON_DIR / "bks.csv", newline="") as handle:
        return {row["instance"]: (int(row["vehicles"]), float(row["distance"])) for row in csv.DictReader(handle)}


def distance(instance: Vrptw, routes: list[list[int]]) -> float:
    """Total length of the routes, each leaving and returning to the depot."""
    total = 0
    for route in routes:
        path = [0, *route, 0]
        total += int(instance.arc[path[:-1], path[1:]].sum())
    return total / 10


def violations(instance: Vrptw, routes: list[list[int]]) -> list[str]:
    """Everything wrong with the routes: customers missed or repeated, loads, windows, fleet."""
    visited = [c for route in routes for c in route]
    if not visited:
        return ["no solution found"]
    problems = []
    counts = np.bincount(np.asarray(visited, dtype=int), minlength=instance.customers + 1)
    if len(counts) > instance.customers + 1 or counts[0]:
        problems.append("a route visits a node that is not a customer")
    else:
        missed = np.flatnonzero(counts[1:] == 0) + 1
        twice = np.flatnonzero(counts[1:] > 1) + 1
        if len(missed):
            problems.append(f"{len(missed)} customers not served (e.g. {missed[0]})")
        if len(twice):
            problems.append(f"{len(twice)} customers served twice (e.g. {twice[0]})")
    used = [r for r in routes if r]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes for {instance.vehicles} vehicles")
    for number, route in enumerate(used, start=1):
        if any(not 0 < c <= instance.customers for c in route):
            continue
        load = int(instance.demand[route].sum())
        if load > instance.capacity:
            problems.append(f"route {number}: load {load} over capacity {instance.capacity}")
        clock, here = int(instance.ready[0]), 0
        for customer in route:
            clock = max(clock + instance.service[here] + instance.arc[here, customer], instance.ready[customer])
            if clock > instance.due[customer]:
                problems.append(f"route {number}: customer {customer} served at {clock / 10} after its due date")
            here = customer
        back = clock + instance.service[here] + instance.arc[here, 0]
        if back > instance.due[0]:
            problems.append(f"route {number}: back at the depot at {back / 10}, after {instance.due[0] / 10}")
    return problems


def gap(distance_found: float, best: float) -> float:
    return 100 * (distance_found - best) / best
