"""The district's solve as JSON: the coordinator starts it, each retailer's run reports on it."""
from __future__ import annotations

from trucks.district import start_district_day_solve
from trucks.solving import NothingToSolve, SolveAlreadyRunning

from ..planner.progress import solve_run_json
from ..security import Permission
from .errors import ApiError
from .spec import Reply, api_view


@api_view(
    "api_district_solve",
    "POST",
    summary="Solve every retailer's trucks of the day at once, in the background",
    tag="district",
    permission=Permission.DISTRICT_COMPOUNDS_WRITE,
    responses={
        202: Reply("started: one run per retailer with loaded trucks", {
            "type": "object", "properties": {"runs": {"type": "array", "items": {"$ref": "#/components/schemas/SolveRun"}}},
            "required": ["runs"], "additionalProperties": False}),
        409: Reply("a solve of this day is still running (its run_id is given)", "Error"),
        422: Reply("nothing to solve: no demand or no loaded truck", "Error"),
    },
)
def district_solve(request):
    """Any retailer's truck may serve any compound; each retailer's part becomes its schedule."""
    date = request.context.date
    try:
        runs = start_district_day_solve(request, date, request.user.username)
    except SolveAlreadyRunning as running:
        raise ApiError(409, f"a solve of {date} is already {running.run.status}", run_id=running.run.id) from None
    except NothingToSolve as nothing:
        raise ApiError(422, str(nothing)) from None
    request.response.status = 202
    return {"runs": [solve_run_json(request, run) for run in runs]}
