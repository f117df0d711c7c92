"""The coordinator's week: per compound of the district (every retailer's) the days served, the
fill of each scarce category, the days missed and the most in a row, filtered by town and
retailer, with the day's totals; the same table as CSV. The figures are ``trucks.week``'s, the
planner's week page's logic over every retailer's plans."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from trucks.models import Category, Retailer
from trucks.week import district_week, district_week_csv

from ..contexts import row_id
from ..i18n import category_name
from ..security import Permission


def _filters(request) -> dict:
    """``?town=`` and ``?retailer=ID`` as ``district_week`` takes them (empty: every one)."""
    town = request.params.get("town") or None
    retailer = request.params.get("retailer") or None
    if retailer is not None:
        retailer = row_id(retailer)
        if retailer is None:
            raise HTTPBadRequest("retailer must be a number")
    return {"town": town, "retailer_id": retailer}


def _retailers(request) -> list[Retailer]:
    return list(request.dbsession.scalars(select(Retailer).order_by(Retailer.name)))


@view_config(route_name="district_week", permission=Permission.DISTRICT_READ, request_method="GET",
             renderer="district/week.jinja2")
def week(request):
    filters = _filters(request)
    retailers = _retailers(request)
    return {
        "day": request.context,
        "week": district_week(request.dbsession, request.context.date, **filters),
        "filters": filters,
        "query": {key: value for key, value in (("town", filters["town"]), ("retailer", filters["retailer_id"])) if value},
        "retailers": retailers,
        "retailer_names": {r.id: r.name for r in retailers},
        "category_names": {c.key: category_name(request, c) for c in request.dbsession.scalars(select(Category))},
    }


@view_config(route_name="district_week_csv", permission=Permission.DISTRICT_READ, request_method="GET")
def week_csv(request):
    date = request.context.date
    table = district_week(request.dbsession, date, **_filters(request))
    text = district_week_csv(table, {r.id: r.name for r in _retailers(request)})
    return Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                    content_disposition=f'attachment; filename="district-week-{date.isoformat()}.csv"',
                    cache_control="no-store")
