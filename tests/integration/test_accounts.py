"""Accounts by email: invitations, a new password link from an administrator, forgotten
passwords, and the CLI's first administrator. Every email goes through the outbox to a real
SMTP server; links are opened as a mail program would, without signing in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.extensions import db
from app.models import AccountToken, AuditEvent, OutboxMessage, Role, User
from app.models.base import utcnow
from app.outbox.deliver import deliver_outbox
from app.services.people import update_user
from tests.conftest import csrf_token, loaded, post_form, sign_in
from tests.integration import test_email
from tests.integration.test_email import parts

smtp = test_email.smtp  # the SMTP server the outbox sends to, as in test_email

NEW_PASSWORD = "correct horse battery"
PASSWORD_LINK = re.compile(r"http://mail\.test(/account/password/[\w-]+)")
CHECK_EMAIL = "If an account uses"


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def outbox_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def password_link(message) -> str:
    """The one link to choose a password in the email, the same in both parts."""
    text, html = parts(message)
    [path] = set(PASSWORD_LINK.findall(text))
    assert f'href="http://mail.test{path}"' in html
    return path


def can_sign_in(app, email: str, password: str) -> bool:
    browser = app.test_client()
    response = browser.post("/sign-in", data={"email": email, "password": password,
                                              "csrf_token": csrf_token(browser, "/sign-in")})
    return response.status_code == 302


def choose(client, path: str, password: str = NEW_PASSWORD):
    """Open the link's page, as a person would, and post the password with its CSRF token (a
    refused link's page has no form: the token then comes from another page of the session)."""
    page = client.get(path)
    token = csrf_token(client, path if page.status_code == 200 else "/account/forgotten-password")
    return client.post(path, data={"password": password, "csrf_token": token})


def invite(client, email: str = "nina.horvat@zagreb.example.eu", name: str = "Nina Horvat") -> User:
    sign_in(client, "admin")
    response = post_form(client, "/admin/people/new", {
        "name": name, "email": email, "organisation": "1", "roles": ["buyer"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    invited = user(email)
    assert invited is not None
    return invited


def forgot(client, email: str):
    return post_form(client, "/account/forgotten-password", {"email": email})


# --- Invitations ----------------------------------------------------------------------------------


def test_an_invitation_arrives_and_its_link_sets_the_password_once(app, client, smtp):
    nina = invite(client)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == nina.id))
    assert "/account/password/" not in row.text_body + row.html_body  # the queued row holds no link
    assert deliver_outbox().sent == 1
    [message] = smtp.to("nina.horvat")
    assert message["Subject"] == "You are invited to Big Buyers Workflow"
    text = parts(message)[0]
    assert "Dear Nina Horvat" in text and "for 7 days" in text
    path = password_link(message)
    secret = path.rsplit("/", 1)[1]
    [token] = db.session.scalars(select(AccountToken).where(AccountToken.user_id == nina.id))
    assert token.token_hash and secret not in token.token_hash  # only the hash is stored
    assert secret not in str(db.session.scalars(select(OutboxMessage.text_body)).all())

    # Opening the link, as a mail scanner would, changes nothing.
    for _ in range(2):
        page = client.get(path)
        assert "Choose your password" in loaded(page) and "nina.horvat@zagreb.example.eu" in loaded(page)
        assert page.headers["Referrer-Policy"] == "no-referrer"
    assert client.head(path).status_code == 200
    db.session.expire_all()
    assert db.session.get(AccountToken, token.id).used_at is None
    assert not can_sign_in(app, nina.email, NEW_PASSWORD)

    done = choose(client, path)
    assert "Your password is saved" in loaded(done)
    assert can_sign_in(app, nina.email, NEW_PASSWORD)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password_chosen")).actor_id == nina.id

    again = choose(client.application.test_client(), path, "another long password")
    assert again.status_code == 410 and "This link has already been used" in again.get_data(as_text=True)
    assert client.get(path).status_code == 410
    assert can_sign_in(app, nina.email, NEW_PASSWORD) and not can_sign_in(app, nina.email, "another long password")
    assert deliver_outbox().sent == 0  # no "password changed" notice after an invitation


def test_a_short_password_is_refused_and_the_link_still_works(app, client, smtp):
    invite(client)
    deliver_outbox()
    path = password_link(smtp.to("nina.horvat")[0])
    refused = choose(client, path, "too-short")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "<title>Error: " in html
    assert 'href="#field-password"' in html and "The password needs at least 10 characters" in html
    assert "too-short" not in html  # a password is never shown back
    assert "Your password is saved" in loaded(choose(client, path))


def test_an_expired_invitation_gets_a_plain_page(app, client, smtp):
    nina = invite(client)
    deliver_outbox()
    path = password_link(smtp.to("nina.horvat")[0])
    with freeze_time(utcnow() + dt.timedelta(days=7, minutes=1)):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 410 and "This link has expired" in html
        assert "Invitation links work for 7 days" in html and "ask an administrator" in html
        assert 'type="password"' not in html
        assert choose(client, path).status_code == 410
    assert not can_sign_in(app, nina.email, NEW_PASSWORD)


def test_a_deactivated_person_gets_a_plain_page(app, client, smtp):
    nina = invite(client)
    deliver_outbox()
    path = password_link(smtp.to("nina.horvat")[0])
    update_user(user("admin@bigbuyers.example.eu"), nina, name=nina.name, email=nina.email,
                organisation_id=nina.organisation_id, roles=["buyer"], active=False)
    db.session.commit()
    page = client.get(path)
    assert page.status_code == 410 and "This account is closed" in page.get_data(as_text=True)
    assert choose(client, path).status_code == 410
    assert not user(nina.email).check_password(NEW_PASSWORD)


def test_an_unknown_or_altered_link_does_not_work(client):
    page = client.get("/account/password/not-a-link-this-service-sent")
    assert page.status_code == 404 and "This link does not work" in page.get_data(as_text=True)


def test_an_administrator_sends_a_new_link_and_the_earlier_one_dies(app, client, smtp):
    nina = invite(client)
    deliver_outbox()
    first = password_link(smtp.to("nina.horvat")[0])
    sign_in(client, "admin")
    response = client.post(f"/admin/people/{nina.id}/invitation",
                           data={"csrf_token": csrf_token(client, f"/admin/people/{nina.id}")})
    assert response.status_code == 302
    assert "a new link to choose a password" in loaded(client.get(response.headers["Location"]))
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/inbox")})
    deliver_outbox()
    second_message = smtp.to("nina.horvat")[1]
    assert second_message["Subject"] == "Choose a password for Big Buyers Workflow"
    second = password_link(second_message)
    page = client.get(first)
    assert page.status_code == 410 and "This link has been replaced" in page.get_data(as_text=True)
    assert "Your password is saved" in loaded(choose(client, second))


def test_no_new_link_for_a_deactivated_person(app, client):
    kati = user("kati.tamm@tallinn.example.eu")
    kati.active = False
    db.session.commit()
    sign_in(client, "admin")
    before = outbox_count()
    response = client.post(f"/admin/people/{kati.id}/invitation",
                           data={"csrf_token": csrf_token(client, f"/admin/people/{kati.id}")})
    assert response.status_code == 400 and "reactivate the account first" in response.get_data(as_text=True)
    assert outbox_count() == before


# --- Forgotten password ---------------------------------------------------------------------------


def test_the_sign_in_page_links_to_forgotten_password(client):
    html = loaded(client.get("/sign-in"))
    assert 'href="/account/forgotten-password">Forgotten your password?</a>' in html


def test_an_unknown_address_gets_the_same_answer_and_no_email(client):
    before = outbox_count()
    unknown = forgot(client, "nobody@nowhere.example.eu")
    known = forgot(client, "ana.costa@lisboa.example.eu")
    assert unknown.status_code == known.status_code == 200

    def answer(response) -> str:
        main = response.get_data(as_text=True).split("<main", 1)[1]
        return re.sub(r"<strong>[^<]*</strong>", "ADDRESS", re.sub(r'value="[^"]+"', "", main))

    assert CHECK_EMAIL in answer(unknown) and answer(unknown) == answer(known)
    assert outbox_count() == before + 1  # only the known address got one
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.to_address).order_by(OutboxMessage.id.desc()).limit(1)) == \
        "ana.costa@lisboa.example.eu"


def test_a_deactivated_account_gets_the_same_answer_and_no_email(client):
    kati = user("kati.tamm@tallinn.example.eu")
    kati.active = False
    db.session.commit()
    before = outbox_count()
    assert CHECK_EMAIL in loaded(forgot(client, "kati.tamm@tallinn.example.eu"))
    assert outbox_count() == before


def test_the_address_must_look_like_one(client):
    response = forgot(client, "not an address")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'href="#field-email"' in html and 'id="field-email-error"' in html


def test_a_forgotten_password_link_works_once_and_a_notice_follows(app, client, smtp):
    loaded(forgot(client, "ANA.Costa@lisboa.example.eu "))  # as people type it
    deliver_outbox()
    [message] = smtp.to("ana.costa")
    assert message["Subject"] == "Choose a new password for Big Buyers Workflow"
    assert "within 60 minutes" in parts(message)[0]
    path = password_link(message)
    assert can_sign_in(app, "ana.costa@lisboa.example.eu", "bigbuyers-demo")  # until a new one is chosen
    assert "Your password is saved" in loaded(choose(client, path))
    assert can_sign_in(app, "ana.costa@lisboa.example.eu", NEW_PASSWORD)
    assert not can_sign_in(app, "ana.costa@lisboa.example.eu", "bigbuyers-demo")
    assert choose(client, path, "yet another password").status_code == 410

    deliver_outbox()
    [_, notice] = smtp.to("ana.costa")
    assert notice["Subject"] == "Your Big Buyers Workflow password was changed"
    assert "If it was not you" in parts(notice)[0]
    assert not PASSWORD_LINK.search(parts(notice)[0])


def test_a_new_password_signs_the_person_out_everywhere(app, client, smtp):
    elsewhere = app.test_client()
    sign_in(elsewhere, "ana")  # whoever knew the old password, say
    assert elsewhere.get("/inbox").status_code == 200
    forgot(client, "ana.costa@lisboa.example.eu")
    deliver_outbox()
    assert "Your password is saved" in loaded(choose(client, password_link(smtp.to("ana.costa")[0])))
    response = elsewhere.get("/inbox")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_new_request_kills_the_earlier_link(app, client, smtp):
    forgot(client, "ana.costa@lisboa.example.eu")
    deliver_outbox()
    forgot(client, "ana.costa@lisboa.example.eu")
    deliver_outbox()
    first, second = (password_link(m) for m in smtp.to("ana.costa"))
    assert first != second
    page = client.get(first)
    assert page.status_code == 410 and "This link has been replaced" in page.get_data(as_text=True)
    assert choose(client, first).status_code == 410
    assert "Your password is saved" in loaded(choose(client, second))


def test_a_link_asked_for_before_the_email_went_out_is_not_minted(app, client, smtp):
    """Two requests before the worker's round: the first email's link points to the
    forgotten-password page, not to a secret that would work."""
    forgot(client, "ana.costa@lisboa.example.eu")
    forgot(client, "ana.costa@lisboa.example.eu")
    deliver_outbox()
    first, second = smtp.to("ana.costa")
    assert not PASSWORD_LINK.search(parts(first)[0]) and "http://mail.test/account/forgotten-password" in \
        parts(first)[0]
    assert "Your password is saved" in loaded(choose(client, password_link(second)))


def test_a_forgotten_password_link_expires_after_an_hour(app, client, smtp):
    forgot(client, "ana.costa@lisboa.example.eu")
    deliver_outbox()
    path = password_link(smtp.to("ana.costa")[0])
    with freeze_time(utcnow() + dt.timedelta(minutes=61)):
        page = client.get(path)
        assert page.status_code == 410 and "work for 60 minutes" in page.get_data(as_text=True)
    assert can_sign_in(app, "ana.costa@lisboa.example.eu", "bigbuyers-demo")


@pytest.mark.app_config(PASSWORD_RESETS_PER_HOUR=2)
def test_one_account_gets_a_few_emails_an_hour_at_most(client):
    before = outbox_count()
    for _ in range(4):
        assert CHECK_EMAIL in loaded(forgot(client, "ana.costa@lisboa.example.eu"))
    assert outbox_count() == before + 2


# --- The command line -----------------------------------------------------------------------------


def test_the_cli_asks_the_first_administrator_for_a_password(app):
    db.session.execute(User.__table__.update().values(active=False))  # no administrator can sign in
    db.session.commit()
    before = outbox_count()
    result = app.test_cli_runner().invoke(args=[
        "people", "add-user", "--email", "root@bigbuyers.example.eu", "--name", "First Admin",
        "--organisation", "EUROCITIES", "--role", "administrator"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "the first administrator" in result.output
    first = user("root@bigbuyers.example.eu")
    assert first.has_role(Role.ADMINISTRATOR) and first.check_password(NEW_PASSWORD)
    assert outbox_count() == before


def test_the_cli_invites_everyone_else(app, smtp):
    runner = app.test_cli_runner()
    result = runner.invoke(args=[
        "people", "add-user", "--email", "second.admin@bigbuyers.example.eu", "--name", "Second Admin",
        "--organisation", "EUROCITIES", "--role", "administrator"], input="")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output and "an invitation to choose a password is queued" in result.output
    result = runner.invoke(args=["people", "add-user", "--email", "ivo@split.example.eu", "--name", "Ivo",
                                 "--role", "buyer"], input="")
    assert result.exit_code == 0, result.output
    assert deliver_outbox().sent == 2
    for who in ("second.admin", "ivo"):
        [message] = smtp.to(who)
        assert message["Subject"] == "You are invited to Big Buyers Workflow"
        password_link(message)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation_sent",
                                                      AuditEvent.channel == "cli")) is not None


def test_the_email_page_shows_a_queued_invitation_without_its_marker(client):
    """Administration → Email shows what a queued invitation will say: the link is made only
    when it is sent, and the page says so instead of showing the app's placeholder."""
    invite(client)
    row = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    sign_in(client, "admin")
    page = loaded(client.get(f"/admin/mail/{row.id}"))
    assert "%%ACCOUNT" not in page
    assert "[a one-use link to choose a password, made when the email is sent]" in page
    assert "%%ACCOUNT" not in loaded(client.get(f"/admin/mail/{row.id}/html"))
