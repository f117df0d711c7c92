"""The API describing itself: the OpenAPI document, a docs page built from it, and the session."""
from __future__ import annotations

import json

from pyramid.csrf import get_csrf_token
from pyramid.security import NO_PERMISSION_REQUIRED

from .spec import Reply, api_view, openapi_document

TAG = "about"


@api_view(
    "api_openapi",
    summary="This OpenAPI 3.1 document",
    tag=TAG,
    permission=NO_PERMISSION_REQUIRED,
    responses={200: Reply("the document", {"type": "object"})},
)
def openapi_json(request):
    """Built from the same declarations that register the API's views."""
    return openapi_document(request)


@api_view(
    "api_docs",
    summary="The endpoints as an HTML page",
    tag=TAG,
    permission=NO_PERMISSION_REQUIRED,
    responses={200: Reply("a self-contained page listing every operation", {"type": "string"}, "text/html")},
    renderer="api/docs.jinja2",
)
def docs(request):
    """Every operation of the OpenAPI document with its parameters, body and responses."""
    document = openapi_document(request)
    operations = [
        (path, method.upper(), operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    schemas = {
        name: json.dumps(schema, indent=2, ensure_ascii=False)
        for name, schema in document["components"]["schemas"].items()
    }
    return {"document": document, "operations": operations, "schemas": schemas}


@api_view(
    "api_session",
    summary="Who is logged in, and the CSRF token to send with changes",
    tag=TAG,
    permission=NO_PERMISSION_REQUIRED,
    responses={200: Reply("the session", "Session")},
)
def session(request):
    """Anonymous callers get ``user: null`` and a token too (a committee's report needs one)."""
    user = request.user
    return {
        "user": None
        if user is None
        else {
            "username": user.username,
            "role": user.role,
            "retailer": None if user.retailer is None else {"id": user.retailer.id, "name": user.retailer.name},
            "truck_id": None if user.truck is None else user.truck.code,
        },
        "csrf_token": get_csrf_token(request),
    }
