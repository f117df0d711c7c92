"""Messages to the committees' group robots, against a real HTTP receiver on loopback."""
from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import transaction
from pyramid.scripting import prepare
from sqlalchemy import select

from tests.conftest import app_settings_for
from tests.factories import make_csv_files
from tests.fieldday import FIRST_PLAN, make_schedule, republish
from tests.receiver import Receiver
from trucks import messages, webhooks
from trucks.db import get_tm_session
from trucks.importer import ImportFailed, import_day
from trucks.live import record_stop_event
from trucks.models import Compound, DeliveryStatus, MessageDelivery, Publication, utcnow
from trucks.publishing import publish
from views import main

ALLOW = webhooks.WebhookSettings(allow_private=True, timeout_seconds=0.5)


@pytest.fixture
def receiver():
    receiver = Receiver()
    url = receiver.start()
    receiver.url = url
    yield receiver
    receiver.stop()


def deliveries(dbsession, compound=None) -> list[MessageDelivery]:
    query = select(MessageDelivery).order_by(MessageDelivery.id)
    if compound is not None:
        query = query.where(MessageDelivery.compound_id == compound.id)
    return list(dbsession.scalars(query))


def with_webhook(compound, url, kind="json", secret=""):
    compound.webhook_url, compound.webhook_kind, compound.webhook_secret = url, kind, secret


def published_with_webhook(dbsession, receiver, prefix, kind="json", secret=""):
    """A day whose first compound has a webhook before version 1 is published."""
    from tests.factories import make_day
    from tests.fieldday import PublishedDay
    from trucks.live import local_today

    day = make_day(dbsession, date=local_today(), prefix=prefix)
    with_webhook(day.compounds[0], f"{receiver.url}/hook/{prefix}?key=SECRET-{prefix}", kind, secret)
    schedule = make_schedule(dbsession, day, FIRST_PLAN)
    return PublishedDay(day, schedule, publish(dbsession, schedule, "planner"))


# --------------------------------------------------------------------------- import and checks


def test_compounds_csv_brings_webhooks_and_a_bad_one_names_row_and_column_but_not_the_url(dbsession):
    files = make_csv_files(prefix="WH")
    lines = files["compounds"].decode().splitlines()
    lines[0] += ",webhook,webhook_kind,webhook_secret"
    lines[1] += ",https://oapi.dingtalk.com/robot/send?access_token=abc,dingtalk,SECabc"
    lines[2] += ",,,"
    good = dict(files, compounds=("\n".join(lines) + "\n").encode())
    import_day(dbsession, dt.date(2022, 4, 20), good)
    first, second = dbsession.scalars(select(Compound).where(Compound.code.in_(["WH-C01", "WH-C02"])).order_by(Compound.code))
    assert (first.webhook_url, first.webhook_kind, first.webhook_secret) == (
        "https://oapi.dingtalk.com/robot/send?access_token=abc", "dingtalk", "SECabc")
    assert (second.webhook_url, second.webhook_kind) == ("", "json")
    import_day(dbsession, dt.date(2022, 4, 20), files)  # a file without the columns keeps them
    assert first.webhook_url.endswith("access_token=abc")

    lines[1] = lines[1].replace("https://oapi", "ftp://oapi")
    lines[2] = lines[2][: -3] + ",https://x.example/h,telegram,"
    with pytest.raises(ImportFailed) as failed:
        import_day(dbsession, dt.date(2022, 4, 20), dict(files, compounds=("\n".join(lines) + "\n").encode()))
    problems = [(p.row, p.column, p.code) for p in failed.value.problems]
    assert problems == [(2, "webhook", "webhook_scheme"), (3, "webhook_kind", "webhook_kind")]
    assert not any("oapi" in str(p) for p in failed.value.problems)


def test_only_public_http_targets_unless_the_ini_allows_private_ones():
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_target("http://127.0.0.1:9/hook", allow_private=False)
    assert refused.value.code == "private"
    for url in ("http://10.1.2.3/x", "http://192.168.0.5/x", "http://[::1]/x", "http://169.254.169.254/latest"):
        with pytest.raises(webhooks.WebhookError):
            webhooks.check_target(url, allow_private=False)
    webhooks.check_target("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_webhook("file:///etc/passwd", "json")
    assert refused.value.code == "scheme"
    assert webhooks.mask("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa") \
        == "https://qyapi.weixin.qq.com/…5aaa"


# --------------------------------------------------------------------------- queueing


def test_a_publication_queues_one_message_per_compound_with_a_webhook(dbsession, receiver):
    published = published_with_webhook(dbsession, receiver, "WQ1")
    compound = published.day.compounds[0]
    (queued,) = deliveries(dbsession)
    assert (queued.compound_id, queued.version, queued.kind, queued.status) == (compound.id, 1, "published", "pending")
    assert queued.start.strftime("%H:%M") == "10:37"
    assert messages.queue_publication(dbsession, published.publication) == []  # the key exists: nothing new
    republish(dbsession, published, FIRST_PLAN)
    assert [(d.version, d.kind) for d in deliveries(dbsession)] == [(1, "published"), (2, "published")]


def test_a_drivers_delay_of_15_minutes_or_more_queues_an_estimate_message(dbsession, receiver):
    published = published_with_webhook(dbsession, receiver, "WQ2")
    truck, date, stop = published.day.trucks[0], published.day.date, published.stop(0, 1)
    record_stop_event(dbsession, truck, date, stop.id, "delay", delay_minutes=10)  # 10:47: 10 minutes later
    assert [d.kind for d in deliveries(dbsession)] == ["published"]
    record_stop_event(dbsession, truck, date, stop.id, "delay", delay_minutes=25)  # starts 11:02
    assert [(d.kind, d.start.strftime("%H:%M")) for d in deliveries(dbsession)] == [
        ("published", "10:37"), ("estimate-1100", "11:02")]
    record_stop_event(dbsession, truck, date, stop.id, "delay", delay_minutes=35)  # 11:12: 10 after the told 11:02
    assert len(deliveries(dbsession)) == 2


# --------------------------------------------------------------------------- delivering


def test_json_is_delivered_once_with_the_idempotency_key(dbsession, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    published = published_with_webhook(dbsession, receiver, "WD1")
    (delivery,) = deliveries(dbsession)
    assert messages.deliver(dbsession, delivery.id, ALLOW).status == DeliveryStatus.SENT
    assert messages.deliver(dbsession, delivery.id, ALLOW) is None  # already sent: a no-op
    (got,) = receiver.received
    assert got.headers["Idempotency-Key"] == delivery.idempotency_key
    assert {k: got.body[k] for k in ("compound_id", "date", "version", "kind")} == {
        "compound_id": "WD1-C01", "date": published.day.date.isoformat(), "version": 1, "kind": "published"}
    assert (got.body["window_start"][-5:], got.body["window_end"][-5:]) == ("10:30", "10:45")
    assert {g["category"]: g["quantity"] for g in got.body["goods"]} == {"vegetables": 12, "dairy": 4}
    zh, en = got.body["text"].split("\n")
    assert "10:30–10:45 开始供应" in zh and published.day.trucks[0].plate in zh and "蔬菜 12" in zh
    assert en.startswith(f"{published.day.date}: the food truck starts serving at 10:30–10:45") and "Vegetables 12" in en
    secret = published.day.compounds[0].webhook_url
    assert secret not in caplog.text and "SECRET-WD1" not in caplog.text and "SECRET" not in delivery.last_answer


@pytest.mark.parametrize("mode", ["error", "down", "slow"])
def test_a_failing_receiver_is_retried_with_backoff_then_failed_and_logged(dbsession, receiver, mode):
    published_with_webhook(dbsession, receiver, f"WR{mode}")
    (delivery,) = deliveries(dbsession)
    if mode == "down":
        delivery.compound.webhook_url = "http://127.0.0.1:9/closed"  # the discard port: nobody listens
    receiver.mode = mode
    now = utcnow()
    waits = []
    for attempt in range(1, messages.MAX_ATTEMPTS + 1):
        if attempt > 1:  # not due before its time
            assert messages.deliver(dbsession, delivery.id, ALLOW, now=now - dt.timedelta(seconds=1)) is None
        result = messages.deliver(dbsession, delivery.id, ALLOW, now=now)
        assert result.attempts == attempt
        if attempt < messages.MAX_ATTEMPTS:
            assert result.status == DeliveryStatus.RETRYING
            waits.append((result.next_attempt_at - now).total_seconds())
            now = result.next_attempt_at
    assert waits == [30, 60, 120, 240]
    assert delivery.status == DeliveryStatus.FAILED and messages.deliver(dbsession, delivery.id, ALLOW, now=now) is None
    expected = {"error": "500", "down": "Connection refused", "slow": "timed out"}[mode]
    assert expected in delivery.last_answer
    assert len(receiver.received) == (0 if mode == "down" else messages.MAX_ATTEMPTS)


def test_wecom_needs_errcode_0_and_dingtalk_a_valid_signature(dbsession, receiver):
    published = published_with_webhook(dbsession, receiver, "WK1", kind="wecom")
    (wecom,) = deliveries(dbsession)
    receiver.mode = "errcode"
    assert messages.deliver(dbsession, wecom.id, ALLOW).status == DeliveryStatus.RETRYING
    assert "93000" in wecom.last_answer
    receiver.mode = "ok"
    assert messages.deliver(dbsession, wecom.id, ALLOW, now=wecom.next_attempt_at).status == DeliveryStatus.SENT
    assert receiver.received[-1].body["msgtype"] == "text" and "10:30–10:45" in receiver.received[-1].body["text"]["content"]
    assert "Idempotency-Key" not in receiver.received[-1].headers

    receiver.dingtalk_secret = "SEC-right"
    compound = published.day.compounds[1]
    with_webhook(compound, f"{receiver.url}/robot/send?access_token=T", "dingtalk", "SEC-wrong")
    republish(dbsession, published, FIRST_PLAN)
    signed = next(d for d in deliveries(dbsession, compound))
    assert messages.deliver(dbsession, signed.id, ALLOW).status == DeliveryStatus.RETRYING
    assert "310000" in signed.last_answer and "SEC-wrong" not in signed.last_answer
    compound.webhook_secret = "SEC-right"
    assert messages.deliver(dbsession, signed.id, ALLOW, now=signed.next_attempt_at).status == DeliveryStatus.SENT
    assert receiver.received[-1].query["access_token"] == "T" and receiver.received[-1].query["timestamp"]


def test_a_private_target_is_refused_when_the_ini_does_not_allow_it(dbsession, receiver):
    published_with_webhook(dbsession, receiver, "WP1")
    (delivery,) = deliveries(dbsession)
    result = messages.deliver(dbsession, delivery.id, webhooks.WebhookSettings(allow_private=False))
    assert result.status == DeliveryStatus.FAILED and "private" in result.last_answer
    assert receiver.received == []


# --------------------------------------------------------------------------- through the app


@pytest.fixture
def registry(file_database):
    registry = main({}, **app_settings_for(file_database)).registry
    yield registry
    registry["dbsession_factory"].kw["bind"].dispose()


def committed(registry, work):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return work(get_tm_session(registry["dbsession_factory"], manager))


def test_two_workers_never_send_twice_for_one_key(registry, receiver):
    ids = committed(registry, lambda s: [d.id for d in (published_with_webhook(s, receiver, "WT1"), deliveries(s))[1]])
    receiver.mode, receiver.delay = "slow", 0.5
    settings = webhooks.WebhookSettings(allow_private=True, timeout_seconds=5)
    outcomes = []

    def worker():
        outcomes.append(committed(registry, lambda s: getattr(messages.deliver(s, ids[0], settings), "status", None)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [None, DeliveryStatus.SENT]
    assert len(receiver.received) == 1


def test_a_publication_in_a_request_sends_through_the_task_queue_after_commit(registry, receiver):
    """testing.ini runs tasks eagerly: after the publishing transaction commits, the message goes."""
    def setup(dbsession):
        published = published_with_webhook(dbsession, receiver, "WA1")
        return published.day.date, published.day.retailer.id, published.schedule.id

    date, retailer_id, schedule_id = committed(registry, setup)
    assert len(receiver.received) == 0  # a session without a request: queued, not sent
    env = prepare(registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    with request.tm:
        from trucks.models import Schedule
        schedule = request.dbsession.get(Schedule, schedule_id)
        day = type("Day", (), {})()
        day.date, day.retailer, day.trucks = date, schedule.retailer, [r.truck for r in schedule.routes]
        day.compounds = list(request.dbsession.scalars(select(Compound).where(Compound.code.like("WA1-%")).order_by(Compound.code)))
        publish(request.dbsession, make_schedule(request.dbsession, day, FIRST_PLAN), "planner")
        assert receiver.received == []  # not before the commit
    env["closer"]()
    assert [r.body["version"] for r in receiver.received] == [2]
    status = committed(registry, lambda s: [(d.version, d.status) for d in deliveries(s)])
    assert status == [(1, "pending"), (2, "sent")]
    versions = committed(registry, lambda s: s.scalars(select(Publication.version)).all())
    assert sorted(versions) == [1, 2]
