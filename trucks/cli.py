"""The ``foodtrucks`` command: ``foodtrucks COMMAND INI ...`` as Pyramid's scripts take the ini.

Database work runs inside the bootstrapped request's transaction (``with request.tm:``), so a
command that fails changes nothing; solving runs through the same solve runs as the web page.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import multiprocessing
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import alembic.command
import alembic.config
from pyramid.paster import bootstrap, get_appsettings, setup_logging
from pyramid.request import Request
from sqlalchemy import exists, select

from . import committees, demo
from .accounts import AccountError, create_user
from .importer import FILE_NAMES, ImportFailed, import_day
from .live import FieldInputError, local_today, parse_clock, truck_by_code
from .models import Compound, Retailer, Role, Schedule, SolveRun, SolveStatus, Truck, User
from .exports import FORMATS, NothingToExport, export
from .publishing import PublishError, StaleSchedule, publish, publish_latest
from .replan import ReplanError, replan_day
from .services import (
    PlanningSettings,
    latest_schedule,
    retailer_by_name,
    retailers_with_demand,
    retailers_with_schedules,
)
from .db import get_engine, get_session_factory
from .solving import (
    NothingToSolve,
    SolveAlreadyRunning,
    dead_after,
    execute_solve_run,
    is_alive,
    solve_run,
    start_solve_run,
    worker_name,
)
from .district import execute_district_solve, start_district_solve
from .tasks import has_broker
from .worker import run_worker, worker_cpus

DEMO_ACCOUNTS_FILE = "demo-accounts.txt"
#: demo passwords: letters and digits without look-alikes (0/O, 1/l/I), easy to type
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: how long `solve` waits for workers to answer a ping before it solves in its own processes
WORKER_PING_SECONDS = 1.0
#: how often `solve` reads its runs' progress
FOLLOW_SECONDS = 0.5


class CommandError(Exception):
    """A command that cannot go on; the message is printed and the exit code returned."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "on", "1")


# ---------------------------------------------------------------------------------------------
# Progress on the terminal


class ProgressBoard:
    """Solves' progress: one line rewritten in place on a terminal (every run's percentage),
    else a line per run and 10%."""

    def __init__(self, labels: dict[int, str], stream=None):
        self.labels, self.stream = labels, stream or sys.stdout
        self.tty = self.stream.isatty()
        self.percent = {key: 0 for key in labels}
        self.last_step = {key: -1 for key in labels}

    def update(self, key: int, fraction: float, message: str) -> None:
        percent = self.percent[key] = int(fraction * 100)
        if self.tty:
            line = " | ".join(f"{self.labels[k]} {p:3d}%" for k, p in self.percent.items())
            self.stream.write(f"\r{line}  {message[:40]:<40}")
        elif percent // 10 > self.last_step[key]:
            self.last_step[key] = percent // 10
            self.stream.write(f"{self.labels[key]} {percent:3d}% {message}\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------------------------
# Commands


def migrate(ini: str) -> None:
    cfg = alembic.config.Config(ini)
    cfg.attributes["settings"] = dict(get_appsettings(ini))
    alembic.command.upgrade(cfg, "head")


def cmd_initdb(args) -> int:
    settings = get_appsettings(args.ini)
    if args.demo and not _is_true(settings.get("foodtrucks.demo")):
        raise CommandError(f"{args.ini} does not allow the demo: set foodtrucks.demo = true to load it", 2)
    migrate(args.ini)
    print("database migrated to the latest revision")
    if not args.demo:
        return 0
    with bootstrap(args.ini) as env:
        with env["request"].tm:
            dbsession = env["request"].dbsession
            if any(dbsession.scalar(select(exists().select_from(model)))
                   for model in (Retailer, Truck, Compound, User)):
                print("the database already has data: demo not loaded")
                return 0
            date = args.date or local_today()
            batch = import_day(dbsession, date, demo.demo_files(date), user="demo")
            print(f"demo day {date} imported: {_counts(batch.counts)}")
        planning = _planning(env, args.time_limit)
        schedules = _solve_retailers(env, date, None, planning)
        with env["request"].tm:
            dbsession = env["request"].dbsession
            for retailer_id, schedule_id in schedules.items():
                if schedule_id is not None:
                    publication = publish(dbsession, dbsession.get(Schedule, schedule_id), published_by="demo")
                    print(f"{dbsession.get(Retailer, retailer_id).name}: published version {publication.version}")
            accounts = _create_demo_accounts(dbsession)
    _write_demo_accounts(Path(args.ini).resolve().parent / DEMO_ACCOUNTS_FILE, date, accounts)
    return 0


def _create_demo_accounts(dbsession) -> list[tuple[str, str, str]]:
    """An admin, a planner per retailer and a driver per truck, each with a random password."""
    accounts = []

    def add(username, role, **bound):
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
        create_user(dbsession, username, password, role, **bound)
        accounts.append((username, password, role))

    add("admin", Role.ADMIN)
    for retailer in dbsession.scalars(select(Retailer).order_by(Retailer.name)):
        prefix = demo.TRUCK_PREFIX.get(retailer.name, str(retailer.id)).lower()
        add(f"planner-{prefix}", Role.PLANNER, retailer=retailer)
        for truck in retailer.trucks:
            add(f"driver-{truck.code.lower()}", Role.DRIVER, truck=truck)
    return accounts


def _write_demo_accounts(path: Path, date: dt.date, accounts: list[tuple[str, str, str]]) -> None:
    lines = [f"Demo accounts (demo day {date}); log in at http://localhost:6543/login", ""]
    lines += [f"{role:<8} {username:<16} {password}" for username, password, role in accounts]
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(text, end="")
    print(f"(also written to {path})")


def cmd_import(args) -> int:
    paths = {name: getattr(args, name) for name in FILE_NAMES if getattr(args, name) is not None}
    missing = [f"{path}: no such file" for path in paths.values() if not Path(path).is_file()]
    if missing:
        raise CommandError("\n".join(missing))
    with bootstrap(args.ini) as env:
        planning = _planning(env, None)
        try:
            with env["request"].tm:
                dbsession = env["request"].dbsession
                retailer_id = _retailer(dbsession, args.retailer).id if args.retailer else None
                batch = import_day(dbsession, args.date, paths, retailer_id=retailer_id, user="cli",
                                   max_stops_default=planning.max_stops_default)
                print(f"imported {args.date}: {_counts(batch.counts)}")
                for note in batch.notes:
                    print(f"note: {note}")
        except ImportFailed as failed:
            for problem in failed.problems:
                print(problem, file=sys.stderr)
            raise CommandError(f"{len(failed.problems)} problem(s): nothing was imported") from None
    return 0


def _counts(counts: dict) -> str:
    shown = ("trucks", "compounds", "stock", "demand", "travel")
    return ", ".join(f"{counts[key]} {key} rows" for key in shown if counts.get(key))


def cmd_solve(args) -> int:
    if args.district and args.retailer:
        raise CommandError("--district solves every retailer at once: leave out --retailer", 2)
    with bootstrap(args.ini) as env:
        planning = _planning(env, args.time_limit)
        if args.district:
            return 0 if _solve_district(env, args.date, planning) else 1
        with env["request"].tm:
            retailer_id = _retailer(env["request"].dbsession, args.retailer).id if args.retailer else None
        schedules = _solve_retailers(env, args.date, retailer_id, planning)
    return 0 if schedules and all(s is not None for s in schedules.values()) else 1


def _solve_district(env, date: dt.date, planning: PlanningSettings) -> bool:
    """One solve with every retailer's trucks, in this process; each retailer's part is stored
    as its schedule. Its runs' rows are followed as a plain solve's are."""
    request, registry = env["request"], env["registry"]
    with request.tm:
        try:
            runs = start_district_solve(request.dbsession, date, user="cli", time_limit=planning.time_limit,
                                        dead_after_seconds=dead_after(registry.settings))
        except NothingToSolve as nothing:
            raise CommandError(str(nothing)) from None
        except SolveAlreadyRunning as running:
            raise CommandError(f"{running}; try again when it has finished") from None
        named = {run.id: request.dbsession.get(Retailer, run.retailer_id).name for run in runs}
    outcome = {}
    solving = threading.Thread(target=lambda: outcome.setdefault("schedules", execute_district_solve(
        registry["dbsession_factory"], list(named), replace(planning), worker=f"cli@{worker_name()}")))
    solving.start()
    ended = _follow(request, {run_id: f"{name} {date}" for run_id, name in named.items()},
                    dead_after(registry.settings))
    solving.join()
    for run_id, name in named.items():
        run = ended[run_id]
        if run.status == SolveStatus.DONE:
            print(f"{name}: {run.message}")
        else:
            print(f"{name}: solve {run.status}: {run.message}", file=sys.stderr)
    return outcome.get("schedules") is not None


def _planning(env, time_limit: float | None) -> PlanningSettings:
    planning = PlanningSettings.from_settings(env["registry"].settings)
    return planning if time_limit is None else replace(planning, time_limit=time_limit)


def _solve_retailers(env, date: dt.date, retailer_id: int | None, planning: PlanningSettings) -> dict[int, int | None]:
    """Solves each retailer with demand that day (or only ``retailer_id``) side by side: on the
    workers when one answers, else in processes of this command. Prints their progress and a
    summary; returns {retailer id: schedule id, or None when its solve did not finish}."""
    request, registry = env["request"], env["registry"]
    dead_after_seconds = dead_after(registry.settings)
    with request.tm:
        dbsession = request.dbsession
        retailers = retailers_with_demand(dbsession, date)
        if retailer_id is not None:
            retailers = [r for r in retailers if r.id == retailer_id]
        if not retailers:
            raise CommandError(f"nothing to solve on {date}: no demand imported")
        runs = {}
        for retailer in retailers:
            try:
                runs[start_solve_run(dbsession, date, retailer.id, user="cli", time_limit=planning.time_limit,
                                     dead_after_seconds=dead_after_seconds).id] = (retailer.id, retailer.name)
            except SolveAlreadyRunning as running:
                raise CommandError(f"{retailer.name}: {running}; try again when it has finished") from None
    workers = answering_workers(registry)
    local = None
    if workers:
        print(f"solving on the workers ({', '.join(sorted(workers))})")
        for run_id in runs:
            request.task(solve_run).delay(run_id)
    else:
        # fork: the child starts solving at once instead of importing the app again (this process
        # runs no threads of its own here)
        local = ProcessPoolExecutor(max_workers=len(runs), mp_context=multiprocessing.get_context("fork"))
        for run_id in runs:
            local.submit(_solve_here, dict(registry.settings), run_id)
    try:
        ended = _follow(request, {run_id: f"{name} {date}" for run_id, (_, name) in runs.items()}, dead_after_seconds)
    finally:
        if local is not None:
            local.shutdown(wait=True, cancel_futures=True)
    schedules = {}
    for run_id, (retailer_id, name) in runs.items():
        run = ended[run_id]
        schedules[retailer_id] = run.schedule_id if run.status == SolveStatus.DONE else None
        if run.status == SolveStatus.DONE:
            print(f"{name}: {run.message} ({(run.finished_at - run.started_at).total_seconds():.1f} s)")
        elif not run.ended:
            print(f"{name}: abandoned: no worker wrote its heartbeat for {2 * dead_after_seconds:.0f} s",
                  file=sys.stderr)
        else:
            print(f"{name}: solve {run.status}: {run.message}", file=sys.stderr)
    return schedules


def answering_workers(registry) -> list[str]:
    """The names of the workers that answer a ping on the ini's broker; none without a broker."""
    if not has_broker(registry):
        return []
    app = registry["celery.app"]
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
            replies = app.control.ping(timeout=WORKER_PING_SECONDS, connection=connection) or []
    except Exception as exc:  # no broker answering: solve here
        print(f"note: the broker does not answer ({type(exc).__name__}); solving here")
        return []
    return [name for reply in replies for name in reply]


def _solve_here(settings: dict, run_id: int) -> None:
    """A run solved in a process of this command (no worker answered)."""
    engine = get_engine(settings)
    try:
        execute_solve_run(get_session_factory(engine), run_id, settings, worker=f"cli@{worker_name()}",
                          dead_after_seconds=dead_after(settings))
    finally:
        engine.dispose()


def _follow(request, labels: dict[int, str], dead_after_seconds: float) -> dict[int, SolveRun]:
    """Prints the runs' progress from their rows until each has ended. A run without a heartbeat
    for twice the dead interval was recovered by no worker: it is left to the next start."""
    board = ProgressBoard(labels)
    while True:
        with request.tm:
            runs = {run.id: run for run in request.dbsession.scalars(select(SolveRun).where(SolveRun.id.in_(labels)))}
            for run in runs.values():
                request.dbsession.expunge(run)
        for run_id, run in runs.items():
            board.update(run_id, run.progress, run.message or run.status)
        if all(run.ended or not is_alive(run, 2 * dead_after_seconds) for run in runs.values()):
            board.done()
            return runs
        time.sleep(FOLLOW_SECONDS)


def cmd_worker(args) -> int:
    env = bootstrap(args.ini)
    try:
        worker_cpus(env["registry"].settings)
    except ValueError as wrong:
        raise CommandError(f"{args.ini}: {wrong}", 2) from None
    if not has_broker(env["registry"]):
        raise CommandError(f"{args.ini} names no broker: set celery.broker_url (see README)", 2)
    run_worker(env["registry"], concurrency=args.concurrency, name=args.name, pool=args.pool)
    return 0


def cmd_export(args) -> int:
    with bootstrap(args.ini) as env, env["request"].tm:
        dbsession = env["request"].dbsession
        retailer = _day_retailer(dbsession, args.date, args.retailer)
        try:
            sys.stdout.write(export(dbsession, args.date, retailer_id=retailer.id, fmt=args.format,
                                    version=args.version, latest=args.latest))
        except NothingToExport as missing:
            raise CommandError(f"{retailer.name}: {missing}") from None
    return 0


def cmd_publish(args) -> int:
    with bootstrap(args.ini) as env, env["request"].tm:
        dbsession = env["request"].dbsession
        retailer = _day_retailer(dbsession, args.date, args.retailer)
        schedule = latest_schedule(dbsession, args.date, retailer.id)
        try:
            publication = publish_latest(dbsession, args.date, retailer.id, schedule.id if schedule else None,
                                         "cli", confirm_stale=args.force)
        except StaleSchedule as stale:
            raise CommandError(f"{retailer.name}: {stale} (--force publishes it)") from None
        except PublishError as refused:
            raise CommandError(f"{retailer.name}: {refused}") from None
        print(f"{retailer.name} {args.date}: published version {publication.version} (schedule {schedule.id})")
    return 0


def _day_retailer(dbsession, date: dt.date, name: str | None) -> Retailer:
    """The retailer named, else the only one with schedules that day."""
    if name:
        return _retailer(dbsession, name)
    planned = retailers_with_schedules(dbsession, date)
    if not planned:
        raise CommandError(f"no schedule for {date}")
    if len(planned) > 1:
        names = ", ".join(r.name for r in planned)
        raise CommandError(f"{date} has plans of several retailers ({names}): choose one with --retailer NAME", 2)
    return planned[0]


def cmd_replan(args) -> int:
    with bootstrap(args.ini) as env:
        planning = _planning(env, args.time_limit)
        with env["request"].tm:
            dbsession = env["request"].dbsession
            truck = truck_by_code(dbsession, args.truck)
            if truck is None:
                raise CommandError(f"no truck {args.truck!r}")
            if args.retailer and _retailer(dbsession, args.retailer).id != truck.retailer_id:
                raise CommandError(f"truck {args.truck} is not {args.retailer}'s")
            try:
                cut = parse_clock(args.date, args.from_time)
                outcome = replan_day(dbsession, args.date, truck.retailer_id, planning, truck_code=truck.code,
                                     cut=cut, user="cli")
            except (ReplanError, FieldInputError, PublishError) as refused:
                raise CommandError(str(refused)) from None
            replan = outcome.replan
            print(f"{truck.retailer.name} {args.date}: {truck.code} out of service from {cut:%H:%M}; "
                  f"version {outcome.base_version} re-planned in {replan.seconds:.1f} s")
            print(f"kept {len(replan.kept)} stops; {truck.code}'s later compounds: {len(replan.reserved)} "
                  f"re-served, {len(replan.dropped)} not today")
            print(f"windows moved: {len(replan.moved)} (mean {replan.moved_mean:.0f} min, "
                  f"max {replan.moved_max:.0f} min)")
            for unserved in replan.unserved:
                print(f"not today: {unserved.compound_id} ({unserved.reason})")
            print(f"published version {outcome.publication.version}")
    return 0


def cmd_links(args) -> int:
    """Prints the compounds' committee links as CSV (``compound_id,name,town,link``) or as a
    print-ready HTML sheet of labelled QR codes."""
    settings = get_appsettings(args.ini)
    base_url = (args.base_url or settings.get("foodtrucks.public_url") or "").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise CommandError("the links need the site's address: set foodtrucks.public_url in the ini "
                           "or give --base-url https://...", 2)
    with bootstrap(args.ini, request=Request.blank("/", base_url=base_url)) as env, env["request"].tm:
        request = env["request"]
        dbsession = request.dbsession
        retailer_id = _retailer(dbsession, args.retailer).id if args.retailer else None
        compounds = committees.compounds_for_links(dbsession, retailer_id=retailer_id, town=args.town, date=args.date)
        if not compounds:
            raise CommandError("no compound matches")

        def link(compound):
            return request.route_url("committee", token=compound.access_token)

        if args.format == "csv":
            sys.stdout.write(committees.links_csv(compounds, link, with_codes=args.with_codes))
        else:
            if args.with_codes:
                raise CommandError("committee codes go into the CSV only, never onto a printed sheet", 2)
            title = f"居委会二维码 · Committee QR codes{' · ' + args.town if args.town else ''}"
            sys.stdout.write(committees.links_html(compounds, link, title))
    return 0


def cmd_adduser(args) -> int:
    password = args.password if args.password is not None else _read_password(sys.stdin)
    with bootstrap(args.ini) as env, env["request"].tm:
        dbsession = env["request"].dbsession
        retailer = _retailer(dbsession, args.retailer) if args.retailer else None
        truck = None
        if args.truck:
            truck = dbsession.scalar(select(Truck).where(Truck.code == args.truck))
            if truck is None:
                raise CommandError(f"no truck {args.truck!r}")
        try:
            user = create_user(dbsession, args.username, password, args.role, retailer=retailer, truck=truck)
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        print(f"user {user.username} ({user.role}) created")
    return 0


def _read_password(stdin) -> str:
    if stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the passwords differ")
        return password
    return stdin.readline().rstrip("\r\n")


def _retailer(dbsession, name: str) -> Retailer:
    retailer = retailer_by_name(dbsession, name)
    if retailer is None:
        known = ", ".join(dbsession.scalars(select(Retailer.name).order_by(Retailer.name))) or "none yet"
        raise CommandError(f"no retailer {name!r} (known: {known})")
    return retailer


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foodtrucks", description="Food truck schedules (集订分送).")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("ini", help="the app's ini file, e.g. development.ini")
        sub.set_defaults(handler=handler)
        return sub

    sub = command("initdb", cmd_initdb, "migrate the database to the latest revision; --demo loads the demo day")
    sub.add_argument("--demo", action="store_true",
                     help="into an empty database: import, solve and publish the demo day, create demo accounts")
    sub.add_argument("--date", type=_date, help="the demo day (default: today in Shanghai)")
    sub.add_argument("--time-limit", type=float, help="seconds for the day's solves in all (default: the ini's)")

    sub = command("import", cmd_import, "import a day's CSV files; nothing changes if any has a problem")
    sub.add_argument("--date", type=_date, required=True)
    for name in ("trucks", "compounds", "stock", "demand"):
        sub.add_argument(f"--{name}", required=True, metavar="FILE", help=FILE_NAMES[name])
    sub.add_argument("--travel", metavar="FILE", help="optional travel-time matrix from_id,to_id,minutes")
    sub.add_argument("--retailer", metavar="NAME", help="only this retailer's trucks and demand may be imported")

    sub = command("solve", cmd_solve, "solve each retailer's day (or one retailer's) and store the schedules")
    sub.add_argument("--date", type=_date, required=True)
    sub.add_argument("--time-limit", type=float, metavar="SECONDS")
    sub.add_argument("--retailer", metavar="NAME")
    sub.add_argument("--district", action="store_true",
                     help="solve every retailer at once: any retailer's truck may serve any compound")

    sub = command("worker", cmd_worker, "run a worker that solves the runs sent to the ini's broker")
    sub.add_argument("--concurrency", type=int, metavar="N", help="solves at once (default: one per core it may use, foodtrucks.worker_cpus)")
    sub.add_argument("--name", metavar="NAME@HOST", help="the worker's name (default: celery@HOST)")
    sub.add_argument("--pool", choices=("prefork", "solo", "threads"), default="prefork",
                     help="prefork (default): a process per solve")

    sub = command("export", cmd_export, "print the day's published version (or another version, or the latest solve)")
    sub.add_argument("--date", type=_date, required=True)
    sub.add_argument("--format", choices=FORMATS, required=True)
    sub.add_argument("--retailer", metavar="NAME")
    which = sub.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, metavar="N", help="the Nth published version")
    which.add_argument("--latest", action="store_true", help="the newest solve, published or not")

    sub = command("publish", cmd_publish, "publish the day's latest schedule as the next version")
    sub.add_argument("--date", type=_date, required=True)
    sub.add_argument("--retailer", metavar="NAME")
    sub.add_argument("--force", action="store_true",
                     help="publish even a schedule solved before a later import of the day")

    sub = command("replan", cmd_replan, "take a truck out of service from a time and re-plan the rest of the "
                  "published day; the answer is published as the next version")
    sub.add_argument("--date", type=_date, required=True)
    sub.add_argument("--truck", required=True, metavar="TRUCK_ID", help="the truck out of service")
    sub.add_argument("--from", dest="from_time", required=True, metavar="HH:MM",
                     help="from when; stops without a driver's report count as done when the truck was there before it")
    sub.add_argument("--retailer", metavar="NAME", help="a check: the truck must be this retailer's")
    sub.add_argument("--time-limit", type=float, metavar="SECONDS")
    sub = command("links", cmd_links, "print the compounds' committee links as CSV or a sheet of QR codes")
    sub.add_argument("--town", help="only this town")
    sub.add_argument("--retailer", metavar="NAME", help="only compounds this retailer supplies")
    sub.add_argument("--date", type=_date, help="only compounds with demand that day")
    sub.add_argument("--format", choices=("csv", "html"), default="csv")
    sub.add_argument("--with-codes", action="store_true",
                     help=f"CSV only: add the private {committees.CODE_COLUMN} column, for committee contacts")
    sub.add_argument("--base-url", help="the site's address (default: the ini's foodtrucks.public_url)")

    sub = command("adduser", cmd_adduser, "create an account (the password is asked for, or read from stdin)")
    sub.add_argument("--role", choices=[r.value for r in Role], required=True)
    sub.add_argument("--username", required=True)
    sub.add_argument("--retailer", metavar="NAME", help="a planner's retailer")
    sub.add_argument("--truck", metavar="CODE", help="a driver's truck")
    sub.add_argument("--password", help="better left out: it then is not in the shell's history")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.ini)
    try:
        return args.handler(args)
    except CommandError as exc:
        print(f"foodtrucks {args.command}: {exc}", file=sys.stderr)
        return exc.code
