"""Requests are told apart in the browser, and a task email reads whole.

Kati applies for Tallinn City to two groups and Marta files a travel claim (over HTTP, as
their browsers post them); Clara's inbox tells the three apart by their titles, Marta's
requests show hers. The administrator reads Clara's email about the claim: the subject, the
HTML part with the decision buttons before the link to the form, shown whole, and the text.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from tests.diagrams import start_request
from tests.integration.test_onboarding_http import FULL_GROUP, interest
from tests.integration.test_travel_http import file_claim

CLAIM = "Travel claim for Circular ICT, 3rd meeting, Brussels, 10 November 2026: 493.00 EUR"
ASK = f"Marta Nowak's {CLAIM[0].lower()}{CLAIM[1:]} — please check it."


def test_the_inbox_tells_requests_apart_and_the_task_email_reads_whole(people, live_server):
    client = live_server.app.test_client()
    start_request(client, "kati", "group_onboarding", interest())
    start_request(client, "kati", "group_onboarding", interest(FULL_GROUP))
    claim = file_claim(client)

    clara = people("clara")
    clara.open("/inbox", "clara-inbox")
    rows = clara.page.locator("table tbody tr").all_inner_texts()
    titles = [row for row in rows if "Group onboarding" in row]
    assert len(titles) == 2
    assert any("Group onboarding: Tallinn City, Circular ICT" in row for row in titles)
    assert any(f"Group onboarding: Tallinn City, {FULL_GROUP}" in row for row in titles)
    assert any(CLAIM in row for row in rows)

    marta = people("marta")
    marta.open("/requests", "marta-requests")
    assert CLAIM in marta.text()

    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.instance_id == claim.id, OutboxMessage.to_address.startswith("clara")))
    admin = people("admin")
    page = admin.open(f"/admin/mail/{message.id}", "task-email")
    assert page.get_by_role("heading", level=1).inner_text() == f"Your decision, please: Check claim – {CLAIM}"
    frame = page.frame_locator("iframe.app-mail-frame")
    body = frame.locator("body")
    body.get_by_text("Or sign in to read the whole request").wait_for()
    html_text = " ".join(body.inner_text().split())
    assert ASK in html_text
    assert html_text.index("Approve the claim…") < html_text.index("Or sign in to read the whole request")
    # The frame is as tall as the message: nothing of it is cut off or scrolled away.
    sizes = page.locator("iframe.app-mail-frame").evaluate(
        "f => [f.clientHeight, f.contentDocument.documentElement.scrollHeight]")
    assert sizes[0] >= sizes[1], sizes
    plain = page.locator("pre").inner_text()
    assert " ".join(plain.split()).count(ASK) == 1
    assert plain.index("[a one-use decision link") < plain.index("Or sign in to read the whole request")

    alone = admin.open(f"/admin/mail/{message.id}/html", "task-email-html")  # the HTML part alone, as sent
    assert ASK in " ".join(alone.locator("body").inner_text().split())
