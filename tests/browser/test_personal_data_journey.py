"""A person's data by keyboard: Marta downloads hers from her settings, the administrator
downloads hers from her page under People and reads the record of processing; axe checks
each page (the `people` fixture)."""

from __future__ import annotations

import json
import zipfile

from tests.conftest import person


def test_marta_downloads_her_data_and_the_administrator_reads_the_record(people):
    marta = people("marta")
    marta.open("/profile", "settings")
    marta.tab_to(marta.page.get_by_role("link", name="Download your data", exact=True))
    page = marta.press("Enter", "download-page")
    assert page.get_by_role("heading", level=1).inner_text() == "Download your data"
    marta.tab_to(page.get_by_role("button", name="Download (ZIP file)"))
    with page.expect_download() as started:
        page.keyboard.press("Enter")
    download = started.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        assert json.loads(archive.read("account.json"))["name"] == "Marta Nowak"
        assert "README.txt" in archive.namelist()

    admin = people("admin")
    marta_id = person("marta").id
    admin.open(f"/admin/people/{marta_id}", "person")
    page = admin.click("Download the data of Marta Nowak", "download-for-marta")
    assert "Send it only to Marta Nowak" in admin.text()
    with page.expect_download() as started:
        page.get_by_role("button", name="Download (ZIP file)").click()
    with zipfile.ZipFile(started.value.path()) as archive:
        assert json.loads(archive.read("account.json"))["email"] == "marta.nowak@gdansk.example.eu"

    admin.open("/admin/", "administration")
    page = admin.click("Record of processing", "record")
    assert "IBAN (IBAN, bank details)" in admin.text()
    assert page.get_by_role("link", name="Download as a spreadsheet (CSV)").is_visible()
