"""The simulated people of the load benchmark: asyncio tasks sharing one httpx client.

Each person signs in once with a session of their own, then clicks as a person does: a
buyer opens the claim form, files a travel claim with a receipt (multipart) and looks at the
request it opened; a coordinator or finance officer opens their inbox, then a task from it,
then decides. CSRF tokens are read from the forms. Requests reach gunicorn as the README's
reverse proxy forwards them (X-Forwarded-*, a Referer on posts), so the app runs with the
production settings unchanged (``TRUSTED_PROXIES=1``, secure cookies): the cookies are
kept here, per person, because a cookie jar would not send a ``Secure`` cookie over the
plain HTTP between proxy and gunicorn.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import httpx

from tests.conftest import CSRF

PUBLIC = "https://bbw.example"  # the address people type; the proxy terminates TLS
PASSWORD = "bigbuyers-demo"  # README, Demo logins
RECEIPT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 20_000  # a small scanned receipt
# The demo's people who work on travel claims (README): buyers in a group, both coordinators,
# finance. The administrator needs a second factor at sign-in and is left out.
BUYERS = ["marta.nowak@gdansk.example.eu", "pierre.martin@lyon.example.eu", "ana.costa@lisboa.example.eu",
          "lukas.berger@wien.example.eu"]
COORDINATORS = ["clara.schmidt@iclei.example.eu", "tom.peeters@eurocities.example.eu"]
FINANCE = ["felix.wagner@iclei.example.eu"]
STEP = {"coordinator": "Check claim", "finance": "Approve payment"}
GROUP = re.compile(r'name="working_group_id"[^>]*value="(\d+)"')
TIMEOUT = 60  # seconds: gunicorn's --timeout; a request past it counts as an error


@dataclass
class Tally:
    """What the people saw: each request's time by kind, the errors, and what they were told
    was done (claims filed, tasks completed), to check against the database afterwards."""

    ms: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0  # told "someone else has just decided": the optimistic lock at work, not an error
    filed: list[int] = field(default_factory=list)  # request ids
    completed: list[int] = field(default_factory=list)  # task ids

    def error(self, kind: str, what: str) -> None:
        self.errors.append(f"{kind}: {what}")


class Person:
    def __init__(self, client: httpx.AsyncClient, email: str, role: str, tally: Tally, think: float,
                 rng: random.Random):
        self.client, self.email, self.role, self.tally = client, email, role, tally
        self.until, self.think, self.rng = 0.0, think, rng
        self.cookies: dict[str, str] = {}

    async def call(self, kind: str, method: str, path: str, *, referer: str = "", **body) -> httpx.Response | None:
        headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": urlsplit(PUBLIC).hostname}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if referer:
            headers["Referer"] = PUBLIC + referer
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, headers=headers, **body)
        except httpx.HTTPError as exc:
            self.tally.error(kind, f"{type(exc).__name__}: {exc}")
            return None
        self.tally.ms.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def expect(self, kind: str, response: httpx.Response | None, *statuses: int) -> bool:
        if response is None:
            return False
        if response.status_code not in statuses:
            self.tally.error(kind, f"{response.status_code} {response.text[:200]!r}")
            return False
        return True

    async def pause(self, scale: float = 1.0) -> None:
        """A person's time between clicks: uniform around ``think`` seconds."""
        await asyncio.sleep(self.rng.uniform(0, 2 * self.think * scale))

    def token(self, response: httpx.Response) -> str | None:
        match = CSRF.search(response.text)
        return match.group(1) if match else None

    async def sign_in(self) -> bool:
        page = await self.call("sign_in_page", "GET", "/sign-in")
        if not self.expect("sign_in_page", page, 200):
            return False
        done = await self.call("sign_in", "POST", "/sign-in", referer="/sign-in", data={
            "email": self.email, "password": PASSWORD, "csrf_token": self.token(page) or ""})
        return self.expect("sign_in", done, 302)

    async def run(self, until: float) -> None:
        self.until = until
        await asyncio.sleep(self.rng.uniform(0, self.think))  # people do not all start at once
        act = self.file_claim if self.role == "buyer" else self.decide
        while True:  # at least once: a short run on a busy machine still files and decides something
            await act()
            if time.monotonic() >= self.until:
                return
            await self.pause()

    async def file_claim(self) -> None:
        url = "/start/travel_reimbursement"
        form = await self.call("claim_form", "GET", url)
        if not self.expect("claim_form", form, 200):
            return
        group = GROUP.search(form.text)
        if group is None:
            self.tally.error("claim_form", f"{self.email} is offered no working group")
            return
        await self.pause()
        today = dt.date.today()
        days = self.rng.randint(3, 20)
        fields = {
            "csrf_token": self.token(form) or "", "working_group_id": group.group(1), "meeting_id": "other",
            "meeting": f"Load test meeting {self.rng.randint(1, 10**9)}",
            "meeting_date": (today - dt.timedelta(days=days)).isoformat(), "travel_from": "Gdańsk",
            "travel_to": "Lisbon", "departure_date": (today - dt.timedelta(days=days + 1)).isoformat(),
            "return_date": (today - dt.timedelta(days=days - 1)).isoformat(), "travel_mode": "air",
            "distance_km": "3300", "rail_hours": "", "ticket_cost": "240.00", "accommodation_nights": "2",
            "accommodation_cost": "260.00", "other_costs": "0", "account_holder": "Load Test",
            "iban": "PL61 1090 1014 0000 0712 1981 2874", "declaration": "true",
        }
        filed = await self.call("file_claim", "POST", url, referer=url, data=fields,
                                files=[("receipts", ("receipt.pdf", RECEIPT, "application/pdf"))])
        if not self.expect("file_claim", filed, 302):
            return
        location = urlsplit(filed.headers["location"]).path
        self.tally.filed.append(int(location.rsplit("/", 1)[1]))
        shown = await self.call("request_page", "GET", location)  # the browser follows the redirect
        self.expect("request_page", shown, 200)

    async def decide(self) -> None:
        inbox = await self.call("inbox", "GET", "/inbox")
        if not self.expect("inbox", inbox, 200):
            return
        step = STEP[self.role]
        tasks = re.findall(rf'href="/tasks/(\d+)">{step}<', inbox.text)
        if not tasks:
            await self.pause(3)  # nothing waiting: look again a little later
            return
        await self.pause()
        url = f"/tasks/{self.rng.choice(tasks)}"  # not always the first row, as people choose
        page = await self.call("task_page", "GET", url)
        if not self.expect("task_page", page, 200):
            return
        token = self.token(page)
        if token is None:  # "this task has been done": another person took it meanwhile
            self.tally.conflicts += 1
            return
        await self.pause()
        fields = {"csrf_token": token, "decision": "approve"}
        if self.role == "finance":
            fields |= {"payment_date": dt.date.today().isoformat(),
                       "payment_reference": f"LOAD-{self.rng.randint(1, 10**9)}"}
        done = await self.call("decide", "POST", url, referer=url, data=fields)
        if done is not None and done.status_code == 409:
            self.tally.conflicts += 1
        elif self.expect("decide", done, 302):
            self.tally.completed.append(int(url.rsplit("/", 1)[1]))


def cast(people: int) -> list[tuple[str, str]]:
    """(email, role) for ``people`` people: two buyers to a coordinator and to a finance officer,
    as a claim makes one task for each; demo accounts are shared by several sessions."""
    roles = ["buyer", "buyer", "coordinator", "finance"]
    accounts = {"buyer": BUYERS, "coordinator": COORDINATORS, "finance": FINANCE}
    chosen = []
    for n in range(people):
        role = roles[n % len(roles)]
        names = accounts[role]
        chosen.append((names[(n // len(roles)) % len(names)], role))
    return chosen


async def play(port: int, people: int, seconds: float, think: float, seed: int = 14,
               at_work: Callable[[], None] = lambda: None) -> tuple[Tally, float]:
    """Sign ``people`` people in, then let them work for ``seconds``; return what they saw and
    the seconds the work took (each person finishes the click under way when time is up:
    nothing is cut mid-request). Sign-ins are timed but are not part of those seconds;
    ``at_work`` is called when they are done and the work begins."""
    tally = Tally()
    limits = httpx.Limits(max_connections=people, max_keepalive_connections=people)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=TIMEOUT,
                                 follow_redirects=False) as client:
        crowd = [Person(client, email, role, tally, think, random.Random(seed + n))
                 for n, (email, role) in enumerate(cast(people))]
        signed_in = await asyncio.gather(*(person.sign_in() for person in crowd))
        at_work()
        started = time.monotonic()
        working = [person for person, ok in zip(crowd, signed_in, strict=True) if ok]
        await asyncio.gather(*(person.run(started + seconds) for person in working))
        return tally, time.monotonic() - started
