"""Attachments in S3-compatible object storage (tests/s3.py's real server): while the store is
down Marta's claim comes back with her answers and asks for the receipts again; once it is back
the claim goes, and Clara downloads a receipt, after a plain page while the store was down."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import PDF, PNG
from tests.browser.test_travel_journey import fill_claim
from tests.s3 import bucket, server  # noqa: F401 - the fixtures


def test_a_claim_while_object_storage_is_down_and_after(people, live_server, bucket, server):  # noqa: F811
    marta = people("marta")
    page = marta.open("/start/travel_reimbursement", "claim-form")
    fill_claim(page)
    server.stop()
    try:
        page = marta.send("files-not-saved")
        text = marta.text()
        assert "Your answers are kept below, but the files were not saved: attach them again" in text
        assert page.get_by_label("IBAN").input_value() == "PL61 1090 1014 0000 0712 1981 2874"
    finally:
        server.start()
    page.get_by_label("Receipts").set_input_files([
        {"name": "train.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "hotel.png", "mimeType": "image/png", "buffer": PNG},
    ])
    page = marta.send("request-filed")
    assert re.search(r"/requests/\d+$", page.url)
    request_page = page.url.removeprefix(live_server.url)

    clara = people("clara")
    page = clara.open(request_page, "request")
    clara.unfold()  # the receipts are under "What was sent"
    server.stop()
    try:
        page = clara.click("train.pdf", "download-unavailable")
        assert "The file cannot be downloaded at the moment" in clara.text()
    finally:
        server.start()
    page = clara.open(request_page, "request-again")
    clara.unfold()
    with page.expect_download() as download:
        page.get_by_role("link", name="train.pdf", exact=True).first.click()
    assert download.value.suggested_filename == "train.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
