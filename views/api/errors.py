"""JSON errors of the API: ``{"error": "...", "problems": [...]}`` with a fitting status."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPError
from pyramid.view import exception_view_config


class ApiError(Exception):
    """Raised by an API view to answer with ``status`` and a message (the transaction is aborted)."""

    def __init__(self, status: int, message: str, problems: list | None = None, **extra) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems
        self.extra = extra


def json_error(request, status: int, message: str, problems: list | None = None, **extra):
    """The error body every API failure has; ``extra`` adds fields such as a running ``run_id``."""
    response = request.response
    response.status = status
    response.content_type = "application/json"
    body = {"error": message, **extra}
    if problems is not None:
        body["problems"] = problems
    response.json_body = body
    return response


def field_problem(field: str, code: str, reason: str) -> dict:
    return {"field": field, "code": code, "reason": reason}


@exception_view_config(ApiError)
def api_error(exc, request):
    return json_error(request, exc.status, exc.message, exc.problems, **exc.extra)


@exception_view_config(HTTPError, path_info=r"^/api/")
def api_http_error(exc, request):
    """Other HTTP errors under /api/ (400, 405, ...) as JSON too; 403 and 404 have their own views."""
    return json_error(request, exc.code, exc.detail or exc.title)
