"""Where the CPU of each kind of request goes, in one process (docs/PERFORMANCE.md, "Load").

    python -m tests.load.kinds             # 40 of each kind; the top functions of each
    python -m tests.load.kinds --rounds 80 --shown 30

The six requests of ``make bench-load``'s click cycles (claim form, file claim, request page;
inbox, task page, decide) are made one at a time through Flask's test client, on PostgreSQL
(a throwaway cluster, tests/pg.py) seeded as production seeds it, with ``APP_ENV=production``.
Per kind it prints the app's CPU (this process), PostgreSQL's CPU (its processes, from /proc)
and the statements sent, per request; then, with ``cProfile`` on, the functions and the
packages that CPU was in. One request at a time: the figures are the work itself, without the
queue ``make bench-load`` measures around it.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as dt
import io
import os
import pstats
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from app import create_app
from app.extensions import db
from tests import pg
from tests.conftest import CSRF, _seed
from tests.load.people import GROUP, PASSWORD, RECEIPT
from tests.load.stack import cpu_seconds

KINDS = ("claim_form", "file_claim", "request_page", "inbox", "task_page", "decide")
GROUPS = ("sqlalchemy", "psycopg", "jinja2", "templates/", "werkzeug", "flask_wtf", "wtforms", "flask_login",
          "flask_babel", "babel", "flask", "SpiffWorkflow", "markupsafe", "email", "json", "app/", "forms/")


def package(path: str) -> str:
    for name in GROUPS:
        if f"/{name}" in path:
            return name.rstrip("/")
    return "other"


class Kinds:
    def __init__(self, url: str, folder: Path) -> None:
        self.app = create_app({
            "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder / "instance"),
            "UPLOAD_FOLDER": str(folder / "uploads"), "SECRET_KEY": secrets.token_urlsafe(32),
            "MAIL_SERVER": "127.0.0.1", "APP_ENV": "production"})
        self.statements = 0
        self.sent: list[str] = []  # the statements of the request under way
        self.last: dict[str, list[str]] = {}  # each kind's last request's statements
        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._count)
        self.cluster_pid = 0

    def _count(self, connection, cursor, statement, *args) -> None:
        self.statements += 1
        self.sent.append(" ".join(statement.split()))

    def client(self, email: str):
        client = self.app.test_client()
        page = client.get("/sign-in")
        done = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token(page)})
        assert done.status_code == 302, done.get_data(as_text=True)[:500]
        return client

    def measure(self, kind: str, call, spent: dict, profile: cProfile.Profile | None):
        self.sent = []
        statements, app_cpu, pg_cpu = self.statements, time.process_time(), cpu_seconds([self.cluster_pid])
        if profile is not None:
            profile.enable()
        response = call()
        if profile is not None:
            profile.disable()
        spent[kind][0] += time.process_time() - app_cpu
        spent[kind][1] += cpu_seconds([self.cluster_pid]) - pg_cpu
        spent[kind][2] += self.statements - statements
        spent[kind][3] += 1
        self.last[kind] = self.sent
        return response


def token(response) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    return match.group(1) if match else ""


def claim_fields(form, n: int) -> dict:
    today = dt.date.today()
    return {
        "csrf_token": token(form), "working_group_id": GROUP.search(form.get_data(as_text=True)).group(1),
        "meeting_id": "other", "meeting": f"Profile meeting {n}",
        "meeting_date": (today - dt.timedelta(days=5)).isoformat(), "travel_from": "Gdańsk",
        "travel_to": "Lisbon", "departure_date": (today - dt.timedelta(days=6)).isoformat(),
        "return_date": (today - dt.timedelta(days=4)).isoformat(), "travel_mode": "air", "distance_km": "3300",
        "rail_hours": "", "ticket_cost": "240.00", "accommodation_nights": "2", "accommodation_cost": "260.00",
        "other_costs": "0", "account_holder": "Profile Test", "iban": "PL61 1090 1014 0000 0712 1981 2874",
        "declaration": "true"}


def rounds(kinds: Kinds, count: int, profiles: dict | None) -> dict:
    """``count`` claims filed by a buyer (form, post, request page), then ``count`` tasks
    decided by a coordinator (inbox, task page, decision); returns per kind
    [app CPU s, PostgreSQL CPU s, statements, requests]."""
    spent = {kind: [0.0, 0.0, 0, 0] for kind in KINDS}
    buyer, coordinator = kinds.client("marta.nowak@gdansk.example.eu"), kinds.client("clara.schmidt@iclei.example.eu")
    url = "/start/travel_reimbursement"

    def timed(kind, call):
        return kinds.measure(kind, call, spent, profiles[kind] if profiles is not None else None)

    for n in range(count):
        form = timed("claim_form", lambda: buyer.get(url))
        fields = claim_fields(form, n) | {"receipts": (io.BytesIO(RECEIPT), "receipt.pdf")}
        filed = timed("file_claim", lambda fields=fields: buyer.post(url, data=fields,
                                                                     headers={"Referer": "https://localhost" + url}))
        assert filed.status_code == 302, filed.get_data(as_text=True)[:1000]
        timed("request_page", lambda filed=filed: buyer.get(filed.headers["Location"]))
    for _n in range(count):
        inbox = timed("inbox", lambda: coordinator.get("/inbox"))
        task = re.search(r'href="/tasks/(\d+)">Check claim<', inbox.get_data(as_text=True)).group(1)
        page = timed("task_page", lambda task=task: coordinator.get(f"/tasks/{task}"))
        fields = {"csrf_token": token(page), "decision": "approve"}
        done = timed("decide", lambda task=task, fields=fields: coordinator.post(
            f"/tasks/{task}", data=fields))
        assert done.status_code == 302, done.get_data(as_text=True)[:1000]
    return spent


def print_profile(kind: str, profile: cProfile.Profile, requests: int, shown: int) -> None:
    stats = pstats.Stats(profile)
    own: collections.Counter[str] = collections.Counter()
    for (path, _line, _function), (_cc, _nc, tottime, _cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[package(path)] += tottime
    total = sum(own.values())
    print(f"\n## {kind}: {1000 * total / requests:.1f} ms profiled per request; own time by package:")
    print("   " + ", ".join(f"{name} {100 * t / total:.0f} %" for name, t in own.most_common(12)))
    print("   cumulative, per request (ms), the app's own functions and the libraries' entry points:")
    rows = []
    for (path, line, function), (_cc, calls, _tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = package(path)
        if where in ("app", "forms", "templates") or function in (
                "render_template", "_emit_lazyload", "execute", "dispatch_request", "hash", "gettext",
                "check_password_hash", "validate_on_submit", "render", "loads", "dumps"):
            short = "/".join(Path(path).parts[-2:])
            rows.append((cumtime, calls, f"{function} ({short}:{line})"))
    for cumtime, calls, name in sorted(rows, reverse=True)[:shown]:
        print(f"   {1000 * cumtime / requests:7.2f} ms  {calls / requests:6.1f} calls  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--shown", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="the CPU figures only")
    parser.add_argument("--statements", action="store_true", help="each kind's statements, of its last request")
    args = parser.parse_args()
    cluster = pg.Cluster().start()
    folder = Path(tempfile.mkdtemp(prefix="bbw-kinds."))
    try:
        url = cluster.url("bbw_kinds")
        pg.recreate(url)
        kinds = Kinds(url, folder)
        kinds.cluster_pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        with kinds.app.app_context():
            _seed()
            db.session.remove()
        rounds(kinds, 5, None)  # warm: templates compiled, caches filled, statements prepared
        spent = rounds(kinds, args.rounds, None)
        print(f"# load average {os.getloadavg()[0]:.2f}; {args.rounds} of each kind; per request:")
        print("kind app_cpu_ms postgres_cpu_ms statements")
        for kind, (app_cpu, pg_cpu, statements, n) in spent.items():
            print(f"{kind} {1000 * app_cpu / n:.1f} {1000 * pg_cpu / n:.1f} {statements / n:.1f}")
        if args.statements:
            for kind, sent in kinds.last.items():
                print(f"\n## {kind}: {len(sent)} statements")
                for statement in sent:
                    print(f"   {statement[:240]}")
        sys.stdout.flush()
        if not args.no_profile:
            profiles = {kind: cProfile.Profile() for kind in KINDS}
            rounds(kinds, args.rounds, profiles)
            for kind in KINDS:
                print_profile(kind, profiles[kind], args.rounds, args.shown)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
