"""The domain's tables. The schema changes only through alembic revisions in trucks/alembic."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    or_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Retailer(Base):
    __tablename__ = "retailers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)

    trucks: Mapped[list[Truck]] = relationship(back_populates="retailer", order_by="Truck.code")


class Truck(Base):
    """A truck of a retailer's fleet; ``code`` is the ``truck_id`` of trucks.csv."""

    __tablename__ = "trucks"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    plate: Mapped[str] = mapped_column(String(20))
    depot_name: Mapped[str] = mapped_column(String(100))
    depot_lat: Mapped[float] = mapped_column(Float)
    depot_lon: Mapped[float] = mapped_column(Float)
    shift_start: Mapped[int] = mapped_column(Integer)  # minutes after midnight
    shift_end: Mapped[int] = mapped_column(Integer)
    max_stops: Mapped[int] = mapped_column(Integer, default=30)

    retailer: Mapped[Retailer] = relationship(back_populates="trucks")


#: committee codes: capitals and digits without look-alikes (0/O, 1/I), read out over a phone
COMMITTEE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
COMMITTEE_CODE_LENGTH = 12  # 60 random bits


def new_committee_code() -> str:
    """A compound committee's secret for filing reports, stored as typed without dashes."""
    return "".join(secrets.choice(COMMITTEE_CODE_ALPHABET) for _ in range(COMMITTEE_CODE_LENGTH))


class Compound(Base):
    """A sealed residential compound; ``code`` is the ``compound_id`` of compounds.csv.

    ``access_token`` is the unguessable key of the committee's public page: it only reads.
    ``committee_code`` is what files and withdraws "cannot receive": it goes to the committee
    contact with the link list, never onto the public notice.
    ``contact`` is the committee's phone: drivers see it, the public page never does.
    """

    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    households: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[int] = mapped_column(Integer)  # minutes after midnight
    window_end: Mapped[int] = mapped_column(Integer)
    service_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: default rule
    priority: Mapped[int] = mapped_column(Integer, default=1)
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    committee_code: Mapped[str] = mapped_column(String(32), default=new_committee_code)
    #: the committee group's robot (``trucks.messages``): a secret, shown masked, never exported
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_kind: Mapped[str] = mapped_column(String(10), default="json")  # wecom, dingtalk or json
    webhook_secret: Mapped[str] = mapped_column(String(200), default="")  # DingTalk's signing secret


class Category(Base):
    """A kind of goods; free keys with display names in both languages."""

    __tablename__ = "categories"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))


class Stock(Base):
    """What a truck is loaded with on a date; also its capacity for that category."""

    __tablename__ = "stock"
    __table_args__ = (UniqueConstraint("date", "truck_id", "category_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"))
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key"))
    quantity: Mapped[int] = mapped_column(Integer)

    truck: Mapped[Truck] = relationship()


class Demand(Base):
    """A compound's order for a date, supplied by one retailer's fleet."""

    __tablename__ = "demand"
    __table_args__ = (UniqueConstraint("date", "compound_id", "category_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    category_key: Mapped[str] = mapped_column(ForeignKey("categories.key"))
    quantity: Mapped[int] = mapped_column(Integer)

    compound: Mapped[Compound] = relationship()
    retailer: Mapped[Retailer] = relationship()


class TravelTime(Base):
    """An imported travel-time matrix entry for a date (ids are truck depots' truck codes or
    compound codes as in the CSV); absent pairs fall back to the default travel model."""

    __tablename__ = "travel_times"
    __table_args__ = (UniqueConstraint("date", "from_code", "to_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    from_code: Mapped[str] = mapped_column(String(50))
    to_code: Mapped[str] = mapped_column(String(50))
    minutes: Mapped[float] = mapped_column(Float)


class ImportBatch(Base):
    """A successful import: what came in, for the planner's page."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    retailer_id: Mapped[int | None] = mapped_column(ForeignKey("retailers.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: non-blocking notes (e.g. compounds assigned to a retailer by nearest depot)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)


class SolveStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def active(cls) -> tuple[SolveStatus, ...]:
        """The statuses of a run that has not ended (at most one such run per day and retailer)."""
        return (cls.QUEUED, cls.RUNNING)


class RunKind(StrEnum):
    SOLVE = "solve"
    REPLAN = "replan"  # the published day re-planned from a time, a truck out of service


class SolveRun(Base):
    """One solve (or re-plan, ``kind``) of a retailer's day, with live progress for the page
    that polls it; ``asked`` keeps what a re-plan was asked (``truck_id``, ``from`` HH:MM).

    A worker claims the run (``worker``, ``attempts``) and writes ``heartbeat_at`` while it
    solves; a run whose heartbeat is older than ``trucks.solving.dead_after`` is abandoned.
    ``progress_key`` and ``progress_params`` are a message-catalog line every language renders;
    ``message`` keeps an error's own text.
    """

    __tablename__ = "solve_runs"
    __table_args__ = (
        Index("uq_solve_runs_active_day", "date", "retailer_id", unique=True,
              sqlite_where=text("status IN ('queued', 'running')"),
              postgresql_where=text("status IN ('queued', 'running')")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    status: Mapped[str] = mapped_column(String(20), default=SolveStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"), nullable=True)
    time_limit: Mapped[float] = mapped_column(Float, default=20.0)
    worker: Mapped[str] = mapped_column(String(200), default="")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress_key: Mapped[str] = mapped_column(String(60), default="")
    progress_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(20), default=RunKind.SOLVE)
    asked: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def ended(self) -> bool:
        return self.status not in SolveStatus.active()


class SolveRunPiece(Base):
    """One piece of a large day's run, solved by whichever worker claims it first (the run's
    own worker too); ``compound_ids`` let a worker check it rebuilt the same piece."""

    __tablename__ = "solve_run_pieces"
    __table_args__ = (UniqueConstraint("run_id", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("solve_runs.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=SolveStatus.QUEUED)
    time_limit: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    compound_ids: Mapped[list[str]] = mapped_column(JSON)
    worker: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class _Facts:
    """What a schedule keeps of a row: copied ``of`` it when solved, stored as a ``record``."""

    @classmethod
    def of(cls, row):
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    def record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TruckFacts(_Facts):
    """A truck as a schedule was solved with it: later imports change the Truck, not this."""

    id: int
    code: str
    plate: str
    depot_name: str
    depot_lat: float
    depot_lon: float
    max_stops: int


@dataclass(frozen=True)
class CompoundFacts(_Facts):
    """A compound as a schedule was solved on it: later imports change the Compound, not this."""

    id: int
    code: str
    name: str
    town: str
    address: str
    contact: str
    lat: float
    lon: float
    households: int
    window_start: int
    window_end: int
    priority: int


class Schedule(Base):
    """A solver's answer for one retailer's day. Never changed once written.

    ``facts`` keeps what the solve read besides its routes: the stock per category of the
    retailer's loaded trucks (``stock``), the loaded trucks no route uses (``idle_trucks``) and
    the latest import of the day it saw (``import_id``), so a version reads the same forever.
    """

    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    travel_minutes: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # "optimal" or "feasible"
    #: solver, time limit and other parameters the solve ran with
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    retailer: Mapped[Retailer] = relationship()
    routes: Mapped[list[ScheduleRoute]] = relationship(
        back_populates="schedule", order_by="ScheduleRoute.id", cascade="all, delete-orphan"
    )
    unserved: Mapped[list[ScheduleUnserved]] = relationship(
        back_populates="schedule", order_by="ScheduleUnserved.id", cascade="all, delete-orphan"
    )

    @property
    def stock(self) -> dict[str, int]:
        return dict(self.facts.get("stock", {}))

    @property
    def idle_trucks(self) -> list[TruckFacts]:
        return [TruckFacts(**truck) for truck in self.facts.get("idle_trucks", ())]

    @property
    def import_id(self) -> int | None:
        return self.facts.get("import_id")


class ScheduleRoute(Base):
    """A truck's route; ``facts`` holds the truck as it was solved (``truck`` reads it) and
    what it carried (``load``)."""

    __tablename__ = "schedule_routes"
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"), index=True)
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"))
    depart: Mapped[dt.datetime] = mapped_column(DateTime)
    back: Mapped[dt.datetime] = mapped_column(DateTime)
    travel_minutes: Mapped[float] = mapped_column(Float)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    schedule: Mapped[Schedule] = relationship(back_populates="routes")
    stops: Mapped[list[ScheduleStop]] = relationship(
        back_populates="route", order_by="ScheduleStop.seq", cascade="all, delete-orphan"
    )

    @property
    def truck(self) -> TruckFacts:
        return TruckFacts(**{**self.facts["truck"], "id": self.truck_id})

    @property
    def load(self) -> dict[str, int] | None:
        """Units per category the truck carried; None for routes stored before loads were kept."""
        load = self.facts.get("load")
        return None if load is None else dict(load)


class _SolvedCompound:
    """``compound`` and ``demand`` of a stop or unserved row, as the solve read them."""

    @property
    def compound(self) -> CompoundFacts:
        return CompoundFacts(**{**self.facts["compound"], "id": self.compound_id})

    @property
    def demand(self) -> dict[str, int]:
        """What the compound asked for per category that day, as the solve read it."""
        return dict(self.facts.get("demand", {}))


class ScheduleStop(_SolvedCompound, Base):
    __tablename__ = "schedule_stops"
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("schedule_routes.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1-based order on the route
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    arrival: Mapped[dt.datetime] = mapped_column(DateTime)
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    departure: Mapped[dt.datetime] = mapped_column(DateTime)
    deliveries: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    fill: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    route: Mapped[ScheduleRoute] = relationship(back_populates="stops")


class ScheduleUnserved(_SolvedCompound, Base):
    __tablename__ = "schedule_unserved"
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    reason: Mapped[str] = mapped_column(String(30))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    schedule: Mapped[Schedule] = relationship(back_populates="unserved")


class Publication(Base):
    """An immutable numbered version of a retailer's day that committees and drivers see."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("date", "retailer_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    version: Mapped[int] = mapped_column(Integer)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id"))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(100), default="")

    schedule: Mapped[Schedule] = relationship()
    retailer: Mapped[Retailer] = relationship()


class ConstraintKind(StrEnum):
    PIN = "pin"  # compound must go on this truck
    FORBID = "forbid"  # compound must not go on this truck
    LOCK = "lock"  # keep this truck's current route as it is


class PlanConstraint(Base):
    """A planner's adjustment kept for the next solve of the day."""

    __tablename__ = "plan_constraints"
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), nullable=True)
    #: for LOCK: the compound codes in order, copied from the schedule it was locked on
    locked_route: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    truck: Mapped[Truck] = relationship()
    compound: Mapped[Compound | None] = relationship()


class DistrictAssignment(Base):
    """Which retailer supplies a compound on a date, as the district's coordinator chose it.

    Rows are a proposal (of the assignment LP, with the coordinator's pins) until confirmed;
    confirming moves the day's demand rows to the assigned retailers, whose planners then see
    them. Without confirmed rows the import's rule (nearest depot) stands.
    """

    __tablename__ = "district_assignments"
    __table_args__ = (UniqueConstraint("date", "compound_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_by: Mapped[str] = mapped_column(String(100), default="")

    compound: Mapped[Compound] = relationship()
    retailer: Mapped[Retailer] = relationship()


class StopEventKind(StrEnum):
    ARRIVED = "arrived"
    DEPARTED = "departed"
    DELAY = "delay"


class StopEvent(Base):
    """What a driver reported at a published stop (the stop itself never changes)."""

    __tablename__ = "stop_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("schedule_stops.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # local time of the event
    delay_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")

    stop: Mapped[ScheduleStop] = relationship()


class BreakdownStatus(StrEnum):
    REPORTED = "reported"  # waiting for the planner
    CONFIRMED = "confirmed"  # a re-plan run was started from it
    DISMISSED = "dismissed"


class BreakdownReport(Base):
    """A driver's "truck broken down from HH:MM" on a day: the planner confirms it (which starts
    a re-plan run with the truck out of service from then) or dismisses it."""

    __tablename__ = "breakdown_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    truck_id: Mapped[int] = mapped_column(ForeignKey("trucks.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # local time the truck stopped
    status: Mapped[str] = mapped_column(String(20), default=BreakdownStatus.REPORTED)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("solve_runs.id"), nullable=True)

    truck: Mapped[Truck] = relationship()


class ReportDecision(StrEnum):
    """A planner's answer to a committee's report."""

    ACCEPTED = "accepted"  # the solve leaves the compound out (as it does while undecided)
    OVERRIDDEN = "overridden"  # the solve serves it anyway; the committee sees the reason


class CommitteeReport(Base):
    """A committee's "cannot receive today", seen by the planner's next solve of that date.

    It counts (the compound is ``refused``) unless the committee withdrew it or a planner
    overrode it.
    """

    __tablename__ = "committee_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    compound: Mapped[Compound] = relationship()

    @classmethod
    def counting(cls):
        """The condition for reports that keep their compound off the day's solve."""
        return cls.withdrawn_at.is_(None) & or_(cls.decision.is_(None), cls.decision != ReportDecision.OVERRIDDEN)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"


class MessageDelivery(Base):
    """One message to a compound's group robot: at most one per (compound, date, version, kind),
    which is also its idempotency key. ``kind`` is ``published`` or ``estimate-HHMM`` (a
    driver's report moved the window to HH:MM). The receiver's last answer is kept for the log;
    the webhook URL never is."""

    __tablename__ = "message_deliveries"
    __table_args__ = (UniqueConstraint("compound_id", "date", "version", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    retailer_id: Mapped[int] = mapped_column(ForeignKey("retailers.id"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    #: the service start the message tells (local time; it shows its quarter-hour window): a
    #: later estimate is compared with it
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: what is sent, fixed at the first attempt so that every retry sends the same
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    last_answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    compound: Mapped[Compound] = relationship()

    @property
    def idempotency_key(self) -> str:
        return f"foodtrucks:{self.compound_id}:{self.date.isoformat()}:v{self.version}:{self.kind}"


class PageGeneration(Base):
    """A compound's committee page generation: moves whenever what that page shows may have
    changed (``trucks.page_generation``). No row yet means 0."""

    __tablename__ = "page_generations"
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class Role(StrEnum):
    """What a user is; ``views.security`` says what each may do."""

    ADMIN = "admin"
    PLANNER = "planner"  # bound to one retailer
    DRIVER = "driver"  # bound to one truck
    COORDINATOR = "coordinator"  # the district's: reads every retailer's plans, owns compounds


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    retailer_id: Mapped[int | None] = mapped_column(ForeignKey("retailers.id"), nullable=True)
    truck_id: Mapped[int | None] = mapped_column(ForeignKey("trucks.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    retailer: Mapped[Retailer | None] = relationship()
    truck: Mapped[Truck | None] = relationship()


class LoginLimit(Base):
    """A counter of failed logins (an address's or a username and address pair's) and until
    when the next attempt must wait; ``trucks.ratelimit`` locks it while it counts."""

    __tablename__ = "login_limits"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    wait_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
