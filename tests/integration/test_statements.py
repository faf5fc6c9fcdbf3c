"""The accessibility statement and the privacy notice: public, in every footer, their settings
shown, and the privacy notice's personal data read from the active diagrams."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, sign_in
from tests.diagrams import text, upload_process

PAGES = ("/accessibility", "/privacy")
NEW_FIELD = ('<camunda:formField id="contact_phone" label="Your phone number" type="string">'
             '<camunda:properties><camunda:property id="personal" value="phone number" /></camunda:properties>'
             '</camunda:formField>\n          ')


def html(response) -> str:
    return response.get_data(as_text=True)


def row(page: str, process: str) -> str:
    """The text of the privacy notice's table row of ``process``."""
    found = re.search(rf'<th scope="row" class="govuk-table__header">{process}</th>(.*?)</tr>', page, re.S)
    assert found, f"no row for {process}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


@pytest.mark.parametrize("url", PAGES)
def test_the_statements_open_without_signing_in_and_when_signed_in(client, url):
    signed_out = client.get(url)
    assert signed_out.status_code == 200
    sign_in(client, "marta")
    signed_in = client.get(url)
    assert signed_in.status_code == 200
    assert "Marta" in text(signed_in) and "Marta" not in text(signed_out)


def footer_links(client, url: str) -> None:
    page = html(client.get(url))
    footer = page[page.index("<footer"):]
    assert 'href="/accessibility">Accessibility statement</a>' in footer, url
    assert 'href="/privacy">Privacy notice</a>' in footer, url


def test_every_page_links_both_statements_in_its_footer(client):
    for url in ("/sign-in", "/accessibility", "/privacy", "/account/forgotten-password", "/no-such-page"):
        footer_links(client, url)
    sign_in(client, "clara")
    for url in ("/inbox", "/start", "/requests", "/groups", "/monitor/instances", "/profile", "/no-such-page"):
        footer_links(client, url)


def test_each_start_form_links_the_privacy_notice(client):
    sign_in(client, "marta")
    for process in ("travel_reimbursement", "expert_request"):
        page = html(client.get(f"/start/{process}"))
        assert '<a class="govuk-link" href="/privacy">How we use your information</a>' in page, process


def test_the_privacy_notice_lists_the_personal_fields_of_the_active_diagrams(client):
    page = html(client.get("/privacy"))
    travel = row(page, "Travel reimbursement")
    assert "IBAN (bank details)" in travel
    assert "7 years after the claim is finished" in travel
    onboarding = row(page, "Group onboarding")
    assert "12 months after a rejected application" in onboarding
    assert "Contact person (contact details)" in onboarding and "Name of the signatory (signature)" in onboarding
    assert "Expert email (contact details of the expert)" in row(page, "Expert request")
    assert "Attendance list (names of attendees)" in row(page, "Market engagement event")
    assert "Your phone number" not in page
    assert "secretariat coordinators and finance officers" in page

    bpmn = (ROOT / "workflows" / "group_onboarding.bpmn").read_text()
    revised = bpmn.replace('<camunda:formField id="organisation_name"', NEW_FIELD
                           + '<camunda:formField id="organisation_name"', 1)
    assert revised != bpmn
    upload_process(client, {"group_onboarding.bpmn": revised.encode()})
    page = html(client.get("/privacy"))
    assert "Your phone number (phone number)" in row(page, "Group onboarding")


@pytest.mark.app_config(
    ACCESSIBILITY_CONTACT="access@secretariat.example.eu", ACCESSIBILITY_REVIEWED="2026-11-20",
    ACCESSIBILITY_PREPARED="2026-10-01", ACCESSIBILITY_ENFORCEMENT="Contact the Agency for Digital Belgium.",
    PRIVACY_CONTROLLER="ICLEI Europe", PRIVACY_LEGAL_BASIS="Our contract with the Commission.",
    PRIVACY_DPO_CONTACT="dpo@iclei.example.eu", PRIVACY_RETENTION='{"expert_request": "3 years"}')
def test_the_statements_show_the_settings(client):
    statement = html(client.get("/accessibility"))
    for shown in ('href="mailto:access@secretariat.example.eu"', "20 November 2026", "1 October 2026",
                  "Contact the Agency for Digital Belgium."):
        assert shown in statement
    notice = html(client.get("/privacy"))
    for shown in ("The controller of the personal data in this service is ICLEI Europe.",
                  "Our contract with the Commission.", 'href="mailto:dpo@iclei.example.eu"'):
        assert shown in notice
    assert "3 years" in row(notice, "Expert request")
    assert "7 years" in row(notice, "Travel reimbursement")  # the defaults stay for the others


def test_without_settings_the_statements_say_the_defaults(client):
    statement = html(client.get("/accessibility"))
    assert 'href="mailto:admin@bigbuyers.example.eu"' in statement  # an administrator's address
    assert "Each Member State of the European Union has a body that enforces" in statement
    assert "partially compliant" in statement
    assert "10 minutes" in statement  # TWO_STEP_MINUTES
    notice = text(client.get("/privacy"))
    assert "service is the Big Buyers Initiative secretariat, on behalf of the European Commission." in notice
    assert "Article 6(1)(e)" in notice


@pytest.mark.parametrize("setting", ["7 years", '["7 years"]'])
def test_a_retention_setting_that_is_not_a_json_object_stops_the_start(tmp_path, setting):
    from app import create_app
    from app.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="PRIVACY_RETENTION"):
        create_app({"INSTANCE_PATH": str(tmp_path), "PRIVACY_RETENTION": setting, "TESTING": True})
