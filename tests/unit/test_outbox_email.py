"""The outbox writes its messages itself (app/services/outbox.py ``write_message``): what it
writes must read back, through Python's own e-mail parser, as exactly what was meant, and keep
to the line limits of RFC 5322 whatever the text."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.utils import parseaddr

import pytest

from app.outbox.compose import address, write_message

SENDER = "Big Buyers Workflow <no-reply@bigbuyers.example.eu>"


def written(subject: str, to: str, text: str, html: str) -> tuple[bytes, object]:
    raw = write_message(sender=address(SENDER), to=parseaddr(to), subject=subject, text=text, html=html,
                        message_id="<bbw-1f2e3d-7@bigbuyers.example.eu>", date=1_795_000_000.0)
    return raw, message_from_bytes(raw, policy=policy.default)


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


@pytest.mark.parametrize(("subject", "to", "text", "html"), CASES)
def test_a_written_message_reads_back_as_it_was_meant(subject, to, text, html):
    raw, parsed = written(subject, to, text, html)
    assert parsed["Subject"] == subject  # no leading space from a fold right after "Subject:"
    assert parsed["From"].addresses[0].display_name == "Big Buyers Workflow"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@bigbuyers.example.eu"
    sent_to = parsed["To"].addresses[0]
    assert (sent_to.display_name, sent_to.addr_spec) == parseaddr(to)
    assert parsed["Message-ID"] == "<bbw-1f2e3d-7@bigbuyers.example.eu>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert parsed.defects == [] and all(part.defects == [] for part in parsed.walk())


@pytest.mark.parametrize(("subject", "to", "text", "html"), CASES)
def test_every_line_is_ascii_crlf_and_within_the_limits(subject, to, text, html):
    raw, _ = written(subject, to, text, html)
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
