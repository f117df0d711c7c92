"""A driver's breakdown report through the real app: the driver reports it (page and API), the
planner sees it on the day page and confirms it (a re-plan run, published) or dismisses it, and
the committees of the broken truck's later stops see their new window or "not today"."""
from __future__ import annotations

import datetime as dt

import webtest
from sqlalchemy import select

from tests.factories import DAY, make_day, make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login, documented
from tests.views.planner_helpers import login
from trucks.models import (BreakdownReport, BreakdownStatus, Compound, Role, ScheduleRoute, ScheduleStop,
                           SolveRun)
from trucks.publishing import latest_publication

DRIVER_DAY = f"/driver/{DAY.isoformat()}"
PLAN_DAY = f"/plan/{DAY.isoformat()}"
API_BREAKDOWN = f"/api/driver/days/{DAY.isoformat()}/breakdown"


def _field_day(factory, prefix: str) -> dict:
    """The hand-set published day (truck 1 serves compounds 1, 2 and 6 from 10:37 on), its driver
    and its planner."""
    with factory.begin() as session:
        published = publish_day(session, prefix=prefix, date=DAY)
        day = published.day
        make_user(session, Role.DRIVER, username=f"driver-{prefix}", truck=day.trucks[0])
        make_user(session, Role.PLANNER, username=f"planner-{prefix}", retailer=day.retailer)
        return {"retailer_id": day.retailer.id, "truck": day.trucks[0].code,
                "later": [day.compounds[i].access_token for i in (0, 1, 5)]}


def _browser(testapp) -> webtest.TestApp:
    """Another user's browser on the same app (its own cookies)."""
    return webtest.TestApp(testapp.app, extra_environ={"HTTP_HOST": "example.com"})


def _reports(factory, retailer_id: int) -> list[tuple[str, str, int | None]]:
    with factory() as session:
        return [(r.at.strftime("%H:%M"), r.status, r.run_id) for r in session.scalars(
            select(BreakdownReport).where(BreakdownReport.date == DAY).order_by(BreakdownReport.id))
            if r.truck.retailer_id == retailer_id]


def test_driver_reports_planner_confirms_replan_is_published_and_committees_see_it(committed):
    testapp, factory = committed
    facts = _field_day(factory, "BD1")
    driver, planner = _browser(testapp), _browser(testapp)

    headers = {"X-CSRF-Token": api_login(driver, "driver-BD1")}
    reported = documented(driver, driver.post_json(API_BREAKDOWN, {"from": "10:05"}, headers=headers, status=201),
                          "post_driver_breakdown")
    assert (reported["truck_id"], reported["from"], reported["status"]) == (facts["truck"], "2022-04-20T10:05",
                                                                             "reported")
    form = driver.get(DRIVER_DAY).forms["breakdown-form"]
    form["from"] = "10:00"  # the driver corrects the time: the same report, not a second one
    page = form.submit(status=303).follow()
    assert "自 10:00 故障" in page.html.select_one("#breakdown").text
    assert _reports(factory, facts["retailer_id"]) == [("10:00", "reported", None)]

    login(planner, "planner-BD1")
    day_page = planner.get(PLAN_DAY)
    row = day_page.html.select_one("#breakdowns tbody tr")
    assert facts["truck"] in row.text and "10:00" in row.text and "待确认" in row.text
    report_id = int(row["id"].removeprefix("breakdown-"))
    after = day_page.forms[f"breakdown-form-{report_id}"].submit("decision", value="confirm", status=303).follow()
    with factory() as session:
        assert latest_publication(session, DAY, facts["retailer_id"]).version == 2
        run = session.scalar(select(SolveRun).order_by(SolveRun.id.desc()))
        assert (run.kind, run.asked, run.status) == ("replan", {"truck_id": facts["truck"], "from": "10:00"}, "done")
    assert _reports(factory, facts["retailer_id"]) == [("10:00", "confirmed", run.id)]
    assert "第 2 版" in after.html.select_one("#last-replan").text
    assert "已确认" in after.html.select_one("#breakdowns tbody tr").text
    assert after.html.select_one(f"#breakdown-form-{report_id}") is None  # decided: no buttons

    committee = _browser(testapp)
    starts = _published_starts(factory, facts["retailer_id"])
    for token in facts["later"]:  # each of the broken truck's later stops: its new window, or not today
        page = committee.get(f"/c/{token}", {"date": DAY.isoformat()})
        window = page.html.select_one(".window")
        if token in starts:
            assert window is not None and _quarter(starts[token]) in window.text, token
        else:
            assert "第 2 版排班已取消本小区这一天的送货" in page.text, token
    assert starts, "the re-plan served none of the truck's later compounds nor anything else"


def _published_starts(factory, retailer_id: int) -> dict[str, dt.datetime]:
    """compound token -> service start in the latest published version."""
    with factory() as session:
        schedule_id = latest_publication(session, DAY, retailer_id).schedule_id
        return dict(session.execute(
            select(Compound.access_token, ScheduleStop.start)
            .join(ScheduleStop, ScheduleStop.compound_id == Compound.id)
            .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
            .where(ScheduleRoute.schedule_id == schedule_id)).all())


def _quarter(start: dt.datetime) -> str:
    """The 15-minute window a committee is shown, written here apart from the page's code."""
    first = start.replace(minute=start.minute - start.minute % 15)
    return f"{first:%H:%M}–{first + dt.timedelta(minutes=15):%H:%M}"


def test_planner_dismisses_a_report_and_nothing_is_replanned(committed):
    testapp, factory = committed
    facts = _field_day(factory, "BD2")
    driver, planner = _browser(testapp), _browser(testapp)
    login(driver, "driver-BD2")
    form = driver.get(DRIVER_DAY).forms["breakdown-form"]
    form["from"] = "11:00"
    form.submit(status=303)
    login(planner, "planner-BD2")
    page = planner.get(PLAN_DAY)
    form = page.forms[next(f for f in page.forms if str(f).startswith("breakdown-form-"))]
    dismissed = form.submit("decision", value="dismiss", status=303).follow()
    assert "已忽略" in dismissed.text
    assert _reports(factory, facts["retailer_id"]) == [("11:00", "dismissed", None)]
    again = form.submit("decision", value="confirm", status=303).follow()  # the stale page's button
    assert "已经处理过" in again.text
    with factory() as session:
        assert latest_publication(session, DAY, facts["retailer_id"]).version == 1
        assert session.scalar(select(SolveRun.id)) is None


def test_breakdown_reports_stay_within_their_truck_and_retailer(testapp, dbsession):
    mine = publish_day(dbsession, prefix="BD3", date=DAY)
    other = make_day(dbsession, prefix="BD3X", retailer_name="联华")
    make_user(dbsession, Role.DRIVER, username="driver-bd3", truck=mine.day.trucks[0])
    make_user(dbsession, Role.PLANNER, username="planner-bd3x", retailer=other.retailer)
    headers = {"X-CSRF-Token": api_login(testapp, "driver-bd3")}
    bad = testapp.post_json(API_BREAKDOWN, {"from": "eleven"}, headers=headers, status=422)
    assert documented(testapp, bad, "post_driver_breakdown")["problems"][0]["field"] == "from"
    testapp.post_json("/api/driver/days/2022-04-21/breakdown", {"from": "10:00"}, headers=headers,
                      status=404)  # no published route that day
    testapp.post_json(API_BREAKDOWN, {"from": "10:00"}, headers=headers, status=201)
    report = dbsession.scalar(select(BreakdownReport))
    testapp.post(f"{PLAN_DAY}/breakdowns/{report.id}", {"decision": "dismiss"}, headers=headers,
                 status=403)  # a driver decides nothing
    planner = webtest.TestApp(testapp.app, extra_environ=testapp.extra_environ)  # the same transaction
    token = api_login(planner, "planner-bd3x")
    planner.post(f"{PLAN_DAY}/breakdowns/{report.id}", {"decision": "dismiss", "csrf_token": token},
                 status=404)  # another retailer's report does not exist for this planner
    planner.post_json(API_BREAKDOWN, {"from": "10:00"}, headers={"X-CSRF-Token": token}, status=403)
    assert report.status == BreakdownStatus.REPORTED
