"""The committee's public page, its QR code, the A4 notice and "cannot receive", through the app."""
from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET

import segno
from sqlalchemy import select

from scheduling import Unserved, UnservedReason
from tests.factories import make_day, make_user
from tests.fieldday import FIRST_PLAN, publish_day, republish
from tests.views.api_helpers import api_login, csrf_token
from trucks.committees import MAX_REPORTS, display_code
from trucks.models import CommitteeReport, Role, SolveRun, SolveStatus
from trucks.ratelimit import PAIR_LIMIT
from trucks.services import PlanningSettings, build_problem


def page_url(compound, suffix: str = "") -> str:
    return f"/c/{compound.access_token}{suffix}"


def test_page_shows_the_window_rounded_to_15_minutes_the_stay_and_the_goods(testapp, dbsession):
    published = publish_day(dbsession, prefix="CM1")
    compound = published.day.compounds[0]  # served on arrival 10:37, leaves 11:02
    response = testapp.get(page_url(compound))
    page = response.text
    assert " ".join(response.html.select_one(".window").stripped_strings) == "保供车预计开始供应 10:30–10:45"
    assert "供应约 25 分钟（至 11:02 离开）" in page
    assert "蔬菜" in page and "奶制品" in page and "禽蛋" not in page  # no eggs on this stop
    assert published.day.trucks[0].plate in page and published.day.retailer.name in page
    assert "今天" in page and "明天" in page and "这一天的到达时间尚未发布" in page  # tomorrow: nothing yet


def test_a_truck_that_waits_for_the_window_shows_the_service_start_on_page_notice_and_api(testapp, dbsession):
    published = publish_day(dbsession, prefix="CMW")
    compound = published.day.compounds[5]  # arrives 12:10, waits for the 13:00 window, leaves 13:15
    for suffix in ("", "/notice"):
        page = testapp.get(page_url(compound, suffix))
        assert " ".join(page.html.select_one(".window").stripped_strings) == "保供车预计开始供应 13:00–13:15"
        assert "供应约 15 分钟（至 13:15 离开）" in page.text
        assert "12:00–12:15" not in page.text
    today = testapp.get(f"/api/compounds/{compound.access_token}").json["days"][0]
    date = published.day.date.isoformat()
    assert today["window"] == [f"{date}T13:00", f"{date}T13:15"]
    assert (today["arrival"], today["departure"], today["stay_minutes"]) == (f"{date}T12:10", f"{date}T13:15", 15)


def test_page_is_in_english_on_request(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CM2").day.compounds[0]
    testapp.set_cookie("lang", "en")
    page = testapp.get(page_url(compound)).text
    assert "The food truck starts serving" in page and "Vegetables" in page and "10:30–10:45" in page


def test_page_shows_nothing_private_and_no_other_compound(testapp, dbsession):
    published = publish_day(dbsession, prefix="CM3")
    compound, *others = published.day.compounds
    page = testapp.get(page_url(compound)).text
    assert compound.name in page
    assert compound.contact not in page
    for other in others:
        assert other.name not in page and other.contact not in page and other.access_token not in page
    assert published.day.trucks[1].plate not in page  # the other truck serves other compounds
    assert "planner" not in page  # who published is not shown


def test_unknown_token_is_404_on_every_committee_route(testapp, dbsession):
    publish_day(dbsession, prefix="CM4")
    for path in ("/c/not-a-token", "/c/not-a-token/notice", "/c/not-a-token/qr.svg"):
        testapp.get(path, status=404)
    testapp.post("/c/not-a-token/report", {"reason": "x"}, status=(403, 404))
    testapp.get("/c/not-a-token/report", status=404)


def test_qr_is_an_svg_of_the_page_address(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CM5").day.compounds[0]
    response = testapp.get(page_url(compound, "/qr.svg"))
    assert response.content_type == "image/svg+xml"
    root = ET.fromstring(response.body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    expected = segno.make(f"http://example.com/c/{compound.access_token}", error="m", micro=False)
    drawn = io.BytesIO()
    expected.save(drawn, kind="svg", scale=8, border=4)
    assert response.body == drawn.getvalue()  # the code of exactly this page's absolute address
    inline = testapp.get(page_url(compound)).html.select_one(".qr-code svg")
    assert inline.select_one("path")["d"] == ET.fromstring(expected.svg_inline(scale=5, border=2)).find("path").get("d")


def test_notice_is_a_printable_a4_page_with_window_goods_and_qr(testapp, dbsession):
    published = publish_day(dbsession, prefix="CM6")
    compound = published.day.compounds[0]
    notice = testapp.get(page_url(compound, "/notice"))
    assert compound.name in notice.text and "10:30–10:45" in notice.text and "蔬菜" in notice.text
    assert notice.html.select_one(".notice-sheet .qr-code svg") is not None
    button = notice.html.select_one("#print-button")
    assert "no-print" in button.parent["class"]
    stylesheet = next(link["href"] for link in notice.html.select("link[rel=stylesheet]") if "print.css" in link["href"])
    css = testapp.get(stylesheet).text
    assert "@page { size: A4;" in css and ".no-print { display: none" in css.replace("header.top, ", "")
    other_day = (published.day.date + dt.timedelta(days=1)).isoformat()
    assert "尚未发布" in testapp.get(page_url(compound, "/notice"), {"date": other_day}).text


def report_form(testapp, compound):
    return testapp.get(page_url(compound, "/report")).forms["report-form"]


def test_the_public_page_only_reads_and_points_the_committee_to_its_report_page(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CM7").day.compounds[0]
    page = testapp.get(page_url(compound))
    assert not page.html.select("form") and "csrf" not in page.text  # nothing to submit, no session
    assert "Set-Cookie" not in page.headers
    assert compound.committee_code not in page.text and display_code(compound.committee_code) not in page.text
    assert page.html.select_one(f"a[href$='/c/{compound.access_token}/report']") is not None
    notice = testapp.get(page_url(compound, "/notice")).text
    assert compound.committee_code not in notice and display_code(compound.committee_code) not in notice


def test_cannot_receive_with_the_committee_code_is_stored_confirmed_and_shown(testapp, dbsession):
    published = publish_day(dbsession, prefix="CM8")
    compound = published.day.compounds[0]
    form = report_form(testapp, compound)
    assert form["date"].value == published.day.date.isoformat()  # today is preselected
    form["reason"] = "小区今日全员核酸，无法组织取货"
    form["code"] = display_code(compound.committee_code).lower()  # as read out: dashes and case do not matter
    page = form.submit(status=303).follow()
    assert "已记录" in page.text and "小区今日全员核酸，无法组织取货" in page.text
    reports = dbsession.scalars(select(CommitteeReport).where(CommitteeReport.compound_id == compound.id)).all()
    assert [(r.date, r.reason) for r in reports] == [(published.day.date, "小区今日全员核酸，无法组织取货")]
    assert "小区今日全员核酸" in testapp.get(page_url(compound)).text  # the public page shows it
    day = build_problem(dbsession, published.day.date, published.day.retailer.id, PlanningSettings())
    assert Unserved(compound.code, UnservedReason.REFUSED) in day.settled  # the next solve leaves it out
    assert compound.code not in {c.id for c in day.problem.compounds}


def test_the_public_link_alone_cannot_file_a_report(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CM9").day.compounds[0]
    for code in ("", "WRONG-CODE-1234", compound.access_token):
        form = report_form(testapp, compound)
        form["reason"] = "有人扫了门口的二维码"
        form["code"] = code
        page = form.submit(status=403)
        assert "居委会代码不对" in page.text and "有人扫了门口的二维码" in page.text  # kept as typed
    token = csrf_token(testapp)
    response = testapp.post_json(f"/api/compounds/{compound.access_token}/report", {"reason": "x"},
                                 headers={"X-CSRF-Token": token}, status=403)
    assert response.json["problems"][0]["field"] == "code"
    assert dbsession.scalars(select(CommitteeReport)).all() == []


def test_wrong_codes_are_limited_per_compound_even_for_the_right_code_afterwards(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CMC").day.compounds[0]
    token = csrf_token(testapp)
    url = f"/api/compounds/{compound.access_token}/report"
    for _ in range(PAIR_LIMIT.free):
        testapp.post_json(url, {"reason": "猜", "code": "AAAA-AAAA-AAAA"}, headers={"X-CSRF-Token": token}, status=403)
    refused = testapp.post_json(url, {"reason": "猜", "code": compound.committee_code},
                                headers={"X-CSRF-Token": token}, status=429)
    assert int(refused.headers["Retry-After"]) > 0
    assert dbsession.scalars(select(CommitteeReport)).all() == []


def test_reports_over_the_limit_are_refused(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CMD").day.compounds[0]
    token = csrf_token(testapp)
    base = f"/api/compounds/{compound.access_token}"
    for _ in range(MAX_REPORTS):  # file and withdraw, again and again
        report = testapp.post_json(f"{base}/report", {"reason": "封控", "code": compound.committee_code},
                                   headers={"X-CSRF-Token": token}, status=201).json
        testapp.post_json(f"{base}/reports/{report['id']}/withdraw", {"code": compound.committee_code},
                          headers={"X-CSRF-Token": token}, status=200)
    refused = testapp.post_json(f"{base}/report", {"reason": "封控", "code": compound.committee_code},
                                headers={"X-CSRF-Token": token}, status=429)
    assert "too many reports" in refused.json["error"]
    form = report_form(testapp, compound)
    form["reason"], form["code"] = "封控", compound.committee_code
    assert "本小区报告次数过多" in form.submit(status=429).text
    assert len(dbsession.scalars(select(CommitteeReport)).all()) == MAX_REPORTS


def test_a_second_report_of_the_same_day_is_refused_while_the_first_counts(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CME").day.compounds[0]
    for status in (303, 400):
        form = report_form(testapp, compound)
        form["reason"], form["code"] = "封控", compound.committee_code
        page = form.submit(status=status)
    assert "已经报告过无法接收" in page.text


def test_the_committee_withdraws_its_report_until_the_days_solve(testapp, dbsession):
    published = publish_day(dbsession, prefix="CMF")
    compound = published.day.compounds[0]
    form = report_form(testapp, compound)
    form["reason"], form["code"] = "封控", compound.committee_code
    page = form.submit(status=303).follow()
    withdraw = page.forms[1]
    assert withdraw.id is None and "withdraw" in withdraw.action
    withdraw["code"] = "WRONG"
    assert "居委会代码不对" in withdraw.submit(status=403).text
    withdraw = report_form(testapp, compound).response.forms[1]
    withdraw["code"] = compound.committee_code
    page = withdraw.submit(status=303).follow()
    assert "已撤回" in page.text
    assert "居委会已于" in testapp.get(page_url(compound)).text and "撤回" in testapp.get(page_url(compound)).text
    day = build_problem(dbsession, published.day.date, published.day.retailer.id, PlanningSettings())
    assert compound.code in {c.id for c in day.problem.compounds}  # served again

    # a new report, then a solve of the day starts: it has used the report, which stays
    form = report_form(testapp, compound)
    form["reason"], form["code"] = "又封控了", compound.committee_code
    form.submit(status=303)
    report = dbsession.scalars(select(CommitteeReport).where(CommitteeReport.withdrawn_at.is_(None))).one()
    dbsession.add(SolveRun(date=published.day.date, retailer_id=published.day.retailer.id,
                           status=SolveStatus.RUNNING, created_at=report.created_at + dt.timedelta(seconds=1)))
    dbsession.flush()
    page = testapp.get(page_url(compound, "/report"))
    assert "不能再撤回" in page.text and not page.html.select("form.withdraw-form")
    token = csrf_token(testapp)
    testapp.post_json(f"/api/compounds/{compound.access_token}/reports/{report.id}/withdraw",
                      {"code": compound.committee_code}, headers={"X-CSRF-Token": token}, status=409)
    assert report.withdrawn_at is None


def test_a_planners_override_shows_on_the_committee_page_and_the_solve_serves_the_compound(testapp, dbsession):
    published = publish_day(dbsession, prefix="CMG")
    compound = published.day.compounds[0]
    make_user(dbsession, username="planner-g", role=Role.PLANNER, retailer=published.day.retailer)
    form = report_form(testapp, compound)
    form["reason"], form["code"] = "封控", compound.committee_code
    form.submit(status=303)
    api_login(testapp, "planner-g")
    day_page = testapp.get(f"/plan/{published.day.date.isoformat()}")
    decision = next(f for f in day_page.forms.values() if "/reports/" in f.action)
    page = decision.submit("decision", value="overridden", status=303).follow()
    assert "驳回需要填写原因" in page.text  # an override without a reason is refused
    decision = next(f for f in page.forms.values() if "/reports/" in f.action)
    decision["reason"] = "已与街道核实，下午可以取货"
    decision.submit("decision", value="overridden", status=303)
    committee_page = testapp.get(page_url(compound)).text
    assert "排班员未采纳" in committee_page and "已与街道核实，下午可以取货" in committee_page
    day = build_problem(dbsession, published.day.date, published.day.retailer.id, PlanningSettings())
    assert compound.code in {c.id for c in day.problem.compounds}
    api = testapp.get(f"/api/compounds/{compound.access_token}").json["days"][0]["cannot_receive_reports"]
    assert (api[0]["decision"], api[0]["decision_reason"]) == ("overridden", "已与街道核实，下午可以取货")


def test_a_planner_decides_only_reports_of_compounds_their_retailer_supplies(testapp, dbsession):
    mine = publish_day(dbsession, prefix="CMH")
    theirs = make_day(dbsession, date=mine.day.date, retailer_name="联华", prefix="CMI")
    make_user(dbsession, username="planner-h", role=Role.PLANNER, retailer=mine.day.retailer)
    other_report = CommitteeReport(compound_id=theirs.compounds[0].id, date=theirs.date, reason="封控")
    own_report = CommitteeReport(compound_id=mine.day.compounds[0].id, date=mine.day.date, reason="封控")
    dbsession.add_all([other_report, own_report])
    dbsession.flush()
    token = api_login(testapp, "planner-h")
    date = mine.day.date.isoformat()
    testapp.post_json(f"/api/days/{date}/reports/{other_report.id}", {"decision": "accepted"},
                      headers={"X-CSRF-Token": token}, status=404)
    testapp.post(f"/plan/{date}/reports/{other_report.id}", {"decision": "accepted", "csrf_token": token}, status=404)
    assert other_report.decision is None
    accepted = testapp.post_json(f"/api/days/{date}/reports/{own_report.id}", {"decision": "accepted"},
                                 headers={"X-CSRF-Token": token}, status=200)
    assert accepted.json["decision"] == "accepted"
    testapp.post_json(f"/api/days/{date}/reports/{own_report.id}", {"decision": "overridden"},
                      headers={"X-CSRF-Token": token}, status=422)


def test_a_second_publication_that_moved_the_time_shows_a_notice(testapp, dbsession):
    published = publish_day(dbsession, prefix="CM9")
    compound = published.day.compounds[0]
    assert "时间已调整" not in testapp.get(page_url(compound)).text
    republish(dbsession, published, {0: [(0, "11:05", "11:05", "11:30")] + FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]})
    page = testapp.get(page_url(compound)).text
    assert "时间已调整：第 2 版排班把供应时间从 10:30–10:45 改为 11:00–11:15。" in page
    assert "10:30–10:45" not in page.replace("从 10:30–10:45", "")  # the old window only in the notice


def test_print_button_script_carries_the_pages_csp_nonce(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CMA").day.compounds[0]
    notice = testapp.get(page_url(compound, "/notice"))
    nonce = notice.html.select_one("script")["nonce"]
    assert f"'nonce-{nonce}'" in notice.headers["Content-Security-Policy"]
    assert not notice.html.select("script[src]")  # nothing loaded from anywhere


def test_a_link_may_ask_for_a_given_date_and_a_bad_date_is_404(testapp, dbsession):
    published = publish_day(dbsession, prefix="CMB", date=dt.date(2022, 4, 20))
    compound = published.day.compounds[0]
    assert "10:30–10:45" not in testapp.get(page_url(compound)).text  # not today's
    page = testapp.get(page_url(compound), {"date": "2022-04-20"})
    assert "10:30–10:45" in page.text and "4月20日 星期三" in page.text
    testapp.get(page_url(compound), {"date": "20.4.2022"}, status=404)
