"""End-to-end journeys: the real app served by waitress on a committed SQLite file, driven by
Playwright in Debian's headless Chromium. Each journey saves a screenshot of its last page under
tests/artifacts/. Without /usr/bin/chromium the journeys skip with a note (``make test``
installs it when it can)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import transaction
from webtest.http import StopableWSGIServer

from tests.conftest import app_settings_for
from trucks.db import get_engine, get_session_factory, get_tm_session
from views import main

CHROMIUM = Path(os.environ.get("FOODTRUCKS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: browser journeys skipped (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_app(file_database):
    """The app over a committed database, served on a free localhost port."""
    engine = get_engine({"sqlalchemy.url": file_database})
    app = main({}, dbengine=engine, **app_settings_for(file_database))
    server = StopableWSGIServer.create(app, host="127.0.0.1")
    yield server.application_url.rstrip("/"), get_session_factory(engine)
    server.shutdown()
    engine.dispose()


@pytest.fixture
def committed(live_app):
    """Runs a function with a session whose work is committed, for setting up a journey."""
    _, session_factory = live_app

    def run(work):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            return work(get_tm_session(session_factory, manager))

    return run


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def published_day(committed):
    """A tiny day for today (Shanghai), solved by the real engine and published as version 1."""
    from scheduling import solve
    from tests.factories import make_day
    from trucks.live import local_today
    from trucks.publishing import publish
    from trucks.services import PlanningSettings, build_problem, store_schedule

    def work(dbsession):
        day = make_day(dbsession, date=local_today())
        planning = PlanningSettings(time_limit=3)
        problem = build_problem(dbsession, day.date, day.retailer.id, planning)
        schedule = store_schedule(dbsession, problem, solve(problem.problem, time_limit=3))
        publish(dbsession, schedule, published_by="journey")
        return day.date, day.retailer.id, [t.id for t in day.trucks]

    return committed(work)
