"""The planner's "re-plan from now": a truck out of service from a time; the rest of the
published day is re-planned and published as the next version (``trucks.replan``)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from trucks.live import FieldInputError, parse_clock
from trucks.publishing import PublishError
from trucks.replan import ReplanError, replan_day
from trucks.services import PlanningSettings

from ..security import Permission
from .day import PlanDay


@view_config(route_name="plan_replan", request_method="GET", permission=Permission.PLAN_READ)
def replan_form(request):
    """The form lives on the day page."""
    return HTTPSeeOther(PlanDay(request).url("plan_day", _anchor="replan"))


@view_config(route_name="plan_replan", request_method="POST", permission=Permission.PLAN_PUBLISH)
def replan(request):
    """Re-plans and publishes at once (the next version), then shows that version."""
    day = PlanDay(request)
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
