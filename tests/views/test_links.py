"""Handing out committee links: the list, the printable sheets, CSV, the API and rotation."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.factories import make_day, make_user
from tests.views.api_helpers import api_login, documented
from trucks.committees import display_code
from trucks.models import MessageDelivery, Role


@pytest.fixture
def district(dbsession):
    """Two retailers' compounds, 逸刻's spread over two towns; a planner of each, a coordinator."""
    mine = make_day(dbsession, prefix="LK", n_compounds=4)
    theirs = make_day(dbsession, date=mine.date, retailer_name="联华", prefix="LL", n_compounds=2)
    mine.compounds[2].town = mine.compounds[3].town = "梅陇"
    make_user(dbsession, Role.PLANNER, username="planner-lk", retailer=mine.retailer)
    make_user(dbsession, Role.COORDINATOR, username="coordinator")
    make_user(dbsession, Role.ADMIN, username="root")
    dbsession.flush()
    return mine, theirs


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_planner_lists_the_links_of_the_compounds_their_retailer_supplies(testapp, district):
    mine, theirs = district
    api_login(testapp, "planner-lk")
    page = testapp.get("/links", params={"retailer": theirs.retailer.id})  # a planner cannot widen it
    for compound in mine.compounds:
        row = page.html.select_one(f"#compound-{compound.id}")
        assert row.select_one("a.link")["href"] == f"http://example.com/c/{compound.access_token}"
        assert row.select_one("img.qr-thumb")["src"].endswith(f"/c/{compound.access_token}/qr.svg")
        assert row.select_one("code.committee-code").text == display_code(compound.committee_code)
    for compound in theirs.compounds:
        assert compound.name not in page.text and compound.access_token not in page.text
    assert "保密，勿张贴" in page.text  # the code column says what it is
    meilong = testapp.get("/links", params={"town": "梅陇"})
    assert [tr["id"] for tr in meilong.html.select("tbody tr")] == [f"compound-{c.id}" for c in mine.compounds[2:]]


def test_the_coordinator_and_admin_list_every_compound_and_filter_by_retailer(testapp, district):
    mine, theirs = district
    for user in ("coordinator", "root"):
        api_login(testapp, user)
        everything = testapp.get("/links")
        assert all(c.name in everything.text for c in mine.compounds + theirs.compounds)
        only_theirs = testapp.get("/links", params={"retailer": theirs.retailer.id})
        assert [tr["id"] for tr in only_theirs.html.select("tbody tr")] == [f"compound-{c.id}" for c in theirs.compounds]
        testapp.get("/links", params={"date": "yesterday"}, status=400)


def test_drivers_and_visitors_get_no_link_list(testapp, district):
    mine, _ = district
    make_user(testapp.extra_environ["app.dbsession"], Role.DRIVER, username="driver-lk", truck=mine.trucks[0])
    assert testapp.get("/links", status=302).location.startswith("http://example.com/login")
    assert testapp.get("/api/links", status=403).json == {"error": "forbidden"}
    api_login(testapp, "driver-lk")
    for path in ("/links", "/links.csv", "/links/notices", "/links/qr-sheet", "/api/links"):
        testapp.get(path, status=403)


def test_csv_is_compound_name_town_link_and_codes_only_when_asked(testapp, district):
    mine, _ = district
    api_login(testapp, "planner-lk")
    plain = testapp.get("/links.csv", params={"town": "梅陇"})
    assert plain.content_type == "text/csv" and "attachment" in plain.headers["Content-Disposition"]
    assert rows(plain.text) == [["compound_id", "name", "town", "link"]] + [
        [c.code, c.name, "梅陇", f"http://example.com/c/{c.access_token}"] for c in mine.compounds[2:]]
    assert all(c.committee_code not in plain.text for c in mine.compounds)
    with_codes = rows(testapp.get("/links.csv", params={"codes": "1"}).text)
    assert with_codes[0] == ["compound_id", "name", "town", "link", "committee_code_private"]
    assert {row[0]: row[4] for row in with_codes[1:]} == {c.code: display_code(c.committee_code) for c in mine.compounds}


def test_a_towns_notices_are_one_a4_page_each_without_codes(testapp, district):
    mine, _ = district
    api_login(testapp, "coordinator")
    sheet = testapp.get("/links/notices", params={"town": "梅陇"})
    pages = sheet.html.select("section.page .notice-sheet")
    assert [p.select_one(".compound").text for p in pages] == [c.name for c in mine.compounds[2:]]
    assert all(p.select_one(".qr-code svg") is not None for p in pages)
    for compound in mine.compounds:
        assert compound.committee_code not in sheet.text and display_code(compound.committee_code) not in sheet.text
    css = testapp.get(next(link["href"] for link in sheet.html.select("link[rel=stylesheet]") if "print.css" in link["href"]))
    assert ".notice-board section.page { page-break-after: always" in css.text


def test_the_qr_sheet_labels_each_code_with_the_compound(testapp, district):
    mine, _ = district
    api_login(testapp, "planner-lk")
    sheet = testapp.get("/links/qr-sheet")
    labels = sheet.html.select("figure.qr-label")
    assert [label.select_one("figcaption b").text for label in labels] == [c.name for c in
                                                                          sorted(mine.compounds, key=lambda c: (c.town, c.code))]
    assert all(label.select_one("svg path") is not None for label in labels)
    assert not any(display_code(c.committee_code) in sheet.text for c in mine.compounds)


def test_rotating_a_link_makes_the_old_one_404_at_once_and_shows_the_new_one(testapp, district):
    mine, theirs = district
    compound = mine.compounds[0]
    old = compound.access_token
    testapp.get(f"/c/{old}", status=200)
    token = api_login(testapp, "planner-lk")
    page = testapp.get("/links")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/links/{compound.id}/rotate"))
    after = form.submit("what", value="link", status=303).follow()
    assert compound.access_token != old
    new_link = f"http://example.com/c/{compound.access_token}"
    assert new_link in after.html.select_one("p.notice.ok").text
    assert after.html.select_one(f"#compound-{compound.id} a.link")["href"] == new_link
    for path in (f"/c/{old}", f"/c/{old}/notice", f"/c/{old}/qr.svg", f"/c/{old}/report", f"/api/compounds/{old}"):
        testapp.get(path, status=404)
    testapp.get(f"/c/{compound.access_token}", status=200)
    # a planner cannot rotate another retailer's compound; the API rotates codes too
    other = theirs.compounds[0]
    testapp.post(f"/links/{other.id}/rotate", {"what": "link", "csrf_token": token}, status=404)
    testapp.post_json(f"/api/links/{other.id}/rotate", {"what": "link"}, headers={"X-CSRF-Token": token}, status=404)
    old_code = compound.committee_code
    rotated = testapp.post_json(f"/api/links/{compound.id}/rotate", {"what": "code"}, headers={"X-CSRF-Token": token})
    assert documented(testapp, rotated, "post_link_rotate")["committee_code"] == display_code(compound.committee_code)
    assert compound.committee_code != old_code


def test_the_api_lists_links_with_codes_for_the_planner(testapp, district):
    mine, theirs = district
    api_login(testapp, "planner-lk")
    body = documented(testapp, testapp.get("/api/links", params={"town": "莘庄"}), "get_links")
    assert [(link["compound_id"], link["link"], link["committee_code"]) for link in body["links"]] == [
        (c.code, f"http://example.com/c/{c.access_token}", display_code(c.committee_code)) for c in mine.compounds[:2]]
    api_login(testapp, "coordinator")
    everything = testapp.get("/api/links").json["links"]
    assert {link["compound_id"] for link in everything} == {c.code for c in mine.compounds + theirs.compounds}


def test_the_webhook_page_sets_a_masked_robot_and_shows_the_delivery_log(testapp, dbsession, district):
    mine, theirs = district
    compound = mine.compounds[0]
    token = api_login(testapp, "planner-lk")  # a planner sees the log, the coordinator sets the robot
    assert "webhook-form" not in testapp.get(f"/links/{compound.id}/webhook").forms
    testapp.post(f"/links/{compound.id}/webhook", {"url": "https://x.example/h", "csrf_token": token}, status=403)
    api_login(testapp, "coordinator")
    page = testapp.get(f"/links/{compound.id}/webhook")
    form = page.forms["webhook-form"]
    form["kind"], form["url"] = "wecom", "ftp://qyapi.weixin.qq.com/x"
    assert "http:// 或 https://" in form.submit(status=400).text
    secret_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123-secret-key-4567"
    form = testapp.get(f"/links/{compound.id}/webhook").forms["webhook-form"]
    form["kind"], form["url"] = "wecom", secret_url
    saved = form.submit(status=303).follow()
    assert (compound.webhook_url, compound.webhook_kind) == (secret_url, "wecom")
    assert "https://qyapi.weixin.qq.com/…4567" in saved.text and "secret-key" not in saved.text
    for path in ("/links", "/links.csv?codes=1", "/api/links", "/links/notices", "/links/qr-sheet",
                 f"/links/{compound.id}/webhook"):
        assert "secret-key" not in testapp.get(path).text
    delivery = MessageDelivery(compound_id=compound.id, date=mine.date, retailer_id=mine.retailer.id, version=1,
                               kind="published", start=dt.datetime.combine(mine.date, dt.time(10, 37)),
                               status="failed", attempts=5, last_answer="500 receiver broke")
    dbsession.add(delivery)
    dbsession.flush()
    testapp.get(f"/links/{theirs.compounds[0].id}/webhook", status=200)
    api_login(testapp, "planner-lk")
    log = testapp.get(f"/links/{compound.id}/webhook").html.select_one("table.deliveries tbody tr")
    assert "失败" in log.text and "500 receiver broke" in log.text and "v1 · published" in log.text
    testapp.get(f"/links/{theirs.compounds[0].id}/webhook", status=404)
