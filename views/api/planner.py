"""The planner's day as JSON: import, solve, constraints and publications.

The context and the day's queries are the planner pages' own (``PlanDay``, or
``SolveRunContext`` for a run reached by its id); every change goes through the same ``trucks``
functions the pages call.
"""
from __future__ import annotations

from functools import partial

from pyramid.httpexceptions import HTTPNoContent, HTTPNotFound

from trucks import constraints as plan_constraints
from trucks import publishing, solving
from trucks.importer import FILE_NAMES, ImportFailed
from trucks.models import ConstraintKind, ImportBatch, PlanConstraint, Publication, Schedule
from trucks.exports import schedule_document
from trucks.services import is_stale, load_schedule

from ..contexts import path_row_id
from ..planner.day import PlanDay
from ..planner.progress import solve_run_json
from ..planner.review import Review, build_review, day_categories
from ..security import Permission
from .errors import ApiError, field_problem
from .inputs import integer_field, json_object, local_timestamp, text_field
from .spec import QueryParam, Reply, api_view

RETAILER = QueryParam(
    "retailer",
    "admins and coordinators: the retailer's id (a planner always gets their own)",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
)
#: every planner endpoint: its tag, and the admin's ``?retailer=`` the scoping reads
planner_view = partial(api_view, tag="planner", query=(RETAILER,))


# --------------------------------------------------------------------------- shapes


def schedule_json(dbsession, schedule: Schedule, version: int | None) -> dict:
    """The export's document (routes by truck code, unserved with reasons) plus the row's facts;
    ``version`` is the publication's number (None for a solve not published)."""
    return {
        "id": schedule.id,
        "status": schedule.status,
        "travel_minutes": schedule.travel_minutes,
        **schedule_document(dbsession, schedule, version),
    }


def fill_rates_json(review: Review) -> dict:
    return {
        "categories": [
            {"category": c.key, "stock": c.stock, "demand": c.demand, "delivered": c.delivered, "rate": c.rate}
            for c in review.categories
        ],
        "compounds": [
            {
                "compound_id": fill.compound.code,
                "name": fill.compound.name,
                "truck_id": fill.truck_code,
                "rate": fill.rate,
                "delivered": {key: delivered for key, (delivered, _) in fill.cells.items()},
                "demand": {key: demanded for key, (_, demanded) in fill.cells.items()},
            }
            for fill in review.compounds
        ],
    }


def batch_json(batch: ImportBatch) -> dict:
    return {
        "id": batch.id,
        "created_at": local_timestamp(batch.created_at),
        "created_by": batch.created_by,
        "counts": batch.counts,
        "notes": batch.notes,
    }


def constraint_json(constraint: PlanConstraint) -> dict:
    return {
        "id": constraint.id,
        "kind": constraint.kind,
        "truck_id": constraint.truck.code,
        "compound_id": constraint.compound.code if constraint.compound else None,
        "locked_route": constraint.locked_route,
    }


def publication_json(dbsession, publication: Publication) -> dict:
    return {
        "version": publication.version,
        "published_at": local_timestamp(publication.published_at),
        "published_by": publication.published_by,
        "schedule_id": publication.schedule_id,
        "stops": publishing.published_stop_count(dbsession, publication),
    }


def _planned_json(stop: publishing.PlannedStop) -> dict:
    return {
        "compound_id": stop.compound.code,
        "name": stop.compound.name,
        "truck_id": stop.truck.code,
        "arrival": stop.arrival.isoformat(timespec="seconds"),
    }


def diff_json(diff: publishing.ArrivalDiff) -> dict:
    return {
        "first": diff.first,
        "changed": diff.changed,
        "unchanged": diff.unchanged,
        "moved": [
            {
                "compound_id": moved.compound.code,
                "name": moved.compound.name,
                "minutes": moved.minutes,
                "truck_changed": moved.truck_changed,
                "before": _planned_json(moved.before),
                "after": _planned_json(moved.after),
            }
            for moved in diff.moved
        ],
        "added": [_planned_json(stop) for stop in diff.added],
        "dropped": [_planned_json(stop) for stop in diff.dropped],
    }


def _version_of(day: PlanDay, schedule: Schedule) -> int | None:
    """The number the schedule is published as now, if it is the day's current version."""
    latest = day.latest_publication
    return latest.version if latest is not None and latest.schedule_id == schedule.id else None


def _candidate_diff(day: PlanDay) -> publishing.ArrivalDiff:
    latest = day.latest_publication
    return publishing.arrival_diff(latest.schedule if latest else None, day.latest_schedule)


# --------------------------------------------------------------------------- the day


@planner_view(
    "api_day",
    summary="The day: what was imported, the latest solve and schedule, fill rates",
    permission=Permission.PLAN_READ,
    responses={200: Reply("the retailer's day", "Day")},
)
def day(request):
    """Counts of the trucks loaded and compounds supplied, stock and demand per category, the
    import batches, the running (else the last) solve run, the latest schedule in the export's
    shape, its fill rates per category and per compound, and the published version."""
    day = request.context
    stock, orders, categories = day_categories(request.dbsession, day.date, day.retailer_id)
    schedule = load_schedule(request.dbsession, day.latest_schedule.id) if day.latest_schedule else None
    run = day.active_run or day.last_run
    return {
        "date": day.date.isoformat(),
        "retailer": {"id": day.retailer.id, "name": day.retailer.name},
        "imported": {
            "trucks": len(day.trucks),
            "compounds": len(day.compounds),
            "categories": [
                {
                    "category": c.key,
                    "name_zh": c.name_zh,
                    "name_en": c.name_en,
                    "stock": stock.get(c.key, 0),
                    "demand": sum(order.get(c.key, 0) for order in orders.values()),
                }
                for c in categories
            ],
            "batches": [batch_json(batch) for batch in day.imports],
        },
        "solve_run": solve_run_json(request, run) if run else None,
        "schedule": schedule_json(request.dbsession, schedule, _version_of(day, schedule)) if schedule else None,
        "fill_rates": fill_rates_json(build_review(request, schedule)) if schedule else None,
        "published_version": day.latest_publication.version if day.latest_publication else None,
    }


IMPORT_BODY = {
    "type": "object",
    "properties": {
        kind: {"type": "string", "contentMediaType": "text/csv", "description": f"{name} (UTF-8)"}
        for kind, name in FILE_NAMES.items()
    },
    "required": ["stock", "demand"],
}


@planner_view(
    "api_import",
    "POST",
    summary="Import the day's CSV files, all or nothing",
    permission=Permission.PLAN_WRITE,
    request_body={"multipart/form-data": IMPORT_BODY},
    responses={
        201: Reply("imported", "ImportBatch"),
        415: Reply("the body is not multipart/form-data", "Error"),
        422: Reply("nothing imported: every problem by file, row and column", "Error"),
    },
)
def import_files(request):
    """The same checks as the page and the command line; with any problem nothing is written.
    A planner may import only their own retailer's trucks and demand."""
    day = request.context
    if request.content_type != "multipart/form-data":
        raise ApiError(415, f"send the files as multipart/form-data, not {request.content_type or 'untyped'}")
    files = {}
    for kind in FILE_NAMES:
        part = request.POST.get(kind)
        if part is None:
            continue
        if not hasattr(part, "file"):
            raise ApiError(400, f"send {kind} as a file part of the multipart body")
        files[kind] = part.file.read()
    try:
        batch = day.import_files(files)
    except ImportFailed as failed:
        raise ApiError(422, "the import has problems: nothing was imported",
                       [p.as_dict(request.language) for p in failed.by_place()]) from None
    request.response.status = 201
    return batch_json(batch)


# --------------------------------------------------------------------------- solving


@planner_view(
    "api_solve",
    "POST",
    summary="Start solving the day in the background",
    permission=Permission.PLAN_WRITE,
    responses={
        202: Reply("started: poll the run (its URL is in Location)", "SolveRun"),
        409: Reply("a solve of this day is still running (its run_id is given)", "Error"),
        422: Reply("nothing to solve: no demand or no loaded truck", "Error"),
    },
)
def solve(request):
    """One solve per day at a time: a second start while one runs is refused."""
    day = request.context
    try:
        run = solving.start_day_solve(request, day.date, day.retailer_id, request.user.username)
    except solving.SolveAlreadyRunning as running:
        raise ApiError(409, f"a solve of {day.date} is already {running.run.status}", run_id=running.run.id) from None
    except solving.NothingToSolve as nothing:
        raise ApiError(422, str(nothing)) from None
    request.response.status = 202
    request.response.location = request.route_url("api_solve_run", run_id=run.id)
    return solve_run_json(request, run)


@planner_view(
    "api_solve_run",
    summary="A solve run's progress",
    permission=Permission.PLAN_READ,
    responses={200: Reply("the run", "SolveRun")},
)
def solve_run(request):
    """The run's retailer's planners, the coordinator and the admin may read it (its context's
    ACL). ``finished`` turns true once the run ended or its worker stopped writing its heartbeat
    (abandoned)."""
    return solve_run_json(request, request.context.run)


@planner_view(
    "api_solve_run_cancel",
    "POST",
    summary="Cancel a queued or running solve",
    permission=Permission.PLAN_WRITE,
    responses={
        200: Reply("cancelled: the worker stops within a second and stores nothing", "SolveRun"),
        409: Reply("the run has already ended", "Error"),
    },
)
def cancel_solve_run(request):
    """The run ends as cancelled at once; a worker solving it stops at its next heartbeat."""
    run = request.context.run
    if not solving.cancel_solve_run(request.dbsession, run, request.user.username):
        raise ApiError(409, f"solve run {run.id} has already ended ({run.status})", run_id=run.id)
    return solve_run_json(request, run)


# --------------------------------------------------------------------------- constraints


@planner_view(
    "api_constraints",
    summary="The day's pins, forbids and locks",
    permission=Permission.PLAN_READ,
    responses={200: Reply("the constraints", {"type": "object", "properties": {
        "constraints": {"type": "array", "items": {"$ref": "#/components/schemas/Constraint"}}},
        "required": ["constraints"]})},
)
def constraints(request):
    day = request.context
    rows = plan_constraints.active_constraints(request.dbsession, day.date, day.retailer_id)
    return {"constraints": [constraint_json(c) for c in rows]}


NOT_YOURS = "the truck or compound is not one of yours for this day"


@planner_view(
    "api_constraints",
    "POST",
    summary="Pin a compound to a truck, forbid one, or lock a truck's route",
    permission=Permission.PLAN_WRITE,
    request_body={"application/json": "NewConstraint"},
    responses={
        201: Reply("added", "Constraint"),
        404: Reply("the truck or compound is not one of the retailer's for the day", "Error"),
        409: Reply("contradicts an active constraint, or nothing to lock (reason says which)", "Error"),
        422: Reply("the body is incomplete", "Error"),
    },
)
def add_constraint(request):
    """Codes are the CSV ids; a lock keeps the truck's route of the latest schedule."""
    day = request.context
    body = json_object(request)
    kind = body.get("kind")
    if kind not in tuple(ConstraintKind):
        raise ApiError(422, "kind must be pin, forbid or lock", [field_problem("kind", "unknown_kind", "pin, forbid or lock")])
    truck_code = text_field(body, "truck_id")
    compound_code = text_field(body, "compound_id") if kind != ConstraintKind.LOCK else None
    try:
        constraint = plan_constraints.add_constraint(request.dbsession, day.date, day.retailer_id, kind,
                                                     truck_code, compound_code, day.latest_schedule)
    except plan_constraints.NotOwned:
        raise ApiError(404, NOT_YOURS) from None
    except plan_constraints.ConstraintError as refused:
        raise ApiError(409, str(refused), reason=refused.reason) from None
    request.response.status = 201
    return constraint_json(constraint)


@planner_view(
    "api_constraint",
    "DELETE",
    summary="Remove a constraint",
    permission=Permission.PLAN_WRITE,
    responses={204: Reply("removed")},
)
def remove_constraint(request):
    day = request.context
    try:
        plan_constraints.remove_constraint(request.dbsession, day.date, day.retailer_id, path_row_id(request, "constraint_id"))
    except plan_constraints.NotOwned:
        raise HTTPNotFound() from None
    return HTTPNoContent()


# --------------------------------------------------------------------------- publications


@planner_view(
    "api_publications",
    summary="The day's published versions, and what publishing the latest schedule would change",
    permission=Permission.PLAN_READ,
    responses={200: Reply("versions, newest first, and the candidate's diff", "Publications")},
)
def publications(request):
    day = request.context
    candidate = day.latest_schedule
    latest = day.latest_publication
    return {
        "date": day.date.isoformat(),
        "publications": [
            publication_json(request.dbsession, p)
            for p in publishing.list_publications(request.dbsession, day.date, day.retailer_id)
        ],
        "candidate": None
        if candidate is None
        else {
            "schedule_id": candidate.id,
            "already_published": latest is not None and latest.schedule_id == candidate.id,
            "outdated": is_stale(request.dbsession, candidate),
            "diff": diff_json(_candidate_diff(day)),
        },
    }


@planner_view(
    "api_publications",
    "POST",
    summary="Publish the day's latest schedule, named by its id, as the next version",
    permission=Permission.PLAN_PUBLISH,
    request_body={"application/json": "PublishRequest"},
    responses={
        201: Reply("published, with how arrivals moved against the previous version", "Published"),
        409: Reply("nothing solved, already published, not the latest schedule, or solved before a later "
                   "import without confirm_outdated (reason says which)", "Error"),
        422: Reply("schedule_id missing", "Error"),
    },
)
def publish(request):
    """Earlier versions stay readable; committees and drivers see the new one at once."""
    day = request.context
    body = json_object(request)
    schedule_id = integer_field(body, "schedule_id")
    if schedule_id is None:
        raise ApiError(422, "schedule_id is required: the schedule reviewed",
                       [field_problem("schedule_id", "required", "a whole number is required")])
    confirm = body.get("confirm_outdated", False)
    if not isinstance(confirm, bool):
        raise ApiError(422, "confirm_outdated must be true or false",
                       [field_problem("confirm_outdated", "not_boolean", "true or false")])
    diff = _candidate_diff(day) if day.latest_schedule is not None else None
    try:
        publication = publishing.publish_latest(request.dbsession, day.date, day.retailer_id, schedule_id,
                                                request.user.username, confirm_stale=confirm)
    except publishing.PublishError as refused:
        raise ApiError(409, str(refused), reason=PUBLISH_REFUSALS[type(refused)]) from None
    request.response.status = 201
    request.response.location = request.route_url(
        "api_publication", date=day.date.isoformat(), version=publication.version
    )
    return {"publication": publication_json(request.dbsession, publication), "diff": diff_json(diff)}


#: the ``reason`` of a refused publication
PUBLISH_REFUSALS = {
    publishing.NothingToPublish: "nothing_solved",
    publishing.NotLatest: "not_latest",
    publishing.StaleSchedule: "outdated",
    publishing.AlreadyPublished: "already_published",
    publishing.PublishedMeanwhile: "published_meanwhile",
}


@planner_view(
    "api_publication",
    summary="One published version with its schedule",
    permission=Permission.PLAN_READ,
    responses={200: Reply("the version", "PublicationDetail")},
)
def publication(request):
    day = request.context
    found = publishing.get_publication(request.dbsession, day.date, day.retailer_id, path_row_id(request, "version"))
    if found is None:
        raise HTTPNotFound()
    return {
        "publication": publication_json(request.dbsession, found),
        "schedule": schedule_json(request.dbsession, found.schedule, found.version),
    }
