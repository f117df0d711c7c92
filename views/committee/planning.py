"""The planner's side of committee reports: accept one, or override it with a reason the
committee sees. Only reports of the day's compounds the planner's retailer supplies."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from trucks import committees
from trucks.live import FieldInputError, ReportFact
from trucks.models import CommitteeReport

from ..api.errors import ApiError, field_problem
from ..api.inputs import json_object
from ..api.planner import planner_view
from ..api.spec import Reply
from ..contexts import path_row_id
from ..planner.day import PlanDay
from ..security import Permission


def day_report(request, day: PlanDay) -> CommitteeReport:
    """The report named in the path, if it is one of the day's that this planner may decide."""
    report_id = path_row_id(request, "report_id")
    report = next((r for r in day.committee_reports if r.id == report_id), None)
    if report is None:
        raise HTTPNotFound()
    return report


@view_config(route_name="plan_report_decision", request_method="POST", permission=Permission.PLAN_WRITE)
def decide(request):
    day = request.context
    report = day_report(request, day)
    try:
        committees.decide_report(request.dbsession, report, request.POST.get("decision", ""),
                                 request.POST.get("reason", ""), request.user.username)
    except FieldInputError as error:
        request.session.flash(request.t(f"planner.reports.error.{error.code}", **error.values), "error")
    else:
        request.session.flash(request.t(f"planner.reports.done.{report.decision}", name=report.compound.name), "info")
    return HTTPSeeOther(day.url("plan_day", _anchor="reports"))


@planner_view(
    "api_report_decision",
    "POST",
    summary="Accept a committee's report, or override it with a reason the committee sees",
    permission=Permission.PLAN_WRITE,
    request_body={"application/json": "ReportDecision"},
    responses={
        200: Reply("decided; an override means the next solve serves the compound", "Report"),
        422: Reply("unknown decision, override without a reason, or a withdrawn report", "Error"),
    },
)
def api_decide(request):
    """Reports of the day's compounds the planner's retailer supplies; any other is 404."""
    day = request.context
    report = day_report(request, day)
    body = json_object(request)
    decision, reason = body.get("decision"), body.get("reason")
    try:
        committees.decide_report(request.dbsession, report, decision if isinstance(decision, str) else "",
                                 reason if isinstance(reason, str) else "", request.user.username)
    except FieldInputError as error:
        raise ApiError(422, str(error), [field_problem(error.field, error.code, str(error))]) from None
    return ReportFact.of(report).as_json()
