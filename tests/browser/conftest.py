"""Browser journeys: Debian's Chromium, driven by Playwright, against the app on a real server.

Each test gets the `app` of tests/conftest.py (a fresh SQLite database with the shipped
processes and the demo people), served on a free loopback port by werkzeug's threaded
server, with email going to a real aiosmtpd server on loopback. One Chromium runs for the
whole session; each person in a test has a browser context of their own.

Every page a journey visits is screenshot to ARTIFACTS_DIR (default ./artifacts)
/browser/<test>/NN-name.png (on the PostgreSQL pass to ARTIFACTS_DIR/postgres/browser/<test>/:
``make test`` runs the two passes at once) and checked with axe-core against WCAG 2.1 A and
AA; the test fails at its end, with a readable list, if any page had a serious or critical
violation, or if a page loaded without being checked.

Deselect these tests with ``-m "not browser"``.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe
from freezegun import freeze_time
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from app.cli import DEMO_PASSWORD
from app.extensions import db
from app.outbox.deliver import deliver_outbox
from app.services.instances import fire_due_timers
from tests.conftest import ROOT, next_code, person, postgres_url
from tests.integration.test_email import Inbox, free_port
from tests.integration.test_travel_http import PDF, PNG  # noqa: F401 - tiny real files, for the journeys

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
AXE = Axe()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium (deselect with -m 'not browser')")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# -- the server, its mail, its clock ----------------------------------------------------------------

class Mailbox(Inbox):
    """What the real SMTP server received, delivered by running the outbox as the worker would."""

    def to(self, who: str) -> list[email.message.EmailMessage]:
        """Every message to the demo person ``who``, once the outbox is sent."""
        deliver_outbox()
        address = person(who).email
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]

    def text(self, message) -> str:
        return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


@dataclass
class LiveServer:
    app: object
    url: str
    mail: Mailbox

    def fire_timers(self, now: dt.datetime) -> int:
        """Run the worker's round as if it were ``now``: fire the due timers, send their emails.

        The engine reads the clock too, hence freezegun; no page is loading meanwhile.
        """
        with self.app.app_context(), freeze_time(now):
            fired = fire_due_timers(now)
            deliver_outbox(now=now)
            return fired


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the journeys' own checks say what happened
        pass


@pytest.fixture
def live_server(app):
    mail = Mailbox()
    port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=port)
    controller.start()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(SERVER_NAME=f"127.0.0.1:{server.server_port}", EXTERNAL_BASE_URL=url,
                      MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url, mail)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        controller.stop()
        db.session.remove()


# -- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chromium() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or deselect with -m 'not browser')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@dataclass
class Visit:
    number: int
    name: str
    url: str
    violations: list[dict]


@dataclass
class Journey:
    """The record of one test: its screenshots folder and every page it checked."""

    folder: Path
    visits: list[Visit] = field(default_factory=list)
    focus_problems: set[str] = field(default_factory=set)

    def write_report(self) -> None:
        """axe.txt beside the screenshots: every violation of every page, whatever its impact."""
        lines = []
        for visit in self.visits:
            lines.append(f"{visit.number:02d}-{visit.name} {visit.url}")
            lines += [f"  {v['id']} [{v['impact']}] {v['help']}: "
                      + "; ".join(" ".join(n["target"]) for n in v["nodes"]) for v in visit.violations]
        (self.folder / "axe.txt").write_text("\n".join(lines) + "\n")

    def problems(self) -> str:
        """The serious and critical violations, page by page: rule, impact, where, help."""
        lines = []
        for visit in self.visits:
            blocking = [v for v in visit.violations if v["impact"] in BLOCKING]
            if blocking:
                lines.append(f"  page {visit.number:02d}-{visit.name}.png ({visit.url}):")
            for v in blocking:
                targets = "; ".join(" ".join(node["target"]) for node in v["nodes"])
                lines.append(f"    {v['id']} [{v['impact']}] {v['help']}\n      at {targets}\n      {v['helpUrl']}")
        return "\n".join(lines)


DESCRIBE = """e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + ' "' + (e.innerText || e.value || '').replace(/\\s+/g, ' ').trim().slice(0, 40) + '"'"""

# Whether ``target`` has the focus, and the focused element's text colour against the first
# opaque background behind it (a background image counts as unknown: contrast 21).
FOCUS_STOP = """target => {
    const focused = document.activeElement;
    const rgb = value => (value.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map(c => c / 255)
        .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    let background = [255, 255, 255], element = focused, unknown = false;
    for (; element && element.nodeType === 1; element = element.parentElement) {
        const style = getComputedStyle(element);
        if (style.backgroundImage !== 'none') { unknown = true; break; }
        const colour = rgb(style.backgroundColor);
        if (colour.length === 3 || colour[3] > 0) { background = colour.slice(0, 3); break; }
    }
    const colour = rgb(getComputedStyle(focused).color).slice(0, 3);
    const [light, dark] = [luminance(colour), luminance(background)].sort((a, b) => b - a);
    return {
        target: focused === target,
        element: (""" + DESCRIBE + """)(focused),
        color: 'rgb(' + colour + ')', background: 'rgb(' + background + ')',
        contrast: unknown || focused === document.body ? 21 : (light + 0.05) / (dark + 0.05),
    };
}"""


DATE_PARTS = {"en": ("Day", "Month", "Year"), "fr": ("Jour", "Mois", "Année"), "de": ("Tag", "Monat", "Jahr")}


def fill_date(page: Page, legend: str, day: dt.date | None, language: str = "en") -> None:
    """Type ``day`` into the day, month and year boxes of the GOV.UK date input ``legend`` names
    (None empties them); ``language``: the page's, which names the boxes."""
    group = page.get_by_role("group", name=legend)
    values = (day.day, day.month, day.year) if day else ("", "", "")
    for part, value in zip(DATE_PARTS[language], values, strict=True):
        group.get_by_label(part, exact=True).fill(str(value))


class User:
    """One person at their own browser: a context of their own, signed in once."""

    def __init__(self, who: str, context: BrowserContext, journey: Journey, base_url: str):
        self.who = who
        self.context = context
        self.journey = journey
        self.base_url = base_url
        self.page: Page = context.new_page()
        self._loaded: list[str] = []
        self._sent_at = -1  # the journey's page count when this person last sent a form
        self.page.on("load", lambda page: self._loaded.append(page.url))

    # -- looking ---------------------------------------------------------------------------
    def seen(self, name: str, ready: str | None = None) -> Page:
        """Screenshot the page now shown and check it with axe; return the page.

        ``ready``: a selector to wait for first, on a page that finishes drawing after loading.
        """
        page = self.page
        page.wait_for_load_state("load")
        if ready:
            page.locator(ready).wait_for()
        self.journey.visits.append(visit := Visit(len(self.journey.visits) + 1, f"{self.who}-{name}",
                                                  page.url.removeprefix(self.base_url), []))
        page.screenshot(path=self.journey.folder / f"{visit.number:02d}-{visit.name}.png", full_page=True)
        results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                         "resultTypes": ["violations"]})
        visit.violations = results.response["violations"]
        self._loaded.clear()
        return page

    def open(self, path: str, name: str) -> Page:
        """Go to ``path`` as if typed into the address bar; it must load (an error page's
        text would prove nothing)."""
        response = self.page.goto(path if path.startswith("http") else self.base_url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        return self.seen(name)

    def go(self, action, name: str, ready: str | None = None) -> Page:
        """Do ``action`` (a click, a key press), wait for the page it leads to, and look at it."""
        with self.page.expect_navigation():
            action()
        return self.seen(name, ready)

    def click(self, link: str, name: str, *, role: str = "link", ready: str | None = None) -> Page:
        """Follow the link (or press the button) called ``link``; look at the page it leads to."""
        return self.go(self.page.get_by_role(role, name=link, exact=True).first.click, name, ready)

    def send(self, name: str, button: str = "Send") -> Page:
        """Press the form's button and look at the page that comes back."""
        page = self.click(button, name, role="button")
        self._sent_at = len(self.journey.visits)
        return page

    def unfold(self) -> None:
        """Open every folded "What was sent" of the history, as a reader checking it would."""
        closed = self.page.locator("main details:not([open]) > summary")
        while closed.count():
            closed.first.click()

    def text(self) -> str:
        return " ".join(self.page.locator("main").inner_text().split())

    # -- doing -----------------------------------------------------------------------------
    def sign_in(self) -> None:
        """Sign in through the sign-in form's POST, sharing the browser's cookies, to save a page
        per person (the keyboard journey signs in on the page itself, and checks it)."""
        form = self.context.request.get(self.base_url + "/sign-in").text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        who = person(self.who)
        response = self.context.request.post(self.base_url + "/sign-in", form={
            "email": who.email, "password": DEMO_PASSWORD, "csrf_token": token})
        if response.ok and response.url.endswith("/sign-in/code"):  # an administrator: the app's code too
            response = self.context.request.post(response.url, form={"code": next_code(who.id), "csrf_token": token})
        assert response.ok and response.url.endswith("/inbox"), (self.who, response.status, response.url)
        self.open("/inbox", "inbox")  # where signing in leads

    def open_task(self, task_name: str, name: str) -> Page:
        """From the inbox (the page a sent form leads to), open the task called ``task_name``."""
        fresh = self._sent_at == len(self.journey.visits) and self.page.url == self.base_url + "/inbox"
        if not fresh:  # someone else acted since: look at the inbox as it is now
            self.open("/inbox", "inbox")
        return self.click(task_name, name)

    def choose(self, label: str) -> None:
        """Tick the radio button (or box) labelled exactly ``label``."""
        self.page.get_by_label(label, exact=True).check()

    # -- the keyboard alone ----------------------------------------------------------------
    def has_focus(self, locator) -> bool:
        return locator.evaluate("element => element === document.activeElement")

    def focused(self) -> str:
        """The focused element, for messages: tag#id or its text."""
        return self.page.evaluate(f"() => ({DESCRIBE})(document.activeElement)")

    def tab_to(self, locator, *, back: bool = False, limit: int = 80) -> None:
        """Press Tab (Shift+Tab with ``back``) until ``locator`` has the focus.

        Each element the focus stops at on the way must keep its text legible: a contrast of
        at least 4.5:1 against its background while focused (WCAG 1.4.3), checked here
        because axe-core only sees the page at rest.
        """
        for _ in range(limit):
            stop = locator.evaluate(FOCUS_STOP)
            if stop["contrast"] < 4.5:
                self.journey.focus_problems.add(
                    f"{self.page.url.removeprefix(self.base_url)} {stop['element']}: "
                    f"{stop['color']} on {stop['background']}, {stop['contrast']:.2f}:1")
            if stop["target"]:
                return
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
        raise AssertionError(f"{limit} presses of {'Shift+Tab' if back else 'Tab'} never reached {locator}; "
                             f"the focus is on {self.focused()}")

    def type_into(self, label: str, text: str) -> None:
        """Tab to the field labelled ``label`` and type ``text``."""
        self.tab_to(self.page.get_by_label(label, exact=True))
        self.page.keyboard.type(text)

    def press(self, key: str, name: str) -> Page:
        """Press ``key`` (Enter on a link or button) and look at the page it leads to."""
        return self.go(lambda: self.page.keyboard.press(key), name)


@pytest.fixture
def journey(request) -> Journey:
    base = Path(os.environ.get("ARTIFACTS_DIR") or ROOT / "artifacts")
    if postgres_url():  # the other pass may be writing its own screenshots meanwhile
        base = base / "postgres"
    folder = base / "browser" / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Journey(folder)


@pytest.fixture
def people(chromium, live_server, journey):
    """``people("marta")``: Marta at her own browser, signed in on first use
    (``people("marta", locale="fr-FR")``: a browser that asks for French).

    At the end the test fails if any page it showed had a serious or critical WCAG 2.1 A/AA
    violation, or if a page loaded that no one looked at (so none escapes the check).
    """
    users: dict[str, User] = {}

    def at(who: str, *, signed_in: bool = True, locale: str = "en-GB") -> User:
        if who not in users:  # ``locale``: the browser's language (its Accept-Language), on first use
            context = chromium.new_context(locale=locale, timezone_id="Europe/Brussels",
                                           viewport={"width": 1100, "height": 900})
            context.set_default_timeout(15_000)  # a busy shared machine; a real failure still ends quickly
            users[who] = User(who, context, journey, live_server.url)
            if signed_in:
                users[who].sign_in()
        return users[who]

    yield at
    unchecked = [f"{who}: {url}" for who, user in users.items() for url in user._loaded]
    for user in users.values():
        user.context.close()
    journey.write_report()
    problems = journey.problems()
    if problems:
        pytest.fail(f"axe-core found serious or critical WCAG 2.1 A/AA violations "
                    f"(screenshots in {journey.folder}):\n{problems}", pytrace=False)
    if unchecked:
        pytest.fail(f"pages loaded without an accessibility check: {unchecked}", pytrace=False)
    if journey.focus_problems:
        pytest.fail("focused elements whose text is hard to read (WCAG 1.4.3 needs 4.5:1):\n  "
                    + "\n  ".join(sorted(journey.focus_problems)), pytrace=False)
    assert journey.visits, "the journey visited no page"
