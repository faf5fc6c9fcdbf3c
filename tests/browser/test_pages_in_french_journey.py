"""A browser set to French or German: the sign-in page, the inbox, a task page and the request
page come in its language and pass axe."""

from __future__ import annotations

import pytest

from tests.browser.test_layout_journey import HEADER_ROWS
from tests.integration.test_travel_http import file_claim, ready_task

PAGES = {
    "fr-FR": {"lang": "fr", "sign_in": "Se connecter", "inbox": "En attente de ma part",
              "task": "Cette demande jusqu’ici", "request": "Historique",
              "english": ("Waiting for me", "This request so far", "History", "Sign out", "What happens next")},
    "de-DE": {"lang": "de", "sign_in": "Anmelden", "inbox": "Für mich zu erledigen",
              "task": "Dieser Antrag bisher", "request": "Verlauf",
              "english": ("Waiting for me", "This request so far", "History", "Sign out", "What happens next")},
}


@pytest.mark.parametrize("locale", PAGES)
def test_the_pages_a_coordinator_uses_come_in_the_browsers_language(people, client, locale):
    words = PAGES[locale]
    instance = file_claim(client)  # Marta's travel claim, waiting for the coordinators
    visitor = people("kati", signed_in=False, locale=locale)
    page = visitor.open("/sign-in", f"sign-in-{words['lang']}")
    assert page.get_by_role("heading", name=words["sign_in"]).is_visible()

    clara = people("clara", locale=locale)  # signs in: the inbox, looked at
    page = clara.page
    assert page.get_by_role("heading", name=words["inbox"]).is_visible()
    check = ready_task(instance, "check_claim")
    clara.open(f"/tasks/{check.id}", f"task-{words['lang']}")
    assert words["task"] in clara.text()
    clara.open(f"/requests/{instance.id}", f"request-{words['lang']}")
    shown = " ".join(page.locator("body").inner_text().split())
    assert words["request"] in shown
    for english in words["english"]:
        assert english not in shown, english


@pytest.mark.parametrize("locale", PAGES)
def test_the_header_fits_at_1280_px_in_french_and_german(people, locale):
    """Longer words than English's: the navigation may take a second row (French does), but
    nothing is cut off or pushed out of the window, and the header stays short."""
    admin = people("admin", locale=locale)  # the longest header: every section, Administration too
    admin.page.set_viewport_size({"width": 1280, "height": 800})
    page = admin.open("/inbox", f"header-1280-{PAGES[locale]['lang']}")
    rows = page.evaluate(HEADER_ROWS)
    assert rows["firstRow"] and rows["navBelow"] and not rows["overflow"], rows
    assert rows["sections"] == 7 and rows["height"] < 110, rows  # Reports too
