"""Login attempt limiting, kept in the ``login_attempts`` table so every process sees it.

Failures are counted per username and per client address over a sliding window. Past the
limit a login is refused before the password is even checked, so guessing stops paying off;
the refusal says how long until the oldest counted failure leaves the window.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import LoginAttempt, utcnow

WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20

_USERNAME_LENGTH = LoginAttempt.__table__.c.username.type.length
_ADDRESS_LENGTH = LoginAttempt.__table__.c.remote_addr.type.length


@dataclass(frozen=True)
class Refusal:
    """A login refused for too many recent failures, and when it may be tried again."""

    retry_after: dt.timedelta

    @property
    def seconds(self) -> int:
        """Whole seconds to wait, rounded up (at least 1), for the Retry-After header."""
        return max(1, math.ceil(self.retry_after.total_seconds()))

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, rounded up (at least 1), for the message."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


def _username_key(username: str) -> str:
    """Failures count for a name however it is capitalised or padded."""
    return username.strip().casefold()[:_USERNAME_LENGTH]


def _address_key(remote_addr: str | None) -> str:
    return (remote_addr or "unknown")[:_ADDRESS_LENGTH]


def _retry_after(dbsession: Session, where, limit: int, now: dt.datetime) -> dt.timedelta | None:
    """How long until fewer than ``limit`` failures matching ``where`` remain in the window."""
    times = dbsession.scalars(
        select(LoginAttempt.at).where(where, LoginAttempt.at > now - WINDOW).order_by(LoginAttempt.at)
    ).all()
    if len(times) < limit:
        return None
    # The count drops below the limit when the (n - limit + 1)-th oldest failure expires.
    return times[len(times) - limit] + WINDOW - now


def check_login_allowed(
    dbsession: Session, username: str, remote_addr: str | None, now: dt.datetime | None = None
) -> Refusal | None:
    """None when a login may be tried now, else the refusal with its waiting time."""
    now = now or utcnow()
    waits = [
        _retry_after(dbsession, LoginAttempt.username == _username_key(username), MAX_FAILURES_PER_USERNAME, now),
        _retry_after(dbsession, LoginAttempt.remote_addr == _address_key(remote_addr), MAX_FAILURES_PER_ADDRESS, now),
    ]
    waits = [wait for wait in waits if wait is not None]
    return Refusal(max(waits)) if waits else None


def record_failure(
    dbsession: Session, username: str, remote_addr: str | None, now: dt.datetime | None = None
) -> None:
    """Counts a failed login and drops the rows too old to count any more."""
    now = now or utcnow()
    dbsession.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW))
    dbsession.add(LoginAttempt(username=_username_key(username), remote_addr=_address_key(remote_addr), at=now))
    dbsession.flush()


def clear_failures(dbsession: Session, username: str) -> None:
    """After a successful login the user's earlier typos no longer count against them."""
    dbsession.execute(delete(LoginAttempt).where(LoginAttempt.username == _username_key(username)))
