"""Journey: from planning a meeting to the paid travel claim, in a real browser.

Ana, Circular ICT's lead, plans a meeting in Lisbon with an agenda file; Marta gets the
invitation with its calendar file and answers "in person" from the e-mail's link; the
meeting takes place; Clara records who came; Marta files her claim, choosing the meeting
from the list (its name and date are filled for her); a second claim for it is refused;
Clara sees the attendance record and approves; Felix pays; Marta sees the claim paid.
"""

from __future__ import annotations

import datetime as dt
import re

import icalendar
from sqlalchemy import select

from app.extensions import db
from app.models import Meeting
from tests.browser.conftest import PDF, PNG, fill_date
from tests.browser.test_travel_journey import fill_claim
from tests.conftest import person


def test_a_meeting_planned_answered_attended_and_its_travel_claim_paid(people, live_server):
    day = dt.date.today() + dt.timedelta(days=20)
    ana = people("ana")
    ana.click("Working groups", "groups")
    ana.click("Circular ICT", "group-page")
    page = ana.click("Plan a meeting", "plan-form")
    ana.send("plan-errors", button="Plan the meeting and invite the members")  # nothing filled in
    assert "There is a problem" in ana.text() and "Enter the meeting's title" in ana.text()
    page.get_by_role("link", name="Enter the meeting's title").click()
    assert ana.has_focus(page.get_by_label("Title"))
    page.get_by_label("Title").fill("Fourth meeting: tender criteria")
    fill_date(page, "Starts on", day)
    page.get_by_label("Start time").fill("09:30")
    fill_date(page, "Ends on", day)
    page.get_by_label("End time").fill("16:00")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    ana.choose("In person")
    page.get_by_label("City").fill("Lisbon")
    page.get_by_label("Venue").fill("Paços do Concelho, Praça do Município")
    page.get_by_label("Agenda", exact=True).fill("Welcome\nDraft tender criteria")
    page.get_by_label("Agenda files").set_input_files(
        {"name": "agenda.pdf", "mimeType": "application/pdf", "buffer": PDF})
    ana.send("meeting-planned", button="Plan the meeting and invite the members")
    assert "Planned: Fourth meeting: tender criteria" in ana.text() and "agenda.pdf" in ana.text()
    assert "09:30 to 16:00 (Portugal (Lisbon) Time)" in ana.text()

    [invitation] = [m for m in live_server.mail.to("marta") if m["Subject"].startswith("Invitation:")]
    [ics] = [p for p in invitation.iter_attachments() if p.get_content_type() == "text/calendar"]
    event = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Circular ICT: Fourth meeting: tender criteria"
    link = re.search(r"^I will attend in person: (http://\S+/decide/\S+)$", live_server.mail.text(invitation), re.M)
    marta = people("marta")
    marta.open(link.group(1), "answer-confirm")
    assert "Confirm your answer: I will attend in person" in marta.text()
    marta.click("Confirm: I will attend in person", "answer-recorded", role="button")
    assert "Answer recorded" in marta.text()

    # The meeting takes place: three weeks on, its day is in the past.
    meeting = db.session.scalar(select(Meeting).order_by(Meeting.id.desc()))
    moved = dt.timedelta(days=22)
    meeting.starts_at, meeting.ends_at = meeting.starts_at - moved, meeting.ends_at - moved
    db.session.commit()
    day -= moved

    clara = people("clara")
    clara.open(f"/meetings/{meeting.id}", "meeting-after")
    clara.click("Record who came", "attendance-form")
    assert "Answered: in person" in clara.text() and "Did not answer" in clara.text()
    clara.page.locator(f"#attended_{person('ana').id}-online").check()  # Ana joined by video after all
    clara.send("attendance-recorded", button="Save who came")
    assert "Attendance recorded." in clara.text()

    marta.click("Start a request", "start-list")
    page = marta.click("Travel reimbursement", "claim-form")
    label = f"Fourth meeting: tender criteria, {day.day} {day:%B %Y}, Lisbon (Circular ICT)"
    fill_claim(page)
    marta.choose(label)
    page.get_by_label("Meeting attended").fill("")
    fill_date(page, "Meeting date", None)
    fill_date(page, "Departure date", day - dt.timedelta(days=1))
    fill_date(page, "Return date", day + dt.timedelta(days=1))
    marta.send("claim-filed")
    assert "Sent: Travel claim for Fourth meeting: tender criteria, " in marta.text()

    marta.click("Start a request", "start-list-again")
    page = marta.click("Travel reimbursement", "second-claim-form")
    fill_claim(page)
    marta.choose(label)
    page.get_by_label("Meeting attended").fill("")
    fill_date(page, "Meeting date", None)
    fill_date(page, "Departure date", day - dt.timedelta(days=1))
    fill_date(page, "Return date", day + dt.timedelta(days=1))
    page.get_by_label("Receipts").set_input_files({"name": "hotel.png", "mimeType": "image/png", "buffer": PNG})
    marta.send("second-claim-refused")
    assert "You have already claimed travel for “Fourth meeting: tender criteria”" in marta.text()

    page = clara.open_task("Check claim", "check-claim")
    assert "Marta Nowak answered: in person. Attendance recorded by Clara Schmidt: in person." in clara.text()
    clara.choose("Approve the claim")
    clara.send("claim-approved")

    felix = people("felix")
    page = felix.open_task("Approve payment", "approve-payment")
    felix.choose("Approve the payment")
    fill_date(page, "Payment date", dt.date.today())
    page.get_by_label("Payment reference").fill("BB-2026-0077")
    felix.send("payment-approved")

    marta.open(f"/groups/{meeting.group_id}", "group-page-after")
    assert "Fourth meeting: tender criteria" in marta.text() and "Paid" in marta.text()  # the claim's status
    [paid] = [m for m in live_server.mail.to("marta") if m["Subject"].startswith("Your travel claim has been paid")]
    assert "BB-2026-0077" in live_server.mail.text(paid)


def test_a_coordinator_sets_a_groups_year_then_changes_and_cancels_a_meeting(people, live_server):
    clara = people("clara")
    clara.click("Working groups", "groups")
    page = clara.click("Zero-emission construction sites", "group-page")
    clara.click("Change the group's year", "year-form")
    fill_date(page, "First day", dt.date(2027, 1, 15))
    fill_date(page, "Last day", dt.date(2027, 1, 1))
    clara.send("year-errors", button="Save the year")
    assert "The last day must be after the first day" in clara.text()
    page.get_by_role("link", name="The last day must be after the first day").click()
    assert clara.has_focus(page.get_by_role("group", name="Last day").get_by_label("Day", exact=True))
    fill_date(page, "Last day", None)
    page.get_by_role("group", name="Last day").get_by_label("Day", exact=True).fill("14")
    page.get_by_role("group", name="Last day").get_by_label("Year", exact=True).fill("2028")
    clara.send("year-missing-month", button="Save the year")
    assert "The last day of the group's year must include a month" in clara.text()
    fill_date(page, "Last day", dt.date(2028, 1, 14))
    clara.send("year-saved", button="Save the year")
    assert "15 January 2027 to 14 January 2028" in clara.text()

    clara.click("Third meeting: draft tender criteria", "coming-meeting")
    page = clara.click("Change the meeting", "change-form")
    clara.choose("Online")
    page.get_by_label("Video-conference link").fill("meet.example.eu/zero")
    clara.send("change-errors", button="Save and send the update")
    assert "Enter the video-conference link, starting with https://" in clara.text()
    page.get_by_label("Video-conference link").fill("https://meet.example.eu/zero")
    clara.send("meeting-changed", button="Save and send the update")
    assert "Online: https://meet.example.eu/zero" in clara.text()
    clara.click("Cancel the meeting", "cancel-confirm")
    clara.send("meeting-cancelled", button="Cancel the meeting")
    assert "Cancelled: Third meeting: draft tender criteria" in clara.text()
    subjects = [m["Subject"] for m in live_server.mail.to("lukas")]
    assert [s.split(":")[0] for s in subjects] == ["Changed", "Cancelled"]
