"""Splitting a day into pieces: geography, stop capacity, planners' constraints, seams, merge."""
from __future__ import annotations

import time
from dataclasses import replace

from scheduling import solve
from scheduling.decompose import improve_seams, merge, solve_large, solve_piece, split, subproblem, wasted_goods

from .checker import assert_feasible
from .factory import two_towns

def ids_by_truck(result) -> dict[str, set[str]]:
    return {route.truck_id: {v.compound_id for v in route.visits} for route in result.routes}


def test_split_keeps_each_town_with_its_own_truck():
    problem = two_towns(8, 8)
    pieces = split(problem, piece_size=8)
    assert sorted((p.truck_ids, sorted(p.compound_ids)) for p in pieces) == [
        (("east",), sorted(f"e{i}" for i in range(9, 17))),
        (("west",), sorted(f"w{i}" for i in range(1, 9))),
    ]
    for piece in pieces:  # each piece's matrix holds only its own places, renumbered
        assert piece.travel.shape == (9, 9)


def test_solve_large_solves_both_pieces_in_parallel_and_merges_a_feasible_day():
    problem = two_towns(8, 8)
    result = solve_large(problem, time_limit=2.0, seed=1, piece_size=8, processes=2)
    assert_feasible(problem, result)
    assert not result.unserved
    assert ids_by_truck(result) == {"west": {f"w{i}" for i in range(1, 9)}, "east": {f"e{i}" for i in range(9, 17)}}


def test_pieces_are_balanced_by_the_stop_capacity_their_trucks_have():
    # the west truck can make 6 stops for 12 west compounds; the east truck has room and time to help
    problem = two_towns(12, 4, west_stops=6, east_stops=14, shift_end=1400.0)
    west_piece, east_piece = sorted(split(problem, piece_size=8), key=lambda p: p.truck_ids != ("west",))
    assert len(west_piece.compounds) <= 6
    assert any(c.startswith("w") for c in east_piece.compound_ids)
    result = solve_large(problem, time_limit=2.0, seed=0, piece_size=8, processes=2)
    assert_feasible(problem, result)
    assert not result.unserved


def test_split_sends_pinned_and_locked_compounds_to_a_piece_with_their_truck():
    problem = two_towns(8, 8)
    pinned = replace(problem.compounds[0], allowed_trucks=frozenset({"east"}))
    east = replace(problem.trucks[1], locked_route=("w2", "e9"))
    problem = replace(problem, trucks=(problem.trucks[0], east), compounds=(pinned, *problem.compounds[1:]))
    east_piece = next(p for p in split(problem, piece_size=8) if p.truck_ids == ("east",))
    assert {"w1", "w2", "e9"} <= set(east_piece.compound_ids)
    result = solve_large(problem, time_limit=2.0, seed=0, piece_size=8, processes=2)
    assert_feasible(problem, result)
    assert [v.compound_id for v in next(r for r in result.routes if r.truck_id == "east").visits] == ["w2", "e9"]


def test_seams_give_a_compound_left_over_by_one_piece_to_another_pieces_truck():
    problem = two_towns(8, 0, west_stops=6, east_stops=10, shift_end=1400.0)
    west_only = subproblem(problem, [problem.trucks[0]], problem.compounds)
    east_only = subproblem(problem, [problem.trucks[1]], [])
    merged = merge(problem, [solve(west_only, time_limit=1.0), solve(east_only, time_limit=1.0)], seconds=0.0, seed=0)
    assert_feasible(problem, merged)
    assert len(merged.unserved) == 2
    improved = improve_seams(problem, merged, time_limit=3.0, seed=0, lp_solver="highs")
    assert_feasible(problem, improved)
    assert not improved.unserved
    assert len(ids_by_truck(improved)["east"]) >= 2


def test_seams_share_out_what_one_piece_s_truck_would_bring_back_while_the_other_s_go_short():
    # each town's truck serves its own four compounds, each asking 10 meat; the west truck carries
    # 10 meat, the east truck 100: solved apart, 30 units come back east while the west goes short
    problem = two_towns(4, 4, shift_end=1400.0)
    meat = {"west": 10, "east": 100}
    trucks = tuple(replace(t, stock={**t.stock, "meat": meat[t.id]}) for t in problem.trucks)
    compounds = tuple(replace(c, demand={**c.demand, "meat": 10}) for c in problem.compounds)
    problem = replace(problem, trucks=trucks, compounds=compounds)
    apart = [solve(subproblem(problem, [truck], [c for c in compounds if c.id[0] == truck.id[0]]), time_limit=1.0)
             for truck in trucks]
    merged = merge(problem, apart, seconds=0.0, seed=0)
    assert_feasible(problem, merged)
    left, lacking = wasted_goods(problem, merged.routes)["meat"]
    assert (left, lacking) == ({"east": 60}, {"west": 30})
    improved = improve_seams(problem, merged, time_limit=4.0, seed=0, lp_solver="highs")
    assert_feasible(problem, improved)
    assert not improved.unserved
    assert "meat" not in wasted_goods(problem, improved.routes)
    assert {v.deliveries["meat"] for r in improved.routes for v in r.visits} == {10}


def test_progress_rises_from_the_pieces_through_the_seams_to_done():
    problem = two_towns(8, 8)
    reports = []
    result = solve_large(problem, time_limit=4.0, piece_size=8, processes=2,
                         progress=lambda fraction, message: reports.append((fraction, message)))
    assert_feasible(problem, result)
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert reports[0][1] == "2 pieces on 2 processes"


def test_solve_day_searches_a_small_day_once_and_splits_a_large_one(monkeypatch):
    from scheduling import decompose, solve_day

    problem = two_towns(8, 8)
    whole = solve_day(problem, time_limit=2.0, seed=3)
    assert whole.routes == solve(problem, time_limit=2.0, seed=3).routes  # one search, same seed, same day
    monkeypatch.setattr(decompose, "SPLIT_ABOVE", 10)
    monkeypatch.setattr(decompose, "PIECE_SIZE", 8)
    reports = []
    pieces = solve_day(problem, time_limit=4.0, seed=3, progress=lambda fraction, message: reports.append(message))
    assert_feasible(problem, pieces)
    assert not pieces.unserved
    assert reports[0] == "2 pieces on 2 processes"


def test_a_piece_that_starts_late_ends_by_its_wave_deadline_not_after_its_full_share():
    """A piece whose wave must end in one second gets about one second, not its 30 s share:
    a wave that ran over shortens the ones after it, so the whole day keeps its limit."""
    problem = two_towns(12, 0, west_stops=6)  # more compounds than stops: it would search all 30 s
    result = solve_piece(problem, 30.0, 0, "highs", time.monotonic() + 1.0)
    assert_feasible(problem, result)
    assert result.seconds < 5.0
