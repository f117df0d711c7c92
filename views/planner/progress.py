"""A solve's progress line in the planner's language.

The engine and the solve runs write plain English lines (the command line prints them as they
are); the page shows each one it knows through the message catalog, and anything else as is.
"""
from __future__ import annotations

import re

from ..i18n import translate

LINES = tuple((re.compile(pattern), key) for pattern, key in (
    (r"building the day", "planner.progress.building"),
    (r"preparing", "planner.progress.preparing"),
    (r"served (?P<served>\d+)/(?P<total>\d+), travel (?P<minutes>\d+) min", "planner.progress.searching"),
    (r"sharing stock", "planner.progress.sharing"),
    (r"(?P<pieces>\d+) pieces on (?P<processes>\d+) processes", "planner.progress.pieces"),
    (r"pieces solved: (?P<done>\d+)/(?P<total>\d+)", "planner.progress.pieces_solved"),
    (r"improving across the seams", "planner.progress.seams"),
    (r"seams: (?P<count>\d+) compounds to place", "planner.progress.seams_left"),
    (r"done", "planner.progress.done"),
    (r"(?P<served>\d+) served, (?P<unserved>\d+) unserved, (?P<minutes>\d+) min travel", "planner.progress.finished"),
    (r"abandoned: .*", "planner.progress.abandoned"),
))


def progress_text(message: str | None, language: str) -> str:
    for pattern, key in LINES:
        found = pattern.fullmatch(message or "")
        if found:
            return translate(key, language, **found.groupdict())
    return message or ""
