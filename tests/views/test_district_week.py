"""The coordinator's week through the real app: every retailer's compounds, their days served and
missed as the stored (published) schedules say, the day's totals, the filters, the CSV; a
planner is refused."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from tests.factories import DAY, make_day, make_user
from tests.fieldday import make_schedule
from tests.views.planner_helpers import login, table_rows
from trucks.models import Role, ScheduleRoute, ScheduleStop
from trucks.publishing import publish

FIRST, SECOND = DAY, DAY + dt.timedelta(days=1)
URL = f"/district/{SECOND.isoformat()}/week"
STOP = ("10:00", "10:00", "10:20")


def published(dbsession, day, served: list[int], unserved: dict[int, str], dairy: dict[int, float] | None = None):
    """The day's plan as a published version: ``served`` compounds (by index) on the first truck,
    the others unserved with their reason; ``dairy`` sets a served compound's dairy fill."""
    schedule = make_schedule(dbsession, day, {0: [(i, *STOP) for i in served]}, unserved)
    for stop, index in zip(schedule.routes[0].stops, served):
        if dairy and index in dairy:
            stop.fill = dict(stop.fill, dairy=dairy[index])
    dbsession.flush()
    publish(dbsession, schedule, "planner")
    return schedule


@pytest.fixture
def week(dbsession):
    """Two retailers over two days. 逸刻's C03 is missed on day 1 and served on day 2, C05 is
    missed both days, C06 refuses day 1; 联华's C01 is missed on day 2 only."""
    days = {}
    for date in (FIRST, SECOND):
        days["W", date] = make_day(dbsession, date=date, prefix="W")
        days["V", date] = make_day(dbsession, date=date, prefix="V", retailer_name="联华")
    published(dbsession, days["W", FIRST], [0, 1, 3, 6, 7], {2: "fleet_full", 4: "fleet_full", 5: "refused"},
              dairy={0: 0.25})
    published(dbsession, days["W", SECOND], [0, 1, 2, 3, 5, 6, 7], {4: "fleet_full"}, dairy={2: 0.9})
    published(dbsession, days["V", FIRST], list(range(8)), {})
    published(dbsession, days["V", SECOND], list(range(1, 8)), {0: "no_stock"}, dairy={7: 0.1})
    days["W", SECOND].compounds[7].town = "七宝"
    make_user(dbsession, Role.COORDINATOR, username="coordinator-wk")
    make_user(dbsession, Role.PLANNER, username="planner-wk", retailer=days["W", FIRST].retailer)
    dbsession.flush()
    return days


def by_code(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0].split()[-1]: row for row in rows}


def stored_dairy(dbsession, date: dt.date) -> list[float]:
    """The dairy fills of the day's served stops, read straight from the stored schedules."""
    return [fill["dairy"] for (fill,) in dbsession.execute(
        select(ScheduleStop.fill).join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleStop.arrival >= dt.datetime.combine(date, dt.time()),
               ScheduleStop.arrival < dt.datetime.combine(date + dt.timedelta(days=1), dt.time())))]


def mean_difference_gini(values: list[float]) -> float:
    """The Gini coefficient by its definition: mean absolute difference over twice the mean."""
    n, total = len(values), sum(values)
    return sum(abs(a - b) for a in values for b in values) / (2 * n * total) if total else 0.0


def test_the_coordinator_sees_every_retailers_compounds_and_their_days(testapp, dbsession, week):
    login(testapp, "coordinator-wk")
    page = testapp.get(f"/district/{SECOND.isoformat()}")
    page = page.click(href=URL)  # the district's pages link the week
    rows = by_code(table_rows(page, "table.district-week"))
    assert set(rows) == {f"{p}-C{i:02d}" for p in "WV" for i in range(1, 9)}
    # compound | town | retailer | five days without orders, day 1, day 2 | served | missed | in a row | dairy | eggs
    assert rows["W-C03"][3:] == ["·"] * 5 + ["未送", "63%", "1", "1", "1", "90%", "0%"]  # dairy 0.9
    assert rows["W-C05"][3:] == ["·"] * 5 + ["未送", "未送", "0", "2", "2", "—", "—"]
    assert rows["W-C06"][8:10] == ["拒收", "50%"] and rows["W-C06"][10:13] == ["1", "0", "0"]
    assert rows["W-C01"][-2] == "38%"  # dairy 0.25 then 0.5
    assert rows["V-C01"][2] == "联华" and rows["V-C01"][8:10] == ["50%", "未送"]
    assert table_rows(page, "table.district-week")[0][0].endswith("W-C05")  # two days running comes first

    totals = {row[0]: row for row in table_rows(page, "table.district-week-totals")}
    for date, served, unserved in ((FIRST, 13, 3), (SECOND, 14, 2)):
        dairy = stored_dairy(dbsession, date)
        assert len(dairy) == served
        row = totals[date.isoformat()]
        assert row[1:4] == [str(served), str(unserved), f"{100 * min(dairy):.0f}%"]
        assert row[4] == f"{mean_difference_gini(dairy):.3f}"
        assert row[5:] == ["0%", "0.000"]  # no eggs delivered: nobody got more than anyone
    assert totals[(SECOND - dt.timedelta(days=6)).isoformat()][1:] == ["0", "0", "—", "—", "—", "—"]

    testapp.set_cookie("lang", "en")
    english = testapp.get(URL)
    assert "The district from" in english.text and "Most days missed in a row" in english.text
    assert by_code(table_rows(english, "table.district-week"))["W-C03"][8] == "missed"


def test_the_filters_and_the_csv_of_the_same_table(testapp, dbsession, week):
    login(testapp, "coordinator-wk")
    lianhua = week["V", FIRST].retailer
    page = testapp.get(URL, {"retailer": lianhua.id})
    assert set(by_code(table_rows(page, "table.district-week"))) == {f"V-C{i:02d}" for i in range(1, 9)}
    assert [row[1:3] for row in table_rows(page, "table.district-week-totals")[-2:]] == [["8", "0"], ["7", "1"]]
    page = testapp.get(URL, {"town": "七宝"})
    assert list(by_code(table_rows(page, "table.district-week"))) == ["W-C08"]

    page = testapp.get(URL, {"retailer": lianhua.id})
    download = page.click(href="week.csv")
    assert download.content_type == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(download.text)))
    assert {line["compound_id"] for line in lines} == {f"V-C{i:02d}" for i in range(1, 9)}
    first = next(line for line in lines if line["compound_id"] == "V-C01")
    assert (first[FIRST.isoformat()], first[SECOND.isoformat()]) == ("0.5", "no_stock")
    assert (first["retailers"], first["days_served"], first["days_missed"], first["missed_in_a_row"]) == (
        "联华", "1", "1", "1")
    everyone = list(csv.DictReader(io.StringIO(testapp.get(f"{URL}.csv").text)))
    third = next(line for line in everyone if line["compound_id"] == "W-C03")
    assert (third[FIRST.isoformat()], third[SECOND.isoformat()], third["fill_dairy"]) == ("fleet_full", "0.633", "0.9")
    testapp.get(URL, {"retailer": "yes"}, status=400)


def test_a_planner_cannot_see_the_districts_week(testapp, dbsession, week):
    login(testapp, "planner-wk")
    testapp.get(URL, status=403)
    testapp.get(f"{URL}.csv", status=403)
