"""Two-step sign-in: administrators set up an authenticator app after their password, then
enter its code at each sign-in; recovery codes; wrong codes; the half-signed-in state; the
reset by another administrator. The clock is frozen, so each code is the app's at that time."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.cli import DEMO_TOTP_SECRET
from app.extensions import db
from app.models import AuditEvent, RecoveryCode, Role, SecondFactor
from app.services.people import create_user
from app.services.people.two_step import enrol_with_secret
from tests.conftest import SET_UP_KEY, csrf_token, loaded, person, post_form, sign_in

NOON = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.UTC)  # in the past: a session signed "later" is refused
STEP = dt.timedelta(seconds=30)
RECOVERY = re.compile(r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>")


def password(client, email: str):
    """The first step: the right password. Keeps the session's CSRF token, for pages that no
    longer answer."""
    client.csrf = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "password": "bigbuyers-demo", "csrf_token": client.csrf})


def enter(client, code: str, page: str = "/sign-in/code"):
    return client.post(page, data={"code": code, "csrf_token": client.csrf})


def demo_code(when: dt.datetime) -> str:
    return pyotp.TOTP(DEMO_TOTP_SECRET).at(when)


@pytest.fixture
def new_administrator(app):
    """An administrator just added, who has not set up an authenticator app yet."""
    user = create_user("second.admin@bigbuyers.example.eu", "Second Administrator", "bigbuyers-demo",
                       [Role.ADMINISTRATOR], "EUROCITIES")
    db.session.commit()
    return user


def set_up(client, email: str, when: dt.datetime) -> list[str]:
    """Sign in as ``email`` for the first time and set up the app; the recovery codes shown."""
    assert password(client, email).headers["Location"].endswith("/sign-in/set-up")
    key = SET_UP_KEY.search(loaded(client.get("/sign-in/set-up"))).group(1).replace(" ", "")
    page = loaded(enter(client, pyotp.TOTP(key).at(when), "/sign-in/set-up"))
    assert "Two-step sign-in is on" in page
    return RECOVERY.findall(page)


def test_an_administrator_sets_up_an_app_before_using_anything(client, new_administrator):
    with freeze_time(NOON):
        response = password(client, new_administrator.email)
        assert response.headers["Location"].endswith("/sign-in/set-up")
        assert client.get("/inbox").headers["Location"].endswith("/sign-in/set-up")
        page = loaded(client.get("/sign-in/set-up"))
        assert "Set up two-step sign-in" in page and 'src="data:image/svg+xml' in page  # the QR code
        key = SET_UP_KEY.search(page).group(1).replace(" ", "")
        assert len(key) == 32

        refused = enter(client, pyotp.TOTP(key).at(NOON - 3 * STEP), "/sign-in/set-up")
        assert "The code is not right" in loaded(refused, 400)
        assert client.get("/inbox").status_code == 302  # still not signed in

        page = loaded(enter(client, pyotp.TOTP(key).at(NOON), "/sign-in/set-up"))
        codes = RECOVERY.findall(page)
        assert len(set(codes)) == 10
        loaded(client.get("/inbox"))
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})  # in the frozen time

    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any(code.replace("-", "") in stored for code in codes)  # hashed
    with freeze_time(NOON + 4 * STEP):
        assert password(client, new_administrator.email).headers["Location"].endswith("/sign-in/code")


def test_other_people_sign_in_with_their_password_alone(client):
    response = password(client, person("marta").email)
    assert response.headers["Location"].endswith("/inbox")
    loaded(client.get("/inbox"))
    assert db.session.scalar(select(SecondFactor).where(SecondFactor.user_id == person("marta").id)) is None


def test_a_wrong_code_is_refused_and_the_right_one_accepted(client):
    with freeze_time(NOON):
        assert password(client, person("admin").email).headers["Location"].endswith("/sign-in/code")
        wrong = f"{(int(demo_code(NOON)) + 1) % 1_000_000:06d}"
        page = loaded(enter(client, wrong), 400)
        assert "The code is not right" in page and "4 tries left" in page
        assert "The code is not right" in loaded(enter(client, demo_code(NOON + 2 * STEP)), 400)  # too far ahead
        assert client.get("/inbox").headers["Location"].endswith("/sign-in/code")

        response = enter(client, demo_code(NOON - STEP))  # a step behind: the phone's clock is slow
        assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
        assert "Platform Administrator" in loaded(client.get("/inbox"))


def test_a_code_used_once_is_refused_the_second_time(client, app):
    with freeze_time(NOON):
        password(client, person("admin").email)
        assert enter(client, demo_code(NOON)).status_code == 302
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})

    with freeze_time(NOON + dt.timedelta(seconds=10)):  # the same code, still in its window
        other = app.test_client()
        password(other, person("admin").email)
        assert "The code is not right, or was used already" in loaded(enter(other, demo_code(NOON)), 400)
        assert other.get("/inbox").status_code == 302
        assert enter(other, demo_code(NOON + STEP)).status_code == 302  # the app's next code works


def test_a_recovery_code_works_once_and_the_count_goes_down(client, app, new_administrator):
    with freeze_time(NOON):
        codes = set_up(client, new_administrator.email, NOON)
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})

    with freeze_time(NOON + 10 * STEP):
        password(client, new_administrator.email)
        response = enter(client, codes[3].upper().replace("-", " "))  # as someone might type it
        assert response.headers["Location"].endswith("/inbox")
        assert "You have 9 recovery codes left" in loaded(client.get("/inbox"))

        other = app.test_client()
        password(other, new_administrator.email)
        assert "The code is not right, or was used already" in loaded(enter(other, codes[3]), 400)
        assert enter(other, codes[4]).status_code == 302
        assert "You have 8 recovery codes left" in loaded(other.get("/inbox"))
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "recovery_code_used")
                             .order_by(AuditEvent.id.desc())).endswith("(8 left)")


def test_five_wrong_codes_send_you_back_to_the_password(client):
    with freeze_time(NOON):
        password(client, person("admin").email)
        before_the_wrong_codes = client.get_cookie("session").value
        for tries_left in (4, 3, 2, 1):
            left = f"({tries_left} {'try' if tries_left == 1 else 'tries'} left)"
            assert left in loaded(enter(client, "000000"), 400)
        response = enter(client, "000000")
        assert response.headers["Location"].endswith("/sign-in")
        assert "wrong code too many times" in loaded(client.get("/sign-in"))
        assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in")

        # The count is kept on the server: the session cookie from before the wrong codes,
        # sent again, wins no more tries, not even with the right code.
        client.set_cookie("session", before_the_wrong_codes, domain="localhost")
        assert enter(client, demo_code(NOON)).headers["Location"].endswith("/sign-in")
        assert client.get("/inbox").status_code == 302

        # The password again: five more tries.
        password(client, person("admin").email)
        assert enter(client, demo_code(NOON)).headers["Location"].endswith("/inbox")


def test_half_signed_in_only_the_code_page_answers_and_only_for_a_few_minutes(client):
    with freeze_time(NOON) as clock:
        password(client, person("admin").email)
        for path in ("/", "/inbox", "/start", "/requests", "/profile", "/monitor/instances", "/admin/",
                     "/admin/people", "/admin/processes/", "/admin/mail/", "/sign-in/set-up"):
            response = client.get(path)
            assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code"), path
        assert "Enter the code from your authenticator app" in loaded(client.get("/sign-in/code"))

        clock.tick(dt.timedelta(minutes=11))
        assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in")
        assert "You took too long" in loaded(client.get("/sign-in"))
        assert enter(client, demo_code(NOON + dt.timedelta(minutes=11))).headers["Location"].endswith("/sign-in")
        assert client.get("/inbox").status_code == 302


def test_going_back_to_the_password_page_ends_the_half_signed_in_state(client):
    with freeze_time(NOON):
        password(client, person("admin").email)
        loaded(client.get("/sign-in"))
        assert enter(client, demo_code(NOON)).headers["Location"].endswith("/sign-in")


def test_an_administrator_resets_another_administrators_second_step(client, app, new_administrator):
    enrol_with_secret(new_administrator, pyotp.random_base32())
    db.session.commit()
    lost_phone = app.test_client()
    sign_in(lost_phone, "second.admin")
    loaded(lost_phone.get("/inbox"))

    admin = sign_in(client, "admin")
    page = loaded(client.get(f"/admin/people/{new_administrator.id}"))
    assert f'href="/admin/people/{new_administrator.id}/two-step"' in page
    page = loaded(client.get(f"/admin/people/{new_administrator.id}/two-step"))
    assert "Set up on" in page and "Reset two-step sign-in" in page
    response = post_form(client, f"/admin/people/{new_administrator.id}/two-step", {})
    assert response.headers["Location"].endswith(f"/admin/people/{new_administrator.id}")
    assert "Two-step sign-in of Second Administrator is reset" in loaded(client.get(response.headers["Location"]))

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "two_step_reset"))
    assert event.actor_id == admin.id and event.channel == "admin"
    assert {k: v for k, v in event.data.items() if k != "$line"} == {"user_id": new_administrator.id}
    # The administrator with the lost phone is signed out, and sets up a new app after the password.
    assert lost_phone.get("/inbox").headers["Location"].endswith("/sign-in")
    with freeze_time(NOON):
        assert len(set_up(lost_phone, new_administrator.email, NOON)) == 10


def test_nobody_resets_their_own_second_step_and_only_administrators_reset(client):
    admin = sign_in(client, "admin")
    page = loaded(post_form(client, f"/admin/people/{admin.id}/two-step", {}), 400)
    assert "You cannot reset your own two-step sign-in" in page
    assert db.session.get(SecondFactor, admin.id) is not None

    sign_in(client, "clara")
    assert client.get(f"/admin/people/{admin.id}/two-step").status_code == 403
