"""Every progress line a solve records is a catalog key with parameters, rendered in each
language from the same record (nothing parses English back)."""
from __future__ import annotations

import re

import pytest

from scheduling import decompose, solve_day
from scheduling.progress import TEXTS, ProgressLine
from tests.scheduling.factory import two_towns
from trucks.models import SolveRun, SolveStatus
from views.i18n import catalog
from views.planner.progress import progress_text

CJK = re.compile(r"[\u4e00-\u9fff]")
#: the keys trucks/solving.py itself records, with the parameters it gives them
RUN_LINES = {"queued": {}, "building": {}, "requeued": {"attempts": 1}, "abandoned": {"attempts": 2},
             "failed": {"error": "RuntimeError: disk full"}, "cancelled": {"by": "planner-yk"},
             "finished": {"served": 12, "unserved": 3, "minutes": 140}}


def test_every_line_of_a_whole_and_a_split_solve_carries_a_key_every_language_renders(monkeypatch):
    lines = []
    solve_day(two_towns(6, 6), time_limit=1.0, progress=lambda fraction, message: lines.append(message))
    monkeypatch.setattr(decompose, "SPLIT_ABOVE", 10)
    monkeypatch.setattr(decompose, "PIECE_SIZE", 6)
    solve_day(two_towns(6, 6), time_limit=4.0, progress=lambda fraction, message: lines.append(message))
    assert all(isinstance(line, ProgressLine) for line in lines)
    assert {"preparing", "sharing", "pieces", "done", "searching"} <= {line.key for line in lines}
    for line in lines:
        run = SolveRun(status=SolveStatus.RUNNING, progress_key=line.key, progress_params=line.params, message="")
        assert CJK.search(progress_text(run, "zh")), line
        english = progress_text(run, "en")
        assert english and not CJK.search(english) and "{" not in english


@pytest.mark.parametrize("key", sorted(set(TEXTS) | set(RUN_LINES)))
def test_each_key_is_in_the_catalog_in_both_languages(key):
    texts = catalog()[f"planner.progress.{key}"]
    params = RUN_LINES.get(key) or {name: 7 for name in re.findall(r"{(\w+)}", TEXTS.get(key, ""))}
    run = SolveRun(status=SolveStatus.RUNNING, progress_key=key, progress_params=params, message="")
    assert set(texts) == {"zh", "en"} and CJK.search(progress_text(run, "zh"))
    assert "{" not in progress_text(run, "en")


def test_a_line_without_a_key_is_shown_as_it_is_and_a_stale_run_reads_as_abandoned():
    run = SolveRun(status=SolveStatus.RUNNING, progress_key="", progress_params={}, message="a worker's own words",
                   attempts=1)
    assert progress_text(run, "zh") == "a worker's own words"
    assert progress_text(run, "en", alive=False) == "abandoned: the worker solving it stopped answering (1 attempt(s))"
