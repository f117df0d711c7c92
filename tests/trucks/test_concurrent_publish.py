"""Issue 11: two publications of one day at the same moment, each in its own connection and
transaction, on a real SQLite file and on PostgreSQL: each gets its own version, no error."""
from __future__ import annotations

import threading

import transaction
import webtest
from sqlalchemy import select

from tests.conftest import app_settings_for
from tests.factories import make_day, make_user
from tests.fieldday import make_schedule
from tests.views.api_helpers import api_login
from trucks.db import get_engine, get_session_factory, get_tm_session
from trucks.models import Publication, Role, Schedule
from trucks.publishing import publish
from views import main

PUBLISHERS = 2


def committed_day(factory, schedules: int, planners: tuple[str, ...] = ()):
    """A day with ``schedules`` schedules (one stop each) and planner accounts, committed."""
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        session = get_tm_session(factory, tm)
        day = make_day(session, prefix="CC")
        schedule_ids = [make_schedule(session, day, {0: [(i, "10:00", "10:00", "10:15")]}).id
                        for i in range(schedules)]
        for name in planners:
            make_user(session, Role.PLANNER, username=name, retailer=day.retailer)
        return day.date, day.retailer.id, schedule_ids


def test_simultaneous_publications_each_get_one_version(fresh_database):
    engine = get_engine({"sqlalchemy.url": fresh_database})
    factory = get_session_factory(engine)
    date, retailer_id, schedule_ids = committed_day(factory, PUBLISHERS)

    both_read = threading.Barrier(PUBLISHERS, timeout=20)
    versions, errors, attempts = {}, [], []

    def publisher(schedule_id: int) -> None:
        tm = transaction.TransactionManager(explicit=True)
        try:
            for attempt in tm.attempts(5):
                with attempt:
                    attempts.append(schedule_id)
                    session = get_tm_session(factory, tm)
                    schedule = session.get(Schedule, schedule_id)
                    if attempts.count(schedule_id) == 1:
                        both_read.wait()  # both have read the day before either writes
                    versions[schedule_id] = publish(session, schedule, f"planner-{schedule_id}").version
        except Exception as exc:  # noqa: BLE001  (any error at all fails the test below)
            errors.append(exc)

    threads = [threading.Thread(target=publisher, args=(sid,)) for sid in schedule_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(versions.values()) == list(range(1, PUBLISHERS + 1))
    with factory() as session:
        stored = session.execute(select(Publication.version, Publication.schedule_id).where(
            Publication.date == date, Publication.retailer_id == retailer_id)).all()
    assert sorted(stored) == sorted((v, sid) for sid, v in versions.items())
    print(f"{engine.dialect.name}: {len(attempts)} attempts for {PUBLISHERS} publications")
    engine.dispose()


def test_two_planners_publishing_the_day_at_once_through_the_api(fresh_database):
    """The same latest schedule published from two sessions at once: one version, one clear 409
    (already published), never a 500; the request that lost SQLite's write lock is run again."""
    engine = get_engine({"sqlalchemy.url": fresh_database})
    date, _, (schedule_id,) = committed_day(get_session_factory(engine), 1, ("planner-x", "planner-y"))
    app = main({}, dbengine=engine, **app_settings_for(fresh_database))
    clients = []
    for name in ("planner-x", "planner-y"):
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
        clients.append((client, api_login(client, name)))

    statuses = []
    together = threading.Barrier(len(clients), timeout=20)

    def post(client, token) -> None:
        together.wait()
        response = client.post_json(f"/api/days/{date}/publications", {"schedule_id": schedule_id},
                                    headers={"X-CSRF-Token": token}, expect_errors=True)
        statuses.append((response.status_int, response.json.get("reason")))

    threads = [threading.Thread(target=post, args=client) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses, key=lambda s: s[0]) == [(201, None), (409, "already_published")]
    with get_session_factory(engine)() as session:
        assert session.scalars(select(Publication.version)).all() == [1]
    engine.dispose()
