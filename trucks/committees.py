"""A compound committee's side of the plan: its links, the code that files reports, and each
report's life.

Links are handed out by whoever reaches the committees: an admin or the coordinator for every
compound, a planner for the compounds their retailer supplies (``compounds_for_links``), as a
page, printable sheets, CSV (``links_csv``), the API and ``foodtrucks links``. Rotating a link
(a lost or leaked notice) gives the compound a new token; the old one is 404 at once.

The public link (``Compound.access_token``) only reads. Filing or withdrawing "cannot receive"
needs the committee's own code (``Compound.committee_code``), which the planner or coordinator
hands to the committee contact with the link list and which no public page shows. Wrong codes
count like failed logins (``trucks.ratelimit``), and filings are limited per compound, so
neither guessing nor a flood of reports pays off.

A report counts, and the day's next solve leaves the compound out as ``refused``, unless the
committee withdrew it or a planner overrode it (with a reason the committee sees).
"""
from __future__ import annotations

import datetime as dt
import html
import secrets
from collections.abc import Callable, Iterable

import segno
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .importer import new_access_token
from .live import FieldInputError, local_today
from .models import (
    CommitteeReport,
    Compound,
    Demand,
    ReportDecision,
    SolveRun,
    SolveStatus,
    new_committee_code,
    utcnow,
)
from .ratelimit import Refusal, forgive, reserve_attempt
from .spreadsheet import csv_text

MAX_REASON_LENGTH = 500
#: filings per compound over ``REPORT_WINDOW`` (withdrawn ones count too)
MAX_REPORTS = 5
REPORT_WINDOW = dt.timedelta(hours=24)


class WrongCode(Exception):
    """The committee code is missing or wrong: the public link alone cannot file or withdraw."""


class TooManyAttempts(Exception):
    """Too many wrong codes or reports for this compound lately; ``refusal`` says how long to wait."""

    def __init__(self, refusal: Refusal, what: str) -> None:
        super().__init__(f"too many {what} for this compound; try again in {refusal.minutes} min")
        self.refusal = refusal
        self.what = what


class NotWithdrawable(Exception):
    """The report was withdrawn already, or the day's solve has taken it into account."""


def normalise_code(text: str | None) -> str:
    """A code as stored, from what someone typed: any case, spaces and dashes ignored."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def display_code(code: str) -> str:
    """``ABCDEFGHJKLM`` as ``ABCD-EFGH-JKLM``, easier to read out and type."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _attempt_key(compound: Compound) -> str:
    """Wrong codes are counted per compound, in the login attempts table every process sees."""
    return f"committee:{compound.code}"


def check_code(dbsession: Session, compound: Compound, code: str | None, remote_addr: str | None) -> None:
    """Passes when ``code`` is the compound's. Every attempt is counted before the code is
    compared, as a login is (``ratelimit.reserve_attempt``); a right code forgives it, a wrong
    one stays counted (the caller must commit it)."""
    refusal = reserve_attempt(dbsession, _attempt_key(compound), remote_addr)
    if refusal is not None:
        raise TooManyAttempts(refusal, "wrong codes")
    stored = compound.committee_code
    if not stored or not secrets.compare_digest(normalise_code(code).encode(), stored.encode()):
        raise WrongCode("the committee code is missing or wrong")
    forgive(dbsession, _attempt_key(compound), remote_addr)


def _report_refusal(dbsession: Session, compound: Compound, now: dt.datetime) -> Refusal | None:
    times = dbsession.scalars(
        select(CommitteeReport.created_at)
        .where(CommitteeReport.compound_id == compound.id, CommitteeReport.created_at > now - REPORT_WINDOW)
        .order_by(CommitteeReport.created_at)
    ).all()
    if len(times) < MAX_REPORTS:
        return None
    return Refusal(times[len(times) - MAX_REPORTS] + REPORT_WINDOW - now)


def _reason(text: str | None, *, required: str | None) -> str:
    """A typed reason, trimmed; ``required`` is the error code when it may not be empty."""
    reason = (text or "").strip()
    if required and not reason:
        raise FieldInputError("reason", required, "a reason is required")
    if len(reason) > MAX_REASON_LENGTH:
        raise FieldInputError(
            "reason", "reason_too_long", f"at most {MAX_REASON_LENGTH} characters, got {len(reason)}",
            limit=MAX_REASON_LENGTH,
        )
    return reason


def file_report(
    dbsession: Session, compound: Compound, date: dt.date, reason: str, code: str | None,
    remote_addr: str | None = None, now: dt.datetime | None = None,
) -> CommitteeReport:
    """Stores a committee's "cannot receive" for a date, if ``code`` is the committee's.

    Raises WrongCode, TooManyAttempts (wrong codes or reports over the limit) or FieldInputError
    (the date has passed, no reason, a report of that date already counts).
    """
    check_code(dbsession, compound, code, remote_addr)
    now = now or utcnow()
    refusal = _report_refusal(dbsession, compound, now)
    if refusal is not None:
        raise TooManyAttempts(refusal, "reports")
    if date < local_today():
        raise FieldInputError("date", "date_past", f"{date} has passed", date=date)
    reason = _reason(reason, required="reason_required")
    if date in {r.date for r in open_reports(dbsession, compound)}:
        raise FieldInputError("date", "already_reported", f"a report for {date} is already filed", date=date)
    report = CommitteeReport(compound_id=compound.id, date=date, reason=reason, created_at=now)
    dbsession.add(report)
    dbsession.flush()
    return report


def open_reports(dbsession: Session, compound: Compound) -> list[CommitteeReport]:
    """The compound's reports of today and later that were not withdrawn, oldest date first."""
    return list(dbsession.scalars(
        select(CommitteeReport)
        .where(CommitteeReport.compound_id == compound.id, CommitteeReport.date >= local_today(),
               CommitteeReport.withdrawn_at.is_(None))
        .order_by(CommitteeReport.date, CommitteeReport.id)
    ))


def solved_since(dbsession: Session, report: CommitteeReport) -> bool:
    """Whether a solve of the report's date for a retailer supplying the compound started after
    the report was filed: that solve has honoured it, so withdrawing it would change nothing."""
    retailers = select(Demand.retailer_id).where(
        Demand.date == report.date, Demand.compound_id == report.compound_id)
    return bool(dbsession.scalar(
        select(func.count(SolveRun.id)).where(
            SolveRun.date == report.date,
            SolveRun.retailer_id.in_(retailers),
            SolveRun.created_at >= report.created_at,
            SolveRun.status != SolveStatus.FAILED,
        )
    ))


def withdrawable(dbsession: Session, report: CommitteeReport) -> bool:
    return (report.withdrawn_at is None and report.date >= local_today()
            and not solved_since(dbsession, report))


def withdraw_report(
    dbsession: Session, compound: Compound, report_id: int, code: str | None, remote_addr: str | None = None,
) -> CommitteeReport:
    """Takes a report back with the committee's code, until the day's solve has used it.

    Raises LookupError for a report that is not the compound's (the caller answers 404).
    """
    check_code(dbsession, compound, code, remote_addr)
    report = dbsession.get(CommitteeReport, report_id)
    if report is None or report.compound_id != compound.id:
        raise LookupError(f"no report {report_id} of this compound")
    if not withdrawable(dbsession, report):
        raise NotWithdrawable("this report was withdrawn or the day has been solved with it")
    report.withdrawn_at = utcnow()
    dbsession.flush()
    return report


def decide_report(
    dbsession: Session, report: CommitteeReport, decision: str, reason: str, decided_by: str,
) -> CommitteeReport:
    """A planner accepts a report or overrides it; an override needs the reason the committee sees."""
    try:
        decision = ReportDecision(decision)
    except ValueError:
        raise FieldInputError(
            "decision", "unknown_decision", f"{decision!r} is not one of {', '.join(d.value for d in ReportDecision)}"
        ) from None
    reason = _reason(reason, required="override_reason_required" if decision is ReportDecision.OVERRIDDEN else None)
    if report.withdrawn_at is not None:
        raise FieldInputError("decision", "withdrawn", "the committee has withdrawn this report")
    report.decision = decision.value
    report.decision_reason = reason
    report.decided_by = decided_by
    report.decided_at = utcnow()
    dbsession.flush()
    return report


def rotate_code(compound: Compound) -> str:
    """A new committee code; the old one stops working at once."""
    compound.committee_code = new_committee_code()
    return compound.committee_code


def rotate_link(compound: Compound) -> str:
    """A new public link for the compound: the old token is 404 from the moment this commits."""
    compound.access_token = new_access_token()
    return compound.access_token


def compounds_for_links(
    dbsession: Session, *, retailer_id: int | None = None, town: str | None = None, date: dt.date | None = None,
) -> list[Compound]:
    """Compounds in town then code order; with ``retailer_id`` only those the retailer supplies
    (on ``date``, else on any date), with ``date`` only those with demand that day."""
    query = select(Compound).order_by(Compound.town, Compound.code)
    if retailer_id is not None or date is not None:
        supplied = select(Demand.compound_id)
        if retailer_id is not None:
            supplied = supplied.where(Demand.retailer_id == retailer_id)
        if date is not None:
            supplied = supplied.where(Demand.date == date)
        query = query.where(Compound.id.in_(supplied))
    if town:
        query = query.where(Compound.town == town)
    return list(dbsession.scalars(query))


def supplies(dbsession: Session, retailer_id: int, compound: Compound) -> bool:
    """Whether the retailer has ever supplied the compound (a planner manages its link then)."""
    return dbsession.scalar(
        select(func.count(Demand.id)).where(Demand.retailer_id == retailer_id, Demand.compound_id == compound.id)
    ) > 0


def towns(compounds: Iterable[Compound]) -> list[str]:
    return sorted({c.town for c in compounds})


LINK_COLUMNS = ("compound_id", "name", "town", "link")
#: named so that nobody forwards it to residents by mistake
CODE_COLUMN = "committee_code_private"


def links_csv(compounds: Iterable[Compound], link: Callable[[Compound], str], *, with_codes: bool = False) -> str:
    """``compound_id,name,town,link`` for mass messaging; the committee code only when asked."""
    header = LINK_COLUMNS + ((CODE_COLUMN,) if with_codes else ())
    rows = ([compound.code, compound.name, compound.town, link(compound)]
            + ([display_code(compound.committee_code)] if with_codes else []) for compound in compounds)
    return csv_text(header, rows)


def link_qr(url: str) -> segno.QRCode:
    """The QR code of a committee link (the link only: it cannot file anything)."""
    return segno.make(url, error="m", micro=False)


#: the printed sheet of ``links_html``: three labelled codes across, four down on A4
SHEET_STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; margin: 0; }
h1 { font-size: 16pt; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6mm; }
figure { margin: 0; padding: 3mm; border: 1px dashed #999; text-align: center; break-inside: avoid; }
figure svg { width: 40mm; height: 40mm; }
figcaption { font-size: 10pt; line-height: 1.3; word-break: break-all; }
"""


def links_html(compounds: Iterable[Compound], link: Callable[[Compound], str], title: str) -> str:
    """A self-contained print-ready page of labelled QR codes with their links (no committee codes)."""
    figures = []
    for compound in compounds:
        url = link(compound)
        svg = link_qr(url).svg_inline(scale=3, border=2, omitsize=True)
        figures.append(
            f"<figure>{svg}<figcaption><b>{html.escape(compound.name)}</b><br>"
            f"{html.escape(compound.town)} · {html.escape(compound.code)}<br><small>{html.escape(url)}</small>"
            "</figcaption></figure>"
        )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{SHEET_STYLE}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n<div class=\"grid\">\n" + "\n".join(figures) + "\n</div></body></html>\n"
    )
