"""The planner's pages: a day's import, solve with live progress, review, adjust and publish.

Every route's context is ``PlanDay`` (``routes.py``), which loads the retailer and scopes every
query to it; every POST carries the session's CSRF token (the app's default).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from trucks import constraints as plan_constraints
from trucks import exports, publishing, services, solving
from trucks.importer import FILE_NAMES, ImportFailed
from trucks.live import day_breakdowns, local_today
from trucks.models import ConstraintKind, Schedule
from trucks.services import load_schedule

from ..contexts import parse_day, row_id
from ..i18n import category_name
from ..security import Permission
from .day import PlanDay, latest_data_date
from .progress import solve_run_json
from .review import build_review, day_categories, gantt_svg, map_svg

SVG_TYPE = "image/svg+xml"


@view_config(route_name="plan_home", request_method="GET", permission=Permission.PLAN_READ)
def plan_home(request):
    """The day asked for with ``?date=``, else the most recent day with data for the planner's
    retailer, else today."""
    if request.GET.get("date"):
        date = parse_day(request.GET["date"])
        if date is None:
            raise HTTPNotFound()
    else:
        date = latest_data_date(request.dbsession, request.context.retailer_id) or local_today()
    return HTTPFound(request.route_url("plan_day", date=date.isoformat()))


def _flash(request, key: str, queue: str = "info", **values) -> None:
    request.session.flash(request.t(key, **values), queue)


def _back_to_day(day: PlanDay, anchor: str = "") -> HTTPSeeOther:
    return HTTPSeeOther(day.url("plan_day", _anchor=anchor) if anchor else day.url("plan_day"))


def day_page(request, day: PlanDay, *, problems=None) -> dict:
    """What the day's page shows; ``problems`` are a failed import's, listed above the form."""
    stock, orders, categories = day_categories(request.dbsession, day.date, day.retailer_id)
    schedule = load_schedule(request.dbsession, day.latest_schedule.id) if day.latest_schedule else None
    review = build_review(request, schedule) if schedule is not None else None
    return {
        "day": day,
        "stock": stock,
        "orders": orders,
        "categories": categories,
        "category_names": {c.key: category_name(request, c) for c in categories},
        "demand_total": {c.key: sum(o.get(c.key, 0) for o in orders.values()) for c in categories},
        "review": review,
        "map_svg": map_svg(request, review) if review else None,
        "gantt_svg": gantt_svg(request, review) if review else None,
        "constraints": plan_constraints.active_constraints(request.dbsession, day.date, day.retailer_id),
        "problems": problems,
        "file_names": FILE_NAMES,
        "read_only": False,
        "active_run": solve_run_json(request, day.active_run) if day.active_run else None,
        "last_run": solve_run_json(request, day.last_run) if day.last_run else None,
        "breakdowns": day_breakdowns(request.dbsession, day.date, day.retailer_id),
    }


@view_config(route_name="plan_day", permission=Permission.PLAN_READ, request_method="GET",
             renderer="planner/day.jinja2")
def show_day(request):
    return day_page(request, request.context)


#: the day page's section each form-only route shows on GET
FORM_SECTIONS = {"plan_import": "import", "plan_solve": "solve", "plan_constraints": "adjust"}


@view_config(route_name="plan_import", request_method="GET", permission=Permission.PLAN_READ)
@view_config(route_name="plan_solve", request_method="GET", permission=Permission.PLAN_READ)
@view_config(route_name="plan_constraints", request_method="GET", permission=Permission.PLAN_READ)
def form_section(request):
    """The forms live on the day page: a GET of their target shows that section of it."""
    return _back_to_day(request.context, FORM_SECTIONS[request.matched_route.name])


@view_config(route_name="plan_import", permission=Permission.PLAN_WRITE, request_method="POST",
             renderer="planner/day.jinja2")
def import_files(request):
    """The four CSV files (and an optional travel matrix) for the day, all or nothing."""
    day = request.context
    files = {kind: uploaded_bytes(request.POST.get(kind)) for kind in FILE_NAMES}
    try:
        batch = day.import_files({kind: data for kind, data in files.items() if data is not None})
    except ImportFailed as failed:
        request.tm.doom()  # nothing of a failed import is kept
        request.response.status = 400
        return day_page(request, day, problems=[p.as_dict(request.language) for p in failed.by_place()])
    _flash(request, "planner.import.done", demand=batch.counts.get("demand_compounds", 0),
           trucks=batch.counts.get("trucks", 0))
    return _back_to_day(day, "imported")


def uploaded_bytes(field) -> bytes | None:
    """An uploaded file's bytes; None when the input was left empty."""
    if field is None or not hasattr(field, "file"):
        return None
    data = field.file.read()
    return data if data or field.filename else None


@view_config(route_name="plan_solve", permission=Permission.PLAN_WRITE, request_method="POST")
def start_solve(request):
    """Queues a solve of the day for the workers; the page then polls its progress."""
    day = request.context
    try:
        solving.start_day_solve(request, day.date, day.retailer_id, request.user.username)
    except solving.SolveAlreadyRunning:
        _flash(request, "planner.solve.already_running", "error")
        return _back_to_day(day, "solve")
    except solving.NothingToSolve:
        _flash(request, "planner.solve.nothing", "error")
        return _back_to_day(day, "solve")
    return _back_to_day(day, "solve")


@view_config(route_name="plan_solve_status", permission=Permission.PLAN_READ, renderer="json", request_method="GET")
def solve_status(request):
    """A run's progress for the page's poll (the API's shape)."""
    return solve_run_json(request, request.context.solve_run(_int(request.matchdict["run_id"])))


@view_config(route_name="plan_solve_cancel", permission=Permission.PLAN_WRITE, request_method="POST")
def cancel_solve(request):
    """Cancels the day's queued or running solve; its worker stops and stores nothing."""
    day = request.context
    run = day.solve_run(_int(request.matchdict["run_id"]))
    if solving.cancel_solve_run(request.dbsession, run, request.user.username):
        _flash(request, "planner.solve.cancelled")
    else:
        _flash(request, "planner.solve.already_ended", "error")
    return _back_to_day(day, "solve")


def _requested_schedule(request, day: PlanDay) -> Schedule:
    """The latest schedule, or with ``?version=N`` the one that version published."""
    version = request.params.get("version")
    if version is not None:
        publication = publishing.get_publication(request.dbsession, day.date, day.retailer_id, _int(version))
        if publication is None:
            raise HTTPNotFound()
        return load_schedule(request.dbsession, publication.schedule_id)
    if day.latest_schedule is None:
        raise HTTPNotFound()
    return load_schedule(request.dbsession, day.latest_schedule.id)


def _int(text) -> int:
    """A row id or version number from a form or path; anything else names nothing (404)."""
    value = row_id(text)
    if value is None:
        raise HTTPNotFound()
    return value


@view_config(route_name="plan_map", permission=Permission.PLAN_READ, request_method="GET")
def route_map(request):
    day = request.context
    review = build_review(request, _requested_schedule(request, day))
    return Response(map_svg(request, review), content_type=SVG_TYPE, charset="utf-8")


@view_config(route_name="plan_gantt", permission=Permission.PLAN_READ, request_method="GET")
def gantt(request):
    day = request.context
    review = build_review(request, _requested_schedule(request, day))
    return Response(gantt_svg(request, review), content_type=SVG_TYPE, charset="utf-8")


@view_config(route_name="plan_constraints", permission=Permission.PLAN_WRITE, request_method="POST")
def change_constraints(request):
    """Pin a compound to a truck, forbid one, lock a truck's route; remove any of them."""
    day = request.context
    action = request.POST.get("action")
    try:
        if action == "remove":
            plan_constraints.remove_constraint(request.dbsession, day.date, day.retailer_id,
                                               _int(request.POST.get("constraint_id")))
            _flash(request, "planner.adjust.removed")
        elif action in tuple(ConstraintKind):
            plan_constraints.add_constraint(
                request.dbsession, day.date, day.retailer_id, action, request.POST.get("truck_id", ""),
                request.POST.get("compound_id"), day.latest_schedule)
            _flash(request, f"planner.adjust.added_{action}")
        else:
            raise HTTPBadRequest(f"unknown action {action!r}: use pin, forbid, lock or remove")
    except plan_constraints.NotOwned:
        raise HTTPNotFound() from None
    except plan_constraints.ConstraintError as refused:
        _flash(request, f"planner.adjust.refused.{refused.reason}", "error", **refused.values)
    return _back_to_day(day, "adjust")


@view_defaults(route_name="plan_publish", permission=Permission.PLAN_READ, renderer="planner/publish.jinja2")
class PublishView:
    """Shows what publishing the latest schedule would change, then publishes on confirmation."""

    def __init__(self, request):
        self.request = request
        self.day: PlanDay = request.context

    def _candidate(self) -> Schedule:
        if self.day.latest_schedule is None:
            raise HTTPNotFound()
        return self.day.latest_schedule

    @view_config(request_method="GET")
    def preview(self):
        candidate = self._candidate()
        latest = self.day.latest_publication
        return {
            "day": self.day,
            "candidate": candidate,
            "latest": latest,
            "already_published": latest is not None and latest.schedule_id == candidate.id,
            "outdated": services.is_stale(self.request.dbsession, candidate),
            "diff": publishing.arrival_diff(latest.schedule if latest else None, candidate),
        }

    @view_config(request_method="POST", permission=Permission.PLAN_PUBLISH)
    def publish(self):
        request = self.request
        refusals = {
            publishing.NotLatest: "planner.publish.stale",  # a newer solve finished after the preview
            publishing.StaleSchedule: "planner.publish.outdated_refused",
            publishing.PublishedMeanwhile: "planner.publish.meanwhile",
            publishing.PublishError: "planner.publish.already",
        }
        try:
            publication = publishing.publish_latest(
                request.dbsession, self.day.date, self.day.retailer_id, _int(request.POST.get("schedule_id")),
                request.user.username, confirm_stale=request.POST.get("confirm_outdated") == "1")
        except publishing.PublishError as refused:
            key = next(key for kind, key in refusals.items() if isinstance(refused, kind))
            _flash(request, key, "error")
            return HTTPSeeOther(self.day.url("plan_publish"))
        _flash(request, "planner.publish.done", version=publication.version)
        return HTTPSeeOther(self.day.url("plan_version", version=publication.version))


@view_config(route_name="plan_versions", permission=Permission.PLAN_READ, request_method="GET",
             renderer="planner/versions.jinja2")
def versions(request):
    day = request.context
    rows = publishing.list_publications(request.dbsession, day.date, day.retailer_id)
    return {
        "day": day,
        "versions": [(p, publishing.published_stop_count(request.dbsession, p)) for p in rows],
    }


@view_config(route_name="plan_version", permission=Permission.PLAN_READ, request_method="GET",
             renderer="planner/version.jinja2")
def version(request):
    """An earlier (or the current) publication, read-only."""
    day = request.context
    publication = publishing.get_publication(
        request.dbsession, day.date, day.retailer_id, _int(request.matchdict["version"])
    )
    if publication is None:
        raise HTTPNotFound()
    review = build_review(request, load_schedule(request.dbsession, publication.schedule_id))
    return {
        "day": day,
        "publication": publication,
        "is_latest": day.latest_publication.id == publication.id,
        "review": review,
        "map_svg": map_svg(request, review),
        "gantt_svg": gantt_svg(request, review),
        "read_only": True,
    }


@view_config(route_name="plan_export", permission=Permission.PLAN_READ, request_method="GET")
def export(request):
    """The day's published version, ``?version=N`` or the newest solve with ``?latest=1``, as
    JSON or CSV: the command line's export."""
    day = request.context
    fmt = request.matchdict["format"]
    if fmt not in exports.FORMATS:
        raise HTTPNotFound()
    version = request.params.get("version")
    try:
        body = exports.export(request.dbsession, day.date, retailer_id=day.retailer_id, fmt=fmt,
                              version=None if version is None else _int(version),
                              latest=request.params.get("latest") == "1")
    except exports.NothingToExport:
        raise HTTPNotFound() from None
    response = Response(body, content_type="application/json" if fmt == "json" else "text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="plan-{day.date.isoformat()}.{fmt}"'
    return response
