"""Check a process's start event and tasks: forms, lanes and assignments, scripts, service
topics and templates, and the decisions rule tasks name."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import func, select

from app.engine.assignments import AssignmentError, assignment_python, is_expression
from app.engine.camunda_forms import FormJsError, camunda_form_name
from app.engine.form_properties import complex_expressions, unknown_types_and_constraints
from app.engine.parser import assignment_from_xml, form_from_xml
from app.engine.reading import DiagramError
from app.extensions import db
from app.models import User
from app.outbox.uploaded import notice_file
from app.services.answers import SHOW_FIRST
from app.steps import service_names
from app.steps.lanes import INITIATOR_REFERENCES, LANE_NAMES, lane_kind
from app.steps.names import NAMES_PAGE, mappings_of
from forms import build_form, check_form_spec

from .report import B, C, _compiled, _Findings

DECISIONS = ("approve", "request_changes", "reject")


def _lane_help() -> str:
    return _("use one of %(names)s", names=", ".join(LANE_NAMES))


def _check_form(name: str, node: etree._Element, start: bool, found: _Findings) -> None:
    process_id = found.report.process_id
    key = f"{process_id}.start" if start else f"{process_id}.{node.get('id')}"
    what = _("the start event") if start else _("the user task")
    if not node.get(f"{C}formKey") and camunda_form_name(node) is None:
        found.warning(name, _("%(what)s has no camunda:formKey, so its form is known as %(key)s. That is "
                              "enough unless the app's developers gave you a key for this form's own checks or "
                              "calculations: then enter it as the Form key in Camunda Modeler",
                              what=what, key=key), node)
    try:
        form = form_from_xml(node, key, found.report.files)
    except FormJsError:
        return  # reported on the .form file (camunda_forms.py)
    except DiagramError as exc:
        found.error(name, exc.detail, node)
        return
    _check_declared_fields(name, node, found)
    for problem in check_form_spec(form):
        found.error(name, _("its form cannot be shown: %(problem)s", problem=problem), node)
    if not check_form_spec(form):
        try:
            build_form(form, instance_data={})
        except Exception as exc:  # noqa: BLE001 - any failure means people could not see the form
            found.error(name, _("its form cannot be shown: %(exc)s", exc=exc), node)
    external = camunda_form_name(node) is None and (node.get(f"{C}formKey") or "").partition(":")[1]
    if not form.fields and external:
        found.error(name, _("%(whose)s form is in an HTML file, which the app does not read: declare its "
                            "fields with camunda:formData (Generated Task Forms in Camunda Modeler) or in a "
                            "Camunda Form (.form) uploaded with the diagram",
                            whose=_("the start event's") if start else _("the user task's")), node)
    elif not form.fields:
        found.warning(name, _("%(what)s has no form fields: people see only a button", what=what), node)
    decision = form.get("decision")
    if decision is not None and decision.type == "enum":
        unknown = [value for value, _ in decision.options if value not in DECISIONS]
        if unknown:
            found.error(name, _("the decision field's values must be taken from %(join)s (not %(join2)s): the "
                                "email links and history rely on them",
                                join=', '.join(DECISIONS), join2=', '.join(unknown)), node)


def _check_declared_fields(name: str, node: etree._Element, found: _Findings) -> None:
    """Warn of what a form declares that the app reads otherwise than Camunda (a type or constraint
    of a plug-in, a form property bound to an expression), saying what it becomes."""
    for where, message in (*unknown_types_and_constraints(node), *complex_expressions(node)):
        found.warning(name, message, node, line=where.sourceline)


def is_form_property(node: etree._Element) -> bool:
    """Whether ``node`` is a formProperty the form of a user task or start event is read from."""
    owner = node.getparent().getparent() if node.getparent() is not None else None
    return (node.tag == f"{C}formProperty" and owner is not None
            and owner.tag in (f"{B}userTask", f"{B}startEvent"))


def _check_start(name: str, process: etree._Element, lanes: dict, found: _Findings) -> None:
    starts = process.findall(f"{B}startEvent")
    if len(starts) != 1:
        found.error(name, _("the process needs exactly one start event (%(len)s found)", len=len(starts)), process)
        return
    start = starts[0]
    if start.find(f"{B}messageEventDefinition") is not None:
        return  # a request started by a message has no start form: the message's data is its start data
    called_only = (process.get(f"{C}isStartableInTasklist") or "").strip() == "false"
    if not (called_only and start.find(f"{B}extensionElements") is None):  # a called process needs no form
        _check_form(name, start, True, found)
    if not _documentation(start):
        found.warning(name, _("the start event has no documentation: people see no description before they "
                              "start"), start)
    lane = lanes.get(start.get("id"))
    if lane is not None and lane_kind(lane.get("name")) is None:
        found.warning(name, _("the start event's lane %(get)s names nobody the app knows; anyone with the buyer "
                              "role may start it", get=repr(lane.get('name'))), start)


def _documentation(node: etree._Element) -> str:
    doc = node.find(f"{B}documentation")
    return (doc.text or "").strip() if doc is not None else ""


def _known_emails(process: etree._Element, name: str, found: _Findings) -> dict[str, bool] | None:
    """Each email address the user tasks name: whether its user is active. None, with a warning,
    when the database has never been migrated (`flask workflows check` on a fresh clone): then
    neither people nor mapped names are looked up."""
    emails = set()
    named = False
    for node in process.iter(f"{B}userTask"):
        assignment = assignment_from_xml(node)
        for user in (assignment["assignee"], *assignment["candidate_users"], *assignment["candidate_groups"]):
            named = named or bool(user)
            if user and "@" in user and not is_expression(user):
                emails.add(user.strip().lower())
    if not named:
        return {}
    if not found.database_ready(name, "the people and names the user tasks name were not checked"):
        return None
    if not emails:
        return {}
    rows = db.session.execute(select(func.lower(User.email), User.active)
                              .where(func.lower(User.email).in_(emails)))
    return dict(rows.all())


def _check_name(name: str, node: etree._Element, who: str, what: str, emails: dict[str, bool] | None,
                found: _Findings) -> None:
    """A name the task gives its people (``what`` says where): known, mapped, or a warning with a link
    to map it; an expression must compile."""
    if who in INITIATOR_REFERENCES:
        return
    if is_expression(who):
        try:
            problems = _compiled(found, assignment_python(who))
        except AssignmentError as exc:
            problems = [str(exc)]
        for problem in problems:
            found.error(name, _("%(what)s %(who)s cannot be worked out when the task opens: %(problem)s",
                                what=what, who=who, problem=problem), node)
        return
    key = who.strip().lower()
    if emails is None:  # the database has no tables yet: people and names not looked up (said once)
        return
    if key in emails:
        if not emails[key]:
            found.warning(name, _("%(who)s is deactivated: the task will not reach them", who=who), node)
        return
    if lane_kind(who) is not None:
        return
    if not found.database_ready(name, "the people and names the user tasks name were not checked"):
        return
    mapping = mappings_of([who]).get(" ".join(key.split()))
    if mapping is not None:
        found.note(name, _("%(what)s ‘%(who)s’ stands for %(meaning)s (%(names_page)s)",
                           what=what, who=who, meaning=mapping.meaning, names_page=NAMES_PAGE), node)
        return
    found.warning(name, _("%(what)s ‘%(who)s’ is not a name the app knows: until an administrator maps it to "
                          "people under %(names_page)s, the task waits for the administrators",
                          what=what, who=who, names_page=NAMES_PAGE), node, map_name=who)


def _check_user_task(name: str, node: etree._Element, lanes: dict, emails: dict[str, bool] | None,
                     found: _Findings) -> None:
    # What a waiting task's row keeps (human_task): longer would be refused by PostgreSQL at run time.
    for what, value, limit in ((_("the user task's id"), node.get("id") or "", 100),
                               (_("the user task's name"), (node.get("name") or "").strip(), 200),
                               (_("the user task's form key"), node.get(f"{C}formKey") or "", 200)):
        if len(value) > limit:
            found.error(name, _("%(what)s is %(length)s characters long; at most %(limit)s are allowed: shorten it",
                                what=what, length=len(value), limit=limit), node)
    _check_form(name, node, False, found)
    if not _documentation(node):
        found.warning(name, _("the user task has no documentation: people see no instructions"), node)
    assignment = assignment_from_xml(node)
    users = [u for u in (assignment["assignee"], *assignment["candidate_users"]) if u]
    for user in users:
        _check_name(name, node, user, _("the assignee") if user == assignment["assignee"] else _("the candidate user"),
                    emails, found)
    for group in assignment["candidate_groups"]:
        _check_name(name, node, group, _("the candidate group"), emails, found)
    if not (users or assignment["candidate_groups"]):
        lane = lanes.get(node.get("id"))
        if lane is None or not (lane.get("name") or "").strip():
            found.warning(name, _("the user task is in no lane and names nobody (no camunda:candidateGroups, "
                                  "candidateUsers or assignee): it will wait for the administrators"), node)
        else:
            _check_name(name, node, " ".join((lane.get("name") or "").split()), _("its lane"), emails, found)
    props = {p.get("id") or p.get("name"): p.get("value") or ""
             for p in node.iterfind(f"{B}extensionElements/{C}properties/{C}property")}
    for extra in filter(None, (s.strip() for s in props.get("also", "").split(","))):
        if lane_kind(extra) is None:
            found.error(name, _("also = %(extra)s names nobody: %(lane_help)s",
                                extra=repr(extra), lane_help=_lane_help()), node)
    _check_show_first(name, node, props.get(SHOW_FIRST, ""), found)


def _check_show_first(name: str, node: etree._Element, value: str, found: _Findings) -> None:
    """The fields a task's page shows first must be fields some form of its process sends."""
    wanted = [s.strip() for s in value.split(",") if s.strip()]
    process = next(node.iterancestors(f"{B}process"), None)
    if not wanted or process is None:
        return
    known: set[str] = set()
    for element in (*process.iter(f"{B}startEvent"), *process.iter(f"{B}userTask")):
        try:  # camunda:formData, form properties or a Camunda Form (.form) uploaded with it
            known.update(f.id for f in form_from_xml(element, "", found.report.files).fields)
        except (FormJsError, DiagramError):
            continue  # reported on the form itself
    unknown = [field_id for field_id in wanted if field_id not in known]
    if unknown:
        found.warning(name, _("%(show_first)s names %(join)s, which no form of the process has: the page cannot "
                              "show them first", show_first=SHOW_FIRST, join=', '.join(unknown)), node)


def _check_script(name: str, node: etree._Element, found: _Findings) -> None:
    language = (node.get("scriptFormat") or "python").strip().lower()
    if language not in ("python", "python3", "py"):
        found.error(name, _("the script is %(get)s: only Python scripts run here",
                            get=node.get('scriptFormat')), node)
        return
    script = node.find(f"{B}script")
    text = (script.text if script is not None else None) or ""
    if not text.strip():
        if not node.get(f"{C}resource"):
            found.error(name, _("the script task has no script"), node)
        return
    for problem in _compiled(found, text, "script"):
        found.error(name, _("the script cannot run: %(problem)s", problem=problem), script)


def _property_map(node: etree._Element) -> dict[str, str]:
    return {p.get("id") or p.get("name"): p.get("value") or ""
            for p in node.iterfind(f"{B}extensionElements/{C}properties/{C}property")}


def _check_service(name: str, node: etree._Element, user_tasks: set, found: _Findings) -> None:
    kind = node.get(f"{C}type")
    topic = node.get(f"{C}topic")
    services = service_names()
    if kind and kind != "external":
        found.error(name, _("camunda:type=%(kind)s does not run here: use camunda:type=\"external\" with a "
                            "camunda:topic", kind=repr(kind)), node)
    if not topic:
        found.error(name, "the task needs camunda:type=\"external\" and a camunda:topic naming one of: "
                    + ", ".join(sorted(services)), node)
        return
    if topic not in services:
        found.error(name, f"the topic {topic!r} is not a service of the app; the services are: "
                    + ", ".join(sorted(services)), node)
        return
    props = _property_map(node)
    if topic in ("notify", "escalate") and props.get("to") and lane_kind(props["to"]) is None:
        found.error(name, _("to = %(props)s names nobody: %(lane_help)s",
                            props=repr(props['to']), lane_help=_lane_help()), node)
    if topic == "escalate":
        if props.get("task") not in user_tasks:
            found.error(name, _("task = %(get)s is not a user task of this process; its user tasks are: %(value)s",
                                get=repr(props.get('task')), value=', '.join(sorted(user_tasks)) or 'none'), node)
        if not props.get("to"):
            found.error(name, _("escalate needs a property to naming a lane or role"), node)
    if topic == "notify":
        _check_template(name, node, props.get("template", "notice"), found)


def _check_template(name: str, node: etree._Element, template: str, found: _Findings) -> None:
    from flask import current_app
    from jinja2 import TemplateNotFound

    if not re.fullmatch(r"[A-Za-z0-9_-]+", template):
        found.error(name, _("template = %(template)s: a template name has letters, digits, - and _ only",
                            template=repr(template)), node)
        return
    if notice_file(template) in found.report.files:
        return
    try:
        current_app.jinja_env.get_template(f"email/notices/{template}.txt")
    except TemplateNotFound:
        known = sorted(t.removeprefix("email/notices/").removesuffix(".txt") for t in current_app.jinja_env
                       .list_templates(filter_func=lambda t: t.startswith("email/notices/") and t.endswith(".txt")))
        found.warning(name, _("there is no email text %(template)s: upload %(notice_file)s with the diagram, or "
                              "the general notice is sent instead; the app's texts are: %(value)s",
                              template=repr(template), notice_file=notice_file(template),
                              value=", ".join(known) or _("none")), node)


def _check_rule_task(name: str, node: etree._Element, decisions: dict[str, str], found: _Findings) -> None:
    ref = node.get(f"{C}decisionRef")
    if not ref:
        found.error(name, _("the business rule task needs camunda:decisionRef naming a decision of an uploaded "
                            ".dmn file"), node)
    elif ref not in decisions:
        known = ", ".join(sorted(decisions)) or "none"
        found.error(name, _("the decision %(ref)s is in none of the uploaded .dmn files (decisions found: "
                            "%(known)s): upload its .dmn file with the diagram", ref=repr(ref), known=known), node)
