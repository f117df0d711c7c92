"""Days that know each other: a compound unserved yesterday weighs more today, and the planner
sees each compound's week (days served, fill rates, days missed).

What a day did is its latest published version, else its latest schedule. A compound missed
for any reason but its own committee's refusal gets ``CARRY_OVER_WEIGHT`` more engine priority
per day missed in a row. The engine's priority is a prize per compound served (and the weight
of its share of scarce goods) with no upper bound; the importer takes priorities 1 to 3, so a
compound missed yesterday outweighs any compound that was served.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Compound, Demand, Schedule, ScheduleRoute, ScheduleStop, ScheduleUnserved

#: priority added per day missed in a row: the importer's highest priority
CARRY_OVER_WEIGHT = 3
#: how far back a streak of missed days is followed
LOOK_BACK_DAYS = 7
REFUSED = "refused"


def counted_schedule(dbsession: Session, date: dt.date, retailer_id: int) -> Schedule | None:
    """What a day did: its latest published version, else its latest solve."""
    # imported here: services builds each day's problem with this module, and publishing uses services
    from .publishing import latest_publication
    from .services import latest_schedule

    publication = latest_publication(dbsession, date, retailer_id)
    return publication.schedule if publication is not None else latest_schedule(dbsession, date, retailer_id)


@dataclass(frozen=True)
class DayOutcome:
    """One compound on one day: served (with its mean fill over what it asked) or not, and why."""

    date: dt.date
    served: bool
    fill: float | None = None
    reason: str | None = None

    @property
    def missed(self) -> bool:
        return not self.served and self.reason != REFUSED


def day_outcomes(dbsession: Session, date: dt.date, retailer_id: int) -> dict[int, DayOutcome]:
    """Per compound id, what the day's counted schedule did for it (nothing when unsolved)."""
    schedule = counted_schedule(dbsession, date, retailer_id)
    if schedule is None:
        return {}
    outcomes = {}
    for compound_id, fill in dbsession.execute(
        select(ScheduleStop.compound_id, ScheduleStop.fill)
        .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleRoute.schedule_id == schedule.id)
    ):
        rates = list((fill or {}).values())
        outcomes[compound_id] = DayOutcome(date, True, sum(rates) / len(rates) if rates else 1.0)
    for compound_id, reason in dbsession.execute(
        select(ScheduleUnserved.compound_id, ScheduleUnserved.reason).where(ScheduleUnserved.schedule_id == schedule.id)
    ):
        outcomes[compound_id] = DayOutcome(date, False, reason=reason)
    return outcomes


def missed_in_a_row(dbsession: Session, date: dt.date, retailer_id: int) -> dict[int, int]:
    """Per compound id, how many days right before ``date`` it went unserved (not by refusal)."""
    streak: dict[int, int] = {}
    open_streaks: set[int] | None = None
    for back in range(1, LOOK_BACK_DAYS + 1):
        outcomes = day_outcomes(dbsession, date - dt.timedelta(days=back), retailer_id)
        missed = {cid for cid, outcome in outcomes.items() if outcome.missed}
        open_streaks = missed if open_streaks is None else open_streaks & missed
        if not open_streaks:
            break
        for cid in open_streaks:
            streak[cid] = back
    return streak


def carried_priority(priority: int, days_missed: int) -> int:
    """The engine priority of a compound missed ``days_missed`` days in a row."""
    return priority + CARRY_OVER_WEIGHT * days_missed


@dataclass(frozen=True)
class CompoundWeek:
    """A compound's days up to the date, for the planner's week table."""

    compound: Compound
    days: tuple[DayOutcome | None, ...]  # oldest first; None: no order that day
    extra_priority: int  # what today's solve adds for the days missed right before

    @property
    def served(self) -> int:
        return sum(1 for d in self.days if d is not None and d.served)

    @property
    def missed(self) -> int:
        return sum(1 for d in self.days if d is not None and d.missed)

    @property
    def mean_fill(self) -> float | None:
        fills = [d.fill for d in self.days if d is not None and d.served and d.fill is not None]
        return sum(fills) / len(fills) if fills else None


def week_table(dbsession: Session, date: dt.date, retailer_id: int, days: int = 7) -> tuple[list[dt.date], list[CompoundWeek]]:
    """The ``days`` dates ending at ``date`` and, per compound the retailer supplied in them,
    each day's outcome and today's extra priority."""
    dates = [date - dt.timedelta(days=back) for back in range(days - 1, -1, -1)]
    outcomes = {d: day_outcomes(dbsession, d, retailer_id) for d in dates}
    supplied = set(dbsession.scalars(
        select(Demand.compound_id).where(Demand.retailer_id == retailer_id, Demand.date.in_(dates))))
    streak = missed_in_a_row(dbsession, date, retailer_id)
    compounds = dbsession.scalars(select(Compound).where(Compound.id.in_(supplied)).order_by(Compound.code))
    rows = [
        CompoundWeek(c, tuple(outcomes[d].get(c.id) for d in dates), CARRY_OVER_WEIGHT * streak.get(c.id, 0))
        for c in compounds
    ]
    return dates, rows
