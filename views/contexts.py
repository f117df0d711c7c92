"""Route contexts: each loads the rows its request is about and carries the ACL built from them.

Every route in ``routes.py`` names one of these as its ``factory``; views read
``request.context`` and never look up a retailer, truck or compound of their own. A row that
does not exist (or an id no row can have) is 404 before any permission is checked; a row that
exists but is not the user's is refused by its ACL (403, or the login page for a visitor).
Who holds which permission is described in ``views.security``.
"""
from __future__ import annotations

import datetime as dt
import re

from pyramid.authorization import DENY_ALL, Allow, Everyone
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from sqlalchemy import select

from trucks import committees
from trucks.live import compound_by_token, truck_by_code
from trucks.models import Compound, Retailer, Role, SolveRun, Truck

from .security import (
    ADMIN_ACE,
    COORDINATOR,
    COORDINATOR_PERMISSIONS,
    DRIVER_PERMISSIONS,
    LINKS_PERMISSIONS,
    PLANNER_PERMISSIONS,
    PUBLIC_PERMISSIONS,
    Permission,
    retailer_principal,
    truck_principal,
)

#: Ids are 64-bit signed integers in both databases: anything else names no row.
MAX_ROW_ID = 2**63 - 1
#: The days the app can name: beyond them a day's neighbours overflow Python's dates.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2199, 12, 31)

CHOSEN_RETAILER = "chosen_retailer_id"
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: What a committee link's token can look like (``secrets.token_urlsafe``, the column's length).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def row_id(text) -> int | None:
    """A positive 64-bit id from a path or query value; None for anything else."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def path_row_id(request, name: str) -> int:
    """The id in the path's ``name``; one no row can have is 404."""
    value = row_id(request.matchdict[name])
    if value is None:
        raise HTTPNotFound()
    return value


def parse_day(text) -> dt.date | None:
    """A day ``YYYY-MM-DD`` within ``FIRST_DAY`` .. ``LAST_DAY``; None for anything else."""
    if not isinstance(text, str) or not DAY_PATTERN.fullmatch(text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def path_day(request) -> dt.date:
    day = parse_day(request.matchdict["date"])
    if day is None:
        raise HTTPNotFound()
    return day


def chooses_retailer(user) -> bool:
    """Admins and coordinators look at any retailer's plans, chosen with ``?retailer=ID``."""
    return user is not None and user.role in (Role.ADMIN, Role.COORDINATOR)


def retailer_acl(retailer_id: int) -> list:
    """The retailer's planners change and publish; the coordinator reads; the admin does all."""
    return [
        ADMIN_ACE,
        (Allow, retailer_principal(retailer_id), PLANNER_PERMISSIONS),
        (Allow, COORDINATOR, (Permission.PLAN_READ,)),
        DENY_ALL,
    ]


class RetailerContext:
    """A retailer's plans: a planner's own retailer; the one an admin or coordinator chose
    (``?retailer=ID``, remembered in the session; the first retailer until then). Anyone else
    gets a context without a retailer, whose ACL refuses everything but the admin."""

    def __init__(self, request):
        self.request = request
        self.dbsession = request.dbsession
        self.retailer = self._retailer(request)

    def _retailer(self, request) -> Retailer | None:
        user = request.user
        if user is None:
            return None
        if user.role == Role.PLANNER and user.retailer_id is not None:
            return self.dbsession.get(Retailer, user.retailer_id)
        if not chooses_retailer(user):
            return None
        asked = request.GET.get("retailer")
        if asked is not None:
            if not asked.isascii() or not asked.isdigit():
                raise HTTPBadRequest("retailer must be a number")
            retailer_id = row_id(asked)
            retailer = self.dbsession.get(Retailer, retailer_id) if retailer_id is not None else None
            if retailer is None:
                raise HTTPNotFound()
            request.session[CHOSEN_RETAILER] = retailer.id
            return retailer
        remembered = request.session.get(CHOSEN_RETAILER)
        retailer = self.dbsession.get(Retailer, remembered) if remembered is not None else None
        if retailer is None:
            retailer = self.dbsession.scalars(select(Retailer).order_by(Retailer.id).limit(1)).first()
        if retailer is None:
            raise HTTPBadRequest("no retailer yet: import a fleet first")
        return retailer

    @property
    def retailer_id(self) -> int | None:
        return None if self.retailer is None else self.retailer.id

    @property
    def __acl__(self) -> list:
        return [ADMIN_ACE, DENY_ALL] if self.retailer is None else retailer_acl(self.retailer.id)

    @property
    def chooses_retailer(self) -> bool:
        return chooses_retailer(self.request.user)

    @property
    def is_admin(self) -> bool:
        return self.request.user is not None and self.request.user.role == Role.ADMIN

    @property
    def can_write(self) -> bool:
        """Whether the page offers import, solve and constraints (a coordinator only reads)."""
        return bool(self.request.has_permission(Permission.PLAN_WRITE, self))

    @property
    def can_publish(self) -> bool:
        return bool(self.request.has_permission(Permission.PLAN_PUBLISH, self))


class SolveRunContext:
    """One solve run, reached by its id alone; its ACL is its retailer's."""

    def __init__(self, request):
        self.request = request
        self.run = request.dbsession.get(SolveRun, path_row_id(request, "run_id"))
        if self.run is None:
            raise HTTPNotFound()

    @property
    def __acl__(self) -> list:
        return retailer_acl(self.run.retailer_id)


class TruckContext:
    """A truck's published stops: a driver's own truck; for an admin the ``?truck=CODE`` one,
    or None until one is chosen. Anyone else gets no truck and an ACL that refuses them."""

    def __init__(self, request):
        self.request = request
        self.date = path_day(request) if "date" in request.matchdict else None
        self.truck = self._truck(request)

    @staticmethod
    def _truck(request) -> Truck | None:
        user = request.user
        if user is None:
            return None
        if user.role == Role.DRIVER:
            return request.dbsession.get(Truck, user.truck_id) if user.truck_id is not None else None
        if user.role == Role.ADMIN and request.GET.get("truck"):
            truck = truck_by_code(request.dbsession, request.GET["truck"])
            if truck is None:
                raise HTTPNotFound()
            return truck
        return None

    @property
    def __acl__(self) -> list:
        acl = [ADMIN_ACE]
        if self.truck is not None:
            acl.append((Allow, truck_principal(self.truck.id), DRIVER_PERMISSIONS))
        return acl + [DENY_ALL]


class CompoundContext:
    """A compound reached by its committee link's token: whoever holds the link may read its
    page and open its report form; filing or withdrawing a report needs the committee's own code
    as well (``trucks.committees``). A token that names no compound is 404."""

    __acl__ = [ADMIN_ACE, (Allow, Everyone, tuple(PUBLIC_PERMISSIONS)), DENY_ALL]

    def __init__(self, request):
        self.request = request
        token = request.matchdict["token"]
        compound = compound_by_token(request.dbsession, token) if TOKEN_PATTERN.fullmatch(token) else None
        if compound is None:
            raise HTTPNotFound()
        self.compound: Compound = compound


class DistrictContext:
    """The district as a whole: every retailer's figures, the compounds' master data and the
    assignment, the users; the coordinator's (and the admin's). ``date`` is the path's day, if
    it names one (a day no date can be is 404)."""

    __acl__ = [ADMIN_ACE, (Allow, COORDINATOR, COORDINATOR_PERMISSIONS), DENY_ALL]

    def __init__(self, request):
        self.request = request
        self.date = path_day(request) if "date" in request.matchdict else None


class LinksContext:
    """The committees' links: an admin and the coordinator hand out every compound's, a planner
    those of the compounds their retailer supplies (``committees.supplies``); any other compound
    is 404 to a planner. With ``{compound_id}`` in the path the context is that compound."""

    def __init__(self, request):
        self.request = request
        user = request.user
        self.is_planner = user is not None and user.role == Role.PLANNER
        self.retailer_id = user.retailer_id if self.is_planner else self._asked_retailer(request)
        self.town = request.params.get("town") or None
        self.date = None
        if request.params.get("date"):
            self.date = parse_day(request.params["date"])
            if self.date is None:
                raise HTTPBadRequest("date must be YYYY-MM-DD")
        self.compound: Compound | None = None
        if "compound_id" in request.matchdict:
            self.compound = request.dbsession.get(Compound, path_row_id(request, "compound_id"))
            if self.compound is None or (self.is_planner and not self._supplied(self.compound)):
                raise HTTPNotFound()

    @staticmethod
    def _asked_retailer(request) -> int | None:
        text = request.params.get("retailer")
        if not text:
            return None
        value = row_id(text)
        if value is None:
            raise HTTPBadRequest("retailer must be a number")
        return value

    def _supplied(self, compound: Compound) -> bool:
        return self.retailer_id is not None and committees.supplies(self.request.dbsession, self.retailer_id, compound)

    @property
    def __acl__(self) -> list:
        acl = [ADMIN_ACE, (Allow, COORDINATOR, LINKS_PERMISSIONS + (Permission.WEBHOOKS_WRITE,))]
        if self.is_planner and self.retailer_id is not None:
            acl.append((Allow, retailer_principal(self.retailer_id), LINKS_PERMISSIONS))
        return acl + [DENY_ALL]

    @property
    def filters(self) -> dict:
        """The page's filters as query parameters, for links between the list and its sheets."""
        query = {"town": self.town, "date": self.date and self.date.isoformat()}
        if not self.is_planner:
            query["retailer"] = self.retailer_id
        return {key: value for key, value in query.items() if value}

    def compounds(self, *, town: bool = True) -> list[Compound]:
        return committees.compounds_for_links(
            self.request.dbsession, retailer_id=self.retailer_id, date=self.date, town=self.town if town else None)

    def retailers(self) -> list[Retailer]:
        if self.is_planner:
            return []
        return list(self.request.dbsession.scalars(select(Retailer).order_by(Retailer.name)))
