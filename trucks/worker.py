"""A Celery worker of the app: ``foodtrucks worker INI`` runs ``worker_main`` of the app's Celery
app (the ini's broker), with one solve per core it may use by default; on the worker's timer it recovers
abandoned runs and sends again the committee messages whose task was lost."""
from __future__ import annotations

import logging
import os

from celery import bootsteps
from celery.signals import worker_process_init

from . import messages, solving
from .tasks import get_task

log = logging.getLogger("foodtrucks.worker")

#: how much lower than the web server's the CPU priority of a worker's pool processes is (Unix
#: niceness, ``foodtrucks.worker_niceness``): on a machine that also serves the committee pages a
#: solve yields the CPU to requests (``bench.committee_load``: two solves on two cores at the
#: same priority made the page's p99 2.9 and 4.4 times its idle figure, niced 10 2.3 times, 19
#: no better: 2.5). Niceness alone cannot keep the page's p99: even a solve that runs only when
#: a core is idle slows requests on the other (2-core machine: 2.1x), so on the machine of the
#: web server the solves are best kept off one core as well (``foodtrucks.worker_cpus``).
DEFAULT_NICENESS = 10
#: how often each worker looks for runs whose heartbeat went stale (at most; see below)
RECOVERY_INTERVAL_SECONDS = 10.0
#: how often each worker queues the committee messages that are due (a retry whose task was
#: lost with a broker or a worker goes out at the latest this long after it fell due)
DUE_MESSAGES_INTERVAL_SECONDS = 60.0


class Housekeeping(bootsteps.StartStopStep):
    """In the worker's main process: every few seconds, queue again (or fail) the runs whose
    worker died and send again the queued runs whose message may have died with it; every
    minute, queue the committee messages that are due."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **options):
        super().__init__(worker, **options)
        self.timer_entries = []

    def start(self, worker):
        registry = worker.app.pyramid_registry
        dead_after = solving.dead_after(registry.settings)
        send = get_task(worker.app, solving.solve_run).delay

        def recover():
            try:
                solving.recover_abandoned_runs(registry["dbsession_factory"], dead_after, send)
            except Exception:  # the next round tries again; the worker must go on
                log.exception("could not recover abandoned solve runs")

        def send_due_messages():
            try:
                get_task(worker.app, messages.send_due_messages).delay()
            except Exception:  # a broker that is down now is tried again next round
                log.exception("could not queue the due committee messages")

        interval = min(RECOVERY_INTERVAL_SECONDS, dead_after / 2)
        self.timer_entries = [
            worker.timer.call_repeatedly(interval, recover, priority=10),
            worker.timer.call_repeatedly(DUE_MESSAGES_INTERVAL_SECONDS, send_due_messages, priority=10),
        ]

    def stop(self, worker):
        for entry in self.timer_entries:
            entry.cancel()


def worker_cpus(settings) -> frozenset[int]:
    """The CPUs a worker's solves run on: ``foodtrucks.worker_cpus`` ("1", "1-3", "1,3"; on
    the web server's machine, all but the first leaves that one to the pages), by default every
    CPU this process may use."""
    allowed = os.sched_getaffinity(0)
    text = (settings.get("foodtrucks.worker_cpus") or "").strip()
    if not text:
        return frozenset(allowed)
    chosen: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            chosen.update(range(int(first), int(last or first) + 1))
        except ValueError:
            raise ValueError(f"foodtrucks.worker_cpus = {text!r}: write CPU numbers and ranges, "
                             "such as 1-3,5") from None
    if not chosen & allowed:
        raise ValueError(f"foodtrucks.worker_cpus = {text!r}: none of these CPUs is available "
                         f"here (this machine has {', '.join(map(str, sorted(allowed)))})")
    return frozenset(chosen & allowed)


def step_aside(settings) -> tuple[int, frozenset[int]]:
    """Makes this process (a pool process, and the piece processes it forks) leave the CPU to
    the web server: a lower priority and, where set, other CPUs than the server's. Returns the
    niceness and the CPUs it now has."""
    os.sched_setaffinity(0, worker_cpus(settings))
    wanted = int(settings.get("foodtrucks.worker_niceness", DEFAULT_NICENESS))
    current = os.nice(0)
    niceness = os.nice(wanted - current) if wanted > current else current
    return niceness, frozenset(os.sched_getaffinity(0))


def run_worker(registry, *, concurrency: int | None = None, name: str | None = None, pool: str = "prefork") -> None:
    """Runs a worker until it is stopped (Ctrl-C or SIGTERM: a warm shutdown)."""
    app = registry["celery.app"]
    cpus = worker_cpus(registry.settings)
    concurrency = concurrency or int(registry.settings.get("celery.worker_concurrency") or 0) or len(cpus)
    app.steps["worker"].add(Housekeeping)
    engine = registry["dbsession_factory"].kw["bind"]

    @worker_process_init.connect(weak=False)
    def forget_parent_connections(**_):
        # a forked pool process must not share the parent's database connections
        engine.dispose(close=False)
        step_aside(registry.settings)

    argv = ["worker", "--loglevel=INFO", f"--pool={pool}",
            f"--concurrency={concurrency}"]
    if name:
        argv.append(f"--hostname={name}")
    app.worker_main(argv)
