"""CSV import of a day: trucks, compounds, stock, demand and an optional travel matrix."""
from __future__ import annotations

import secrets


def new_access_token() -> str:
    """The unguessable key of a compound's public committee page."""
    return secrets.token_urlsafe(16)
