"""A compound committee's public page, its QR code, printable notice and "cannot receive" form.

No login: the compound's unguessable token is the key (``CompoundContext`` loads the compound
and 404s any other token), and the page shows only that compound's
published facts (``trucks.live.compound_day``): never phone numbers, drivers or other compounds.
"""
from __future__ import annotations

import datetime as dt
import io

import segno
from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from trucks.live import (
    FieldInputError,
    compound_day,
    local_today,
    report_cannot_receive,
)
from trucks.models import Compound

from ..contexts import parse_day
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


def _qr(request, compound: Compound) -> segno.QRCode:
    return segno.make(request.route_url("committee", token=compound.access_token), error="m", micro=False)


def _qr_inline(request, compound: Compound) -> Markup:
    svg = _qr(request, compound).svg_inline(scale=5, border=2, title=request.t("committee.qr_title"))
    return Markup(svg)  # segno's own markup: no user text in it but the escaped title


def _page(request, compound: Compound, *, reason: str = "", report_date: dt.date | None = None,
          error: str | None = None, status: int = 200) -> dict:
    first = first_shown_day(request)
    days = [compound_day(request.dbsession, compound, first + dt.timedelta(days=i)) for i in range(DAYS_SHOWN)]
    reportable = [day.date for day in days if day.date >= local_today()]
    request.response.status = status
    return {
        "compound": compound,
        "days": days,
        "qr": _qr_inline(request, compound),
        "reportable": reportable,
        "report_date": report_date or (reportable[0] if reportable else None),
        "reason": reason,
        "error": error,
        "messages": request.session.pop_flash(FLASH_QUEUE),
        **template_helpers(request),
    }


@view_config(route_name="committee", request_method="GET", renderer="committee/page.jinja2",
             permission=Permission.COMMITTEE_READ)
def committee_page(request):
    return _page(request, request.context.compound)


@view_config(route_name="committee_report", request_method="POST", renderer="committee/page.jinja2",
             permission=Permission.COMMITTEE_REPORT)
def committee_report(request):
    """Stores "cannot receive" for a shown date; a bad form comes back with what was typed."""
    compound = request.context.compound
    reason = request.POST.get("reason", "")
    date = parse_day(request.POST.get("date", ""))
    if date is None:
        return _page(request, compound, reason=reason, error=request.t("committee.error.date"), status=400)
    try:
        report_cannot_receive(request.dbsession, compound, date, reason)
    except FieldInputError as error:
        message = request.t(f"committee.error.{error.code}", **error.values)
        return _page(request, compound, reason=reason, report_date=date, error=message, status=400)
    request.session.flash(request.t("committee.reported", date=date.isoformat()), FLASH_QUEUE)
    query = {"date": request.GET["date"]} if "date" in request.GET else {}
    return HTTPSeeOther(request.route_url("committee", token=compound.access_token, _query=query))


@view_config(route_name="committee_qr", request_method="GET", permission=Permission.COMMITTEE_READ)
def committee_qr(request):
    """The QR code of the page's absolute address, as an SVG file."""
    buffer = io.BytesIO()
    _qr(request, request.context.compound).save(buffer, kind="svg", scale=8, border=4)
    return Response(body=buffer.getvalue(), content_type="image/svg+xml", charset="utf-8")


@view_config(route_name="committee_notice", request_method="GET", renderer="committee/notice.jinja2",
             permission=Permission.COMMITTEE_READ)
def committee_notice(request):
    """An A4 notice for the building's board: one date's window, goods and the QR code."""
    compound = request.context.compound
    return {
        "compound": compound,
        "day": compound_day(request.dbsession, compound, first_shown_day(request)),
        "qr": _qr_inline(request, compound),
        **template_helpers(request),
    }
