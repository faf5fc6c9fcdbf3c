"""Languages in the browser: someone signed out switches the sign-in page to French with the
keyboard; Pierre chooses French, then German, on his settings page, and the page follows."""

from __future__ import annotations

from tests.conftest import person


def test_the_switch_and_the_settings_page_change_the_language(people):
    visitor = people("visitor", signed_in=False)
    page = visitor.open("/sign-in", "sign-in")
    assert page.locator("html").get_attribute("lang") == "en"
    switch = page.get_by_role("navigation", name="Language")
    assert switch.inner_text().split() == ["English", "Français", "Deutsch"]
    visitor.tab_to(switch.get_by_role("link", name="Français"))
    page = visitor.press("Enter", "sign-in-french")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("navigation", name="Langue").get_by_text("Français").get_attribute("aria-current") == "true"

    pierre = people("pierre")
    page = pierre.open("/profile", "profile")
    assert page.get_by_role("group", name="Language").is_visible()
    pierre.tab_to(page.get_by_label("English", exact=True))
    page.keyboard.press("ArrowDown")  # radios: the arrow keys move the choice
    assert page.get_by_label("Français", exact=True).is_checked()
    pierre.tab_to(page.get_by_role("button", name="Save language"))
    page = pierre.press("Enter", "profile-french")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Votre langue est enregistrée." in page.inner_text("body")
    assert page.get_by_role("heading", name="Vos paramètres").is_visible()
    assert person("pierre").language == "fr"

    page.get_by_label("Deutsch", exact=True).check()
    page = pierre.click("Enregistrer la langue", "profile-german", role="button")
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Ihre Sprache ist gespeichert." in page.inner_text("body")
    assert page.get_by_role("heading", name="Ihre Einstellungen").is_visible()
