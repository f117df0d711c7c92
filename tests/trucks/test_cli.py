"""The foodtrucks command through its real entry points, on a committed SQLite file."""
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.factories import DAY, make_csv_files
from trucks.cli import main
from trucks.models import Compound, Publication, Retailer, Schedule, User
from trucks.worker import worker_cpus

FOODTRUCKS = Path(sys.executable).parent / "foodtrucks"


def count(url, model):
    engine = create_engine(url)
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def write_files(tmp_path, files):
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_bytes(data)
    return paths


def import_args(ini, paths, date=DAY):
    args = ["import", str(ini), "--date", date.isoformat()]
    for name, path in paths.items():
        args += [f"--{name}", str(path)]
    return args


@pytest.fixture
def demo_ini(file_ini):
    text = file_ini.read_text(encoding="utf-8").replace("foodtrucks.demo = false", "foodtrucks.demo = true")
    file_ini.write_text(text, encoding="utf-8")
    return file_ini


def test_import_then_solve_then_export(file_ini, file_database, tmp_path, capsys):
    paths = write_files(tmp_path, make_csv_files())
    assert main(import_args(file_ini, paths)) == 0
    assert "2 trucks rows, 8 compounds rows, 6 stock rows, 24 demand rows" in capsys.readouterr().out
    assert main(["solve", str(file_ini), "--date", "2022-04-20", "--time-limit", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "逸刻" in out and "8 served, 0 unserved" in out
    day = ["--date", "2022-04-20"]
    assert main(["export", str(file_ini), *day, "--format", "json"]) == 1
    assert "nothing published for 2022-04-20 (--latest exports the newest solve)" in capsys.readouterr().err
    assert main(["export", str(file_ini), *day, "--format", "json", "--latest"]) == 0
    latest = json.loads(capsys.readouterr().out)
    assert latest["version"] is None and latest["date"] == "2022-04-20"
    assert sum(len(r["stops"]) for r in latest["routes"]) + len(latest["unserved"]) == 8
    assert main(["publish", str(file_ini), *day]) == 0
    assert "逸刻 2022-04-20: published version 1" in capsys.readouterr().out
    assert main(["publish", str(file_ini), *day]) == 1
    assert "already published as version 1" in capsys.readouterr().err
    assert main(["export", str(file_ini), *day, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == dict(latest, version=1)
    assert main(["export", str(file_ini), *day, "--format", "csv", "--retailer", "逸刻", "--version", "1"]) == 0
    assert capsys.readouterr().out.startswith("date,version,truck_id,plate,stop,compound_id")
    assert main(["export", str(file_ini), *day, "--format", "csv", "--version", "2"]) == 1
    assert "no version 2 of 2022-04-20" in capsys.readouterr().err


def test_publishing_a_schedule_older_than_an_import_needs_force(file_ini, file_database, tmp_path, capsys):
    paths = write_files(tmp_path, make_csv_files())
    assert main(import_args(file_ini, paths)) == 0
    assert main(["solve", str(file_ini), "--date", "2022-04-20", "--time-limit", "0.3"]) == 0
    assert main(import_args(file_ini, paths)) == 0  # the day changes after the solve
    capsys.readouterr()
    assert main(["publish", str(file_ini), "--date", "2022-04-20"]) == 1
    assert "solved before a later import of the day" in capsys.readouterr().err
    assert count(file_database, Publication) == 0
    assert main(["publish", str(file_ini), "--date", "2022-04-20", "--force"]) == 0
    assert count(file_database, Publication) == 1


def test_import_with_problems_prints_each_and_changes_nothing(file_ini, file_database, tmp_path, capsys):
    files = make_csv_files()
    files["trucks"] = files["trucks"].replace(b"31.1110,121.3820", b"31.1110,999", 1)
    files["demand"] = files["demand"].replace(b"A-C08,eggs", b"A-C99,eggs")
    assert main(import_args(file_ini, write_files(tmp_path, files))) == 1
    err = capsys.readouterr().err
    assert "trucks.csv:2:depot_lon: 999 is outside -180 to 180" in err
    assert "demand.csv:25:compound_id: unknown compound A-C99" in err
    assert "2 problem(s): nothing was imported" in err
    assert count(file_database, Compound) == 0


def test_export_asks_which_retailer_when_the_day_has_several(file_ini, tmp_path, capsys):
    for prefix, name in (("A", "逸刻"), ("B", "良友")):
        paths = write_files(tmp_path, make_csv_files(prefix=prefix, retailer_name=name))
        assert main(import_args(file_ini, paths)) == 0
    assert main(["solve", str(file_ini), "--date", "2022-04-20", "--time-limit", "0.3"]) == 0
    capsys.readouterr()
    assert main(["export", str(file_ini), "--date", "2022-04-20", "--format", "json"]) == 2
    assert "several retailers (良友, 逸刻): choose one with --retailer NAME" in capsys.readouterr().err
    assert main(["export", str(file_ini), "--date", "2022-04-21", "--format", "json"]) == 1
    assert "no schedule for 2022-04-21" in capsys.readouterr().err


def test_adduser_reads_the_password_from_stdin(file_ini, file_database, tmp_path, monkeypatch, capsys):
    assert main(import_args(file_ini, write_files(tmp_path, make_csv_files()))) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("long enough secret\n"))
    assert main(["adduser", str(file_ini), "--role", "planner", "--username", "wang", "--retailer", "逸刻"]) == 0
    assert main(["adduser", str(file_ini), "--role", "driver", "--username", "li", "--password", "12345678"]) == 1
    assert "a driver needs a truck" in capsys.readouterr().err
    assert main(["adduser", str(file_ini), "--role", "driver", "--username", "li", "--truck", "A-T9",
                 "--password", "12345678"]) == 1
    assert "no truck 'A-T9'" in capsys.readouterr().err
    assert count(file_database, User) == 1
    assert main(["adduser", str(file_ini), "--role", "coordinator", "--username", "zhao",
                 "--password", "district-2022"]) == 0
    assert main(["adduser", str(file_ini), "--role", "coordinator", "--username", "qian", "--retailer", "逸刻",
                 "--password", "district-2022"]) == 1
    assert "a coordinator is not bound to a retailer" in capsys.readouterr().err
    assert count(file_database, User) == 2


def test_initdb_refuses_the_demo_unless_the_ini_allows_it(file_ini, file_database):
    result = subprocess.run([FOODTRUCKS, "initdb", str(file_ini), "--demo"], capture_output=True, text=True)
    assert result.returncode == 2 and "foodtrucks.demo = true" in result.stderr
    assert count(file_database, Retailer) == 0


@pytest.mark.slow
def test_initdb_demo_loads_solves_publishes_and_creates_accounts(demo_ini, file_database):
    day = dt.date(2022, 4, 15)
    command = [FOODTRUCKS, "initdb", str(demo_ini), "--demo", "--date", day.isoformat(), "--time-limit", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "demo day 2022-04-15 imported: 13 trucks rows, 350 compounds rows" in result.stdout
    assert "逸刻: published version 1" in result.stdout and "良友: published version 1" in result.stdout
    accounts = (demo_ini.parent / "demo-accounts.txt").read_text(encoding="utf-8")
    assert accounts.count("driver ") == 13 and accounts.count("planner ") == 2 and "admin " in accounts
    assert (demo_ini.parent / "demo-accounts.txt").stat().st_mode & 0o077 == 0
    engine = create_engine(file_database)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 16
        publications = session.scalars(select(Publication)).all()
        assert sorted((p.date, p.version) for p in publications) == [(day, 1), (day, 1)]
        for publication in publications:
            schedule = session.get(Schedule, publication.schedule_id)
            served = sum(len(r.stops) for r in schedule.routes)
            assert served + len(schedule.unserved) in (162, 188)
            assert served > 0.9 * (served + len(schedule.unserved))
    engine.dispose()
    again = subprocess.run([FOODTRUCKS, "initdb", str(demo_ini), "--demo"], capture_output=True, text=True)
    assert again.returncode == 0 and "already has data: demo not loaded" in again.stdout


def test_a_workers_pool_process_leaves_the_cpu_to_the_web_server():
    """``step_aside`` as a pool process runs it at start-up, in a process of its own (a niceness
    cannot be raised back): the setting's niceness, never less than it had, and the CPUs of
    ``foodtrucks.worker_cpus`` (by default those it already has)."""
    script = ("import os; from trucks.worker import step_aside; "
              "print(step_aside({'foodtrucks.worker_niceness': '7', 'foodtrucks.worker_cpus': '0'}), "
              "step_aside({}), step_aside({'foodtrucks.worker_niceness': '3'}), "
              "os.nice(0), os.sched_getaffinity(0))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(7,", "frozenset({0}))", "(10,", "frozenset({0}))", "(10,", "frozenset({0}))",
                           "10", "{0}"]


@pytest.mark.parametrize("cpus, where", [("1-x", "write CPU numbers and ranges"),
                                         ("4096", "none of these CPUs is available here")])
def test_a_worker_refuses_cpus_it_cannot_use(file_ini, cpus, where):
    text = file_ini.read_text(encoding="utf-8").replace(
        "celery.broker_url =", f"foodtrucks.worker_cpus = {cpus}\ncelery.broker_url =")
    file_ini.write_text(text, encoding="utf-8")
    done = subprocess.run([FOODTRUCKS, "worker", str(file_ini)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"foodtrucks.worker_cpus = '{cpus}'" in done.stderr and where in done.stderr


def test_worker_cpus_reads_numbers_and_ranges():
    available = os.sched_getaffinity(0)
    assert worker_cpus({}) == available
    assert worker_cpus({"foodtrucks.worker_cpus": " 0 "}) == {0}
    assert worker_cpus({"foodtrucks.worker_cpus": "0-4095"}) == available
    assert worker_cpus({"foodtrucks.worker_cpus": "0,4000-4095"}) == {0}
