"""The task base: sent after commit only, run in a request of its own, JSON and late acks."""
from __future__ import annotations

from queue import Empty

import pytest
import transaction
from kombu.utils.json import dumps as kombu_dumps
from pyramid.config import Configurator
from pyramid.paster import get_appsettings
from pyramid.scripting import prepare
from sqlalchemy import select

from tests.conftest import HERE, app_settings_for
from trucks import broker
from trucks.models import Retailer
from trucks.tasks import TASK_CATEGORY, broker_options, has_broker, task

#: what the eager tasks below saw, in order
SEEN: list = []


@task()
def record(request, name: str) -> None:
    """Stores a retailer called ``name`` in the task's own transaction."""
    SEEN.append(name)
    request.dbsession.add(Retailer(name=name))


@task()
def record_then_fail(request, name: str) -> None:
    SEEN.append(name)
    request.dbsession.add(Retailer(name=name))
    raise RuntimeError("the task failed after writing")


@pytest.fixture
def registry(file_database):
    """An app's registry on a committed SQLite file, with this module's tasks scanned."""
    SEEN.clear()
    with Configurator(settings=app_settings_for(file_database)) as config:
        config.include("trucks")
        config.scan("tests.trucks.test_tasks", categories=(TASK_CATEGORY,))
    yield config.registry
    config.registry["dbsession_factory"].kw["bind"].dispose()


def names(registry) -> set[str]:
    with registry["dbsession_factory"]() as session:
        return set(session.scalars(select(Retailer.name)))


def test_a_task_sent_in_a_transaction_leaves_only_after_it_commits(registry):
    env = prepare(registry=registry)
    request = env["request"]
    with request.tm:
        request.dbsession.add(Retailer(name="sender"))
        request.task(record).delay("sent-in-transaction")
        assert SEEN == []  # not yet: the row it may look for is not committed
    assert SEEN == ["sent-in-transaction"]
    assert names(registry) == {"sender", "sent-in-transaction"}
    env["closer"]()


def test_a_task_sent_in_an_aborted_transaction_never_leaves(registry):
    env = prepare(registry=registry)
    request = env["request"]
    request.tm.begin()
    request.task(record).delay("aborted")
    request.tm.abort()
    assert SEEN == [] and names(registry) == set()
    env["closer"]()


def test_outside_a_transaction_a_task_leaves_at_once(registry):
    registry["celery.app"].tasks[record.__module__ + ".record"].delay("no-transaction")
    assert SEEN == ["no-transaction"] and names(registry) == {"no-transaction"}


def test_a_failing_task_keeps_none_of_its_writes(registry):
    env = prepare(registry=registry)
    env["request"].task(record_then_fail).delay("half-done")
    assert SEEN == ["half-done"] and names(registry) == set()
    env["closer"]()


def test_tasks_are_json_acknowledged_late_and_given_back_when_their_worker_dies(registry):
    conf = registry["celery.app"].conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_always_eager and not has_broker(registry)  # testing.ini: no broker


@pytest.mark.parametrize("ini, scheme", [
    ("development.ini", "filesystem"), ("production.ini", "redis"), ("testing.ini", None)])
def test_each_ini_names_its_broker(ini, scheme, tmp_path, monkeypatch):
    url = get_appsettings(str(HERE.parent / ini)).get("celery.broker_url", "")
    if scheme is None:
        assert url == ""
        return
    assert url.startswith(f"{scheme}://")
    if scheme == "filesystem":  # the embedded broker: its folders are made beside the ini
        url = f"filesystem://{tmp_path}/broker"
    options = broker_options(url)
    assert options["broker_url"].startswith(f"{scheme}://")
    if scheme == "filesystem":
        folders = options["broker_transport_options"]
        assert folders["data_folder_in"] == folders["data_folder_out"] == str(tmp_path / "broker" / "queue")
        assert (tmp_path / "broker" / "processed").is_dir()


def test_the_visibility_timeout_is_the_ini_s(file_database):
    settings = app_settings_for(file_database)
    settings.update({"celery.broker_url": "redis://127.0.0.1:6379/0", "celery.always_eager": "false",
                     "celery.visibility_timeout": "7200"})
    with Configurator(settings=settings) as config:
        config.include("trucks")
    conf = config.registry["celery.app"].conf
    assert conf.broker_transport_options["visibility_timeout"] == 7200
    assert has_broker(config.registry)
    config.registry["dbsession_factory"].kw["bind"].dispose()


def test_a_script_sends_at_once_between_its_transactions(registry):
    env = prepare(registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.task(record).delay("between")
    assert SEEN == ["between"]
    env["closer"]()


def test_the_embedded_broker_never_shows_a_consumer_a_half_written_message(tmp_path, file_database, monkeypatch):
    """A message becomes visible in the queue folder only once written in full: a consumer that
    polls while it is written finds nothing (kombu's own transport showed it an empty file, and
    the JSON error stopped the worker), and then takes it whole."""
    settings = app_settings_for(file_database)
    settings.update({"celery.broker_url": f"filesystem://{tmp_path}/broker", "celery.always_eager": "false"})
    with Configurator(settings=settings) as config:
        config.include("trucks")
    polled_while_written = []

    def dumps_while_a_consumer_polls(payload):
        with pytest.raises(Empty):
            channel._get("q")
        polled_while_written.append(payload)
        return kombu_dumps(payload)

    monkeypatch.setattr(broker, "dumps", dumps_while_a_consumer_polls)
    with config.registry["celery.app"].connection_for_write() as connection:
        channel = connection.default_channel
        channel._put("q", {"body": "whole"})
        assert polled_while_written == [{"body": "whole"}]
        assert channel._get("q") == {"body": "whole"}
        assert not list((tmp_path / "broker" / "queue").iterdir())
    config.registry["dbsession_factory"].kw["bind"].dispose()
