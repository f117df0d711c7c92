"""Accounts: argon2 password hashes, who may be what, and checking a login."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Retailer, Role, Truck, User

MIN_PASSWORD_LENGTH = 8

#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 0.07 s a hash on a
#: small server, where the library's default (64 MiB, 3 passes, 4 lanes) takes 0.4 s
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    dbsession: Session,
    username: str,
    password: str,
    role: str,
    retailer: Retailer | None = None,
    truck: Truck | None = None,
) -> User:
    """Adds a user; a planner is bound to a retailer, a driver to a truck, an admin or a
    coordinator to neither."""
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role is Role.PLANNER and retailer is None:
        raise AccountError("a planner needs a retailer")
    if role is Role.DRIVER and truck is None:
        raise AccountError("a driver needs a truck")
    if role is not Role.PLANNER and retailer is not None:
        raise AccountError(f"a {role} is not bound to a retailer")
    if role is not Role.DRIVER and truck is not None:
        raise AccountError(f"a {role} is not bound to a truck")
    if dbsession.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        retailer=retailer,
        truck=truck,
    )
    dbsession.add(user)
    dbsession.flush()
    return user


def authenticate(dbsession: Session, username: str, password: str) -> User | None:
    """The user when the password matches, else None (unknown users cost a hash too)."""
    user = dbsession.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _hasher.hash(password)  # same work as a real check, so timing does not reveal names
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def manageable_roles(role: str) -> tuple[Role, ...]:
    """The roles of the accounts a user of ``role`` may see and create: an admin every role, the
    district's coordinator its planners and drivers, nobody else any."""
    if role == Role.ADMIN:
        return tuple(Role)
    if role == Role.COORDINATOR:
        return (Role.PLANNER, Role.DRIVER)
    return ()
