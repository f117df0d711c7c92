"""Dates and times as the field reads them, in the page's language."""
from __future__ import annotations

import datetime as dt

from trucks.live import local_today


def day_label(request, date: dt.date) -> str:
    """``4月20日 星期三`` / ``Wed 20 Apr``, with today and tomorrow named."""
    label = request.t(
        "field.date", year=date.year, month=date.month, day=date.day,
        weekday=request.t(f"field.weekday.{date.weekday()}"),
        month_name=request.t(f"field.month.{date.month}"),
    )
    offset = (date - local_today()).days
    if offset in (0, 1):
        return request.t("field.today" if offset == 0 else "field.tomorrow", date=label)
    return label


def clock(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.strftime("%H:%M")


def span(window: tuple[dt.datetime, dt.datetime]) -> str:
    """A 15-minute window as ``10:30–10:45``."""
    return f"{clock(window[0])}–{clock(window[1])}"


def template_helpers(request) -> dict:
    """What the committee and driver templates use to show dates and times."""
    return {"day_label": lambda date: day_label(request, date), "clock": clock, "span": span}
