"""Issue 11: a planner's import changes only their retailer's trucks, stock, the demand of the
compounds it supplies and travel between its own places; compounds are the coordinator's."""
import pytest
from sqlalchemy import func, select

from tests.factories import DAY, make_csv_files, make_day
from trucks.importer import ImportFailed, import_day
from trucks.models import Compound, Demand, TravelTime

OTHER = "良友"


@pytest.fixture
def two_retailers(dbsession):
    """Retailer B (良友, codes B-*) and retailer A (逸刻, codes A-*) with their days imported."""
    other = make_day(dbsession, retailer_name=OTHER, prefix="B")
    own = make_day(dbsession, retailer_name="逸刻", prefix="A")
    return own.retailer, other.retailer


def refused(dbsession, files, retailer):
    with pytest.raises(ImportFailed) as failed:
        import_day(dbsession, DAY, files, retailer_id=retailer.id, user="planner-a")
    problems = failed.value.problems
    for problem in problems:  # never a word about another retailer
        assert OTHER not in problem.message("zh") and OTHER not in problem.message("en")
    return [(p.file, p.row, p.column, p.code) for p in problems]


def demand_of(dbsession, retailer):
    return dbsession.scalar(select(func.sum(Demand.quantity)).where(Demand.retailer_id == retailer.id))


def with_retailer_column(files, name):
    lines = files["demand"].decode().splitlines()
    files["demand"] = ("\n".join([lines[0] + ",retailer"] + [f"{line},{name}" for line in lines[1:]]) + "\n").encode()
    return files


def test_demand_for_a_compound_another_retailer_supplies_is_refused_and_kept(dbsession, two_retailers):
    """The issue's attack: the retailer column says A, A's own stock beside it; B's rows stay."""
    own, other = two_retailers
    before = dict(dbsession.execute(
        select(Demand.category_key, Demand.quantity).join(Compound).where(Compound.code == "B-C01")).all())
    files = with_retailer_column(make_csv_files(), "逸刻")
    files["demand"] += f"{DAY},B-C01,vegetables,99,逸刻\n".encode()
    assert refused(dbsession, files, own) == [("demand.csv", 26, "compound_id", "supplied_by_other")]
    after = dict(dbsession.execute(
        select(Demand.category_key, Demand.quantity).join(Compound).where(
            Compound.code == "B-C01", Demand.retailer_id == other.id)).all())
    assert after == before and len(after) == 3


def test_a_planners_import_deletes_no_demand_of_another_retailer(dbsession, two_retailers):
    own, other = two_retailers
    total = demand_of(dbsession, other)
    import_day(dbsession, DAY, make_csv_files(), retailer_id=own.id, user="planner-a")
    assert demand_of(dbsession, other) == total


def test_demand_naming_another_retailer_is_refused_without_saying_which_exist(dbsession, two_retailers):
    own, _ = two_retailers
    files = with_retailer_column(make_csv_files(), "逸刻")
    edit_line = f"{DAY},A-C01,eggs,5,逸刻"
    answers = []
    for name in (OTHER, "无名超市"):  # an existing and an unknown retailer answer alike
        changed = dict(files, demand=files["demand"].replace(edit_line.encode(), edit_line.replace("逸刻", name).encode()))
        answers.append(refused(dbsession, changed, own))
    assert answers[0] == answers[1] == [("demand.csv", 4, "retailer", "other_retailer"),
                                        ("demand.csv", 4, "retailer", "conflicting_retailer")]


def test_a_planner_cannot_change_a_known_compound(dbsession, two_retailers):
    own, _ = two_retailers
    files = make_csv_files()
    text = files["compounds"].decode()
    text = text.replace("A测试小区1,莘庄,31.1160", "改名小区,莘庄,31.2160").replace("13800000002", "13999999999")
    text += "B-C01,B测试小区1,莘庄,31.1160,121.3790,420,07:00,19:00,,3,莘庄镇测试路1号,110\n"
    files["compounds"] = text.encode()
    assert sorted(refused(dbsession, files, own)) == [
        ("compounds.csv", 2, "lat", "compound_master_data"),
        ("compounds.csv", 2, "name", "compound_master_data"),
        ("compounds.csv", 3, "contact", "compound_master_data"),
        ("compounds.csv", 10, "contact", "compound_master_data"),
        ("compounds.csv", 10, "priority", "compound_master_data"),
    ]
    b_c01 = dbsession.scalar(select(Compound).where(Compound.code == "B-C01"))
    assert (b_c01.contact, b_c01.priority) == ("13800000001", 1)
    # the same rows unchanged are fine (a planner may send the file they were given)
    import_day(dbsession, DAY, make_csv_files(), retailer_id=own.id, user="planner-a")


def test_the_admin_still_changes_compounds(dbsession, two_retailers):
    files = make_csv_files(retailer_name=OTHER, prefix="B")
    files["compounds"] = files["compounds"].replace(b"13800000001", b"021-5555")
    import_day(dbsession, DAY, files)
    assert dbsession.scalar(select(Compound.contact).where(Compound.code == "B-C01")) == "021-5555"


def test_a_planner_adds_a_new_compound_only_for_their_own_demand(dbsession, two_retailers):
    own, _ = two_retailers
    files = make_csv_files()
    files["compounds"] += "A-C09,新小区,莘庄,31.1100,121.3800,300,07:00,19:00,,1,,\n".encode()
    assert refused(dbsession, files, own) == [("compounds.csv", 10, "compound_id", "compound_without_demand")]
    files["demand"] += f"{DAY},A-C09,eggs,3\n".encode()
    import_day(dbsession, DAY, files, retailer_id=own.id, user="planner-a")
    assert dbsession.scalar(select(Compound.name).where(Compound.code == "A-C09")) == "新小区"


def test_travel_only_between_a_planners_own_places(dbsession, two_retailers):
    own, _ = two_retailers
    import_day(dbsession, DAY, {**make_csv_files(retailer_name=OTHER, prefix="B"),
                                "travel": b"from_id,to_id,minutes\nB-T1,B-C01,9\n"})
    files = make_csv_files()
    files["travel"] = b"from_id,to_id,minutes\nA-T1,A-C01,7\nB-T1,A-C01,1\nA-C02,B-C01,1\nB-T1,B-C01,1\n"
    assert refused(dbsession, files, own) == [
        ("travel.csv", 3, "from_id", "travel_not_own"),
        ("travel.csv", 4, "to_id", "travel_not_own"),
        ("travel.csv", 5, "from_id", "travel_not_own"),
        ("travel.csv", 5, "to_id", "travel_not_own"),
    ]
    files["travel"] = b"from_id,to_id,minutes\nA-T1,A-C01,7\nA-C01,A-C02,3\n"
    import_day(dbsession, DAY, files, retailer_id=own.id, user="planner-a")
    travel = dict(dbsession.execute(select(TravelTime.from_code + ">" + TravelTime.to_code, TravelTime.minutes)).all())
    assert travel == {"B-T1>B-C01": 9, "A-T1>A-C01": 7, "A-C01>A-C02": 3}


def test_stock_and_trucks_of_another_retailer_are_refused_without_its_name(dbsession, two_retailers):
    own, _ = two_retailers
    files = make_csv_files()
    files["trucks"] += f"B-T1,逸刻,沪B0001,仓,31.1110,121.3820,07:00,19:00,30\n".encode()
    files["stock"] += f"{DAY},B-T2,eggs,5\n".encode()
    assert refused(dbsession, files, own) == [
        ("trucks.csv", 4, "truck_id", "other_retailer"),
        ("stock.csv", 8, "truck_id", "other_retailer"),
    ]
