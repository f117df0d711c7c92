"""CSV import of a day: trucks, compounds, stock, demand and an optional travel matrix.

Every file is parsed and checked before anything is written; every problem found is collected
as (file, row, column, reason), and if there is any, ``ImportFailed`` carries them all and the
database is not touched. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from scheduling.travel import great_circle_km

from .models import Category, Compound, Demand, DistrictAssignment, ImportBatch, Retailer, Stock, TravelTime, Truck
from .spreadsheet import restored
from .webhooks import WebhookError, check_webhook

FILE_NAMES = {
    "trucks": "trucks.csv",
    "compounds": "compounds.csv",
    "stock": "stock.csv",
    "demand": "demand.csv",
    "travel": "travel.csv",
}
COLUMNS = {
    "trucks": ("truck_id", "retailer", "plate", "depot_name", "depot_lat", "depot_lon",
               "shift_start", "shift_end", "max_stops"),
    "compounds": ("compound_id", "name", "town", "lat", "lon", "households", "window_start",
                  "window_end", "service_minutes", "priority"),
    "stock": ("date", "truck_id", "category", "quantity"),
    "demand": ("date", "compound_id", "category", "quantity"),
    "travel": ("from_id", "to_id", "minutes"),
}
OPTIONAL_COLUMNS = {"compounds": ("address", "contact", "webhook", "webhook_kind", "webhook_secret"),
                    "demand": ("retailer",)}
#: stock and demand make a day; trucks and compounds may be left out when already known.
REQUIRED_FILES = ("stock", "demand")

#: A place further than this from the middle of the import's places is taken for a typo.
FAR_AWAY_KM = 150.0

MESSAGES = {
    "missing_file": ("缺少此文件", "file is missing"),
    "encoding": ("不是 UTF-8 文本（第 {line} 行有无法识别的字节），请另存为 UTF-8",
                 "not UTF-8 text (undecodable byte on line {line}); save it as UTF-8"),
    "empty_file": ("文件为空：需要表头行", "file is empty: a header row is needed"),
    "bad_csv": ("CSV 格式错误：{error}", "not valid CSV: {error}"),
    "missing_column": ("表头缺少此列", "column missing from the header"),
    "extra_values": ("此行的值多于表头的列", "row has more values than the header has columns"),
    "required": ("缺少值", "value missing"),
    "webhook_scheme": ("群机器人地址须以 http:// 或 https:// 开头并含主机名", "the webhook must be an http(s) address with a host"),
    "webhook_kind": ("须为 wecom、dingtalk 或 json", "must be wecom, dingtalk or json"),
    "webhook_too_long": ("地址最多 500 个字符，密钥最多 200 个", "at most 500 characters (the secret 200)"),
    "too_long": ("超过 {limit} 个字符", "longer than {limit} characters"),
    "not_number": ("“{value}”不是数字", "{value!r} is not a number"),
    "not_integer": ("“{value}”不是整数", "{value!r} is not a whole number"),
    "negative": ("{value} 不能为负数", "{value} is negative"),
    "too_small": ("{value} 小于 {low}", "{value} is less than {low}"),
    "out_of_range": ("{value} 不在 {low} 到 {high} 之间", "{value} is outside {low} to {high}"),
    "bad_time": ("“{value}”不是时刻 HH:MM", "{value!r} is not a time of day HH:MM"),
    "ends_before_start": ("结束时间 {end} 不晚于开始时间 {start}", "ends at {end}, not after it starts at {start}"),
    "bad_date": ("“{value}”不是日期 YYYY-MM-DD", "{value!r} is not a date YYYY-MM-DD"),
    "wrong_date": ("日期 {value} 与导入日期 {date} 不同", "date {value} differs from the import's date {date}"),
    "duplicate": ("{value} 重复（第一次在第 {first} 行）", "{value} appears again (first on row {first})"),
    "unknown_truck": ("未知车辆 {value}：不在 trucks.csv 中，也不在系统中",
                      "unknown truck {value}: neither in trucks.csv nor known"),
    "unknown_compound": ("未知小区 {value}：不在 compounds.csv 中，也不在系统中",
                         "unknown compound {value}: neither in compounds.csv nor known"),
    "unknown_retailer": ("未知零售商 {value}", "unknown retailer {value}"),
    "unknown_place": ("未知地点 {value}：应为车辆编号或小区编号",
                      "unknown place {value}: use a truck_id or a compound_id"),
    "other_retailer": ("属于其他零售商：您只能导入本零售商的数据",
                       "belongs to another retailer: you may import only your own retailer's data"),
    "supplied_by_other": ("该小区当天由其他零售商供应：您只能导入本零售商供应的小区的需求",
                          "another retailer supplies this compound that day: you may import only "
                          "the demand of compounds your retailer supplies"),
    "compound_master_data": ("与系统中的小区资料不同：已有小区的资料只能由协调员或管理员修改",
                             "differs from the compound's data: only the coordinator or the admin "
                             "may change an existing compound"),
    "compound_without_demand": ("新小区须在本次 demand.csv 中由本零售商供应",
                                "a new compound must have demand your retailer supplies in this "
                                "import's demand.csv"),
    "travel_not_own": ("{value} 不是本零售商当天的车辆或供应的小区",
                       "{value} is neither your retailer's truck nor a compound it supplies that day"),
    "far_away": ("坐标离本次导入的其他地点 {km} 公里：经纬度是否写反或有误？",
                 "{km} km from the other places of this import: latitude and longitude swapped, or a typo?"),
    "conflicting_retailer": ("该小区在第 {first} 行由另一个零售商供应，一个小区只能由一个零售商供应",
                             "row {first} has it supplied by another retailer; one retailer supplies a compound"),
    "no_retailer": ("无法确定由哪个零售商供应：请加 retailer 列或导入车辆",
                    "cannot tell which retailer supplies it: add a retailer column or import trucks"),
}


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the input: where it is and why, in words a planner can act on."""

    file: str
    row: int | None
    column: str | None
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, language: str = "en") -> str:
        zh, en = MESSAGES[self.code]
        return (zh if language == "zh" else en).format(**self.params)

    @property
    def reason(self) -> str:
        return self.message("en")

    def as_dict(self, language: str = "en") -> dict[str, Any]:
        """The problem as the page lists it and the API returns it."""
        return {"file": self.file, "row": self.row, "column": self.column, "code": self.code,
                "reason": self.message(language)}

    def __str__(self) -> str:
        return f"{self.file}:{self.row or ''}:{self.column or ''}: {self.reason}"


class ImportFailed(Exception):
    """The import found problems and wrote nothing."""

    def __init__(self, problems: list[ImportProblem]):
        super().__init__(f"{len(problems)} problem(s) in the import")
        self.problems = problems

    def by_place(self) -> list[ImportProblem]:
        """The problems by file, row and column, as the page and the API list them."""
        return sorted(self.problems, key=lambda p: (p.file, p.row or 0, p.column or ""))


def new_access_token() -> str:
    """The unguessable key of a compound's public committee page."""
    return secrets.token_urlsafe(16)


FileInput = bytes | str | os.PathLike | IO[bytes]


def _read_bytes(source: FileInput) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return source.read()


# ---------------------------------------------------------------------------------------------
# Parsed rows


@dataclass
class TruckRow:
    row: int
    code: str
    retailer: str
    plate: str
    depot_name: str
    lat: float
    lon: float
    shift_start: int
    shift_end: int
    max_stops: int


@dataclass
class CompoundRow:
    row: int
    code: str
    name: str
    town: str
    address: str
    contact: str
    lat: float
    lon: float
    households: int
    window_start: int
    window_end: int
    service_minutes: int | None
    priority: int
    #: (url, kind, secret) of the group robot; None when the file has no webhook column
    webhook: tuple[str, str, str] | None = None


@dataclass
class StockRow:
    row: int
    truck: str
    category: str
    quantity: int


@dataclass
class DemandRow:
    row: int
    compound: str
    category: str
    quantity: int
    retailer: str


@dataclass
class TravelRow:
    row: int
    origin: str
    destination: str
    minutes: float


_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
_MISSING = object()


class _RowReader:
    """Reads one row's fields, recording a problem for each bad value (and returning _MISSING)."""

    def __init__(self, problems: list[ImportProblem], file: str, row: int, values: dict[str, str]):
        self.problems, self.file, self.row, self.values = problems, file, row, values
        self.ok = True

    def fail(self, column: str | None, code: str, **params) -> Any:
        self.problems.append(ImportProblem(self.file, self.row, column, code, params))
        self.ok = False
        return _MISSING

    def raw(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    def text(self, column: str, *, limit: int, required: bool = True) -> Any:
        value = restored(self.raw(column)).strip()
        if required and not value:
            return self.fail(column, "required")
        if len(value) > limit:
            return self.fail(column, "too_long", limit=limit)
        return value

    def number(self, column: str, *, low: float | None = None, high: float | None = None) -> Any:
        value = self.raw(column)
        if not value:
            return self.fail(column, "required")
        try:
            number = float(value)
        except ValueError:
            return self.fail(column, "not_number", value=value)
        if not math.isfinite(number):
            return self.fail(column, "not_number", value=value)
        if low is not None and high is not None and not low <= number <= high:
            return self.fail(column, "out_of_range", value=value, low=low, high=high)
        if low == 0 and number < 0:
            return self.fail(column, "negative", value=value)
        return number

    def integer(self, column: str, *, low: int = 0, high: int | None = None, default: Any = _MISSING) -> Any:
        value = self.raw(column)
        if not value:
            return self.fail(column, "required") if default is _MISSING else default
        try:
            number = float(value)
        except ValueError:
            return self.fail(column, "not_integer", value=value)
        if not math.isfinite(number) or number != int(number):
            return self.fail(column, "not_integer", value=value)
        number = int(number)
        if high is not None and not low <= number <= high:
            return self.fail(column, "out_of_range", value=value, low=low, high=high)
        if number < low:
            return self.fail(column, "negative" if low == 0 else "too_small", value=value, low=low)
        return number

    def time(self, column: str) -> Any:
        value = self.raw(column)
        if not value:
            return self.fail(column, "required")
        match = _TIME.match(value)
        if match is None:
            return self.fail(column, "bad_time", value=value)
        hours, minutes = int(match[1]), int(match[2])
        if minutes > 59 or hours > 24 or (hours == 24 and minutes):
            return self.fail(column, "bad_time", value=value)
        return hours * 60 + minutes

    def interval(self, start_column: str, end_column: str) -> tuple[Any, Any]:
        start, end = self.time(start_column), self.time(end_column)
        if start is not _MISSING and end is not _MISSING and end <= start:
            self.fail(end_column, "ends_before_start", start=self.raw(start_column), end=self.raw(end_column))
        return start, end

    def date(self, column: str, expected: dt.date) -> Any:
        value = self.raw(column)
        if not value:
            return self.fail(column, "required")
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            return self.fail(column, "bad_date", value=value)
        if parsed != expected:
            return self.fail(column, "wrong_date", value=value, date=expected.isoformat())
        return parsed


def _read_table(
    problems: list[ImportProblem], kind: str, data: bytes
) -> list[tuple[int, dict[str, str]]] | None:
    """The rows of one file as (row number, {column: value}), or None when the file itself is bad."""
    file = FILE_NAMES[kind]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(ImportProblem(file, data[: exc.start].count(b"\n") + 1, None, "encoding",
                                      {"line": data[: exc.start].count(b"\n") + 1}))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            problems.append(ImportProblem(file, None, None, "empty_file"))
            return None
        header = [cell.strip() for cell in header]
        header_row = reader.line_num
        missing = [column for column in COLUMNS[kind] if column not in header]
        for column in missing:
            problems.append(ImportProblem(file, header_row, column, "missing_column"))
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                problems.append(ImportProblem(file, reader.line_num, None, "extra_values"))
                continue
            rows.append((reader.line_num, dict(zip(header, cells))))
    except csv.Error as exc:
        problems.append(ImportProblem(file, reader.line_num, None, "bad_csv", {"error": str(exc)}))
        return None
    return None if missing else rows


def _parse_rows(problems, kind, rows, parse_row: Callable[[_RowReader], Any]) -> list:
    parsed = []
    for row, values in rows:
        reader = _RowReader(problems, FILE_NAMES[kind], row, values)
        record = parse_row(reader)
        if reader.ok:
            parsed.append(record)
    return parsed


def _truck_row(r: _RowReader, max_stops_default: int) -> TruckRow:
    shift_start, shift_end = r.interval("shift_start", "shift_end")
    return TruckRow(
        row=r.row,
        code=r.text("truck_id", limit=50),
        retailer=r.text("retailer", limit=100),
        plate=r.text("plate", limit=20, required=False),
        depot_name=r.text("depot_name", limit=100, required=False),
        lat=r.number("depot_lat", low=-90, high=90),
        lon=r.number("depot_lon", low=-180, high=180),
        shift_start=shift_start,
        shift_end=shift_end,
        max_stops=r.integer("max_stops", default=max_stops_default),
    )


def _compound_row(r: _RowReader) -> CompoundRow:
    window_start, window_end = r.interval("window_start", "window_end")
    return CompoundRow(
        row=r.row,
        code=r.text("compound_id", limit=50),
        name=r.text("name", limit=200),
        town=r.text("town", limit=100, required=False),
        address=r.text("address", limit=300, required=False),
        contact=r.text("contact", limit=100, required=False),
        lat=r.number("lat", low=-90, high=90),
        lon=r.number("lon", low=-180, high=180),
        households=r.integer("households", low=1),
        window_start=window_start,
        window_end=window_end,
        service_minutes=r.integer("service_minutes", default=None),
        priority=r.integer("priority", low=1, high=3, default=1),
        webhook=_webhook(r),
    )


def _webhook(r: _RowReader) -> Any:
    """The optional group robot; the problem never repeats the URL (it is a secret)."""
    if "webhook" not in r.values:
        return None
    try:
        return check_webhook(r.raw("webhook"), r.raw("webhook_kind"), r.raw("webhook_secret"))
    except WebhookError as error:
        return r.fail("webhook_kind" if error.code == "kind" else "webhook", f"webhook_{error.code}")


def _stock_row(r: _RowReader, date: dt.date) -> StockRow:
    r.date("date", date)
    return StockRow(r.row, r.text("truck_id", limit=50), r.text("category", limit=50),
                    r.integer("quantity"))


def _demand_row(r: _RowReader, date: dt.date) -> DemandRow:
    r.date("date", date)
    return DemandRow(r.row, r.text("compound_id", limit=50), r.text("category", limit=50),
                     r.integer("quantity"), r.text("retailer", limit=100, required=False))


def _travel_row(r: _RowReader) -> TravelRow:
    return TravelRow(r.row, r.text("from_id", limit=50), r.text("to_id", limit=50),
                     r.number("minutes", low=0))


# ---------------------------------------------------------------------------------------------
# The import


@dataclass
class _Parsed:
    trucks: list[TruckRow]
    compounds: list[CompoundRow]
    stock: list[StockRow]
    demand: list[DemandRow]
    travel: list[TravelRow] | None


def import_day(
    dbsession: Session,
    date: dt.date,
    files: Mapping[str, FileInput],
    *,
    retailer_id: int | None = None,
    user: str = "",
    max_stops_default: int = 30,
) -> ImportBatch:
    """Checks every file, then (only if all is well) writes the day and returns its ImportBatch.

    ``files`` maps "trucks", "compounds", "stock", "demand" and optionally "travel" to bytes,
    a path or a binary file. With ``retailer_id`` (a planner's import) every truck and every
    demand must be that retailer's. Re-importing a date replaces its stock and demand for the
    retailers the import touches, and the travel entries between the places in travel.csv;
    trucks and compounds are updated in place (a compound keeps its committee link).
    """
    problems: list[ImportProblem] = []
    unknown_files = set(files) - set(FILE_NAMES)
    if unknown_files:
        raise ValueError(f"unknown import files: {sorted(unknown_files)}")
    tables = {}
    for kind in FILE_NAMES:
        if files.get(kind) is None:
            if kind in REQUIRED_FILES:
                problems.append(ImportProblem(FILE_NAMES[kind], None, None, "missing_file"))
            continue
        tables[kind] = _read_table(problems, kind, _read_bytes(files[kind]))

    def parse(kind, parse_row):
        rows = tables.get(kind)
        return None if rows is None else _parse_rows(problems, kind, rows, parse_row)

    parsed = _Parsed(
        trucks=parse("trucks", lambda r: _truck_row(r, max_stops_default)) or [],
        compounds=parse("compounds", _compound_row) or [],
        stock=parse("stock", lambda r: _stock_row(r, date)) or [],
        demand=parse("demand", lambda r: _demand_row(r, date)) or [],
        travel=parse("travel", _travel_row),
    )
    own = dbsession.get(Retailer, retailer_id) if retailer_id is not None else None
    if retailer_id is not None and own is None:
        raise ValueError(f"no retailer with id {retailer_id}")
    if any(table is None for table in tables.values()):
        raise ImportFailed(problems)  # a file that cannot be read makes cross-file checks noise
    listed = {kind: {values.get(column, "").strip() for _, values in tables.get(kind) or ()}
              for kind, column in (("trucks", "truck_id"), ("compounds", "compound_id"))}
    compound_columns = {column for _, values in tables.get("compounds") or () for column in values}
    checker = _CrossCheck(dbsession, date, parsed, own, problems, listed, compound_columns)
    checker.run()
    if problems:
        raise ImportFailed(problems)
    return _write(dbsession, date, parsed, checker, own, user)


class _CrossCheck:
    """Checks between rows, files and what the database already knows."""

    def __init__(self, dbsession, date, parsed: _Parsed, own: Retailer | None, problems,
                 listed: dict[str, set[str]], compound_columns: set[str]):
        self.db, self.date, self.parsed, self.own, self.problems = dbsession, date, parsed, own, problems
        #: the columns compounds.csv has (address and contact are optional)
        self.compound_columns = compound_columns
        #: ids on any row of trucks.csv / compounds.csv, valid or not: rows naming an invalid
        #: one are not reported again as unknown
        self.listed = listed
        self.truck_rows = {t.code: t for t in parsed.trucks}
        self.compound_rows = {c.code: c for c in parsed.compounds}
        stock_codes = {s.truck for s in parsed.stock} | {
            p for t in parsed.travel or () for p in (t.origin, t.destination)}
        demand_codes = {d.compound for d in parsed.demand} | {
            p for t in parsed.travel or () for p in (t.origin, t.destination)}
        self.known_trucks: dict[str, Truck] = {
            t.code: t for t in dbsession.scalars(
                select(Truck).where(Truck.code.in_(stock_codes | set(self.truck_rows))))}
        self.known_compounds: dict[str, Compound] = {
            c.code: c for c in dbsession.scalars(
                select(Compound).where(Compound.code.in_(demand_codes | set(self.compound_rows))))}
        self.retailers = {r.name: r for r in dbsession.scalars(select(Retailer))}
        #: compound code -> retailer name supplying it (decided in _assign_retailers)
        self.supplier: dict[str, str] = {}
        #: retailer name -> compounds it got as the nearest depot's retailer
        self.by_nearest: Counter[str] = Counter()

    @cached_property
    def confirmed(self) -> dict[str, str]:
        """compound code -> the retailer name the coordinator's confirmed assignment of the date
        gives it (read only when a compound would otherwise go to the nearest depot)."""
        return dict(self.db.execute(
            select(Compound.code, Retailer.name)
            .join(DistrictAssignment, DistrictAssignment.compound_id == Compound.id)
            .join(Retailer, Retailer.id == DistrictAssignment.retailer_id)
            .where(DistrictAssignment.date == self.date, DistrictAssignment.confirmed_at.is_not(None))).all())

    def problem(self, kind, row, column, code, **params):
        self.problems.append(ImportProblem(FILE_NAMES[kind], row, column, code, params))

    def run(self) -> None:
        self._duplicates("trucks", self.parsed.trucks, lambda t: t.code, "truck_id")
        self._duplicates("compounds", self.parsed.compounds, lambda c: c.code, "compound_id")
        self._duplicates("stock", self.parsed.stock, lambda s: (s.truck, s.category), "category")
        self._duplicates("demand", self.parsed.demand, lambda d: (d.compound, d.category), "category")
        self._duplicates("travel", self.parsed.travel or [], lambda t: (t.origin, t.destination), "to_id")
        self._check_trucks()
        self._check_compounds()
        self._check_stock()
        self._check_demand()
        self._check_travel()
        self._check_far_away()
        self._assign_retailers()

    def _duplicates(self, kind, rows, key, column) -> None:
        first: dict[Any, int] = {}
        for row in rows:
            k = key(row)
            if k in first:
                shown = k if isinstance(k, str) else " / ".join(k)
                self.problem(kind, row.row, column, "duplicate", value=shown, first=first[k])
            else:
                first[k] = row.row

    def truck_retailer(self, code: str) -> str | None:
        if code in self.truck_rows:
            return self.truck_rows[code].retailer
        known = self.known_trucks.get(code)
        return known.retailer.name if known is not None else None

    def _check_trucks(self) -> None:
        for t in self.parsed.trucks:
            if self.own is not None and t.retailer != self.own.name:
                self.problem("trucks", t.row, "retailer", "other_retailer")
            known = self.known_trucks.get(t.code)
            if self.own is not None and known is not None and known.retailer_id != self.own.id:
                self.problem("trucks", t.row, "truck_id", "other_retailer")

    def _check_compounds(self) -> None:
        """A planner's compounds.csv may repeat a known compound as it is, and add a new one that
        their own demand in this import orders for; compound master data is the coordinator's."""
        if self.own is None:
            return
        ordered = {d.compound for d in self.parsed.demand}
        for c in self.parsed.compounds:
            known = self.known_compounds.get(c.code)
            if known is None:
                if c.code not in ordered:
                    self.problem("compounds", c.row, "compound_id", "compound_without_demand")
                continue
            for column in _changed_columns(known, c, self.compound_columns):
                self.problem("compounds", c.row, column, "compound_master_data")

    def _check_stock(self) -> None:
        for s in self.parsed.stock:
            retailer = self.truck_retailer(s.truck)
            if retailer is None and s.truck in self.listed["trucks"]:
                continue
            if retailer is None:
                self.problem("stock", s.row, "truck_id", "unknown_truck", value=s.truck)
            elif self.own is not None and retailer != self.own.name:
                self.problem("stock", s.row, "truck_id", "other_retailer")

    def _check_demand(self) -> None:
        import_retailers = {t.retailer for t in self.parsed.trucks}
        others = self._other_suppliers()
        for d in self.parsed.demand:
            if not self._is_place(d.compound, trucks=False):
                self.problem("demand", d.row, "compound_id", "unknown_compound", value=d.compound)
            if self.own is not None:
                # a planner learns nothing of other retailers: not even which names exist
                if d.retailer and d.retailer != self.own.name:
                    self.problem("demand", d.row, "retailer", "other_retailer")
                if d.compound in others:
                    self.problem("demand", d.row, "compound_id", "supplied_by_other")
            elif d.retailer and d.retailer not in import_retailers and d.retailer not in self.retailers:
                self.problem("demand", d.row, "retailer", "unknown_retailer", value=d.retailer)

    def _other_suppliers(self) -> set[str]:
        """For a planner's import: compounds of the file whose demand that day another retailer supplies."""
        if self.own is None:
            return set()
        codes = {d.compound for d in self.parsed.demand}
        return set(self.db.scalars(
            select(Compound.code)
            .join(Demand, Demand.compound_id == Compound.id)
            .where(Demand.date == self.date, Compound.code.in_(codes), Demand.retailer_id != self.own.id)
        ))

    def _check_travel(self) -> None:
        own_places = self._own_places() if self.own is not None else None
        for t in self.parsed.travel or ():
            for column, code in (("from_id", t.origin), ("to_id", t.destination)):
                if not self._is_place(code):
                    self.problem("travel", t.row, column, "unknown_place", value=code)
                elif own_places is not None and code not in own_places:
                    self.problem("travel", t.row, column, "travel_not_own", value=code)

    def _own_places(self) -> set[str]:
        """A planner's places of the day: their retailer's trucks (depots) and the compounds it
        supplies, by this import's demand or by the demand already stored for the date."""
        trucks = {t.code for t in self.parsed.trucks if t.retailer == self.own.name}
        trucks |= set(self.db.scalars(select(Truck.code).where(Truck.retailer_id == self.own.id)))
        others = self._other_suppliers()
        compounds = {d.compound for d in self.parsed.demand if d.compound not in others}
        compounds |= set(self.db.scalars(
            select(Compound.code).join(Demand, Demand.compound_id == Compound.id)
            .where(Demand.date == self.date, Demand.retailer_id == self.own.id)))
        return trucks | compounds

    def _is_place(self, code: str, trucks: bool = True) -> bool:
        if code in self.listed["compounds"] or code in self.known_compounds:
            return True
        return trucks and (code in self.listed["trucks"] or code in self.known_trucks)

    def _check_far_away(self) -> None:
        places = [("trucks", t.row, "depot_lat", t.lat, t.lon) for t in self.parsed.trucks]
        places += [("compounds", c.row, "lat", c.lat, c.lon) for c in self.parsed.compounds]
        if len(places) < 3:
            return
        lats = np.array([p[3] for p in places])
        lons = np.array([p[4] for p in places])
        centre_lat, centre_lon = float(np.median(lats)), float(np.median(lons))
        km = great_circle_km(np.append(lats, centre_lat), np.append(lons, centre_lon))[-1, :-1]
        for (kind, row, column, _, _), distance in zip(places, km):
            if distance > FAR_AWAY_KM:
                self.problem(kind, row, column, "far_away", km=round(float(distance)))

    def compound_position(self, code: str) -> tuple[float, float] | None:
        if code in self.compound_rows:
            return self.compound_rows[code].lat, self.compound_rows[code].lon
        known = self.known_compounds.get(code)
        return (known.lat, known.lon) if known is not None else None

    def _assign_retailers(self) -> None:
        """Decides each compound's supplier: the demand's retailer column, the planner's own
        retailer, the import's single retailer, the district's confirmed assignment of the date,
        or else the retailer of the nearest depot."""
        depots = [(t.retailer, t.lat, t.lon) for t in self.parsed.trucks]
        if not depots:
            depots = [(k.retailer.name, k.depot_lat, k.depot_lon) for k in
                      (self.known_trucks.get(s.truck) for s in self.parsed.stock) if k is not None]
        fleet = {name for name, _, _ in depots}
        named: dict[str, tuple[str, int]] = {}  # compound -> (retailer named in the file, row)
        for d in self.parsed.demand:
            if not d.retailer:
                continue
            if d.compound not in named:
                named[d.compound] = (d.retailer, d.row)
            elif named[d.compound][0] != d.retailer:
                self.problem("demand", d.row, "retailer", "conflicting_retailer",
                             first=named[d.compound][1], other=named[d.compound][0])
        by_nearest: Counter[str] = Counter()
        unassignable: set[str] = set()
        for d in self.parsed.demand:
            if d.compound in self.supplier:
                continue
            if d.compound in named:
                self.supplier[d.compound] = named[d.compound][0]
            elif self.own is not None:
                self.supplier[d.compound] = self.own.name
            elif len(fleet) == 1:
                self.supplier[d.compound] = next(iter(fleet))
            elif d.compound in self.confirmed:
                self.supplier[d.compound] = self.confirmed[d.compound]
            elif not fleet:
                if d.compound not in unassignable:
                    unassignable.add(d.compound)
                    self.problem("demand", d.row, "compound_id", "no_retailer")
            else:
                position = self.compound_position(d.compound)
                if position is None:
                    continue  # already reported as an unknown compound
                km = great_circle_km([position[0]] + [lat for _, lat, _ in depots],
                                     [position[1]] + [lon for _, _, lon in depots])[0, 1:]
                nearest = depots[int(np.argmin(km))][0]
                self.supplier[d.compound] = nearest
                by_nearest[nearest] += 1
        self.by_nearest = by_nearest


#: compounds.csv's columns and the Compound attributes they set
COMPOUND_FIELDS = {
    "name": "name", "town": "town", "address": "address", "contact": "contact", "lat": "lat",
    "lon": "lon", "households": "households", "window_start": "window_start",
    "window_end": "window_end", "service_minutes": "service_minutes", "priority": "priority",
}


def _changed_columns(known: Compound, row: CompoundRow, columns: set[str]) -> list[str]:
    """The columns of the file (of those it has) whose value differs from the stored compound."""
    changed = []
    for column, name in COMPOUND_FIELDS.items():
        if column not in columns:
            continue
        new, old = getattr(row, name), getattr(known, name)
        same = math.isclose(new, old, abs_tol=1e-7) if isinstance(new, float) else new == old
        if not same:
            changed.append(column)
    if row.webhook is not None and row.webhook != (known.webhook_url, known.webhook_kind, known.webhook_secret):
        changed.append("webhook")
    return changed


def _nearest_note(by_nearest: Mapping[str, int]) -> list[str]:
    """The note that some compounds went to the retailer of their nearest depot, if any did."""
    if not by_nearest:
        return []
    total = sum(by_nearest.values())
    shares = ", ".join(f"{name} {count}" for name, count in sorted(by_nearest.items()))
    return [f"{total} 个小区按最近的仓库分配给零售商：{shares} / "
            f"{total} compounds assigned to the retailer of their nearest depot: {shares}"]


def _write(dbsession: Session, date: dt.date, parsed: _Parsed, checker: _CrossCheck,
           own: Retailer | None, user: str) -> ImportBatch:
    retailers = dict(checker.retailers)
    for name in {t.retailer for t in parsed.trucks} - set(retailers):
        retailers[name] = Retailer(name=name)
        dbsession.add(retailers[name])

    trucks = dict(checker.known_trucks)
    for row in parsed.trucks:
        truck = trucks.get(row.code)
        if truck is None:
            truck = trucks[row.code] = Truck(code=row.code)
            dbsession.add(truck)
        truck.retailer = retailers[row.retailer]
        for name in ("plate", "depot_name", "shift_start", "shift_end", "max_stops"):
            setattr(truck, name, getattr(row, name))
        truck.depot_lat, truck.depot_lon = row.lat, row.lon

    compounds = dict(checker.known_compounds)
    created: set[str] = set()
    for row in parsed.compounds:
        compound = compounds.get(row.code)
        if compound is None:
            compound = compounds[row.code] = Compound(code=row.code, access_token=new_access_token())
            dbsession.add(compound)
            created.add(row.code)
        elif own is not None:
            continue  # a planner's row for a known compound was checked to change nothing
        for name in COMPOUND_FIELDS.values():
            setattr(compound, name, getattr(row, name))
        if row.webhook is not None:
            compound.webhook_url, compound.webhook_kind, compound.webhook_secret = row.webhook

    keys = {s.category for s in parsed.stock} | {d.category for d in parsed.demand}
    known_keys = set(dbsession.scalars(select(Category.key).where(Category.key.in_(keys))))
    new_keys = sorted(keys - known_keys)
    dbsession.add_all(Category(key=key, name_zh=key, name_en=key) for key in new_keys)
    dbsession.flush()

    affected = {retailers[name].id for name in
                {t.retailer for t in parsed.trucks} | set(checker.supplier.values())}
    affected |= {trucks[s.truck].retailer_id for s in parsed.stock}
    if own is not None:
        affected.add(own.id)
    stock_trucks = {trucks[s.truck].id for s in parsed.stock}
    affected_trucks = select(Truck.id).where(Truck.retailer_id.in_(affected))
    dbsession.execute(delete(Stock).where(
        Stock.date == date, or_(Stock.truck_id.in_(affected_trucks), Stock.truck_id.in_(stock_trucks))))
    demand_compounds = {compounds[d.compound].id for d in parsed.demand}
    replaced = or_(Demand.retailer_id.in_(affected), Demand.compound_id.in_(demand_compounds))
    if own is not None:
        replaced = Demand.retailer_id == own.id  # a planner's import replaces only their demand
    dbsession.execute(delete(Demand).where(Demand.date == date, replaced))
    dbsession.add_all(
        Stock(date=date, truck_id=trucks[s.truck].id, category_key=s.category, quantity=s.quantity)
        for s in parsed.stock)
    dbsession.add_all(
        Demand(date=date, compound_id=compounds[d.compound].id,
               retailer_id=retailers[checker.supplier[d.compound]].id,
               category_key=d.category, quantity=d.quantity)
        for d in parsed.demand)

    if parsed.travel is not None:
        places = {p for t in parsed.travel for p in (t.origin, t.destination)}
        dbsession.execute(delete(TravelTime).where(
            TravelTime.date == date, TravelTime.from_code.in_(places), TravelTime.to_code.in_(places)))
        dbsession.add_all(
            TravelTime(date=date, from_code=t.origin, to_code=t.destination, minutes=t.minutes)
            for t in parsed.travel)

    def batch_for(retailer: Retailer | None) -> ImportBatch:
        """The import's record: all of it, or the part of one retailer (its trucks, its stock,
        the demand it supplies) so that its planner sees what came in for them."""
        def mine(name: str) -> bool:
            return retailer is None or name == retailer.name

        demand = [d for d in parsed.demand if mine(checker.supplier[d.compound])]
        supplied = {d.compound for d in demand}
        listed = [c.code for c in parsed.compounds if retailer is None or c.code in supplied]
        batch = ImportBatch(
            date=date,
            retailer_id=retailer.id if retailer is not None else None,
            created_by=user,
            counts={
                "trucks": sum(mine(t.retailer) for t in parsed.trucks),
                "compounds": len(listed),
                "new_compounds": len(created & set(listed)),
                "stock": sum(mine(trucks[s.truck].retailer.name) for s in parsed.stock),
                "demand": len(demand),
                "demand_compounds": len(supplied),
                "travel": len(parsed.travel or ()),
                "new_categories": new_keys,
            },
            notes=_nearest_note({name: n for name, n in checker.by_nearest.items() if mine(name)}),
        )
        dbsession.add(batch)
        return batch

    touched = [r for r in retailers.values() if r.id in affected]
    if own is not None or len(touched) == 1:
        batch = batch_for(own or touched[0])
    else:
        batch = batch_for(None)  # the whole import, for the admin; each retailer gets its part
        for retailer in touched:
            batch_for(retailer)
    dbsession.flush()
    return batch
