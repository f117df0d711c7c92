"""Steps the API tests share: logging in, the session's CSRF token, and checking a response
against the operation the OpenAPI document declares for it."""
from __future__ import annotations

import jsonschema

from tests.factories import PASSWORD


def api_login(testapp, username: str, password: str = PASSWORD) -> str:
    """Logs in through the real form; returns the new session's CSRF token for X-CSRF-Token."""
    form = testapp.get("/login").forms["login-form"]
    form["username"] = username
    form["password"] = password
    form.submit(status=302)
    return csrf_token(testapp)


def csrf_token(testapp) -> str:
    return testapp.get("/api/session").json["csrf_token"]


def documented(testapp, response, operation_id: str):
    """Fails unless the response's status is declared for the operation and its JSON body
    matches the declared schema; returns the body."""
    document = testapp.get("/api/openapi.json").json
    operations = {
        op["operationId"]: op for item in document["paths"].values() for op in item.values()
    }
    declared = operations[operation_id]["responses"]
    status = str(response.status_int)
    assert status in declared, f"{operation_id} answered {status}, which it does not declare"
    content = declared[status].get("content")
    if content is None:
        assert not response.body, f"{operation_id} {status} declares no body but sent one"
        return None
    schema = content["application/json"]["schema"]
    jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=jsonschema.FormatChecker()
    ).validate(response.json)
    return response.json
