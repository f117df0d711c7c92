"""The district coordinator's pages: the day of every retailer, the assignment of compounds to
retailers (propose, pin, confirm), the district solve, the compounds, and the users.

Every change goes through ``trucks.district`` or ``trucks.accounts``; the pages only read the
form and show the answer. An admin sees them as the coordinator does.
"""
from __future__ import annotations


from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config, view_defaults
from sqlalchemy import func, select

from trucks import district
from trucks.accounts import AccountError, create_user, manageable_roles
from trucks.importer import FILE_NAMES, ImportFailed, import_day
from trucks.live import local_today
from trucks.models import Category, Compound, Retailer, SolveRun, SolveStatus, Stock, Truck, User
from trucks.services import PlanningSettings
from trucks.solving import NothingToSolve, SolveAlreadyRunning

from ..i18n import category_name
from ..contexts import parse_day
from ..planner.progress import progress_text
from ..planner.views import uploaded_bytes
from ..security import Permission


def _flash(request, key: str, queue: str = "info", **values) -> None:
    request.session.flash(request.t(key, **values), queue)


def _int(text) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise HTTPBadRequest(f"{text!r} is not a number") from None


@view_config(route_name="district_home", permission=Permission.DISTRICT_READ, request_method="GET")
def district_home(request):
    """The day asked for with ``?date=``, else the latest day with loaded trucks, else today."""
    if request.params.get("date"):
        date = parse_day(request.params["date"])
        if date is None:
            raise HTTPNotFound()
    else:
        date = request.dbsession.scalar(select(func.max(Stock.date))) or local_today()
    return HTTPFound(request.route_url("district_day", date=date.isoformat()))


def _active_runs(dbsession, date) -> list[SolveRun]:
    return list(dbsession.scalars(select(SolveRun).where(
        SolveRun.date == date, SolveRun.status.in_((SolveStatus.QUEUED, SolveStatus.RUNNING)))))


def day_page(request, date, problems=None) -> dict:
    """What the district's day page shows; ``problems`` are a failed import's."""
    return {
        "day": district.district_day(request.dbsession, date),
        "current": district.demand_retailers(request.dbsession, date),
        "retailers": list(request.dbsession.scalars(select(Retailer).order_by(Retailer.name))),
        "running": _active_runs(request.dbsession, date),
        "problems": problems,
        "file_names": FILE_NAMES,
        "progress_text": lambda run: progress_text(run, request.language),
        "category_names": {c.key: category_name(request, c) for c in request.dbsession.scalars(select(Category))},
    }


@view_config(route_name="district_day", permission=Permission.DISTRICT_READ, request_method="GET",
             renderer="district/day.jinja2")
def district_day(request):
    return day_page(request, request.context.date)


@view_config(route_name="district_import", permission=Permission.DISTRICT_READ, request_method="GET")
def import_section(request):
    return HTTPFound(request.route_url("district_day", date=request.matchdict["date"], _anchor="import"))


@view_config(route_name="district_import", permission=Permission.DISTRICT_COMPOUNDS_WRITE, request_method="POST",
             renderer="district/day.jinja2")
def import_files(request):
    """The district's files of the day (compounds' master data, every fleet, stock and demand),
    all or nothing; demand goes to the confirmed assignment, else the nearest depot."""
    date = request.context.date
    files = {kind: uploaded_bytes(request.POST.get(kind)) for kind in FILE_NAMES}
    try:
        batch = import_day(
            request.dbsession, date, {kind: data for kind, data in files.items() if data is not None},
            user=request.user.username,
            max_stops_default=PlanningSettings.from_settings(request.registry.settings).max_stops_default)
    except ImportFailed as failed:
        request.tm.doom()  # nothing of a failed import is kept
        request.response.status = 400
        return day_page(request, date, problems=[p.as_dict(request.language) for p in failed.by_place()])
    _flash(request, "planner.import.done", demand=batch.counts.get("demand_compounds", 0),
           trucks=batch.counts.get("trucks", 0))
    return HTTPSeeOther(request.route_url("district_day", date=date.isoformat(), _anchor="load"))


@view_config(route_name="district_assignment", permission=Permission.DISTRICT_READ, request_method="GET")
def assignment_section(request):
    return HTTPFound(request.route_url("district_day", date=request.matchdict["date"], _anchor="assignment"))


@view_config(route_name="district_assignment", permission=Permission.DISTRICT_COMPOUNDS_WRITE,
             request_method="POST")
def change_assignment(request):
    """``action``: propose (the LP), pin or unpin a compound, confirm the assignment."""
    date = request.context.date
    action = request.POST.get("action")
    dbsession = request.dbsession
    back = HTTPSeeOther(request.route_url("district_day", date=date.isoformat(), _anchor="assignment"))
    try:
        if action == "propose":
            planning = PlanningSettings.from_settings(request.registry.settings)
            assignment = district.propose_assignment(dbsession, date, planning)
            _flash(request, "district.assignment.proposed", compounds=len(assignment.retailer_of),
                   over=len(assignment.over_capacity))
        elif action == "pin":
            district.pin_compound(dbsession, date, _int(request.POST.get("compound_id")),
                                  _int(request.POST.get("retailer_id")))
            _flash(request, "district.assignment.pinned")
        elif action == "unpin":
            district.pin_compound(dbsession, date, _int(request.POST.get("compound_id")), None)
            _flash(request, "district.assignment.unpinned")
        elif action == "confirm":
            moved = district.confirm_assignment(dbsession, date, request.user.username)
            _flash(request, "district.assignment.confirmed", moved=moved)
        else:
            raise HTTPBadRequest(f"unknown action {action!r}: use propose, pin, unpin or confirm")
    except district.DistrictError as refused:
        request.tm.doom()
        _flash(request, "district.refused", "error", reason=str(refused))
    return back


@view_config(route_name="district_solve", permission=Permission.DISTRICT_COMPOUNDS_WRITE, request_method="POST")
def solve(request):
    date = request.context.date
    try:
        district.start_district_day_solve(request, date, request.user.username)
        _flash(request, "district.solve.started")
    except SolveAlreadyRunning:
        _flash(request, "district.solve.running", "error")
    except NothingToSolve:
        _flash(request, "district.solve.nothing", "error")
    return HTTPSeeOther(request.route_url("district_day", date=date.isoformat(), _anchor="solve"))


@view_config(route_name="district_compounds", permission=Permission.DISTRICT_READ, request_method="GET",
             renderer="district/compounds.jinja2")
def compounds(request):
    return {"compounds": list(request.dbsession.scalars(select(Compound).order_by(Compound.town, Compound.code)))}


@view_defaults(route_name="users", permission=Permission.USERS_WRITE, renderer="district/users.jinja2")
class UsersView:
    """The accounts a user may manage: an admin everyone's, a coordinator planners' and drivers'."""

    def __init__(self, request):
        self.request = request
        self.roles = manageable_roles(request.user.role)

    def page(self, error: str | None = None) -> dict:
        dbsession = self.request.dbsession
        return {
            "users": list(dbsession.scalars(
                select(User).where(User.role.in_([r.value for r in self.roles])).order_by(User.role, User.username))),
            "roles": self.roles,
            "retailers": list(dbsession.scalars(select(Retailer).order_by(Retailer.name))),
            "trucks": list(dbsession.scalars(select(Truck).order_by(Truck.code))),
            "error": error,
        }

    @view_config(request_method="GET")
    def show(self):
        return self.page()

    @view_config(request_method="POST")
    def create(self):
        request, form = self.request, self.request.POST
        dbsession = request.dbsession
        role = form.get("role", "")
        retailer = dbsession.get(Retailer, _int(form["retailer_id"])) if form.get("retailer_id") else None
        truck = dbsession.get(Truck, _int(form["truck_id"])) if form.get("truck_id") else None
        try:
            if role not in self.roles:
                raise AccountError(request.t("users.role_not_yours", role=role))
            user = create_user(dbsession, form.get("username", ""), form.get("password", ""), role,
                               retailer=retailer, truck=truck)
        except AccountError as refused:
            request.tm.doom()
            request.response.status = 400
            return self.page(error=str(refused))
        _flash(request, "users.created", username=user.username, role=user.role)
        return HTTPSeeOther(request.route_url("users"))
