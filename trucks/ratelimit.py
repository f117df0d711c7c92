"""Login limits that hold under simultaneous attempts: per address and per (username, address).

Every attempt counts itself *before* its password is checked (``reserve_attempt``): it locks
its counter rows (``login_limits``, one per address and one per pair) in the request's
transaction, so a simultaneous attempt on the same counter waits for that transaction to end
and then sees its count. The first ``free`` failures of a counter pass; after that each one
sets a delay that doubles (30 s, 1 min, 2 min, ... up to the limit's ``max_delay``) before the
next attempt is even checked. A counter quiet for ``WINDOW`` after its last delay starts again.

The pair limit stops guessing one user's password; the address limit stops one address trying
many names. A stranger failing from another address fills only their own address's and pair's
counters: the user, from theirs, still logs in. A successful login forgets the pair's failures
and gives back the address the attempt it counted.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import LoginLimit, utcnow

WINDOW = dt.timedelta(minutes=15)
FIRST_DELAY = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Limit:
    """``free`` failures pass; then each failure makes the next attempt wait, doubling."""

    free: int
    max_delay: dt.timedelta

    def delay_after(self, failures: int) -> dt.timedelta | None:
        if failures < self.free:
            return None
        doublings = min(failures - self.free, 16)  # 30 s * 2**16 is far past any max_delay
        return min(FIRST_DELAY * 2**doublings, self.max_delay)


PAIR_LIMIT = Limit(free=5, max_delay=dt.timedelta(minutes=15))
ADDRESS_LIMIT = Limit(free=20, max_delay=dt.timedelta(hours=1))

_NAME_LENGTH = 100
_ADDRESS_LENGTH = 64


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


def _counters(username: str, remote_addr: str | None) -> list[tuple[str, Limit]]:
    """The address's counter, then the pair's (always in this order, so locks never cross).
    A name counts however it is capitalised or padded."""
    address = (remote_addr or "unknown")[:_ADDRESS_LENGTH]
    name = username.strip().casefold()[:_NAME_LENGTH]
    return [(f"address:{address}", ADDRESS_LIMIT), (f"pair:{address}:{name}", PAIR_LIMIT)]


def _locked_counter(dbsession: Session, key: str, now: dt.datetime) -> LoginLimit:
    """The counter row, created when missing, locked until the transaction ends.

    The insert comes first: it is a write, so SQLite takes its database lock here (a read first
    could not upgrade without risking a deadlock); PostgreSQL waits on the key's index for a
    concurrent insert, and ``FOR UPDATE`` holds the row."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[dbsession.get_bind().dialect.name]
    dbsession.execute(dialect.insert(LoginLimit).values(key=key, failures=0).on_conflict_do_nothing())
    counter = dbsession.scalars(
        select(LoginLimit).where(LoginLimit.key == key).with_for_update().execution_options(populate_existing=True)
    ).one()
    quiet_since = counter.wait_until or counter.last_failure_at
    if quiet_since is not None and now - quiet_since >= WINDOW:
        counter.failures, counter.last_failure_at, counter.wait_until = 0, None, None
    return counter


def reserve_attempt(
    dbsession: Session, username: str, remote_addr: str | None, now: dt.datetime | None = None
) -> Refusal | None:
    """Counts this attempt as a failure before its password is checked, or refuses it (with the
    wait) while one of its counters is waiting. ``forgive`` undoes the count after a success."""
    now = now or utcnow()
    counters = [(_locked_counter(dbsession, key, now), limit) for key, limit in _counters(username, remote_addr)]
    waits = [c.wait_until - now for c, _ in counters if c.wait_until is not None and c.wait_until > now]
    if waits:
        return Refusal(max(waits))
    for counter, limit in counters:
        counter.failures += 1
        counter.last_failure_at = now
        delay = limit.delay_after(counter.failures)
        counter.wait_until = None if delay is None else now + delay
    dbsession.flush()
    return None


def forgive(dbsession: Session, username: str, remote_addr: str | None) -> None:
    """After a successful login: the pair starts afresh and the address gets its attempt back."""
    (address_key, limit), (pair_key, _) = _counters(username, remote_addr)
    dbsession.execute(delete(LoginLimit).where(LoginLimit.key == pair_key))
    counter = dbsession.get(LoginLimit, address_key)
    if counter is not None and counter.failures > 0:
        counter.failures -= 1
        delay = limit.delay_after(counter.failures)
        counter.wait_until = None if delay is None else counter.last_failure_at + delay
