"""In production, Administration → Email never shows a working decision link.

Production has no local mailbox (APP_ENV=production needs MAIL_SERVER to start); a message
a development run left there still holds links that work until they expire, so the page
shows production's administrators those messages with their links hidden.
"""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from app.outbox.deliver import deliver_outbox
from tests.conftest import loaded, sign_in
from tests.integration.test_travel_http import file_claim

DECIDE = re.compile(r"/decide/[A-Za-z0-9_-]{20,}")


def clara_in_the_local_mailbox(client) -> OutboxMessage:
    """A claim's email to Clara, delivered into the local mailbox as a development run would."""
    file_claim(client)
    server = current_app.config["MAIL_SERVER"]
    current_app.config["MAIL_SERVER"] = ""
    try:
        deliver_outbox()
    finally:
        current_app.config["MAIL_SERVER"] = server
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address.startswith("clara")))
    assert row.transport == "mailbox" and DECIDE.search(row.delivered_text), "no decision link delivered"
    return row


@pytest.mark.app_config(APP_ENV="production", MAIL_SERVER="smtp-relay.invalid", SECRET_KEY="x" * 48)
def test_production_hides_the_local_mailboxs_decision_links(app, client):
    row = clara_in_the_local_mailbox(client)
    sign_in(client, "admin")
    page = loaded(client.get(f"/admin/mail/{row.id}"))
    assert "Marta Nowak&#39;s travel claim for Circular ICT" in page and "please check it" in page
    assert not DECIDE.search(page)
    assert "[a one-use decision link, made when the email is sent]" in page
    html_part = loaded(client.get(f"/admin/mail/{row.id}/html"))
    assert ">Approve the claim…<" in html_part and "/decide/" not in html_part


def test_development_shows_them_to_walk_the_flow_on_one_machine(app, client):
    row = clara_in_the_local_mailbox(client)
    sign_in(client, "admin")
    assert DECIDE.search(loaded(client.get(f"/admin/mail/{row.id}")))
    assert DECIDE.search(loaded(client.get(f"/admin/mail/{row.id}/html")))
