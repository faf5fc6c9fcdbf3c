"""A working group's meetings: plan, change, cancel, answer, record who came, agenda files."""

from __future__ import annotations

import datetime as dt
import unicodedata
from zoneinfo import ZoneInfo, available_timezones

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Optional

from app.errors import InvalidData
from app.extensions import db
from app.models import Attachment, Meeting, MeetingMode, WorkingGroup
from app.models.base import utcnow
from app.services import meetings
from forms.convert import Invalid
from forms.files import MAX_FILES, accepted_kinds, check_upload
from forms.text import format_date, format_time, zone_name

from .helpers import DayField, Errors, actor, download, render_page, submit

bp = Blueprint("meetings", __name__)

AGENDA_KINDS = accepted_kinds("pdf,docx,xlsx,pptx,odt,ods,odp,png,jpeg")
AGENDA_MAX_MB = 10
SAVED_ANSWERS = {"in_person": _l("Your answer is saved: will attend in person."),
                 "online": _l("Your answer is saved: will attend online."),
                 "not_attending": _l("Your answer is saved: will not attend.")}


def time_zones() -> list[str]:
    """Europe's zones first (the groups' meetings are mostly there), then the rest."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    europe = [z for z in zones if z.startswith("Europe/")]
    return ["UTC", *europe, *(z for z in zones if not z.startswith("Europe/"))]


_ZONE_CHOICES: dict[str, list[tuple[str, str]]] = {}


def zone_choices(chosen: str) -> list[SelectChoice]:
    """The time zones as the page's language names them, UTC first, Europe's next, each group in
    the order of its names; one choice per name (the other ids of a zone are its aliases, the same
    clock), ``chosen`` kept as it is stored. Worked out once per language."""
    language = str(get_locale() or "en")
    named = _ZONE_CHOICES.get(language)
    if named is None:
        labels = {zone: zone_name(zone) for zone in time_zones()}
        def by_name(zones: list[str]) -> list[str]:
            return sorted(zones, key=lambda z: unicodedata.normalize("NFKD", labels[z]).casefold())
        europe = [z for z in labels if z.startswith("Europe/")]
        rest = [z for z in labels if z != "UTC" and not z.startswith("Europe/")]
        named = _ZONE_CHOICES[language] = [(zone, labels[zone]) for zone in ["UTC", *by_name(europe), *by_name(rest)]]
    shown: dict[str, str] = {}
    for zone, label in named:
        if label not in shown or zone == chosen:
            shown[label] = zone
    return [SelectChoice(zone, label) for label, zone in shown.items()]


class ClockField(TimeField):
    """A time of day, refused in the GOV.UK words."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter ‘%(field)s’ as a time like 09:30", field=str(self.label.text).lower())) from None


@bp.app_template_filter("meeting_when")
def meeting_when(meeting: Meeting) -> str:
    """'14 March 2027, 09:30 to 17:00 (Belgium Time)', in the meeting's own time zone, named in the page's language."""
    zone = ZoneInfo(meeting.time_zone)
    start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    starts = f"{format_date(start.date())}, {format_time(start)}"
    ends = format_time(end) if end.date() == start.date() else f"{format_date(end.date())}, {format_time(end)}"
    return _("%(start)s to %(end)s (%(zone)s)", start=starts, end=ends, zone=zone_name(meeting.time_zone))


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), description=_l("For example, ‘Third meeting: draft tender criteria’."))
    start_date = DayField(_l("Starts on"), what=_l("the date the meeting starts"),
                          description=_l("For example, 14 3 2027"))
    start_time = ClockField(_l("Start time"), [Optional()], description=_l("For example, 09:30"))
    end_date = DayField(_l("Ends on"), what=_l("the date the meeting ends"),
                        description=_l("The same day or a later one, for example, 14 3 2027"))
    end_time = ClockField(_l("End time"), [Optional()], description=_l("For example, 17:00"))
    time_zone = SelectField(_l("Time zone"), validate_choice=False,
                            description=_l("Where the meeting takes place; invitations show the times in it."))
    mode = RadioField(_l("How people take part"), validate_choice=False,
                      choices=[SelectChoice(MeetingMode.IN_PERSON.value, _l("In person")),
                               SelectChoice(MeetingMode.ONLINE.value, _l("Online"))])
    city = StringField(_l("City"), description=_l("For a meeting in person."))
    venue = StringField(_l("Venue"), description=_l("The building and its address."))
    online_link = StringField(_l("Video-conference link"),
                              description=_l("For an online meeting, starting with https://"))
    agenda = TextAreaField(_l("Agenda"), description=_l("What the meeting will discuss, one item a line."))
    files = MultipleFileField(_l("Agenda files"), description=_l(
        "Optional: PDF, Word, Excel, PowerPoint or OpenDocument files, or images, up to %(size)s MB each.",
        size=AGENDA_MAX_MB))

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks and the service's rules together, so every mistake is
        listed at once (a day or time already refused is not asked for again)."""
        valid = super().validate(extra_validators)
        try:
            meetings.check_details(self.details())
        except InvalidData as exc:
            said = {name for name, field in self._fields.items() if field.errors}
            for name, message in exc.errors:
                pair = {"start_date": "start_time", "end_date": "end_time"}.get(name or "")
                field = self._fields.get(name or "")
                if field is not None and name not in said and pair not in said:
                    field.errors = [*field.errors, message]
            valid = False
        return valid

    def details(self) -> meetings.MeetingDetails:
        def moment(day, time) -> dt.datetime | None:
            return dt.datetime.combine(day, time) if day and time else None

        return meetings.MeetingDetails(
            title=self.title.data or "", start=moment(self.start_date.data, self.start_time.data),
            end=moment(self.end_date.data, self.end_time.data), time_zone=self.time_zone.data or "",
            mode=self.mode.data or "", city=self.city.data or "", venue=self.venue.data or "",
            online_link=self.online_link.data or "", agenda=self.agenda.data or "")

    def uploads(self) -> dict:
        """The agenda files, checked by content; InvalidData when one is refused."""
        chosen = [f for f in request.files.getlist("files") if getattr(f, "filename", None)]
        if len(chosen) > MAX_FILES:
            raise InvalidData([("files", _("Select %(count)s files or fewer", count=MAX_FILES))])
        checked = []
        for storage in chosen:
            try:
                checked.append(check_upload("agenda", storage, AGENDA_KINDS, AGENDA_MAX_MB,
                                            f"‘{storage.filename}’"))
            except Invalid as problem:
                raise InvalidData([("files", problem.message)]) from None
        return {"agenda": checked} if checked else {}


def _form(meeting: Meeting | None = None) -> MeetingForm:
    data = None
    if meeting is not None:
        zone = ZoneInfo(meeting.time_zone)
        start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
        data = {"title": meeting.title, "start_date": start.date(), "start_time": start.time(),
                "end_date": end.date(), "end_time": end.time(), "time_zone": meeting.time_zone,
                "mode": meeting.mode.value, "city": meeting.city, "venue": meeting.venue,
                "online_link": meeting.online_link, "agenda": meeting.agenda}
    form = MeetingForm(data=data)
    if form.time_zone.data is None:
        form.time_zone.data = current_app.config["DISPLAY_TIMEZONE"]
    form.time_zone.choices = zone_choices(form.time_zone.data)
    return form


def _files(meeting: Meeting) -> list[Attachment]:
    return list(db.session.scalars(db.select(Attachment).where(Attachment.meeting_id == meeting.id)
                                   .order_by(Attachment.id)))


def _visible_meeting(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    if not meetings.may_see_group(actor(), meeting.group):
        abort(403)
    return meeting


@bp.route("/groups/<int:group_id>/meetings/new", methods=["GET", "POST"])
def plan(group_id: int):
    group = db.get_or_404(WorkingGroup, group_id)
    if not meetings.may_plan(actor(), group):
        abort(403)
    form = _form()
    errors: Errors = []
    if form.is_submitted():
        meeting, errors = submit(form, lambda: meetings.plan_meeting(actor(), group, form.details(), form.uploads()),
                                 "title")
        if meeting is not None:
            flash(_("Planned: %(meeting)s. The members have been sent an invitation.", meeting=meeting.title),
                  "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_page("meetings/form.html", errors, form=form, group=group, meeting=None)


@bp.route("/meetings/<int:meeting_id>/change", methods=["GET", "POST"])
def change(meeting_id: int):
    meeting = _visible_meeting(meeting_id)
    if not meetings.may_plan(actor(), meeting.group):
        abort(403)
    form = _form(meeting)
    errors: Errors = []
    if form.is_submitted():
        saved, errors = submit(form, lambda: meetings.change_meeting(actor(), meeting, form.details(),
                                                                     form.uploads()), "title")
        if saved is not None:
            flash(_("Saved: %(meeting)s. Everyone invited has been sent the updated invitation.", meeting=saved.title),
                  "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_page("meetings/form.html", errors, form=form, group=meeting.group, meeting=meeting,
                       files=_files(meeting))


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
def cancel(meeting_id: int):
    meeting = _visible_meeting(meeting_id)
    if not meetings.may_plan(actor(), meeting.group):
        abort(403)
    form = FlaskForm()
    errors: Errors = []
    if form.is_submitted():
        done, errors = submit(form, lambda: meetings.cancel_meeting(actor(), meeting))
        if done is not None:
            flash(_("Cancelled: %(meeting)s. Everyone invited has been told.", meeting=meeting.title), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_page("meetings/cancel.html", errors, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>", methods=["GET", "POST"])
def show(meeting_id: int):
    meeting = _visible_meeting(meeting_id)
    person = actor()
    invitee = meetings.invitee_of(meeting, person)
    form = FlaskForm()
    errors: Errors = []
    if request.method == "POST":
        answer = request.form.get("answer", "")
        done, errors = submit(form, lambda: meetings.answer_meeting(person, meeting, answer), "answer")
        if done is not None:
            flash(str(SAVED_ANSWERS[answer]), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_page("meetings/show.html", errors, meeting=meeting, invitee=invitee, files=_files(meeting),
                       may_plan=meetings.may_plan(person, meeting.group),
                       may_answer=meetings.why_not_answer(meeting, person) is None, answers=meetings.ANSWERS,
                       over=meeting.ends_at <= utcnow(), started=meeting.starts_at <= utcnow())


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["GET", "POST"])
def attendance(meeting_id: int):
    meeting = _visible_meeting(meeting_id)
    if not meetings.may_record_attendance(actor(), meeting):
        abort(403)
    form = FlaskForm()
    errors: Errors = []
    if form.is_submitted():
        values = {i.user_id: request.form.get(f"attended_{i.user_id}", "") for i in meeting.invitees}
        done, errors = submit(form, lambda: meetings.record_attendance(actor(), meeting, values))
        if done is not None:
            flash(_("Attendance recorded."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_page("meetings/attendance.html", errors, meeting=meeting, answers=meetings.ANSWERS_AFTER)


@bp.route("/meetings/<int:meeting_id>/calendar.ics")
def calendar_file(meeting_id: int):
    """The meeting as a calendar file for the person viewing it: "Add to my calendar"."""
    meeting = _visible_meeting(meeting_id)
    response = make_response(meetings.calendar_for(meeting, actor()))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="meeting.ics"'
    return response


@bp.route("/meetings/files/<int:attachment_id>")
def agenda_file(attachment_id: int):
    row = db.get_or_404(Attachment, attachment_id)
    if row.meeting_id is None:
        abort(404)
    _visible_meeting(row.meeting_id)
    return download(row)


@bp.before_request
def _signed_in():
    if not actor().is_authenticated:
        return current_app.login_manager.unauthorized()
    return None
