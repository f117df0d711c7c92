"""Background work as Celery tasks, the way pypi/warehouse's ``tasks.py`` does it.

A task sent while a request (or a script's ``with request.tm:``) has a transaction open goes to
the broker in that transaction's after-commit hook, and only if it committed: a worker never
looks for a row that was rolled back. Outside a transaction it goes at once. On the worker each
task runs inside a request of its own (``pyramid.scripting.prepare``) and ``with request.tm:``,
and is retried when the database says the transaction may be retried (pyramid_retry).

Messages are JSON and carry ids only; what a task works on is in the database. Tasks are
acknowledged after they ran (``acks_late``) and given back when their worker dies
(``task_reject_on_worker_lost``), so a task must be idempotent: a second delivery is a no-op.

Settings (the ini's ``[app:main]``):

- ``celery.broker_url``: ``redis://…``, ``amqp://…`` or ``filesystem:///DIR`` (the embedded
  broker: a folder of message files, no server). Empty: every task runs in the sending process.
- ``celery.always_eager``: run tasks in the sending process even with a broker (unit tests).
- ``celery.queue``: the queue's name, when several apps share one broker.
- ``celery.visibility_timeout``: seconds after which Redis gives an unacknowledged task to
  another worker; keep it above the longest task.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import celery
import pyramid.scripting
import pyramid_retry
import transaction
import venusian
from pyramid.threadlocal import get_current_request

#: venusian category of ``@task`` functions; ``trucks.includeme`` scans for it
TASK_CATEGORY = "foodtrucks.tasks"
#: Redis's default (one hour) is kept: above the longest solve production.ini allows
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 3600
#: the queue tasks go to and workers take them from (``celery.queue``: apps sharing a broker)
DEFAULT_QUEUE = "foodtrucks"
#: how often the embedded broker's consumers look for new message files
FILESYSTEM_POLLING_SECONDS = 0.2


class RequestTask(celery.Task):
    """A task whose function gets a Pyramid request as its first argument and runs in its
    transaction; sent from inside a transaction, it leaves only once that transaction commits."""

    def __new__(cls, *args, **kwargs):
        task = super().__new__(cls, *args, **kwargs)
        if getattr(task, "__header__", None) is not None:
            # Celery checks the arguments sent against the function's signature: the request is
            # the function's first parameter but never sent
            task.__header__ = functools.partial(task.__header__, object())
        return task

    def __call__(self, *args, **kwargs):
        request = self.get_request()
        try:
            with request.tm:
                return super().__call__(request, *args, **kwargs)
        except Exception as exc:
            if (isinstance(exc, (pyramid_retry.RetryableException, transaction.interfaces.TransientError))
                    or pyramid_retry.IRetryableError.providedBy(exc)):
                raise self.retry(exc=exc) from exc
            raise

    def get_request(self):
        """The request this task execution runs in, made once per execution."""
        if not hasattr(self.request, "pyramid_env"):
            env = pyramid.scripting.prepare(registry=self.app.pyramid_registry)
            env["request"].tm = transaction.TransactionManager(explicit=True)
            self.request.update(pyramid_env=env)
        return self.request.pyramid_env["request"]

    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        env = getattr(self.request, "pyramid_env", None)
        if env is not None:
            env["request"]._process_finished_callbacks()
            env["closer"]()

    def apply_async(self, args=None, kwargs=None, **options):
        """Sends now, or in the after-commit hook of the current request's open transaction."""
        request = get_current_request()
        txn = _open_transaction(request)
        if txn is None:
            return super().apply_async(args, kwargs, **options)
        txn.addAfterCommitHook(self._send_if_committed, args=(args, kwargs), kws=options)
        return None

    def send_now(self, *args, **kwargs):
        """Sends at once even inside a transaction: for a task the sender waits for (the pieces
        of a day its own task is solving)."""
        return super().apply_async(args, kwargs)

    def _send_if_committed(self, committed: bool, args, kwargs, **options) -> None:
        if committed:
            super().apply_async(args, kwargs, **options)


def _open_transaction(request):
    """The request's open transaction, or None (no request, or a script between transactions)."""
    manager = getattr(request, "tm", None) if request is not None else None
    if manager is None:
        return None
    try:
        return manager.get()
    except transaction.interfaces.NoTransaction:
        return None


def task(**options) -> Callable:
    """Marks ``function(request, ...)`` as a task of the app's Celery app once scanned."""
    options.setdefault("shared", False)

    def attach(function):
        def register(scanner, name, wrapped):
            scanner.config.registry["celery.app"].task(**options)(wrapped)

        venusian.attach(function, register, category=TASK_CATEGORY)
        return function

    return attach


def get_task(celery_app: celery.Celery, function: Callable) -> celery.Task:
    return celery_app.tasks[celery_app.gen_task_name(function.__name__, function.__module__)]


def has_broker(registry) -> bool:
    """Whether tasks go to workers (a broker is configured and tasks are not run eagerly)."""
    return not registry["celery.app"].conf.task_always_eager


def broker_options(url: str) -> dict:
    """Celery settings a broker URL needs: the embedded broker's folders, Redis's timeout."""
    scheme = urlparse(url).scheme
    if scheme == "filesystem":
        folder = Path(urlparse(url).path or "foodtrucks-broker")
        for sub in ("queue", "control", "processed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {"broker_url": "filesystem://localhost//", "broker_transport": "trucks.broker:Transport",
                "broker_transport_options": {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            # consumed files are moved here first: a rename in one folder, so no two consumers
            # take the same message (the default, the system's temp folder, may need a copy)
            "store_processed": True,
            "processed_folder": str(folder / "processed"),
            "polling_interval": FILESYSTEM_POLLING_SECONDS,
        }}
    return {"broker_url": url, "broker_transport_options": {}}


def _is_true(value) -> bool:
    return str(value or "").strip().lower() in ("true", "yes", "on", "1")


def make_celery_app(settings) -> celery.Celery:
    url = (settings.get("celery.broker_url") or "").strip()
    eager = _is_true(settings.get("celery.always_eager")) or not url
    app = celery.Celery("foodtrucks", autofinalize=False, set_as_current=False)
    conf = broker_options(url) if url else {"broker_url": "memory://", "broker_transport_options": {}}
    conf["broker_transport_options"].setdefault("visibility_timeout", int(
        settings.get("celery.visibility_timeout") or DEFAULT_VISIBILITY_TIMEOUT_SECONDS))
    app.conf.update(
        conf,
        accept_content=["json"],
        task_serializer="json",
        result_serializer="json",
        task_ignore_result=True,  # results live in the database
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_always_eager=eager,
        task_eager_propagates=False,
        task_default_queue=settings.get("celery.queue") or DEFAULT_QUEUE,
        worker_prefetch_multiplier=1,  # a long task does not hold others back on its worker
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    app.Task = RequestTask
    return app


def includeme(config) -> None:
    """``config.registry["celery.app"]``, ``config.task(f)`` and ``request.task(f)``."""
    app = make_celery_app(config.get_settings())
    app.pyramid_registry = config.registry
    config.registry["celery.app"] = app
    config.action(("celery", "finalize"), app.finalize)
    config.add_directive("task", lambda config, function: get_task(app, function), action_wrap=False)
    config.add_request_method(lambda request: functools.partial(get_task, app), name="task", reify=True)
