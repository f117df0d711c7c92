"""schemathesis against the served API: anonymous and as each role, every operation of
/api/openapi.json gets generated requests; no answer may be a 5xx, and every answer's status,
media type and body must be the ones the document declares for it.

The app is served by waitress on a free loopback port over a SQLite file holding a published
day. Every other case is sent to that day's date (and, for the committee, a visitor holding a
compound's link, to its real token), so generated bodies meet real rows as well as made-up
paths. FUZZ_EXAMPLES (default 75 per operation, about 1,050 requests per role) sets the depth;
README shows the command.
"""
from __future__ import annotations

import os

import pytest
import requests
import schemathesis
import transaction
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationConfig
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import PASSWORD, make_user
from tests.fieldday import publish_day
from trucks.db import get_tm_session
from trucks.models import Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "75"))
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
ROLES = {"visitor": None, "committee": None, "planner": Role.PLANNER, "driver": Role.DRIVER,
         "coordinator": Role.COORDINATOR, "admin": Role.ADMIN}

schemathesis.experimental.OPEN_API_3_1.enable()


def session_as(base: str, username: str | None) -> requests.Session:
    """A client with its session cookie and CSRF header, logged in as ``username`` (or not)."""
    client = requests.Session()
    token = client.get(f"{base}/api/session", timeout=30).json()["csrf_token"]
    if username is not None:
        response = client.post(f"{base}/login", data={"csrf_token": token, "username": username,
                                                      "password": PASSWORD}, allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text
        token = client.get(f"{base}/api/session", timeout=30).json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return client


def fuzz(schema, client: requests.Session, real: dict[str, str]) -> tuple[int, list[str]]:
    """Generated requests to every operation, every other one with the path values in ``real``;
    returns how many were sent and what failed."""
    sent, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def one_operation(case):
            nonlocal sent
            if sent % 2 == 0:
                case.path_parameters = {**(case.path_parameters or {}),
                                        **{k: v for k, v in real.items() if k in (case.path_parameters or {})}}
            response = case.call(session=client, timeout=60)
            sent += 1
            case.validate_response(response, checks=CHECKS)

        try:
            one_operation()
        except Exception as failure:  # noqa: BLE001 - every check's failure is collected, with its case
            failures.append(f"{operation.verbose_name}: {failure}")
    return sent, failures


@pytest.mark.slow
@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(ROLES))
def test_the_served_api_never_fails_and_keeps_its_document(served_app, role, capsys):
    base, app = served_app
    with transaction.manager:
        dbsession = get_tm_session(app.registry["dbsession_factory"], transaction.manager)
        published = publish_day(dbsession, prefix="A")
        dbsession.expire_on_commit = False  # its codes, date and token are read after the commit
        bound = {Role.PLANNER: {"retailer": published.day.retailer}, Role.DRIVER: {"truck": published.day.trucks[0]}}
        if ROLES[role] is not None:
            make_user(dbsession, ROLES[role], username=role, **bound.get(ROLES[role], {}))
    # the session cookie and CSRF header are the client's own, not generated ones
    schema = schemathesis.from_uri(f"{base}/api/openapi.json", base_url=base,
                                   generation_config=GenerationConfig(with_security_parameters=False))
    real = {"date": published.day.date.isoformat()}
    if role == "committee":
        real["token"] = published.day.compounds[0].access_token
    sent, failures = fuzz(schema, session_as(base, None if ROLES[role] is None else role), real)
    with capsys.disabled():
        print(f"\nschemathesis as {role}: {sent} requests, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
    assert sent >= 1000
