"""Two-step sign-in, with the keyboard alone: a new administrator signs in, sets up an
authenticator app (typing its key, as someone without a camera would), saves the recovery
codes, and signs in again with a code, once with a wrong one first; later with a recovery
code. Then the demo administrator resets that second factor, as after a lost phone."""

from __future__ import annotations

import re

import pyotp

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import Role
from app.services.people import create_user
from tests.conftest import next_code

EMAIL = "second.admin@bigbuyers.example.eu"


def sign_in_by_keyboard(user, email: str, name: str) -> None:
    page = user.open("/sign-in", "sign-in")
    user.type_into("Email address", email)
    user.page.keyboard.press("Tab")
    assert user.has_focus(page.get_by_label("Password"))
    user.page.keyboard.type(DEMO_PASSWORD)
    user.press("Enter", name)  # Enter in a field submits its form


def enter_code(user, label: str, code: str, name: str):
    user.type_into(label, code)
    return user.press("Enter", name)


def sign_out_by_keyboard(user) -> None:
    user.tab_to(user.page.get_by_role("button", name="Sign out"), back=True)
    user.press("Enter", "signed-out")


def test_an_administrator_sets_up_two_step_sign_in_and_uses_it(people, live_server):
    newcomer = create_user(EMAIL, "Second Administrator", DEMO_PASSWORD, [Role.ADMINISTRATOR], "EUROCITIES")
    db.session.commit()
    second = people("second.admin", signed_in=False)

    sign_in_by_keyboard(second, EMAIL, "set-up")
    assert second.page.url.endswith("/sign-in/set-up")
    assert second.page.get_by_role("img", name="QR code holding the set-up key shown below").is_visible()
    key = second.page.locator("#set-up-key").inner_text().replace(" ", "")
    page = enter_code(second, "3. Enter the code the app shows", pyotp.TOTP(key).now(), "recovery-codes")
    assert "Two-step sign-in is on" in second.text()
    codes = re.findall(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b", second.text())
    assert len(set(codes)) == 10
    second.tab_to(page.get_by_role("link", name="I have saved my recovery codes"))
    second.press("Enter", "inbox")
    assert second.page.url.endswith("/inbox")

    sign_out_by_keyboard(second)
    sign_in_by_keyboard(second, EMAIL, "code")
    assert "Enter the code from your authenticator app" in second.text()
    enter_code(second, "Code", "000000", "wrong-code")
    assert "The code is not right" in second.text() and "4 tries left" in second.text()
    enter_code(second, "Code", next_code(newcomer.id), "inbox-after-code")
    assert second.page.url.endswith("/inbox")

    sign_out_by_keyboard(second)
    sign_in_by_keyboard(second, EMAIL, "code-again")
    enter_code(second, "Code", codes[0], "inbox-after-recovery-code")
    assert "You have 9 recovery codes left" in second.text()

    admin = people("admin")  # through the second step too, with the demo key
    admin.open(f"/admin/people/{newcomer.id}", "person")
    page = admin.click(f"Two-step sign-in of {newcomer.name}", "person-two-step")
    assert "Recovery codes left 9 of 10" in admin.text()
    admin.tab_to(page.get_by_role("button", name="Reset two-step sign-in"))
    admin.press("Enter", "reset")
    assert "Two-step sign-in of Second Administrator is reset" in admin.text()

    second.open("/requests", "signed-out-after-reset")  # the next page signs them out
    assert second.page.url.endswith("/sign-in") and "Sign in again to set up" in second.text()
