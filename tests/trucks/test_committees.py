"""Committee codes and reports in the domain: who may file, how often, and what the solve sees."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.fieldday import publish_day
from trucks import committees
from trucks.live import FieldInputError, compound_day, local_today
from trucks.models import CommitteeReport, ReportDecision, utcnow


def test_a_report_needs_the_code_a_reason_and_a_date_not_past(dbsession):
    compound = publish_day(dbsession, prefix="CO1").day.compounds[0]
    today = local_today()
    for date, reason, code in [(today, "  ", "reason_required"), (today, "x" * 501, "reason_too_long"),
                               (today - dt.timedelta(days=1), "封控", "date_past")]:
        with pytest.raises(FieldInputError) as error:
            committees.file_report(dbsession, compound, date, reason, compound.committee_code)
        assert error.value.code == code
    with pytest.raises(committees.WrongCode):
        committees.file_report(dbsession, compound, today, "封控", compound.access_token)
    committees.file_report(dbsession, compound, today, " 今日全员核酸 ", f" {committees.display_code(compound.committee_code)} ")
    assert [(r.date, r.reason) for r in dbsession.scalars(select(CommitteeReport))] == [(today, "今日全员核酸")]
    assert [r.reason for r in compound_day(dbsession, compound, today).reports] == ["今日全员核酸"]


def test_codes_are_random_per_compound_and_rotate(dbsession):
    compounds = publish_day(dbsession, prefix="CO2").day.compounds
    codes = {c.committee_code for c in compounds}
    assert len(codes) == len(compounds)
    assert all(len(code) == 12 and set(code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for code in codes)
    compound = compounds[0]
    old = compound.committee_code
    new = committees.rotate_code(compound)
    assert new != old
    with pytest.raises(committees.WrongCode):
        committees.check_code(dbsession, compound, old, None)
    committees.check_code(dbsession, compound, new, None)


def test_filings_over_the_limit_wait_until_the_oldest_leaves_the_window(dbsession):
    compound = publish_day(dbsession, prefix="CO3").day.compounds[0]
    start = utcnow()
    for i in range(committees.MAX_REPORTS):
        report = committees.file_report(dbsession, compound, local_today(), "封控", compound.committee_code,
                                        now=start + dt.timedelta(minutes=i))
        report.withdrawn_at = start + dt.timedelta(minutes=i)
    with pytest.raises(committees.TooManyAttempts) as refused:
        committees.file_report(dbsession, compound, local_today(), "封控", compound.committee_code,
                               now=start + dt.timedelta(hours=1))
    assert refused.value.refusal.retry_after == committees.REPORT_WINDOW - dt.timedelta(hours=1)
    committees.file_report(dbsession, compound, local_today(), "封控", compound.committee_code,
                           now=start + committees.REPORT_WINDOW + dt.timedelta(seconds=1))


def test_only_counting_reports_keep_a_compound_off_the_day(dbsession):
    published = publish_day(dbsession, prefix="CO4")
    today = local_today()
    a, b, c, d = published.day.compounds[:4]
    reports = {x.id: committees.file_report(dbsession, x, today, "封控", x.committee_code) for x in (a, b, c, d)}
    committees.withdraw_report(dbsession, b, reports[b.id].id, b.committee_code)
    committees.decide_report(dbsession, reports[c.id], ReportDecision.OVERRIDDEN, "可以送", "planner")
    committees.decide_report(dbsession, reports[d.id], ReportDecision.ACCEPTED, "", "planner")
    refused = set(dbsession.scalars(select(CommitteeReport.compound_id).where(CommitteeReport.counting())))
    assert refused == {a.id, d.id}
    with pytest.raises(FieldInputError) as error:
        committees.decide_report(dbsession, reports[b.id], ReportDecision.ACCEPTED, "", "planner")
    assert error.value.code == "withdrawn"
    with pytest.raises(LookupError):  # another compound's report, even with its own right code
        committees.withdraw_report(dbsession, a, reports[d.id].id, a.committee_code)
