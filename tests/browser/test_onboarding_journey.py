"""Journey b, with the keyboard alone: an application to a full group moves to another group.

Kati (Tallinn City) applies to "Zero-emission construction sites", which has 7 members;
Clara approves her eligibility; the group is full, so the offer-another-group task appears
for the coordinators; Clara offers Circular ICT, chosen from the groups; Kati accepts in one
step and Ana, the lead of Circular ICT, is asked to confirm her. Nobody touches a mouse: every step is Tab,
Shift+Tab, Space, Enter, the arrow keys and typing, as a keyboard-only user works.
"""

from __future__ import annotations

from app.cli import DEMO_PASSWORD

FULL_GROUP = "Zero-emission construction sites"
MOTIVATION = ("Tallinn will buy 40 electric excavators and wheel loaders for its street works by 2028 "
              "and wants to write zero-emission site clauses together with other cities.")


def sign_in_by_keyboard(user, email: str) -> None:
    page = user.open("/sign-in", "sign-in")
    user.type_into("Email address", email)
    user.page.keyboard.press("Tab")
    assert user.has_focus(page.get_by_label("Password"))
    user.page.keyboard.type(DEMO_PASSWORD)
    user.press("Enter", "inbox")  # Enter in a field submits its form


def follow(user, link: str, name: str):
    """Tab to the link called ``link`` and press Enter."""
    user.tab_to(user.page.get_by_role("link", name=link, exact=True).first)
    return user.press("Enter", name)


def send_by_keyboard(user, name: str):
    user.tab_to(user.page.get_by_role("button", name="Send"))
    return user.press("Enter", name)


def test_full_group_waiting_list_by_keyboard_alone(people, live_server):
    kati = people("kati", signed_in=False)
    sign_in_by_keyboard(kati, "kati.tamm@tallinn.example.eu")
    follow(kati, "Start a request", "start-list")
    page = follow(kati, "Group onboarding", "application-form")

    kati.type_into("Organisation name", "Tallinn City")
    kati.tab_to(page.get_by_label("City", exact=True))  # the first radio of its group
    kati.page.keyboard.press("Space")
    assert page.get_by_label("City", exact=True).is_checked()
    kati.tab_to(page.get_by_label("Country"))
    kati.page.keyboard.type("Estonia")  # a closed select jumps to the option typed
    assert page.get_by_label("Country").input_value() == "EE"
    kati.type_into("Contact person", "Kati Tamm")
    kati.type_into("Contact email", "kati.tamm@tallinn.example.eu")
    kati.tab_to(page.get_by_label("Circular ICT (ICT equipment)"))
    kati.page.keyboard.press("ArrowDown")  # arrows move to, and choose, the next radio
    assert page.get_by_label(f"{FULL_GROUP} (Construction machinery)").is_checked()
    kati.tab_to(page.get_by_label("Under EUR 10 million"))
    for _ in range(2):
        kati.page.keyboard.press("ArrowDown")
    assert page.get_by_label("EUR 100 million to 1 billion").is_checked()
    kati.type_into("Motivation", MOTIVATION)
    commitment = page.get_by_label("We commit to take part in the group's work for up to 12 months")
    kati.tab_to(commitment)
    kati.page.keyboard.press("Space")
    assert commitment.is_checked()
    page = send_by_keyboard(kati, "request-sent")
    assert "/requests/" in page.url
    request_path = page.url.removeprefix(live_server.url)
    assert "In progress" in kati.text() and "Review eligibility" in kati.text()

    clara = people("clara", signed_in=False)
    sign_in_by_keyboard(clara, "clara.schmidt@iclei.example.eu")
    page = follow(clara, "Review eligibility", "review-eligibility")
    # What Clara reviews is on the page, first, not folded away: the organisation, its country,
    # the group and the motivation.
    reviewing = " ".join(page.locator(".app-reviewing").inner_text().split())
    for shown in ("Tallinn City", "Estonia", FULL_GROUP, MOTIVATION):
        assert shown in reviewing, shown
    clara.tab_to(page.get_by_label("Approve", exact=True))
    clara.page.keyboard.press("Space")
    page = send_by_keyboard(clara, "eligibility-approved")
    # the group has 7 members: no lead is asked; the coordinators must offer another group
    assert "Offer another group" in clara.text()

    page = follow(clara, "Offer another group", "offer-other-group")
    assert "the applicant is on its waiting list" in clara.text()
    clara.tab_to(page.get_by_label("Offer another group", exact=True))
    clara.page.keyboard.press("Space")
    clara.tab_to(page.get_by_label("Circular ICT (ICT equipment)"))  # the groups are choices, not a text box
    clara.page.keyboard.press("Space")
    assert page.get_by_label("Circular ICT (ICT equipment)").is_checked()
    clara.type_into("Comment to the applicant", "Circular ICT also buys for street works depots.")
    send_by_keyboard(clara, "other-group-offered")
    assert "Done: Offer another group." in clara.text()

    # Kati accepts the offer in one step: her application goes on with Circular ICT.
    kati.open("/inbox", "inbox-offer")
    page = follow(kati, "Answer the offer of another group", "answer-offer")
    assert "Circular ICT (ICT equipment)" in kati.text() and "nothing to fill in again" in kati.text()
    assert "Group to offer Circular ICT" in kati.text()  # the offer as sent, in the answers above the form
    kati.tab_to(page.get_by_label("Yes, join this group"))
    kati.page.keyboard.press("Space")
    send_by_keyboard(kati, "offer-accepted")
    assert "Done: Answer the offer of another group." in kati.text()

    kati.open(request_path, "request-with-new-group")
    text = kati.text()
    assert "In progress" in text and "Confirm the new member" in text and "Circular ICT" in text
    subjects = [m["Subject"] for m in live_server.mail.to("kati")]
    assert len(subjects) == 2, subjects  # told she is on the waiting list, then asked about the offer
    ana = people("ana")  # the lead of the group offered confirms the new member
    assert "Confirm the new member" in ana.text()
