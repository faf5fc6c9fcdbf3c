"""Meetings over HTTP and a real SMTP server: planning invites the members with a calendar file
that icalendar reads back; a change updates it, a cancellation withdraws it; members answer
from the e-mail's links (a scanner's GET or HEAD changes nothing); a coordinator records
who came; the worker reminds the coordinators of a group's year ending."""

from __future__ import annotations

import datetime as dt
import io
import re

import icalendar
from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Meeting, MeetingInvitee, OutboxMessage, WorkingGroup
from app.outbox.deliver import deliver_outbox
from app.services.worker import run_round
from app.steps.lanes import local_today
from tests.conftest import csrf_token, loaded, person, post_form, sign_in
from tests.integration.test_email import parts, smtp  # noqa: F401 - the SMTP server fixture

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANSWER_LINK = re.compile(r"^(I will [^:]+): http://mail\.test(/decide/\S+)$", re.M)


def group(name: str = "Circular ICT") -> WorkingGroup:
    return db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name))


def in_days(days: int) -> dt.date:
    return local_today() + dt.timedelta(days=days)


def boxes(**days: dt.date) -> dict:
    """Each date as typed into its GOV.UK date input: NAME-day, NAME-month, NAME-year."""
    return {f"{name}-{part}": str(value) for name, day in days.items()
            for part, value in (("day", day.day), ("month", day.month), ("year", day.year))}


def details(**changes) -> dict:
    """The planning form's fields; a date given as a date is typed into its boxes."""
    data = {"title": "Fourth meeting: tender criteria", "start_date": in_days(30), "start_time": "09:30",
            "end_date": in_days(30), "end_time": "17:00", "time_zone": "Europe/Lisbon", "mode": "in_person",
            "city": "Lisbon", "venue": "Paços do Concelho, Praça do Município", "online_link": "",
            "agenda": "Welcome\nDraft tender criteria"}
    data.update(changes)
    days = {name: data.pop(name) for name in ("start_date", "end_date") if isinstance(data.get(name), dt.date)}
    return boxes(**days) | data  # a box given by name overrides its date's


def plan(client, who: str = "ana", **changes) -> Meeting:
    sign_in(client, who)
    response = post_form(client, f"/groups/{group().id}/meetings/new", details(**changes),
                         {"files": [(io.BytesIO(PDF), "agenda.pdf")]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(Meeting).order_by(Meeting.id.desc()))


def calendars(smtp, who: str) -> list[icalendar.Calendar]:  # noqa: F811
    """The calendar files in the messages the person received, in order, parsed by icalendar."""
    found = []
    for message in smtp.to(who):
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                found.append(icalendar.Calendar.from_ical(part.get_content()))
    return found


def event(calendar: icalendar.Calendar) -> icalendar.Event:
    [only] = calendar.walk("VEVENT")
    return only


def test_invitation_update_and_cancellation_reach_the_calendar(client, smtp):  # noqa: F811
    meeting = plan(client)
    assert deliver_outbox().sent == 2  # Ana (the lead) and Marta, Circular ICT's buyers
    [invitation] = smtp.to("marta")
    assert invitation["Subject"].startswith("Invitation: Fourth meeting: tender criteria")
    text = parts(invitation)[0]
    assert "09:30 to 17:00 (Portugal (Lisbon) Time)" in text and "Draft tender criteria" in text
    [calendar] = calendars(smtp, "marta")
    assert calendar["METHOD"] == "REQUEST"
    first = event(calendar)
    assert str(first["UID"]) == meeting.uid and first["SEQUENCE"] == 0
    start = first.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (9, 30, "Europe/Lisbon")
    assert start.date() == in_days(30)
    assert "Paços do Concelho" in str(first["LOCATION"]) and str(first["STATUS"]) == "CONFIRMED"
    assert str(first["ATTENDEE"]) == "mailto:marta.nowak@gdansk.example.eu"
    assert calendar.walk("VTIMEZONE"), "the time zone travels with the event"

    sign_in(client, "ana")
    response = post_form(client, f"/meetings/{meeting.id}/change",
                         details(start_time="10:00", mode="online", online_link="https://meet.example.eu/ict4"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    deliver_outbox()
    changed = event(calendars(smtp, "marta")[-1])
    assert str(changed["UID"]) == meeting.uid and changed["SEQUENCE"] == 1
    assert changed.decoded("DTSTART").hour == 10 and str(changed["LOCATION"]) == "https://meet.example.eu/ict4"
    assert smtp.to("marta")[-1]["Subject"].startswith("Changed: ")

    response = post_form(client, f"/meetings/{meeting.id}/cancel", {})
    assert response.status_code == 302
    deliver_outbox()
    cancelled = calendars(smtp, "marta")[-1]
    assert cancelled["METHOD"] == "CANCEL"
    assert str(event(cancelled)["UID"]) == meeting.uid and event(cancelled)["SEQUENCE"] == 2
    assert str(event(cancelled)["STATUS"]) == "CANCELLED"
    assert "Cancelled" in loaded(client.get(f"/meetings/{meeting.id}"))
    [link] = [path for label, path in ANSWER_LINK.findall(parts(smtp.to("marta")[0])[0]) if "not attend" in label]
    assert "This meeting was cancelled" in loaded(client.get(link), 410)  # the first e-mail's links are dead
    assert post_form(client, f"/meetings/{meeting.id}/change", details()).status_code == 400  # over and done


def test_an_answer_from_the_email_after_a_scanner_opened_every_link(app, client, smtp):  # noqa: F811
    meeting = plan(client)
    deliver_outbox()
    links = dict(ANSWER_LINK.findall(parts(smtp.to("marta")[0])[0]))
    assert set(links) == {"I will attend in person", "I will attend online", "I will not attend"}
    scanner = app.test_client()
    for path in links.values():
        assert scanner.get(path).status_code == 200 and scanner.head(path).status_code == 200
    db.session.expire_all()
    marta = person("marta")
    invitee = db.session.scalar(select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id,
                                                             MeetingInvitee.user_id == marta.id))
    assert invitee.answer is None, "opening a link answered nothing"

    path = links["I will attend in person"]
    page = loaded(scanner.get(path))
    assert "Confirm your answer: I will attend in person" in page and "Marta Nowak" in page
    response = scanner.post(path, data={"csrf_token": csrf_token(scanner, path)})
    assert "Answer recorded" in loaded(response)
    db.session.expire_all()
    assert invitee.answer == Answer.IN_PERSON and invitee.answered_by_email
    assert "This link has been used" in loaded(scanner.get(path), 410)
    other = links["I will not attend"]
    assert "Confirm your answer" in loaded(scanner.get(other))  # another link of hers still works once

    sign_in(client, "marta")  # and on the meeting page she changes her mind
    response = post_form(client, f"/meetings/{meeting.id}", {"answer": "online"})
    assert response.status_code == 302
    db.session.expire_all()
    assert invitee.answer == Answer.ONLINE and not invitee.answered_by_email


def test_who_sees_and_plans_a_groups_meetings(client):
    meeting = plan(client, "clara")  # a coordinator plans any group's meeting
    circular = group()
    sign_in(client, "marta")  # a member: sees the page and the meeting, plans nothing
    page = loaded(client.get(f"/groups/{circular.id}"))
    assert "Fourth meeting: tender criteria" in page and "Ana Costa" in page and "Plan a meeting" not in page
    loaded(client.get(f"/meetings/{meeting.id}"))
    assert client.get(f"/groups/{circular.id}/meetings/new").status_code == 403
    assert client.get(f"/meetings/{meeting.id}/cancel").status_code == 403
    sign_in(client, "lukas")  # not a member of Circular ICT
    assert client.get(f"/groups/{circular.id}").status_code == 403
    assert client.get(f"/meetings/{meeting.id}").status_code == 403
    assert "Circular ICT" not in loaded(client.get("/groups"))
    sign_in(client, "felix")  # the secretariat sees every group
    loaded(client.get(f"/groups/{circular.id}"))
    assert client.get(f"/groups/{circular.id}/meetings/new").status_code == 403


def test_planning_mistakes_are_listed_and_linked_to_their_fields(client):
    sign_in(client, "ana")
    url = f"/groups/{group().id}/meetings/new"
    page = loaded(post_form(client, url, details(title="", end_time="08:00", venue="", start_time="9h")), 400)
    assert 'href="#field-title">Enter the meeting' in page
    assert 'href="#field-start_time">Enter ‘start time’ as a time like 09:30' in page
    page = loaded(post_form(client, url, details(end_time="08:00", venue="", mode="online")), 400)
    assert 'href="#field-end_date">The meeting must end after it starts' in page
    assert 'href="#field-online_link">Enter the video-conference link' in page
    page = loaded(post_form(client, url, details(start_date=in_days(-3), end_date=in_days(-3))), 400)
    assert "The meeting must start in the future" in page
    page = loaded(post_form(client, url, details(**{"start_date-month": "", "end_date-day": "31",
                                                    "end_date-month": "2"})), 400)
    assert 'href="#field-start_date">The date the meeting starts must include a month' in page
    assert 'href="#field-end_date">The date the meeting ends must be a real date' in page
    assert 'id="field-start_date-month" name="start_date-month"' in page and "govuk-input--error" in page
    assert db.session.scalar(select(Meeting).where(Meeting.title == "Fourth meeting: tender criteria")) is None


def test_the_coordinator_records_who_came(client):
    past = db.session.scalar(select(Meeting).where(Meeting.group_id == group().id, Meeting.title.startswith("Second")))
    sign_in(client, "clara")
    page = loaded(client.get(f"/meetings/{past.id}/attendance"))
    assert "Ana Costa" in page and "Marta Nowak" in page
    values = {f"attended_{i.user_id}": "in_person" for i in past.invitees}
    values[f"attended_{person('marta').id}"] = "not_attending"
    assert post_form(client, f"/meetings/{past.id}/attendance", values).status_code == 302
    db.session.expire_all()
    marta = next(i for i in past.invitees if i.user.email.startswith("marta"))
    assert marta.attended == Answer.NOT_ATTENDING and marta.recorded_by.name == "Clara Schmidt"
    missing = dict(values)
    missing.pop(f"attended_{person('ana').id}")
    page = loaded(post_form(client, f"/meetings/{past.id}/attendance", missing), 400)
    assert "Select how Ana Costa took part" in page
    sign_in(client, "marta")
    assert client.get(f"/meetings/{past.id}/attendance").status_code == 403


def test_the_worker_reminds_the_coordinators_a_month_before_a_groups_year_ends(app, client):
    circular = group()
    sign_in(client, "clara")
    url = f"/groups/{circular.id}/year"
    page = loaded(post_form(client, url, boxes(starts_on=in_days(-340)) | {
        "ends_on-day": "30", "ends_on-month": "", "ends_on-year": "2027"}), 400)
    assert 'href="#field-ends_on">The last day of the group&#39;s year must include a month' in page
    assert 'name="starts_on-day" type="text" inputmode="numeric"' in page  # what was typed stays
    response = post_form(client, url, boxes(starts_on=in_days(-340), ends_on=in_days(25)))
    assert response.status_code == 302
    page = loaded(client.get(url))
    assert f'name="ends_on-day" type="text" inputmode="numeric" spellcheck="false" value="{in_days(25).day}"' in page
    run_round("test-worker")
    reminders = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "group_year_ending")).all()
    assert sorted(r.to_address.split(".")[0] for r in reminders) == ["clara", "tom"]
    assert reminders[0].subject.startswith("Circular ICT: the group's year ends on")
    run_round("test-worker")
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.template == "group_year_ending")) == 2, "once per group and end date"


def test_a_member_adds_the_meeting_to_their_calendar_and_administrators_read_the_file_sent(client):
    meeting = plan(client)
    sign_in(client, "marta")
    response = client.get(f"/meetings/{meeting.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    mine = event(icalendar.Calendar.from_ical(response.data))
    assert str(mine["UID"]) == meeting.uid and str(mine["ATTENDEE"]) == "mailto:marta.nowak@gdansk.example.eu"
    sign_in(client, "lukas")
    assert client.get(f"/meetings/{meeting.id}/calendar.ics").status_code == 403
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "meeting_planned",
                                                        OutboxMessage.to_address.startswith("marta")))
    sign_in(client, "admin")
    assert "invitation.ics" in loaded(client.get(f"/admin/mail/{row.id}"))
    sent = client.get(f"/admin/mail/{row.id}/files/0")
    assert event(icalendar.Calendar.from_ical(sent.data))["SEQUENCE"] == 0
    assert client.get(f"/admin/mail/{row.id}/files/1").status_code == 404


def test_the_time_zone_is_named_in_the_readers_language(client, smtp):  # noqa: F811
    """Issue 13: the page, the planning form's choices and the invitation name the zone as Babel
    does in French and German, never by its id."""
    person("marta").language = "fr"
    db.session.commit()
    meeting = plan(client)
    deliver_outbox()
    [invitation] = smtp.to("marta")
    assert "09:30 à 17:00 (heure : Portugal (Lisbonne))" in parts(invitation)[0]
    assert "Europe/Lisbon" not in parts(invitation)[0]
    for language, named, option in (("fr", "heure : Portugal (Lisbonne)", "heure : Belgique"),
                                    ("de", "Portugal (Lissabon) (Ortszeit)", "Belgien (Ortszeit)")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        page = loaded(client.get(f"/meetings/{meeting.id}"))
        assert named in page and "Europe/Lisbon" not in page, language
        form = loaded(client.get(f"/meetings/{meeting.id}/change"))
        assert re.search(rf'<option value="Europe/Lisbon" selected>{re.escape(named)}</option>', form), language
        assert f'<option value="Europe/Brussels">{option}</option>' in form, language
        assert ">Europe/Brussels<" not in form and ">Europe/Berlin<" not in form
