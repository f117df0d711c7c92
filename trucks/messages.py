"""Messages pushed to the committees' group chats: WeCom and DingTalk robots, or plain JSON.

When a version is published, each compound of it that has a webhook gets a message; when a
driver's report moves a compound's estimated window by 15 minutes or more from what it was last
told, it gets another. Each message is a ``MessageDelivery`` row, unique per (compound, date,
version, kind): a second queueing, a retry or a second worker can never make a second message
with the same key, and the key goes to plain-JSON receivers as the ``Idempotency-Key`` header.

``deliver`` is one attempt over a row: it claims the row with a conditional UPDATE (which holds
the row until its transaction ends, so a second worker waits, then finds it taken), sends,
and records sent, retrying (exponential backoff) or failed with the receiver's answer. The
Celery tasks at the bottom wrap it. A webhook URL is a secret: it is shown masked, never
logged, never exported, never stored in a delivery. Only http(s), and no loopback or private
addresses unless ``foodtrucks.webhooks_allow_private = true``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from .live import compound_day, driver_route, service_window
from .models import (
    Compound,
    DeliveryStatus,
    MessageDelivery,
    Publication,
    Schedule,
    ScheduleRoute,
    ScheduleStop,
    StopEvent,
    Truck,
    utcnow,
)
from .tasks import task
from .webhooks import WebhookError, WebhookKind, WebhookSettings, check_target

log = logging.getLogger("foodtrucks.messages")

#: how far an estimate must move from what the committee was last told for a new message
MOVE_MINUTES = 15
MAX_ATTEMPTS = 5
FIRST_RETRY = dt.timedelta(seconds=30)  # then 60, 120, 240 s
MAX_ANSWER_LENGTH = 500


# --------------------------------------------------------------------------- queueing


def _queue(session: Session, compound_id: int, date: dt.date, retailer_id: int, version: int, kind: str,
           start: dt.datetime) -> int | None:
    """A delivery row, unless the key exists already (then nothing: that message is on its way)."""
    connection = session.connection()
    exists = connection.execute(select(MessageDelivery.id).where(
        MessageDelivery.compound_id == compound_id, MessageDelivery.date == date,
        MessageDelivery.version == version, MessageDelivery.kind == kind)).first()
    if exists is not None:
        return None
    return connection.execute(insert(MessageDelivery).values(
        compound_id=compound_id, date=date, retailer_id=retailer_id, version=version, kind=kind,
        start=start, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
        last_answer="", created_at=utcnow())).inserted_primary_key[0]


def queue_publication(session: Session, publication: Publication) -> list[int]:
    """A ``published`` message for every compound of the version that has a webhook."""
    rows = session.execute(
        select(ScheduleStop.compound_id, ScheduleStop.start)
        .join(ScheduleRoute, ScheduleStop.route_id == ScheduleRoute.id)
        .join(Compound, Compound.id == ScheduleStop.compound_id)
        .where(ScheduleRoute.schedule_id == publication.schedule_id, Compound.webhook_url != "")
    ).all()
    queued = [_queue(session, compound_id, publication.date, publication.retailer_id, publication.version,
                     "published", start) for compound_id, start in rows]
    return [i for i in queued if i is not None]


def _last_told(session: Session, compound_id: int, date: dt.date, version: int) -> dt.datetime | None:
    return session.execute(
        select(MessageDelivery.start)
        .where(MessageDelivery.compound_id == compound_id, MessageDelivery.date == date,
               MessageDelivery.version == version)
        .order_by(MessageDelivery.id.desc()).limit(1)
    ).scalar()


def queue_moved_estimates(session: Session, truck: Truck, date: dt.date) -> list[int]:
    """An ``estimate-HHMM`` message (HH:MM the new window) for each compound of the truck's
    route whose estimated service start is now 15 minutes or more from the one it was last told
    (the published one when nothing was sent for this version)."""
    route = driver_route(session, truck, date)
    if route is None:
        return []
    queued = []
    for stop in route.stops:
        compound = session.scalar(select(Compound).where(Compound.code == stop.compound_code))
        if not compound.webhook_url:
            continue
        told = _last_told(session, compound.id, date, route.version) or stop.start
        estimated = stop.estimate.start
        if abs((estimated - told).total_seconds()) >= MOVE_MINUTES * 60:
            delivery = _queue(session, compound.id, date, truck.retailer_id, route.version,
                              f"estimate-{service_window(estimated)[0]:%H%M}", estimated)
            if delivery is not None:
                queued.append(delivery)
    return queued


@event.listens_for(Session, "after_flush")
def _queue_on_publication_and_driver_reports(session: Session, _flush_context) -> None:
    """Whoever publishes or records a driver's report (page, API, command line, worker), the
    messages are queued in the same transaction and sent once it commits."""
    queued = []
    for obj in list(session.new):
        if isinstance(obj, Publication):
            queued += queue_publication(session, obj)
    stop_ids = [e.stop_id for e in list(session.new) if isinstance(e, StopEvent)]
    if stop_ids:
        routes = session.execute(
            select(ScheduleRoute.truck_id, Schedule.date).distinct()
            .join(ScheduleStop, ScheduleStop.route_id == ScheduleRoute.id)
            .join(Schedule, Schedule.id == ScheduleRoute.schedule_id)
            .where(ScheduleStop.id.in_(stop_ids))).all()
        for truck_id, date in routes:
            queued += queue_moved_estimates(session, session.get(Truck, truck_id), date)
    request = session.info.get("request")
    if queued and request is not None:  # a web request, a script's or a worker's: send after commit
        for delivery_id in queued:
            request.task(deliver_message).delay(delivery_id)


# --------------------------------------------------------------------------- the message


LINES = {
    "published": (
        "【{name}】{date} 保供车预计 {window} 开始供应，约 {minutes} 分钟。供应商：{retailer} · 车牌：{plate}。物资：{goods_zh}。（第 {version} 版排班）",
        "{date}: the food truck starts serving at {window}, for about {minutes} minutes. Retailer: {retailer} · plate: {plate}. Goods: {goods_en}. (schedule version {version})",
    ),
    "estimate": (
        "【{name}】最新：司机报告了实际进度，现预计 {window} 开始供应。供应商：{retailer} · 车牌：{plate}。物资：{goods_zh}。",
        "Update: from the driver's reports the truck is now expected to start serving at {window}. Retailer: {retailer} · plate: {plate}. Goods: {goods_en}.",
    ),
}


def build_payload(session: Session, delivery: MessageDelivery) -> dict:
    """The message's facts and its two lines (Chinese, then the English the page shows)."""
    compound = delivery.compound
    day = compound_day(session, compound, delivery.date)
    estimate = delivery.kind.startswith("estimate")
    start, end = service_window(delivery.start)
    goods = [g.as_json() for g in day.goods]
    values = {
        "name": compound.name, "date": delivery.date.isoformat(), "window": f"{start:%H:%M}–{end:%H:%M}",
        "minutes": day.stay_minutes or 0, "retailer": day.retailer, "plate": day.plate, "version": delivery.version,
        "goods_zh": "、".join(f"{g['name_zh']} {g['quantity']}" for g in goods) or "—",
        "goods_en": ", ".join(f"{g['name_en']} {g['quantity']}" for g in goods) or "—",
    }
    zh, en = (line.format(**values) for line in LINES["estimate" if estimate else "published"])
    return {
        "compound_id": compound.code, "date": delivery.date.isoformat(), "version": delivery.version,
        "kind": delivery.kind, "window_start": start.isoformat(timespec="minutes"),
        "window_end": end.isoformat(timespec="minutes"), "goods": goods, "retailer": day.retailer,
        "plate": day.plate, "text": f"{zh}\n{en}",
    }


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict


def outgoing(compound: Compound, delivery: MessageDelivery, now_ms: int | None = None) -> Outgoing:
    """The HTTP request for the compound's kind of robot."""
    payload = delivery.payload
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = compound.webhook_url
    if compound.webhook_kind == WebhookKind.JSON:
        body = {key: payload[key] for key in ("compound_id", "date", "version", "kind", "window_start",
                                              "window_end", "goods", "retailer", "plate", "text")}
        headers["Idempotency-Key"] = delivery.idempotency_key
    else:
        body = {"msgtype": "text", "text": {"content": payload["text"]}}
        if compound.webhook_kind == WebhookKind.DINGTALK and compound.webhook_secret:
            url = dingtalk_signed(url, compound.webhook_secret, now_ms if now_ms is not None else int(time.time() * 1000))
    return Outgoing(url, json.dumps(body, ensure_ascii=False).encode("utf-8"), headers)


def dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signing: ``&timestamp=T&sign=urlencode(base64(HMAC-SHA256(secret, "T\\nsecret")))``."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def http_post(request: Outgoing, timeout: float) -> tuple[int, str]:
    """Status and body of the answer; no redirects are followed (they could lead anywhere)."""

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirects)
    http_request = urllib.request.Request(request.url, data=request.body, headers=request.headers, method="POST")
    try:
        with opener.open(http_request, timeout=timeout) as answer:
            return answer.status, answer.read(MAX_ANSWER_LENGTH * 4).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_ANSWER_LENGTH * 4).decode("utf-8", "replace")


def _accepted(kind: str, status: int, answer: str) -> bool:
    """2xx, and for the robots also ``errcode`` 0 in the answer (they say 200 to a bad key)."""
    if not 200 <= status < 300:
        return False
    if kind == WebhookKind.JSON:
        return True
    try:
        return json.loads(answer).get("errcode") == 0
    except (ValueError, AttributeError):
        return False


# --------------------------------------------------------------------------- delivering


def retry_delay(attempts: int) -> dt.timedelta:
    """After the n-th failed attempt: 30 s, 60 s, 120 s, 240 s."""
    return FIRST_RETRY * 2 ** (attempts - 1)


def deliver(session: Session, delivery_id: int, settings: WebhookSettings, *, now: dt.datetime | None = None,
            post=http_post) -> MessageDelivery | None:
    """One attempt; None when the row is not due or another worker holds or finished it."""
    now = now or utcnow()
    claimed = session.execute(
        update(MessageDelivery)
        .where(MessageDelivery.id == delivery_id,
               MessageDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
               MessageDelivery.next_attempt_at <= now)
        .values(attempts=MessageDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    delivery = session.get(MessageDelivery, delivery_id)
    session.refresh(delivery)
    compound = delivery.compound
    if not compound.webhook_url:
        return _record(delivery, now, ok=False, answer="the compound has no webhook any more", final=True)
    if delivery.payload is None:
        delivery.payload = build_payload(session, delivery)
    request = outgoing(compound, delivery)
    try:
        check_target(request.url, settings.allow_private)
        status, answer = post(request, settings.timeout_seconds)
    except WebhookError as refused:
        return _record(delivery, now, ok=False, answer=str(refused), final=True)
    except (OSError, ValueError) as error:  # refused, unreachable, timed out, bad answer
        return _record(delivery, now, ok=False, answer=_without(compound, f"{type(error).__name__}: {error}"))
    ok = _accepted(compound.webhook_kind, status, answer)
    return _record(delivery, now, ok=ok, answer=_without(compound, f"{status} {answer}".strip()))


def _without(compound: Compound, text: str) -> str:
    """The receiver's answer as kept and shown: never the secret URL or signing secret."""
    for secret in (compound.webhook_url, compound.webhook_secret):
        if secret:
            text = text.replace(secret, "…")
    return text[:MAX_ANSWER_LENGTH]


def _record(delivery: MessageDelivery, now: dt.datetime, *, ok: bool, answer: str, final: bool = False) -> MessageDelivery:
    delivery.last_answer = answer
    if ok:
        delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    log.info("message %s to compound %s: %s after %d attempt(s)", delivery.kind, delivery.compound_id,
             delivery.status, delivery.attempts)  # never the URL
    return delivery


def due_deliveries(session: Session, now: dt.datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(session.scalars(
        select(MessageDelivery.id)
        .where(MessageDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
               MessageDelivery.next_attempt_at <= now)
        .order_by(MessageDelivery.next_attempt_at)))


def delivery_log(session: Session, compound: Compound, limit: int = 50) -> list[MessageDelivery]:
    return list(session.scalars(
        select(MessageDelivery).where(MessageDelivery.compound_id == compound.id)
        .order_by(MessageDelivery.id.desc()).limit(limit)))


# --------------------------------------------------------------------------- tasks


@task()
def deliver_message(request, delivery_id: int) -> None:
    """One attempt; a retry is sent again with its backoff as countdown once this one commits."""
    delivery = deliver(request.dbsession, delivery_id, WebhookSettings.from_settings(request.registry.settings))
    if delivery is not None and delivery.status == DeliveryStatus.RETRYING:
        countdown = (delivery.next_attempt_at - utcnow()).total_seconds()
        request.task(deliver_message).apply_async(args=[delivery_id], countdown=max(countdown, 0))


@task()
def send_due_messages(request) -> None:
    """Every due delivery again (run it every minute: a lost task or a restart loses nothing)."""
    for delivery_id in due_deliveries(request.dbsession):
        request.task(deliver_message).delay(delivery_id)
