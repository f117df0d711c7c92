"""Engine, session factory and the transaction-managed session, as in Pyramid's starter."""
from __future__ import annotations

from sqlalchemy import engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker
import zope.sqlalchemy

from . import models  # noqa: F401  (registers every table before mappers are configured)

configure_mappers()


def get_engine(settings: dict, prefix: str = "sqlalchemy.") -> Engine:
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


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
