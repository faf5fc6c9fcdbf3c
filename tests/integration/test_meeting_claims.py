"""Travel claims follow meetings: the start form offers only the in-person meetings of the last
60 days that the claimant attended; the claim takes the meeting's name and date from it and
shows the coordinator the attendance record; a second claim for the meeting is refused."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Answer, Meeting, MeetingClaim, ProcessInstance, WorkingGroup
from app.services.meetings import MeetingDetails, plan_meeting
from app.services.monitoring import cancel_instance
from tests.conftest import loaded, person, post_form, sign_in
from tests.integration.test_travel_http import claim, ready_task, receipts

OPTION = re.compile(r'name="meeting_id" type="radio" value="([^"]+)"')


def circular_ict() -> WorkingGroup:
    return db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))


def demo_meeting(title_start: str) -> Meeting:
    return db.session.scalar(select(Meeting).where(Meeting.group_id == circular_ict().id,
                                                   Meeting.title.startswith(title_start)))


def add_meeting(days_ago: int, marta_answer: Answer | None, marta_came: Answer | None,
                mode: str = "in_person") -> Meeting:
    """A past meeting of Circular ICT with Marta's answer and attendance."""
    day = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days_ago)
    meeting = plan_meeting(person("clara"), circular_ict(), MeetingDetails(
        title=f"Meeting {days_ago} days ago ({mode})", start=day, end=day + dt.timedelta(hours=3),
        time_zone="Europe/Brussels", mode=mode, city="Brussels", venue="Rue Belliard 1",
        online_link="https://meet.example.eu/x"), notify=False)
    for invitee in meeting.invitees:
        if invitee.user.email.startswith("marta"):
            invitee.answer, invitee.attended = marta_answer, marta_came
    if marta_came is not None:
        meeting.attendance_recorded_at = dt.datetime.now(dt.UTC)
    db.session.commit()
    return meeting


def offered(client) -> list[str]:
    page = loaded(client.get("/start/travel_reimbursement"))
    if 'id="field-meeting_id" name="meeting_id"' in page and "<select" in page:  # many: a list
        section = page[page.index('name="meeting_id"'):]
        return re.findall(r'<option value="([^"]+)"', section[:section.index("</select>")])
    return OPTION.findall(page)


def from_meeting(meeting: Meeting, **changes) -> dict:
    day = meeting.starts_at.date()
    data = claim(meeting_id=str(meeting.id), meeting="", meeting_date="",
                 departure_date=(day - dt.timedelta(days=1)).isoformat(),
                 return_date=(day + dt.timedelta(days=1)).isoformat())
    data.update(changes)
    return data


def test_the_form_offers_only_the_meetings_attended_in_person_in_the_last_60_days(client):
    kick_off, second, third = (demo_meeting(t) for t in ("Kick-off", "Second", "Third"))
    attended_online = add_meeting(5, Answer.IN_PERSON, Answer.ONLINE)
    said_online = add_meeting(6, Answer.ONLINE, None)
    too_old = add_meeting(75, Answer.IN_PERSON, Answer.IN_PERSON)
    online_meeting = add_meeting(7, Answer.ONLINE, Answer.ONLINE, mode="online")
    answered_in_person = add_meeting(8, Answer.IN_PERSON, None)  # attendance not recorded yet
    sign_in(client, "marta")
    choices = offered(client)
    assert choices[:3] == [str(answered_in_person.id), str(second.id), str(kick_off.id)]  # latest first
    assert "other" in choices
    for left_out in (third, attended_online, said_online, too_old, online_meeting):
        assert str(left_out.id) not in choices
    page = loaded(client.get("/start/travel_reimbursement"))
    assert "A meeting not listed here" in page and "Second meeting: market analysis" in page


def test_a_claim_from_a_meeting_takes_its_name_and_date_and_shows_the_attendance(client):
    second = demo_meeting("Second")
    sign_in(client, "marta")
    response = post_form(client, "/start/travel_reimbursement", from_meeting(second), receipts())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert instance.summary["Meeting attended"] == "Second meeting: market analysis"
    claimed = select(MeetingClaim.instance_id).where(MeetingClaim.meeting_id == second.id)
    assert db.session.scalar(claimed) == instance.id
    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    page = loaded(client.get(f"/tasks/{check.id}"))
    assert "Meeting and attendance" in page
    assert "Marta Nowak answered: in person. Attendance recorded by Clara Schmidt: in person." in page
    # The meeting chosen is named where the claim's answers are shown, never by its number.
    chosen = re.search(r'Which meeting did you travel to\?</dt>\s*<dd[^>]*>([^<]*)<', page)
    assert chosen is not None and chosen.group(1).strip().startswith("Second meeting: market analysis, "), page


def test_a_second_claim_for_the_same_meeting_is_refused_on_the_form(client):
    second = demo_meeting("Second")
    sign_in(client, "marta")
    assert post_form(client, "/start/travel_reimbursement", from_meeting(second), receipts()).status_code == 302
    count = db.session.scalar(select(db.func.count()).select_from(ProcessInstance))
    page = loaded(post_form(client, "/start/travel_reimbursement", from_meeting(second, ticket_cost="99.00"),
                            receipts()), 400)
    assert re.search(r'href="#field-meeting_id">You have already claimed travel for “Second meeting: market '
                     r'analysis” \([^)]+\), sent on [^.]+\. Each meeting can be claimed once', page), page[:3000]
    assert db.session.scalar(select(db.func.count()).select_from(ProcessInstance)) == count


def test_a_meeting_outside_the_travel_dates_is_refused_and_one_typed_in_is_flagged(client):
    second = demo_meeting("Second")
    sign_in(client, "marta")
    late = (second.starts_at.date() + dt.timedelta(days=3)).isoformat()
    page = loaded(post_form(client, "/start/travel_reimbursement",
                            from_meeting(second, departure_date=late, return_date=late, accommodation_nights="0",
                                         accommodation_cost="0"), receipts()), 400)
    assert 'href="#field-departure_date">The meeting (' in page
    assert "must fall between your departure and return" in page
    page = loaded(post_form(client, "/start/travel_reimbursement", claim(meeting_id="other", meeting=""),
                            receipts()), 400)
    assert 'href="#field-meeting"' in page  # a meeting not listed must be described
    response = post_form(client, "/start/travel_reimbursement", claim(meeting_id="other"), receipts())
    assert response.status_code == 302
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    sign_in(client, "clara")
    page = loaded(client.get(f"/tasks/{ready_task(instance, 'check_claim').id}"))
    assert "Not a meeting the app knows: check that it took place" in page


def test_a_claim_cancelled_by_an_administrator_does_not_block_a_new_one(client):
    second = demo_meeting("Second")
    sign_in(client, "marta")
    assert post_form(client, "/start/travel_reimbursement", from_meeting(second), receipts()).status_code == 302
    first = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    cancel_instance(person("admin"), first, "Filed with the wrong bank account.")
    db.session.commit()
    assert post_form(client, "/start/travel_reimbursement", from_meeting(second), receipts()).status_code == 302
    again = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert again.id != first.id
    claimed = select(MeetingClaim.instance_id).where(MeetingClaim.meeting_id == second.id)
    assert db.session.scalars(claimed).all() == [again.id]


def test_a_meeting_of_another_group_than_the_claims_is_refused(client):
    second = demo_meeting("Second")
    sign_in(client, "ana")  # a member of both groups: she may pick either
    zero = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name.startswith("Zero")))
    page = loaded(post_form(client, "/start/travel_reimbursement",
                            from_meeting(second, working_group_id=str(zero), account_holder="Ana Costa"),
                            receipts()), 400)
    assert 'href="#field-working_group_id">Select Circular ICT: the group whose meeting' in page
