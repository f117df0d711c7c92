"""Headers every response carries, and the API's JSON errors, through the real app."""
from __future__ import annotations

from tests.factories import PASSWORD, make_retailer, make_user
from trucks.models import Role


def test_pages_forbid_sniffing_framing_and_foreign_content(testapp):
    headers = testapp.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"].startswith("'self' 'nonce-")


def test_each_response_gets_its_own_script_nonce(testapp):
    first = testapp.get("/login").headers["Content-Security-Policy"]
    second = testapp.get("/login").headers["Content-Security-Policy"]
    assert first != second


def test_error_and_static_responses_carry_the_headers_too(testapp):
    assert testapp.get("/no-such-page", status=404).headers["X-Content-Type-Options"] == "nosniff"
    static = testapp.get("/static/app.css")
    assert static.headers["X-Frame-Options"] == "DENY"
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_logged_in_pages_are_not_cached(testapp, dbsession):
    make_user(dbsession, Role.PLANNER, username="p", retailer=make_retailer(dbsession, "逸刻"))
    assert "Cache-Control" not in testapp.get("/login").headers
    form = testapp.get("/login").forms["login-form"]
    form["username"], form["password"] = "p", PASSWORD
    form.submit(status=302)
    assert testapp.get("/login").headers["Cache-Control"] == "no-store"
