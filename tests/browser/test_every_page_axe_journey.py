"""Every page of the app, in English, French and German, checked with axe (WCAG 2.1 A and AA).

The pages come from the app itself: each GET route of ``app.url_map`` is either walked (its
URL filled from demo data made here: a request of each shipped process, tasks waiting for
each role, a meeting, a group, an upload, an email...) or listed in NOT_PAGES with the reason
it is not a page. A route added later with neither fails the test ("route X has no page in the
axe walk"), so no page is silently left out.

Each page is opened by a person allowed to see it (buyer, group lead, coordinator, finance,
Commission, administrator; the signed-out pages by a visitor), in a browser context of its
own per person and language whose browser asks for that language; before each language's
round everyone's language setting is set to it in the database, as the settings page would
(a signed-in person's pages follow their setting, app/locale.py). Each must answer
below 400, say ``<html lang>`` in its language, fit the window's width (1100 px: no sideways
scrolling, which axe does not see) and have no axe violation of any impact; the
test fails listing every violation by page, language and rule. Screenshots: set
AXE_WALK_SCREENSHOTS=1 to keep one of every page (a page with a violation always gets one).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import url_for
from playwright.sync_api import FormData
from sqlalchemy import select, update

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.models import HumanTask, Meeting, OutboxMessage, ProcessDefinition, Role, TaskState, User, WorkingGroup
from app.models.base import utcnow
from app.services.meetings.planning import MeetingDetails, plan_meeting
from app.services.people import create_user
from app.services.people.invitations import request_password_reset
from app.services.people.names import add_name_mapping
from app.steps.lanes import local_today
from tests.browser.conftest import AXE, WCAG_TAGS
from tests.conftest import ROOT, next_code, person, post_form, sign_in
from tests.integration.test_expert_request_http import start as start_expert_request
from tests.integration.test_market_engagement_http import propose
from tests.integration.test_onboarding_http import apply
from tests.integration.test_travel_http import file_claim, ready_task

LANGUAGES = {"en": "en-GB", "fr": "fr-FR", "de": "de-DE"}
SCREENSHOTS = bool(os.environ.get("AXE_WALK_SCREENSHOTS"))
VISITOR = ""  # a person not signed in
# Visitors who gave an administrator's password and stand at the second step: the demo
# administrator (asked for a code) and a new one (asked to set up an app).
HALF_SIGNED_IN = {"admin-half": "admin", "nadia": "nadia"}

# GET routes that are not pages a person reads: files, machine answers, redirects.
NOT_PAGES = {
    "static": "files (CSS, scripts, fonts), not pages",
    "favicon": "an icon file",
    "health.alive": "a load balancer's plain-text check",
    "health.ready": "a load balancer's plain-text check",
    "metrics.scrape": "Prometheus's plain-text figures",
    "tasks.home": "only redirects to the inbox",
    "requests.attachment": "a file download",
    "admin_mail.attachment": "a file download",
    "meetings.agenda_file": "a file download",
    "meetings.calendar_file": "an iCalendar download",
    "monitor.instances_csv": "a CSV download",
    "monitor.diagram_xml": "the BPMN diagram the monitoring page draws",
    "monitor.markers": "the JSON the monitoring page marks its diagram with",
    "personal_data.record_csv": "a CSV download",
    "processes_admin.download": "a ZIP download",
    "reports.flow_download": "a CSV or spreadsheet download",
    "reports.flow_diagram": "the BPMN diagram the flow report draws",
    "reports_money.group_download": "a CSV or spreadsheet download",
    "reports_money.initiative_download": "a CSV or spreadsheet download",
    "reports_money.money_download": "a CSV or spreadsheet download",
    "reports_money.summary_download": "a CSV or spreadsheet download",
}

# axe rules that cannot pass on one page, with why: none today. ({endpoint: {rule: reason}})
KNOWN_ISSUES: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class Page:
    endpoint: str
    who: str  # the demo person who opens it (email start), or VISITOR
    path: str
    lang: str = ""  # the language the page is written in whatever the reader's (an email's), if any


@dataclass
class Demo:
    """The ids and links the walk fills the routes with."""

    claim: int
    tasks: list[tuple[str, int]]  # (who, task id): one task of each kind waiting
    group: int
    meeting: int
    past_meeting: int
    mapping: int
    message: int
    upload: str
    decide: str
    answer: str
    password: str


def make_demo(client, live_server, admin) -> Demo:
    """Requests of every shipped process, taken as far as a task waiting for each role; the
    links the emails carry; an upload waiting for review and a name mapping."""
    def as_(who):
        sign_in(client, who)
        return client

    claim = file_claim(client)  # waits for the coordinators
    start_expert_request(as_, 10)  # the coordinators assess it
    approvals = (("clara", "assess_request", {"decision": "approve", "estimated_daily_rate": "800.00"}),
                 ("felix", "finance_approval", {"decision": "approve"}))
    for days, steps in ((20, approvals[:1]), (40, approvals)):  # 16 000 EUR: to finance; 32 000: to the Commission
        instance = start_expert_request(as_, days)
        for who, bpmn_id, data in steps:
            response = post_form(as_(who), f"/tasks/{ready_task(instance, bpmn_id).id}", data)
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    propose(as_)  # Ana's market engagement event
    apply(as_)  # Kati's application to join a group
    db.session.expire_all()
    tasks, kinds = [], set()
    walkers = [person(who) for who in ("marta", "ana", "lukas", "clara", "felix", "helena")]
    for task in db.session.scalars(select(HumanTask).where(HumanTask.state == TaskState.READY).order_by(HumanTask.id)):
        if task.bpmn_id in kinds:
            continue
        candidates = {c.user_id for c in task.candidates}
        who = next((w for w in walkers if w.id in candidates), None)
        assert who is not None, f"no one in the walk may open {task.bpmn_id}"
        tasks.append((who.email.split(".")[0], task.id))
        kinds.add(task.bpmn_id)

    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Circular ICT"))
    meetings = db.session.scalars(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.starts_at)).all()
    coming = next(m for m in meetings if m.starts_at > utcnow())
    past = [m for m in meetings if m.starts_at < utcnow()][-1]
    mapping, _ = add_name_mapping(person("admin"), name="Procurement lead", stands_for="role:coordinator")
    create_user("nadia.new@bigbuyers.example.eu", "Nadia New", DEMO_PASSWORD, [Role.ADMINISTRATOR], "EUROCITIES")
    request_password_reset(person("ana").email)
    day = local_today() + dt.timedelta(days=30)
    plan_meeting(person("clara"), group, MeetingDetails(  # its invitations carry the answer links
        title="Fourth meeting", start=dt.datetime.combine(day, dt.time(10)), end=dt.datetime.combine(day, dt.time(12)),
        time_zone="Europe/Brussels", mode="online", online_link="https://meet.example.eu/circular-ict"))
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.instance_id == claim.id)
                                .order_by(OutboxMessage.id))

    files = FormData()  # the revised diagram and its decision table, as the upload page sends them
    files.set("csrf_token", re.search(r'name="csrf_token" value="([^"]+)"',
                                      admin.request.get(live_server.url + "/admin/processes/upload").text()).group(1))
    files.set("note", "")
    for name in ("travel_reimbursement.bpmn", "travel_eligibility.dmn"):
        files.append("files", {"name": name, "mimeType": "application/xml",
                               "buffer": (ROOT / "workflows" / name).read_bytes()})
    uploaded = admin.request.post(live_server.url + "/admin/processes/upload", multipart=files)
    assert uploaded.ok and "/admin/processes/upload/" in uploaded.url, (uploaded.status, uploaded.url)

    def link(who: str, pattern: str) -> str:
        found = [m.group(1) for message in live_server.mail.to(who)
                 if (m := re.search(pattern, live_server.mail.text(message), re.M))]
        assert found, f"no link {pattern!r} in {who}'s emails"
        return found[-1].removeprefix(live_server.url)

    return Demo(
        claim=claim.id, tasks=tasks, group=group.id, meeting=coming.id, past_meeting=past.id, mapping=mapping.id,
        message=message.id, upload=uploaded.url.rsplit("/", 1)[1],
        decide=link("clara", r"(http://\S+/decide/\S+)$"), answer=link("ana", r"(http://\S+/decide/\S+)$"),
        password=link("ana", r"(http://\S+/account/password/\S+)$"))


def pages(demo: Demo) -> Iterator[Page]:
    """Each page of the walk: (endpoint, who, path)."""
    def page(endpoint: str, who: str, **values) -> Page:
        return Page(endpoint, who, url_for(endpoint, _external=False, **values))

    marta, admin = person("marta"), person("admin")
    processes = db.session.scalars(select(ProcessDefinition.process_id).order_by(ProcessDefinition.process_id)).all()
    # Signed out
    for endpoint in ("auth.login", "account.forgotten_password", "statements.accessibility", "statements.privacy"):
        yield page(endpoint, VISITOR)
    yield Page("account.choose_password", VISITOR, demo.password)
    yield Page("decide.confirm", VISITOR, demo.decide)
    yield Page("decide.confirm", VISITOR, demo.answer)  # a meeting invitation's answer
    yield page("two_step.code", "admin-half")  # the password given, the code not yet
    yield page("two_step.set_up", "nadia")  # a new administrator, the password given, no app yet
    # A buyer
    for endpoint in ("tasks.inbox", "requests.mine", "requests.start_list", "profile.edit", "personal_data.own",
                     "groups.index"):
        yield page(endpoint, "marta")
    yield page("requests.show", "marta", instance_id=demo.claim)
    for process_id in processes:
        yield page("requests.start", "ana" if process_id == "market_engagement" else "marta", process_id=process_id)
    for who, task_id in demo.tasks:
        yield page("tasks.show", who, task_id=task_id)
    # A coordinator
    yield page("groups.show", "clara", group_id=demo.group)
    yield page("groups.year", "clara", group_id=demo.group)
    yield page("meetings.plan", "clara", group_id=demo.group)
    for endpoint in ("meetings.show", "meetings.change", "meetings.cancel"):
        yield page(endpoint, "clara", meeting_id=demo.meeting)
    yield page("meetings.attendance", "clara", meeting_id=demo.past_meeting)
    yield page("monitor.index", "clara")
    yield page("monitor.instances", "clara")
    yield page("monitor.instance", "clara", instance_id=demo.claim)
    # Finance and the Commission: the reports
    for endpoint in ("reports.index", "reports.flow", "reports_money.money", "reports_money.summary",
                     "reports_money.initiative"):
        yield page(endpoint, "helena")
    yield page("reports_money.group", "felix", group_id=demo.group)
    # An administrator
    for endpoint in ("admin.index", "admin.groups", "admin.add_group", "admin.organisations", "admin.add_organisation",
                     "admin.users", "admin.add_user", "admin_mail.outbox", "migration_admin.index", "names_admin.index",
                     "names_admin.add", "processes_admin.index", "processes_admin.upload", "personal_data.record",
                     "retention_admin.preview"):
        yield page(endpoint, "admin")
    yield page("admin.edit_group", "admin", group_id=demo.group)
    yield page("admin.group_members", "admin", group_id=demo.group)
    yield page("admin.edit_organisation", "admin", organisation_id=marta.organisation_id)
    for endpoint in ("admin.edit_user", "personal_data.person", "retention_admin.erase"):
        yield page(endpoint, "admin", user_id=marta.id)
    yield page("two_step.person", "admin", user_id=admin.id)
    yield page("admin_mail.show", "admin", message_id=demo.message)
    # The email's HTML part alone, as sent: in its recipient's language (Clara's is unset: English).
    yield Page("admin_mail.html", "admin", url_for("admin_mail.html", _external=False, message_id=demo.message), "en")
    yield page("names_admin.edit", "admin", mapping_id=demo.mapping)
    yield page("processes_admin.show", "admin", process_id="travel_reimbursement")
    yield page("processes_admin.activate", "admin", process_id="travel_reimbursement", number=1)
    yield page("processes_admin.review", "admin", upload_id=demo.upload)
    yield page("migration_admin.plan", "admin", process_id="travel_reimbursement", version_number=1)
    for endpoint in ("monitor.cancel", "monitor.retry", "messages.send", "retention_admin.hold"):
        yield page(endpoint, "admin", instance_id=demo.claim)
    yield page("monitor.reassign", "admin", task_id=demo.tasks[0][1])


def give_password(context, base_url: str, who: str) -> str:
    """Give ``who``'s password on the sign-in form; the URL it leads to (the inbox, or the
    second step of an administrator's sign-in)."""
    form = context.request.get(base_url + "/sign-in").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = context.request.post(base_url + "/sign-in", form={
        "email": person(who).email, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.ok, (who, response.status, response.url)
    return response.url


def signed_in(context, base_url: str, who: str) -> None:
    if not give_password(context, base_url, who).endswith("/inbox"):
        form = context.request.get(base_url + "/sign-in/code").text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = context.request.post(base_url + "/sign-in/code",
                                        form={"code": next_code(person(who).id), "csrf_token": token})
        assert response.ok and response.url.endswith("/inbox"), (response.status, response.url)


def test_every_page_passes_axe_in_every_language(app, client, chromium, live_server, journey):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    stale = set(NOT_PAGES) - routes
    assert not stale, f"NOT_PAGES names routes the app no longer has: {sorted(stale)}"

    contexts: dict[tuple[str, str], object] = {}

    def context_of(who: str, language: str):
        if (who, language) not in contexts:
            # Signed in once per person (an administrator's code is good once): the other
            # languages' contexts start with the English one's cookies.
            english = contexts.get((who, "en")) if who not in HALF_SIGNED_IN else None
            context = chromium.new_context(locale=LANGUAGES[language], timezone_id="Europe/Brussels",
                                           viewport={"width": 1100, "height": 900},
                                           storage_state=english.storage_state() if english else None)
            context.set_default_timeout(15_000)
            if who in HALF_SIGNED_IN:
                assert "/sign-in/" in give_password(context, live_server.url, HALF_SIGNED_IN[who])
            elif who != VISITOR and english is None:
                signed_in(context, live_server.url, who)
            contexts[who, language] = context
        return contexts[who, language]

    demo = make_demo(client, live_server, context_of("admin", "en"))
    walk = list(pages(demo))
    missing = routes - {p.endpoint for p in walk} - set(NOT_PAGES)
    assert not missing, "\n".join(f"route {endpoint} has no page in the axe walk: add it to pages() or, "
                                  "if it is no page, to NOT_PAGES with the reason" for endpoint in sorted(missing))

    problems: list[str] = []
    started = time.monotonic()
    for language in LANGUAGES:
        db.session.execute(update(User).values(language=language))  # as each chose on /profile
        db.session.commit()
        browser_pages = {}
        for number, item in enumerate(walk, 1):
            context = context_of(item.who, language)
            tab = browser_pages.get(item.who) or browser_pages.setdefault(item.who, context.new_page())
            where = f"{item.path} ({item.endpoint}) in {language} as {item.who or 'a visitor'}"
            response = tab.goto(live_server.url + item.path)
            if response is None or response.status >= 400:
                problems.append(f"{where}: answered {response and response.status}")
                continue
            if tab.locator(".app-diagram").count():
                tab.locator(".app-diagram--ready").wait_for()
            lang = tab.evaluate("() => document.documentElement.lang")
            if lang != (item.lang or language):
                problems.append(f"{where}: <html lang={lang!r}>")
            wider = tab.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if wider > 0:  # longer French or German words push a table out: read by scrolling sideways
                problems.append(f"{where}: the page is {wider} px wider than the window (WCAG 1.4.10)")
            results = AXE.run(tab, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                            "resultTypes": ["violations"]})
            assert results.response["passes"], f"{where}: axe checked nothing"
            allowed = KNOWN_ISSUES.get(item.endpoint, {})
            violations = [v for v in results.response["violations"] if v["id"] not in allowed]
            for v in violations:
                targets = "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
                problems.append(f"{where}: {v['id']} [{v['impact']}] {v['help']} at {targets}")
            if violations or wider > 0 or SCREENSHOTS:
                name = re.sub(r"[^\w-]+", "_", item.endpoint)
                tab.screenshot(path=journey.folder / f"{language}-{number:03d}-{name}.png", full_page=True)
    for context in contexts.values():
        context.close()
    print(f"axe walk: {len(walk)} pages in each of {len(LANGUAGES)} languages, {time.monotonic() - started:.0f} s")
    assert not problems, f"{len(problems)} problems (screenshots in {journey.folder}):\n" + "\n".join(problems)
