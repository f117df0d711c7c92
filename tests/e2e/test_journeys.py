"""The three journeys of issue 4, in a real browser against the real app."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.e2e.conftest import screenshot
from tests.factories import DAY, PASSWORD, make_csv_files, make_retailer, make_user
from trucks.models import Compound, Publication, ScheduleRoute, ScheduleStop, Truck


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def test_planner_imports_solves_and_publishes(live_app, committed, page, tmp_path):
    base, _ = live_app
    committed(lambda s: make_user(s, "planner", username="planner-e2e", retailer=make_retailer(s, "逸刻")))
    files = make_csv_files()
    for name, content in files.items():
        (tmp_path / f"{name}.csv").write_bytes(content)

    log_in(page, base, "planner-e2e")
    page.goto(f"{base}/plan/{DAY.isoformat()}")
    for name in files:
        page.set_input_files(f"#import-form input[name={name}]", str(tmp_path / f"{name}.csv"))
    page.click("#import-form button[type=submit]")
    page.wait_for_load_state()
    assert "8" in page.inner_text("main")  # the eight compounds are counted

    page.click("#solve-form button[type=submit]")
    # the page polls the run and reloads with the plan when the solve is done
    page.wait_for_selector("a.button[href*='/publish']", timeout=60_000)
    page.click("a.button[href*='/publish']")
    page.click("#publish-form button[type=submit]")
    page.wait_for_load_state()

    version = committed(lambda s: s.scalars(select(Publication.version)).all())
    assert version == [1]
    screenshot(page, "planner-published")


def test_committee_opens_its_link_and_sees_the_window(live_app, committed, published_day, page):
    base, _ = live_app
    token, planned = committed(_first_stop_of_route)
    page.goto(f"{base}/c/{token}")
    window = page.inner_text(".window b")
    start = planned.replace(minute=planned.minute - planned.minute % 15)
    assert window.startswith(start.strftime("%H:%M"))
    assert re.fullmatch(r"\d\d:\d\d\s*[–-]\s*\d\d:\d\d", window.strip())
    screenshot(page, "committee-window")


def test_driver_reports_a_delay_and_the_committee_sees_it(live_app, committed, published_day, page):
    base, _ = live_app
    date, _, truck_ids = published_day
    route_truck = committed(lambda s: s.scalar(select(ScheduleRoute.truck_id).order_by(ScheduleRoute.id)))
    username = committed(lambda s: make_user(s, "driver", truck=s.get(Truck, route_truck)).username)
    log_in(page, base, username)
    page.goto(f"{base}/driver/{date.isoformat()}")
    first = page.locator("section.stop").first
    first.locator(".delay-form input[name=delay_minutes]").fill("45")
    first.locator(".delay-form button").click()
    page.wait_for_load_state()

    later_token = committed(lambda s: _stop_token(s, route_truck, seq=2))
    committee = page.context.new_page()
    committee.goto(f"{base}/c/{later_token}")
    assert "最新" in committee.inner_text("main")
    screenshot(committee, "committee-after-delay")


def _first_stop_of_route(dbsession):
    stop = dbsession.scalars(select(ScheduleStop).order_by(ScheduleStop.route_id, ScheduleStop.seq)).first()
    return dbsession.get(Compound, stop.compound_id).access_token, stop.start  # the committee is told when service starts


def _stop_token(dbsession, truck_id: int, seq: int) -> str:
    return dbsession.scalar(
        select(Compound.access_token)
        .join(ScheduleStop, ScheduleStop.compound_id == Compound.id)
        .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleRoute.truck_id == truck_id, ScheduleStop.seq == seq)
    )
