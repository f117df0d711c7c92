"""One description per API endpoint: it registers the view and is its OpenAPI operation.

``api_view`` is used like ``view_config``. When ``config.scan`` finds it, it adds the view
(JSON renderer, the declared permission) and records the ``Operation`` in the registry;
``openapi_document`` builds the OpenAPI 3.1 document from those records and the routes' own
patterns, so the document cannot describe an endpoint the app does not serve, or miss one.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import venusian
from pyramid.interfaces import IRoutesMapper
from pyramid.security import NO_PERMISSION_REQUIRED

from ..contexts import FIRST_DAY, LAST_DAY, MAX_ROW_ID, TOKEN_PATTERN
from ..security import PUBLIC_PERMISSIONS, SESSION_COOKIE_NAME
from . import schemas

API_OPERATIONS = "foodtrucks.api.operations"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR = {"$ref": "#/components/schemas/Error"}

ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}

#: The type of every path parameter the API's routes use, as narrow as the server reads it.
PATH_PARAMETERS = {
    "date": (
        {"type": "string", "format": "date"},
        f"the day, YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY} (any other day is 404)",
    ),
    "run_id": (ROW_ID, "a solve run's id"),
    "constraint_id": (ROW_ID, "a constraint's id"),
    "version": (ROW_ID, "a publication's version number"),
    "token": ({"type": "string", "pattern": f"^{TOKEN_PATTERN.pattern}$"}, "the compound's access token (its committee link)"),
    "stop_id": (ROW_ID, "a published stop's id"),
    "report_id": (ROW_ID, "a committee report's id"),
    "compound_id": (ROW_ID, "a compound's id (the ``id`` of the link list)"),
}


@dataclass(frozen=True)
class Reply:
    """One documented response: ``schema`` is a component name, an inline schema or None."""

    description: str
    schema: str | dict | None = None
    media_type: str = "application/json"


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Operation:
    route_name: str
    method: str
    summary: str
    description: str
    tag: str
    permission: str | None
    responses: Mapping[int, Reply]
    request_body: Mapping[str, str | dict] | None = None  # media type -> schema
    query: tuple[QueryParam, ...] = ()

    @property
    def needs_login(self) -> bool:
        """Public operations are open to everyone or to whoever holds a committee's link."""
        return self.permission not in (None, NO_PERMISSION_REQUIRED, *PUBLIC_PERMISSIONS)

    @property
    def operation_id(self) -> str:
        return f"{self.method.lower()}_{self.route_name.removeprefix('api_')}"


def api_view(
    route_name: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    responses: Mapping[int, Reply],
    permission: str | None = None,
    request_body: Mapping[str, str | dict] | None = None,
    query: tuple[QueryParam, ...] = (),
    renderer: str = "json",
):
    """Declares an API view and its OpenAPI operation in one place (the docstring describes it)."""

    def decorator(wrapped):
        def register(context, name, view):
            operation = Operation(
                route_name=route_name,
                method=method,
                summary=summary,
                description=(view.__doc__ or "").strip(),
                tag=tag,
                permission=permission,
                responses=responses,
                request_body=request_body,
                query=query,
            )
            config = context.config.with_package(info.module)
            config.add_view(
                view, route_name=route_name, request_method=method, permission=permission, renderer=renderer
            )
            config.registry.setdefault(API_OPERATIONS, []).append(operation)

        info = venusian.attach(wrapped, register, category="pyramid")
        return wrapped

    return decorator


def _path_template(pattern: str) -> str:
    """A Pyramid route pattern as an OpenAPI path (``{name:regex}`` becomes ``{name}``)."""
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", r"{\1}", pattern)


def _schema(schema: str | dict) -> dict:
    return {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema


def _operation_object(operation: Operation, path: str) -> dict:
    path_names = re.findall(r"\{(\w+)\}", path)
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS[name][1],
            "schema": PATH_PARAMETERS[name][0],
        }
        for name in path_names
    ] + [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema}
        for q in operation.query
    ]
    unsafe = operation.method not in SAFE_METHODS
    responses = {}
    for status, reply in sorted(operation.responses.items()):
        entry: dict = {"description": reply.description}
        if reply.schema is not None:
            entry["content"] = {reply.media_type: {"schema": _schema(reply.schema)}}
        responses[str(status)] = entry
    # The errors every operation of its kind can answer with, unless it says more itself.
    implied = {}
    if path_names or operation.query or operation.request_body:
        implied["400"] = "the request is malformed (a path or query value, or the body)"
    if operation.needs_login or unsafe:
        implied["403"] = "not logged in, not allowed for this role, or no CSRF token"
    if path_names or operation.query:
        implied["404"] = "no such object, or not one this user may see"
    if operation.request_body:
        implied["415"] = "the body is not of the media type the operation takes"
    for status, description in implied.items():
        responses.setdefault(status, {"description": description, "content": {"application/json": {"schema": ERROR}}})
    result = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if operation.description:
        result["description"] = operation.description
    if operation.needs_login:
        result["x-permission"] = str(operation.permission)
    if operation.request_body:
        result["requestBody"] = {
            "required": True,
            "content": {media: {"schema": _schema(schema)} for media, schema in operation.request_body.items()},
        }
    if unsafe:
        result["security"] = [{"session": [], "csrf": []}]
    elif operation.needs_login:
        result["security"] = [{"session": []}]
    else:
        result["security"] = []  # public
    return result


def api_operations(registry) -> list[Operation]:
    return sorted(registry.get(API_OPERATIONS, []), key=lambda op: (op.route_name, op.method))


def openapi_document(request) -> dict:
    """The OpenAPI 3.1 document of every endpoint declared with ``api_view``."""
    mapper = request.registry.getUtility(IRoutesMapper)
    paths: dict[str, dict] = {}
    for operation in api_operations(request.registry):
        path = _path_template(mapper.get_route(operation.route_name).pattern)
        paths.setdefault(path, {})[operation.method.lower()] = _operation_object(operation, path)
    try:
        app_version = version("foodtrucks")
    except PackageNotFoundError:  # running from a checkout that was never installed
        app_version = "0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "foodtrucks API",
            "version": app_version,
            "description": (
                "The planners', committees' and drivers' data as JSON, with the pages' permissions. "
                "Log in with POST /login (form fields username, password, csrf_token); every "
                "state-changing request sends the session's CSRF token in the X-CSRF-Token header "
                "(GET /api/session returns it). Errors are {\"error\": ..., \"problems\": [...]}."
            ),
        },
        "servers": [{"url": request.script_name or "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.COMPONENTS,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE_NAME,
                    "description": "the signed session cookie set by POST /login",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "the session's CSRF token, from GET /api/session",
                },
            },
        },
    }
