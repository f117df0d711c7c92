"""A solve run as the page and the API show it: one serialiser, its progress line rendered in
the request's language from the key and parameters the run recorded (``planner.progress.KEY``).
"""
from __future__ import annotations

from trucks.models import RunKind, SolveRun, SolveStatus
from trucks.solving import dead_after, is_alive

from ..api.inputs import local_timestamp
from ..i18n import translate


def progress_text(run: SolveRun, language: str, *, alive: bool = True) -> str:
    """The run's latest line; a run that stopped beating without ending reads as abandoned."""
    if not alive and not run.ended:
        return translate("planner.progress.abandoned", language, attempts=run.attempts)
    if run.progress_key:
        return translate(f"planner.progress.{run.progress_key}", language, **run.progress_params)
    return run.message or ""


def solve_run_json(request, run: SolveRun) -> dict:
    """What the page's poll and the API say about a run. ``finished`` is true once it ended or
    its heartbeat went stale (abandoned): a client stops polling then."""
    alive = is_alive(run, dead_after(request.registry.settings))
    return {
        "id": run.id,
        "date": run.date.isoformat(),
        "status": run.status,
        "alive": alive,
        "finished": not alive,
        "progress": run.progress,
        "message": progress_text(run, request.language, alive=alive),
        "error": run.message if run.status == SolveStatus.FAILED else None,
        "time_limit": run.time_limit,
        "worker": run.worker or None,
        "attempts": run.attempts,
        "heartbeat_at": local_timestamp(run.heartbeat_at) if run.heartbeat_at else None,
        "created_at": local_timestamp(run.created_at),
        "created_by": run.created_by,
        "schedule_id": run.schedule_id,
        "kind": run.kind,
        "asked": run.asked,
        "published_version": run.progress_params.get("version") if run.kind == RunKind.REPLAN
        and run.status == SolveStatus.DONE else None,
        "figures": run.progress_params if run.status == SolveStatus.DONE else {},
    }
