"""A Celery worker of the app: ``foodtrucks worker INI`` runs ``worker_main`` of the app's Celery
app (the ini's broker), with one solve per core by default and the recovery of abandoned runs
on the worker's timer."""
from __future__ import annotations

import logging

from celery import bootsteps
from celery.signals import worker_process_init

from . import solving
from .tasks import get_task

log = logging.getLogger("foodtrucks.worker")

#: how often each worker looks for runs whose heartbeat went stale (at most; see below)
RECOVERY_INTERVAL_SECONDS = 10.0


class RecoverAbandonedRuns(bootsteps.StartStopStep):
    """Every few seconds, in the worker's main process: queue again (or fail) the runs whose
    worker died, and send again the queued runs whose message may have died with it."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **options):
        super().__init__(worker, **options)
        self.timer_entry = None

    def start(self, worker):
        registry = worker.app.pyramid_registry
        dead_after = solving.dead_after(registry.settings)
        send = get_task(worker.app, solving.solve_run).delay

        def recover():
            try:
                solving.recover_abandoned_runs(registry["dbsession_factory"], dead_after, send)
            except Exception:  # the next round tries again; the worker must go on
                log.exception("could not recover abandoned solve runs")

        interval = min(RECOVERY_INTERVAL_SECONDS, dead_after / 2)
        self.timer_entry = worker.timer.call_repeatedly(interval, recover, priority=10)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()


def run_worker(registry, *, concurrency: int | None = None, name: str | None = None, pool: str = "prefork") -> None:
    """Runs a worker until it is stopped (Ctrl-C or SIGTERM: a warm shutdown)."""
    app = registry["celery.app"]
    app.steps["worker"].add(RecoverAbandonedRuns)
    engine = registry["dbsession_factory"].kw["bind"]

    @worker_process_init.connect(weak=False)
    def forget_parent_connections(**_):
        # a forked pool process must not share the parent's database connections
        engine.dispose(close=False)

    argv = ["worker", "--loglevel=INFO", f"--pool={pool}",
            f"--concurrency={concurrency or app.conf.worker_concurrency}"]
    if name:
        argv.append(f"--hostname={name}")
    app.worker_main(argv)
