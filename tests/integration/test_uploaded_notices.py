"""Email texts that travel with a diagram, and the group's members for a diagram: a new process
needs no template or Python of its own (issue 10's fifth process)."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage, WorkingGroup
from app.outbox.uploaded import render_text, text_problems
from app.services.diagram_checks import check_upload
from app.services.topics import group_members
from tests.diagrams import FIXTURES, start_request, upload_process

DIAGRAM = (FIXTURES / "diagrams" / "group_notice.bpmn").read_bytes()
TEXT = (FIXTURES / "diagrams" / "group_topic.txt").read_bytes()


def circular_ict() -> WorkingGroup:
    return db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))


def test_an_uploaded_email_text_is_what_people_receive(client):
    version = upload_process(client, {"group_notice.bpmn": DIAGRAM, "group_topic.txt": TEXT})
    assert set(version.files) == {"group_notice.bpmn", "group_topic.txt"}
    group = circular_ict()
    instance = start_request(client, "marta", "group_notice", {"working_group_id": str(group.id),
                                                               "topic": "Refurbished laptops"})
    assert instance.status.value == "completed"
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id))
    assert mail.to_address == "marta.nowak@gdansk.example.eu"
    assert mail.subject == "Refurbished laptops: your group has 3 members"
    assert "Dear Marta Nowak," in mail.text_body
    assert "Marta Nowak raised “Refurbished laptops” with Circular ICT." in mail.text_body
    assert "- City of Lisbon: ana.costa@lisboa.example.eu" in mail.text_body
    assert "- Gemeente Utrecht: no buyer yet" in mail.text_body
    assert f"/requests/{instance.id}" in mail.text_body and "Refurbished laptops" in mail.html_body
    assert "Your tasks: http://" in mail.text_body and mail.text_body.rstrip().endswith("/inbox")


def test_without_its_text_the_diagram_is_warned_and_the_general_notice_goes_out(client):
    report = check_upload({"group_notice.bpmn": DIAGRAM})
    assert report.ok
    assert any("there is no email text 'group_topic': upload group_topic.txt with the diagram" in f.message
               for f in report.warnings)
    assert not any("group_topic" in f.message for f in check_upload(
        {"group_notice.bpmn": DIAGRAM, "group_topic.txt": TEXT}).warnings)


@pytest.mark.parametrize(("text", "expected"), [
    ("{% block subject %}Hi{% endblock %}{% block body %}{{ ''.__class__.__mro__ }}{% endblock %}",
     (1, "__class__ cannot be used in a notice text")),
    ("{% block subject %}Hi{% endblock %}\n{% block body %}{{ data['__init__'] }}{% endblock %}",
     (2, "__init__ cannot be used in a notice text")),
    ("{% block subject %}Hi{% endblock %}{% block body %}{% include 'email/task.txt' %}{% endblock %}",
     (1, "a notice text cannot include or import other files")),
    ("{% block subject %}Hi{% endblock %}", (None, "it has no body block: write {% block body %}…{% endblock %}")),
    ("{% block subject %}Hi{% endblock %}\n{% block body %}{{ data. }}{% endblock %}",
     (2, "the text cannot be read: expected name or number")),
])
def test_a_hostile_or_broken_text_is_refused_with_its_line(text, expected):
    assert expected in text_problems(text)


def test_the_upload_report_names_the_text_and_line(client):
    report = check_upload({"group_notice.bpmn": DIAGRAM,
                           "group_topic.txt": b"{% block subject %}x{% endblock %}\n{% block body %}\n"
                                              b"{{ x.__globals__ }}{% endblock %}"})
    assert not report.ok
    assert [(f.file, f.line, f.message) for f in report.errors] == [
        ("group_topic.txt", 3, "the email text cannot be used: __globals__ cannot be used in a notice text")]


def test_the_sandbox_stops_what_the_check_lets_through():
    # Calling a method that changes data: the check cannot know, the immutable sandbox refuses it.
    with pytest.raises(SecurityError):
        render_text("{% block subject %}x{% endblock %}{% block body %}{{ data.pop('topic') }}{% endblock %}",
                    {"data": {"topic": "a"}})


def test_group_members_lists_each_organisation_with_its_buyers(app):
    group = circular_ict()
    assert group_members({"working_group_id": group.id}, {}) == {"group_members": [
        {"name": "City of Lisbon", "country": "PT", "buyers": ["ana.costa@lisboa.example.eu"]},
        {"name": "City of Gdańsk", "country": "PL", "buyers": ["marta.nowak@gdansk.example.eu"]},
        {"name": "Gemeente Utrecht", "country": "NL", "buyers": []},
    ]}
    assert group_members({}, {"variable": "members"}) == {"members": []}
