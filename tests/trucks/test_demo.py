"""The demo day: deterministic, the promised size and shape, and importable as it is."""
import csv
import datetime as dt
import io
from collections import Counter, defaultdict

import pytest

from trucks.demo import LAT_RANGE, LON_RANGE, TOWNS, demo_files
from trucks.importer import import_day

DAY = dt.date(2022, 4, 20)


def rows(files, name):
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


@pytest.fixture(scope="module")
def files():
    return demo_files(DAY)


def test_same_date_same_bytes_and_the_date_only_fills_date_columns(files):
    assert demo_files(DAY) == files
    other = demo_files(DAY + dt.timedelta(days=1))
    assert other["compounds"] == files["compounds"] and other["trucks"] == files["trucks"]
    assert other["demand"] == files["demand"].replace(b"2022-04-20", b"2022-04-21")


def test_two_retailers_thirteen_trucks_350_compounds_over_minhang_towns(files):
    trucks, compounds = rows(files, "trucks"), rows(files, "compounds")
    assert Counter(t["retailer"] for t in trucks) == {"逸刻": 6, "良友": 7}
    assert len(compounds) == 350 and len({c["compound_id"] for c in compounds}) == 350
    assert {c["town"] for c in compounds} == {t.name for t in TOWNS}
    assert {"七宝", "莘庄", "马桥", "颛桥", "江川", "吴泾", "浦江", "梅陇", "古美", "虹桥", "华漕", "新虹", "浦锦"} <= {
        c["town"] for c in compounds}
    for place in compounds:
        assert LAT_RANGE[0] <= float(place["lat"]) <= LAT_RANGE[1]
        assert LON_RANGE[0] <= float(place["lon"]) <= LON_RANGE[1]
    for truck in trucks:
        assert LAT_RANGE[0] <= float(truck["depot_lat"]) <= LAT_RANGE[1]
    households = [int(c["households"]) for c in compounds]
    assert min(households) >= 200 and max(households) <= 3000
    assert sum(h > 2000 for h in households) >= 10 and sum(h < 500 for h in households) >= 50
    restricted = [c for c in compounds if (c["window_start"], c["window_end"]) != ("07:00", "19:00")]
    assert 10 <= len(restricted) <= 50
    assert {c["priority"] for c in compounds} == {"1", "2", "3"}


def test_stock_is_short_in_dairy_and_eggs_only(files):
    retailer_of = {t["truck_id"]: t["retailer"] for t in rows(files, "trucks")}
    stock, demand = defaultdict(int), defaultdict(int)
    for row in rows(files, "stock"):
        stock[retailer_of[row["truck_id"]], row["category"]] += int(row["quantity"])
    for row in rows(files, "demand"):
        demand[row["retailer"], row["category"]] += int(row["quantity"])
    ratio = {key: stock[key] / demand[key] for key in demand}
    short = {key for key, value in ratio.items() if value < 0.9}
    assert short == {(r, c) for r in ("逸刻", "良友") for c in ("dairy", "eggs")}


def test_the_demo_imports_without_a_problem(dbsession, files):
    batch = import_day(dbsession, DAY, files, user="demo")
    assert batch.counts["trucks"] == 13 and batch.counts["demand_compounds"] == 350
    assert batch.notes == [] and batch.counts["new_categories"] == []
