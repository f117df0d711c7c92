"""The committee page's cache under load: wrk on loopback against the real app, with a
publication in the middle of the run (``bench.committee_load`` measures idle and during solves).

    python -m bench.committee_publish_load [--duration 30] [--threads 2] [--connections 10] [--no-cache]

It builds the demo day in a fresh SQLite file (``foodtrucks initdb --demo``), solves one
retailer again so that a second version is waiting, and serves the app with waitress on a free
loopback port. wrk (Debian's ``wrk``) then opens the committee pages of every served compound
at random. Halfway through, a script started before the load (so that its start-up is not
measured) publishes the waiting schedule as version 2 in its own process; the bench fetches one of that retailer's pages right after the commit and reports
whether it already shows version 2. That publication changes the pages of its retailer's
compounds only (``trucks.page_generation``): the other retailer's stay cached. Prints one table
row per run (Markdown) with the load average of the machine, which other work shares, before and
after the run.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
SERVER_THREADS = 8

WRK_SCRIPT = """
paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d seconds=%%.2f p50=%%.2f p90=%%.2f p99=%%.2f max=%%.2f errors=%%d status=%%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""

#: started before the load, as a worker or a long-running script is: it publishes when told to
#: (a line on stdin) and prints the version once that has committed
PUBLISH_SCRIPT = """
import datetime, sys
from pyramid.paster import bootstrap
from sqlalchemy import select
from trucks.models import Retailer
from trucks.publishing import publish
from trucks.services import latest_schedule
with bootstrap(sys.argv[1]) as env:
    print("ready", flush=True)
    sys.stdin.readline()
    with env["request"].tm:
        db = env["request"].dbsession
        retailer = db.scalar(select(Retailer).where(Retailer.name == sys.argv[3]))
        version = publish(db, latest_schedule(db, datetime.date.fromisoformat(sys.argv[2]), retailer.id), "bench").version
    print(version, flush=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_ini(folder: Path, port: int, cache: bool) -> Path:
    """development.ini as production would run it: templates not reloaded, no broker, quiet."""
    replaced = {
        "sqlalchemy.url": f"sqlalchemy.url = sqlite:///{folder / 'bench.sqlite'}",
        "pyramid.reload_templates": "pyramid.reload_templates = false",
        "celery.broker_url": "celery.broker_url =",
        "listen": f"listen = 127.0.0.1:{port}",
        "level = INFO": "level = WARN",
        "level = DEBUG": "level = WARN",
    }
    lines = []
    for line in (ROOT / "development.ini").read_text(encoding="utf-8").splitlines():
        key = next((k for k in replaced if line.startswith(k)), None)
        lines.append(replaced[key] if key else line)
        if line.startswith("[app:main]"):
            lines.append(f"foodtrucks.committee_page_cache = {'true' if cache else 'false'}")
            # a connection for each of waitress's threads: with fewer, the pool opens and closes
            # connections beyond its size all the time under this load
            lines.append(f"sqlalchemy.pool_size = {SERVER_THREADS}")
        if line.startswith("listen"):
            lines.append(f"threads = {SERVER_THREADS}")
    path = folder / "bench.ini"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(command: list, **kw) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, **kw).stdout


def prepare(ini: Path) -> tuple[str, str, list[str], list[str]]:
    """The demo day, published; a second schedule of one retailer waiting. Returns the date,
    that retailer, every served compound's page path, and that retailer's page paths."""
    run([BIN / "foodtrucks", "initdb", str(ini), "--demo", "--time-limit", "3"])
    db = sqlite3.connect(ini.parent / "bench.sqlite")
    date, retailer = db.execute(
        "select p.date, r.name from publications p join retailers r on r.id = p.retailer_id order by r.name").fetchone()
    run([BIN / "foodtrucks", "solve", str(ini), "--date", date, "--retailer", retailer, "--time-limit", "3"])
    rows = db.execute(
        "select c.access_token, r.name from schedule_stops s join schedule_routes sr on sr.id = s.route_id "
        "join publications p on p.schedule_id = sr.schedule_id join compounds c on c.id = s.compound_id "
        "join retailers r on r.id = p.retailer_id").fetchall()
    db.close()
    return date, retailer, [f"/c/{t}" for t, _ in rows], [f"/c/{t}" for t, name in rows if name == retailer]


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the app did not answer at {url}")


def measure(args, cache: bool) -> dict:
    load_before = os.getloadavg()  # before this bench's own work
    folder = Path(tempfile.mkdtemp(prefix="committee-publish-load-"))
    port = free_port()
    ini = write_ini(folder, port, cache)
    date, retailer, paths, retailer_paths = prepare(ini)
    (folder / "paths.txt").write_text("\n".join(paths) + "\n")
    (folder / "load.lua").write_text(WRK_SCRIPT % {"paths": folder / "paths.txt"})
    publish_report: dict = {}
    base = f"http://127.0.0.1:{port}"
    server_log = open(folder / "server.log", "w")
    server = subprocess.Popen([BIN / "pserve", str(ini)], cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base + paths[0])
        for path in paths:  # every page once, as the first residents would
            urllib.request.urlopen(base + path, timeout=30).read()
        publishing = subprocess.Popen([sys.executable, "-c", PUBLISH_SCRIPT, str(ini), date, retailer], cwd=ROOT,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert publishing.stdout.readline().strip() == "ready"

        def publish_halfway():
            time.sleep(args.duration / 2)
            started = time.monotonic()
            publishing.stdin.write("go\n")
            publishing.stdin.flush()
            version = publishing.stdout.readline().strip()
            committed = time.monotonic()
            publish_report.update(version=version, seconds=committed - started)
            page = urllib.request.urlopen(base + retailer_paths[0], timeout=60).read().decode()
            publish_report.update(shown=f"第 {version} 版" in page, check_ms=(time.monotonic() - committed) * 1000)
            publishing.wait(timeout=60)

        publisher = threading.Thread(target=publish_halfway)
        publisher.start()
        out = run([WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                   "-s", str(folder / "load.lua"), base + "/"])
        publisher.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server_log.close()
        if publish_report.get("shown"):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder} (server.log) to see why the page after the publication was not checked")
    fields = dict(re.findall(r"(\w+)=([\d.]+)", out.split("RESULT", 1)[1]))
    return {
        "cache": cache, "pages": len(paths), "requests": int(fields["requests"]),
        "rps": int(fields["requests"]) / float(fields["seconds"]), "p50": float(fields["p50"]),
        "p90": float(fields["p90"]), "p99": float(fields["p99"]), "max": float(fields["max"]),
        "errors": int(fields["errors"]) + int(fields["status"]), "publish": publish_report,
        "changed": len(retailer_paths), "load": (load_before, os.getloadavg()),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--no-cache", action="store_true", help="also measure with the page cache off")
    args = parser.parse_args(argv)
    rows = [measure(args, cache=True)] + ([measure(args, cache=False)] if args.no_cache else [])
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s on loopback, "
          f"{rows[0]['pages']} committee pages at random, a publication halfway that changes "
          f"{rows[0]['changed']} of them\n")
    print("| page cache | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | v2 shown right after commit "
          "| load average (1, 5, 15 min) before / after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p = r["publish"]
        shown = (f"{'yes' if p.get('shown') else 'NO'} (version {p.get('version')}, published in "
                 f"{p.get('seconds', 0):.2f} s, page {p.get('check_ms', 0):.0f} ms after the commit)")
        print(f"| {'on' if r['cache'] else 'off'} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} "
              f"| {r['max']:.1f} | {r['errors']} | {shown} | "
              f"{' ; '.join(' / '.join(f'{x:.2f}' for x in load) for load in r['load'])} |")


if __name__ == "__main__":
    main()
