"""Re-planning the published day from a time on, as JSON (the page's action, ``trucks.replan``)."""
from __future__ import annotations

from trucks.live import FieldInputError, parse_clock
from trucks.publishing import PublishError
from trucks.replan import ReplanError, replan_day
from trucks.services import PlanningSettings

from ..planner.day import PlanDay
from ..security import Permission
from .errors import ApiError, field_problem
from .inputs import json_object, text_field
from .planner import planner_view, publication_json
from .spec import Reply


@planner_view(
    "api_replan",
    "POST",
    summary="Take a truck out of service from a time; re-plan the rest of the day and publish it",
    permission=Permission.PLAN_PUBLISH,
    request_body={"application/json": "ReplanRequest"},
    responses={
        201: Reply("re-planned and published as the next version", "Replanned"),
        409: Reply("nothing published yet, or the truck is not on the day", "Error"),
        422: Reply("the time is not HH:MM", "Error"),
    },
)
def replan(request):
    """Stops served or under way stay as the drivers reported them; the other trucks start where
    they are with what they still carry; windows move as little as the fleet allows."""
    day = PlanDay(request)
    body = json_object(request)
    truck_code = text_field(body, "truck_id")
    try:
        cut = parse_clock(day.date, text_field(body, "from"))
    except FieldInputError as bad:
        raise ApiError(422, str(bad), [field_problem("from", bad.code, str(bad))]) from None
    planning = PlanningSettings.from_settings(request.registry.settings)
    try:
        outcome = replan_day(request.dbsession, day.date, day.retailer_id, planning, truck_code=truck_code,
                             cut=cut, user=request.user.username)
    except (ReplanError, PublishError) as refused:
        raise ApiError(409, str(refused)) from None
    result = outcome.replan
    request.response.status = 201
    request.response.location = request.route_url(
        "api_publication", date=day.date.isoformat(), version=outcome.publication.version)
    return {
        "publication": publication_json(request.dbsession, outcome.publication),
        "base_version": outcome.base_version,
        "truck_id": truck_code,
        "from": cut.strftime("%H:%M"),
        "kept": list(result.kept),
        "reserved": list(result.reserved),
        "dropped": list(result.dropped),
        "moved": [{"compound_id": m.compound_id, "minutes": round(m.minutes, 1), "truck_before": m.truck_before,
                   "truck_after": m.truck_after} for m in result.moved],
        "unserved": [{"compound_id": u.compound_id, "reason": str(u.reason)} for u in result.unserved],
        "seconds": round(result.seconds, 2),
    }
