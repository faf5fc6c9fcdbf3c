"""The record of processing activities (GDPR Article 30), made from the active diagrams.

Per process: its purpose (name and the start form's text), the personal fields its forms
collect (those the privacy notice lists, ``statements.processes``), who may read them (as
masking decides: ``history.sees_personal``), who handles the request without them (the other
lanes), how long they are kept (the privacy notice's retention), whom it emails, and whether it
keeps files. The app's own processing (accounts, sign-ins, emails, meetings) follows.
A revised diagram is in the record as soon as it is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine import ProcessModel, load_model, parse_xml
from app.models import ProcessVersion, Role
from app.services import statements
from app.services.history import PERSONAL_READERS
from app.services.retention.periods import kept_until_the_end
from app.services.spreadsheet import csv_text
from app.steps.lanes import name_kind
from forms.translations import diagram_text, translated_model

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
C = "{http://camunda.org/schema/1.0/bpmn}"
TYPE_NAMES = {"string": _l("Text"), "text": _l("Long text"), "email": _l("Email address"), "iban": _l("IBAN"),
              "file": _l("File"), "date": _l("Date"), "datetime": _l("Date and time"), "time": _l("Time"),
              "decimal": _l("Amount"), "long": _l("Number"), "boolean": _l("Yes or no"), "enum": _l("Choice"),
              "checklist": _l("Choices")}
ROLE_NAMES = {Role.BUYER: _l("Buyers"), Role.COORDINATOR: _l("Secretariat coordinators"),
              Role.FINANCE: _l("Finance officers"), Role.COMMISSION: _l("The Commission"),
              Role.ADMINISTRATOR: _l("Administrators")}


@dataclass
class Activity:
    """One row of the record: a process, or the app's own processing."""

    name: str
    purpose: str
    data: list[str]  # each personal field: "IBAN (IBAN, bank details)"
    readers: list[str]  # who may read the personal data
    masked: list[str]  # who handles it without reading the personal data
    retention: str
    recipients: list[str]  # whom it emails
    files: str  # which files it keeps


def _who(lane: str, version: ProcessVersion) -> tuple[str, bool]:
    """A lane as people read it (its name in the diagram's words, in the page's language), and
    whether its people read personal data."""
    kind, name = name_kind(lane), diagram_text(version, lane)
    if kind == "initiator":
        if lane.strip().lower() == "initiator":  # a notice's "to", not a lane's name
            return _("The person who started the request"), True
        return _("%(lane)s (the person who started the request)", lane=name), True
    return name, kind in {role.value for role in PERSONAL_READERS}


def _lanes(model: ProcessModel) -> list[str]:
    """The lanes of its steps and start, in the order they first appear, each once."""
    found = [model.start_lane or "", *(task.lane or "" for task in model.tasks.values())]
    return list(dict.fromkeys(lane for lane in found if lane))


def _notified(model: ProcessModel) -> list[str]:
    """The lanes and roles its ``notify`` service tasks email (their ``to`` property)."""
    found: list[str] = []
    for name, text in model.files.items():
        if not name.endswith(".bpmn"):
            continue
        for node in parse_xml(name, text).iter(f"{B}serviceTask"):
            if node.get(f"{C}topic") != "notify":
                continue
            props = {p.get("id") or p.get("name"): p.get("value") or ""
                     for p in node.iterfind(f"{B}extensionElements/{C}properties/{C}property")}
            found.append(props.get("to") or "initiator")
    return list(dict.fromkeys(found))


def _process(data: statements.ProcessData) -> Activity:
    assert data.version is not None
    model = translated_model(data.version, load_model(data.version))  # the page's words, as the notice's
    readers = [_("The person who started the request")] + [
        str(ROLE_NAMES[role]) for role in sorted(PERSONAL_READERS)] + [
        _("Administrators, when they download a person's data for them")]
    masked = [who for who, reads in (_who(lane, data.version) for lane in _lanes(model)) if not reads]
    files = list(dict.fromkeys(spec.label for form in (model.start_form, *(t.form for t in model.tasks.values()))
                               for spec in form.fields if spec.type == "file" and not spec.readonly))
    recipients: dict[str, str] = {}  # by what the lane names: "Claimant" once, not "initiator" too
    for lane in [*_lanes(model), *_notified(model)]:
        recipients.setdefault(name_kind(lane) or lane, _who(lane, data.version)[0])
    return Activity(
        name=data.name,
        purpose=" ".join(part for part in (data.name + ".", model.start_documentation) if part),
        data=[field.label + " (" + ", ".join(
            part for part in (str(TYPE_NAMES.get(field.type, field.type)), field.kind) if part) + ")"
            for field in data.fields],
        readers=readers, masked=masked, retention=data.retention, recipients=list(recipients.values()),
        files=_("Kept: %(files)s", files=", ".join(files)) if files else _("None"))


def _app_activities(config: dict[str, Any]) -> list[Activity]:
    """What the app itself keeps about people, whatever the diagrams."""
    kept = kept_until_the_end()
    everyone = [_("The person themselves"), str(ROLE_NAMES[Role.ADMINISTRATOR])]
    return [
        Activity(_("Accounts"), _("Sign people in and give them their tasks."),
                 [_("Name, email address, organisation, roles"), _("Absence and deputy"),
                  _("How they want to hear about tasks")],
                 everyone + [_("The people they work with in the service see their name and organisation")], [],
                 _("While the account exists"), [_("The person themselves (invitations and password links)")],
                 _("None")),
        Activity(_("Sign-in records"), _("Keep accounts safe: who is signed in where, and failed sign-ins."),
                 [_("When and how long each browser is signed in"),
                  _("Failed sign-ins: the address typed and the client's network address")],
                 everyone, [],
                 _("Sign-ins: until they end (%(days)s days at most); failed sign-ins: %(minutes)s minutes; "
                   "the administrators' record of failed sign-ins: %(kept)s",
                   days=f'{config["REMEMBER_ME_DAYS"]:g}', minutes=f'{config["SIGN_IN_WINDOW_MINUTES"]:g}',
                   kept=kept),
                 [], _("None")),
        Activity(_("Emails"), _("Tell people about their tasks, requests and meetings."),
                 [_("Email address, subject and text of each email")],
                 [_("The person themselves"), str(ROLE_NAMES[Role.ADMINISTRATOR])], [], kept,
                 [_("The person each email is for")], _("None")),
        Activity(_("Meetings of working groups"), _("Invite group members and record who came, for travel claims."),
                 [_("Invitations, answers and attendance")],
                 [_("The person themselves"), _("Members of the group"),
                  str(ROLE_NAMES[Role.COORDINATOR])], [], kept,
                 [_("The members of the group and its lead")], _("Agenda files of each meeting")),
    ]


def processing_record(config: dict[str, Any]) -> list[Activity]:
    """Every processing activity: each active process, by name, then the app's own."""
    return [_process(data) for data in statements.processes(config)] + _app_activities(config)


def processing_csv(config: dict[str, Any]) -> str:
    """The record as a CSV file."""
    header = [_("Processing"), _("Purpose"), _("Personal data"), _("Who can see it"),
              _("Handled without seeing it by"), _("How long it is kept"), _("Emails sent to"), _("Files")]
    return csv_text(header, ([a.name, a.purpose, "; ".join(a.data), "; ".join(a.readers), "; ".join(a.masked),
                              a.retention, "; ".join(a.recipients), a.files]
                             for a in processing_record(config)))
