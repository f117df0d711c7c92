"""District days: three retailers with unbalanced depots, and four ways to plan them.

``district_files`` writes a generated district day as the app's four import files (demand with
no retailer column, so the import's nearest-depot rule shares it out). The first retailer's
depots sit in the busiest towns, the last one's in the quietest, and each truck carries an equal
share of the district's goods, so nearest depot overloads the first and leaves the last's stock
on its trucks.

``python -m bench.district --sizes 360,1000 --time-limit 20,60`` prints, per size, four plans
of the same day, the first three each checked by the engine's own validation:

- nearest depot: each retailer's compounds by the import's rule, each retailer solved alone
  (the limit shared among them by compounds);
- assignment LP: the coordinator's proposal (``scheduling.assignment``), then each retailer
  solved alone the same way;
- joint: one solve with every retailer's trucks (the district solve);
- PyVRP, three fleets: ``bench.day_solvers.pyvrp`` on the joint solve's Problem (every
  retailer's trucks, every compound), at the same limit counted the same way (building the
  Problem included). Its routes are judged by ``bench.day_solvers.judge`` (windows, shifts,
  stop limits, each compound once); served, coverage and travel come from that judgement.
  PyVRP decides no goods and the judge hands none out, so its scarce-goods cells are "–". The
  row says "not run" where PyVRP (the ``[bench]`` extra) is not installed.

Scarce goods (``SCARCE``: the categories short district-wide) are counted over the whole
district, every retailer's trucks and compounds together. A truck that stays at its depot keeps
its whole load, which counts as brought back. *Brought back while short*: for each scarce
category, if at least one served compound (of any retailer) got less of it than it asked, every
unit of it that any truck brings back; summed over the categories, with the number of trucks
that bring back such units. Unserved compounds do not count as short here (coverage counts
them). The issue's goal is 0: no truck brings back goods a served compound went short of.
*Could have been handed out*: per scarce category the smaller of the units brought back and the
units the served compounds lacked, summed; one compound short of a unit makes every unit
brought back count in the column before, here only that unit.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import math
import tempfile
import time
from dataclasses import dataclass, replace

import alembic.command
import alembic.config
import numpy as np
from sqlalchemy.orm import sessionmaker

from scheduling import Problem, Result, solve_day
from trucks.db import get_engine, get_session_factory
from trucks.demo import clock_text, csv_bytes
from trucks.district import confirm_assignment, propose_assignment
from trucks.importer import import_day
from trucks.services import PlanningSettings, build_problem, retailers_with_demand

from .day_solvers import Judged, judge, pyvrp
from .days import CATEGORIES, SHANGHAI, _offset, _window

DATE = dt.date(2022, 4, 20)
RETAILERS = ("甲", "乙", "丙")
COMPOUNDS_PER_TRUCK = 30
SHIFT = ("07:00", "19:00")
MAX_STOPS = 30
#: categories whose stock is short of demand district-wide
SCARCE = tuple(k for k, (_, _, supply) in CATEGORIES.items() if supply < 1.0)


def district_files(compounds: int = 360, seed: int = 0, date: dt.date = DATE) -> dict[str, bytes]:
    """trucks.csv, compounds.csv, stock.csv and demand.csv of a district day, as UTF-8 bytes."""
    rng = np.random.default_rng(seed)
    per_retailer = max(1, round(compounds / COMPOUNDS_PER_TRUCK / len(RETAILERS)))
    fleet_size = per_retailer * len(RETAILERS)
    radius_km = 6.0 + 2.0 * math.sqrt(fleet_size)
    n_towns = max(4, round(fleet_size / 3))
    centres = [_offset(SHANGHAI, *rng.uniform(-radius_km, radius_km, size=2)) for _ in range(n_towns)]
    spread = rng.uniform(1.0, 2.5, size=n_towns)
    weight = rng.gamma(2.0, size=n_towns)
    by_size = list(np.argsort(-weight))
    # the first retailer at the two busiest towns, the second at a middling one, the last at the quietest
    depot_towns = {RETAILERS[0]: by_size[:2], RETAILERS[1]: [by_size[len(by_size) // 2]], RETAILERS[2]: [by_size[-1]]}
    town_of = rng.choice(n_towns, size=compounds, p=weight / weight.sum())

    compound_rows, demand_rows, totals = [], [], dict.fromkeys(CATEGORIES, 0)
    day = date.isoformat()
    for i, town in enumerate(town_of):
        code = f"D{i + 1:04d}"
        lat, lon = _offset(centres[town], *rng.normal(0.0, spread[town], size=2))
        households = int(np.clip(rng.lognormal(math.log(800), 0.6), 100, 5000))
        start, end = _window(rng)
        priority = int(rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05]))
        compound_rows.append((code, f"小区{i + 1}", f"镇{town + 1}", f"{lat:.5f}", f"{lon:.5f}", households,
                              clock_text(int(start)), clock_text(int(end)), "", priority))
        for key, (per_household, share, _) in CATEGORIES.items():
            if rng.random() < share:
                quantity = math.ceil(households * per_household)
                totals[key] += quantity
                demand_rows.append((day, code, key, quantity))

    truck_rows, stock_rows = [], []
    for r, retailer in enumerate(RETAILERS):
        towns = depot_towns[retailer]
        for k in range(per_retailer):
            town = towns[k % len(towns)]
            lat, lon = _offset(centres[town], *rng.uniform(-1.0, 1.0, size=2))
            code = f"R{r + 1}-{k + 1:02d}"
            truck_rows.append((code, retailer, f"沪A{r + 1}{k:04d}", f"{retailer}{town + 1}号仓",
                               f"{lat:.5f}", f"{lon:.5f}", *SHIFT, MAX_STOPS))
            for key, (_, _, supply) in CATEGORIES.items():
                stock_rows.append((day, code, key, int(totals[key] * supply / fleet_size * rng.uniform(0.9, 1.1))))
    return {
        "trucks": csv_bytes(("truck_id", "retailer", "plate", "depot_name", "depot_lat", "depot_lon",
                        "shift_start", "shift_end", "max_stops"), truck_rows),
        "compounds": csv_bytes(("compound_id", "name", "town", "lat", "lon", "households", "window_start",
                           "window_end", "service_minutes", "priority"), compound_rows),
        "stock": csv_bytes(("date", "truck_id", "category", "quantity"), stock_rows),
        "demand": csv_bytes(("date", "compound_id", "category", "quantity"), demand_rows),
    }


# ---------------------------------------------------------------------------------------------
# The bench: three plans of the same day


@dataclass
class Plan:
    """One way of planning the day: the engine's problems and answers, and the wall time."""

    name: str
    parts: list[tuple[Problem, Result, int]]  # (problem, answer, compounds settled before it)
    seconds: float

    @property
    def compounds(self) -> int:
        return sum(len(p.compounds) + settled for p, _, settled in self.parts)

    @property
    def served(self) -> int:
        return sum(len(r.served_ids) for _, r, _ in self.parts)

    @property
    def travel(self) -> float:
        return sum(r.travel_minutes for _, r, _ in self.parts)

    def scarce_fill(self) -> tuple[float, float, int]:
        """Over the scarce categories: the lowest fill of a served compound, the district's
        delivered / asked, and the units the trucks bring back to their depots."""
        lowest, delivered, asked = 1.0, 0, 0
        for problem, result, _ in self.parts:
            compounds = {c.id: c for c in problem.compounds}
            for key in SCARCE:
                asked += sum(c.demand.get(key, 0) for c in problem.compounds)
            for visit in (v for route in result.routes for v in route.visits):
                for key in SCARCE:
                    delivered += visit.deliveries.get(key, 0)
                    if compounds[visit.compound_id].demand.get(key):
                        lowest = min(lowest, visit.fill.get(key, 0.0))
        back = sum(units for left in self.scarce_left().values() for units in left.values())
        return lowest, delivered / max(1, asked), back

    def scarce_left(self) -> dict[str, dict[str, int]]:
        """Per truck, the units of each scarce category it brings back (its whole load if unused)."""
        left = {}
        for problem, result, _ in self.parts:
            routes = {route.truck_id: route for route in result.routes}
            for truck in problem.trucks:
                visits = routes[truck.id].visits if truck.id in routes else ()
                left[truck.id] = {key: truck.stock.get(key, 0) - sum(v.deliveries.get(key, 0) for v in visits)
                                  for key in SCARCE}
        return left

    def scarce_short(self) -> set[str]:
        """The scarce categories of which at least one served compound got less than it asked."""
        short = set()
        for problem, result, _ in self.parts:
            compounds = {c.id: c for c in problem.compounds}
            for visit in (v for route in result.routes for v in route.visits):
                demand = compounds[visit.compound_id].demand
                short |= {key for key in SCARCE if visit.deliveries.get(key, 0) < demand.get(key, 0)}
        return short

    def back_while_short(self) -> tuple[int, int]:
        """Scarce units brought back of a category some served compound went short of (summed
        over the categories), and how many trucks bring such units back."""
        short = self.scarce_short()
        back = [sum(units for key, units in left.items() if key in short) for left in self.scarce_left().values()]
        return sum(back), sum(1 for units in back if units > 0)

    def could_have_been_handed_out(self) -> int:
        """Per scarce category, the smaller of the units brought back and the units served
        compounds lacked, district-wide, summed: what sharing the compounds out among the trucks
        otherwise could have added."""
        left = self.scarce_left().values()
        lacking = dict.fromkeys(SCARCE, 0)
        for problem, result, _ in self.parts:
            compounds = {c.id: c for c in problem.compounds}
            for visit in (v for route in result.routes for v in route.visits):
                for key in SCARCE:
                    lacking[key] += max(0, compounds[visit.compound_id].demand.get(key, 0) - visit.deliveries.get(key, 0))
        return sum(min(sum(units[key] for units in left), lacking[key]) for key in SCARCE)

    def cells(self, limit: float) -> list[str]:
        lowest, mean, back = self.scarce_fill()
        back_short, trucks = self.back_while_short()
        return [self.name, f"{self.served:,}", f"{100 * self.served / self.compounds:.1f}", f"{100 * lowest:.0f}",
                f"{100 * mean:.1f}", f"{back:,}", f"{back_short:,}", f"{trucks}",
                f"{self.could_have_been_handed_out():,}", f"{self.travel:,.0f}", f"{self.seconds:.1f} / {limit:.0f}"]


@dataclass
class RoutesOnly:
    """A plan of routes without goods (PyVRP's), judged by ``bench.day_solvers.judge``."""

    name: str
    compounds: int
    judged: Judged | None  # None: the solver is not installed
    seconds: float

    def cells(self, limit: float) -> list[str]:
        if self.judged is None:
            return [f"{self.name}: not run, pyvrp is not installed (the [bench] extra)", *["–"] * 10]
        judged = self.judged
        name = f"{self.name} (infeasible: {judged.wrong[0]})" if judged.wrong else self.name
        return [name, f"{judged.served:,}", f"{100 * judged.served / self.compounds:.1f}", *["–"] * 6,
                f"{judged.travel_minutes:,.0f}", f"{self.seconds:.1f} / {limit:.0f}"]


def throwaway_database(directory: str) -> sessionmaker:
    """A migrated SQLite database of its own, as ``foodtrucks initdb`` makes one."""
    url = f"sqlite:///{directory}/district.sqlite"
    cfg = alembic.config.Config()
    cfg.set_main_option("script_location", "trucks:alembic")
    cfg.attributes["settings"] = {"sqlalchemy.url": url}
    alembic.command.upgrade(cfg, "head")
    return get_session_factory(get_engine({"sqlalchemy.url": url}))


def _solve_each(session_factory, date: dt.date, planning: PlanningSettings, started: float) -> list:
    """Each retailer alone on the compounds its demand rows name, with a share of the limit by
    its compounds (the limit is for all of them together), as a plain ``foodtrucks solve`` does."""
    with session_factory() as session:
        days = [build_problem(session, date, r.id, planning) for r in retailers_with_demand(session, date)]
    total = sum(day.compound_count for day in days) or 1
    parts = []
    for day in days:
        left = planning.time_limit - (time.monotonic() - started)
        share = max(1.0, left * day.compound_count / total)
        total -= day.compound_count
        result = solve_day(day.problem, time_limit=share, seed=planning.seed, lp_solver=planning.solver)
        parts.append((day.problem, result, len(day.settled)))
    return parts


def run_size(compounds: int, time_limit: float, seed: int = 0) -> list[Plan | RoutesOnly]:
    planning = PlanningSettings(time_limit=time_limit, seed=seed)
    plans = []
    with tempfile.TemporaryDirectory() as directory:
        session_factory = throwaway_database(directory)
        with session_factory.begin() as session:
            import_day(session, DATE, district_files(compounds, seed))

        started = time.monotonic()
        plans.append(Plan("nearest depot", _solve_each(session_factory, DATE, planning, started),
                          time.monotonic() - started))

        started = time.monotonic()
        with session_factory.begin() as session:
            # the assignment gets a fifth of the limit; the retailers' solves the rest
            propose_assignment(session, DATE, replace(planning, time_limit=time_limit / 5))
            confirm_assignment(session, DATE, "bench")
        plans.append(Plan("assignment LP", _solve_each(session_factory, DATE, planning, started),
                          time.monotonic() - started))

        started = time.monotonic()
        with session_factory() as session:
            day = build_problem(session, DATE, None, planning)
        left = time_limit - (time.monotonic() - started)
        result = solve_day(day.problem, time_limit=max(1.0, left), seed=seed, lp_solver=planning.solver)
        plans.append(Plan("joint solve", [(day.problem, result, len(day.settled))], time.monotonic() - started))
        plans.append(_pyvrp_plan(session_factory, planning))
    return plans


def _pyvrp_plan(session_factory, planning: PlanningSettings) -> RoutesOnly:
    """PyVRP with the three fleets together, on the district's Problem, within the same limit."""
    started = time.monotonic()
    with session_factory() as session:
        day = build_problem(session, DATE, None, planning)
    compounds = len(day.problem.compounds) + len(day.settled)
    if importlib.util.find_spec("pyvrp") is None:
        return RoutesOnly("PyVRP, three fleets", compounds, None, 0.0)
    left = planning.time_limit - (time.monotonic() - started)
    routes, _ = pyvrp(day.problem, max(1.0, left), planning.seed)
    seconds = time.monotonic() - started
    return RoutesOnly("PyVRP, three fleets", compounds, judge(day.problem, routes), seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="District days: nearest depot vs assignment LP vs joint solve vs PyVRP.")
    parser.add_argument("--sizes", default="360,1000", help="compounds per day, comma-separated")
    parser.add_argument("--time-limit", default="20,60", help="seconds per size, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    limits = [float(s) for s in args.time_limit.split(",")]
    if len(limits) != len(sizes):
        parser.error("give one time limit per size")
    print(f"| compounds | plan | served | coverage % | min {'/'.join(SCARCE)} fill % | mean fill % "
          "| units brought back | units brought back while short | trucks bringing back while short "
          "| could have been handed out | travel min | seconds / limit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, limit in zip(sizes, limits):
        for plan in run_size(size, limit, args.seed):
            print(f"| {plan.compounds:,} | " + " | ".join(plan.cells(limit)) + " |", flush=True)


if __name__ == "__main__":
    main()
