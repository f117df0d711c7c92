"""Load on the committee page (``/c/{token}``) on loopback, idle and while two solves run on
workers, and the solves' answers with and without that load.

    python -m bench.committee_load [--seconds 15] [--connections 16] [--time-limit 30]

A throwaway site in a temporary folder: the demo day migrated, solved and published (SQLite,
the embedded broker), ``pserve`` on a free port and one worker with two processes. wrk
(Debian's ``wrk``; installed with apt-get when missing and run as root) loads one committee's
page for ``--seconds``: first with nothing else running, then while both retailers of the day
solve on the worker. The table gives requests per second and p50/p99 latency; a second table
compares each retailer's answer solved idle with the same seed solved under load.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyramid.paster import get_appsettings
from sqlalchemy import create_engine, select

from trucks.models import Compound, Retailer, SolveRun, SolveStatus

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DAY = "2022-04-20"


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        sys.exit("wrk is needed: apt-get install wrk")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_ini(folder: Path, port: int, time_limit: float) -> Path:
    values = {
        "sqlalchemy.url": f"sqlite:///{folder / 'bench.sqlite'}",
        "celery.broker_url": f"filesystem://{folder / 'broker'}",
        "foodtrucks.demo": "true",
        "scheduling.time_limit_seconds": str(time_limit),
        "listen": f"127.0.0.1:{port}",
        "pyramid.reload_templates": "false",
    }
    lines = []
    for line in (HERE.parent / "development.ini").read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {values[key]}" if key in values else line)
    lines = [line.replace("level = DEBUG", "level = WARN").replace("level = INFO", "level = WARN") for line in lines]
    ini = folder / "bench.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ini


def wait_port(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing answered on port {port}")


def wrk(binary: str, url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run([binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout

    def millis(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": millis("50%"), "p99": millis("99%"), "errors": int(errors.group(1)) if errors else 0}


def solve(ini: Path, time_limit: float) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "foodtrucks"), "solve", str(ini), "--date", DAY, "--time-limit", str(time_limit)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def answers(engine) -> dict[str, tuple[str, str]]:
    """The latest done run of each retailer: its message and how long it took."""
    with engine.connect() as connection:
        rows = connection.execute(select(Retailer.name, SolveRun.message, SolveRun.started_at, SolveRun.finished_at)
                                  .join(Retailer, Retailer.id == SolveRun.retailer_id)
                                  .where(SolveRun.status == SolveStatus.DONE).order_by(SolveRun.id)).all()
    return {name: (message, f"{(end - start).total_seconds():.1f}") for name, message, start, end in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run (default 15)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=30.0, help="each solve's limit; above --seconds + 5")
    args = parser.parse_args(argv)
    binary = ensure_wrk()
    processes = []
    with tempfile.TemporaryDirectory(prefix="foodtrucks-bench-") as temp:
        folder = Path(temp)
        port = free_port()
        ini = write_ini(folder, port, args.time_limit)
        print(f"setting up the demo day in {folder} (solved and published once) ...", flush=True)
        subprocess.run([str(BIN / "foodtrucks"), "initdb", str(ini), "--demo", "--date", DAY],
                       check=True, capture_output=True)
        engine = create_engine(get_appsettings(str(ini))["sqlalchemy.url"])
        idle_answers = answers(engine)
        with engine.connect() as connection:
            token = connection.scalar(select(Compound.access_token).order_by(Compound.id).limit(1))
        try:
            log = open(folder / "servers.log", "ab")
            processes.append(subprocess.Popen([str(BIN / "pserve"), str(ini)], stdout=log, stderr=subprocess.STDOUT))
            processes.append(subprocess.Popen([str(BIN / "foodtrucks"), "worker", str(ini), "--concurrency", "2"],
                                              stdout=log, stderr=subprocess.STDOUT))
            wait_port(port)
            url = f"http://127.0.0.1:{port}/c/{token}"
            wrk(binary, url, 3, args.connections)  # warm-up
            idle = wrk(binary, url, args.seconds, args.connections)
            solving = solve(ini, args.time_limit)
            time.sleep(5)  # both solves are on the worker by now
            loaded = wrk(binary, url, args.seconds, args.connections)
            output = solving.communicate(timeout=args.time_limit * 4)[0]
            if "solving on the workers" not in output:
                print("note: the solves did not run on the worker:\n" + output)
            loaded_answers = answers(engine)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
        load = os.getloadavg()[0]
    print(f"\nCommittee page /c/TOKEN on loopback, wrk -t2 -c{args.connections} -d{args.seconds}s, "
          f"load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| while | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    for label, figures in (("idle", idle), ("two solves on the worker", loaded)):
        print(f"| {label} | {figures['rps']:.0f} | {figures['p50']:.1f} | {figures['p99']:.1f} | {figures['errors']} |")
    print(f"\np99 while solving / idle: {loaded['p99'] / idle['p99']:.2f}\n")
    print(f"Answers of the same day and seed at {args.time_limit:.0f} s, idle (initdb) and under load\n")
    print("| retailer | idle | seconds | under load | seconds |")
    print("|---|---|---|---|---|")
    for name in sorted(idle_answers):
        print(f"| {name} | {idle_answers[name][0]} | {idle_answers[name][1]} | "
              f"{loaded_answers[name][0]} | {loaded_answers[name][1]} |")


if __name__ == "__main__":
    main()
