"""Pages and downloads carry personal data: no cache keeps them (Cache-Control: no-store),
the browser's back button after signing out included. Static files stay cacheable."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment
from tests.conftest import sign_in
from tests.integration.test_travel_http import file_claim


def no_store(response) -> bool:
    return response.headers.get("Cache-Control") == "no-store"


def test_pages_and_downloads_are_not_stored(client):
    claim = file_claim(client)  # signed in as Marta
    attachment = db.session.scalar(select(Attachment).where(Attachment.instance_id == claim.id))
    for url in ("/inbox", "/requests", f"/requests/{claim.id}", "/profile", "/start"):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), (url, response.headers.get("Cache-Control"))
    download = client.get(f"/attachments/{attachment.id}")
    download.close()
    assert download.status_code == 200 and no_store(download), download.headers.get("Cache-Control")
    assert no_store(client.get("/requests/999999"))  # a 404 page too

    sign_in(client, "clara")
    for url in ("/monitor/instances", "/monitor/instances.csv", f"/monitor/instances/{claim.id}",
                f"/monitor/instances/{claim.id}/markers.json"):
        response = client.get(url)
        assert response.status_code == 200 and no_store(response), (url, response.headers.get("Cache-Control"))


def test_the_sign_in_page_and_redirects_are_not_stored(client):
    assert no_store(client.get("/sign-in"))
    assert no_store(client.get("/inbox"))  # the redirect to sign in


def test_static_files_stay_cacheable(client):
    for url in ("/static/app.css", "/static/app.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
        assert "no-store" not in response.headers.get("Cache-Control", ""), (url, response.headers)
