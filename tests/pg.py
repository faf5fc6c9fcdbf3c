"""A throwaway PostgreSQL cluster for the test suite's second pass.

``pytest --postgres`` (``make test-postgres``) starts one with Debian's server binaries on a
free loopback port, runs the suite against it and removes it at the end; nothing else on the
machine is touched. initdb and pg_ctl refuse to run as root, so as root they run as the
``postgres`` user. fsync is off: the data lives for minutes and speed is what matters.

Each test gets its own database, cloned from a template that already holds the schema, the
shipped processes and the demo people (``CREATE DATABASE ... TEMPLATE`` copies a few MB of
files: much faster than building the schema and seeding it again for every test).

Set TEST_DATABASE_URL to a database on a server of your own instead; its role needs
CREATEDB, because the template and the per-test databases are made beside it.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ADMIN_DB = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_bin() -> Path:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        on_path = shutil.which("initdb")
        if on_path:
            return Path(on_path).parent
        raise RuntimeError("PostgreSQL's server is not installed: apt-get install postgresql")
    newest = max(found, key=lambda path: int(re.search(r"/(\d+)/bin/", path).group(1)))
    return Path(newest).parent


class Cluster:
    """initdb + pg_ctl start in a temporary folder; ``stop()`` removes every trace."""

    def __init__(self, settings: str = "") -> None:
        self.bin = server_bin()
        self.settings = settings  # more server settings, e.g. "-c shared_preload_libraries=pg_stat_statements"
        self.port = 0
        self.options = ""
        self.as_user: list[str] = []
        account = None
        if os.geteuid() == 0:  # initdb and pg_ctl refuse root
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("as root, the cluster runs as the 'postgres' user, and there is none: "
                                   "apt-get install postgresql creates it") from None
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="bbw-pg."))
        if account is not None:
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdin=subprocess.DEVNULL,  # noqa: S603 - our own binaries
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)

    def start(self) -> Cluster:
        try:
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-locale", "--no-sync")
            for attempt in range(5):  # another process may take the free port before we do
                self.port = free_port()
                # The server's time zone is far from UTC and from DISPLAY_TIMEZONE (UTC+12:45/+13:45):
                # a timestamp the app reads back in the server's zone and mishandles shows up.
                self.options = options = (f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                                          "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                                          f"-c timezone=Pacific/Chatham {self.settings}").strip()
                try:
                    self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                              "-t", "30", "-o", options, "start")
                    break
                except subprocess.CalledProcessError:
                    if attempt == 4:
                        raise
        except BaseException as exc:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            output = getattr(exc, "output", b"") or b""
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {exc}\n{output.decode(errors='replace')}\n{log}") from exc
        return self

    def pause(self) -> None:
        """Stop the server (a database outage), keeping its data and port for ``resume``."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", self.options, "start")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.port and (self.data / "postmaster.pid").exists():
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (subprocess.SubprocessError, OSError):
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
        self.port = 0


def _admin(url: str) -> psycopg.Connection:
    """An autocommit connection to the server's maintenance database."""
    parts = make_url(url).set(drivername="postgresql", database=ADMIN_DB)
    return psycopg.connect(parts.render_as_string(hide_password=False), autocommit=True)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def recreate(url: str, template: str | None = None) -> None:
    """Drop the database ``url`` names (closing its connections) and create it again,
    empty or as a copy of ``template``."""
    name = make_url(url).database
    with _admin(url) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
        clone = f" TEMPLATE {quote(template)} STRATEGY FILE_COPY" if template else ""
        for attempt in range(50):
            try:
                connection.execute(f"CREATE DATABASE {quote(name)}{clone}")
                return
            except psycopg.errors.ObjectInUse:  # the template's last connection is closing
                if attempt == 49:
                    raise
                time.sleep(0.05)


def drop(url: str) -> None:
    name = make_url(url).database
    with _admin(url) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


def template_url(url: str) -> str:
    parts = make_url(url)
    return parts.set(database=f"{parts.database}_template").render_as_string(hide_password=False)
