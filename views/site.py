"""Pages every visitor shares: the start page, the language switch and error pages."""
from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import forbidden_view_config, notfound_view_config, view_config

from trucks.models import Role

from .i18n import LANGUAGES
from .security import local_path


@view_config(route_name="home", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def home(request):
    """Sends each user to their own part of the app."""
    user = request.user
    if user is None:
        return HTTPFound(request.route_url("login"))
    if user.role == Role.DRIVER:
        return HTTPFound(request.route_url("driver_home"))
    if user.role == Role.COORDINATOR:
        return HTTPFound(request.route_url("district_home"))
    return HTTPFound(request.route_url("plan_home"))


@view_config(route_name="lang", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def switch_language(request):
    """Remembers the chosen language in a cookie and returns to the page it came from."""
    code = request.matchdict["code"]
    response = HTTPFound(local_path(request.params.get("next")))  # never off-site
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@forbidden_view_config(renderer="error.jinja2")
def forbidden(request):
    if request.user is None and not request.path.startswith("/api/") and request.method == "GET":
        return HTTPFound(request.route_url("login", _query={"next": request.path_qs}))
    request.response.status = 403
    if request.path.startswith("/api/"):
        return _json_error(request, 403, "forbidden")
    return {"message": request.t("error.forbidden")}


@notfound_view_config(renderer="error.jinja2")
def notfound(request):
    request.response.status = 404
    if request.path.startswith("/api/"):
        return _json_error(request, 404, "not found")
    return {"message": request.t("error.notfound")}


def _json_error(request, status: int, message: str):
    response = request.response
    response.status = status
    response.content_type = "application/json"
    response.json_body = {"error": message}
    return response
