"""Issue 11: a published version shows what it was solved on, whatever is imported later."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_csv_files, make_day, make_user
from tests.fieldday import publish_day
from tests.views.api_helpers import api_login
from tests.views.planner_helpers import login, solve_now
from trucks import exports
from trucks.importer import import_day
from trucks.models import Publication, Role


def count(dbsession, model) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))


@pytest.fixture
def changed_after_publishing(dbsession):
    """Version 1 published, then the day re-imported with a new name, window, plate and demand."""
    published = publish_day(dbsession, prefix="VN")
    day = published.day
    before = {fmt: exports.export(dbsession, day.date, retailer_id=day.retailer.id, fmt=fmt) for fmt in exports.FORMATS}
    files = make_csv_files(date=day.date, prefix="VN")
    files["compounds"] = (files["compounds"].replace("VN测试小区1".encode(), "改了名的小区".encode())
                          .replace(b"13:00,17:00", b"15:00,17:00").replace("莘庄镇测试路1号".encode(), "新地址".encode()))
    files["trucks"] = files["trucks"].replace("沪AVN0001".encode(), "沪Z99999".encode())
    files["demand"] = files["demand"].replace(f"{day.date},VN-C01,vegetables,15".encode(),
                                              f"{day.date},VN-C01,vegetables,500".encode())
    import_day(dbsession, day.date, files)
    dbsession.expire_all()
    return published, before


def test_exports_of_the_version_are_the_same_after_a_later_import(dbsession, changed_after_publishing):
    published, before = changed_after_publishing
    day = published.day
    assert day.compounds[0].name == "改了名的小区"  # the compound itself did change
    for fmt, text in before.items():
        assert exports.export(dbsession, day.date, retailer_id=day.retailer.id, fmt=fmt) == text
    assert "VN测试小区1" in before["csv"] and "沪AVN0001" in before["csv"]


def test_planner_version_page_and_api_show_the_solved_facts(testapp, dbsession, changed_after_publishing):
    published, _ = changed_after_publishing
    day = published.day
    make_user(dbsession, Role.PLANNER, username="planner-vn", retailer=day.retailer)
    login(testapp, "planner-vn")
    page = testapp.get(f"/plan/{day.date}/versions/1").text
    assert "VN测试小区1" in page and "改了名的小区" not in page
    assert "沪AVN0001" in page and "沪Z99999" not in page
    fills = testapp.get(f"/api/days/{day.date}").json["fill_rates"]["compounds"]
    first = next(f for f in fills if f["compound_id"] == "VN-C01")
    assert first["demand"]["vegetables"] == 15 and first["name"] == "VN测试小区1"


def test_committee_and_driver_see_the_published_plate_name_address_and_window(testapp, dbsession, changed_after_publishing):
    published, _ = changed_after_publishing
    day = published.day
    committee = testapp.get(f"/c/{day.compounds[0].access_token}").text
    assert "沪AVN0001" in committee and "沪Z99999" not in committee
    make_user(dbsession, Role.DRIVER, username="driver-vn", truck=day.trucks[0])
    login(testapp, "driver-vn")
    driver = testapp.get(f"/driver/{day.date}")
    text = driver.text
    assert "VN测试小区1" in text and "新地址" not in text and "莘庄镇测试路1号" in text
    third = driver.html.select_one(f"#stop-{published.stop(0, 3).id}").get_text(" ", strip=True)
    assert "13:00 开始供应" in third  # the window it was solved with, not the 15:00 imported later


def test_publishing_a_schedule_solved_before_a_later_import_needs_a_confirmation(testapp, dbsession):
    day = make_day(dbsession, prefix="ST")
    schedule = solve_now(dbsession, day)
    make_user(dbsession, Role.PLANNER, username="planner-st", retailer=day.retailer)
    token = api_login(testapp, "planner-st")
    url = f"/plan/{day.date}/publish"
    assert 'id="outdated"' not in testapp.get(url).text
    import_day(dbsession, day.date, make_csv_files(date=day.date, prefix="ST"))  # after the solve
    preview = testapp.get(url)
    assert 'id="outdated"' in preview.text and 'name="confirm_outdated"' in preview.text
    testapp.post(url, {"csrf_token": token, "schedule_id": schedule.id}, status=303)
    assert count(dbsession, Publication) == 0
    assert "早于当天最近一次导入" in testapp.get(url).text  # the refusal is flashed
    api = f"/api/days/{day.date}/publications"
    assert testapp.get(api).json["candidate"]["outdated"] is True
    refused = testapp.post_json(api, {"schedule_id": schedule.id}, headers={"X-CSRF-Token": token}, status=409)
    assert refused.json["reason"] == "outdated"
    testapp.post(url, {"csrf_token": token, "schedule_id": schedule.id, "confirm_outdated": "1"}, status=303)
    assert count(dbsession, Publication) == 1
    fresh = solve_now(dbsession, day)  # solved after the import: no confirmation needed
    testapp.post_json(api, {"schedule_id": fresh.id}, headers={"X-CSRF-Token": token}, status=201)
