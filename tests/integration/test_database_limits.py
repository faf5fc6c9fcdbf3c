"""Values longer than their column are cut by the app, not refused by the database.

SQLite stores a string of any length in a VARCHAR column; PostgreSQL refuses one longer
than the column, so these run in both passes and matter in the second.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, ProcessInstance
from tests.conftest import loaded, post_form, sign_in
from tests.integration.test_travel_http import PDF, claim


def test_a_receipt_with_a_very_long_file_name_is_kept_under_a_shorter_one(client):
    name = "hotel-invoice-" + "x" * 300 + ".pdf"  # a browser sends whatever name the file has
    sign_in(client, "marta")
    response = post_form(client, "/start/travel_reimbursement", claim(), {"receipts": [(io.BytesIO(PDF), name)]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    [stored] = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    assert len(stored.filename) <= 255 and stored.filename.startswith("hotel-invoice-xxx")
    assert stored.filename.endswith(".pdf")
    page = loaded(client.get(f"/requests/{instance.id}"))
    assert stored.filename in page
