"""Fixtures of the view tests that need work to leave the request (tasks sent after commit)."""
from __future__ import annotations

import pytest
import webtest

from tests.conftest import app_settings_for
from views import main


@pytest.fixture
def committed(file_database):
    """The real app on a committed SQLite file: a re-plan is a run whose task leaves once the
    request commits (testing.ini runs it eagerly, in the sending process)."""
    settings = app_settings_for(file_database)
    settings["scheduling.time_limit_seconds"] = "1"
    app = main({}, **settings)
    factory = app.registry["dbsession_factory"]
    yield webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"}), factory
    factory.kw["bind"].dispose()
