"""Accounts by email, in the browser: an administrator invites a person, who chooses a password
from the emailed link and signs in; a person who forgot their password asks for a link, chooses
a new one and signs in with it. The emails go through the outbox to a real SMTP server."""

from __future__ import annotations

import re

from app.cli import DEMO_PASSWORD
from tests.conftest import person

PASSWORD_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/account/password/[\w-]+)")
NINAS_PASSWORD = "zagreb trams at dawn"
ANAS_NEW_PASSWORD = "lisbon tiles and rain"


def link_in(mail, message) -> str:
    [link] = set(PASSWORD_LINK.findall(mail.text(message)))
    return link


def sign_in_on_the_page(user, email: str, password: str):
    user.page.get_by_label("Email address").fill(email)
    user.page.get_by_label("Password", exact=True).fill(password)
    return user.send("signed-in", button="Sign in")


def test_an_invited_person_chooses_a_password_and_signs_in(people, live_server):
    admin = people("admin")
    admin.open("/admin/people", "people")
    page = admin.click("Add a person", "add-person")
    assert page.locator('input[type="password"]').count() == 0  # administrators never type one
    page.get_by_label("Full name").fill("Nina Horvat")
    page.get_by_label("Email address").fill("nina.horvat@zagreb.example.eu")
    page.get_by_label("Organisation").select_option(label="EUROCITIES")
    admin.send("person-added", button="Add person")
    assert "We are emailing nina.horvat@zagreb.example.eu an invitation" in admin.text()

    [invitation] = live_server.mail.to("nina.horvat")
    assert invitation["Subject"] == "You are invited to Big Buyers Workflow"
    link = link_in(live_server.mail, invitation)

    nina = people("nina", signed_in=False)
    page = nina.open(link, "choose-password")
    assert "Nina Horvat" in nina.text() and "nina.horvat@zagreb.example.eu" in nina.text()
    page.get_by_label("New password").fill("short")
    nina.send("password-too-short", button="Save password")
    assert page.title().startswith("Error: ") and "at least 10 characters" in nina.text()
    page.get_by_label("New password").fill(NINAS_PASSWORD)
    nina.send("password-saved", button="Save password")
    assert "Your password is saved" in nina.text()

    nina.click("Sign in", "sign-in")
    sign_in_on_the_page(nina, "nina.horvat@zagreb.example.eu", NINAS_PASSWORD)
    assert nina.page.url.endswith("/inbox")

    response = nina.page.goto(link)  # the same link a second time
    assert response is not None and response.status == 410
    nina.seen("link-used")
    assert "This link has already been used" in nina.text()

    # Nina has lost her password: the administrator sends her a new link from her page.
    admin.open(f"/admin/people/{person('nina').id}", "ninas-page")
    assert admin.page.locator('input[type="password"]').count() == 0
    admin.send("new-link-sent", button="Send a new invitation / password link")
    assert "We are emailing nina.horvat@zagreb.example.eu a new link" in admin.text()
    assert [m["Subject"] for m in live_server.mail.to("nina.horvat")] == [
        "You are invited to Big Buyers Workflow", "Choose a password for Big Buyers Workflow"]


def test_a_forgotten_password_is_replaced_from_the_emailed_link(people, live_server):
    ana = people("ana", signed_in=False)
    ana.open("/sign-in", "sign-in")
    page = ana.click("Forgotten your password?", "forgotten-password")
    ana.send("no-address", button="Send me a link")
    assert page.title().startswith("Error: ") and "Enter your email address" in ana.text()
    page.get_by_label("Email address").fill("ana.costa@lisboa.example.eu")
    ana.send("check-your-email", button="Send me a link")
    assert "If an account uses ana.costa@lisboa.example.eu, we have sent it a link" in ana.text()

    [message] = live_server.mail.to("ana")
    assert message["Subject"] == "Choose a new password for Big Buyers Workflow"
    page = ana.open(link_in(live_server.mail, message), "choose-new-password")
    page.get_by_label("New password").fill(ANAS_NEW_PASSWORD)
    ana.send("new-password-saved", button="Save password")
    ana.click("Sign in", "sign-in-again")
    sign_in_on_the_page(ana, "ana.costa@lisboa.example.eu", ANAS_NEW_PASSWORD)
    assert ana.page.url.endswith("/inbox")

    notices = [m for m in live_server.mail.to("ana") if m is not message]
    assert [m["Subject"] for m in notices] == ["Your Big Buyers Workflow password was changed"]
    assert DEMO_PASSWORD not in live_server.mail.text(notices[0])
