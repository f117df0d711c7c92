"""Real worker processes (``foodtrucks worker``) on a SQLite file and a real broker: the embedded
one always, Redis and RabbitMQ where they answer (else skipped with a note). Each test has its
own database, broker folder or queue, and kills every process it started."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyramid.config import Configurator
from pyramid.paster import get_appsettings
from sqlalchemy import func, select

from tests.conftest import INI_FILE, migrate
from trucks import demo
from trucks.models import Retailer, Schedule, SolveRun
from trucks.solving import solve_run, start_solve_run
from trucks.tasks import get_task

BIN = Path(sys.executable).parent
#: a run's heartbeat older than this is dead, in these tests (production: 30 s)
DEAD_AFTER_SECONDS = 8
#: how long a worker may take to start on a busy 2-core machine
WORKER_START_SECONDS = 60
DAY = "2022-04-20"
SERVERS = {"redis": ("127.0.0.1", 6379), "rabbitmq": ("127.0.0.1", 5672)}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def broker_url(kind: str, folder: Path) -> str:
    if kind == "filesystem":
        return f"filesystem://{folder / 'broker'}"
    if not answers(*SERVERS[kind]):
        pytest.skip(f"{kind} does not answer at {SERVERS[kind][0]}:{SERVERS[kind][1]}; "
                    "worker tests ran on the embedded broker only")
    return "redis://127.0.0.1:6379/0" if kind == "redis" else "amqp://guest@127.0.0.1:5672//"


@dataclass
class Site:
    """An ini, its database and broker, and the processes started on them."""

    folder: Path
    ini: Path
    settings: dict
    processes: list = field(default_factory=list)

    def __post_init__(self):
        with Configurator(settings=self.settings) as config:
            config.include("trucks")
        self.registry = config.registry
        self.sessions = self.registry["dbsession_factory"]

    def command(self, *args: str, log: str) -> subprocess.Popen:
        """A ``foodtrucks`` process in a session of its own (so kill -9 takes its children too)."""
        out = open(self.folder / log, "ab")
        process = subprocess.Popen([str(BIN / "foodtrucks"), args[0], str(self.ini), *args[1:]],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder)
        self.processes.append(process)
        return process

    def worker(self, name: str, concurrency: int = 1) -> subprocess.Popen:
        process = self.command("worker", "--name", f"{name}@test", "--concurrency", str(concurrency),
                               log=f"{name}.log")
        wait_for(lambda: "ready." in self.log(name), WORKER_START_SECONDS, f"worker {name} did not start")
        return process

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def send(self, run_id: int) -> None:
        """What the web sends once its transaction committed: the run's id, to the broker."""
        get_task(self.registry["celery.app"], solve_run).delay(run_id)

    def start(self, retailer: str = "良友", time_limit: float = 5) -> int:
        """A queued run of the retailer's day, committed (not sent)."""
        with self.sessions.begin() as session:
            retailer_id = session.scalar(select(Retailer.id).where(Retailer.name == retailer))
            return start_solve_run(session, dt.date.fromisoformat(DAY), retailer_id, user="test",
                                   time_limit=time_limit, dead_after_seconds=DEAD_AFTER_SECONDS).id

    def sent_run(self, time_limit: float) -> int:
        """A run of 良友's day, committed and sent to the broker."""
        run_id = self.start(time_limit=time_limit)
        self.send(run_id)
        return run_id

    def ended(self, run_id: int, seconds: float) -> SolveRun:
        return wait_for(lambda: (run := self.run(run_id)).ended and run, seconds, f"run {run_id} did not end")

    def run(self, run_id: int) -> SolveRun:
        with self.sessions() as session:
            run = session.get(SolveRun, run_id)
            session.expunge(run)
            return run

    def schedules(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count(Schedule.id)))

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=60)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)
        self.sessions.kw["bind"].dispose()


def wait_for(condition, seconds: float, failure: str, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} (after {seconds} s)")
        time.sleep(every)


def make_site(folder: Path, broker: str, time_limit: float = 5, split_above: int = 400, piece_size: int = 150) -> Site:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'app.sqlite'}"
    migrate(url)
    replace = {
        "sqlalchemy.url": url,
        "celery.broker_url": broker_url(broker, folder),
        "celery.always_eager": "false",
        "scheduling.time_limit_seconds": str(time_limit),
    }
    lines = []
    for line in INI_FILE.read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {replace.pop(key)}" if key in replace else line)
        if key == "retry.attempts":
            lines += [f"solving.dead_after_seconds = {DEAD_AFTER_SECONDS}",
                      f"scheduling.split_above = {split_above}", f"scheduling.piece_size = {piece_size}",
                      f"celery.queue = foodtrucks-test-{uuid.uuid4().hex[:8]}"]
    ini = folder / "site.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = dict(get_appsettings(str(ini)))
    return Site(folder, ini, settings)


@pytest.fixture
def site_factory(tmp_path):
    sites = []

    def make(broker: str = "filesystem", **options) -> Site:
        site = make_site(tmp_path / f"site{len(sites)}", broker, **options)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


def import_demo_day(site: Site) -> None:
    """The demo day (two retailers, 350 compounds) into the site's database."""
    folder = site.folder / "demo"
    demo.write_demo_files(folder, dt.date.fromisoformat(DAY))
    process = subprocess.run(
        [str(BIN / "foodtrucks"), "import", str(site.ini), "--date", DAY,
         *(arg for name in ("trucks", "compounds", "stock", "demand") for arg in (f"--{name}", str(folder / f"{name}.csv")))],
        capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr


@pytest.fixture
def demo_site(site_factory) -> Site:
    """A site on the embedded broker with the demo day imported."""
    site = site_factory("filesystem")
    import_demo_day(site)
    return site
