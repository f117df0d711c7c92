"""A compound committee's public page, its QR code, printable notice, and the reports page.

No login. The compound's unguessable token opens the public page (``CompoundContext`` loads the
compound and 404s any other token), which only reads and shows only that compound's published facts (``trucks.live.compound_day``): never phone numbers,
drivers or other compounds. Filing or withdrawing "cannot receive" (``/c/{token}/report``)
needs the committee's own code as well (``trucks.committees``), which no public page shows.
"""
from __future__ import annotations

import datetime as dt
import io
from functools import lru_cache

import segno
from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from trucks import committees
from trucks.live import FieldInputError, ReportFact, compound_day, compound_days, local_today
from trucks.models import Compound

from ..contexts import parse_day, path_row_id
from ..security import Permission
from .dates import template_helpers

FLASH_QUEUE = "committee"
DAYS_SHOWN = 2  # today and tomorrow


def first_shown_day(request) -> dt.date:
    """Today, or the ``?date=`` a link asked for (a notice printed ahead, an old day)."""
    if "date" not in request.GET:
        return local_today()
    date = parse_day(request.GET["date"])
    if date is None:
        raise HTTPNotFound()
    return date


def committee_qr(request, compound: Compound) -> segno.QRCode:
    return committees.link_qr(request.route_url("committee", token=compound.access_token))


def qr_inline(request, compound: Compound, scale: int = 5) -> Markup:
    url = request.route_url("committee", token=compound.access_token)
    return _qr_svg(url, scale, request.t("committee.qr_title"))


@lru_cache(maxsize=8192)
def _qr_svg(url: str, scale: int, title: str) -> Markup:
    """Drawing a code took a quarter of a page's rendering: each is drawn once per process."""
    svg = committees.link_qr(url).svg_inline(scale=scale, border=2, omitsize=True, title=title)
    return Markup(svg)  # segno's own markup: no user text in it but the escaped title


def shown_days(request, compound: Compound) -> list:
    first = first_shown_day(request)
    return compound_days(request.dbsession, compound, [first + dt.timedelta(days=i) for i in range(DAYS_SHOWN)])


@view_config(route_name="committee", request_method="GET", renderer="committee/page.jinja2",
             permission=Permission.COMMITTEE_READ)
def committee_page(request):
    """The public page: today's and tomorrow's windows and any reports, nothing to submit."""
    compound = request.context.compound
    return {
        "compound": compound,
        "days": shown_days(request, compound),
        "qr": qr_inline(request, compound),
        **template_helpers(request),
    }


def _report_page(request, compound: Compound, *, reason: str = "", report_date: dt.date | None = None,
                 error: str | None = None, status: int = 200) -> dict:
    today = local_today()
    reportable = [today + dt.timedelta(days=i) for i in range(DAYS_SHOWN)]
    request.response.status = status
    request.response.cache_control = "no-store"
    open_reports = committees.open_reports(request.dbsession, compound)
    return {
        "compound": compound,
        "reportable": reportable,
        "report_date": report_date or reportable[0],
        "reason": reason,
        "error": error,
        "open_reports": [(ReportFact.of(r), committees.withdrawable(request.dbsession, r)) for r in open_reports],
        "messages": request.session.pop_flash(FLASH_QUEUE),
        **template_helpers(request),
    }


def _refused(request, compound: Compound, error: Exception, **kept) -> dict:
    """The form again, saying why: a wrong code (403), too many attempts (429) or bad input (400).

    Returned rather than raised, so that the transaction commits the counted wrong code.
    """
    if isinstance(error, committees.WrongCode):
        return _report_page(request, compound, error=request.t("committee.error.code"), status=403, **kept)
    if isinstance(error, committees.TooManyAttempts):
        request.response.headers["Retry-After"] = str(error.refusal.seconds)
        message = request.t(f"committee.error.too_many_{error.what.replace(' ', '_')}", minutes=error.refusal.minutes)
        return _report_page(request, compound, error=message, status=429, **kept)
    if isinstance(error, committees.NotWithdrawable):
        return _report_page(request, compound, error=request.t("committee.error.not_withdrawable"), status=409, **kept)
    message = request.t(f"committee.error.{error.code}", **error.values)
    return _report_page(request, compound, error=message, status=400, **kept)


REFUSALS = (committees.WrongCode, committees.TooManyAttempts, committees.NotWithdrawable, FieldInputError)


@view_config(route_name="committee_report", request_method="GET", renderer="committee/report.jinja2",
             permission=Permission.COMMITTEE_READ)
def committee_report_form(request):
    """The committee's own page: "cannot receive" for today or tomorrow, and taking it back."""
    return _report_page(request, request.context.compound)


@view_config(route_name="committee_report", request_method="POST", renderer="committee/report.jinja2",
             permission=Permission.COMMITTEE_REPORT)
def committee_report(request):
    """Stores "cannot receive" when the committee code is right; a bad form comes back as typed."""
    compound = request.context.compound
    reason = request.POST.get("reason", "")
    date = parse_day(request.POST.get("date", ""))
    if date is None:
        return _report_page(request, compound, reason=reason, error=request.t("committee.error.date"), status=400)
    try:
        committees.file_report(request.dbsession, compound, date, reason, request.POST.get("code"),
                               request.remote_addr)
    except REFUSALS as error:
        return _refused(request, compound, error, reason=reason, report_date=date)
    request.session.flash(request.t("committee.reported", date=date.isoformat()), FLASH_QUEUE)
    return HTTPSeeOther(request.route_url("committee_report", token=compound.access_token))


@view_config(route_name="committee_withdraw", request_method="POST", renderer="committee/report.jinja2",
             permission=Permission.COMMITTEE_REPORT)
def committee_withdraw(request):
    """Takes a report back with the committee code, until the day's solve has used it."""
    compound = request.context.compound
    report_id = path_row_id(request, "report_id")
    try:
        report = committees.withdraw_report(request.dbsession, compound, report_id, request.POST.get("code"),
                                            request.remote_addr)
    except LookupError:
        raise HTTPNotFound() from None
    except REFUSALS as error:
        return _refused(request, compound, error)
    request.session.flash(request.t("committee.withdrawn", date=report.date.isoformat()), FLASH_QUEUE)
    return HTTPSeeOther(request.route_url("committee_report", token=compound.access_token))


@view_config(route_name="committee_qr", request_method="GET", permission=Permission.COMMITTEE_READ)
def committee_qr_svg(request):
    """The QR code of the page's absolute address, as an SVG file."""
    buffer = io.BytesIO()
    committee_qr(request, request.context.compound).save(buffer, kind="svg", scale=8, border=4)
    return Response(body=buffer.getvalue(), content_type="image/svg+xml", charset="utf-8")


@view_config(route_name="committee_notice", request_method="GET", renderer="committee/notice.jinja2",
             permission=Permission.COMMITTEE_READ)
def committee_notice(request):
    """An A4 notice for the building's board: one date's window, goods and the QR code."""
    compound = request.context.compound
    return {
        "compound": compound,
        "day": compound_day(request.dbsession, compound, first_shown_day(request)),
        "qr": qr_inline(request, compound),
        **template_helpers(request),
    }
