"""A number per compound that moves whenever anything its committee page shows may have changed.

The committee page cache (``views.committee.cache``) keeps each rendered page with its
compound's generation and serves it while that is still current, so the only database work on
its hot path is one indexed read by the link's token. Every flush that writes what pages show
bumps, in the same transaction, the generations of exactly the compounds whose pages it may
change, so they move when that transaction commits, from any process (web app, script, worker),
and nothing that writes those rows has to remember it:

- a publication: every compound with a stop in any version of that retailer's day (the current
  version decides what each one shows, "removed in version N" included);
- a driver's report at a stop: every compound on that truck's published routes of the day (an
  estimate runs along the whole route);
- a committee report or a planner's answer to it: its compound;
- a compound's own row (name, town, link): that compound;
- a category or a retailer's name (shown on every page): every compound.

Schedules and their stops never change once written and show only through a publication.
"""
from __future__ import annotations

from itertools import chain

from sqlalchemy import and_, event, inspect, literal, or_, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from .models import (
    Category,
    CommitteeReport,
    Compound,
    PageGeneration,
    Publication,
    Retailer,
    Schedule,
    ScheduleRoute,
    ScheduleStop,
    StopEvent,
)

#: a compound without a row is at generation 0; an unknown token has none (the page is 404)
_GENERATION_SQL = (
    "SELECT coalesce(g.generation, 0) FROM compounds c "
    "LEFT JOIN page_generations g ON g.compound_id = c.id WHERE c.access_token = {}"
)


def generation_sql(dialect: Dialect) -> str:
    """Plain SQL for the DBAPI: on the cache's hot path SQLAlchemy's statement and result
    machinery cost more than the query."""
    return _GENERATION_SQL.format("?" if dialect.paramstyle == "qmark" else "%s")


def page_generation(connection: Connection, token: str) -> int | None:
    """The generation of the page of the compound with this link, None when no compound has it."""
    return connection.exec_driver_sql(generation_sql(connection.dialect), (token,)).scalar()


def _values(obj, name: str) -> set:
    """The attribute's value and, when this flush changed it, the value it had before."""
    return {getattr(obj, name), *inspect(obj).attrs[name].history.deleted} - {None}


def _changed_compounds(session: Session):
    """A query of the compounds whose pages this flush may change, ``True`` for every compound,
    or None when it changed no page."""
    compound_ids: set[int] = set()
    stop_ids: set[int] = set()
    days: set[tuple] = set()
    schedule_ids: set[int] = set()
    new, dirty = session.new, session.dirty
    for obj in chain(new, dirty, session.deleted):
        if obj in dirty and not session.is_modified(obj):
            continue
        if isinstance(obj, Category) or (isinstance(obj, Retailer) and obj not in new):
            return True
        if isinstance(obj, Compound) and obj not in new:  # a new compound has no page yet
            compound_ids.add(obj.id)
        elif isinstance(obj, CommitteeReport):
            compound_ids |= _values(obj, "compound_id")
        elif isinstance(obj, StopEvent):
            stop_ids |= _values(obj, "stop_id")
        elif isinstance(obj, Publication):
            days |= {(d, r) for d in _values(obj, "date") for r in _values(obj, "retailer_id")}
            schedule_ids |= _values(obj, "schedule_id")
    parts = []
    if compound_ids:
        parts.append(select(Compound.id).where(Compound.id.in_(compound_ids)))
    if days:
        published = select(Publication.schedule_id).where(
            or_(*(and_(Publication.date == d, Publication.retailer_id == r) for d, r in days)))
        parts.append(
            select(ScheduleStop.compound_id)
            .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
            .where(or_(ScheduleRoute.schedule_id.in_(schedule_ids), ScheduleRoute.schedule_id.in_(published))))
    if stop_ids:
        reported = (
            select(ScheduleRoute.truck_id, Schedule.date)
            .join(Schedule, ScheduleRoute.schedule_id == Schedule.id)
            .join(ScheduleStop, ScheduleStop.route_id == ScheduleRoute.id)
            .where(ScheduleStop.id.in_(stop_ids))
            .subquery())
        parts.append(
            select(ScheduleStop.compound_id)
            .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
            .join(Schedule, ScheduleRoute.schedule_id == Schedule.id)
            .join(reported, and_(reported.c.truck_id == ScheduleRoute.truck_id, reported.c.date == Schedule.date))
            .join(Publication, Publication.schedule_id == Schedule.id))
    return union_all(*parts).subquery() if parts else None


def bump(connection: Connection, compounds) -> None:
    """Moves the generations of ``compounds`` (a query of compound ids, or ``True`` for all),
    creating missing rows. In compound order, so two transactions that each bump in one flush
    lock the rows they share in the same order and wait rather than deadlock. (One that bumps
    again in a later flush can, rarely, deadlock with another on PostgreSQL, which aborts one of
    them; pyramid_tm runs a request aborted so again.)"""
    if compounds is True:
        compounds = select(Compound.id).subquery()
    chosen = compounds.c[0]
    # each compound once (PostgreSQL refuses to update a row twice in one statement); SQLite
    # reads INSERT ... SELECT ... ON CONFLICT right only with a WHERE in the SELECT
    rows = select(chosen, literal(1)).where(true()).group_by(chosen).order_by(chosen)
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[connection.dialect.name]
    statement = dialect.insert(PageGeneration).from_select(["compound_id", "generation"], rows)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[PageGeneration.compound_id], set_={"generation": PageGeneration.generation + 1}))


@event.listens_for(Session, "after_flush")
def _bump_when_pages_change(session: Session, _flush_context) -> None:
    """In the flush's own transaction: a page's new number is seen exactly when its change is.
    (``after_flush`` still lists what the flush wrote, with each attribute's history.) On
    PostgreSQL the bumped rows stay locked until that transaction ends, so writers of one
    compound's facts commit one after the other; writers of different compounds do not wait."""
    compounds = _changed_compounds(session)
    if compounds is not None:
        bump(session.connection(), compounds)
