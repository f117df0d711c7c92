"""Solves on real worker processes: solved, survived a kill -9, redelivered without effect,
cancelled. Small days and time limits of a few seconds; every wait has a stated bound."""
from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from tests.workers.conftest import (
    BIN,
    DAY,
    DEAD_AFTER_SECONDS,
    WORKER_START_SECONDS,
    answers,
    import_demo_day,
    wait_for,
)
from trucks.models import SolveRun, SolveRunPiece, SolveStatus
from trucks.solving import cancel_solve_run
from trucks.worker import RECOVERY_INTERVAL_SECONDS

pytestmark = pytest.mark.workers

#: a 5 s solve on this machine may take three times as long while other work runs
SOLVE_SECONDS = 45


@pytest.mark.parametrize("broker", ["filesystem", "redis", "rabbitmq"])
def test_a_run_sent_to_the_broker_is_solved_by_a_worker(site_factory, broker):
    site = site_factory(broker)
    import_demo_day(site)
    site.worker("w1")
    run_id = site.sent_run(time_limit=3)
    run = site.ended(run_id, SOLVE_SECONDS)
    assert run.status == SolveStatus.DONE, run.message
    assert run.worker.startswith("w1@test:")  # the worker's name, and its pool process
    assert run.schedule_id is not None and site.schedules() == 1


def test_the_solve_command_sends_both_retailers_to_the_workers_side_by_side(demo_site):
    site = demo_site
    site.worker("w1", concurrency=2)
    began = time.monotonic()
    command = subprocess.run([str(BIN / "foodtrucks"), "solve", str(site.ini), "--date", DAY, "--time-limit", "4"],
                             capture_output=True, text=True, timeout=120)
    took = time.monotonic() - began
    assert command.returncode == 0, command.stderr
    assert "solving on the workers (w1@test)" in command.stdout
    assert "良友: 188 served" in command.stdout and "逸刻: 162 served" in command.stdout
    assert site.schedules() == 2
    # both ran at once on the worker's two processes: their solving times overlap
    runs = [site.run(run_id) for run_id in (1, 2)]
    assert max(r.started_at for r in runs) < min(r.finished_at for r in runs), (runs, took)


def test_a_worker_killed_mid_solve_leaves_a_run_a_new_worker_finishes(demo_site):
    site = demo_site
    first = site.worker("w1")
    run_id = site.sent_run(time_limit=5)
    wait_for(lambda: site.run(run_id).progress > 0, SOLVE_SECONDS, "the solve did not begin")
    site.kill(first)  # kill -9 of the worker and its pool process
    killed_at = time.monotonic()
    assert site.run(run_id).status == SolveStatus.RUNNING
    site.worker("w2")
    bound = DEAD_AFTER_SECONDS + RECOVERY_INTERVAL_SECONDS + SOLVE_SECONDS
    run = site.ended(run_id, bound)
    took = time.monotonic() - killed_at
    assert run.status == SolveStatus.DONE and run.attempts == 2, run.message
    assert "requeued" in site.log("w2") and site.schedules() == 1
    print(f"killed mid-solve: done by the second worker {took:.1f} s after the kill")


def test_a_redelivered_finished_run_does_nothing(demo_site):
    site = demo_site
    site.worker("w1")
    done = site.ended(run_id := site.sent_run(time_limit=2), SOLVE_SECONDS)
    site.send(run_id)  # the broker delivers the same task again
    wait_for(lambda: site.log("w1").count("succeeded in") == 2, SOLVE_SECONDS, "the second delivery was not run")
    again = site.run(run_id)
    assert (again.status, again.worker, again.attempts, again.finished_at, again.schedule_id) == (
        SolveStatus.DONE, done.worker, 1, done.finished_at, done.schedule_id)
    assert site.schedules() == 1


def test_a_run_cancelled_on_a_worker_ends_cancelled_with_nothing_stored(demo_site):
    site = demo_site
    site.worker("w1")
    run_id = site.sent_run(time_limit=30)
    wait_for(lambda: site.run(run_id).progress > 0, SOLVE_SECONDS, "the solve did not begin")
    with site.sessions.begin() as session:
        assert cancel_solve_run(session, session.get(SolveRun, run_id), user="test")
    cancelled_at = time.monotonic()
    wait_for(lambda: "succeeded in" in site.log("w1"), 10, "the worker did not stop solving")
    took = time.monotonic() - cancelled_at
    run = site.run(run_id)
    assert run.status == SolveStatus.CANCELLED and site.schedules() == 0
    assert took < 3, f"the worker went on {took:.1f} s after the cancel"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """A client with a cookie jar, for a real web server on loopback."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def json(self, method: str, path: str, headers: dict | None = None) -> tuple[int, dict]:
        status, text = self.call(method, path, {} if method == "POST" else None,
                                 {"Accept": "application/json", **(headers or {})})
        return status, json.loads(text)


def test_a_web_restart_mid_solve_loses_nothing(demo_site, monkeypatch):
    site = demo_site
    subprocess.run([str(BIN / "foodtrucks"), "adduser", str(site.ini), "--role", "planner", "--username", "p-ly",
                    "--retailer", "良友", "--password", "a-long-test-password"], check=True, capture_output=True)
    port = free_port()
    text = site.ini.read_text().replace("listen = localhost:6543", f"listen = 127.0.0.1:{port}")
    site.ini.write_text(text)
    monkeypatch.setenv("FOODTRUCKS_SESSION_SECRET", "test-secret-of-the-restart-test-0123456789")
    site.worker("w1")

    def serve():
        process = subprocess.Popen([str(BIN / "pserve"), str(site.ini)], stdout=open(site.folder / "web.log", "ab"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        site.processes.append(process)
        wait_for(lambda: answers("127.0.0.1", port), WORKER_START_SECONDS, "the web server did not start")
        return process

    web = serve()
    browser = Browser(port)
    _, login_page = browser.call("GET", "/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    status, _ = browser.call("POST", "/login", {"username": "p-ly", "password": "a-long-test-password",
                                                  "csrf_token": csrf})
    assert status == 200
    _, session = browser.json("GET", "/api/session")
    status, run = browser.json("POST", f"/api/days/{DAY}/solve", {"X-CSRF-Token": session["csrf_token"]})
    assert status == 202, run
    wait_for(lambda: site.run(run["id"]).progress > 0, SOLVE_SECONDS, "the solve did not begin")
    site.kill(web)  # kill -9 of the web process mid-solve
    serve()
    final = wait_for(lambda: (r := browser.json("GET", f"/api/solve-runs/{run['id']}")[1])["finished"] and r,
                     SOLVE_SECONDS, "the run did not finish after the restart")
    assert final["status"] == SolveStatus.DONE and final["schedule_id"] is not None
    assert site.run(run["id"]).attempts == 1  # the same worker went on: nothing restarted


def test_a_large_day_s_pieces_run_on_two_workers(site_factory):
    # 良友's 188 compounds split as a large day would be: pieces of about 60 compounds
    site = site_factory("filesystem", split_above=100, piece_size=60)
    import_demo_day(site)
    site.worker("w1")
    site.worker("w2")
    run = site.ended(run_id := site.sent_run(time_limit=8), SOLVE_SECONDS)
    assert run.status == SolveStatus.DONE and "188 served" in run.message, run.message
    with site.sessions() as session:
        pieces = session.scalars(select(SolveRunPiece).where(SolveRunPiece.run_id == run_id)).all()
    assert len(pieces) >= 3 and all(p.result is not None for p in pieces)
    assert {p.worker.split(":")[0] for p in pieces} == {"w1@test", "w2@test"}
    assert sorted(c for p in pieces for c in p.compound_ids) == sorted(set(c for p in pieces for c in p.compound_ids))
