"""Small days built straight in a session, for tests of every package.

``make_day`` imports (through the real importer) one retailer with two trucks and eight
compounds around Xinzhuang (Minhang), stock short in dairy and eggs, and demand for every
compound; ``make_csv_files`` gives the same day as CSV files.
Codes carry ``prefix`` so that several days (or retailers) can share one database.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trucks.accounts import create_user
from trucks.importer import import_day
from trucks.models import Compound, Retailer, Truck, User

DAY = dt.date(2022, 4, 20)
PASSWORD = "correct horse battery"

# (lat, lon, households, window_start, window_end, priority), 2-4 km around the depot.
_COMPOUNDS = [
    (31.1160, 121.3790, 420, 7 * 60, 19 * 60, 1),
    (31.1082, 121.3921, 1250, 7 * 60, 19 * 60, 2),
    (31.1255, 121.3702, 800, 7 * 60, 19 * 60, 1),
    (31.0990, 121.3745, 2300, 9 * 60, 12 * 60, 3),
    (31.1203, 121.3995, 600, 7 * 60, 19 * 60, 1),
    (31.1301, 121.3868, 350, 13 * 60, 17 * 60, 1),
    (31.1047, 121.3610, 1800, 7 * 60, 19 * 60, 2),
    (31.0931, 121.3890, 950, 7 * 60, 19 * 60, 1),
]


@dataclass
class Day:
    date: dt.date
    retailer: Retailer
    trucks: list[Truck]
    compounds: list[Compound]


def make_retailer(dbsession: Session, name: str) -> Retailer:
    """The retailer of that name, created when it does not exist yet."""
    retailer = dbsession.scalar(select(Retailer).where(Retailer.name == name))
    if retailer is None:
        retailer = Retailer(name=name)
        dbsession.add(retailer)
        dbsession.flush()
    return retailer


def make_day(
    dbsession: Session,
    *,
    date: dt.date = DAY,
    retailer_name: str = "逸刻",
    prefix: str = "A",
    n_compounds: int = 8,
) -> Day:
    """A tiny solvable day: 2 trucks (07:00-19:00, 10 stops max) and ``n_compounds`` (<= 8)
    compounds, each wanting vegetables, dairy and eggs; the trucks carry all the vegetables
    asked for but only about half the dairy and eggs."""
    files = make_csv_files(date=date, retailer_name=retailer_name, prefix=prefix)
    if n_compounds < len(_COMPOUNDS):
        kept = tuple(f"{prefix}-C{i:02d}," for i in range(1, n_compounds + 1))
        for name, column in (("compounds", 0), ("demand", 1)):
            lines = files[name].decode("utf-8").splitlines()
            lines[1:] = [line for line in lines[1:] if line.split(",")[column] + "," in kept]
            files[name] = ("\n".join(lines) + "\n").encode("utf-8")
    import_day(dbsession, date, files)
    retailer = dbsession.scalar(select(Retailer).where(Retailer.name == retailer_name))
    trucks = list(dbsession.scalars(select(Truck).where(Truck.code.startswith(f"{prefix}-T")).order_by(Truck.code)))
    compounds = list(dbsession.scalars(
        select(Compound).where(Compound.code.startswith(f"{prefix}-C")).order_by(Compound.code)))
    return Day(date=date, retailer=retailer, trucks=trucks, compounds=compounds)


def make_user(
    dbsession: Session,
    role: str,
    *,
    username: str | None = None,
    password: str = PASSWORD,
    retailer: Retailer | None = None,
    truck: Truck | None = None,
) -> User:
    """An account through ``trucks.accounts.create_user``; the password is ``PASSWORD``."""
    name = username or f"{role}-{retailer.name if retailer else ''}{truck.code if truck else ''}"
    return create_user(dbsession, name, password, role, retailer=retailer, truck=truck)


def make_csv_files(*, date: dt.date = DAY, retailer_name: str = "逸刻", prefix: str = "A") -> dict[str, bytes]:
    """The same tiny day as ``make_day`` as the four import files (UTF-8 CSV), keyed as
    ``trucks.importer.import_day`` takes them; tests edit the text to break one thing."""
    day = date.isoformat()
    trucks = ["truck_id,retailer,plate,depot_name,depot_lat,depot_lon,shift_start,shift_end,max_stops"]
    trucks += [f"{prefix}-T{i},{retailer_name},沪A{prefix}{i:04d},{retailer_name}莘庄仓,31.1110,121.3820,07:00,19:00,10"
               for i in (1, 2)]
    compounds = ["compound_id,name,town,lat,lon,households,window_start,window_end,service_minutes,priority,address,contact"]
    demand = ["date,compound_id,category,quantity"]
    wanted = {"vegetables": 0, "dairy": 0, "eggs": 0}
    for i, (lat, lon, households, start, end, priority) in enumerate(_COMPOUNDS, 1):
        code = f"{prefix}-C{i:02d}"
        compounds.append(f"{code},{prefix}测试小区{i},莘庄,{lat:.4f},{lon:.4f},{households},"
                         f"{start // 60:02d}:{start % 60:02d},{end // 60:02d}:{end % 60:02d},,{priority},"
                         f"莘庄镇测试路{i}号,1380000{i:04d}")
        per_100 = -(-households // 100)
        for key, quantity in {"vegetables": 3 * per_100, "dairy": 2 * per_100, "eggs": per_100}.items():
            wanted[key] += quantity
            demand.append(f"{day},{code},{key},{quantity}")
    stock = ["date,truck_id,category,quantity"]
    share = {"vegetables": 1.0, "dairy": 0.5, "eggs": 0.5}
    for i in (1, 2):
        stock += [f"{day},{prefix}-T{i},{key},{int(total * share[key] / 2) + 1}" for key, total in wanted.items()]
    return {name: ("\n".join(lines) + "\n").encode("utf-8")
            for name, lines in (("trucks", trucks), ("compounds", compounds), ("stock", stock), ("demand", demand))}
