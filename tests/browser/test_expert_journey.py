"""Journey c: an expert request above 15 000 EUR goes to finance, then to the Commission.

Marta asks for 25 expert days; Clara estimates 800 EUR a day (20 000 EUR), so the approval
table sends it to Felix (finance) and then to Helena (Commission), after whom the
coordinators assign the expert. Tom records the deliverable the expert hands over (a file
and a summary); Marta sees it first on her acceptance step, downloads it and accepts it.
"""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import fill_date

DELIVERABLE = ("A life-cycle cost model comparing the three offers for refurbished laptops, "
               "with a two-page guidance note for the buyers.")
SUMMARY = "A cost model of the three laptop offers over eight years, and a two-page guidance note."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JUSTIFICATION = ("None of the buyers in the group has done a life-cycle cost analysis of "
                 "refurbished ICT; the model feeds the award criteria of our joint tender.")


def test_expert_request_above_15000_eur_needs_finance_and_the_commission(people, live_server):
    marta = people("marta")
    marta.click("Start a request", "start-list")
    page = marta.click("Expert request", "request-form")
    page.get_by_label("Circular ICT (ICT equipment)").check()
    marta.choose("Life-cycle costing")
    page.get_by_label("Deliverable").fill(DELIVERABLE)
    page.get_by_label("Expert days").fill("25")
    fill_date(page, "Deadline", dt.date.today() + dt.timedelta(days=60))
    page.get_by_label("Justification").fill(JUSTIFICATION)
    page = marta.send("request-sent")
    request_path = page.url.removeprefix(live_server.url)
    assert "Expert request: Life-cycle costing" in marta.text() and "Assess request" in marta.text()

    clara = people("clara")
    page = clara.open_task("Assess request", "assess-request")
    clara.unfold()
    assert DELIVERABLE in clara.text() and JUSTIFICATION in clara.text()
    clara.choose("Approve")
    page.get_by_label("Estimated daily rate (EUR)").fill("800.00")
    clara.send("request-assessed")

    felix = people("felix")
    page = felix.open_task("Approve budget", "approve-budget")
    assert "20,000.00 EUR" in felix.text()  # 25 days x 800 EUR: above the coordinator's limit
    felix.choose("Approve")
    page.get_by_label("Finance comment").fill("Covered by the 2026 expertise budget.")
    felix.send("budget-approved")

    marta.open(request_path, "request-at-commission")
    assert "Sign off budget" in marta.text() and "Helena Rossi" in marta.text()

    helena = people("helena")
    page = helena.open_task("Sign off budget", "sign-off-budget")
    assert "20,000.00 EUR" in helena.text() and "Covered by the 2026 expertise budget." in helena.text()
    helena.choose("Sign off")
    helena.send("budget-signed-off")
    assert "Done: Sign off budget." in helena.text()

    marta.open(request_path, "request-approved")
    text = marta.text()
    assert "In progress" in text and "Assign expert" in text  # the coordinators find the expert now
    for step in ("Clara Schmidt completed Assess request", "Felix Wagner completed Approve budget",
                 "Helena Rossi completed Sign off budget"):
        assert step in text
    assert any("Assign expert" in m["Subject"] for m in live_server.mail.to("tom")), "Tom was not asked"

    tom = people("tom")
    page = tom.open_task("Assign expert", "assign-expert")
    page.get_by_label("Expert name").fill("Dr Anna Keller")
    page.get_by_label("Expert email").fill("anna.keller@lcc-experts.example")
    page.get_by_label("Daily rate (EUR)").fill("800.00")
    page.get_by_label("Contract reference").fill("BBI-EXP-2026-017")
    tom.send("expert-assigned")
    page = tom.open_task("Record the deliverable", "record-deliverable")
    assert DELIVERABLE in tom.text()  # what was asked for, in the answers above the form
    page.get_by_label("Files handed over").set_input_files(
        files=[{"name": "lcc-model.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_label("Summary of the deliverable").fill(SUMMARY)
    tom.send("deliverable-recorded")
    assert "Done: Record the deliverable." in tom.text()

    page = marta.open_task("Accept deliverable", "accept-deliverable")
    reviewing = " ".join(page.locator(".app-reviewing").inner_text().split())
    assert SUMMARY in reviewing and DELIVERABLE in reviewing and "Dr Anna Keller" in reviewing
    with page.expect_download() as download:
        page.locator(".app-reviewing").get_by_role("link", name="lcc-model.pdf").click()
    assert download.value.suggested_filename == "lcc-model.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == PDF
    marta.choose("Accept deliverable")
    marta.send("deliverable-accepted")
    assert "Done: Accept deliverable." in marta.text()
