"""Journey a: a travel claim from the claimant's form to "paid", in a real browser.

Marta files a claim with two receipts; Clara asks for changes; Marta fixes and resubmits;
Clara approves from the link in the email the SMTP server received; Felix approves the
payment from his inbox; Marta sees the claim paid and gets the email.
"""

from __future__ import annotations

import datetime as dt
import re

from tests.browser.conftest import PDF, PNG, fill_date

MEETING = "Circular ICT, 3rd meeting, Brussels"
MEETING_DAY = dt.date.today() - dt.timedelta(days=12)


GOOD_IBAN = "PL61 1090 1014 0000 0712 1981 2874"


def fill_claim(page, iban: str = GOOD_IBAN) -> None:
    page.get_by_label("Circular ICT (ICT equipment)").check()
    page.get_by_label("A meeting not listed here").check()  # a meeting the app does not know
    page.get_by_label("Meeting attended").fill(MEETING)
    fill_date(page, "Meeting date", MEETING_DAY)
    page.get_by_label("Travelling from").fill("Gdańsk")
    page.get_by_label("Travelling to").fill("Brussels")
    fill_date(page, "Departure date", MEETING_DAY - dt.timedelta(days=1))
    fill_date(page, "Return date", MEETING_DAY + dt.timedelta(days=1))
    page.get_by_label("Rail", exact=True).check()
    page.get_by_label("One-way distance (km)").fill("1400")
    page.get_by_label("Tickets (EUR)").fill("180.40")
    page.get_by_label("Accommodation nights").fill("2")
    page.get_by_label("Accommodation (EUR)").fill("300.00")
    page.get_by_label("Other costs (EUR)").fill("12.60")
    page.get_by_label("Bank account holder").fill("Marta Nowak")
    page.get_by_label("IBAN").fill(iban)
    page.get_by_label("Receipts").set_input_files([
        {"name": "train.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "hotel.png", "mimeType": "image/png", "buffer": PNG},
    ])
    page.get_by_label("I declare that this claim is true").check()


def test_travel_claim_changed_approved_from_email_and_paid(people, live_server):
    marta = people("marta")
    marta.click("Start a request", "start-list")
    page = marta.click("Travel reimbursement", "claim-form")
    fill_claim(page, iban="PL61 1090 1014 0000 0712 1981 2847")  # two digits swapped
    page = marta.send("claim-refused")  # the IBAN: good format, bad checksum
    text = marta.text()
    assert "The IBAN is not right: check it against your bank details" in text
    # Nothing she sent is lost: the receipts stay uploaded, the total is worked out, the dates kept.
    assert "train.pdf — uploaded" in text and "hotel.png — uploaded" in text
    assert "Total claimed (EUR) 493.00 EUR" in text
    assert page.get_by_role("group", name="Meeting date").get_by_label("Day").input_value() == str(MEETING_DAY.day)
    page.get_by_label("IBAN").fill(GOOD_IBAN)
    page = marta.send("request-filed")
    assert re.search(r"/requests/\d+$", page.url)
    request_url = page.url.removeprefix(live_server.url)
    assert "In progress" in marta.text()
    assert "Clara Schmidt or Tom Peeters (coordinator) will check claim." in marta.text()  # the flash says who is next
    marta.click("My requests", "my-requests-filed")
    assert "Waiting for Clara Schmidt or Tom Peeters (coordinator) to check claim, since" in marta.text()

    clara = people("clara")
    page = clara.open_task("Check claim", "check-claim")
    assert MEETING in clara.text() and "473.00 EUR" in clara.text()  # the eligible amount
    clara.unfold()  # what Marta sent, with her receipts
    assert "train.pdf" in clara.text() and "hotel.png" in clara.text()
    clara.choose("Ask the claimant for changes")
    page.get_by_label("Comment to the claimant").fill("Please add the hotel invoice.")
    clara.send("changes-asked")
    assert "Done: Check claim." in clara.text() and "Nothing is waiting for you" in clara.text()

    page = marta.open_task("Revise claim", "revise-claim")
    assert "Please add the hotel invoice." in marta.text()
    page.get_by_label("Accommodation (EUR)").fill("280.00")
    page.get_by_label("Additional receipts").set_input_files(
        {"name": "hotel-invoice.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("I declare that this claim is true").check()
    marta.send("claim-resubmitted")
    assert "Done: Revise claim." in marta.text()

    # Clara was emailed twice (the first check and the one after the changes); she decides
    # from the latest, in her browser, on the confirmation page the link opens.
    clara_mail = live_server.mail.to("clara")
    assert len(clara_mail) == 2, [m["Subject"] for m in clara_mail]
    latest = live_server.mail.text(clara_mail[-1])
    approve = re.search(r"^Approve[^\n]*: (http://\S+/decide/\S+)$", latest, re.M)
    assert approve, latest
    page = clara.open(approve.group(1), "email-approve-link")
    assert "Confirm your decision: Approve" in clara.text() and "hotel-invoice.pdf" in clara.text()
    clara.go(page.get_by_role("button", name=re.compile("^Confirm: Approve")).click, "decision-recorded")
    assert "Decision recorded" in clara.text()
    assert "What happens next Felix Wagner (finance) will approve payment." in clara.text()
    assert "The people who act next have been told" not in clara.text()

    felix = people("felix")
    page = felix.open_task("Approve payment", "approve-payment")
    assert "473.00 EUR" in felix.text()  # the eligible amount: 180.40 + 280.00 + 12.60
    felix.choose("Approve the payment")
    fill_date(page, "Payment date", dt.date.today())
    page.get_by_label("Payment reference").fill("BB-2026-0042")
    felix.send("payment-approved")
    assert "Marta Nowak was emailed “Your travel claim has been paid: 473.00 EUR”." in felix.text()
    assert "The request is finished: Claim paid." in felix.text()

    marta.open(request_url, "request-paid")
    text = marta.text()
    assert "The request finished: Claim paid" in text and "BB-2026-0042" in text
    marta.click("My requests", "my-requests-paid")
    assert "Paid Finished: Claim paid." in marta.text()
    [paid] = [m for m in live_server.mail.to("marta") if m["Subject"].startswith("Your travel claim has been paid")]
    assert paid["Subject"] == "Your travel claim has been paid: 473.00 EUR"
    body = live_server.mail.text(paid)
    assert "Payment reference: BB-2026-0042" in body and f"{live_server.url}{request_url}" in body
