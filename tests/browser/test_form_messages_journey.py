"""Forms in GOV.UK's patterns, as a person meets them: the diagram's own error messages, a
date typed into day, month and year boxes, and a group one's organisation is already in."""

from __future__ import annotations

import datetime as dt


def test_messages_name_what_to_do_and_the_date_summary_link_leads_to_the_day_box(people):
    marta = people("marta")
    page = marta.open("/start/travel_reimbursement", "claim-form")
    assert page.locator("input[type=date]").count() == 0  # no browser date picker
    meeting = page.get_by_role("group", name="Meeting date")
    meeting.get_by_label("Day", exact=True).fill("12")
    meeting.get_by_label("Year", exact=True).fill(str(dt.date.today().year))
    page = marta.send("claim-refused")
    summary = page.locator(".govuk-error-summary")
    messages = summary.get_by_role("link").all_inner_texts()
    assert "Date of the meeting must include a month" in messages
    assert "Enter where you travelled from" in messages and "Enter the cost of tickets in euros" in messages
    assert "Confirm that the claim is true" in messages
    assert not any(message.startswith("Enter the travelling") for message in messages)
    summary.get_by_role("link", name="Date of the meeting must include a month").click()
    day = meeting.get_by_label("Day", exact=True)
    assert marta.has_focus(day) and day.input_value() == "12"  # the first box of the date
    month = meeting.get_by_label("Month", exact=True)
    assert month.get_attribute("aria-invalid") == "true" and day.get_attribute("aria-invalid") is None


def test_a_group_the_organisation_is_in_is_not_offered_and_the_form_says_why(people):
    marta = people("marta")  # City of Gdańsk is a member of Circular ICT
    page = marta.open("/start/group_onboarding", "application-form")
    question = page.get_by_role("group", name="Working group you want to join")
    assert question.get_by_label("Zero-emission construction sites (Construction machinery)").count() == 1
    assert question.get_by_label("Circular ICT (ICT equipment)").count() == 0
    assert "City of Gdańsk is already a member of Circular ICT, so it cannot apply to it again." in marta.text()
