"""Load on the committee page (``/c/{token}``) on loopback, idle and while two solves run on
workers, and the solves' answers with and without that load.

    python -m bench.committee_load [--seconds 15] [--connections 16] [--rate 500]
                                   [--time-limit 45] [--worker-cpus all,1]

A throwaway site in a temporary folder: the demo day migrated, solved and published (SQLite,
the embedded broker), ``pserve`` on a free port and one worker with two processes. wrk
(Debian's ``wrk``; installed with apt-get when missing and run as root) loads one committee's
page for ``--seconds``, twice: at a fixed offered rate (``--rate`` requests per second, each
connection pausing between requests) and as fast as it can. Both first with nothing else
running, then while both retailers of the day solve on the worker. This is done for each
placement of the worker's solves (``--worker-cpus``: ``all``, or a ``foodtrucks.worker_cpus``
value). The first table gives requests per second and p50/p99 latency; the second compares each
retailer's answer solved idle with the same seed solved under load.
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


def write_ini(folder: Path, port: int, time_limit: float, worker_cpus: str = "") -> Path:
    values = {
        "foodtrucks.worker_cpus": worker_cpus,
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


def wrk(binary: str, url: str, seconds: int, connections: int, pause_ms: float = 0.0) -> dict:
    """wrk's figures; with ``pause_ms`` each connection waits that long after each response, which
    offers a fixed rate of about connections x 1000 / pause_ms requests per second."""
    script = []
    if pause_ms:
        pacing = Path(tempfile.gettempdir()) / f"foodtrucks-wrk-pause-{pause_ms:g}.lua"
        pacing.write_text(f"function delay()\n  return {pause_ms:g}\nend\n", encoding="utf-8")
        script = ["-s", str(pacing)]
    out = subprocess.run([binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *script, url],
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


def load_figures(binary: str, url: str, args) -> dict[str, dict]:
    pause = args.connections * 1000.0 / args.rate
    return {"paced": wrk(binary, url, args.seconds, args.connections, pause),
            "flat out": wrk(binary, url, args.seconds, args.connections)}


def measure(folder: Path, ini: Path, port: int, token: str, binary: str, args) -> tuple[dict, dict]:
    """Idle and solving figures of one placement of the worker's solves."""
    with open(folder / "servers.log", "ab") as log:  # the servers keep their own copy of it
        processes = [subprocess.Popen([str(BIN / "pserve"), str(ini)], stdout=log, stderr=subprocess.STDOUT),
                     subprocess.Popen([str(BIN / "foodtrucks"), "worker", str(ini), "--concurrency", "2"],
                                      stdout=log, stderr=subprocess.STDOUT)]
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}/c/{token}"
        wrk(binary, url, 3, args.connections)  # warm-up
        idle = load_figures(binary, url, args)
        solving = solve(ini, args.time_limit)
        time.sleep(5)  # both solves are on the worker by now
        loaded = load_figures(binary, url, args)
        output = solving.communicate(timeout=args.time_limit * 4)[0]
        if "solving on the workers" not in output:
            print("note: the solves did not run on the worker:\n" + output)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return idle, loaded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run (default 15)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s offered by the paced runs")
    parser.add_argument("--time-limit", type=float, default=45.0,
                        help="each solve's limit; above 2 x --seconds + 5 so both loaded runs meet the solves")
    parser.add_argument("--worker-cpus", default="all,1",
                        help="placements of the solves, separated by commas: all, or foodtrucks.worker_cpus values "
                             "(1-3 style ranges)")
    args = parser.parse_args(argv)
    placements = args.worker_cpus.split(",")
    binary = ensure_wrk()
    rows, answered = [], []
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
        for placement in placements:
            print(f"worker CPUs: {placement} ...", flush=True)
            ini = write_ini(folder, port, args.time_limit, "" if placement == "all" else placement)
            idle, loaded = measure(folder, ini, port, token, binary, args)
            rows += [(placement, kind, idle[kind], loaded[kind]) for kind in idle]
            answered.append((placement, answers(engine)))
        load = os.getloadavg()[0]
    print(f"\nCommittee page /c/TOKEN on loopback, wrk -t2 -c{args.connections} -d{args.seconds}s "
          f"(paced: {args.rate:.0f} requests/s offered), load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| solves on CPUs | wrk | idle req/s | idle p50 ms | idle p99 ms | solving req/s | solving p50 ms "
          "| solving p99 ms | p99 solving / idle | non-2xx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for placement, kind, idle, loaded in rows:
        print(f"| {placement} | {kind} | {idle['rps']:.0f} | {idle['p50']:.1f} | {idle['p99']:.1f} | "
              f"{loaded['rps']:.0f} | {loaded['p50']:.1f} | {loaded['p99']:.1f} | {loaded['p99'] / idle['p99']:.2f} | "
              f"{idle['errors'] + loaded['errors']} |")
    print(f"\nAnswers of the same day and seed at {args.time_limit:.0f} s, idle (initdb) and under load\n")
    print("| retailer | idle | seconds | " + " | ".join(f"solves on {p} | seconds" for p, _ in answered) + " |")
    print("|---|---|---|" + "---|---|" * len(answered))
    for name in sorted(idle_answers):
        cells = " | ".join(f"{found[name][0]} | {found[name][1]}" for _, found in answered)
        print(f"| {name} | {idle_answers[name][0]} | {idle_answers[name][1]} | {cells} |")


if __name__ == "__main__":
    main()
