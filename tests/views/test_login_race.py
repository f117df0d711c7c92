"""Thirty simultaneous wrong-password logins for one user, through waitress on a real
database file (and PostgreSQL where one answers): at most the pair's free failures have their
password checked, the rest are refused with 429 before any hash is computed."""
from __future__ import annotations

import threading

import requests
import transaction

from tests.factories import make_retailer, make_user
from trucks.db import get_tm_session
from trucks.models import Role
from trucks.ratelimit import PAIR_LIMIT

ATTEMPTS = 30


def test_thirty_simultaneous_guesses_check_at_most_the_limit(served_app, monkeypatch):
    base, app = served_app
    with transaction.manager:
        dbsession = get_tm_session(app.registry["dbsession_factory"], transaction.manager)
        make_user(dbsession, Role.PLANNER, username="planner1", retailer=make_retailer(dbsession, "逸刻"))

    import views.accounts

    checked, lock = [], threading.Lock()
    real_authenticate = views.accounts.authenticate

    def counting_authenticate(*args):
        with lock:
            checked.append(1)
        return real_authenticate(*args)

    monkeypatch.setattr(views.accounts, "authenticate", counting_authenticate)
    clients = []
    for _ in range(ATTEMPTS):  # each with its own session and CSRF token, as separate browsers
        client = requests.Session()
        token = client.get(f"{base}/api/session", timeout=30).json()["csrf_token"]
        clients.append((client, token))
    start, statuses = threading.Barrier(ATTEMPTS), []

    def guess(client, token):
        start.wait()
        response = client.post(f"{base}/login", data={"csrf_token": token, "username": "planner1",
                                                      "password": "wrong guess"}, timeout=60)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    print(f"\n{ATTEMPTS} simultaneous attempts: {len(checked)} checked, "
          f"{statuses.count(400)} wrong (400), {statuses.count(429)} refused (429)")
    assert sorted(set(statuses)) == [400, 429] and len(statuses) == ATTEMPTS
    assert len(checked) == statuses.count(400) == PAIR_LIMIT.free
