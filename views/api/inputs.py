"""Reading an API request's path values and JSON body, with errors that say what is wrong."""
from __future__ import annotations

import datetime as dt

from trucks.live import local_from_utc

from .errors import ApiError, field_problem


def json_object(request) -> dict:
    """The body as a JSON object (an empty body is an empty object); another media type is 415."""
    if not request.body:
        return {}
    if request.content_type != "application/json":
        raise ApiError(415, f"send the body as application/json, not {request.content_type or 'untyped'}")
    try:
        body = request.json_body
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def text_field(body: dict, name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"{name} must be a non-empty string", [field_problem(name, "required", "a string is required")])
    return value.strip()


def integer_field(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, f"{name} must be a whole number", [field_problem(name, "not_integer", "a whole number is required")])
    return value


def local_timestamp(utc: dt.datetime) -> str:
    """A stored UTC timestamp as the local time every other API time is written in."""
    return local_from_utc(utc).isoformat(timespec="seconds")
