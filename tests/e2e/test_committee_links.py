"""Issue 9's journey in a real browser: a planner hands out the committees' links, prints the
town's QR sheet, replaces a leaked link, and a committee files "cannot receive" with its code."""
from __future__ import annotations

from sqlalchemy import select

from tests.e2e.conftest import screenshot
from tests.e2e.test_journeys import log_in
from tests.factories import make_user
from trucks.committees import display_code
from trucks.models import CommitteeReport, Compound, Retailer


def test_planner_hands_out_links_and_a_committee_reports_with_its_code(live_app, committed, published_day, page):
    base, _ = live_app

    def planner(dbsession):
        retailer = dbsession.scalars(select(Retailer)).one()
        make_user(dbsession, "planner", username="planner-links", retailer=retailer)
        first = dbsession.scalars(select(Compound).order_by(Compound.town, Compound.code)).first()
        return first.id, first.access_token, first.committee_code

    compound_id, old_token, code = committed(planner)
    log_in(page, base, "planner-links")
    page.goto(f"{base}/links")
    page.select_option("select[name=town]", "莘庄")
    page.click(".link-filters button[type=submit]")
    page.wait_for_load_state()
    row = page.locator(f"#compound-{compound_id}")
    assert row.locator("code.committee-code").inner_text() == display_code(code)
    page.wait_for_load_state("load")
    assert row.locator("img.qr-thumb").evaluate("i => i.complete && i.naturalWidth > 0")  # the QR drawn

    with page.expect_navigation():
        page.click("a[href*='/links/qr-sheet']")
    assert page.locator("figure.qr-label").count() == 8
    assert display_code(code) not in page.inner_text("main")
    screenshot(page, "committee-links-qr-sheet")

    page.go_back()
    page.click(f"#compound-{compound_id} button[value=link]")
    page.wait_for_load_state()
    new_token = committed(lambda s: s.get(Compound, compound_id).access_token)
    assert new_token != old_token and f"/c/{new_token}" in page.inner_text("p.notice.ok")
    assert page.goto(f"{base}/c/{old_token}").status == 404

    page.goto(f"{base}/c/{new_token}")
    page.click(f"a[href$='/c/{new_token}/report']")
    page.fill("#reason", "小区今日全员核酸")
    page.fill("#code", display_code(code))
    page.click("#report-form button[type=submit]")
    page.wait_for_load_state()
    assert "已记录" in page.inner_text("main")
    assert committed(lambda s: s.scalars(select(CommitteeReport.reason)).all()) == ["小区今日全员核酸"]
