"""Every progress line a solve writes has a Chinese text on the planner's page."""
from __future__ import annotations

import re

from scheduling import decompose, solve_day
from tests.scheduling.factory import two_towns
from views.planner.progress import progress_text

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_line_of_a_whole_and_a_split_solve_is_translated(monkeypatch):
    lines = []
    solve_day(two_towns(6, 6), time_limit=1.0, progress=lambda fraction, message: lines.append(message))
    monkeypatch.setattr(decompose, "SPLIT_ABOVE", 10)
    monkeypatch.setattr(decompose, "PIECE_SIZE", 6)
    solve_day(two_towns(6, 6), time_limit=4.0, progress=lambda fraction, message: lines.append(message))
    # and what the solve runs themselves write (trucks/solving.py)
    lines += ["building the day", "12 served, 3 unserved, 140 min travel",
              "abandoned: no result in time (the process running it stopped)"]
    assert {"preparing", "sharing stock", "2 pieces on 2 processes", "done"} <= set(lines)
    untranslated = [line for line in lines if not CJK.search(progress_text(line, "zh"))]
    assert untranslated == []
    assert progress_text("12 served, 3 unserved, 140 min travel", "zh") == "已安排 12 个小区，3 个未能安排，行驶 140 分钟"


def test_an_unknown_line_is_shown_as_it_is():
    assert progress_text("RuntimeError: disk full", "zh") == "RuntimeError: disk full"
    assert progress_text(None, "en") == ""
