"""Shared steps of the planner page tests: logging in through the real form, solving a day
with the real engine inside the test's transaction, reading the page's tables."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from scheduling import solve
from tests.factories import PASSWORD
from trucks.services import PlanningSettings, build_problem, store_schedule

SVG = "{http://www.w3.org/2000/svg}"
#: solves in tests stay tiny and short
TEST_TIME_LIMIT = 0.5


def login(testapp, username: str, password: str = PASSWORD) -> None:
    form = testapp.get("/login").forms["login-form"]
    form["username"] = username
    form["password"] = password
    form.submit(status=302)


def solve_now(dbsession, day, settings: PlanningSettings | None = None):
    """The day solved by the real engine and stored, as a finished background run would."""
    settings = settings or PlanningSettings(time_limit=TEST_TIME_LIMIT)
    problem = build_problem(dbsession, day.date, day.retailer.id, settings)
    result = solve(problem.problem, time_limit=settings.time_limit, seed=0)
    return store_schedule(dbsession, problem, result)


def polylines(svg_text: str) -> list[ET.Element]:
    return ET.fromstring(svg_text).findall(f".//{SVG}polyline")


def table_rows(page, css: str) -> list[list[str]]:
    """The body rows of the first table matching ``css`` as lists of cell texts."""
    table = page.html.select_one(css)
    assert table is not None, f"no table {css!r} on the page"
    return [[cell.get_text(" ", strip=True) for cell in row.find_all("td")] for row in table.select("tbody tr")]
