"""Choosing a password from an emailed link: invitations and forgotten passwords.

Administrators never type or see another person's password. They add a person, who receives
an invitation with a link to choose one; they can send a new link later. Anyone can ask for
a link for the address they sign in with ("Forgotten your password?"), and is told the same
whether or not an account uses that address (OWASP's Forgot Password Cheat Sheet).

Each link is an AccountToken: bound to one person, single use, expiring, and dead once a newer
link is made for that person. Its secret is minted when the worker sends the email
(app/outbox/account_links.py); only its SHA-256 is stored. Opening a link changes nothing
(mail scanners open links before people do); posting the new password through its page does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.errors import ServiceError
from app.extensions import db
from app.locale import language_of, languages
from app.models import AccountToken, AccountTokenPurpose, Role, User, UserRole
from app.models.base import utcnow
from app.outbox.account_links import account_marker, secret_hash
from app.outbox.queue import external_url, queue_email
from app.outbox.render import Rendered, render_email
from app.steps import audit_event, said

from .accounts import _check_email_free, _check_password, _roles, create_user
from .admin import _clean_name, _record, _refuse
from .organisations import _organisation
from .signins import end_sessions


def invitation_days() -> int:
    """How long an invitation link works (INVITATION_DAYS, 7 by default)."""
    return current_app.config["INVITATION_DAYS"]


def reset_minutes() -> int:
    """How long a forgotten-password link works (PASSWORD_RESET_MINUTES, 60 by default)."""
    return current_app.config["PASSWORD_RESET_MINUTES"]


def resets_per_hour() -> int:
    """How many forgotten-password emails one account gets in an hour (PASSWORD_RESETS_PER_HOUR, 5)."""
    return current_app.config["PASSWORD_RESETS_PER_HOUR"]


def has_administrator() -> bool:
    """Whether an active administrator exists (the CLI then invites instead of asking a password)."""
    return bool(db.session.scalar(
        select(func.count()).select_from(User).join(UserRole)
        .where(UserRole.role == Role.ADMINISTRATOR, User.active.is_(True))))


# --- Sending links --------------------------------------------------------------------------------


def _revoke_links(user: User, now: dt.datetime) -> None:
    """Every earlier link of ``user`` stops working: only the newest one does."""
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session="fetch"))


def _new_link(user: User, purpose: AccountTokenPurpose, lifetime: dt.timedelta) -> AccountToken:
    now = utcnow()
    _revoke_links(user, now)
    token = AccountToken(user_id=user.id, purpose=purpose, created_at=now, expires_at=now + lifetime)
    db.session.add(token)
    db.session.flush()
    return token


def _invitation_email(user: User, marker: str, first: bool):
    return render_email("email/account_invitation.txt",
                        {"name": user.name, "first": first, "days": invitation_days(),
                         "sign_in_url": external_url("/sign-in")},
                        actions=[(_l("Choose your password"), marker)], to=user)


def send_invitation(actor: User | None, user: User, *, first: bool = False, channel: str = "admin") -> AccountToken:
    """Email ``user`` a link to choose a password; any earlier link of theirs stops working.

    ``first``: the person was just added (the email welcomes them); otherwise an administrator
    sends a new link, e.g. when the first one expired or the person lost their password. The
    current password keeps working until a new one is chosen.
    """
    if not user.active:
        raise ServiceError(_("%(name)s cannot sign in: reactivate the account first, then send a link.",
                             name=user.name))
    token = _new_link(user, AccountTokenPurpose.INVITATION, dt.timedelta(days=invitation_days()))
    queue_email(user, "account", _invitation_email(user, account_marker(token), first),
                template="account_invitation")
    db.session.add(audit_event(actor, channel, "invitation_sent",
                               said("invitation_sent" if first else "password_link_sent", user=user.name,
                                    email=user.email),
                               {"user_id": user.id, "expires_at": token.expires_at.isoformat()}))
    db.session.flush()
    return token


def invite_user(actor: User, *, name: str, email: str, organisation_id: int | None,
                roles: Iterable[Role | str], language: str | None = None) -> User:
    """Add a person and email them an invitation to choose their password.

    Until they do, the account has a random password nobody knows: no one can sign in as them.
    ``language`` (one of LANGUAGES; the inviting person's when not given) is the account's until
    the person chooses another on their settings page, so the invitation is written in it.
    """
    name = _clean_name(name, "name", "person's name")
    email = _check_email_free(email)
    organisation = _organisation(organisation_id)
    wanted = _roles(roles)
    language = language or language_of(actor)
    if language not in languages():
        raise _refuse("language", _("Select the language of the invitation"))
    user = create_user(email, name, secrets.token_urlsafe(32), wanted, organisation.name)
    user.language = language
    _record(actor, "user_added", said("user_added", user=user.name, email=user.email, roles=sorted(wanted),
                                      language=language),
            {"user_id": user.id, "email": user.email, "organisation": organisation.name,
             "roles": sorted(wanted), "language": language})
    send_invitation(actor, user, first=True)
    return user


def invite_user_from_cli(email: str, name: str, roles: Iterable[Role | str], organisation: str | None) -> User:
    """`flask people add-user` once an administrator exists: add the person and invite them."""
    user = create_user(email, name, secrets.token_urlsafe(32), roles, organisation)
    db.session.add(audit_event(None, "cli", "user_added",
                               said("user_added_cli", user=user.name, email=user.email, roles=sorted(user.roles)),
                               {"user_id": user.id, "email": user.email, "roles": sorted(user.roles)}))
    send_invitation(None, user, first=True, channel="cli")
    return user


NEW_LINK = "%%ACCOUNT:new%%"  # where the link goes, until the token's own marker replaces it


def request_password_reset(email: str) -> None:
    """"Forgotten your password?": email a link if an active account uses ``email``.

    The caller says the same whatever happens here, and the same work is done either way (the
    email is written even when it is thrown away), so neither the answer nor its time tells
    whether the address has an account. A new request kills the earlier link. At most
    PASSWORD_RESETS_PER_HOUR emails an hour go to one account, so no one can flood a mailbox.
    """
    address = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    rendered = render_email("email/password_reset.txt",
                            {"name": user.name if user else "", "minutes": reset_minutes(),
                             "forgotten_url": external_url("/account/forgotten-password")},
                            actions=[(_l("Choose a new password"), NEW_LINK)], to=user)
    if user is None or not user.active:
        return
    hour_ago = utcnow() - dt.timedelta(hours=1)
    recent = db.session.scalar(select(func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == AccountTokenPurpose.PASSWORD_RESET,
        AccountToken.created_at > hour_ago)) or 0
    if recent >= resets_per_hour():
        return
    token = _new_link(user, AccountTokenPurpose.PASSWORD_RESET, dt.timedelta(minutes=reset_minutes()))
    marker = account_marker(token)
    queue_email(user, "account", Rendered(rendered.subject, rendered.text.replace(NEW_LINK, marker),
                                          rendered.html.replace(NEW_LINK, marker)), template="password_reset")
    db.session.add(audit_event(user, "web", "password_reset_requested", said("password_reset_requested"),
                               {"user_id": user.id}))
    db.session.flush()


# --- Using a link ---------------------------------------------------------------------------------


@dataclass
class LinkRefusal:
    """Why a link cannot set a password, and what to do instead, in plain words."""

    title: str
    message: str
    next_step: str


ASK_AGAIN = _l("Ask for a new link on the “Forgotten your password?” page.")


def find_link(secret: str) -> AccountToken | None:
    if not secret or len(secret) > 100:
        return None
    return db.session.scalar(select(AccountToken).where(AccountToken.token_hash == secret_hash(secret)))


def check_link(token: AccountToken | None) -> LinkRefusal | None:
    """None when the link may still set a password; else why not. Reads only, changes nothing."""
    if token is None:
        return LinkRefusal(_("This link does not work"),
                           _("The link is not one this service sent, or it was changed or cut short."),
                           _("Copy the whole link from the email. %(ask_again)s", ask_again=ASK_AGAIN))
    if not token.user.active:
        return LinkRefusal(_("This account is closed"),
                           _("The account this link was for can no longer sign in. Nothing was changed."),
                           _("If you still need to use Big Buyers Workflow, ask an administrator to reopen it."))
    if token.used_at is not None:
        return LinkRefusal(_("This link has already been used"),
                           _("Each link to choose a password works once, and a password was chosen with this "
                             "one. Nothing was changed."),
                           _("Sign in with that password. If you do not know it, ask for a new link on the "
                             "“Forgotten your password?” page."))
    if token.revoked_at is not None:
        return LinkRefusal(_("This link has been replaced"),
                           _("A newer link was sent to you after this one, and only the newest works. "
                             "Nothing was changed."),
                           _("Use the link in the most recent email. %(ask_again)s", ask_again=ASK_AGAIN))
    if token.expires_at <= utcnow():
        if token.purpose == AccountTokenPurpose.INVITATION:
            return LinkRefusal(_("This link has expired"),
                               _("Invitation links work for %(days)s days. Nothing was changed.",
                                 days=invitation_days()),
                               _("%(ask_again)s Or ask an administrator to send you a new invitation.",
                                 ask_again=ASK_AGAIN))
        return LinkRefusal(_("This link has expired"),
                           _("Links to choose a new password work for %(minutes)s minutes. Nothing was changed.",
                             minutes=reset_minutes()), str(ASK_AGAIN))
    return None


def change_password(user: User, password: str) -> None:
    """Give ``user`` the password they chose (at least MIN_PASSWORD_LENGTH characters), and
    sign them out everywhere: whoever knew or guessed the old one may be signed in."""
    _check_password(password, "password")
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    end_sessions(user)


def set_password_by_link(token: AccountToken, password: str) -> User:
    """Set the password of the link's person, as they chose it; the link is used up.

    Every other link of theirs dies too. After a forgotten-password link, an email tells the
    person their password was changed, so that they notice if it was not them.
    """
    refusal = check_link(token)
    if refusal is not None:
        raise ServiceError(refusal.message)
    user = token.user
    change_password(user, password)
    now = utcnow()
    token.used_at = now
    db.session.flush()
    _revoke_links(user, now)
    how = "invitation" if token.purpose == AccountTokenPurpose.INVITATION else "reset"
    db.session.add(audit_event(user, "email", "password_chosen", said(f"password_chosen_{how}"),
                               {"user_id": user.id, "token_id": token.id}))
    if token.purpose == AccountTokenPurpose.PASSWORD_RESET:
        queue_email(user, "account", render_email("email/password_changed.txt", {
            "name": user.name, "when": now, "forgotten_url": external_url("/account/forgotten-password"),
            "sign_in_url": external_url("/sign-in")}, to=user), template="password_changed")
    db.session.flush()
    return user

