"""A committee group's robot: what address may be kept and sent to, and how it is shown.

Kept apart from ``trucks.messages`` (which queues and sends) so that the importer can check the
``webhook`` columns of compounds.csv without importing the day's facts.
"""
from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum

from .models import Compound

MAX_URL_LENGTH = 500
MAX_SECRET_LENGTH = 200


class WebhookKind(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    JSON = "json"


class WebhookError(ValueError):
    """A webhook that may not be used as given; ``code`` names why (pages translate it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WebhookSettings:
    allow_private: bool = False
    timeout_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings) -> WebhookSettings:
        return cls(
            allow_private=str(settings.get("foodtrucks.webhooks_allow_private", "")).strip().lower() in ("true", "1", "yes", "on"),
            timeout_seconds=float(settings.get("foodtrucks.webhooks_timeout_seconds") or 5.0),
        )


# --------------------------------------------------------------------------- webhooks


def check_webhook(url: str, kind: str, secret: str = "") -> tuple[str, str, str]:
    """The webhook as stored: an http(s) URL with a host, a known kind (empty means ``json``).
    An empty URL clears it. Where it points is checked when sending (``check_target``)."""
    url, kind, secret = (url or "").strip(), (kind or "").strip().lower() or WebhookKind.JSON, (secret or "").strip()
    if kind not in {k.value for k in WebhookKind}:
        raise WebhookError("kind", f"webhook_kind must be one of {', '.join(k.value for k in WebhookKind)}")
    if not url:
        return "", kind, ""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("scheme", "the webhook must be an http:// or https:// address with a host")
    if len(url) > MAX_URL_LENGTH or len(secret) > MAX_SECRET_LENGTH:
        raise WebhookError("too_long", "the webhook is at most 500 characters, its secret at most 200")
    return url, kind, secret


def check_target(url: str, allow_private: bool) -> None:
    """Refuses loopback, private, link-local and other non-public addresses, after resolving
    the host (a public name may point inside), unless the ini allows them."""
    if allow_private:
        return
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise WebhookError("unresolvable", "the webhook's host does not resolve") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise WebhookError("private", "the webhook points at a loopback or private address")


def mask(url: str) -> str:
    """``https://qyapi.weixin.qq.com/…3f2a``: the host to recognise it, never the key in it."""
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


def set_webhook(compound: Compound, url: str, kind: str, secret: str, settings: WebhookSettings) -> None:
    """From the coordinator's page: checked in form and target before it is kept."""
    url, kind, secret = check_webhook(url, kind, secret)
    if url:
        check_target(url, settings.allow_private)
    compound.webhook_url, compound.webhook_kind, compound.webhook_secret = url, kind, secret
