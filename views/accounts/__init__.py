"""Logging in and out: the form, rate limiting of failures, and the session's user."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config

from trucks.accounts import authenticate
from trucks.ratelimit import forgive, reserve_attempt

from ..security import local_path


def _form(request, *, username: str = "", error: str | None = None, status: int = 200):
    request.response.status = status
    return {
        "username": username,
        "next": local_path(request.params.get("next"), default=""),
        "error": error,
    }


@view_config(route_name="login", request_method="GET", renderer="accounts/login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def login_form(request):
    return _form(request)


@view_config(route_name="login", request_method="POST", renderer="accounts/login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def login(request):
    """Counts the attempt first (``trucks.ratelimit``), then checks the password unless recent
    failures refuse it; one message for any wrong pair."""
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    refusal = reserve_attempt(request.dbsession, username, request.remote_addr)
    if refusal is not None:
        request.response.headers["Retry-After"] = str(refusal.seconds)
        message = request.t("login.too_many", minutes=refusal.minutes)
        return _form(request, username=username, error=message, status=429)
    user = authenticate(request.dbsession, username, password) if username and password else None
    if user is None:
        return _form(request, username=username, error=request.t("login.failed"), status=400)
    forgive(request.dbsession, username, request.remote_addr)
    headers = remember(request, user.id)
    target = local_path(request.POST.get("next"), default=request.route_path("home"))
    return HTTPFound(target, headers=headers)


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    headers = forget(request)
    return HTTPFound(request.route_url("login"), headers=headers)
