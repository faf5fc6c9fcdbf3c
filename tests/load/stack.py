"""The production shape on this machine, for the load benchmark: PostgreSQL (the test
suite's throwaway cluster, tests/pg.py), the migrations, the demo, gunicorn with the
README's production settings, ``flask worker`` processes and an SMTP sink on loopback.
"""

from __future__ import annotations

import collections
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path

import httpx
import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy import make_url

from tests import pg
from tests.conftest import ROOT
from tests.integration.test_email import free_port
from tests.integration.test_production_smoke import stop

# README, Production → systemd: the web service's command, bound to a free port here.
GUNICORN = ["--workers", "4", "--timeout", "60"]  # the app writes its own access line (Operating)
# pg_stat_statements needs loading at server start: the profile (--profile) reads it.
PG_SETTINGS = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"


class Sink:
    """The SMTP relay: counts each Message-ID it accepts (a copy shows as a count of two)."""

    def __init__(self) -> None:
        self.ids: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = BytesHeaderParser().parsebytes(envelope.original_content)["Message-ID"]
        with self.lock:
            self.ids[str(message_id).strip()] += 1
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.ids.values())


class Stack:
    """Start with ``start()``; ``stop()`` ends every process it started and removes its files.

    ``url`` names a database on a running server (the test suite's); without it a cluster of
    its own is started, with pg_stat_statements loaded. The database is made by the migrations,
    ``flask workflows sync`` and ``flask demo load``, or copied from ``template`` (the test
    suite's, seeded the same way)."""

    def __init__(self, url: str = "", database: str = "bbw_load", gunicorn: list[str] | None = None,
                 template: str = "") -> None:
        self.cluster: pg.Cluster | None = None
        self.url = make_url(url).set(database=database).render_as_string(hide_password=False) if url else ""
        self.database = database
        self.template = template  # a database already migrated and seeded (the test suite's) to copy
        self.gunicorn = gunicorn or os.environ.get("BENCH_GUNICORN", "").split() or GUNICORN
        self.folder = Path(tempfile.mkdtemp(prefix="bbw-load."))
        self.sink = Sink()
        self.smtp: Controller | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.port = 0
        self.env: dict[str, str] = {}

    @property
    def dsn(self) -> str:
        """The database for psycopg (no SQLAlchemy driver name)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def start(self) -> Stack:
        if not self.url:
            self.cluster = pg.Cluster(settings=PG_SETTINGS).start()
            self.url = self.cluster.url(self.database)
        pg.recreate(self.url, self.template or None)
        for attempt in range(3):  # another process may take the free port first
            self.smtp = Controller(self.sink, hostname="127.0.0.1", port=free_port())
            try:
                self.smtp.start()
                break
            except OSError:
                if attempt == 2:
                    raise
        self.env = {
            **{k: v for k, v in os.environ.items()
               if not k.startswith(("FLASK_", "MAIL_", "TEST_DATABASE", "APP_ENV", "BENCH_"))},
            # README, Production: the environment file, with this machine's addresses.
            "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32), "DATABASE_URL": self.dsn,
            "UPLOAD_FOLDER": str(self.folder / "uploads"), "EXTERNAL_BASE_URL": "https://bbw.example",
            "SESSION_COOKIE_SECURE": "true", "TRUSTED_PROXIES": "1",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(self.smtp.port),
            "MAIL_DEFAULT_SENDER": "Big Buyers Workflow <noreply@bbw.example>",
            # The one departure: WORKER_INTERVAL's 5 s default lets a worker send one batch
            # (MAIL_BATCH_SIZE, 50) per 5 s, 10 emails/s, whatever the machine could do.
            "WORKER_INTERVAL": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
        if not self.template:
            self.flask("db", "upgrade")
            self.flask("workflows", "sync")
            self.flask("demo", "load")
        self.start_web()
        return self

    def flask(self, *command: str) -> None:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=self.env,  # noqa: S603
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)}:\n{done.stdout}\n{done.stderr}")

    def _spawn(self, log: str, command: list[str]) -> subprocess.Popen:
        with (self.folder / log).open("ab") as output:
            return subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,  # noqa: S603
                                    stdout=output, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start_web(self) -> None:
        for _attempt in range(3):  # another process may take the free port before gunicorn does
            self.port = free_port()
            self.web = self._spawn("gunicorn.log", [sys.executable, "-m", "gunicorn", "--bind",
                                                    f"127.0.0.1:{self.port}", *self.gunicorn, "wsgi:app"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.web.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            stop(self.web)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log('gunicorn.log')}")

    def start_workers(self, count: int) -> list[subprocess.Popen]:
        started = [self._spawn("worker.log", [sys.executable, "-m", "flask", "--app", "wsgi", "worker"])
                   for _ in range(count)]
        self.workers += started
        return started

    def stop_workers(self) -> None:
        for worker in self.workers:
            stop(worker)
        self.workers = []

    def server_parts(self) -> dict[str, list[int]]:
        """The processes serving, by part: gunicorn (``web``), the ``flask worker`` processes
        and PostgreSQL's postmaster (``database``, when the cluster is the stack's own)."""
        parts = {"web": [self.web.pid] if self.web is not None else [],
                 "worker": [process.pid for process in self.workers]}
        if self.cluster is not None:
            parts["database"] = [int((self.cluster.data / "postmaster.pid").read_text().split()[0])]
        return parts

    def sql(self, query: str, *args) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            cursor = connection.execute(query, args or None)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        self.stop_workers()
        if self.web is not None:
            stop(self.web)
        if self.smtp is not None:
            self.smtp.stop()
        try:
            if self.url:
                pg.drop(self.url)
        except psycopg.Error:
            pass
        if self.cluster is not None:
            self.cluster.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def cpu_seconds(roots: list[int]) -> float:
    """CPU seconds (user + system) of the processes ``roots`` and of every living process below
    them, with their reaped children's: the server side of the load, whatever else the machine
    runs (read from /proc; Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    wanted = set(roots)
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in wanted} - wanted
        wanted |= below
        grew = bool(below)
    return sum(spent.get(pid, 0.0) for pid in wanted)
