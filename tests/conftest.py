"""Fixtures in the Pyramid starter's style: schema by ``alembic upgrade head``, one aborted
transaction per test, and ``webtest.TestApp`` sharing that transaction.

Database tests run on SQLite always and on PostgreSQL too when one answers at
127.0.0.1:5432 (database ``test``, trust auth); where none does they skip with a note.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import alembic.command
import alembic.config
import pytest
import transaction
import webtest
from pyramid.paster import get_appsettings
from sqlalchemy import create_engine, text

from trucks.db import get_engine, get_tm_session
from views import main

HERE = Path(__file__).resolve().parent
INI_FILE = HERE.parent / "testing.ini"
POSTGRES_SERVER_URL = os.environ.get(
    "FOODTRUCKS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def migrate(url: str) -> None:
    """Builds the schema the only way it is ever built: ``alembic upgrade head``."""
    cfg = alembic.config.Config(str(INI_FILE))
    settings = dict(get_appsettings(str(INI_FILE)))
    settings["sqlalchemy.url"] = url
    cfg.attributes["settings"] = settings
    alembic.command.upgrade(cfg, "head")


def app_settings_for(url: str) -> dict:
    settings = dict(get_appsettings(str(INI_FILE)))
    settings["sqlalchemy.url"] = url
    return settings


def _postgres_database() -> str:
    """Creates a throwaway database on the local server and returns its URL, or skips."""
    try:
        import psycopg  # noqa: F401

        server = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
        name = f"foodtrucks_test_{uuid.uuid4().hex[:10]}"
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
    except Exception as exc:  # no server, no driver, no rights: all mean "not here"
        pytest.skip(f"PostgreSQL not available at 127.0.0.1:5432 ({type(exc).__name__}); "
                    "database tests ran on SQLite only")
    return POSTGRES_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    server = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@contextmanager
def migrated_database(backend: str, directory: Path):
    """A migrated, empty database: a SQLite file in ``directory`` or a throwaway PostgreSQL one."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'test.sqlite'}"
        migrate(url)
        yield url
    else:
        url = _postgres_database()
        migrate(url)
        try:
            yield url
        finally:
            _drop_postgres_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend, for the whole session."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def app_settings(database_url):
    return app_settings_for(database_url)


@pytest.fixture(scope="session")
def dbengine(app_settings):
    engine = get_engine(app_settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(app_settings, dbengine):
    return main({}, dbengine=dbengine, **app_settings)


@pytest.fixture
def tm():
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    tm.doom()
    yield tm
    tm.abort()


@pytest.fixture
def dbsession(app, tm):
    return get_tm_session(app.registry["dbsession_factory"], tm)


@pytest.fixture
def testapp(app, tm, dbsession):
    return webtest.TestApp(
        app,
        extra_environ={
            "HTTP_HOST": "example.com",
            "tm.active": True,
            "tm.manager": tm,
            "app.dbsession": dbsession,
        },
    )


@pytest.fixture
def file_database(tmp_path):
    """A committed SQLite database of this test's own, for the CLI and background work that
    use their own connections and transactions."""
    url = f"sqlite:///{tmp_path / 'foodtrucks.sqlite'}"
    migrate(url)
    return url


@pytest.fixture
def file_ini(tmp_path, file_database):
    """testing.ini with ``sqlalchemy.url`` pointing at ``file_database``: what the CLI takes."""
    source = INI_FILE.read_text(encoding="utf-8")
    lines = [
        f"sqlalchemy.url = {file_database}" if line.startswith("sqlalchemy.url") else line
        for line in source.splitlines()
    ]
    path = tmp_path / "testing.ini"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request, tmp_path):
    """A migrated database of this test's own on each backend, for work that commits on several
    connections at once (the session's shared database keeps each test's work uncommitted)."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def served_app(fresh_database):
    """The whole app served by waitress on a free loopback port, in a thread, over
    ``fresh_database``: yields (base URL, app)."""
    import threading

    import waitress
    from waitress import wasyncore

    app = main({}, **app_settings_for(fresh_database))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=32, clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="served-app", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", app
    # closed by the server's own loop, which then ends: a socket closed from here while that
    # loop waits in select() on it fails the loop with "Bad file descriptor"
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()
