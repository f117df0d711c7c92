"""Who may do what: signed sessions, an ACL by role, CSRF on every state change.

Roles give permissions; which retailer's or truck's rows a request may touch is decided by
``scoped_retailer_id`` and ``request.user.truck_id``, which every query of those rows uses.
"""
from __future__ import annotations

import logging
import os
import secrets
from enum import StrEnum

from pyramid.authorization import ACLHelper, ALL_PERMISSIONS, Allow, Authenticated, Everyone
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.events import NewResponse
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden
from pyramid.renderers import render_to_response
from pyramid.security import Denied
from pyramid.session import SignedCookieSessionFactory
from sqlalchemy import select

from trucks.models import Role, User

from .api.errors import json_error

log = logging.getLogger("foodtrucks.security")

SESSION_USER_KEY = "user_id"
SESSION_COOKIE_NAME = "foodtrucks_session"


class Permission(StrEnum):
    """Permissions as ``scope:resource:action``."""

    PLAN_READ = "planner:plan:read"
    PLAN_WRITE = "planner:plan:write"
    PLAN_PUBLISH = "planner:plan:publish"
    DRIVER_STOPS_READ = "driver:stops:read"
    DRIVER_STOPS_WRITE = "driver:stops:write"
    USERS_WRITE = "admin:users:write"
    LINKS_READ = "committee:links:read"
    LINKS_WRITE = "committee:links:write"
    WEBHOOKS_WRITE = "committee:webhooks:write"  # compound master data: the coordinator's
    DISTRICT_DAY_READ = "district:day:read"
    DISTRICT_ASSIGNMENT_WRITE = "district:assignment:write"
    DISTRICT_USERS_WRITE = "district:users:write"


class Root:
    """The default context: its ACL maps roles to permissions."""

    __acl__ = [
        (Allow, f"role:{Role.ADMIN}", ALL_PERMISSIONS),
        (
            Allow,
            f"role:{Role.PLANNER}",
            (Permission.PLAN_READ, Permission.PLAN_WRITE, Permission.PLAN_PUBLISH,
             Permission.LINKS_READ, Permission.LINKS_WRITE),
        ),
        (Allow, f"role:{Role.DRIVER}", (Permission.DRIVER_STOPS_READ, Permission.DRIVER_STOPS_WRITE)),
        (
            Allow,
            f"role:{Role.COORDINATOR}",
            (Permission.DISTRICT_DAY_READ, Permission.DISTRICT_ASSIGNMENT_WRITE, Permission.DISTRICT_USERS_WRITE,
             Permission.PLAN_READ,  # every retailer's plans, read-only
             Permission.LINKS_READ, Permission.LINKS_WRITE, Permission.WEBHOOKS_WRITE),
        ),
    ]

    def __init__(self, request):
        self.request = request


class SessionSecurityPolicy:
    """The logged-in user is the session's ``user_id``; principals are role, retailer, truck."""

    def __init__(self) -> None:
        self.acl = ACLHelper()

    def identity(self, request) -> User | None:
        user_id = request.session.get(SESSION_USER_KEY)
        if user_id is None:
            return None
        return request.dbsession.get(User, user_id)

    def authenticated_userid(self, request):
        user = request.user
        return None if user is None else user.id

    def permits(self, request, context, permission):
        user = request.user
        principals = [Everyone]
        if user is not None:
            principals += [Authenticated, f"user:{user.id}", f"role:{user.role}"]
        if context is None:
            return Denied("no context")
        return self.acl.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        request.session.invalidate()
        request.session[SESSION_USER_KEY] = userid
        request.session.new_csrf_token()
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


def scoped_retailer_id(request) -> int:
    """The retailer whose rows this request may read or change.

    A planner is bound to one retailer; an admin (or the district's coordinator, who may only
    read) names one with ``?retailer=ID``.
    """
    user = request.user
    if user is None:
        raise HTTPForbidden()
    if user.role == Role.PLANNER and user.retailer_id is not None:
        return user.retailer_id
    if user.role in (Role.ADMIN, Role.COORDINATOR):
        value = request.params.get("retailer") or request.session.get("admin_retailer_id")
        if value is None:
            from trucks.models import Retailer

            first = request.dbsession.scalars(select(Retailer.id).order_by(Retailer.id)).first()
            if first is None:
                raise HTTPBadRequest("no retailer yet: import a fleet first")
            return first
        try:
            retailer_id = int(value)
        except ValueError:
            raise HTTPBadRequest("retailer must be a number") from None
        request.session["admin_retailer_id"] = retailer_id
        return retailer_id
    raise HTTPForbidden()


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``: redirects never leave the site."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()  # browsers drop tabs and newlines: "/\t/evil" becomes "//evil"
    ):
        return default
    return target


def content_security_policy(nonce: str) -> str:
    """Everything from this site only; inline scripts only with the request's nonce.

    Inline ``style`` attributes stay allowed: the SVG charts and bars size themselves with them.
    """
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def set_security_headers(event) -> None:
    """Headers every response carries; pages of a logged-in user are never cached."""
    request, headers = event.request, event.response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", content_security_policy(request.csp_nonce))
    if "Cache-Control" not in headers and request.session.get(SESSION_USER_KEY) is not None:
        headers["Cache-Control"] = "no-store"


def csrf_failed(exc, request):
    """A state change without this session's CSRF token: refused with 403, in JSON for the API."""
    if request.path.startswith("/api/"):
        return json_error(request, 403, "missing or wrong CSRF token: send the X-CSRF-Token header")
    response = render_to_response("error.jinja2", {"message": request.t("csrf.failed")}, request=request)
    response.status = 403
    return response


def _session_secret(settings) -> str:
    secret = os.environ.get("FOODTRUCKS_SESSION_SECRET") or settings.get("session.secret")
    if secret:
        return secret
    if settings.get("foodtrucks.require_session_secret", "false").lower() == "true":
        raise RuntimeError("FOODTRUCKS_SESSION_SECRET must be set in the environment")
    log.info("no session secret configured: using a random one; sessions end on restart")
    return secrets.token_urlsafe(32)


def includeme(config) -> None:
    settings = config.get_settings()
    secure = settings.get("session.secure", "false").lower() == "true"
    config.set_session_factory(
        SignedCookieSessionFactory(
            _session_secret(settings),
            cookie_name=SESSION_COOKIE_NAME,
            httponly=True,
            samesite="Lax",
            secure=secure,
            max_age=12 * 3600,
            timeout=12 * 3600,
        )
    )
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.set_root_factory(Root)
    config.set_security_policy(SessionSecurityPolicy())
    config.add_request_method(lambda request: request.identity, "user", reify=True)
    config.add_request_method(lambda request: secrets.token_urlsafe(16), "csp_nonce", reify=True)
    config.add_subscriber(set_security_headers, NewResponse)
    for failure in (BadCSRFToken, BadCSRFOrigin):
        config.add_exception_view(csrf_failed, context=failure)
