"""Small days built straight in a session, for tests of every package.

``make_day`` creates one retailer with two trucks and eight compounds around Xinzhuang
(Minhang), stock short in dairy and eggs, and demand for every compound, then flushes.
Codes carry ``prefix`` so that several days (or retailers) can share one database.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trucks.accounts import create_user
from trucks.importer import new_access_token
from trucks.models import Compound, Demand, Retailer, Stock, Truck, User

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
    retailer = make_retailer(dbsession, retailer_name)
    trucks = [
        Truck(
            code=f"{prefix}-T{i}",
            retailer=retailer,
            plate=f"沪A{prefix}{i:04d}",
            depot_name=f"{retailer_name}莘庄仓",
            depot_lat=31.1110,
            depot_lon=121.3820,
            shift_start=7 * 60,
            shift_end=19 * 60,
            max_stops=10,
        )
        for i in (1, 2)
    ]
    compounds = [
        Compound(
            code=f"{prefix}-C{i:02d}",
            name=f"{prefix}测试小区{i}",
            town="莘庄",
            address=f"莘庄镇测试路{i}号",
            contact=f"1380000{i:04d}",
            lat=lat,
            lon=lon,
            households=households,
            window_start=start,
            window_end=end,
            service_minutes=None,
            priority=priority,
            access_token=new_access_token(),
        )
        for i, (lat, lon, households, start, end, priority) in enumerate(_COMPOUNDS[:n_compounds], 1)
    ]
    dbsession.add_all(trucks + compounds)
    dbsession.flush()
    wanted = {"vegetables": 0, "dairy": 0, "eggs": 0}
    for compound in compounds:
        per_100 = -(-compound.households // 100)
        order = {"vegetables": 3 * per_100, "dairy": 2 * per_100, "eggs": per_100}
        for key, quantity in order.items():
            wanted[key] += quantity
            dbsession.add(
                Demand(date=date, compound=compound, retailer=retailer, category_key=key, quantity=quantity)
            )
    share = {"vegetables": 1.0, "dairy": 0.5, "eggs": 0.5}
    for truck in trucks:
        for key, total in wanted.items():
            dbsession.add(
                Stock(date=date, truck=truck, category_key=key, quantity=int(total * share[key] / len(trucks)) + 1)
            )
    dbsession.flush()
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
