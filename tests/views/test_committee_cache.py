"""The committee page from the cache: ETag and 304, one small query on a hit, every change shown
at once (a publication, a driver's report, a committee report, a compound's row, a category), and
only the pages a change may touch rendered again: a compound's generation moves, not everyone's."""
from __future__ import annotations

import threading
import urllib.request

import pytest
import sqlalchemy.exc
import transaction
import webtest
from sqlalchemy import event, select, text

from tests.conftest import app_settings_for, migrated_database
from tests.factories import Day
from tests.fieldday import FIRST_PLAN, make_schedule, publish_day, republish
from trucks import committees
from trucks.db import get_engine, get_tm_session
from trucks.live import record_stop_event
from trucks.models import Category, CommitteeReport, Compound, Retailer, Truck
from trucks.publishing import publish
from views import main

#: version 2 of FIRST_PLAN: truck 1 serves compound 1 first, then 2 and no longer 6
SECOND_PLAN = {0: [(1, "10:37", "10:37", "11:02"), (0, "11:20", "11:20", "11:45")], 1: FIRST_PLAN[1]}


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


def rendered(testapp, engine, compounds) -> set[int]:
    """Which of the compounds' pages the app rendered to answer (a hit reads only the page's
    generation; every answer here is the page)."""
    again = set()
    for index, compound in enumerate(compounds):
        counter = StatementCounter(engine)
        try:
            testapp.get(page_url(compound), status=200)
        finally:
            counter.close()
        if len(counter.statements) > 1:
            again.add(index)
    return again


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
    assert "script-src 'self' 'nonce-" in again.headers["Content-Security-Policy"]
    assert again.headers["X-Frame-Options"] == "DENY" and again.headers["Content-Type"].startswith("text/html")
    assert reload.body == b"" and reload.headers["ETag"] == etag and "Content-Security-Policy" in reload.headers
    assert len(counter.statements) == 2 and all("page_generations" in s for s in counter.statements)
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in again.headers
    english = testapp.get(page_url(compound), headers={"Cookie": "lang=en"})
    assert "The food truck starts serving" in english.text and english.headers["ETag"] != etag
    head = testapp.head(page_url(compound))
    assert head.body == b"" and head.headers["ETag"] == etag


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


def test_a_publication_renders_again_only_the_pages_of_its_retailers_day(testapp, dbsession, dbengine):
    mine = publish_day(dbsession, prefix="CC5")
    other = publish_day(dbsession, prefix="CC6", retailer_name="良友")
    compounds = mine.day.compounds + other.day.compounds
    assert rendered(testapp, dbengine, compounds) == set(range(16))  # the first visit renders each
    assert rendered(testapp, dbengine, compounds) == set()

    republish(dbsession, mine, SECOND_PLAN)
    # its version 1 served compounds 1, 2, 6 and 4; 3, 5, 7, 8 had no stop and still have none;
    # the other retailer's pages stay as they were
    assert rendered(testapp, dbengine, compounds) == {0, 1, 3, 5}
    assert "第 2 版" in testapp.get(page_url(mine.day.compounds[1])).text
    assert "第 2 版排班已取消" in testapp.get(page_url(mine.day.compounds[5])).text
    assert "第 1 版" in testapp.get(page_url(other.day.compounds[0])).text


def test_a_drivers_report_renders_again_the_pages_along_that_trucks_route(testapp, dbsession, dbengine):
    published = publish_day(dbsession, prefix="CC7")
    other = publish_day(dbsession, prefix="CC8", retailer_name="良友")
    compounds = published.day.compounds + other.day.compounds
    rendered(testapp, dbengine, compounds)

    record_stop_event(dbsession, published.day.trucks[0], published.day.date, published.stop(0, 1).id, "delay",
                      delay_minutes=40)
    # truck 1 serves compounds 1, 2 and 6; truck 2 only compound 4
    assert rendered(testapp, dbengine, compounds) == {0, 1, 5}
    assert "司机报告了实际进度" in testapp.get(page_url(published.day.compounds[1])).text


def test_a_committee_report_and_its_answer_render_again_only_that_compounds_page(testapp, dbsession, dbengine):
    published = publish_day(dbsession, prefix="CC9")
    compounds = published.day.compounds
    rendered(testapp, dbengine, compounds)

    report = committees.file_report(dbsession, compounds[3], published.day.date, "全员核酸", compounds[3].committee_code)
    assert rendered(testapp, dbengine, compounds) == {3}
    committees.decide_report(dbsession, report, "overridden", "核酸在下午", "planner")
    assert rendered(testapp, dbengine, compounds) == {3}
    assert "核酸在下午" in testapp.get(page_url(compounds[3])).text


def test_a_compounds_row_renders_again_its_page_and_a_category_every_page(testapp, dbsession, dbengine):
    published = publish_day(dbsession, prefix="CC10")
    other = publish_day(dbsession, prefix="CC11", retailer_name="良友")
    compounds = published.day.compounds + other.day.compounds
    rendered(testapp, dbengine, compounds)

    compounds[2].name = "新名字小区"
    compounds[4].town = compounds[4].town  # the same value: nothing changed
    dbsession.flush()
    assert rendered(testapp, dbengine, compounds) == {2}
    assert "新名字小区" in testapp.get(page_url(compounds[2])).text

    dbsession.get(Category, "vegetables").name_zh = "新鲜蔬菜"
    dbsession.flush()
    assert rendered(testapp, dbengine, compounds) == set(range(16))
    assert "新鲜蔬菜" in testapp.get(page_url(compounds[0])).text


@pytest.fixture
def two_processes(fresh_database):
    """The web app, and a committing session of another app (a script's, a worker's), on one
    database of each backend."""
    settings = app_settings_for(fresh_database)
    engine = get_engine(settings)
    web = webtest.TestApp(main({}, dbengine=engine, **settings), extra_environ={"HTTP_HOST": "example.com"})
    other_engine = get_engine(settings)
    session_factory = main({}, dbengine=other_engine, **settings).registry["dbsession_factory"]

    def committed(work):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return work(get_tm_session(session_factory, manager))

    yield web, engine, committed
    engine.dispose()
    other_engine.dispose()


def _ids(published) -> tuple:
    day = published.day
    return day.date, day.retailer.id, [t.id for t in day.trucks], [c.id for c in day.compounds]


def _tokens(committed, compound_ids) -> list[str]:
    return committed(lambda s: [s.get(Compound, i).access_token for i in compound_ids])


def test_a_publication_committed_by_another_process_shows_on_the_next_request(two_processes):
    """Only its retailer's pages are rendered again; the web app's hit runs no SQLAlchemy
    statement at all (one DBAPI read of the generation)."""
    web, engine, committed = two_processes
    date, retailer_id, truck_ids, compound_ids = committed(lambda s: _ids(publish_day(s, prefix="CC4")))
    *_, other_ids = committed(lambda s: _ids(publish_day(s, prefix="CC12", retailer_name="良友")))
    token, other_token = _tokens(committed, [compound_ids[0], other_ids[0]])
    first = web.get(f"/c/{token}")
    assert "第 1 版" in first.text
    assert web.get(f"/c/{token}", headers={"If-None-Match": first.headers["ETag"]}, status=304)
    other_etag = web.get(f"/c/{other_token}").headers["ETag"]

    def second_version(dbsession):
        day = Day(date, dbsession.get(Retailer, retailer_id), [dbsession.get(Truck, i) for i in truck_ids],
                  [dbsession.get(Compound, i) for i in compound_ids])
        plan = {0: [(0, "11:05", "11:05", "11:30")] + FIRST_PLAN[0][1:], 1: FIRST_PLAN[1]}
        publish(dbsession, make_schedule(dbsession, day, plan), "script")

    committed(second_version)
    after = web.get(f"/c/{token}", headers={"If-None-Match": first.headers["ETag"]}, status=200)
    assert "第 2 版" in after.text and "11:00–11:15" in after.text
    counter = StatementCounter(engine)
    try:
        web.get(f"/c/{other_token}", headers={"If-None-Match": other_etag}, status=304)
    finally:
        counter.close()
    assert counter.statements == []


def test_reports_committed_by_another_process_show_on_the_next_request(two_processes):
    web, _engine, committed = two_processes
    date, _retailer_id, truck_ids, compound_ids = committed(lambda s: _ids(publish_day(s, prefix="CC13")))
    tokens = _tokens(committed, compound_ids)
    etags = [web.get(f"/c/{t}").headers["ETag"] for t in tokens]

    def driver_reports(dbsession):
        truck = dbsession.get(Truck, truck_ids[0])
        stop_id = dbsession.scalar(text(
            "SELECT s.id FROM schedule_stops s JOIN schedule_routes r ON r.id = s.route_id "
            "WHERE r.truck_id = :truck AND s.seq = 1").bindparams(truck=truck.id))
        record_stop_event(dbsession, truck, date, stop_id, "delay", delay_minutes=40)

    committed(driver_reports)
    assert "司机报告了实际进度" in web.get(f"/c/{tokens[1]}", headers={"If-None-Match": etags[1]}, status=200).text
    web.get(f"/c/{tokens[3]}", headers={"If-None-Match": etags[3]}, status=304)  # the other truck's

    committed(lambda s: s.add(CommitteeReport(compound_id=compound_ids[3], date=date, reason="全员核酸")))
    assert "全员核酸" in web.get(f"/c/{tokens[3]}", headers={"If-None-Match": etags[3]}, status=200).text


def test_residents_opening_one_page_at_once_wait_for_one_rendering(served_app, fresh_database):
    base, app = served_app
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        token = publish_day(get_tm_session(app.registry["dbsession_factory"], manager),
                            prefix="CC14").day.compounds[0].access_token
    engine = app.registry["dbsession_factory"].kw["bind"]
    counter = StatementCounter(engine)
    start = threading.Barrier(16)
    pages: list[bytes] = []

    def resident():
        start.wait()
        pages.append(urllib.request.urlopen(f"{base}/c/{token}", timeout=30).read())

    residents = [threading.Thread(target=resident) for _ in range(16)]
    try:
        for thread in residents:
            thread.start()
        for thread in residents:
            thread.join()
    finally:
        counter.close()
    assert len(pages) == 16 and len(set(pages)) == 1 and "第 1 版" in pages[0].decode()
    assert sum("compounds.access_token" in s for s in counter.statements) == 1  # one rendering


def test_writers_of_different_compounds_pages_do_not_wait_for_each_other_on_postgresql(tmp_path):
    """A page generation is one row per compound: a transaction holding one compound's row (a
    report filed, not yet committed) holds up only writers of that compound's page."""
    with migrated_database("postgresql", tmp_path) as url:
        settings = app_settings_for(url)
        engine = get_engine(settings)
        session_factory = main({}, dbengine=engine, **settings).registry["dbsession_factory"]
        managers = [transaction.TransactionManager(explicit=True) for _ in range(3)]
        with managers[0]:
            published = publish_day(get_tm_session(session_factory, managers[0]), prefix="CC15")
            date, compound_ids = published.day.date, [c.id for c in published.day.compounds]
        sessions = []
        for manager in managers:
            manager.begin()
            sessions.append(get_tm_session(session_factory, manager))
            sessions[-1].execute(text("SET lock_timeout = '1s'"))
        try:
            for session, compound_id in zip(sessions, (compound_ids[0], compound_ids[1], compound_ids[0])):
                session.add(CommitteeReport(compound_id=compound_id, date=date, reason="全员核酸"))
            sessions[0].flush()
            sessions[1].flush()  # another compound: no wait
            managers[1].commit()
            with pytest.raises(sqlalchemy.exc.OperationalError, match="lock timeout"):
                sessions[2].flush()  # the same compound waits for the first transaction
        finally:
            managers[0].abort()
            managers[2].abort()
        with managers[1]:
            session = get_tm_session(session_factory, managers[1])
            assert session.scalars(select(CommitteeReport.compound_id)).all() == [compound_ids[1]]
        engine.dispose()
