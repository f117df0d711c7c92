"""Who may do what: signed sessions, principals, permissions, CSRF on every state change.

Access is decided in one place: every route names a context factory (``views.contexts``) that
loads the rows the request is about and carries an ACL built from them; the view names the
permission it needs. A view registered without one gets ``CLOSED``, which no one holds, so a
forgotten permission fails shut; public views say ``NO_PERMISSION_REQUIRED``.

Principals a logged-in user holds (``SessionSecurityPolicy.principals``):

- ``user:ID`` and ``role:NAME`` for every user;
- ``retailer:ID`` for a planner, the retailer whose plans they make;
- ``truck:ID`` for a driver, the truck they drive.

Roles (``trucks.models.Role``):

- ``admin``: every permission on every context; picks a retailer with ``?retailer=ID`` and a
  truck with ``?truck=CODE``.
- ``planner``: read, change and publish the plans of their own retailer (``retailer:ID``), and
  hand out the committee links of the compounds it supplies.
- ``driver``: read their own truck's published stops and report on them (``truck:ID``).
- ``coordinator``: the district's coordinator. Reads every retailer's plans and figures
  (``PLAN_READ`` with ``?retailer=ID``), never changes or publishes them; owns the compounds'
  master data and the assignment (``DISTRICT_COMPOUNDS_WRITE``), reads the district
  (``DISTRICT_READ``), manages users (``USERS_WRITE``), hands out every compound's committee
  link (``LINKS_READ``, ``LINKS_WRITE``) and sets webhooks (``WEBHOOKS_WRITE``).
- a compound committee has no account: its link's token opens that compound's page, which only
  reads (``COMMITTEE_READ``); reaching the report form is ``COMMITTEE_REPORT``, but filing or
  withdrawing a report needs the committee's own code as well (``trucks.committees``).
"""
from __future__ import annotations

import logging
import os
import secrets
from enum import StrEnum

from pyramid.authorization import DENY_ALL, ACLHelper, Allow, Authenticated, Everyone
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.events import NewResponse
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.renderers import render_to_response
from pyramid.security import Denied
from pyramid.session import SignedCookieSessionFactory

from trucks.models import Role, User

from .api.errors import json_error

log = logging.getLogger("foodtrucks.security")

SESSION_USER_KEY = "user_id"
SESSION_COOKIE_NAME = "foodtrucks_session"


class Permission(StrEnum):
    """Permissions as ``scope:resource:action``; the contexts' ACLs say who holds which."""

    PLAN_READ = "planner:plan:read"  # a retailer's days, runs, schedules, versions, figures
    PLAN_WRITE = "planner:plan:write"  # import, solve, constraints
    PLAN_PUBLISH = "planner:plan:publish"
    DRIVER_STOPS_READ = "driver:stops:read"
    DRIVER_STOPS_WRITE = "driver:stops:write"
    COMMITTEE_READ = "committee:compound:read"  # a compound's public page, by its token
    COMMITTEE_REPORT = "committee:report:write"  # "cannot receive", by its token
    DISTRICT_READ = "district:plans:read"  # the district's overview over every retailer
    DISTRICT_COMPOUNDS_WRITE = "district:compounds:write"  # compounds' master data, the assignment
    USERS_WRITE = "admin:users:write"
    LINKS_READ = "committee:links:read"  # the committees' links, QR sheets, CSV
    LINKS_WRITE = "committee:links:write"  # rotating a link
    WEBHOOKS_WRITE = "committee:webhooks:write"  # a compound's webhook: the coordinator's


#: The default permission: held by no one (not even an admin), so a view that forgot to name
#: its permission is closed rather than public.
CLOSED = "closed:undeclared"

#: Permissions every visitor holds on a context that grants them (a committee's token).
PUBLIC_PERMISSIONS = frozenset({Permission.COMMITTEE_READ, Permission.COMMITTEE_REPORT})

ADMIN = f"role:{Role.ADMIN}"
COORDINATOR = f"role:{Role.COORDINATOR}"
PLANNER_PERMISSIONS = (Permission.PLAN_READ, Permission.PLAN_WRITE, Permission.PLAN_PUBLISH)
DRIVER_PERMISSIONS = (Permission.DRIVER_STOPS_READ, Permission.DRIVER_STOPS_WRITE)
COORDINATOR_PERMISSIONS = (Permission.DISTRICT_READ, Permission.DISTRICT_COMPOUNDS_WRITE, Permission.USERS_WRITE)
LINKS_PERMISSIONS = (Permission.LINKS_READ, Permission.LINKS_WRITE)
#: The admin's first entry in every context's ACL: every named permission, never ``CLOSED``.
ADMIN_ACE = (Allow, ADMIN, tuple(Permission))


def retailer_principal(retailer_id: int) -> str:
    return f"retailer:{retailer_id}"


def truck_principal(truck_id: int) -> str:
    return f"truck:{truck_id}"


class Root:
    """The context of routes that name no factory: only the admin holds anything here."""

    __acl__ = [ADMIN_ACE, DENY_ALL]

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

    @staticmethod
    def principals(user: User | None) -> list[str]:
        """Everyone; a user adds ``user:``, ``role:`` and the retailer or truck they are bound to."""
        principals = [Everyone]
        if user is not None:
            principals += [Authenticated, f"user:{user.id}", f"role:{user.role}"]
            if user.role == Role.PLANNER and user.retailer_id is not None:
                principals.append(retailer_principal(user.retailer_id))
            if user.role == Role.DRIVER and user.truck_id is not None:
                principals.append(truck_principal(user.truck_id))
        return principals

    def permits(self, request, context, permission):
        if context is None:
            return Denied("no context")
        return self.acl.permits(context, self.principals(request.user), permission)

    def remember(self, request, userid, **kw):
        request.session.invalidate()
        request.session[SESSION_USER_KEY] = userid
        request.session.new_csrf_token()
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


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
    config.set_default_permission(CLOSED)
    config.set_security_policy(SessionSecurityPolicy())
    config.add_request_method(lambda request: request.identity, "user", reify=True)
    config.add_request_method(lambda request: secrets.token_urlsafe(16), "csp_nonce", reify=True)
    config.add_subscriber(set_security_headers, NewResponse)
    for failure in (BadCSRFToken, BadCSRFOrigin):
        config.add_exception_view(csrf_failed, context=failure)
