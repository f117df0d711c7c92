"""The planner's week: per compound the days served, fill rates, days missed, and what today's
solve adds to its priority for the days it went without right before (``trucks.week``)."""
from __future__ import annotations

from pyramid.view import view_config

from trucks.week import CARRY_OVER_WEIGHT, week_table

from ..security import Permission


@view_config(route_name="plan_week", permission=Permission.PLAN_READ, request_method="GET",
             renderer="planner/week.jinja2")
def week(request):
    day = request.context
    dates, rows = week_table(request.dbsession, day.date, day.retailer_id)
    rows.sort(key=lambda row: (-row.extra_priority, -row.missed, row.compound.code))
    return {"day": day, "dates": dates, "rows": rows, "weight": CARRY_OVER_WEIGHT,
            "carried": sum(1 for row in rows if row.extra_priority)}
