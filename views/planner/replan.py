"""The planner's "re-plan from now" (a truck out of service from a time; the rest of the
published day is re-planned) and "urgent stop" (a compound added to the published routes), each
published as the next version (``trucks.replan``)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from trucks.live import FieldInputError, decide_breakdown, parse_clock
from trucks.models import BreakdownReport, BreakdownStatus
from trucks.publishing import PublishError
from trucks.replan import ReplanError, insert_urgent, urgent_options
from trucks.solving import NothingToSolve, SolveAlreadyRunning, confirm_breakdown, start_day_replan
from trucks.services import PlanningSettings

from ..contexts import path_row_id
from .day import PlanDay
from ..security import Permission


@view_config(route_name="plan_replan", request_method="GET", permission=Permission.PLAN_READ)
def replan_form(request):
    """The form lives on the day page."""
    return HTTPSeeOther(request.context.url("plan_day", _anchor="replan"))


@view_config(route_name="plan_replan", request_method="POST", permission=Permission.PLAN_PUBLISH)
def replan(request):
    """Queues the re-plan on the workers and goes back to the day page, which follows its
    progress like a solve's and then links the version it published."""
    day = request.context
    truck = next((t for t in day.trucks if str(t.id) == request.POST.get("truck_id")), None)
    if truck is None:
        return _refused(request, day, request.t("replan.refused.truck"))
    try:
        cut = parse_clock(day.date, request.POST.get("from", ""))
        start_day_replan(request, day.date, day.retailer_id, request.user.username, truck_code=truck.code, cut=cut)
    except FieldInputError:
        return _refused(request, day, request.t("replan.refused.time"))
    except SolveAlreadyRunning:
        return _refused(request, day, request.t("replan.refused.running"))
    except (ReplanError, NothingToSolve) as refused:
        return _refused(request, day, request.t("replan.refused.other", reason=str(refused)))
    request.session.flash(request.t("replan.queued", truck=truck.code, at=cut.strftime("%H:%M")), "info")
    return HTTPSeeOther(day.url("plan_day", _anchor="solve-progress"))


@view_config(route_name="plan_breakdown", request_method="POST", permission=Permission.PLAN_PUBLISH)
def decide(request):
    """The planner's answer to a driver's breakdown report: ``confirm`` queues the re-plan with
    the truck out of service from the reported time (as the re-plan form does), ``dismiss``
    closes the report. Another retailer's or another day's report is 404."""
    day = request.context
    report = request.dbsession.get(BreakdownReport, path_row_id(request, "breakdown_id"))
    if report is None or report.date != day.date or report.truck.retailer_id != day.retailer_id:
        raise HTTPNotFound()
    if report.status != BreakdownStatus.REPORTED:
        return _refused(request, day, request.t("breakdown.refused.decided"), anchor="breakdowns")
    at = report.at.strftime("%H:%M")
    if request.POST.get("decision") == "dismiss":
        decide_breakdown(report, BreakdownStatus.DISMISSED, request.user.username)
        request.session.flash(request.t("breakdown.dismissed", truck=report.truck.code, at=at), "info")
        return HTTPSeeOther(day.url("plan_day", _anchor="breakdowns"))
    if request.POST.get("decision") != "confirm":
        return _refused(request, day, request.t("breakdown.refused.decision"), anchor="breakdowns")
    try:
        confirm_breakdown(request, report, request.user.username)
    except SolveAlreadyRunning:
        return _refused(request, day, request.t("replan.refused.running"), anchor="breakdowns")
    except (ReplanError, NothingToSolve) as refused:
        return _refused(request, day, request.t("replan.refused.other", reason=str(refused)), anchor="breakdowns")
    request.session.flash(request.t("replan.queued", truck=report.truck.code, at=at), "info")
    return HTTPSeeOther(day.url("plan_day", _anchor="solve-progress"))


def _refused(request, day: PlanDay, message: str, anchor: str = "replan") -> HTTPSeeOther:
    request.session.flash(message, "error")
    return HTTPSeeOther(day.url("plan_day", _anchor=anchor))


@view_defaults(route_name="plan_urgent", permission=Permission.PLAN_READ, renderer="planner/urgent.jinja2")
class UrgentStopView:
    """Where an urgent compound fits on the published routes (GET), then the planner's choice
    published as the next version (POST)."""

    def __init__(self, request):
        self.request = request
        self.day = request.context

    def _refused(self, key: str, **values):
        self.request.session.flash(self.request.t(key, **values), "error")
        return HTTPSeeOther(self.day.url("plan_day", _anchor="urgent"))

    def _asked(self, params):
        compound = next((c for c in self.day.compounds if c.code == params.get("compound")), None)
        cut = parse_clock(self.day.date, params.get("from", ""))
        return compound, cut

    @view_config(request_method="GET")
    def options(self):
        try:
            compound, cut = self._asked(self.request.params)
        except FieldInputError:
            return self._refused("replan.refused.time")
        if compound is None:
            return self._refused("urgent.refused.compound")
        planning = PlanningSettings.from_settings(self.request.registry.settings)
        try:
            found = urgent_options(self.request.dbsession, self.day.date, self.day.retailer_id, planning,
                                   compound_code=compound.code, cut=cut)
        except ReplanError as refused:
            return self._refused("replan.refused.other", reason=str(refused))
        return {"day": self.day, "compound": compound, "cut": cut, "found": found,
                "clock": lambda minutes: f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"}

    @view_config(request_method="POST", permission=Permission.PLAN_PUBLISH)
    def choose(self):
        request = self.request
        try:
            compound, cut = self._asked(request.POST)
            position = int(request.POST.get("position", ""))
        except (FieldInputError, ValueError):
            return self._refused("replan.refused.time")
        if compound is None:
            return self._refused("urgent.refused.compound")
        planning = PlanningSettings.from_settings(request.registry.settings)
        try:
            chosen, publication = insert_urgent(
                request.dbsession, self.day.date, self.day.retailer_id, planning, compound_code=compound.code,
                cut=cut, truck_code=request.POST.get("truck", ""), position=position, user=request.user.username)
        except (ReplanError, PublishError) as refused:
            return self._refused("replan.refused.other", reason=str(refused))
        request.session.flash(request.t(
            "urgent.done", compound=compound.code, truck=chosen.truck_id, version=publication.version,
            moved=len(chosen.moves), largest=round(chosen.largest_move)), "info")
        return HTTPSeeOther(self.day.url("plan_version", version=publication.version))
