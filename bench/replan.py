"""Breakdown at 11:00: the busiest truck of a solved day is out of service from the cut and the
rest of the day is re-planned (``trucks.replan.replan_routes``, what ``foodtrucks replan`` runs).

    python -m bench.replan [--time-limit S] [--cut HH:MM] [--generated 4,10] [--seed 0]

Rows: each retailer of the demo day (imported into a throwaway SQLite database through the real
importer and ``build_problem``), then generated days of that many trucks (bench/days.py).
Columns: compounds the broken truck still had after the cut, how many of them another truck now
serves, how many go without today, compounds of the running trucks left out, published windows
that moved (a committee sees another quarter hour or another truck: count, mean and max
minutes), searches run (2 when compounds needed their own windows back) and seconds to re-plan.
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import alembic.command
import alembic.config
from pyramid.paster import get_appsettings
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.days import lockdown_day
from scheduling import solve_day
from trucks.demo import demo_files
from trucks.importer import import_day
from trucks.replan import replan_routes
from trucks.services import PlanningSettings, build_problem, retailers_with_demand

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATE = dt.date(2022, 4, 20)
COLUMNS = ("day", "trucks", "compounds", "served", "broken", "its later", "re-served", "not today",
           "others lost", "moved", "mean min", "max min", "searches", "seconds")


def demo_problems(time_limit: float) -> list[tuple[str, object]]:
    """The demo day's problem per retailer, built as the app builds it."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        config = alembic.config.Config(str(ROOT / "testing.ini"))
        config.attributes["settings"] = {**get_appsettings(str(ROOT / "testing.ini")), "sqlalchemy.url": url}
        alembic.command.upgrade(config, "head")
        engine = create_engine(url)
        with Session(engine) as session, session.begin():
            import_day(session, DEMO_DATE, demo_files(DEMO_DATE), user="bench")
            planning = PlanningSettings(time_limit=time_limit)
            problems = [(f"demo {r.name}", build_problem(session, DEMO_DATE, r.id, planning).problem)
                        for r in retailers_with_demand(session, DEMO_DATE)]
        engine.dispose()
    return problems


def breakdown_row(name: str, problem, *, cut: float, time_limit: float, seed: int) -> tuple:
    published = solve_day(problem, time_limit=time_limit, seed=seed)
    busiest = max(published.routes, key=lambda r: sum(v.arrival > cut for v in r.visits))
    replan = replan_routes(problem, published.routes, broken=busiest.truck_id, cut=cut,
                           time_limit=time_limit, seed=seed)
    later = len(replan.reserved) + len(replan.dropped)
    return (name, len(problem.trucks), len(problem.compounds), len(published.served_ids), busiest.truck_id, later,
            len(replan.reserved), len(replan.dropped), len(replan.unserved) - len(replan.dropped),
            len(replan.moved), f"{replan.moved_mean:.0f}", f"{replan.moved_max:.0f}", replan.searches,
            f"{replan.seconds:.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve and per re-plan")
    parser.add_argument("--cut", default="11:00", help="the breakdown time HH:MM")
    parser.add_argument("--generated", default="4,10", help="generated days' truck counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    hours, minutes = (int(part) for part in args.cut.split(":"))
    cut = hours * 60.0 + minutes
    days = demo_problems(args.time_limit)
    days += [(f"generated {n}", lockdown_day(n, seed=args.seed)) for n in map(int, args.generated.split(",")) if n]
    rows = [breakdown_row(name, problem, cut=cut, time_limit=args.time_limit, seed=args.seed)
            for name, problem in days]
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(COLUMNS)]
    print(f"breakdown at {args.cut}, time limit {args.time_limit:g} s per search")
    print("  ".join(str(c).ljust(w) for c, w in zip(COLUMNS, widths)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))


if __name__ == "__main__":
    main()
