"""Absence and deputy: Clara sets an absence in her profile (once with the days the wrong way
round), naming Felix; a claim filed meanwhile waits for Felix too, whose email says why."""

from __future__ import annotations

import datetime as dt

from app.steps.lanes import local_today
from tests.browser.conftest import fill_date
from tests.browser.test_travel_journey import fill_claim


def test_a_coordinator_sets_an_absence_and_her_deputy_gets_the_claim(people, live_server):
    today = local_today()
    last = today + dt.timedelta(days=6)
    clara = people("clara")
    page = clara.open("/profile", "profile")
    assert "Tasks already waiting for you when your absence starts are not moved" in clara.text()
    fill_date(page, "First day away", last)
    fill_date(page, "Last day away", today)
    page.get_by_label("Deputy").select_option(label="Felix Wagner (Finance)")
    clara.send("profile-wrong-way-round", button="Save absence")
    assert "The last day must be the same as or after the first day" in clara.text()
    fill_date(page, "First day away", today)
    fill_date(page, "Last day away", last)
    clara.send("profile-absence-saved", button="Save absence")
    assert "Your absence is saved" in clara.page.inner_text("body")
    assert "Felix Wagner deputises for you" in clara.text()

    marta = people("marta")
    marta.click("Start a request", "start-list")
    fill_claim(marta.click("Travel reimbursement", "claim-form"))
    marta.send("request-filed")

    felix = people("felix")
    felix.open_task("Check claim", "check-claim-as-deputy")
    (message,) = [m for m in live_server.mail.to("felix") if "Check claim" in m["Subject"]]
    assert "You are deputising for Clara Schmidt, who is away until" in live_server.mail.text(message)
