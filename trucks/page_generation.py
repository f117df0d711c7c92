"""One number that moves whenever anything a committee page shows may have changed.

The committee page cache (``views.committee.cache``) keeps rendered pages with the generation
they were rendered at and serves them while it is still current, so the only database work on
its hot path is reading this one row. Every flush that writes what those pages show (a
publication, a driver's report, a committee report or its decision, a compound's name, town or
link) bumps it in the same transaction, so it moves exactly when that transaction commits, from
any process: the web app, a script, a worker. Nothing that writes those rows has to remember it.
(In ``after_flush`` the session still lists what the flush wrote.)
"""
from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import Category, CommitteeReport, Compound, PageGeneration, Publication, StopEvent

#: rows whose change can change a committee page (schedules are immutable and reached through
#: a Publication; demand does not show)
SHOWN_ON_COMMITTEE_PAGES = (Publication, StopEvent, CommitteeReport, Compound, Category)
ROW_ID = 1


#: plain SQL: on the page cache's hot path, compiling a statement would cost more than running it
CURRENT_GENERATION_SQL = f"SELECT generation FROM {PageGeneration.__tablename__} WHERE id = {ROW_ID}"


def current_generation(connection: Connection) -> int:
    return connection.exec_driver_sql(CURRENT_GENERATION_SQL).scalar_one()


def _touches_pages(session: Session) -> bool:
    changed = (session.new, session.dirty, session.deleted)
    return any(isinstance(obj, SHOWN_ON_COMMITTEE_PAGES) for rows in changed for obj in rows)


@event.listens_for(Session, "after_flush")
def _bump_when_pages_change(session: Session, _flush_context) -> None:
    """In the flush's own transaction: the new number is seen exactly when the change is. On
    PostgreSQL the row stays locked until that transaction ends, so writers of page facts
    commit one after the other (they are short: a publication, a report, a driver's event)."""
    if _touches_pages(session):
        session.connection().execute(
            update(PageGeneration).where(PageGeneration.id == ROW_ID)
            .values(generation=PageGeneration.generation + 1))
