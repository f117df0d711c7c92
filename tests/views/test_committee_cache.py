"""The committee page from the cache: ETag and 304, one small query on a hit, and every change
(a publication, a driver's report, a committee report, a new link) shown at once."""
from __future__ import annotations

import transaction
import webtest
from sqlalchemy import event

from tests.conftest import app_settings_for
from tests.factories import Day
from tests.fieldday import FIRST_PLAN, make_schedule, publish_day, republish
from trucks import committees
from trucks.db import get_engine, get_tm_session
from trucks.live import record_stop_event
from trucks.models import Compound, Retailer, Truck
from trucks.publishing import publish
from views import main


def page_url(compound) -> str:
    return f"/c/{compound.access_token}"


class StatementCounter:
    def __init__(self, engine):
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self.record)
        self.engine = engine

    def record(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self.record)


def test_a_reload_gets_304_and_a_hit_reads_only_the_generation(testapp, dbsession, dbengine):
    compound = publish_day(dbsession, prefix="CC1").day.compounds[0]
    first = testapp.get(page_url(compound))
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    counter = StatementCounter(dbengine)
    try:
        again = testapp.get(page_url(compound))
        reload = testapp.get(page_url(compound), headers={"If-None-Match": etag}, status=304)
    finally:
        counter.close()
    assert again.body == first.body and again.headers["ETag"] == etag
    assert reload.body == b""
    assert len(counter.statements) == 2 and all("page_generations" in s for s in counter.statements)
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in again.headers
    english = testapp.get(page_url(compound), headers={"Cookie": "lang=en"})
    assert "The food truck starts serving" in english.text and english.headers["ETag"] != etag


def test_a_publication_a_drivers_report_and_a_committee_report_show_at_once(testapp, dbsession):
    published = publish_day(dbsession, prefix="CC2")
    compound = published.day.compounds[0]
    etag = testapp.get(page_url(compound)).headers["ETag"]

    record_stop_event(dbsession, published.day.trucks[0], published.day.date, published.stop(0, 1).id, "delay",
                      delay_minutes=40)
    delayed = testapp.get(page_url(compound), headers={"If-None-Match": etag}, status=200)
    assert "司机报告了实际进度" in delayed.text

    republish(dbsession, published, {0: [(0, "11:05", "11:05", "11:30")] + FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]})
    assert "第 2 版" in testapp.get(page_url(compound)).text

    committees.file_report(dbsession, compound, published.day.date, "封控", compound.committee_code)
    assert "封控" in testapp.get(page_url(compound)).text


def test_a_rotated_link_is_404_at_once_although_its_page_was_cached(testapp, dbsession):
    compound = publish_day(dbsession, prefix="CC3").day.compounds[0]
    old = page_url(compound)
    testapp.get(old)
    testapp.get(old)
    committees.rotate_link(compound)
    dbsession.flush()
    testapp.get(old, status=404)
    testapp.get(page_url(compound), status=200)


def test_a_publication_committed_by_another_process_shows_on_the_next_request(file_database):
    """Two apps on one committed database, as a web process and a script or worker are."""
    settings = app_settings_for(file_database)
    engine = get_engine(settings)
    web = webtest.TestApp(main({}, dbengine=engine, **settings), extra_environ={"HTTP_HOST": "example.com"})
    other_engine = get_engine(settings)
    session_factory = main({}, dbengine=other_engine, **settings).registry["dbsession_factory"]

    def committed(work):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return work(get_tm_session(session_factory, manager))

    def first_version(dbsession):
        day = publish_day(dbsession, prefix="CC4").day
        return day.date, day.retailer.id, [t.id for t in day.trucks], [c.id for c in day.compounds]

    date, retailer_id, truck_ids, compound_ids = committed(first_version)
    token = committed(lambda s: s.get(Compound, compound_ids[0]).access_token)
    first = web.get(f"/c/{token}")
    assert "第 1 版" in first.text
    assert web.get(f"/c/{token}", headers={"If-None-Match": first.headers["ETag"]}, status=304)

    def second_version(dbsession):
        day = Day(date, dbsession.get(Retailer, retailer_id), [dbsession.get(Truck, i) for i in truck_ids],
                  [dbsession.get(Compound, i) for i in compound_ids])
        plan = {0: [(0, "11:05", "11:05", "11:30")] + FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]}
        publish(dbsession, make_schedule(dbsession, day, plan), "script")

    committed(second_version)
    after = web.get(f"/c/{token}", headers={"If-None-Match": first.headers["ETag"]}, status=200)
    assert "第 2 版" in after.text and "11:00–11:15" in after.text
    engine.dispose()
    other_engine.dispose()
