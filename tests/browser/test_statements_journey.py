"""The accessibility statement and the privacy notice, reached from the footer and a start form
by keyboard, signed out and signed in; axe checks each page (the `people` fixture)."""

from __future__ import annotations


def test_the_statements_are_reached_from_the_footer_and_a_start_form(people):
    kati = people("kati", signed_in=False)
    kati.open("/sign-in", "sign-in")
    kati.tab_to(kati.page.get_by_role("link", name="Accessibility statement", exact=True))
    page = kati.press("Enter", "accessibility")
    assert page.get_by_role("heading", level=1).inner_text() == "Accessibility statement for Big Buyers Workflow"
    assert "partially compliant" in kati.text()
    page = kati.click("Privacy notice", "privacy")
    assert "IBAN (bank details)" in page.get_by_role("table").inner_text()

    marta = people("marta")
    marta.open("/start/travel_reimbursement", "start-form")
    marta.tab_to(marta.page.get_by_role("link", name="How we use your information", exact=True))
    page = marta.press("Enter", "privacy-signed-in")
    assert page.get_by_role("heading", level=1).inner_text() == "Privacy notice"
