"""CSV that a spreadsheet opens as data: a text cell a spreadsheet would take for a formula
(beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading ``'``.

Numbers stay numbers: a negative quantity or coordinate is not text and is written as it is.
The importer takes the ``'`` off again, so an exported file imports back unchanged.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


#: a number as a spreadsheet reads one (a leading sign makes it no formula)
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralised(cell):
    """The cell as a spreadsheet should see it: text that would start a formula is quoted."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not NUMBER.match(cell):
        return QUOTE + cell
    return cell


def restored(text: str) -> str:
    """An imported cell with the quote ``neutralised`` added taken off."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_STARTS) and not NUMBER.match(text[1:]):
        return text[1:]
    return text


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> str:
    """Every CSV the app writes: a header and rows, each cell ``neutralised``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralised(cell) for cell in header])
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue()
