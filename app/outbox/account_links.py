"""Links to choose a password, minted when the email is sent, as decision links are.

An invitation or forgotten-password email is queued with a ``%%ACCOUNT:<token id>%%`` marker
where its link goes. The worker replaces it with a fresh secret and stores only the secret's
SHA-256 on the token row, in the transaction that marks the message sent: the database, and
the administrators' view of the outbox, never hold a usable link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from app.extensions import db
from app.models import AccountToken, OutboxMessage

from .queue import external_url

ACCOUNT = re.compile(r"%%ACCOUNT:(\d+)%%")
LINK_PATH = "/account/password/"
DEAD_LINK_PATH = "/account/forgotten-password"  # a link that can no longer work leads here


def account_marker(token: AccountToken) -> str:
    return f"%%ACCOUNT:{token.id}%%"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_account_links(row: OutboxMessage, text: str, html: str, now: dt.datetime) -> tuple[str, str]:
    """Replace account markers with a fresh link each; a token that no longer works (used,
    replaced, expired, or not the recipient's) gets the forgotten-password page instead."""
    minted: dict[str, str] = {}

    def link(match: re.Match) -> str:
        marker = match.group(0)
        if marker not in minted:
            token = db.session.get(AccountToken, int(match.group(1)))
            if token is None or token.user_id != row.recipient_id or not token.is_live(now):
                minted[marker] = external_url(DEAD_LINK_PATH)
            else:
                secret = secrets.token_urlsafe(32)
                token.token_hash = secret_hash(secret)  # flushed with the row marked sent
                minted[marker] = external_url(LINK_PATH + secret)
        return minted[marker]

    return ACCOUNT.sub(link, text), ACCOUNT.sub(link, html)
