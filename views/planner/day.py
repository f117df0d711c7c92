"""The (date, retailer) a planner's request is about, and the rows of that day it may see.

``PlanDay`` is the context of every route of a retailer's day, pages and API alike: the
retailer comes from ``RetailerContext`` (with its ACL), and every query below is scoped to it.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, or_, select

from trucks.importer import import_day
from trucks.live import local_from_utc
from trucks.models import (
    CommitteeReport,
    Compound,
    Demand,
    ImportBatch,
    Retailer,
    Schedule,
    SolveRun,
    SolveStatus,
    Stock,
    Truck,
)
from trucks.publishing import latest_publication
from trucks.services import PlanningSettings, latest_schedule, loaded_trucks
from trucks.solving import dead_after, is_alive

from ..contexts import RetailerContext, path_day


def latest_data_date(dbsession, retailer_id: int) -> dt.date | None:
    """The most recent date the retailer's trucks were loaded for."""
    return dbsession.scalar(
        select(func.max(Stock.date)).join(Truck, Stock.truck_id == Truck.id).where(Truck.retailer_id == retailer_id)
    )


class PlanDay(RetailerContext):
    """Everything of one retailer's day, always scoped by the context's retailer."""

    def __init__(self, request):
        self.date = path_day(request)
        super().__init__(request)

    def import_files(self, files) -> ImportBatch:
        """The day's import as the user may make it (the page's and the API's): a planner's is
        held to their retailer's trucks, stock, the demand it supplies and travel between its
        places; the admin's and the coordinator's may change any compound's master data."""
        return import_day(
            self.dbsession, self.date, files,
            retailer_id=None if self.chooses_retailer else self.retailer_id,
            user=self.request.user.username,
            max_stops_default=PlanningSettings.from_settings(self.request.registry.settings).max_stops_default,
        )

    @cached_property
    def retailers(self) -> list[Retailer]:
        """For the retailer picker of an admin or a coordinator."""
        return list(self.dbsession.scalars(select(Retailer).order_by(Retailer.name))) if self.chooses_retailer else []

    @cached_property
    def trucks(self) -> list[Truck]:
        return loaded_trucks(self.dbsession, self.date, self.retailer_id)

    @cached_property
    def compounds(self) -> list[Compound]:
        """The compounds the retailer supplies this day (they have demand for it)."""
        return list(
            self.dbsession.scalars(select(Compound).where(Compound.id.in_(self._supplied)).order_by(Compound.code))
        )

    @property
    def _supplied(self):
        """The ids of the compounds whose demand the retailer supplies this day, as a subquery."""
        return select(Demand.compound_id).where(Demand.date == self.date, Demand.retailer_id == self.retailer_id)

    @property
    def _import_scope(self):
        """The retailer's own imports; an admin also sees the several-retailer imports."""
        own = ImportBatch.retailer_id == self.retailer_id
        return or_(own, ImportBatch.retailer_id.is_(None)) if self.is_admin else own

    @cached_property
    def committee_reports(self) -> list[CommitteeReport]:
        """Compounds of the day that said they cannot receive: the next solve leaves them out."""
        return list(
            self.dbsession.scalars(
                select(CommitteeReport)
                .where(CommitteeReport.date == self.date, CommitteeReport.compound_id.in_(self._supplied))
                .order_by(CommitteeReport.created_at)
            )
        )

    @cached_property
    def imports(self) -> list[ImportBatch]:
        return list(
            self.dbsession.scalars(
                select(ImportBatch)
                .where(ImportBatch.date == self.date, self._import_scope)
                .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
            )
        )

    @cached_property
    def latest_schedule(self) -> Schedule | None:
        return latest_schedule(self.dbsession, self.date, self.retailer_id)

    @cached_property
    def latest_publication(self):
        return latest_publication(self.dbsession, self.date, self.retailer_id)

    @cached_property
    def active_run(self) -> SolveRun | None:
        """A solve of this day still queued or running with a fresh heartbeat, if any (an
        abandoned one does not hold the solve button back: the next start marks it failed)."""
        run = self.dbsession.scalars(
            select(SolveRun)
            .where(
                SolveRun.date == self.date,
                SolveRun.retailer_id == self.retailer_id,
                SolveRun.status.in_(SolveStatus.active()),
            )
            .order_by(SolveRun.id.desc())
            .limit(1)
        ).first()
        return run if run is not None and is_alive(run, dead_after(self.request.registry.settings)) else None

    @cached_property
    def last_run(self) -> SolveRun | None:
        return self.dbsession.scalars(
            select(SolveRun)
            .where(SolveRun.date == self.date, SolveRun.retailer_id == self.retailer_id)
            .order_by(SolveRun.id.desc())
            .limit(1)
        ).first()

    def solve_run(self, run_id: int) -> SolveRun:
        run = self.dbsession.get(SolveRun, run_id)
        if run is None or run.date != self.date or run.retailer_id != self.retailer_id:
            raise HTTPNotFound()
        return run

    @staticmethod
    def stamp(moment: dt.datetime) -> str:
        """A stored UTC timestamp as Shanghai time, as the pages show it."""
        return local_from_utc(moment).strftime("%Y-%m-%d %H:%M")

    def url(self, route_name: str, **kw) -> str:
        return self.request.route_url(route_name, date=self.date.isoformat(), **kw)
