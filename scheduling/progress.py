"""A solve's progress lines: English text a terminal prints as it is, carrying the key and
parameters a message catalog renders in any language (``views/locale``: ``planner.progress.KEY``)."""
from __future__ import annotations

#: every line the engine writes, by key
TEXTS = {
    "preparing": "preparing",
    "searching": "served {served}/{total}, travel {minutes} min",
    "sharing": "sharing stock",
    "pieces": "{pieces} pieces on {processes} processes",
    "pieces_solved": "pieces solved: {done}/{total}",
    "seams": "improving across the seams",
    "seams_left": "seams: {count} compounds to place",
    "done": "done",
}


class ProgressLine(str):
    """``ProgressLine("searching", served=3, total=8, minutes=120)`` is the text
    ``"served 3/8, travel 120 min"`` with ``.key`` and ``.params`` beside it."""

    key: str
    params: dict

    def __new__(cls, key: str, **params) -> ProgressLine:
        line = super().__new__(cls, TEXTS[key].format(**params))
        line.key, line.params = key, params
        return line
