"""Re-planning the published day from a time on, and urgent stops, as JSON (the page's
actions, ``trucks.replan``)."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from trucks.live import FieldInputError, parse_clock
from trucks.publishing import PublishError
from trucks import solving
from trucks.replan import NotOnThisDay, ReplanError, insert_urgent, urgent_options
from trucks.services import PlanningSettings, local_time

from ..planner.progress import solve_run_json
from ..security import Permission
from .errors import ApiError, field_problem
from .inputs import integer_field, json_object, text_field
from .planner import RETAILER, planner_view, publication_json
from .spec import QueryParam, Reply, api_view


@planner_view(
    "api_replan",
    "POST",
    summary="Take a truck out of service from a time: re-plan the rest of the day on a worker and publish it",
    permission=Permission.PLAN_PUBLISH,
    request_body={"application/json": "ReplanRequest"},
    responses={
        202: Reply("queued: poll the run (its URL is in Location); once done its schedule is published", "SolveRun"),
        404: Reply("the truck is not one of the retailer's trucks loaded for the day", "Error"),
        409: Reply("nothing published yet, or a solve or re-plan of this day is still running", "Error"),
        422: Reply("the time is not HH:MM", "Error"),
    },
)
def replan(request):
    """Stops served or under way stay as the drivers reported them; the other trucks start where
    they are with what they still carry; windows move as little as the fleet allows. The run's
    ``progress_params`` name the published version once it is done."""
    day = request.context
    body = json_object(request)
    truck_code = text_field(body, "truck_id")
    cut = _clock(day, text_field(body, "from"))
    try:
        run = solving.start_day_replan(request, day.date, day.retailer_id, request.user.username,
                                       truck_code=truck_code, cut=cut)
    except NotOnThisDay:
        raise HTTPNotFound() from None
    except solving.SolveAlreadyRunning as running:
        raise ApiError(409, f"a run of {day.date} is already {running.run.status}", run_id=running.run.id) from None
    except (ReplanError, solving.NothingToSolve) as refused:
        raise ApiError(409, str(refused)) from None
    request.response.status = 202
    request.response.location = request.route_url("api_solve_run", run_id=run.id)
    return solve_run_json(request, run)


COMPOUND = QueryParam("compound_id", "the urgent compound's code", {"type": "string"})
FROM = QueryParam("from", "HH:MM: stops reached before then stay first", {"type": "string"})


def _local(date, minutes: float) -> str:
    return local_time(date, minutes).isoformat(timespec="minutes")


def option_json(date, option) -> dict:
    return {
        "truck_id": option.truck_id,
        "position": option.position,
        "arrival": _local(date, option.visit.arrival),
        "start": _local(date, option.visit.start),
        "deliveries": dict(option.deliveries),
        "extra_travel_minutes": round(option.extra_travel, 1),
        "within_limit": option.within_limit,
        "moves": [{"compound_id": m.compound_id, "before": _local(date, m.before), "after": _local(date, m.after),
                   "minutes": round(m.minutes, 1)} for m in option.moves],
    }


def _clock(day, text: str | None):
    try:
        return parse_clock(day.date, text or "")
    except FieldInputError as bad:
        raise ApiError(422, str(bad), [field_problem("from", bad.code, str(bad))]) from None


@api_view(
    "api_urgent",
    summary="Where an urgent compound fits on the published routes, best first",
    tag="planner",
    query=(RETAILER, COMPOUND, FROM),
    permission=Permission.PLAN_READ,
    responses={
        200: Reply("the places, those pushing no published start by more than 15 minutes first", "UrgentOptions"),
        404: Reply("the compound has no order from this retailer on the day", "Error"),
        409: Reply("nothing published, or the compound is already on the plan", "Error"),
        422: Reply("the time is not HH:MM", "Error"),
    },
)
def urgent_places(request):
    day = request.context
    cut = _clock(day, request.params.get("from"))
    planning = PlanningSettings.from_settings(request.registry.settings)
    compound = request.params.get("compound_id", "")
    try:
        found = urgent_options(request.dbsession, day.date, day.retailer_id, planning, compound_code=compound, cut=cut)
    except NotOnThisDay:
        raise HTTPNotFound() from None
    except ReplanError as refused:
        raise ApiError(409, str(refused)) from None
    return {"compound_id": compound, "from": cut.strftime("%H:%M"), "base_version": found.base_version,
            "options": [option_json(day.date, o) for o in found.options]}


@planner_view(
    "api_urgent",
    "POST",
    summary="Put an urgent compound at the chosen place and publish the next version",
    permission=Permission.PLAN_PUBLISH,
    request_body={"application/json": "UrgentRequest"},
    responses={
        201: Reply("inserted and published", "UrgentInserted"),
        404: Reply("the compound has no order from this retailer on the day", "Error"),
        409: Reply("nothing published, or that place is not possible", "Error"),
        422: Reply("a field is missing or the time is not HH:MM", "Error"),
    },
)
def urgent_insert(request):
    """Every other stop stays as published, except the later stops of that truck that the
    chosen place pushes (as the options showed)."""
    day = request.context
    body = json_object(request)
    compound, truck = text_field(body, "compound_id"), text_field(body, "truck_id")
    cut = _clock(day, text_field(body, "from"))
    position = integer_field(body, "position")
    if position is None:
        raise ApiError(422, "position is required", [field_problem("position", "required", "a whole number is required")])
    planning = PlanningSettings.from_settings(request.registry.settings)
    try:
        chosen, publication = insert_urgent(request.dbsession, day.date, day.retailer_id, planning,
                                            compound_code=compound, cut=cut, truck_code=truck, position=position,
                                            user=request.user.username)
    except NotOnThisDay:
        raise HTTPNotFound() from None
    except (ReplanError, PublishError) as refused:
        raise ApiError(409, str(refused)) from None
    request.response.status = 201
    return {"publication": publication_json(request.dbsession, publication), "inserted": option_json(day.date, chosen)}
