"""Signing in and out against an attacker (issue 12): copied cookies die with their sign-in,
guessing passwords is throttled across processes, and sign-in does not tell who has an account."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from werkzeug import security

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import AuditEvent, Role
from app.services import people
from tests.conftest import CSRF, csrf_token, loaded, person, sign_in

SESSION, REMEMBER = "session", "remember_token"
WRONG = "not-the-password"


def sign_in_as(client, email: str, password: str = DEMO_PASSWORD, remember: bool = False,
               address: str | None = None):
    """POST the sign-in form as a browser would, optionally from ``address`` behind the proxy."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/sign-in")}
    if remember:
        data["remember"] = "y"
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/sign-in", data=data, headers=headers)


def copy_of(app, client, *names: str):
    """A second browser holding copies of ``client``'s cookies ``names``: the attacker's."""
    cookies = {name: client.get_cookie(name) for name in names}
    assert None not in cookies.values(), f"missing cookies: {cookies}"
    return holding(app, **{name: cookie.value for name, cookie in cookies.items()})


def holding(app, **cookies: str):
    """A new browser that sends ``cookies`` whatever their expiry said."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value, domain="localhost")
    return browser


def lands_on_sign_in(client) -> bool:
    response = client.get("/inbox")
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


def signed_in(client) -> bool:
    return client.get("/inbox").status_code == 200


# 1. Sign-out everywhere and revocation

def test_copied_cookies_die_when_their_owner_signs_out(app, client):
    ana = person("ana")
    assert sign_in_as(client, ana.email, remember=True).status_code == 302
    both = copy_of(app, client, SESSION, REMEMBER)
    session_only = copy_of(app, client, SESSION)
    remember_only = copy_of(app, client, REMEMBER)
    assert signed_in(both) and signed_in(session_only) and signed_in(remember_only)

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})

    assert lands_on_sign_in(client)
    assert lands_on_sign_in(both) and lands_on_sign_in(session_only) and lands_on_sign_in(remember_only)


def reset_password(user):
    people.change_password(user, "a-brand-new-password")  # as the emailed link's page does


def change_roles(user):
    people.update_user(person("admin"), user, name=user.name, email=user.email,
                       organisation_id=user.organisation_id, roles=[Role.BUYER, Role.FINANCE], active=True)


def deactivate(user):
    people.update_user(person("admin"), user, name=user.name, email=user.email,
                       organisation_id=user.organisation_id, roles=user.roles, active=False)


@pytest.mark.parametrize("change", [reset_password, change_roles, deactivate])
def test_copied_cookies_die_when_an_administrator_changes_the_account(app, client, change):
    kati = person("kati")
    assert sign_in_as(client, kati.email, remember=True).status_code == 302
    thief = copy_of(app, client, SESSION, REMEMBER)
    remember_only = copy_of(app, client, REMEMBER)
    assert signed_in(thief) and signed_in(remember_only)

    change(person("kati"))
    db.session.commit()

    assert lands_on_sign_in(client) and lands_on_sign_in(thief) and lands_on_sign_in(remember_only)


def test_sign_out_everywhere_ends_every_browser(app, client):
    laptop, phone = client, app.test_client()
    sign_in(laptop, "ana")
    ana = sign_in(phone, "ana")
    thief = copy_of(app, phone, SESSION)
    other = app.test_client()
    sign_in(other, "lukas")

    page = loaded(laptop.get("/profile"))
    assert "Sign out everywhere" in page
    response = laptop.post("/sign-out-everywhere", data={"csrf_token": csrf_token(laptop, "/profile")})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]

    assert lands_on_sign_in(laptop) and lands_on_sign_in(phone) and lands_on_sign_in(thief)
    assert signed_in(other)  # only Ana's sign-ins ended
    assert sign_in_as(laptop, ana.email).status_code == 302 and signed_in(laptop)


def test_the_remember_cookie_is_new_at_every_sign_in_and_ends_after_14_days(app, client):
    ana = person("ana")
    with freeze_time("2026-12-03 09:00:00") as clock:
        sign_in_as(client, ana.email, remember=True)
        first = client.get_cookie(REMEMBER).value
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
        sign_in_as(client, ana.email, remember=True)
        second = client.get_cookie(REMEMBER).value
        assert first != second

        clock.tick(dt.timedelta(days=13))
        assert signed_in(holding(app, **{REMEMBER: second}))
        clock.tick(dt.timedelta(days=1, minutes=1))  # the server refuses it, whatever the browser keeps
        assert lands_on_sign_in(holding(app, **{REMEMBER: second}))


def test_a_sign_in_without_remember_me_ends_after_12_hours_unused(app, client):
    with freeze_time("2026-12-03 09:00:00") as clock:
        sign_in(client, "ana")
        clock.tick(dt.timedelta(hours=11))
        assert signed_in(client)  # in use: it lasts
        clock.tick(dt.timedelta(hours=11))
        assert signed_in(client)
        clock.tick(dt.timedelta(hours=12, minutes=1))
        assert lands_on_sign_in(client)


def test_the_session_is_new_after_sign_in(client):
    before = csrf_token(client, "/sign-in")
    assert sign_in_as(client, person("ana").email).status_code == 302
    after = csrf_token(client, "/profile")
    assert after != before


# 2. Throttling

def minutes_left(html: str) -> int:
    match = re.search(r"Too many attempts: try again in (\d+) minutes?", html)
    assert match, html
    return int(match.group(1))


def test_five_wrong_passwords_lock_the_account_for_15_minutes(app, client):
    ana = person("ana")
    with freeze_time("2026-12-03 09:00:00") as clock:
        for _ in range(5):
            response = sign_in_as(client, ana.email, WRONG)
            assert "Enter a correct email address and password" in loaded(response, 400)
            clock.tick(dt.timedelta(seconds=10))  # the lock runs from the fifth

        response = sign_in_as(client, ana.email)  # the right password, during the lock-out
        assert minutes_left(loaded(response, 400)) == 15
        assert lands_on_sign_in(client)
        other_browser = app.test_client()  # another gunicorn worker or web node: the same count
        assert minutes_left(loaded(sign_in_as(other_browser, ana.email.upper()), 400)) == 15

        clock.tick(dt.timedelta(minutes=10))
        assert minutes_left(loaded(sign_in_as(client, ana.email), 400)) == 5
        assert sign_in_as(client, person("marta").email).status_code == 302  # others are not locked out

        clock.tick(dt.timedelta(minutes=5))
        assert sign_in_as(app.test_client(), ana.email).status_code == 302


@pytest.mark.app_config(TRUSTED_PROXIES=1)
def test_one_client_address_is_throttled_across_accounts(app, client):
    with freeze_time("2026-12-03 09:00:00") as clock:
        for number in range(20):
            response = sign_in_as(client, f"guess{number}@example.eu", WRONG, address="203.0.113.9")
            assert response.status_code == 400
        response = sign_in_as(client, person("ana").email, address="203.0.113.9")
        assert minutes_left(loaded(response, 400)) == 15
        # Another address behind the same proxy is someone else.
        assert sign_in_as(app.test_client(), person("ana").email, address="198.51.100.4").status_code == 302
        clock.tick(dt.timedelta(minutes=15))
        assert sign_in_as(app.test_client(), person("marta").email, address="203.0.113.9").status_code == 302


def test_without_a_trusted_proxy_a_forged_address_does_not_escape_the_limit(app, client):
    with freeze_time("2026-12-03 09:00:00"):
        for number in range(20):
            sign_in_as(client, f"guess{number}@example.eu", WRONG, address=f"192.0.2.{number}")
        response = sign_in_as(client, person("ana").email, address="192.0.2.200")
        assert minutes_left(loaded(response, 400)) == 15


def test_failed_sign_ins_and_lock_outs_reach_the_administrators_audit(app, client):
    ana = person("ana")
    for _ in range(5):
        sign_in_as(client, ana.email, WRONG)
    sign_in_as(client, "nobody@example.eu", "a-password-typed-in")

    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    assert len(failed) == 6 and all(event.instance_id is None for event in failed)
    assert sum(ana.email in event.summary for event in failed) == 5
    assert not any("a-password-typed-in" in event.summary + str(event.data) for event in failed)
    [locked] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_locked")).all()
    assert ana.email in locked.summary

    admin_browser = app.test_client()
    sign_in(admin_browser, "admin")
    home = loaded(admin_browser.get("/admin/"))
    assert "Failed sign-in" in home and "locked" in home


# 3. No account enumeration

@pytest.fixture
def password_checks(monkeypatch):
    """The hashes each sign-in checked a password against (werkzeug's check_password_hash)."""
    checked: list[str] = []
    real = security.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(security, "check_password_hash", counting)
    return checked


def method_of(pwhash: str) -> str:
    return pwhash.split("$", 1)[0]


def test_an_unknown_or_inactive_address_costs_the_same_password_hash(client, password_checks):
    ana = person("ana")
    kati = person("kati")
    kati.active = False
    db.session.commit()
    answers = {}
    for email in (ana.email, "nobody@example.eu", kati.email):
        password_checks.clear()
        response = sign_in_as(client, email, WRONG)
        # The form's CSRF token carries the second it was signed in: on a busy machine the three
        # answers span seconds, and their tokens differ in that alone.
        answers[email] = CSRF.sub("CSRF", loaded(response, 400).replace(email, "EMAIL"))
        assert len(password_checks) == 1, email  # one hash computed, whoever asks
        assert method_of(password_checks[0]) == method_of(ana.password_hash)  # and as costly
    assert len(set(answers.values())) == 1  # the same answer

    password_checks.clear()
    response = sign_in_as(client, kati.email)  # a deactivated person's right password: the same
    assert response.status_code == 400 and len(password_checks) == 1
