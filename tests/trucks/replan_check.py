"""An independent check of a re-plan, written apart from the engine's own result validation
and from ``trucks.replan``: it reads only the day's problem, the routes as they stood at the cut
and the re-planned routes, and lists every rule broken."""
from __future__ import annotations

from collections import Counter

TOL = 1e-6


def _same(a, b, tol) -> bool:
    """The same stop at the same times handing out the same goods."""
    return (a.compound_id == b.compound_id
            and all(abs(x - y) <= tol for x, y in ((a.arrival, b.arrival), (a.start, b.start), (a.departure, b.departure)))
            and {k: q for k, q in a.deliveries.items() if q} == {k: q for k, q in b.deliveries.items() if q})


def replan_violations(problem, before, after, *, broken: str, cut: float, reported=(), tol: float = TOL) -> list[str]:
    """Kept stops unchanged; each truck starts from its place and time; loads, windows, stop
    limits and shifts respected for the rest; the broken truck goes nowhere new. ``tol``: minutes
    of slack (stored schedules keep times to the second)."""
    bad: list[str] = []
    trucks = {t.id: t for t in problem.trucks}
    compounds = {c.id: c for c in problem.compounds}
    old = {r.truck_id: r for r in before}
    seen = Counter(v.compound_id for r in after for v in r.visits)
    bad += [f"{cid} served {n} times" for cid, n in seen.items() if n > 1]
    for route in after:
        truck = trucks[route.truck_id]
        previous = old.get(route.truck_id)
        must_keep = 0
        for i, visit in enumerate(previous.visits if previous else ()):
            if visit.arrival <= cut + tol or visit.compound_id in reported:
                must_keep = i + 1
        if previous and truck.id != broken and must_keep < len(previous.visits):
            left = previous.visits[must_keep - 1].departure if must_keep else previous.depart
            driving_to = previous.visits[must_keep]
            if left <= cut + tol and must_keep < len(route.visits) and _same(route.visits[must_keep], driving_to, tol):
                must_keep += 1  # it was on its way there at the cut: going on as published is right
        kept = previous.visits[:must_keep] if previous else ()
        if len(route.visits) < must_keep or not all(map(lambda a, b: _same(a, b, tol), route.visits, kept)):
            bad.append(f"{truck.id}: stops served or under way at the cut changed")
        rest = route.visits[must_keep:]
        if truck.id == broken and rest:
            bad.append(f"{truck.id}: out of service from the cut but still has {len(rest)} stops")
            continue
        if len(route.visits) > truck.max_stops:
            bad.append(f"{truck.id}: {len(route.visits)} stops, more than {truck.max_stops}")
        loaded = Counter()
        for visit in route.visits:
            loaded.update(visit.deliveries)
        bad += [f"{truck.id}: hands out {q} {c}, carries {truck.stock.get(c, 0)}"
                for c, q in loaded.items() if q > truck.stock.get(c, 0)]
        if kept:
            here, clock = compounds[kept[-1].compound_id].location, kept[-1].departure
        else:
            here, clock = truck.depot, truck.shift_start
        clock = max(clock, cut) if rest else clock
        for visit in rest:
            compound = compounds[visit.compound_id]
            earliest = clock + problem.travel[here, compound.location]
            if visit.arrival < earliest - tol:
                bad.append(f"{truck.id}: reaches {compound.id} at {visit.arrival:.1f}, cannot before {earliest:.1f}")
            if not (compound.ready - tol <= visit.start <= compound.due + tol) or visit.start < visit.arrival - tol:
                bad.append(f"{truck.id}: service at {compound.id} starts {visit.start:.1f}, "
                           f"outside [{compound.ready:.0f}, {compound.due:.0f}] or before arrival")
            if abs(visit.departure - visit.start - compound.service) > tol:
                bad.append(f"{truck.id}: service at {compound.id} does not last {compound.service:.0f} min")
            if compound.allowed_trucks is not None and truck.id not in compound.allowed_trucks:
                bad.append(f"{truck.id}: serves {compound.id}, which does not allow it")
            here, clock = compound.location, visit.departure
        if rest:
            home = clock + problem.travel[here, truck.depot]
            if route.back < home - tol or route.back > truck.shift_end + tol:
                bad.append(f"{truck.id}: back at {route.back:.1f}, must be >= {home:.1f} and <= {truck.shift_end:.0f}")
    return bad
