"""Production, end to end: gunicorn with two workers and a separate ``flask worker`` on a
migrated PostgreSQL database, a real SMTP relay, and requests as a TLS-terminating reverse
proxy forwards them (README, "Production"). A travel claim goes from filing to the
claimant's "paid" email over real HTTP and real SMTP.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import make_url

from tests import pg
from tests.conftest import CSRF, ROOT, postgres_url
from tests.integration.test_email import Inbox, free_port, parts

pytestmark = pytest.mark.skipif(
    not postgres_url(), reason="runs gunicorn and a worker against PostgreSQL: in the PostgreSQL pass only")

PUBLIC = "https://bbw.example"  # the address people use; the proxy terminates TLS
PASSWORD = "bigbuyers-demo"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WAIT = 60  # seconds: the bound on every wait below, never reached when things work


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.text = status, headers, body.decode("utf-8", "replace")

    def token(self) -> str:
        match = CSRF.search(self.text)
        assert match, f"no CSRF token ({self.status})"
        return match.group(1)


class Browser:
    """A browser behind the reverse proxy: cookies, Referer on posts, and the headers the
    proxy adds (X-Forwarded-For, -Proto, -Host), sent to gunicorn over plain HTTP."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def request(self, method: str, url: str, body: bytes | None = None, content_type: str = "",
                referer: str = "") -> Response:
        path = urlsplit(url).path or "/"
        headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": urlsplit(PUBLIC).hostname}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        if referer:
            headers["Referer"] = PUBLIC + urlsplit(referer).path
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            connection.request(method, path, body=body, headers=headers)
            reply = connection.getresponse()
            response = Response(reply.status, reply.headers, reply.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, fields: dict, files: list[tuple[str, str, bytes]] | None = None) -> Response:
        """Submit the form on the page at ``url`` with its CSRF token, as the page would."""
        fields = {**fields, "csrf_token": self.get(url).token()}
        if files:
            body, content_type = multipart(fields, files)
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", url, body, content_type, referer=url)

    def sign_in(self, email: str) -> None:
        response = self.post("/sign-in", {"email": email, "password": PASSWORD})
        assert response.status == 302, response.text[:2000]


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                      f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def wait_for(what: str, found, *logs: Path):
    """Poll ``found()`` until it returns something, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    pytest.fail(f"waited {WAIT} s for {what}\n{tails}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def start_smtp(relay: Inbox) -> Controller:
    for attempt in range(3):  # another process may take the free port first
        controller = Controller(relay, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
            return controller
        except OSError:
            if attempt == 2:
                raise


@pytest.fixture
def production(tmp_path):
    """A migrated PostgreSQL database, an SMTP relay, gunicorn (two workers) and the worker."""
    url = make_url(postgres_url()).set(database="bbw_smoke")
    pg.recreate(url.render_as_string(hide_password=False))
    relay = Inbox()
    smtp = start_smtp(relay)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_", "TEST_DATABASE", "APP_ENV"))},
        "DATABASE_URL": url.set(drivername="postgresql").render_as_string(hide_password=False),
        "APP_ENV": "production",  # as the README's environment file: a mail server and a key, or no start
        "SECRET_KEY": secrets.token_urlsafe(32),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),  # the volume every web and worker process shares
        "EXTERNAL_BASE_URL": PUBLIC,
        "SESSION_COOKIE_SECURE": "true",
        "TRUSTED_PROXIES": "1",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "MAIL_TIMEOUT": "5",
        "MAIL_DEFAULT_SENDER": "Big Buyers Workflow <noreply@bbw.example>",
        "WORKER_INTERVAL": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    logs = [tmp_path / "gunicorn.log", tmp_path / "worker.log"]
    processes: list[subprocess.Popen] = []

    def run(*command: str) -> None:
        done = subprocess.run([*flask, *command], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"flask {' '.join(command)}:\n{done.stdout}\n{done.stderr}"

    def start(log: Path, command: list[str]) -> subprocess.Popen:
        with log.open("ab") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                                       stdout=output, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        run("db", "upgrade")  # the schema as production builds it: by the migrations
        worker = start(logs[1], [*flask, "worker"])
        for attempt in range(3):  # another process may take the free port before gunicorn does
            port = free_port()
            web = start(logs[0], [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                  "--workers", "2", "--graceful-timeout", "5", "--access-logfile", "-",
                                  "wsgi:app"])
            if attempt == 0:  # while gunicorn starts
                run("workflows", "sync")
                run("demo", "load")

            def answers(web=web, port=port):
                assert worker.poll() is None, logs[1].read_text(errors="replace")[-3000:]
                if web.poll() is not None:
                    return "exited"
                try:
                    return "up" if Browser(port).get("/sign-in").status == 200 else None
                except OSError:
                    return None

            if wait_for("gunicorn to answer", answers, *logs) == "up":
                break
            assert attempt < 2, logs[0].read_text(errors="replace")[-3000:]
        yield port, relay, logs
    finally:
        for process in processes:
            stop(process)
        smtp.stop()
        pg.drop(url.render_as_string(hide_password=False))


def decision_links(message) -> dict[str, str]:
    """{first word of a decision's label: its link}, e.g. {"Approve": "https://.../decide/..."}."""
    found = re.findall(r"^(.+)…: (https://bbw\.example/decide/\S+)$", parts(message)[0], re.M)
    return {label.split()[0]: link for label, link in found}


def test_a_claim_is_filed_approved_from_the_email_paid_and_the_claimant_told(production):
    port, relay, logs = production

    def mail(to: str, subject_part: str):
        return wait_for(f"an email to {to} about “{subject_part}”", lambda: next(
            (m for m in relay.to(to) if subject_part in m["Subject"]), None), *logs)

    marta = Browser(port)
    marta.sign_in("marta.nowak@gdansk.example.eu")
    session = next(h for h in marta.set_cookie_headers if h.startswith("session="))
    assert "Secure" in session and "HttpOnly" in session  # behind HTTPS, the cookie says so
    form = marta.get("/start/travel_reimbursement")
    assert form.status == 200
    group = re.search(r'value="(\d+)"[^>]*>\s*(?:<label[^>]*>)?\s*Circular ICT\b', form.text)
    assert group, "Circular ICT is not offered"
    # Behind HTTPS (X-Forwarded-Proto, trusted) a post must also come from our own pages: with a
    # valid token but no Referer it is refused; the same form with one (below) goes through.
    forged = marta.request("POST", "/start/travel_reimbursement", urlencode({"csrf_token": form.token()}).encode(),
                           "application/x-www-form-urlencoded")
    assert forged.status == 400 and "The form had expired" in forged.text
    filed = marta.post("/start/travel_reimbursement", {
        "working_group_id": group.group(1), "meeting_id": "other", "meeting": "Circular ICT, 4th meeting, Lisbon",
        "meeting_date": "2026-12-03", "travel_from": "Gdańsk", "travel_to": "Lisbon",
        "departure_date": "2026-12-02", "return_date": "2026-12-04", "travel_mode": "air",
        "distance_km": "3300", "rail_hours": "", "ticket_cost": "240.00",
        "accommodation_nights": "2", "accommodation_cost": "260.00", "other_costs": "0",
        "account_holder": "Marta Nowak", "iban": "PL61 1090 1014 0000 0712 1981 2874", "declaration": "true",
    }, files=[("receipts", "boarding-pass.pdf", PDF)])
    assert filed.status == 302, filed.text[:3000]

    # A coordinator decides from the email, in a mail program's browser: not signed in.
    ask = mail("clara.schmidt", "Check claim – Travel claim for Circular ICT, 4th meeting")  # not the demo's
    assert "Circular ICT, 4th meeting, Lisbon" in ask["Subject"]
    approve = decision_links(ask)["Approve"]
    reader = Browser(port)
    page = reader.get(approve)
    assert page.status == 200 and "Confirm your decision: Approve" in page.text
    done = reader.post(approve, {})
    assert done.status == 200 and "Decision recorded" in done.text, done.text[:3000]
    access_log = logs[0].read_text(errors="replace")
    assert "/decide/[hidden]" in access_log and urlsplit(approve).path not in access_log

    # Finance approves the payment on the web form the email links to.
    pay = mail("felix.wagner", "Approve payment")
    task_link = re.search(r"https://bbw\.example(/tasks/\d+)", parts(pay)[0]).group(1)
    felix = Browser(port)
    felix.sign_in("felix.wagner@iclei.example.eu")
    paid = felix.post(task_link, {"decision": "approve", "payment_date": "2026-12-15",
                                  "payment_reference": "BB-2026-0107"})
    assert paid.status == 302, paid.text[:3000]

    told = mail("marta.nowak", "has been paid")
    text = parts(told)[0]
    assert "Payment reference: BB-2026-0107" in text
    request_link = re.search(r"https://bbw\.example(/requests/\d+)", text).group(1)
    page = marta.get(request_link)
    assert page.status == 200 and "The request finished: Claim paid" in page.text and "Clara Schmidt" in page.text
    assert all(m["Message-ID"].endswith("@bbw.example>") for m in relay.messages)
    assert len({m["Message-ID"] for m in relay.messages}) == len(relay.messages)  # none sent twice
