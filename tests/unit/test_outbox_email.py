"""The outbox's messages are written by Python's ``email`` package (``compose_message``): what
a recipient's mail program reads of one must be exactly what was meant, within the line limits
of RFC 5322 and RFC 2045 whatever the text, and with UTF-8 headers only where an address needs
them (SMTPUTF8)."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from email.utils import parseaddr

import pytest

from app.outbox.compose import compose_message

SENDER = "Big Buyers Workflow <no-reply@bigbuyers.example.eu>"
MESSAGE_ID = "<bbw-1f2e3d-7@bigbuyers.example.eu>"


def received(subject: str, to: str, text: str, html: str) -> tuple[bytes, email.message.EmailMessage]:
    """The bytes as they go over SMTP (smtplib's send_message writes them with the message's
    policy), and the message a recipient's program parses from them."""
    message = compose_message(sender=parseaddr(SENDER), to=parseaddr(to), subject=subject, text=text, html=html,
                              message_id=MESSAGE_ID, date=dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC))
    raw = message.as_bytes()
    parsed = (email.message_from_bytes(raw, policy=policy.default) if raw.isascii()  # UTF-8 headers: RFC 6532
              else email.message_from_string(raw.decode("utf-8"), policy=policy.default))
    return raw, parsed


def as_lines(content: str) -> str:
    """What a part reads back as: its lines as given, the last one ended (as MIME parts' are)."""
    content = content.replace("\r\n", "\n")
    return content if content.endswith("\n") else content + "\n"


CASES = [
    pytest.param("Waiting for you: Check claim", "Clara Schmidt <clara@iclei.example.eu>",
                 "Dear Clara,\n\nPlease check.\n", "<p>Please check.</p>", id="ascii"),
    pytest.param("Your decision, please: Check claim – Travel reimbursement: Circular ICT, 4th meeting, "
                 "Lisbon, with a subject long enough to be folded twice over the line limit of headers",
                 "Łukasz Żółć <lukasz@gdansk.example.eu>",
                 "Dzień dobry Łukasz,\n\n- Total claimed (EUR): 1 234,50 €\n" + "x" * 300 + "\n. a line with a dot\n"
                 "= signs = and trailing spaces   \n\nOpen: https://bigbuyers.example.eu/decide/" + "A" * 43 + "\n",
                 "<p>€ 1 234,50 – " + "y" * 500 + "</p>\n<p>second</p>", id="non-ascii, long lines"),
    pytest.param("Waiting for you: Approve payment - Travel reimbursement: Circular ICT, 4th meeting, Lisbon",
                 "finance@iclei.example.eu", "Plain.\n", "<p>Plain.</p>", id="long ascii subject, no name"),
    pytest.param("Re: \"quoted\", commas; and = signs =?utf-8?q?not-a-word?=",
                 "\"Peeters, Tom\" <tom@brussels.example.eu>",
                 "Tom,\r\nwindows line ends\r\n", "<p>x</p>", id="specials"),
]
INTERNATIONAL = [
    pytest.param("Waiting for you: Check claim – Żółć", "Tómas Peeters <tómas.peeters@brussels.example.eu>",
                 "Dear Tómas,\n\n" + "é" * 200 + "\n", "<p>é</p>", id="non-ascii address"),
    pytest.param("Re: =?utf-8?q?not-a-word?= " + "ż" * 60, "\"Peeters, Tómas\" <tómas@brussels.example.eu>",
                 "Plain.\n", "<p>x</p>", id="non-ascii address, specials"),
]


@pytest.mark.parametrize(("subject", "to", "text", "html"), CASES + INTERNATIONAL)
def test_a_message_reads_back_as_it_was_meant(subject, to, text, html):
    _, parsed = received(subject, to, text, html)
    assert parsed["Subject"] == subject  # no leading space from a fold right after "Subject:"
    assert parsed["From"].addresses[0].display_name == "Big Buyers Workflow"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@bigbuyers.example.eu"
    sent_to = parsed["To"].addresses[0]
    assert (sent_to.display_name, sent_to.addr_spec) == parseaddr(to)
    assert parsed["Message-ID"] == MESSAGE_ID
    assert parsed["Date"].datetime == dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == as_lines(text)
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == as_lines(html)
    assert parsed.defects == [] and all(part.defects == [] for part in parsed.walk())
    for part in (parsed.get_body(("plain",)), parsed.get_body(("html",))):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")


@pytest.mark.parametrize(("subject", "to", "text", "html"), CASES + INTERNATIONAL)
def test_every_line_is_crlf_and_within_the_limits(subject, to, text, html):
    raw, _ = received(subject, to, text, html)
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert body.isascii()  # both parts encoded, whatever the address


@pytest.mark.parametrize(("subject", "to", "text", "html"), CASES)
def test_an_ascii_address_gets_an_ascii_message(subject, to, text, html):
    """Any relay takes it: names and subject are encoded (RFC 2047) where they need it."""
    raw, _ = received(subject, to, text, html)
    assert raw.isascii()
