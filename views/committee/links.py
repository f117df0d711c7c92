"""Handing the committees their links: the list with QR codes, printable sheets, CSV, rotation.

Who sees which compound is ``views.contexts.LinksContext``'s: an admin and the coordinator
every compound, a planner the compounds their retailer supplies; any other compound is 404 to
them. The committee code is shown here (to be given to
the committee contact), never on the public notice.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from trucks import committees, messages, webhooks
from trucks.live import compound_day, local_from_utc, local_today
from trucks.models import Compound

from ..api.errors import ApiError, field_problem
from ..api.inputs import json_object
from ..api.spec import QueryParam, Reply, api_view
from ..security import Permission
from . import qr_inline
from .dates import template_helpers


def link(request, compound: Compound) -> str:
    return request.route_url("committee", token=compound.access_token)


@view_config(route_name="links", request_method="GET", permission=Permission.LINKS_READ,
             renderer="committee/links.jinja2")
def links_page(request):
    scope = request.context
    compounds = scope.compounds()
    return {
        "scope": scope,
        "compounds": compounds,
        "towns": committees.towns(scope.compounds(town=False)),
        "link": lambda compound: link(request, compound),
        "display_code": committees.display_code,
        "messages": request.session.pop_flash("links"),
    }


@view_config(route_name="links_csv", request_method="GET", permission=Permission.LINKS_READ)
def links_csv(request):
    """``compound_id,name,town,link`` for mass messaging; ``?codes=1`` adds the private codes."""
    scope = request.context
    with_codes = request.params.get("codes") == "1"
    text = committees.links_csv(scope.compounds(), lambda c: link(request, c), with_codes=with_codes)
    name = "committee-links-with-codes.csv" if with_codes else "committee-links.csv"
    return Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                    content_disposition=f'attachment; filename="{name}"', cache_control="no-store")


@view_config(route_name="links_notices", request_method="GET", permission=Permission.LINKS_READ,
             renderer="committee/notices.jinja2")
def notices(request):
    """One A4 notice per compound of the list (a town), in one page to print: no codes on it."""
    scope = request.context
    date = scope.date or local_today()
    return {
        "scope": scope,
        "sheets": [(c, compound_day(request.dbsession, c, date), qr_inline(request, c)) for c in scope.compounds()],
        **template_helpers(request),
    }


@view_config(route_name="links_qr_sheet", request_method="GET", permission=Permission.LINKS_READ,
             renderer="committee/qr_sheet.jinja2")
def qr_sheet(request):
    """Labelled QR codes of the list, twelve to an A4 page, to cut out and hand over."""
    scope = request.context
    return {"scope": scope, "codes": [(c, qr_inline(request, c, scale=3)) for c in scope.compounds()]}


@view_config(route_name="link_rotate", request_method="POST", permission=Permission.LINKS_WRITE)
def rotate(request):
    """A new link (``what=link``: the old one is 404 at once) or a new committee code (``what=code``)."""
    scope = request.context
    compound = scope.compound
    what = request.POST.get("what")
    if what == "link":
        committees.rotate_link(compound)
        request.session.flash(request.t("links.rotated", name=compound.name, link=link(request, compound)), "links")
    elif what == "code":
        committees.rotate_code(compound)
        request.session.flash(request.t("links.code_rotated", name=compound.name,
                                        code=committees.display_code(compound.committee_code)), "links")
    else:
        raise HTTPBadRequest("what must be link or code")
    return HTTPSeeOther(request.route_url("links", _query=scope.filters, _anchor=f"compound-{compound.id}"))


def link_json(request, compound: Compound) -> dict:
    return {
        "compound_id": compound.code,
        "id": compound.id,
        "name": compound.name,
        "town": compound.town,
        "link": link(request, compound),
        "qr": request.route_url("committee_qr", token=compound.access_token),
        "committee_code": committees.display_code(compound.committee_code),
    }


FILTERS = (
    QueryParam("town", "only this town"),
    QueryParam("retailer", "admin and coordinator: only compounds this retailer id supplies", {"type": "integer"}),
    QueryParam("date", "only compounds with demand that day, YYYY-MM-DD", {"type": "string", "format": "date"}),
)


@api_view(
    "api_links",
    summary="Compounds' committee links, QR codes and committee codes",
    tag="committee links",
    permission=Permission.LINKS_READ,
    query=FILTERS,
    responses={200: Reply("the compounds in town and code order", "Links")},
)
def api_links(request):
    """An admin and the coordinator get every compound, a planner those their retailer supplies.
    ``committee_code`` is private: for the committee contact, never for residents."""
    scope = request.context
    return {"links": [link_json(request, c) for c in scope.compounds()]}


@api_view(
    "api_link_rotate",
    "POST",
    summary="Give a compound a new link (the old one is 404 at once) or a new committee code",
    tag="committee links",
    permission=Permission.LINKS_WRITE,
    request_body={"application/json": "Rotation"},
    responses={200: Reply("the compound with its new link or code", "Link")},
)
def api_rotate(request):
    scope = request.context
    compound = scope.compound
    what = json_object(request).get("what")
    if what == "link":
        committees.rotate_link(compound)
    elif what == "code":
        committees.rotate_code(compound)
    else:
        raise ApiError(422, "what must be link or code", [field_problem("what", "unknown", "link or code")])
    return link_json(request, compound)


@view_config(route_name="link_webhook", request_method="GET", permission=Permission.LINKS_READ,
             renderer="committee/webhook.jinja2")
def webhook_page(request, *, error: str | None = None, status: int = 200):
    """The compound's group robot (masked) and its delivery log: sent, retrying, failed with
    the receiver's answer."""
    compound = request.context.compound
    request.response.status = status
    return {
        "compound": compound,
        "can_edit": request.has_permission(Permission.WEBHOOKS_WRITE, request.context),
        "masked": webhooks.mask(compound.webhook_url),
        "kinds": [k.value for k in webhooks.WebhookKind],
        "deliveries": messages.delivery_log(request.dbsession, compound),
        "error": error,
        "notices": request.session.pop_flash("links"),
        "stamp": lambda moment: moment and local_from_utc(moment).strftime("%m-%d %H:%M:%S"),
    }


@view_config(route_name="link_webhook", request_method="POST", permission=Permission.WEBHOOKS_WRITE,
             renderer="committee/webhook.jinja2")
def set_webhook(request):
    """Sets or clears (an empty address) the group robot; a refused one is not kept. Compound
    master data, so the coordinator's (and the admin's), as in compounds.csv."""
    compound = request.context.compound
    try:
        webhooks.set_webhook(compound, request.POST.get("url", ""), request.POST.get("kind", ""),
                             request.POST.get("secret", ""), webhooks.WebhookSettings.from_settings(request.registry.settings))
    except webhooks.WebhookError as refused:
        return webhook_page(request, error=request.t(f"links.webhook.error.{refused.code}"), status=400)
    request.session.flash(request.t("links.webhook.saved" if compound.webhook_url else "links.webhook.cleared"), "links")
    return HTTPSeeOther(request.route_url("link_webhook", compound_id=compound.id))
