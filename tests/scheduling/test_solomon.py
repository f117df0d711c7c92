"""The Solomon reader, the truncation convention, and one real instance through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scheduling import read_solomon, solve, to_problem
from scheduling.solomon import truncated_distances
from scheduling.solomon.__main__ import main

from .checker import assert_feasible

SOLOMON = Path(__file__).resolve().parents[2] / "bench" / "solomon"

SMALL = """TINY

VEHICLE
NUMBER     CAPACITY
  3          20

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        200          0
    1      3          4         10          0        100         10
    2      6          8         10          0        100         10
    3     -3         -4         15          0        100         10
"""


def test_reader_takes_fleet_and_nodes():
    instance = read_solomon(SOLOMON / "c101.txt")
    assert (instance.name, instance.vehicles, instance.capacity) == ("C101", 25, 200)
    assert len(instance.nodes) == 101
    assert instance.nodes[0] == (0, 40.0, 50.0, 0, 0.0, 1236.0, 0.0)
    assert instance.nodes[1] == (1, 45.0, 68.0, 10, 912.0, 967.0, 90.0)


def test_distances_are_truncated_to_one_decimal():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.99, 0.0], [3.0, 4.0]])
    d = truncated_distances(xy)
    assert d[0, 1] == 1.4  # 1.414...
    assert d[0, 2] == 2.9  # 2.99 truncates, never rounds up
    assert d[0, 3] == 5.0


def test_malformed_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(SMALL.replace("    2      6          8         10", "    2      6          8"))
    with pytest.raises(ValueError, match=r"bad.txt, line \d+: expected 7 numbers"):
        read_solomon(bad)


def test_cli_prints_one_json_object(tmp_path, capsys):
    path = tmp_path / "tiny.txt"
    path.write_text(SMALL)
    assert main([str(path), "--time-limit", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["instance"] == "TINY"
    assert sorted(c for route in answer["routes"] for c in route) == [1, 2, 3]
    # 1 and 2 share a ray (load 20 = capacity); 3 lies opposite: 10 + 10 = 20 in all
    assert answer == {**answer, "vehicles": 2, "distance": 30.0}


def test_c101_is_solved_feasibly_in_a_few_seconds():
    problem = to_problem(read_solomon(SOLOMON / "c101.txt"))
    result = solve(problem, time_limit=5.0)
    assert_feasible(problem, result)
    assert result.unserved == ()
    assert len(result.served_ids) == 100
