"""After a failed submit the error summary takes the focus, and each of its links moves the
focus to its own field: what a keyboard or screen-reader user needs to fix the form."""

from __future__ import annotations

OWN_FIELD = """([id, message]) => {
    const target = document.getElementById(id), focused = document.activeElement;
    const group = focused.closest('.govuk-form-group--error');
    return {
        onTarget: focused === target || (target !== null && target.contains(focused)),
        isControl: focused.matches('input, select, textarea'),
        saysWhy: group !== null && group.querySelector('.govuk-error-message').innerText.includes(message),
        focused: focused.outerHTML.slice(0, 120),
    };
}"""


def test_error_summary_takes_focus_and_its_links_lead_to_their_fields(people):
    kati = people("kati")
    page = kati.open("/start/group_onboarding", "application-form")
    kati.tab_to(page.get_by_role("button", name="Send"))
    kati.press("Enter", "application-refused")  # nothing filled in

    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert kati.has_focus(summary), f"the focus is on {kati.focused()}"
    links = summary.get_by_role("link")
    count = links.count()
    # name, type (radios), country (a select), contact, email, spend (radios), motivation
    # (a textarea), commitment (a checkbox)
    assert count == 8, f"{count} problems listed for an empty application"

    for number in range(count):
        link = links.nth(number)
        href, message = link.get_attribute("href"), link.inner_text().strip()
        # From the summary Tab goes forwards to the first link; from a field, Shift+Tab back up.
        kati.tab_to(link, back=number > 0)
        page.keyboard.press("Enter")
        where = page.evaluate(OWN_FIELD, [href.removeprefix("#"), message])
        assert where["onTarget"] and where["isControl"], (message, href, where["focused"])
        assert where["saysWhy"], f"the field focused for {message!r} does not show that message"
    page.screenshot(path=kati.journey.folder / "99-kati-last-error-field.png")
