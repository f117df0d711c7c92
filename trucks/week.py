"""Days that know each other: a compound unserved yesterday weighs more today; the planner sees
each compound's week (days served, fill rates, days missed), the coordinator the district's.

What a day did is each retailer's latest published version of it, else its latest schedule. A
compound missed for any reason but its own committee's refusal (by whichever retailer supplied
it) gets ``CARRY_OVER_WEIGHT`` more engine priority per day missed in a row. The engine's
priority is a prize per compound served (and, above the floor every stop gets, the weight of its
share of scarce goods) with no upper bound; the importer takes priorities 1 to 3.

Why 6 and not 3: with +3 a compound missed yesterday (1 + 3) weighs no more than two served
compounds of priority 2, so the search will not pass through a plan that serves it at the price
of two others on its route (they find room elsewhere later); ``python -m bench.week --weights``
measures it (README, "The week").
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduling.fairness import gini

from .models import Compound, Demand, Schedule, ScheduleRoute, ScheduleStop, ScheduleUnserved, Stock
from .spreadsheet import csv_text

#: priority added per day missed in a row: a compound missed yesterday outweighs any two served
#: compounds (the importer's priorities are 1 to 3)
CARRY_OVER_WEIGHT = 6
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


def counted_schedules(dbsession: Session, date: dt.date, retailer_id: int | None) -> list[Schedule]:
    """The retailer's counted schedule of the date; every retailer's when ``retailer_id`` is None."""
    if retailer_id is None:
        retailer_ids = list(dbsession.scalars(select(Schedule.retailer_id).where(Schedule.date == date).distinct()))
    else:
        retailer_ids = [retailer_id]
    schedules = (counted_schedule(dbsession, date, r) for r in sorted(retailer_ids))
    return [schedule for schedule in schedules if schedule is not None]


@dataclass(frozen=True)
class DayOutcome:
    """One compound on one day: served (with its fill per category it asked for) or not, and why;
    ``retailer_id`` is the retailer whose plan says so."""

    date: dt.date
    served: bool
    fills: Mapping[str, float] = field(default_factory=dict)
    reason: str | None = None
    retailer_id: int | None = None

    @property
    def missed(self) -> bool:
        return not self.served and self.reason != REFUSED

    @property
    def fill(self) -> float | None:
        """The mean fill over the categories it asked for (None when not served)."""
        if not self.served:
            return None
        return sum(self.fills.values()) / len(self.fills) if self.fills else 1.0


def day_outcomes(dbsession: Session, date: dt.date, retailer_id: int | None) -> dict[int, DayOutcome]:
    """Per compound id, what the day's counted schedule did for it (nothing when unsolved). With
    ``retailer_id`` None every retailer's schedule counts, and a compound any of them serves is
    served (a compound the coordinator moved to another retailer may be in two)."""
    retailer_of = {s.id: s.retailer_id for s in counted_schedules(dbsession, date, retailer_id)}
    if not retailer_of:
        return {}
    outcomes = {}
    for schedule_id, compound_id, reason in dbsession.execute(
        select(ScheduleUnserved.schedule_id, ScheduleUnserved.compound_id, ScheduleUnserved.reason)
        .where(ScheduleUnserved.schedule_id.in_(retailer_of)).order_by(ScheduleUnserved.schedule_id)
    ):
        outcomes.setdefault(compound_id, DayOutcome(date, False, reason=reason, retailer_id=retailer_of[schedule_id]))
    for schedule_id, compound_id, fill in dbsession.execute(
        select(ScheduleRoute.schedule_id, ScheduleStop.compound_id, ScheduleStop.fill)
        .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .where(ScheduleRoute.schedule_id.in_(retailer_of))
    ):
        outcomes[compound_id] = DayOutcome(date, True, dict(fill or {}), retailer_id=retailer_of[schedule_id])
    return outcomes


def missed_in_a_row(dbsession: Session, date: dt.date) -> dict[int, int]:
    """Per compound id, how many days right before ``date`` it went unserved (not by refusal),
    whichever retailer supplied it: a compound moved to another retailer keeps its streak."""
    streak: dict[int, int] = {}
    open_streaks: set[int] | None = None
    for back in range(1, LOOK_BACK_DAYS + 1):
        outcomes = day_outcomes(dbsession, date - dt.timedelta(days=back), None)
        missed = {cid for cid, outcome in outcomes.items() if outcome.missed}
        open_streaks = missed if open_streaks is None else open_streaks & missed
        if not open_streaks:
            break
        for cid in open_streaks:
            streak[cid] = back
    return streak


def carried_priority(priority: int, days_missed: int, weight: int = CARRY_OVER_WEIGHT) -> int:
    """The engine priority of a compound missed ``days_missed`` days in a row."""
    return priority + weight * days_missed


@dataclass(frozen=True)
class CompoundWeek:
    """A compound's days up to the date, for the planner's and the coordinator's week tables."""

    compound: Compound
    days: tuple[DayOutcome | None, ...]  # oldest first; None: no order that day (or not solved)
    extra_priority: int  # what today's solve adds for the days missed right before
    retailer_ids: frozenset[int] = frozenset()  # the retailers that supplied it in these days

    @property
    def served(self) -> int:
        return sum(1 for d in self.days if d is not None and d.served)

    @property
    def missed(self) -> int:
        return sum(1 for d in self.days if d is not None and d.missed)

    @property
    def in_a_row(self) -> int:
        """The most days it was missed one after the other in these days."""
        longest = run = 0
        for d in self.days:
            run = run + 1 if d is not None and d.missed else 0
            longest = max(longest, run)
        return longest

    @property
    def mean_fill(self) -> float | None:
        fills = [d.fill for d in self.days if d is not None and d.served]
        return sum(fills) / len(fills) if fills else None

    def category_fill(self, category: str) -> float | None:
        """The mean fill of the category over the days it was served and asked for it."""
        fills = [d.fills[category] for d in self.days if d is not None and d.served and category in d.fills]
        return sum(fills) / len(fills) if fills else None


def week_table(dbsession: Session, date: dt.date, retailer_id: int | None,
               days: int = 7) -> tuple[list[dt.date], list[CompoundWeek]]:
    """The ``days`` dates ending at ``date`` and, per compound the retailer supplied in them (every
    compound with an order when ``retailer_id`` is None, with every retailer's plans), each day's
    outcome and today's extra priority."""
    dates = [date - dt.timedelta(days=back) for back in range(days - 1, -1, -1)]
    outcomes = {d: day_outcomes(dbsession, d, retailer_id) for d in dates}
    supplied: dict[int, set[int]] = defaultdict(set)
    for compound_id, supplier in dbsession.execute(
        select(Demand.compound_id, Demand.retailer_id).where(
            Demand.date.in_(dates), *([Demand.retailer_id == retailer_id] if retailer_id is not None else []))
        .distinct()
    ):
        supplied[compound_id].add(supplier)
    streak = missed_in_a_row(dbsession, date)
    compounds = dbsession.scalars(select(Compound).where(Compound.id.in_(supplied)).order_by(Compound.code))
    rows = [
        CompoundWeek(c, tuple(outcomes[d].get(c.id) for d in dates), CARRY_OVER_WEIGHT * streak.get(c.id, 0),
                     frozenset(supplied[c.id]))
        for c in compounds
    ]
    return dates, rows


# ---------------------------------------------------------------------------------------------
# The district's week


def short_categories(dbsession: Session, dates: Iterable[dt.date]) -> list[str]:
    """The categories the district's stock does not cover on one of the dates."""
    dates = list(dates)
    stock = {(d, k): q for d, k, q in dbsession.execute(
        select(Stock.date, Stock.category_key, func.sum(Stock.quantity))
        .where(Stock.date.in_(dates)).group_by(Stock.date, Stock.category_key))}
    demand = dbsession.execute(
        select(Demand.date, Demand.category_key, func.sum(Demand.quantity))
        .where(Demand.date.in_(dates)).group_by(Demand.date, Demand.category_key))
    return sorted({k for d, k, q in demand if q > stock.get((d, k), 0)})


@dataclass(frozen=True)
class DayTotals:
    """One day of the listed compounds: served, unserved, and per scarce category the lowest fill
    of a served compound that asked for it and the Gini coefficient of those fills."""

    date: dt.date
    served: int
    unserved: int
    min_fill: Mapping[str, float]
    gini: Mapping[str, float]


def day_totals(date: dt.date, outcomes: Iterable[DayOutcome | None], categories: Sequence[str]) -> DayTotals:
    outcomes = [o for o in outcomes if o is not None]
    served = [o for o in outcomes if o.served]
    fills = {k: [o.fills[k] for o in served if k in o.fills] for k in categories}
    return DayTotals(date, len(served), len(outcomes) - len(served),
                     {k: min(f) for k, f in fills.items() if f}, {k: gini(f) for k, f in fills.items() if f})


@dataclass(frozen=True)
class DistrictWeek:
    """The coordinator's week: every compound with an order in the days (those of ``town`` and
    ``retailer_id`` when filtered), the categories short on one of them, and each day's totals."""

    dates: list[dt.date]
    rows: list[CompoundWeek]
    scarce: list[str]
    totals: list[DayTotals]
    towns: list[str]  # every town of the week, for the filter


def district_week(dbsession: Session, date: dt.date, *, town: str | None = None, retailer_id: int | None = None,
                  days: int = 7) -> DistrictWeek:
    """The district's ``days`` dates ending at ``date``; compounds missed most days in a row first."""
    dates, rows = week_table(dbsession, date, None, days)
    towns = sorted({row.compound.town for row in rows})
    rows = [row for row in rows if (town is None or row.compound.town == town)
            and (retailer_id is None or retailer_id in row.retailer_ids)]
    rows.sort(key=lambda row: (-row.in_a_row, -row.missed, row.compound.town, row.compound.code))
    scarce = short_categories(dbsession, dates)
    totals = [day_totals(d, (row.days[i] for row in rows), scarce) for i, d in enumerate(dates)]
    return DistrictWeek(dates, rows, scarce, totals, towns)


def district_week_csv(week: DistrictWeek, retailer_names: Mapping[int, str]) -> str:
    """The district's week table: per day the mean fill when served, else the reason (empty: no
    order that day), then the days served and missed, the most in a row and each scarce fill."""

    def day_cell(outcome: DayOutcome | None):
        if outcome is None:
            return ""
        return round(outcome.fill, 3) if outcome.served else outcome.reason

    def rounded(value: float | None):
        return "" if value is None else round(value, 3)

    header = ["compound_id", "name", "town", "retailers", *(d.isoformat() for d in week.dates),
              "days_served", "days_missed", "missed_in_a_row", *(f"fill_{k}" for k in week.scarce)]
    rows = ([row.compound.code, row.compound.name, row.compound.town,
             " ".join(sorted(retailer_names[r] for r in row.retailer_ids)), *map(day_cell, row.days),
             row.served, row.missed, row.in_a_row, *(rounded(row.category_fill(k)) for k in week.scarce)]
            for row in week.rows)
    return csv_text(header, rows)
