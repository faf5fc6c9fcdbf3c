"""Faults, as the web answers them: the database out of reach or frozen, the upload folder full.

The first tests run in both passes on the test client: the 500 and 503 pages and their one
log record, the health checks, and a full disk as the kernel reports it (the temporary file
of an upload is made a link to /dev/full, which answers every write with ENOSPC).

The others run in the PostgreSQL pass only, on real processes: a cluster of their own (they
stop it and freeze it), gunicorn with two workers, and an upload folder on a small tmpfs
(mounting needs root; otherwise that test is skipped, saying so).
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from app.models import OutboxMessage, ProcessInstance
from app.services.attachments import STORAGE_NOTICE
from tests import pg
from tests.conftest import app_config, loaded, person, post_form, postgres_url, sign_in
from tests.integration.test_email import free_port
from tests.integration.test_production_smoke import PUBLIC, Browser, stop, wait_for
from tests.integration.test_travel_http import PDF, claim, ready_task

KEPT = "Your answers are kept below, but the files were not saved: attach them again"
UNAVAILABLE = "nothing you sent was saved"
REFERENCE = re.compile(r'<strong class="app-reference">([A-Z2-9]{8})</strong>')


def errors_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- the error pages, on the test client ---------------------------------------------------


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False)  # as in production: not a test that wants the error
def test_an_unexpected_error_shows_a_reference_that_its_one_log_record_carries(app, client, caplog):
    def broken():
        raise RuntimeError("the secret internals of /srv/bbw/app/app/web/broken.py")

    app.add_url_rule("/broken", "broken", broken)
    response = client.get("/broken")
    page = loaded(response, 500)
    assert "Sorry, there is a problem with the service" in page
    reference = REFERENCE.search(page).group(1)
    assert "secret internals" not in page and "broken.py" not in page and "Traceback" not in page
    [record] = errors_logged(caplog)
    assert reference in record.getMessage() and "GET /broken" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is RuntimeError  # the one record has the traceback
    assert response.headers["Cache-Control"] == "no-store"
    again = REFERENCE.search(loaded(client.get("/broken"), 500)).group(1)
    assert again != reference  # each failure its own reference


def test_a_database_out_of_reach_answers_503_and_logs_one_line(app, client, caplog):
    def lost():
        db.session.execute(text("UPDATE \"user\" SET name = 'Lost' WHERE email LIKE 'marta%'"))
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    app.add_url_rule("/lost", "lost", lost)
    sign_in(client, "marta")
    caplog.clear()
    response = client.get("/lost")
    page = loaded(response, 503)
    assert response.headers["Retry-After"] == "60"
    assert "Sorry, the service is unavailable" in page and UNAVAILABLE in page and "Try again in a minute" in page
    assert "Marta" not in page  # the header reads nothing stored: nobody is shown signed in
    reference = REFERENCE.search(page).group(1)
    [record] = errors_logged(caplog)
    assert record.getMessage().startswith(f"database unavailable [ref {reference}] GET /lost: OperationalError")
    assert "connection refused" in record.getMessage() and "\n" not in record.getMessage()
    assert record.exc_info is None
    assert person("marta").name == "Marta Nowak"  # rolled back


def test_health_checks_answer_without_signing_in(client):
    alive = client.get("/healthz")
    assert (alive.status_code, alive.get_data(as_text=True), alive.mimetype) == (200, "ok\n", "text/plain")
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_data(as_text=True)) == (200, "ready\n")


def test_not_ready_while_the_database_lags_behind_the_migrations(app, client):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'ad7410cd9c27'"))  # the first one
    db.session.commit()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    reason = ready.get_data(as_text=True)
    assert reason.startswith("not ready: database at migration ad7410cd9c27") and "flask db upgrade" in reason
    assert reason.count("\n") == 1
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()
    assert client.get("/readyz").get_data(as_text=True) == "not ready: no migrations applied: run flask db upgrade\n"


# -- a full disk, on the test client ------------------------------------------------------


def refuse_writes_of(app, data: bytes) -> Path:
    """Make the next store of ``data`` meet a full disk: its temporary file is /dev/full."""
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(app.config["UPLOAD_FOLDER"]) / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{digest}.{os.getpid()}.part"
    part.symlink_to("/dev/full")
    return folder


def notices() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == STORAGE_NOTICE)))


def test_a_full_disk_keeps_the_claim_form_and_tells_the_administrators_once(app, client, caplog):
    folder = refuse_writes_of(app, PDF)
    sign_in(client, "marta")
    before = db.session.scalar(select(db.func.count()).select_from(ProcessInstance))
    filed = claim(meeting="Circular ICT, 5th meeting, Tallinn")
    response = post_form(client, "/start/travel_reimbursement", filed,
                         {"receipts": [(io.BytesIO(PDF), "train.pdf")]})
    page = loaded(response, 507)
    assert KEPT in page
    assert 'value="Circular ICT, 5th meeting, Tallinn"' in page and 'value="PL61 1090 1014 0000 0712 1981 2874"' in page
    assert list(folder.iterdir()) == []  # the temporary file is gone, no file half written
    assert db.session.scalar(select(db.func.count()).select_from(ProcessInstance)) == before
    [notice] = notices()
    assert notice.to_address == "admin@bigbuyers.example.eu"
    assert "cannot store uploaded files" in notice.subject and "No space left on device" in notice.text_body
    assert any("refused a file: No space left on device" in r.getMessage() for r in errors_logged(caplog))

    refuse_writes_of(app, PDF)
    again = post_form(client, "/start/travel_reimbursement", filed, {"receipts": [(io.BytesIO(PDF), "train.pdf")]})
    assert KEPT in loaded(again, 507)
    assert len(notices()) == 1  # at most one email an hour

    sent = post_form(client, "/start/travel_reimbursement", filed, {"receipts": [(io.BytesIO(PDF), "train.pdf")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    assert [p.name for p in folder.iterdir()] == [hashlib.sha256(PDF).hexdigest()]


def test_a_full_disk_keeps_the_task_form_too(app, client):
    sign_in(client, "marta")
    assert post_form(client, "/start/travel_reimbursement", claim(),
                     {"receipts": [(io.BytesIO(PDF), "train.pdf")]}).status_code == 302
    instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    check = ready_task(instance, "check_claim")
    sign_in(client, "clara")
    assert post_form(client, f"/tasks/{check.id}", {
        "decision": "request_changes", "coordinator_comment": "Please add the hotel invoice."}).status_code == 302
    revise = ready_task(instance, "revise_claim")
    invoice = PDF + b"% the hotel invoice\n"
    refuse_writes_of(app, invoice)
    sign_in(client, "marta")
    fix = claim(accommodation_cost="281.50")
    fix.pop("working_group_id")
    response = post_form(client, f"/tasks/{revise.id}", fix,
                         {"additional_receipts": [(io.BytesIO(invoice), "hotel.pdf")]})
    page = loaded(response, 507)
    assert KEPT in page and 'value="281.50"' in page and "Please add the hotel invoice." in page
    assert ready_task(instance, "revise_claim").id == revise.id  # still waiting: nothing was saved


# -- real processes: PostgreSQL, gunicorn with two workers, a tmpfs upload folder -----------

needs_postgres = pytest.mark.skipif(
    not postgres_url(), reason="stops and freezes a PostgreSQL cluster under gunicorn: in the PostgreSQL pass only")
DEADLINE = 30  # seconds: the bound on every wait below


class Site:
    """A cluster of its own (the tests stop and freeze it), a migrated database with the demo
    people, and gunicorn (two workers) on it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cluster = pg.Cluster().start()
        self.url = self.cluster.url("bbw_faults")
        self.uploads = folder / "uploads"
        self.uploads.mkdir()
        self.log = folder / "gunicorn.log"
        self.web: subprocess.Popen | None = None
        self.port = 0
        self.mounted = ""

    def prepare(self) -> None:
        from tests.conftest import _seed

        pg.recreate(self.url)
        seeder = create_app(app_config(self.folder / "seed", self.url))
        with seeder.app_context():
            _seed()
            db.session.remove()
            db.engine.dispose()

    def mount_tmpfs(self, size: str) -> None:
        command = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.uploads)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)  # noqa: S603 - fixed words
        if done.returncode == 0:
            self.mounted = size
        else:
            self.mount_error = (done.stderr or done.stdout).strip() or f"mount exited {done.returncode}"

    def start_web(self) -> None:
        env = {
            **{k: v for k, v in os.environ.items()
               if not k.startswith(("FLASK_", "MAIL_", "TEST_DATABASE", "APP_ENV"))},
            "DATABASE_URL": self.url.replace("postgresql+psycopg://", "postgresql://"),
            # As production runs: its relay is never reached here (the web only queues emails).
            "APP_ENV": "production", "MAIL_SERVER": "smtp-relay.invalid",
            "SECRET_KEY": secrets.token_urlsafe(32), "UPLOAD_FOLDER": str(self.uploads),
            "EXTERNAL_BASE_URL": PUBLIC, "SESSION_COOKIE_SECURE": "true", "TRUSTED_PROXIES": "1",
            "DATABASE_CONNECT_TIMEOUT": "2", "DATABASE_STATEMENT_TIMEOUT": "5", "PYTHONUNBUFFERED": "1",
        }
        for _attempt in range(3):  # another process may take the free port before gunicorn does
            self.port = free_port()
            with self.log.open("ab") as output:
                self.web = subprocess.Popen(  # noqa: S603 - our own command
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                     "--timeout", "60", "--graceful-timeout", "5", "wsgi:app"],
                    cwd=Path(__file__).resolve().parents[2], env=env, stdin=subprocess.DEVNULL,
                    stdout=output, stderr=subprocess.STDOUT)

            def answers():
                if self.web.poll() is not None:
                    return "exited"
                try:
                    return "up" if Browser(self.port).get("/healthz").status == 200 else None
                except OSError:
                    return None

            if wait_for("gunicorn to answer", answers, self.log) == "up":
                return
        pytest.fail(self.log.read_text(errors="replace")[-3000:])

    # -- the faults

    def pg_ctl(self, *args: str) -> None:
        self.cluster._run(str(self.cluster.bin / "pg_ctl"), "-D", str(self.cluster.data), *args, timeout=DEADLINE)

    def stop_database(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start_database(self) -> None:
        options = (f"-h 127.0.0.1 -p {self.cluster.port} -k {self.cluster.folder} -c fsync=off "
                   "-c max_connections=200")
        self.pg_ctl("-l", str(self.cluster.log), "-w", "-t", str(DEADLINE), "-o", options, "start")

    def server_pids(self) -> list[int]:
        """The postmaster and every process it started (the backends among them)."""
        postmaster = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *children(postmaster)]

    def worker_pids(self) -> list[int]:
        return sorted(children(self.web.pid))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        if self.web is not None:
            stop(self.web)
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.uploads)], capture_output=True, timeout=10)  # noqa: S603, S607
        self.cluster.stop()


def send(pids: list[int], number: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass  # a backend that was exiting: the postmaster reaped it


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not postgres_url():
        pytest.skip("in the PostgreSQL pass only")
    site = Site(tmp_path_factory.mktemp("faults"))
    try:
        site.prepare()
        site.mount_tmpfs("512k")
        site.start_web()
        yield site
    finally:
        site.close()


def signed_in(site: Site, email: str) -> Browser:
    browser = Browser(site.port)
    browser.sign_in(email)
    return browser


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


PAGES = ("/inbox", "/requests", "/start/travel_reimbursement")


@needs_postgres
def test_a_stopped_database_answers_503_until_it_is_back(site):
    marta = signed_in(site, "marta.nowak@gdansk.example.eu")
    workers = site.worker_pids()
    logged_before = site.log_text()
    site.stop_database()
    try:
        for path in PAGES:
            page, took = timed(lambda path=path: marta.get(path))
            assert page.status == 503, (path, page.status, page.text[:500])
            assert page.headers["Retry-After"] == "60" and UNAVAILABLE in page.text and "govuk-template" in page.text
            assert took < 5, (path, took)
        ready = Browser(site.port).get("/readyz")
        assert (ready.status, ready.text) == (503, "not ready: database unreachable\n")
        assert Browser(site.port).get("/healthz").status == 200
    finally:
        site.start_database()
    for path in PAGES:
        assert marta.get(path).status == 200, path
    assert Browser(site.port).get("/readyz").text == "ready\n"
    assert site.worker_pids() == workers  # gunicorn was not restarted, nor a worker replaced

    logged = site.log_text()[len(logged_before):]
    failures = re.findall(r"database unavailable \[ref ([A-Z2-9]{8})\] GET (\S+):", logged)
    assert [path for _, path in failures] == list(PAGES), logged[-3000:]  # one line per failed request
    assert "Traceback" not in logged and "During handling" not in logged, logged[-3000:]


@needs_postgres
def test_a_frozen_database_fails_a_request_in_seconds_not_minutes(site):
    marta = signed_in(site, "marta.nowak@gdansk.example.eu")
    assert marta.get("/inbox").status == 200  # both workers hold pooled connections by now
    assert marta.get("/inbox").status == 200
    workers = site.worker_pids()
    logged_before = site.log_text()
    paused = site.server_pids()
    send(paused, signal.SIGSTOP)
    try:
        page, took = timed(lambda: marta.get("/inbox"))
        assert page.status == 503 and UNAVAILABLE in page.text, page.text[:500]
        assert took < 10, took  # a ping (2 s) and a connection attempt (2 s), not gunicorn's 60 s
        ready, took = timed(lambda: Browser(site.port).get("/readyz"))
        assert ready.status == 503 and took < 10
    finally:
        send(paused, signal.SIGCONT)
    assert wait_for("the site to answer again", lambda: marta.get("/inbox").status == 200, site.log)
    assert site.worker_pids() == workers  # none was killed for hanging
    logged = site.log_text()[len(logged_before):]
    assert re.findall(r"database unavailable \[ref [A-Z2-9]{8}\] GET (\S+):", logged) == ["/inbox"], logged[-3000:]
    assert "Traceback" not in logged, logged[-3000:]


@needs_postgres
def test_a_statement_the_frozen_database_never_answers_fails_too(site):
    """Frozen mid-statement, the server cannot cancel it at its statement timeout (5 s here):
    the app gives up itself, that and the connect timeout (2 s) later."""
    marta = signed_in(site, "marta.nowak@gdansk.example.eu")
    assert marta.get("/inbox").status == 200
    logged_before = site.log_text()
    answer: dict = {}
    with psycopg.connect(site.url.replace("postgresql+psycopg://", "postgresql://")) as blocker:
        blocker.execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')  # the next page waits on it
        request = threading.Thread(target=lambda: answer.update(page=timed(lambda: marta.get("/inbox"))))
        request.start()
        wait_for("the page to wait on the lock", lambda: blocked_on_lock(site), site.log)
        paused = site.server_pids()
        send(paused, signal.SIGSTOP)
        try:
            request.join(DEADLINE)
        finally:
            send(paused, signal.SIGCONT)
        blocker.rollback()
    page, took = answer["page"]
    assert page.status == 503 and UNAVAILABLE in page.text, page.text[:500]
    assert took < 12, took
    assert wait_for("the site to answer again", lambda: marta.get("/inbox").status == 200, site.log)
    logged = site.log_text()[len(logged_before):]
    assert len(re.findall(r"database unavailable \[ref [A-Z2-9]{8}\] GET /inbox:", logged)) == 1, logged[-3000:]
    assert "Traceback" not in logged, logged[-3000:]


def blocked_on_lock(site: Site) -> bool:
    with psycopg.connect(site.url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return bool(connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()[0])


@needs_postgres
def test_a_full_upload_folder_keeps_the_claim_and_tells_the_administrators(site):
    if not site.mounted:
        pytest.skip(f"cannot mount a tmpfs as the upload folder (needs root): {site.mount_error}")
    filler = site.uploads / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):  # fill the folder to the last block: ENOSPC ends it
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    marta = signed_in(site, "marta.nowak@gdansk.example.eu")
    form = marta.get("/start/travel_reimbursement")
    group = re.search(r'value="(\d+)"[^>]*>\s*(?:<label[^>]*>)?\s*Circular ICT\b', form.text).group(1)
    receipt = PDF + b"% boarding pass " + secrets.token_hex(2000).encode()  # 4 KB: needs a block
    fields = {
        "working_group_id": group, "meeting_id": "other", "meeting": "Circular ICT, 6th meeting, Riga",
        "meeting_date": "2026-12-03",
        "travel_from": "Gdańsk", "travel_to": "Riga", "departure_date": "2026-12-02", "return_date": "2026-12-04",
        "travel_mode": "rail", "distance_km": "700", "rail_hours": "", "ticket_cost": "90.00",
        "accommodation_nights": "2", "accommodation_cost": "200.00", "other_costs": "0",
        "account_holder": "Marta Nowak", "iban": "PL61 1090 1014 0000 0712 1981 2874", "declaration": "true"}
    refused = marta.post("/start/travel_reimbursement", fields, files=[("receipts", "boarding-pass.pdf", receipt)])
    assert refused.status == 507, refused.text[:2000]
    assert KEPT in refused.text
    assert 'value="Circular ICT, 6th meeting, Riga"' in refused.text
    assert sorted(p.name for p in site.uploads.rglob("*") if p.is_file()) == ["filler"]  # no partial file
    with psycopg.connect(site.url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        rows = connection.execute("SELECT to_address FROM outbox_message WHERE template = %s",
                                  (STORAGE_NOTICE,)).fetchall()
    assert rows == [("admin@bigbuyers.example.eu",)]
    assert "refused a file: No space left on device" in site.log_text()

    filler.unlink()
    filed = marta.post("/start/travel_reimbursement", fields, files=[("receipts", "boarding-pass.pdf", receipt)])
    assert filed.status == 302, filed.text[:2000]
    digest = hashlib.sha256(receipt).hexdigest()
    assert (site.uploads / digest[:2] / digest).read_bytes() == receipt
