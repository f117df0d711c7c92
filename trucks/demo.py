"""The demo: one lockdown day in Minhang district, Shanghai, as the four import files.

Two retailers (逸刻 of Bailian, 良友 of Bright Food) run 13 trucks from four depots to 350
sealed compounds spread over the district's towns. Households run from 200 to 3,000 (most
compounds are small), a few committees can only receive in a short window, and the day's
stock is short in dairy and eggs. Everything comes from one seeded generator, so the same
date gives the same files byte for byte; the date only fills the ``date`` columns.

The demo is loaded through ``trucks.importer`` like any planner's files. Run
``python -m trucks.demo DIR [--date YYYY-MM-DD]`` to write the CSV files for a look or a
manual ``foodtrucks import``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .spreadsheet import csv_text

SEED = 20220401

#: Minhang's bounding box; every generated place lies inside it.
LAT_RANGE = (31.00, 31.22)
LON_RANGE = (121.30, 121.55)


@dataclass(frozen=True)
class Town:
    name: str
    code: str
    lat: float
    lon: float
    compounds: int
    retailer: str


RETAILERS = ("逸刻", "良友")

TOWNS = (
    Town("七宝", "QB", 31.156, 121.352, 36, "逸刻"),
    Town("虹桥", "HQ", 31.182, 121.386, 26, "逸刻"),
    Town("华漕", "HC", 31.207, 121.310, 22, "逸刻"),
    Town("新虹", "XH", 31.196, 121.333, 18, "逸刻"),
    Town("古美", "GM", 31.148, 121.404, 32, "逸刻"),
    Town("梅陇", "ML", 31.124, 121.428, 28, "逸刻"),
    Town("莘庄", "XZ", 31.111, 121.384, 38, "良友"),
    Town("颛桥", "ZQ", 31.062, 121.410, 28, "良友"),
    Town("马桥", "MQ", 31.035, 121.362, 20, "良友"),
    Town("江川", "JC", 31.017, 121.424, 22, "良友"),
    Town("吴泾", "WJ", 31.048, 121.463, 20, "良友"),
    Town("浦江", "PJ", 31.082, 121.512, 36, "良友"),
    Town("浦锦", "PN", 31.101, 121.478, 24, "良友"),
)

# (retailer, depot name, lat, lon, trucks)
DEPOTS = (
    ("逸刻", "逸刻七宝配送站", 31.163, 121.356, 3),
    ("逸刻", "逸刻古美配送站", 31.142, 121.409, 3),
    ("良友", "良友莘庄配送中心", 31.098, 121.376, 4),
    ("良友", "良友浦江配送中心", 31.074, 121.491, 3),
)
TRUCK_PREFIX = {"逸刻": "YK", "良友": "LY"}
SHIFT = ("07:00", "19:00")
MAX_STOPS = 32

#: units per 100 households, the chance a compound orders it, and the stock loaded as a
#: share of what the retailer's compounds ask for. Each truck gets an equal part before
#: anyone knows the routes, so what is not short comes with a margin for busier routes;
#: dairy and eggs run short.
CATEGORIES = {
    "vegetables": (30, 1.0, 1.3),
    "fruit": (10, 0.8, 1.3),
    "grain_oil": (6, 0.7, 1.3),
    "rice": (8, 0.7, 1.3),
    "meat": (8, 0.8, 1.3),
    "dairy": (12, 0.9, 0.55),
    "eggs": (10, 0.9, 0.65),
    "instant_food": (6, 0.6, 1.4),
}

# Short windows some committees ask for (most take a truck any time 07:00-19:00).
RESTRICTED_WINDOWS = (("08:00", "11:00"), ("09:00", "12:00"), ("13:00", "16:30"), ("14:00", "18:00"))
RESTRICTED_SHARE = 0.08

_NAME_HEADS = ("春申", "华庭", "景城", "绿园", "锦苑", "明珠", "水岸", "丽都",
               "星城", "东兰", "莲花", "银都", "平阳", "古龙", "梅园", "曙光")
_NAME_TAILS = ("新村", "花园", "公寓", "雅苑")
_ROADS = ("沪闵", "莘松", "七莘", "虹井", "漕宝", "银都", "剑川", "龙吴", "浦星", "都市", "莲花", "顾戴")


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def csv_bytes(header: tuple[str, ...], rows: list[tuple]) -> bytes:
    return csv_text(header, rows).encode("utf-8")


def demo_files(date: dt.date) -> dict[str, bytes]:
    """trucks.csv, compounds.csv, stock.csv and demand.csv of the demo day, as UTF-8 bytes."""
    rng = np.random.default_rng(SEED)
    day = date.isoformat()

    trucks = []
    for retailer, depot, lat, lon, count in DEPOTS:
        for _ in range(count):
            code = f"{TRUCK_PREFIX[retailer]}-{sum(t[1] == retailer for t in trucks) + 1:02d}"
            plate = f"沪{'D' if retailer == '逸刻' else 'B'}{rng.integers(10000, 99999)}"
            trucks.append((code, retailer, plate, depot, f"{lat:.4f}", f"{lon:.4f}", *SHIFT, MAX_STOPS))

    compounds, demand = [], []
    wanted = {retailer: dict.fromkeys(CATEGORIES, 0) for retailer in RETAILERS}
    for town in TOWNS:
        for i in range(town.compounds):
            code = f"{town.code}{i + 1:03d}"
            name = f"{town.name}{_NAME_HEADS[i % len(_NAME_HEADS)]}{_NAME_TAILS[i // len(_NAME_HEADS)]}"
            lat = float(np.clip(town.lat + rng.normal(0, 0.009), *LAT_RANGE))
            lon = float(np.clip(town.lon + rng.normal(0, 0.011), *LON_RANGE))
            # Mostly small compounds, a few very large estates.
            households = int(np.clip(round(200 + rng.lognormal(6.1, 0.8)), 200, 3000))
            if rng.random() < RESTRICTED_SHARE:
                start, end = RESTRICTED_WINDOWS[rng.integers(len(RESTRICTED_WINDOWS))]
            else:
                start, end = SHIFT
            priority = int(rng.choice([1, 2, 3], p=[0.78, 0.15, 0.07]))
            address = f"{town.name}镇{_ROADS[rng.integers(len(_ROADS))]}路{rng.integers(1, 2000)}弄"
            contact = f"139{rng.integers(10_000_000, 99_999_999)}"
            compounds.append((code, name, town.name, f"{lat:.5f}", f"{lon:.5f}", households, start, end,
                              "", priority, address, contact))
            for key, (per_100, chance, _) in CATEGORIES.items():
                if rng.random() >= chance:
                    continue
                quantity = max(1, round(per_100 * households / 100 * rng.uniform(0.7, 1.3)))
                wanted[town.retailer][key] += quantity
                demand.append((day, code, key, quantity, town.retailer))

    stock = []
    for retailer in RETAILERS:
        fleet = [t[0] for t in trucks if t[1] == retailer]
        for key, (_, _, loaded) in CATEGORIES.items():
            per_truck = math.ceil(wanted[retailer][key] * loaded / len(fleet))
            stock += [(day, code, key, per_truck) for code in fleet]

    return {
        "trucks": csv_bytes(("truck_id", "retailer", "plate", "depot_name", "depot_lat", "depot_lon",
                        "shift_start", "shift_end", "max_stops"), trucks),
        "compounds": csv_bytes(("compound_id", "name", "town", "lat", "lon", "households", "window_start",
                           "window_end", "service_minutes", "priority", "address", "contact"), compounds),
        "stock": csv_bytes(("date", "truck_id", "category", "quantity"), stock),
        "demand": csv_bytes(("date", "compound_id", "category", "quantity", "retailer"), demand),
    }


def write_demo_files(directory: Path, date: dt.date) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in demo_files(date).items():
        paths[name] = directory / f"{name}.csv"
        paths[name].write_bytes(data)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo day's CSV files.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)
    for path in write_demo_files(args.directory, args.date).values():
        print(path)


if __name__ == "__main__":
    main()
