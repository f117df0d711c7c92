"""The import contract of issue 2: every problem named by file, row, column; all or nothing."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.factories import DAY, make_csv_files, make_day
from trucks.importer import ImportFailed, import_day
from trucks.models import (Category, Compound, Demand, ImportBatch, Retailer, Stock, TravelTime,
                           Truck)


def edit(files, name, old, new, count=1):
    text = files[name].decode("utf-8")
    assert old in text, f"{old!r} not in {name}"
    files[name] = text.replace(old, new, count).encode("utf-8")
    return files


def problems_of(dbsession, files, **kwargs):
    with pytest.raises(ImportFailed) as failed:
        import_day(dbsession, DAY, files, **kwargs)
    return [(p.file, p.row, p.column, p.code) for p in failed.value.problems], failed.value.problems


def table_counts(dbsession):
    return {model.__name__: dbsession.scalar(select(func.count()).select_from(model))
            for model in (Retailer, Truck, Compound, Stock, Demand, TravelTime, ImportBatch, Category)}


def test_good_files_import_the_day(dbsession):
    batch = import_day(dbsession, DAY, make_csv_files(), user="tester")
    assert batch.counts["trucks"] == 2 and batch.counts["compounds"] == 8
    assert batch.counts["stock"] == 6 and batch.counts["demand"] == 24
    assert batch.notes == [] and batch.created_by == "tester"
    retailer = dbsession.scalar(select(Retailer).where(Retailer.name == "逸刻"))
    assert batch.retailer_id == retailer.id
    truck = dbsession.scalar(select(Truck).where(Truck.code == "A-T1"))
    assert (truck.shift_start, truck.shift_end, truck.max_stops) == (420, 1140, 10)
    compound = dbsession.scalar(select(Compound).where(Compound.code == "A-C04"))
    assert (compound.window_start, compound.window_end, compound.priority) == (540, 720, 3)
    assert compound.service_minutes is None and compound.contact == "13800000004"
    assert len(compound.access_token) >= 20
    demand = dbsession.scalars(select(Demand).where(Demand.compound_id == compound.id)).all()
    assert {d.category_key: d.quantity for d in demand} == {"vegetables": 69, "dairy": 46, "eggs": 23}
    assert {d.retailer_id for d in demand} == {retailer.id}


def test_utf8_bom_is_accepted(dbsession):
    files = make_csv_files()
    files["trucks"] = b"\xef\xbb\xbf" + files["trucks"]
    assert import_day(dbsession, DAY, files).counts["trucks"] == 2


def test_wrong_encoding_is_named_and_nothing_changes(dbsession):
    before = table_counts(dbsession)
    files = make_csv_files()
    files["compounds"] = files["compounds"].decode("utf-8").encode("gb18030")
    found, problems = problems_of(dbsession, files)
    assert found == [("compounds.csv", 2, None, "encoding")]
    assert "UTF-8" in problems[0].reason and "UTF-8" in problems[0].message("zh")
    assert table_counts(dbsession) == before


def test_missing_columns_are_each_named(dbsession):
    files = edit(make_csv_files(), "stock", "date,truck_id,category,quantity", "day,truck_id,category,qty")
    found, _ = problems_of(dbsession, files)
    assert found == [("stock.csv", 1, "date", "missing_column"), ("stock.csv", 1, "quantity", "missing_column")]


def test_empty_and_missing_files(dbsession):
    files = make_csv_files()
    files["demand"] = b""
    del files["stock"]
    found, _ = problems_of(dbsession, files)
    assert found == [("stock.csv", None, None, "missing_file"), ("demand.csv", None, None, "empty_file")]


def test_duplicate_ids(dbsession):
    files = make_csv_files()
    edit(files, "trucks", "A-T2,", "A-T1,")
    edit(files, "compounds", "A-C03,", "A-C02,")
    edit(files, "demand", f"{DAY},A-C05,dairy", f"{DAY},A-C05,vegetables")
    found, problems = problems_of(dbsession, files)
    assert ("trucks.csv", 3, "truck_id", "duplicate") in found
    assert ("compounds.csv", 4, "compound_id", "duplicate") in found
    assert ("demand.csv", 15, "category", "duplicate") in found
    assert "first on row 2" in next(p for p in problems if p.file == "trucks.csv").reason


def test_every_problem_is_reported_not_just_the_first(dbsession):
    files = make_csv_files()
    edit(files, "trucks", "07:00,19:00,10", "7h,19:00,-1")
    edit(files, "compounds", "31.1082,121.3921,1250", "91.5,121.3921,many")
    edit(files, "stock", f"{DAY},A-T1,vegetables,", f"{DAY},A-T1,vegetables,x")
    found, _ = problems_of(dbsession, files)
    assert found == [
        ("trucks.csv", 2, "shift_start", "bad_time"),
        ("trucks.csv", 2, "max_stops", "negative"),
        ("compounds.csv", 3, "lat", "out_of_range"),
        ("compounds.csv", 3, "households", "not_integer"),
        ("stock.csv", 2, "quantity", "not_integer"),
    ]


def test_unknown_truck_in_stock(dbsession):
    files = edit(make_csv_files(), "stock", f"{DAY},A-T2,eggs", f"{DAY},Z-T9,eggs")
    found, problems = problems_of(dbsession, files)
    assert found == [("stock.csv", 7, "truck_id", "unknown_truck")]
    assert "Z-T9" in problems[0].reason


def test_unknown_compound_in_demand(dbsession):
    files = edit(make_csv_files(), "demand", f"{DAY},A-C08,eggs", f"{DAY},A-C99,eggs")
    found, _ = problems_of(dbsession, files)
    assert found == [("demand.csv", 25, "compound_id", "unknown_compound")]


def test_ids_known_from_the_database_need_no_new_rows(dbsession):
    make_day(dbsession)
    files = make_csv_files()
    edit(files, "stock", f"{DAY},A-T1,vegetables,", f"{DAY},A-T1,vegetables,1")
    batch = import_day(dbsession, DAY, {"stock": files["stock"], "demand": files["demand"]})
    assert batch.counts["trucks"] == 0 and batch.counts["stock"] == 6


def test_coordinates_out_of_range(dbsession):
    files = make_csv_files()
    edit(files, "trucks", "31.1110,121.3820", "31.1110,181.0")
    edit(files, "compounds", "31.1160,121.3790", "-95,121.3790")
    found, _ = problems_of(dbsession, files)
    assert found == [("trucks.csv", 2, "depot_lon", "out_of_range"), ("compounds.csv", 2, "lat", "out_of_range")]


def test_swapped_latitude_and_longitude_is_caught_as_far_away(dbsession):
    files = edit(make_csv_files(), "compounds", "31.1255,121.3702", "21.3702,31.1255")
    found, problems = problems_of(dbsession, files)
    assert found == [("compounds.csv", 4, "lat", "far_away")]
    assert "swapped" in problems[0].reason


def test_negative_and_non_numeric_quantities_and_households(dbsession):
    files = make_csv_files()
    edit(files, "stock", f"{DAY},A-T1,dairy,", f"{DAY},A-T1,dairy,-")
    edit(files, "demand", f"{DAY},A-C01,eggs,5", f"{DAY},A-C01,eggs,five")
    edit(files, "demand", f"{DAY},A-C02,eggs,13", f"{DAY},A-C02,eggs,2.5")
    edit(files, "compounds", ",420,", ",-420,")
    found, _ = problems_of(dbsession, files)
    assert found == [
        ("compounds.csv", 2, "households", "too_small"),
        ("stock.csv", 3, "quantity", "negative"),
        ("demand.csv", 4, "quantity", "not_integer"),
        ("demand.csv", 7, "quantity", "not_integer"),
    ]


def test_bad_times_and_windows_that_end_before_they_start(dbsession):
    files = make_csv_files()
    edit(files, "trucks", "07:00,19:00", "19:00,07:00")
    edit(files, "compounds", "09:00,12:00", "12:00,09:00")
    edit(files, "compounds", "13:00,17:00", "13:00,17:75")
    found, problems = problems_of(dbsession, files)
    assert found == [
        ("trucks.csv", 2, "shift_end", "ends_before_start"),
        ("compounds.csv", 5, "window_end", "ends_before_start"),
        ("compounds.csv", 7, "window_end", "bad_time"),
    ]
    assert problems[1].reason == "ends at 09:00, not after it starts at 12:00"


def test_priority_outside_one_to_three(dbsession):
    files = edit(make_csv_files(), "compounds", ",,3,", ",,4,")
    found, _ = problems_of(dbsession, files)
    assert found == [("compounds.csv", 5, "priority", "out_of_range")]


def test_rows_of_another_date(dbsession):
    files = make_csv_files()
    edit(files, "stock", f"{DAY},A-T2,dairy", f"{DAY + dt.timedelta(days=1)},A-T2,dairy")
    edit(files, "demand", f"{DAY},A-C03,eggs", "20.4.2022,A-C03,eggs")
    found, _ = problems_of(dbsession, files)
    assert found == [("stock.csv", 6, "date", "wrong_date"), ("demand.csv", 10, "date", "bad_date")]


def test_unknown_category_is_created_with_its_key_as_names(dbsession):
    files = make_csv_files()
    edit(files, "stock", f"{DAY},A-T1,eggs", f"{DAY},A-T1,masks")
    edit(files, "demand", f"{DAY},A-C01,eggs", f"{DAY},A-C01,masks")
    batch = import_day(dbsession, DAY, files)
    masks = dbsession.get(Category, "masks")
    assert (masks.name_zh, masks.name_en) == ("masks", "masks")
    assert batch.counts["new_categories"] == ["masks"]
    assert dbsession.get(Category, "eggs").name_zh == "禽蛋"


def test_a_bad_file_changes_nothing_even_on_reimport(dbsession):
    make_day(dbsession)
    before = table_counts(dbsession)
    tokens = dict(dbsession.execute(select(Compound.code, Compound.access_token)).all())
    files = make_csv_files()
    edit(files, "compounds", "A测试小区1", "改名小区")
    edit(files, "demand", f"{DAY},A-C08,eggs,10", f"{DAY},A-C08,eggs,-10")
    problems_of(dbsession, files)
    assert table_counts(dbsession) == before
    assert dbsession.scalar(select(Compound.name).where(Compound.code == "A-C01")) == "A测试小区1"
    assert dict(dbsession.execute(select(Compound.code, Compound.access_token)).all()) == tokens


def test_reimport_replaces_stock_and_demand_and_keeps_committee_links(dbsession):
    day = make_day(dbsession)
    token = day.compounds[0].access_token
    files = make_csv_files()
    edit(files, "compounds", "A测试小区1", "新名小区")
    lines = files["demand"].decode().splitlines()
    files["demand"] = ("\n".join(line for line in lines if ",A-C08," not in line) + "\n").encode()
    import_day(dbsession, DAY, files)
    dbsession.expire_all()
    compound = dbsession.scalar(select(Compound).where(Compound.code == "A-C01"))
    assert compound.name == "新名小区" and compound.access_token == token
    assert dbsession.scalar(select(func.count()).select_from(Demand)) == 21
    assert dbsession.scalar(select(func.count()).select_from(Stock)) == 6


def test_retailer_column_and_nearest_depot_assignment(dbsession):
    files = make_csv_files()
    far_fleet = ("B-T1,良友,沪B0001,良友浦江仓,31.0600,121.5000,07:00,19:00,30\n")
    files["trucks"] += far_fleet.encode()
    files["stock"] += f"{DAY},B-T1,vegetables,100\n".encode()
    batch = import_day(dbsession, DAY, files)
    assert batch.retailer_id is None and batch.counts["trucks"] == 3
    assert "8 compounds assigned to the retailer of their nearest depot: 逸刻 8" in batch.notes[0]
    parts = {dbsession.get(Retailer, b.retailer_id).name: b
             for b in dbsession.scalars(select(ImportBatch).where(ImportBatch.id != batch.id))}
    assert {name: (b.counts["trucks"], b.counts["stock"], b.counts["demand_compounds"], len(b.notes))
            for name, b in parts.items()} == {"逸刻": (2, 6, 8, 1), "良友": (1, 1, 0, 0)}
    edit(files, "demand", "date,compound_id,category,quantity", "date,compound_id,category,quantity,retailer")
    text = files["demand"].decode().splitlines()
    files["demand"] = ("\n".join([text[0]] + [line + (",良友" if ",A-C01," in line else ",") for line in text[1:]]) + "\n").encode()
    batch = import_day(dbsession, DAY, files)
    assert batch.notes == ["7 个小区按最近的仓库分配给零售商：逸刻 7 / 7 compounds assigned to the retailer of their nearest depot: 逸刻 7"]
    suppliers = dict(dbsession.execute(
        select(Compound.code, Retailer.name).join(Demand, Demand.compound_id == Compound.id)
        .join(Retailer, Retailer.id == Demand.retailer_id).where(Demand.category_key == "eggs")).all())
    assert suppliers["A-C01"] == "良友" and suppliers["A-C02"] == "逸刻"


def test_unknown_retailer_in_demand(dbsession):
    files = edit(make_csv_files(), "demand", "date,compound_id,category,quantity", "date,compound_id,category,quantity,retailer")
    edit(files, "demand", "eggs,5\n", "eggs,5,无名超市\n")
    found, _ = problems_of(dbsession, files)
    assert found == [("demand.csv", 4, "retailer", "unknown_retailer")]


def test_planners_import_is_limited_to_their_retailer(dbsession):
    make_day(dbsession, retailer_name="良友", prefix="B")
    own = make_day(dbsession, retailer_name="逸刻", prefix="A").retailer
    files = make_csv_files()
    files["trucks"] += "B-T1,良友,沪B0001,良友仓,31.1,121.4,07:00,19:00,30\nX-T1,良友,沪B0002,良友仓,31.1,121.4,07:00,19:00,30\n".encode()
    files["stock"] += f"{DAY},B-T2,eggs,5\n".encode()
    files["demand"] += f"{DAY},B-C01,fruit,5\n".encode()
    found, problems = problems_of(dbsession, files, retailer_id=own.id)
    assert found == [
        ("trucks.csv", 4, "retailer", "other_retailer"),
        ("trucks.csv", 4, "truck_id", "other_retailer"),
        ("trucks.csv", 5, "retailer", "other_retailer"),
        ("stock.csv", 8, "truck_id", "other_retailer"),
        ("demand.csv", 26, "compound_id", "supplied_by_other"),
    ]
    assert problems[0].reason == "belongs to another retailer: you may import only your own retailer's data"
    batch = import_day(dbsession, DAY, make_csv_files(), retailer_id=own.id, user="planner")
    assert batch.retailer_id == own.id


def test_travel_matrix_is_checked_and_stored(dbsession):
    files = make_csv_files()
    files["travel"] = "from_id,to_id,minutes\nA-T1,A-C01,7.5\nA-C01,A-C02,-3\nA-C01,nowhere,4\nA-T1,A-C01,8\n".encode()
    found, _ = problems_of(dbsession, files)
    assert found == [
        ("travel.csv", 3, "minutes", "negative"),
        ("travel.csv", 5, "to_id", "duplicate"),
        ("travel.csv", 4, "to_id", "unknown_place"),
    ]
    files["travel"] = "from_id,to_id,minutes\nA-T1,A-C01,7.5\nA-C01,A-C02,3\n".encode()
    assert import_day(dbsession, DAY, files).counts["travel"] == 2
    assert dbsession.scalar(select(TravelTime.minutes).where(TravelTime.to_code == "A-C01")) == 7.5


def test_one_compound_named_with_two_retailers(dbsession):
    files = make_csv_files()
    files["trucks"] += "B-T1,良友,沪B0001,良友仓,31.1,121.4,07:00,19:00,30\n".encode()
    lines = files["demand"].decode().splitlines()
    rows = [lines[0] + ",retailer"] + [line + ",逸刻" for line in lines[1:]]
    rows[3] = rows[3].replace(",逸刻", ",良友")  # A-C01's eggs
    files["demand"] = ("\n".join(rows) + "\n").encode()
    found, problems = problems_of(dbsession, files)
    assert found == [("demand.csv", 4, "retailer", "conflicting_retailer")]
    assert problems[0].reason == "row 2 has it supplied by another retailer; one retailer supplies a compound"


def test_demand_without_any_truck_cannot_be_assigned(dbsession):
    make_day(dbsession)
    files = make_csv_files()
    found, _ = problems_of(dbsession, {"compounds": files["compounds"], "stock": b"date,truck_id,category,quantity\n",
                                       "demand": files["demand"]})
    assert found[0] == ("demand.csv", 2, "compound_id", "no_retailer")
    assert len(found) == 8  # once per compound


def test_row_with_more_values_than_columns(dbsession):
    files = edit(make_csv_files(), "stock", f"{DAY},A-T1,dairy,", f"{DAY},A-T1,dairy,5,")
    edit(files, "stock", ",dairy,5,", ",dairy,5,extra,")
    found, problems = problems_of(dbsession, files)
    assert found == [("stock.csv", 3, None, "extra_values")]
    assert str(problems[0]) == "stock.csv:3:: row has more values than the header has columns"


CHECKED_CELLS = [
    ("trucks", column) for column in
    ("depot_lat", "depot_lon", "shift_start", "shift_end", "max_stops")
] + [
    ("compounds", column) for column in
    ("lat", "lon", "households", "window_start", "window_end", "service_minutes", "priority")
] + [("stock", "date"), ("stock", "quantity"), ("demand", "date"), ("demand", "quantity")]


@pytest.mark.parametrize("name,column", CHECKED_CELLS)
def test_any_checked_cell_spoiled_is_named_exactly(dbsession, name, column):
    files = make_csv_files()
    lines = files[name].decode("utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(column)] = "?!"
    lines[2] = ",".join(cells)
    files[name] = ("\n".join(lines) + "\n").encode("utf-8")
    found, problems = problems_of(dbsession, files)
    assert [(f, r, c) for f, r, c, _ in found] == [(f"{name}.csv", 3, column)]
    assert "?!" in problems[0].reason and "?!" in problems[0].message("zh")
