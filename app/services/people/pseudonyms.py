"""Pseudonyms: the account that stands for a person where their personal data was purged or
erased ("Person 4F2A9C"). One per person, made when first needed, then always the same, so a
purged request's history still tells who did what, and when, without saying who they are."""

from __future__ import annotations

import secrets

from sqlalchemy import exists, select

from app.extensions import db
from app.models import User
from app.models.base import utcnow

DOMAIN = "pseudonym.invalid"  # never delivered (RFC 2606)
UNUSABLE_HASH = "!"  # no hashing method matches it: no password opens the account


def is_pseudonym(user: User) -> bool:
    """Whether ``user`` is a pseudonym's own row (not a person, even an erased one)."""
    return user.erased_at is not None and user.pseudonym_id is None


def pseudonym_of(user: User) -> User:
    """The pseudonym standing for ``user`` (``user`` itself if it is one), made if need be."""
    if is_pseudonym(user):
        return user
    if user.pseudonym is not None:
        return user.pseudonym
    while True:  # 16 million codes: a clash is rare, and then another is drawn
        code = secrets.token_hex(3).upper()
        email = f"person-{code.lower()}@{DOMAIN}"
        if not db.session.scalar(select(exists().where(User.email == email))):
            break
    pseudonym = User(name=f"Person {code}", email=email, password_hash=UNUSABLE_HASH, active=False, erased_at=utcnow())
    db.session.add(pseudonym)
    db.session.flush()
    user.pseudonym = pseudonym
    db.session.flush()
    return pseudonym
