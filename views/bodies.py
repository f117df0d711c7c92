"""Request bodies the app cannot read are the client's error (400), never the server's.

A form body is parsed once, before any view or the CSRF check reads it: a ``multipart/form-data``
body without a boundary, with a broken part or with an unknown charset answers 400 here instead
of raising inside the CSRF check. A value the database cannot store (a NUL character for
PostgreSQL, say) is refused with 400 too. Under ``/api/`` both come in the API's error shape.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.tweens import EXCVIEW, MAIN
from pyramid.view import exception_view_config
from sqlalchemy.exc import DataError

from .api.errors import json_error

FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def readable_form_tween_factory(handler, registry):
    def readable_form_tween(request):
        if request.method != "GET" and request.content_type in FORM_TYPES:
            try:
                request.POST  # parsed here once; webob keeps the result for the views
            except (ValueError, LookupError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
                raise HTTPBadRequest(f"the {request.content_type} body cannot be read: {error}") from None
        return handler(request)

    return readable_form_tween


@exception_view_config(DataError)
def value_the_database_refuses(exc, request):
    message = "a value in the request cannot be stored (for example a NUL character)"
    if request.path.startswith("/api/"):
        return json_error(request, 400, message)
    return HTTPBadRequest(message)


def includeme(config) -> None:
    # under the exception view, so that its 400 is rendered like any other (other tweens, such as
    # the committee page cache, must not push it above)
    config.add_tween("views.bodies.readable_form_tween_factory", over=MAIN, under=EXCVIEW)
