"""The driver's own route: who may see it, the reports, and the estimates they move, through the
app and its real login."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from tests.fieldday import at, publish_day
from trucks.models import Compound, Role, StopEvent


def log_in(testapp, user) -> None:
    form = testapp.get("/login").forms["login-form"]
    form["username"] = user.username
    form["password"] = PASSWORD
    form.submit(status=302)


@pytest.fixture
def published(dbsession):
    return publish_day(dbsession, prefix="DR")


@pytest.fixture
def driver(testapp, dbsession, published):
    """Truck 1's driver, logged in."""
    user = make_user(dbsession, Role.DRIVER, truck=published.day.trucks[0])
    log_in(testapp, user)
    return user


def day_url(published, suffix: str = "") -> str:
    return f"/driver/{published.day.date.isoformat()}{suffix}"


def stop_card(page, stop):
    return page.html.select_one(f"#stop-{stop.id}")


def test_driver_home_is_todays_route(testapp, driver, published):
    response = testapp.get("/driver", status=303)
    assert response.location == f"http://example.com{day_url(published)}"


def test_driver_sees_own_stops_with_times_goods_contact_and_navigation(testapp, driver, published):
    page = testapp.get(day_url(published))
    own = [s.compound for s in published.schedule.routes[0].stops]
    names = [card.select_one("h2").get_text(" ", strip=True) for card in page.html.select("section.stop")]
    assert names == [f"{i} {c.name}" for i, c in enumerate(own, 1)]
    first = stop_card(page, published.stop(0, 1)).get_text(" ", strip=True)
    assert "计划 10:37 到达 · 11:02 离开" in first and "蔬菜 12" in first and "奶制品 4" in first
    assert own[0].address in first and own[0].contact in first
    assert stop_card(page, published.stop(0, 1)).select_one("a[href^=geo]")["href"] == f"geo:{own[0].lat:.6f},{own[0].lon:.6f}"
    assert "13:00 开始供应" in stop_card(page, published.stop(0, 3)).get_text(" ", strip=True)
    other = published.stop(1, 1).compound
    assert other.name not in page.text and other.contact not in page.text


def test_a_driver_cannot_pick_another_truck_or_report_on_its_stop(testapp, dbsession, driver, published):
    other_truck = published.day.trucks[1]
    page = testapp.get(day_url(published), {"truck": other_truck.code})
    assert published.stop(1, 1).compound.name not in page.text  # ?truck= means nothing for a driver
    form = page.forms[0]  # any of the driver's own forms: a valid CSRF token
    token = form["csrf_token"].value
    testapp.post(day_url(published, f"/stops/{published.stop(1, 1).id}"),
                 {"csrf_token": token, "kind": "arrived", "at": "09:31"}, status=404)
    testapp.post(day_url(published, "/stops/not-a-number"), {"csrf_token": token, "kind": "arrived"}, status=404)
    assert dbsession.scalars(select(StopEvent)).all() == []


def test_reports_need_the_csrf_token(testapp, dbsession, driver, published):
    testapp.post(day_url(published, f"/stops/{published.stop(0, 1).id}"), {"kind": "arrived", "at": "10:40"}, status=403)
    assert dbsession.scalars(select(StopEvent)).all() == []


def test_planners_have_no_driver_pages_and_strangers_must_log_in(testapp, dbsession, published):
    assert testapp.get(day_url(published), status=302).location.startswith("http://example.com/login")
    log_in(testapp, make_user(dbsession, Role.PLANNER, retailer=published.day.retailer))
    testapp.get(day_url(published), status=403)
    testapp.get("/driver", status=403)


def test_an_admin_chooses_any_truck(testapp, dbsession, published):
    log_in(testapp, make_user(dbsession, Role.ADMIN, username="admin-dr"))
    choices = testapp.get(day_url(published))
    second = published.day.trucks[1]
    assert second.code in choices.text
    page = choices.click(href=f"truck={second.code}")
    assert published.stop(1, 1).compound.name in page.text
    assert published.stop(0, 1).compound.name not in page.text
    testapp.get(day_url(published), {"truck": "NO-SUCH-TRUCK"}, status=404)


def test_delay_and_arrivals_are_recorded_and_shift_later_stops_and_the_committee_page(testapp, dbsession, driver, published):
    first, second, third = (published.stop(0, seq) for seq in (1, 2, 3))
    page = testapp.get(day_url(published))
    delay = stop_card(page, first).select_one("form.delay-form")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/stops/{first.id}") and "delay_minutes" in f.fields)
    assert delay is not None
    form["delay_minutes"] = "30"
    page = form.submit(status=303).follow()
    assert "已记录延误 30 分钟" in page.text
    # 10:37 + 30 -> 11:07; the 18-minute leg after the 25-minute stop -> 11:50; then 12:40,
    # where the plan waited for the 13:00 window, so the departure stays 13:15
    assert "现预计 11:07 到达 · 11:32 离开" in stop_card(page, first).get_text(" ", strip=True)
    assert "现预计 11:50 到达 · 12:15 离开" in stop_card(page, second).get_text(" ", strip=True)
    assert "现预计 12:40 到达 · 13:15 离开" in stop_card(page, third).get_text(" ", strip=True)

    committee = testapp.get(f"/c/{dbsession.get(Compound, second.compound_id).access_token}").text
    assert "最新：" in committee and "现预计 11:45–12:00 开始供应" in committee
    assert "11:15–11:30" in committee  # the published window stays readable

    arrived = next(f for f in page.forms.values() if f.action.endswith(f"/stops/{first.id}") and "at" in f.fields)
    arrived["at"] = "11:10"
    page = arrived.submit("kind", value="arrived", status=303).follow()
    departed = next(f for f in page.forms.values() if f.action.endswith(f"/stops/{first.id}") and "at" in f.fields)
    departed["at"] = "11:40"
    page = departed.submit("kind", value="departed", status=303).follow()
    card = stop_card(page, first).get_text(" ", strip=True)
    assert "11:10 已到达" in card and "11:40 已离开" in card
    assert "现预计 11:58 到达 · 12:23 离开" in stop_card(page, second).get_text(" ", strip=True)
    events = dbsession.scalars(select(StopEvent).order_by(StopEvent.id)).all()
    assert [(e.stop_id, e.kind, e.delay_minutes, e.created_by) for e in events] == [
        (first.id, "delay", 30, driver.username), (first.id, "arrived", None, driver.username),
        (first.id, "departed", None, driver.username),
    ]
    assert [e.at for e in events[1:]] == [at(published.day.date, "11:10"), at(published.day.date, "11:40")]

    committee = testapp.get(f"/c/{dbsession.get(Compound, first.compound_id).access_token}").text
    assert "保供车已于 11:40 离开" in committee


def test_bad_reports_come_back_as_a_message_and_store_nothing(testapp, dbsession, driver, published):
    page = testapp.get(day_url(published))
    first = published.stop(0, 1)
    form = next(f for f in page.forms.values() if f.action.endswith(f"/stops/{first.id}") and "at" in f.fields)
    form["at"] = "25:61"
    page = form.submit("kind", value="arrived", status=303).follow()
    assert "时间格式应为 时:分" in page.text
    token = page.forms[0]["csrf_token"].value
    page = testapp.post(day_url(published, f"/stops/{first.id}"),
                        {"csrf_token": token, "kind": "delay", "delay_minutes": "soon"}, status=303).follow()
    assert "延误分钟数须为 1 到 720 的整数" in page.text
    assert dbsession.scalars(select(StopEvent)).all() == []


def test_route_sheet_is_printable_with_every_stop(testapp, driver, published):
    sheet = testapp.get(day_url(published, "/sheet"))
    rows = sheet.html.select(".route-sheet tbody tr")
    assert [re.sub(r"\s+", " ", row.select("td")[1].get_text(" ", strip=True)).split(" ")[0] for row in rows] == [
        s.compound.name for s in published.schedule.routes[0].stops
    ]
    assert "10:37" in rows[0].get_text() and published.stop(0, 1).compound.contact in rows[0].get_text()
    assert any("print.css" in link["href"] for link in sheet.html.select("link[rel=stylesheet]"))
    assert sheet.html.select_one("#print-button").parent["class"] == ["no-print"]


def test_a_day_without_publication_says_so(testapp, driver, published):
    page = testapp.get("/driver/2000-01-01")
    assert "在这一天的最新排班中没有路线" in page.text
    testapp.get("/driver/not-a-date", status=404)


def test_an_admin_reports_for_the_chosen_truck_and_stays_on_it(testapp, dbsession, published):
    log_in(testapp, make_user(dbsession, Role.ADMIN, username="admin-dr2"))
    second = published.day.trucks[1]
    stop = published.stop(1, 1)
    page = testapp.get(day_url(published), {"truck": second.code})
    form = next(f for f in page.forms.values() if "delay_minutes" in f.fields)
    assert form.action.endswith(f"/stops/{stop.id}?truck={second.code}")
    form["delay_minutes"] = "15"
    response = form.submit(status=303)
    assert response.location.endswith(f"?truck={second.code}#stop-{stop.id}")
    assert "现预计 09:45 到达 · 10:10 离开" in stop_card(response.follow(), stop).get_text(" ", strip=True)


def test_driver_page_in_english(testapp, driver, published):
    testapp.set_cookie("lang", "en")
    page = testapp.get(day_url(published)).text
    assert "Planned: arrive 10:37 · leave 11:02" in page and "Vegetables 12" in page and "Report delay" in page
