"""The inbox and the monitoring list on a database holding a million requests.

``python -m tests.load.million`` (``make bench-scale``) fills a PostgreSQL database with
1 000 000 requests — their task rows, candidates and history, in the proportions the demo's
processes write them — with COPY, then times the inbox (``app.services.tasks.inbox``, as Clara)
and the monitoring list (``app.services.monitoring.list_instances``, as Clara, unfiltered and
with each filter), 200 times each, and prints one line per figure for a script to read::

    inbox_ms_1m 3.1
    monitor_ms_1m 4.2
    monitor_ms_1m[status] 3.9
    ...

``inbox_ms_1m`` and ``monitor_ms_1m`` are the 95th percentile of the wall time of one page
(rows, count and what the page reads besides), in milliseconds. ``--explain`` prints each
query's plan (EXPLAIN (ANALYZE, BUFFERS)), as docs/SCALING.md quotes them.

``--url`` names a migrated database with the demo loaded; without it the script starts the test
suite's throwaway cluster (tests/pg.py), migrates, syncs ``workflows/`` and loads the demo
itself, and removes the cluster at the end. Requests already there count towards the million:
a second run on the same ``--url`` only measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402 - after the path is set
from app.extensions import db  # noqa: E402
from app.models import InstanceStatus, User  # noqa: E402
from tests import pg  # noqa: E402

RUNNING = 3000  # requests still running: a few thousand, the newest
ERRORS = 150  # requests stopped on a failed step, waiting for an administrator
CANCELLED_SHARE = 0.05
YEARS = 8  # the million started over this many years, evenly
VERSIONS = 3  # each process has this many stored versions; older requests run older ones
BATCH = 50_000  # requests per COPY batch
# Each process's user tasks in the order a request meets them, the lane that does each, and
# the share of the requests it takes (the demo's four processes).
PROCESSES = {
    "travel_reimbursement": (0.6, [("check_claim", "Check claim", "Coordinator"),
                                   ("approve_payment", "Approve payment", "Finance")]),
    "expert_request": (0.2, [("assess_request", "Assess request", "Coordinator"),
                             ("finance_approval", "Approve budget", "Finance"),
                             ("accept_deliverable", "Accept deliverable", "Requester")]),
    "market_engagement": (0.1, [("review_event", "Review the event proposal", "Coordinator"),
                                ("organise_logistics", "Organise the logistics", "Coordinator"),
                                ("report_event", "Report on the event", "Group lead")]),
    "group_onboarding": (0.1, [("review_eligibility", "Review eligibility", "Coordinator"),
                               ("confirm_member", "Confirm the new member", "Group lead")]),
}
SAMPLES = 200


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.million", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a migrated PostgreSQL database with the demo loaded "
                        "(default: a throwaway cluster)")
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests the database should hold")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="timed pages per figure")
    parser.add_argument("--explain", action="store_true", help="print each query's plan, EXPLAIN (ANALYZE, BUFFERS)")
    return parser.parse_args(argv)


def make_app(url: str, folder: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder / "instance"),
                       "UPLOAD_FOLDER": str(folder / "uploads"), "SERVER_NAME": "localhost",
                       "SECRET_KEY": "million"})


def prepare(app) -> None:
    """Migrate, store the shipped diagrams and load the demo, as ``make run`` does."""
    from flask_migrate import upgrade

    from app.cli import load_demo_data
    from app.services.versions import sync_workflows

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        sync_workflows(ROOT / "workflows")
        load_demo_data()
        db.session.commit()


# -- the load -------------------------------------------------------------------------------

def _copy(cursor: psycopg.Cursor, table: str, columns: str, rows: io.StringIO) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(rows.getvalue())


def _pick(shares: dict[str, float], draw: float) -> str:
    for name, share in shares.items():
        draw -= share
        if draw < 0:
            return name
    return name


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _extra_versions(cursor: psycopg.Cursor) -> dict[str, list[int]]:
    """Each process's version ids, oldest first, after storing revisions up to VERSIONS of them
    (copies of the shipped files, as an administrator's revised uploads would be); the newest
    becomes the active one, as activating an upload makes it."""
    cursor.execute("""SELECT d.process_id, v.id FROM process_version v
                      JOIN process_definition d ON d.id = v.definition_id ORDER BY v.number""")
    found: dict[str, list[int]] = {}
    for process_id, version_id in cursor.fetchall():
        found.setdefault(process_id, []).append(version_id)
    for ids in found.values():
        for _ in range(VERSIONS - len(ids)):
            cursor.execute("UPDATE process_version SET active = false WHERE id = %s", (ids[-1],))
            cursor.execute(
                """INSERT INTO process_version (definition_id, number, sha256, files, active, note, created_at)
                   SELECT definition_id,
                          (SELECT max(number) + 1 FROM process_version p WHERE p.definition_id = v.definition_id),
                          md5(random()::text) || md5(random()::text), files, true, 'a revision', created_at
                   FROM process_version v WHERE id = %s RETURNING id""", (ids[-1],))
            ids.append(cursor.fetchone()[0])
    return found


def fill(url: str, wanted: int) -> int:
    """COPY requests into the database until it holds ``wanted``; return how many were added."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        have = cursor.execute("SELECT count(*) FROM process_instance").fetchone()[0]
        if have >= wanted:
            return 0
        versions = _extra_versions(cursor)
        roles: dict[str, list[int]] = {}
        for user_id, role in cursor.execute("SELECT user_id, role FROM user_role"):
            roles.setdefault(role, []).append(user_id)
        buyers = sorted(roles["BUYER"])
        groups = dict(cursor.execute("SELECT id, lead_id FROM working_group").fetchall())
        state = cursor.execute("SELECT state, summary FROM process_instance ORDER BY id LIMIT 1").fetchone()
        running_state = _text(state[0]) if state else "{}"
        summary = _text(json.dumps(state[1])) if state else "{}"
        lanes = {"Coordinator": sorted(roles["COORDINATOR"]), "Finance": sorted(roles["FINANCE"])}
        ids = [cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # noqa: S608 - our names
               for table in ("process_instance", "human_task", "audit_event")]
        added = wanted - have
        chance = random.Random(14)
        now = dt.datetime.now(dt.UTC)
        span = dt.timedelta(days=365 * YEARS)
        shares = {name: share for name, (share, _) in PROCESSES.items()}
        started = time.perf_counter()
        for first in range(0, added, BATCH):
            out = {"instance": io.StringIO(), "task": io.StringIO(), "candidate": io.StringIO(),
                   "audit": io.StringIO()}
            for n in range(first, min(first + BATCH, added)):
                ids[0] += 1
                instance_id = ids[0]
                age = 1 - (n + 1) / added  # the last ones added are the newest
                started_at = now - span * age - dt.timedelta(minutes=chance.random() * 30)
                process = _pick(shares, chance.random())
                tasks = PROCESSES[process][1]
                left = added - n
                if left <= RUNNING:
                    status = InstanceStatus.RUNNING
                elif left <= RUNNING + ERRORS:
                    status = InstanceStatus.ERROR
                elif chance.random() < CANCELLED_SHARE:
                    status = InstanceStatus.CANCELLED
                else:
                    status = InstanceStatus.COMPLETED
                done = len(tasks) if status == InstanceStatus.COMPLETED else chance.randrange(len(tasks))
                group = chance.choice(sorted(groups))
                initiator = chance.choice(buyers)
                kept = versions[process]
                version = kept[min(int((1 - age) * len(kept)), len(kept) - 1)]
                ended = "\\N" if status in (InstanceStatus.RUNNING, InstanceStatus.ERROR) else \
                    (started_at + dt.timedelta(days=3 + len(tasks))).isoformat()
                title = f"{process.replace('_', ' ').capitalize()} {instance_id}"
                step_name = tasks[done][1] if done < len(tasks) else ""
                out["instance"].write(
                    f"{instance_id}\t{version}\t{process}\t{title}\t{status.name}\t{initiator}\t{group}\t"
                    f"{running_state if status == InstanceStatus.RUNNING else '{}'}\t{summary}\t{step_name}\t"
                    f"{'approved' if status == InstanceStatus.COMPLETED else ''}\t\t{2 + done}\t"
                    f"{started_at.isoformat()}\t{ended}\n")
                ids[2] += 1
                out["audit"].write(f"{ids[2]}\t{instance_id}\t\\N\t{initiator}\tweb\tstarted\tstarted\t{summary}\t"
                                   f"{started_at.isoformat()}\n")
                opened = done + 1 if status in (InstanceStatus.RUNNING, InstanceStatus.ERROR) else done
                for index, (bpmn_id, name, lane) in enumerate(tasks[:opened]):
                    ids[1] += 1
                    task_id = ids[1]
                    created = (started_at + dt.timedelta(days=index, minutes=5)).isoformat()
                    who = lanes.get(lane) or [initiator if lane == "Requester" else groups[group]]
                    ready = index == done and status == InstanceStatus.RUNNING
                    if ready:
                        state_name, completed, by = "READY", "\\N", "\\N"
                    elif index < done:
                        state_name, by = "COMPLETED", str(who[0])
                        completed = (started_at + dt.timedelta(days=index + 1)).isoformat()
                    else:
                        state_name, completed, by = "CANCELLED", "\\N", "\\N"
                    out["task"].write(
                        f"{task_id}\t{instance_id}\t{instance_id:08x}-0000-4000-8000-{task_id:012x}\t{bpmn_id}\t"
                        f"{name}\t{lane}\t{process}.{bpmn_id}\t{'t' if index == 0 else 'f'}\t{state_name}\t"
                        f"{created}\t{completed}\t{by}\t{'web' if by != chr(92) + 'N' else ''}\n")
                    for user_id in who:
                        out["candidate"].write(f"{task_id}\t{user_id}\t{'t' if ready else 'f'}\t{created}\n")
                    ids[2] += 1
                    out["audit"].write(f"{ids[2]}\t{instance_id}\t{task_id}\t{initiator}\tweb\ttask_ready\t"
                                       f"{name} is waiting\t{{}}\t{created}\n")
                    if state_name == "COMPLETED":
                        ids[2] += 1
                        out["audit"].write(f"{ids[2]}\t{instance_id}\t{task_id}\t{by}\tweb\ttask_completed\t"
                                           f"{name} done\t{{\"decision\": \"approve\"}}\t{completed}\n")
                if ended != "\\N":
                    ids[2] += 1
                    out["audit"].write(f"{ids[2]}\t{instance_id}\t\\N\t\\N\tworker\t{status.value}\t"
                                       f"Request {status.value}\t{{}}\t{ended}\n")
            _copy(cursor, "process_instance", "id, version_id, process_id, title, status, initiator_id, "
                  "working_group_id, state, summary, current_step, outcome, error, lock_version, started_at, "
                  "ended_at", out["instance"])
            _copy(cursor, "human_task", "id, instance_id, spiff_task_id, bpmn_id, name, lane, form_key, "
                  "is_decision, state, created_at, completed_at, completed_by_id, channel", out["task"])
            _copy(cursor, "task_candidate", "task_id, user_id, ready, task_created_at", out["candidate"])
            _copy(cursor, "audit_event", "id, instance_id, task_id, actor_id, channel, action, summary, data, "
                  "created_at", out["audit"])
            connection.commit()
            print(f"# loaded {min(first + BATCH, added)} of {added} requests, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        for table, last in zip(("process_instance", "human_task", "audit_event"), ids, strict=True):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    return added


# -- the measurements -------------------------------------------------------------------------

class Plans:
    """Records the SQL statements a page runs, so each can be EXPLAINed afterwards."""

    def __init__(self, engine) -> None:
        self.statements: list[tuple[str, object]] = []
        self.engine = engine

    def __enter__(self) -> Plans:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def explain(self) -> Iterator[str]:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in self.statements:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                yield statement + "\n" + "\n".join(row[0] for row in cursor.fetchall())
            raw.rollback()
        finally:
            raw.close()


def p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20)[-1] * 1000


def timed(app, page: Callable[[], object], samples: int, explain: str | None) -> float:
    """The 95th percentile, in ms, of ``samples`` calls of ``page``, each in a new session."""
    timings = []
    with app.app_context():
        page()  # the first call warms the connection pool and the caches
        db.session.remove()
        for _ in range(samples):
            start = time.perf_counter()
            page()
            timings.append(time.perf_counter() - start)
            db.session.remove()
        if explain:
            with Plans(db.engine) as plans:
                page()
            db.session.remove()
            print(f"## {explain}\n")
            for plan in plans.explain():
                print(f"```\n{plan}\n```\n")
    return p95(timings)


def monitor_variants(app) -> dict[str, dict]:
    """The list's filters, one at a time, with values the load put there."""
    from app.services import monitoring

    with app.app_context():
        first = db.session.scalar(text("SELECT min(started_at) FROM process_instance"))
        version = db.session.scalar(text(  # the expert requests' first version: its requests are the oldest
            "SELECT v.id FROM process_version v JOIN process_definition d ON d.id = v.definition_id "
            "WHERE d.process_id = 'expert_request' ORDER BY v.number LIMIT 1"))
        group = db.session.scalar(text("SELECT min(id) FROM working_group"))
        person = db.session.scalar(select(User.id).where(User.email.startswith("felix")))
    month = (first + dt.timedelta(days=400)).date()
    f = monitoring.InstanceFilter
    return {
        "": f(),
        "process": f(process_id="market_engagement"),
        "version": f(version_id=version),
        "status": f(status=InstanceStatus.RUNNING),
        "status_completed": f(status=InstanceStatus.COMPLETED),
        "group": f(group_id=group),
        "started": f(started_from=month, started_to=month + dt.timedelta(days=30)),
        "waiting_role": f(waiting_role="finance"),
        "waiting_person": f(waiting_person_id=person),
        "waiting_nobody": f(waiting_role="nobody"),
        "process_status_group": f(process_id="travel_reimbursement", status=InstanceStatus.COMPLETED,
                                  group_id=group),
    }


def measure(app, samples: int, explain: bool) -> list[tuple[str, float]]:
    from app.services import monitoring
    from app.services.tasks import inbox

    with app.app_context():
        clara = db.session.scalar(select(User.id).where(User.email.startswith("clara")))
        per_page = app.config["INBOX_PAGE_SIZE"]

    def inbox_page() -> None:
        rows, total = inbox(db.session.get_one(User, clara), 1, per_page)
        [(row.instance.initiator.name, row.instance.working_group, row.progress) for row in rows]

    def monitor_page(filters) -> Callable[[], None]:
        def page() -> None:
            pagination = monitoring.list_instances(db.session.get_one(User, clara), filters)
            [row.waiting for row in pagination.items]
            list(pagination.iter_pages())
        return page

    figures = [("inbox_ms_1m", timed(app, inbox_page, samples, "inbox" if explain else None))]
    for name, filters in monitor_variants(app).items():
        label = f"monitor_ms_1m[{name}]" if name else "monitor_ms_1m"
        figures.append((label, timed(app, monitor_page(filters), samples, label if explain else None)))
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    folder = Path(tempfile.mkdtemp(prefix="bbw-million."))
    cluster = None
    try:
        url = args.url
        if not url:
            cluster = pg.Cluster().start()
            url = cluster.url("bbw_million")
            pg.recreate(url)
        app = make_app(url, folder)
        if not args.url:
            prepare(app)
        started = time.perf_counter()
        added = fill(url, args.requests)
        if added:
            print(f"# {added} requests loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for name, value in measure(app, args.samples, args.explain):
            print(f"{name} {value:.1f}", flush=True)
        with app.app_context():
            db.engine.dispose()
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
