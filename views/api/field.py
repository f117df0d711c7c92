"""The committee's and the driver's data as JSON, from the same ``trucks.live`` facts as their pages.

A compound's token is the key to its public data (nothing private: no phone numbers, no other
compounds); a driver reaches only their own truck's published stops.
"""
from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from trucks import committees
from trucks.live import (
    FieldInputError,
    clock_or_now,
    ReportFact,
    compound_day,
    driver_route,
    local_today,
    record_stop_event,
    report_breakdown,
)
from trucks.models import Schedule, ScheduleRoute, ScheduleStop

from ..committee import DAYS_SHOWN, first_shown_day
from ..contexts import parse_day, path_row_id
from ..security import Permission
from .errors import ApiError, field_problem, json_error
from .inputs import integer_field, json_object, text_field
from .spec import QueryParam, Reply, api_view

ADMIN_TRUCK = QueryParam("truck", "admins only: the truck's code (a driver always gets their own)")


def _field_error(error: FieldInputError) -> ApiError:
    return ApiError(422, str(error), [field_problem(error.field, error.code, str(error))])


@api_view(
    "api_compound",
    summary="A compound's published service windows for today and tomorrow",
    tag="committee",
    permission=Permission.COMMITTEE_READ,
    query=(QueryParam("date", "the first day shown, YYYY-MM-DD (default today)", {"type": "string", "format": "date"}),),
    responses={200: Reply("the compound and its days", "Compound")},
)
def compound(request):
    """Public: the link's token is the key, and a wrong token is 404. Each day has the current
    version's 15-minute window of the service start (later than ``arrival`` when the truck waits
    for the compound's window to open), the minutes it sells (start to departure), retailer and
    plate, the goods, a notice when a newer version moved the time, and the driver's updated
    estimate."""
    found = request.context.compound
    first = first_shown_day(request)
    return {
        "compound": {"name": found.name, "town": found.town, "address": found.address},
        "days": [
            compound_day(request.dbsession, found, first + dt.timedelta(days=offset)).as_json()
            for offset in range(DAYS_SHOWN)
        ],
    }


def committee_refusal(request, error: Exception):
    """A wrong code (403), too many attempts (429), a report that cannot be withdrawn (409) or
    bad input (422), as JSON. Returned rather than raised, so that a counted wrong code is kept."""
    if isinstance(error, committees.WrongCode):
        return json_error(request, 403, str(error), [field_problem("code", "wrong_code", str(error))])
    if isinstance(error, committees.TooManyAttempts):
        request.response.headers["Retry-After"] = str(error.refusal.seconds)
        return json_error(request, 429, str(error), retry_after_seconds=error.refusal.seconds)
    if isinstance(error, committees.NotWithdrawable):
        return json_error(request, 409, str(error))
    return json_error(request, 422, str(error), [field_problem(error.field, error.code, str(error))])


COMMITTEE_REFUSALS = (committees.WrongCode, committees.TooManyAttempts, committees.NotWithdrawable, FieldInputError)


@api_view(
    "api_compound_report",
    "POST",
    summary='Report "cannot receive" for a day, with the committee code',
    tag="committee",
    permission=Permission.COMMITTEE_REPORT,
    request_body={"application/json": "NewReport"},
    responses={
        201: Reply("stored: the planner's next solve leaves the compound out that day", "Report"),
        403: Reply("the committee code is missing or wrong (or no CSRF token)", "Error"),
        422: Reply("the date or reason is not acceptable", "Error"),
        429: Reply("too many wrong codes or reports for this compound lately; see Retry-After", "Error"),
    },
)
def compound_report(request):
    """The link's token finds the compound (the context); the committee code in the body files
    the report. It needs the session's CSRF token too."""
    found = request.context.compound
    body = json_object(request)
    date_text = body.get("date")
    date = local_today() if date_text is None else parse_day(date_text)
    if date is None:
        raise ApiError(422, "date must be YYYY-MM-DD", [field_problem("date", "date_format", "YYYY-MM-DD")])
    reason, code = body.get("reason"), body.get("code")
    try:
        report = committees.file_report(
            request.dbsession, found, date, reason if isinstance(reason, str) else "",
            code if isinstance(code, str) else None, request.remote_addr)
    except COMMITTEE_REFUSALS as error:
        return committee_refusal(request, error)
    request.response.status = 201
    return ReportFact.of(report).as_json()


@api_view(
    "api_compound_withdraw",
    "POST",
    summary="Withdraw a report, with the committee code",
    tag="committee",
    permission=Permission.COMMITTEE_REPORT,
    request_body={"application/json": "CommitteeCode"},
    responses={
        200: Reply("withdrawn: the next solve serves the compound again", "Report"),
        403: Reply("the committee code is missing or wrong (or no CSRF token)", "Error"),
        409: Reply("withdrawn already, or the day's solve has used it", "Error"),
        429: Reply("too many wrong codes for this compound lately; see Retry-After", "Error"),
    },
)
def compound_withdraw(request):
    """Until a solve of the report's day has started, the committee may take its report back."""
    found = request.context.compound
    report_id = path_row_id(request, "report_id")
    code = json_object(request).get("code")
    try:
        report = committees.withdraw_report(
            request.dbsession, found, report_id, code if isinstance(code, str) else None, request.remote_addr)
    except LookupError:
        raise HTTPNotFound() from None
    except COMMITTEE_REFUSALS as error:
        return committee_refusal(request, error)
    return ReportFact.of(report).as_json()


@api_view(
    "api_driver_day",
    summary="The driver's own published stops of a day, with current estimates",
    tag="driver",
    permission=Permission.DRIVER_STOPS_READ,
    query=(ADMIN_TRUCK,),
    responses={200: Reply("the truck's route, or null when nothing is published for it", "DriverDay")},
)
def driver_day(request):
    """Order, compound, address, committee contact, navigation link, goods to hand over and
    each stop's published and estimated times."""
    date = request.context.date
    truck = _truck(request)
    route = driver_route(request.dbsession, truck, date)
    return {"date": date.isoformat(), "truck_id": truck.code, "route": None if route is None else route.as_json()}


def _truck(request):
    truck = request.context.truck
    if truck is None:
        raise ApiError(400, "an admin names the truck with ?truck=CODE")
    return truck


@api_view(
    "api_driver_stop_event",
    "POST",
    summary="Report arrived, departed or a delay at a stop",
    tag="driver",
    permission=Permission.DRIVER_STOPS_WRITE,
    query=(ADMIN_TRUCK,),
    request_body={"application/json": "NewStopEvent"},
    responses={
        201: Reply("recorded; the stop with its new estimate", "StopEvent"),
        422: Reply("the report is not acceptable (field says which part)", "Error"),
    },
)
def driver_stop_event(request):
    """Only stops of the truck's current published route; any other stop is 404. Later stops'
    estimates (and the compounds' pages) follow from the report."""
    truck = _truck(request)
    stop_id = path_row_id(request, "stop_id")
    date = request.dbsession.scalar(
        select(Schedule.date)
        .join(ScheduleRoute, ScheduleRoute.schedule_id == Schedule.id)
        .join(ScheduleStop, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleStop.id == stop_id)
    )
    if date is None:
        raise HTTPNotFound()
    body = json_object(request)
    kind = text_field(body, "kind")
    at_text = text_field(body, "at", required=False)
    try:
        event = record_stop_event(
            request.dbsession,
            truck,
            date,
            stop_id,
            kind,
            at=clock_or_now(date, at_text),
            delay_minutes=integer_field(body, "delay_minutes"),
            created_by=request.user.username,
        )
    except LookupError:
        raise HTTPNotFound() from None
    except FieldInputError as error:
        raise _field_error(error) from None
    request.response.status = 201
    route = driver_route(request.dbsession, truck, date)
    stop = next(s for s in route.stops if s.stop_id == stop_id)
    return {
        "event": {
            "id": event.id,
            "kind": event.kind,
            "at": event.at.isoformat(timespec="minutes"),
            "delay_minutes": event.delay_minutes,
        },
        "stop": stop.as_json(),
    }


@api_view(
    "api_driver_breakdown",
    "POST",
    summary="Report the truck broken down from a time (the planner confirms or dismisses it)",
    tag="driver",
    permission=Permission.DRIVER_STOPS_WRITE,
    query=(ADMIN_TRUCK,),
    request_body={"application/json": "NewBreakdown"},
    responses={
        201: Reply("recorded, waiting for the planner (a second report before then corrects the time)", "Breakdown"),
        404: Reply("the truck has no published route on the date", "Error"),
        422: Reply("the time is not HH:MM on the date", "Error"),
    },
)
def driver_breakdown(request):
    """Confirmed by the planner, it starts a re-plan of the rest of the day with the truck out
    of service from then; the committees' pages then show the new windows or "not today"."""
    truck = _truck(request)
    date = request.context.date
    if date is None:
        raise HTTPNotFound()
    at_text = text_field(json_object(request), "from", required=False)
    try:
        report = report_breakdown(request.dbsession, truck, date, at=clock_or_now(date, at_text),
                                  created_by=request.user.username)
    except LookupError:
        raise HTTPNotFound() from None
    except FieldInputError as error:  # every problem here is the time's
        raise ApiError(422, str(error), [field_problem("from", error.code, str(error))]) from None
    request.response.status = 201
    return {"id": report.id, "date": date.isoformat(), "truck_id": truck.code,
            "from": report.at.isoformat(timespec="minutes"), "status": report.status}
