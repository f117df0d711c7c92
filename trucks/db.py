"""Engine, session factory and the transaction-managed session, as in Pyramid's starter."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker
from transaction.interfaces import TransientError
import zope.sqlalchemy

from . import models  # noqa: F401  (registers every table before mappers are configured)
from . import page_generation  # noqa: F401  (every session's flushes bump the pages they change)

configure_mappers()

#: times a worker's own transaction is run again after SQLite refused its write
BUSY_RETRIES = 10

T = TypeVar("T")


class DatabaseBusy(OperationalError, TransientError):
    """SQLite refused a write because another connection writes (or wrote since this
    transaction's first read): the transaction manager runs the request again."""


def get_engine(settings: dict, prefix: str = "sqlalchemy.") -> Engine:
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "handle_error", _sqlite_busy)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    """pysqlite begins a transaction only before a write and never before a SAVEPOINT, so a
    savepoint would commit the request's work on release; SQLAlchemy's documented cure
    ("Serializable isolation / Savepoints / Transactional DDL") is to turn that off here and
    emit BEGIN ourselves (``_sqlite_begin``). WAL lets readers and a writer work at once."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _sqlite_busy(context) -> None:
    """A write SQLite refused (another connection writes or wrote since this transaction read)
    becomes ``DatabaseBusy``, after a short random pause so that the writers' retries do not
    collide again."""
    if "database is locked" in str(context.original_exception):
        time.sleep(random.uniform(0.02, 0.2))
        raise DatabaseBusy(context.statement, context.parameters, context.original_exception) \
            from context.original_exception


def in_transaction(session_factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """``work(session)`` in a transaction of its own, committed when it returns; run again from
    the start when SQLite refuses its write (``DatabaseBusy``), as pyramid_retry does for a
    request: a worker's transaction has no request around it to retry it. A busy_timeout cannot
    help a transaction whose snapshot is older than another's commit; only a new one can."""
    for _ in range(BUSY_RETRIES):
        try:
            with session_factory.begin() as session:
                return work(session)
        except DatabaseBusy:
            continue  # _sqlite_busy paused already
    with session_factory.begin() as session:  # the last try: its refusal is the caller's
        return work(session)


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine)


def get_tm_session(session_factory: sessionmaker[Session], transaction_manager, request=None) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it, never by hand."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config) -> None:
    """Gives every request ``request.dbsession`` joined to pyramid_tm's transaction."""
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    dbengine = settings.get("dbengine") or get_engine(settings)
    session_factory = get_session_factory(dbengine)
    config.registry["dbsession_factory"] = session_factory

    def dbsession(request):
        # A test may hand in its own session through the WSGI environ.
        session = request.environ.get("app.dbsession")
        if session is None:
            session = get_tm_session(session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)
