"""A coordinator whose browser speaks French and an administrator whose browser speaks German
look at monitoring, a working group, a meeting, the people list and the two statements; axe
checks each page (the `people` fixture) and its screenshot is kept for a reader to look at."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Meeting, WorkingGroup
from app.models.base import utcnow


def test_monitoring_groups_and_meetings_in_french(people):
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))
    meeting = db.session.scalar(select(Meeting).where(Meeting.group_id == group.id, Meeting.starts_at > utcnow())
                                .order_by(Meeting.starts_at))
    clara = people("clara", locale="fr-FR")
    page = clara.open("/monitor/instances", "monitoring")
    assert page.get_by_role("heading", level=1).inner_text() == "Toutes les demandes"
    assert page.get_by_role("button", name="Afficher ces demandes").is_visible()
    page = clara.open(f"/groups/{group.id}", "group")
    assert page.get_by_role("heading", name="Réunions à venir").is_visible()
    assert page.get_by_role("link", name="Planifier une réunion").is_visible()
    page = clara.open(f"/meetings/{meeting.id}", "meeting")
    assert page.get_by_role("heading", level=1).inner_text().startswith(meeting.title)  # the title is data
    assert "Personnes invitées" in clara.text() and "Enregistrer" not in page.title()


def test_administration_and_statements_in_german(people):
    admin = people("admin", locale="de-DE")
    page = admin.open("/admin/people", "people")
    assert page.get_by_role("heading", level=1).inner_text() == "Personen"
    assert "Koordinator" in admin.text() and "Einkäufer" in admin.text()
    page = admin.open("/accessibility", "accessibility")
    assert page.get_by_role("heading", level=1).inner_text() == "Erklärung zur Barrierefreiheit für Big Buyers Workflow"
    page = admin.open("/privacy", "privacy")
    assert page.get_by_role("heading", level=1).inner_text() == "Datenschutzhinweis"
    assert "Bankverbindung" in page.get_by_role("table").inner_text()
