"""The planner's "re-plan from now" (a truck out of service from a time; the rest of the
published day is re-planned) and "urgent stop" (a compound added to the published routes), each
published as the next version (``trucks.replan``)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from trucks.live import FieldInputError, parse_clock
from trucks.publishing import PublishError
from trucks.replan import ReplanError, insert_urgent, replan_day, urgent_options
from trucks.services import PlanningSettings

from ..security import Permission


@view_config(route_name="plan_replan", request_method="GET", permission=Permission.PLAN_READ)
def replan_form(request):
    """The form lives on the day page."""
    return HTTPSeeOther(request.context.url("plan_day", _anchor="replan"))


@view_config(route_name="plan_replan", request_method="POST", permission=Permission.PLAN_PUBLISH)
def replan(request):
    """Re-plans and publishes at once (the next version), then shows that version."""
    day = request.context
    truck = next((t for t in day.trucks if str(t.id) == request.POST.get("truck_id")), None)
    if truck is None:
        request.session.flash(request.t("replan.refused.truck"), "error")
        return HTTPSeeOther(day.url("plan_day", _anchor="replan"))
    planning = PlanningSettings.from_settings(request.registry.settings)
    try:
        cut = parse_clock(day.date, request.POST.get("from", ""))
        outcome = replan_day(request.dbsession, day.date, day.retailer_id, planning, truck_code=truck.code,
                             cut=cut, user=request.user.username)
    except FieldInputError:
        request.session.flash(request.t("replan.refused.time"), "error")
        return HTTPSeeOther(day.url("plan_day", _anchor="replan"))
    except (ReplanError, PublishError) as refused:
        request.session.flash(request.t("replan.refused.other", reason=str(refused)), "error")
        return HTTPSeeOther(day.url("plan_day", _anchor="replan"))
    result = outcome.replan
    request.session.flash(request.t(
        "replan.done", truck=truck.code, at=cut.strftime("%H:%M"), version=outcome.publication.version,
        kept=len(result.kept), reserved=len(result.reserved), dropped=len(result.dropped),
        moved=len(result.moved), mean=round(result.moved_mean), max=round(result.moved_max)), "info")
    for unserved in result.unserved:
        request.session.flash(request.t(
            "replan.unserved", compound=unserved.compound_id,
            reason=request.t(f"replan.reason.{unserved.reason}")), "info")
    return HTTPSeeOther(day.url("plan_version", version=outcome.publication.version))


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
