"""Logging in and out through the real app: sessions, redirects, one message for any wrong
pair, and rate limiting of failures (timestamps moved instead of sleeping; the simultaneous
attempts against a served app are in test_login_race.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_retailer, make_user
from trucks.models import LoginLimit, Role
from trucks.ratelimit import ADDRESS_LIMIT, PAIR_LIMIT, WINDOW


@pytest.fixture
def planner(dbsession):
    return make_user(dbsession, Role.PLANNER, username="planner1", retailer=make_retailer(dbsession, "逸刻"))


#: ``next`` values a browser would follow to another site
OFF_SITE = ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example")


def login_form(testapp, next_path=None):
    page = testapp.get("/login", params={"next": next_path} if next_path else {})
    return page.forms["login-form"]


def submit_login(testapp, username, password, status="*", next_path=None):
    form = login_form(testapp, next_path)
    form["username"] = username
    form["password"] = password
    return form.submit(status=status)


def let_time_pass(dbsession, by: dt.timedelta) -> None:
    """Moves every counter's failure and wait ``by`` into the past, as if that time had passed."""
    for counter in dbsession.scalars(select(LoginLimit)):
        counter.last_failure_at = counter.last_failure_at and counter.last_failure_at - by
        counter.wait_until = counter.wait_until and counter.wait_until - by
    dbsession.flush()


def failures(dbsession, username, address="unknown"):
    """The failures counted for the (username, address) pair (webtest sends no address: "unknown")."""
    counter = dbsession.get(LoginLimit, f"pair:{address}:{username}")
    return 0 if counter is None else counter.failures


def test_login_page_is_chinese_first_with_english(testapp):
    assert "用户名" in testapp.get("/login").text
    testapp.set_cookie("lang", "en")
    assert "Username" in testapp.get("/login").text


def test_login_sets_a_signed_httponly_samesite_session_and_goes_home(testapp, planner):
    response = submit_login(testapp, "planner1", PASSWORD, status=302)
    assert response.location == "http://example.com/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("foodtrucks_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "planner1" in testapp.get("/login").text  # the session now carries the user


def test_tampered_session_cookie_is_no_login(testapp, planner):
    submit_login(testapp, "planner1", PASSWORD, status=302)
    value = testapp.cookies["foodtrucks_session"]
    testapp.set_cookie("foodtrucks_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert "planner1" not in testapp.get("/login").text


def test_login_follows_a_local_next_only(testapp, planner):
    assert submit_login(testapp, "planner1", PASSWORD, status=302, next_path="/plan/2022-04-20").location == (
        "http://example.com/plan/2022-04-20"
    )
    for outside in OFF_SITE:
        response = submit_login(testapp, "planner1", PASSWORD, status=302, next_path=outside)
        assert response.location == "http://example.com/"


def test_the_language_switch_never_leaves_the_site_either(testapp):
    assert testapp.get("/lang/en", params={"next": "/login"}).location == "http://example.com/login"
    for outside in OFF_SITE:
        assert testapp.get("/lang/en", params={"next": outside}).location == "http://example.com/"


def test_unknown_user_and_wrong_password_get_the_same_message(testapp, dbsession, planner):
    wrong_password = submit_login(testapp, "planner1", "not the password", status=400)
    unknown_user = submit_login(testapp, "nobody", "not the password", status=400)
    assert "用户名或密码错误" in wrong_password.text and "用户名或密码错误" in unknown_user.text
    assert "Set-Cookie" not in wrong_password.headers or "user_id" not in wrong_password.headers["Set-Cookie"]
    assert failures(dbsession, "planner1") == 1
    assert failures(dbsession, "nobody") == 1


def test_sixth_attempt_is_refused_even_with_the_right_password(testapp, dbsession, planner):
    for _ in range(PAIR_LIMIT.free):
        submit_login(testapp, "planner1", "guess", status=400)
    refused = submit_login(testapp, "planner1", PASSWORD, status=429)
    assert "登录失败次数过多，请 1 分钟后再试" in refused.text
    assert 29 <= int(refused.headers["Retry-After"]) <= 30
    testapp.set_cookie("lang", "en")
    assert "Too many failed attempts: try again in 1 minutes" in submit_login(
        testapp, "PLANNER1 ", PASSWORD, status=429  # the same name however it is written
    ).text
    assert failures(dbsession, "planner1") == PAIR_LIMIT.free  # refused attempts are not counted


def test_each_failure_past_the_limit_doubles_the_wait(testapp, dbsession, planner):
    for _ in range(PAIR_LIMIT.free):
        submit_login(testapp, "planner1", "guess", status=400)
    waits = []
    for _ in range(4):
        waits.append(int(submit_login(testapp, "planner1", "guess", status=429).headers["Retry-After"]))
        let_time_pass(dbsession, dt.timedelta(seconds=waits[-1]))
        submit_login(testapp, "planner1", "guess", status=400)  # the wait is over: checked, wrong
    assert [round(w, -1) for w in waits] == [30, 60, 120, 240]
    let_time_pass(dbsession, dt.timedelta(minutes=8))
    submit_login(testapp, "planner1", PASSWORD, status=302)
    assert failures(dbsession, "planner1") == 0  # success forgets the pair's failures


def test_a_quiet_counter_starts_again(testapp, dbsession, planner):
    for _ in range(PAIR_LIMIT.free - 1):
        submit_login(testapp, "planner1", "guess", status=400)
    let_time_pass(dbsession, WINDOW)
    submit_login(testapp, "planner1", "guess", status=400)
    assert failures(dbsession, "planner1") == 1


def test_a_stranger_elsewhere_cannot_lock_the_user_out(testapp, dbsession, planner):
    stranger = {"REMOTE_ADDR": "10.0.0.66"}
    for _ in range(3 * PAIR_LIMIT.free):
        form = login_form(testapp)
        form["username"], form["password"] = "planner1", "guess"
        form.submit(status=[400, 429], extra_environ=stranger)
    assert failures(dbsession, "planner1", "10.0.0.66") == PAIR_LIMIT.free  # the rest never checked
    submit_login(testapp, "planner1", PASSWORD, status=302)  # from the user's own address


def test_one_address_trying_many_names_is_refused(testapp, dbsession, planner):
    for i in range(ADDRESS_LIMIT.free):
        submit_login(testapp, f"name{i}", "guess", status=400)
    refused = submit_login(testapp, "planner1", PASSWORD, status=429)
    assert 29 <= int(refused.headers["Retry-After"]) <= 30
    other_address = {"REMOTE_ADDR": "10.0.0.9"}
    form = login_form(testapp)
    form["username"], form["password"] = "planner1", PASSWORD
    form.submit(status=302, extra_environ=other_address)


def test_login_without_csrf_token_is_refused(testapp, dbsession, planner):
    testapp.get("/login")
    response = testapp.post("/login", {"username": "planner1", "password": PASSWORD}, status=403)
    assert "表单已过期" in response.text
    assert "planner1" not in testapp.get("/login").text  # not logged in


def test_logout_ends_the_session_and_needs_csrf(testapp, planner):
    submit_login(testapp, "planner1", PASSWORD, status=302)
    page = testapp.get("/login")
    testapp.post("/logout", status=403)  # no token: still logged in
    assert "planner1" in testapp.get("/login").text
    token = page.html.find("meta", attrs={"name": "csrf-token"})["content"]
    response = testapp.post("/logout", {"csrf_token": token}, status=302)
    assert response.location == "http://example.com/login"
    assert "planner1" not in testapp.get("/login").text


def test_login_renews_the_session_and_its_csrf_token(testapp, planner):
    before = login_form(testapp)["csrf_token"].value
    submit_login(testapp, "planner1", PASSWORD, status=302)
    assert login_form(testapp)["csrf_token"].value != before
