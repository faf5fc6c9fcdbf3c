"""Journey d: a market engagement event from its proposal to its closed report.

Ana (lead of Circular ICT) proposes an event within the coordinator's budget; Clara approves
and organises the logistics; the test moves the clock past the event day (the worker's timer
round, run as if on the morning after); Ana reports with an attendance list; Clara closes it.
"""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import PDF, fill_date

EVENT_DAY = dt.date.today() + dt.timedelta(days=45)
TITLE = "Meet the refurbishers: circular laptops and servers"


def test_market_engagement_event_held_reported_and_closed(people, live_server):
    ana = people("ana")
    ana.click("Start a request", "start-list")
    page = ana.click("Market engagement event", "proposal-form")
    page.get_by_label("Circular ICT (ICT equipment)").check()
    page.get_by_label("Title").fill(TITLE)
    ana.choose("Hybrid")
    fill_date(page, "Proposed date", EVENT_DAY)
    page.get_by_label("City or online link").fill("Lisbon")
    page.get_by_label("Market segment").fill("Refurbished ICT equipment")
    page.get_by_label("Target suppliers").fill("Refurbishers and manufacturers' take-back programmes, SMEs welcome.")
    page.get_by_label("Objectives").fill("Learn whether refurbished laptops come at scale with a 5-year warranty.")
    page.get_by_label("Expected participants").fill("60")
    page.get_by_label("Budget for the venue (EUR)").fill("2500.00")
    page.get_by_label("Budget for catering (EUR)").fill("1800.00")
    page.get_by_label("Budget for interpretation (EUR)").fill("700.00")
    page = ana.send("proposal-sent")
    request_path = page.url.removeprefix(live_server.url)
    assert "Review the event proposal" in ana.text()

    clara = people("clara")
    page = clara.open_task("Review the event proposal", "review-event")
    clara.unfold()
    assert TITLE in clara.text() and "2,500.00 EUR" in clara.text()  # what Ana sent, the venue line
    clara.choose("Approve")
    clara.send("event-approved")
    page = clara.open_task("Organise the logistics", "organise-logistics")
    page.get_by_label("Venue confirmed").check()
    page.get_by_label("Registration link").fill("https://events.example.eu/circular-ict")
    fill_date(page, "Invitations go out on", dt.date.today() + dt.timedelta(days=10))
    clara.send("logistics-organised")
    due = EVENT_DAY + dt.timedelta(days=1)
    due_label = f"{due.day} {due:%B}" + (f" {due.year}" if due.year != dt.date.today().year else "")
    assert f"From {due_label}, Ana Costa (group lead) will be asked to report on the event." in clara.text()

    ana.open("/inbox", "inbox-before-the-event")
    assert "Nothing is waiting for you" in ana.text()
    ana.click("My requests", "my-requests-before-the-event")  # what she must do later
    assert f"From {due_label}, you will be asked to report on the event." in ana.text()
    morning_after = dt.datetime.combine(EVENT_DAY + dt.timedelta(days=1), dt.time(8), dt.UTC)
    assert live_server.fire_timers(morning_after - dt.timedelta(days=1)) == 0  # the event day itself
    assert live_server.fire_timers(morning_after) == 1

    ana.open("/inbox", "inbox-after-the-event")
    assert "Report on the event" in ana.text()
    page = ana.open_task("Report on the event", "report-event")
    assert "Your market engagement event has taken place" in ana.text() and TITLE in ana.text()
    page.get_by_label("Suppliers attending").fill("23")
    page.get_by_label("Buyers attending").fill("9")
    page.get_by_label("Key findings").fill("Three refurbishers can supply 5 000 laptops a year with a 5-year warranty.")
    page.get_by_label("Follow-up actions").fill("Draft a joint statement of demand by the group's next meeting.")
    page.get_by_label("Attendance list").set_input_files(
        {"name": "attendance.pdf", "mimeType": "application/pdf", "buffer": PDF})
    ana.send("report-sent")

    page = clara.open_task("Close the event", "close-event")
    clara.unfold()
    assert "Three refurbishers can supply 5 000 laptops" in clara.text() and "attendance.pdf" in clara.text()
    clara.choose("Accept report")
    clara.send("event-closed")

    ana.open(request_path, "request-finished")
    text = ana.text()
    assert "The request finished: Event closed" in text and "Clara Schmidt completed Close the event" in text
    assert "Ana Costa was emailed “Event report accepted" in text
    subjects = [m["Subject"] for m in live_server.mail.to("ana")]
    assert any("Report on the event" in s for s in subjects), subjects  # told when the report was due
