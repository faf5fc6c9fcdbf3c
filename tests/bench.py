"""Performance bench: the app's step costs as ratios against stock SpiffWorkflow in memory.

Run with ``make bench`` (or ``.venv/bin/python -m tests.bench``); see docs/PERFORMANCE.md. One
run measures, on file SQLite databases in WAL mode under a temporary directory:

(a) engine   stock SpiffWorkflow, in memory: deserialize a travel claim waiting at check_claim
             (stock JSON, process definition embedded, as SpiffWorkflow saves by default),
             complete check_claim (decision approve), do_engine_steps, serialize. The app's
             parsed spec and its restricted script engine, so only persistence differs from (b).
(b) service  app.services.tasks.complete_task + db.session.commit, on a fresh claim each time.
(c) http     POST /tasks/<id> through the Flask test client as the coordinator (CSRF token
             included, 302 expected), on a fresh claim each time.
(d) inbox    GET /inbox for a coordinator with 1 000 and with 10 000 running claims waiting,
             each in its own database, the two pages requested alternately.
(e) outbox   the worker's delivery of task e-mails to aiosmtpd in a process of its own:
             e-mails per second, and this process's CPU time (time.process_time) per e-mail.
(f) mi       complete_task + commit of one instance of a 50-instance parallel multi-instance
             user task (tests/fixtures/diagrams/mi_parallel.bpmn, "Endorse" once per member), and
             of the same diagram's "Endorse" without its multi-instance marker (a plain task's
             step), interleaved: their ratio.
(g) reports  GET of each report page (flow, money, initiative, summary, a group's figures) as a
             coordinator, the current year's figures, with 1 000 and with 100 000 requests, each
             in its own database, requested alternately: each page's time and the ratio of the
             two (tests/bench_reports.py makes the requests); on SQLite, then on a throwaway
             PostgreSQL cluster (tests/pg.py), where the server's own CPU per page is given too.

Beside (a)-(c) runs the app's engine alone (app.engine.Engine: load, complete, dump; no
database): (b) and (c) are given as ratios against it too, which say what the app costs
around its own engine, where the ratios against (a) say what it costs against stock use.

(a), (b) and (c) run interleaved, one of each per round in a shuffled order after a warm-up, so
that noise from other processes, and warm caches, hit all three alike. Every figure is a median
of time.perf_counter spans; the median CPU time of this thread is shown beside it (it moves less
when other processes compete).
The last lines are ``name: value`` pairs for scripts. ``--profile`` adds cProfile listings of
each step, of one outbox round and the inbox's query plans (the timings are taken first, without
the profiler). ``--only steps|inbox|outbox`` (repeatable) runs only those parts.
Not collected by pytest: the name does not start with test_.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import io
import os
import platform
import pstats
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import event, func, select, text
from werkzeug.datastructures import MultiDict

from app import create_app
from app.engine import parse_files
from app.engine.serializer import full_registry
from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    TaskCandidate,
    TaskState,
    User,
    WorkingGroup,
)
from tests import pg
from tests.bench_reports import (
    REPORT_PAGES,
    REPORT_ROUNDS,
    REPORT_SERVER_ROUNDS,
    REPORT_SHOWS,
    REPORT_SIZES,
    REPORT_WARMUP,
    build,
)
from tests.load.stack import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
TRAVEL_FILES = ("travel_reimbursement.bpmn", "travel_eligibility.dmn")
PASSWORD = "bigbuyers-demo"
CLAIMANT = "marta.nowak@gdansk.example.eu"
COORDINATOR = "clara.schmidt@iclei.example.eu"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

WARMUP = 25
ROUNDS = 400  # of (a), (b) and (c), one each per round
INBOX_WARMUP = 30
INBOX_ROUNDS = 300  # of both inbox pages, one each per round
INBOX_SIZES = (1_000, 10_000)
PROFILED_CALLS = 20
OUTBOX_ROUNDS = 3
OUTBOX_CLAIMS = 100  # a round's claims; each queues an e-mail to each of the two coordinators

TARGET_SERVICE_RATIO = 1.5
TARGET_HTTP_RATIO = 3.0
TARGET_INBOX_MS = 20.0
TARGET_INBOX_GROWTH = 1.3
TARGET_STATE_BYTES = 8 * 1024
TARGET_OUTBOX_RATE = 100  # per worker, messages written by Python's email package
SMTP_COUNTER = """
import sys, time
from pathlib import Path
from aiosmtpd.controller import Controller
port, counter = int(sys.argv[1]), Path(sys.argv[2])
class Count:
    received = 0
    async def handle_DATA(self, server, session, envelope):
        Count.received += 1
        counter.write_text(str(Count.received))
        return "250 OK"
Controller(Count(), hostname="127.0.0.1", port=port).start()
while True:
    time.sleep(3600)
"""
TARGET_OUTBOX_SHARE = 0.2
PARTS = ("steps", "inbox", "outbox", "mi", "reports")  # Bench.run_<part>, in this order
MI_FIXTURE = ROOT / "tests" / "fixtures" / "diagrams" / "mi_parallel.bpmn"
MI_MEMBERS = 50
MI_USED = 25  # instances completed of each 50-instance request: never the last, which moves on
MI_ROUNDS = 200
TARGET_MI_RATIO = 2.0
TARGET_REPORT_MS = 200.0  # each report page at 100 000 requests (issue 17)

Sample = tuple[float, float]  # (wall seconds, CPU seconds of this thread)


# -- measuring ------------------------------------------------------------------------------------
class Clock:
    """Wall time (time.perf_counter) and this thread's CPU time (time.thread_time) of a block."""

    def __enter__(self) -> Clock:
        self.cpu = time.thread_time()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.thread_time() - self.cpu

    @property
    def sample(self) -> Sample:
        return self.wall, self.cpu


def timed(call: Callable[[], object]) -> Callable[[], Sample]:
    def run() -> Sample:
        with Clock() as clock:
            call()
        return clock.sample

    return run


def timed_get(client, path: str) -> Callable[[], Sample]:
    """A GET of ``path`` by ``client``, timed; it must answer 200."""
    def run() -> Sample:
        with Clock() as clock:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {path} gave {response.status_code}")
        return clock.sample
    return run


def ms(seconds: float) -> float:
    return seconds * 1000.0


def medians(samples: list[Sample]) -> Sample:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def describe(name: str, samples: list[Sample]) -> str:
    wall = sorted(w for w, _ in samples)
    p90 = wall[int(0.9 * (len(wall) - 1))]
    cpu = statistics.median(c for _, c in samples)
    return (f"  {name:<36} median {ms(statistics.median(wall)):7.3f} ms   min {ms(wall[0]):7.3f}   "
            f"p90 {ms(p90):7.3f}   cpu {ms(cpu):7.3f}   n={len(samples)}")


def interleave(steps: dict[str, Callable[[], Sample]], warmup: int, rounds: int) -> dict[str, list[Sample]]:
    """Run each step once per round, in an order shuffled each round (seeded, so runs repeat):
    a step that always ran right after another would find the caches warm with its code and
    look cheaper. Warm-up rounds first, then collect."""
    shuffler = random.Random(2026)
    keys = list(steps)
    for _ in range(warmup):
        for run in steps.values():
            run()
    gc.collect()
    samples: dict[str, list[Sample]] = {key: [] for key in steps}
    for _ in range(rounds):
        shuffler.shuffle(keys)
        for key in keys:
            samples[key].append(steps[key]())
    return samples


def profile(label: str, calls: list[Callable[[], object]]) -> None:
    profiler = cProfile.Profile()
    for call in calls:
        profiler.enable()
        call()
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    print(f"\n==== profile: {label} ({len(calls)} calls) ====")
    print(out.getvalue())


# -- the machine and the code measured ------------------------------------------------------------
def machine() -> dict[str, str]:
    import SpiffWorkflow  # noqa: TID251 - the bench measures stock SpiffWorkflow
    import sqlalchemy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "spiffworkflow": getattr(SpiffWorkflow, "__version__", "?"),
        "code": code_revision(),
    }


def code_revision() -> str:
    """The commit measured, and whether app code had uncommitted changes (figures then differ)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,  # noqa: S603, S607
                              text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--", "app", "forms", "templates", "workflows", "migrations")
    return commit + (" + uncommitted changes to app code" if dirty else "")


# -- the claim ------------------------------------------------------------------------------------
def claim_form(group_id: int) -> dict:
    """The start form as the browser posts it (the travel HTTP test's claim), with two receipts."""
    return {
        "working_group_id": str(group_id), "meeting_id": "other",
        "meeting": "Circular ICT, 3rd meeting, Brussels", "meeting_date": "2026-11-10",
        "travel_from": "Gdańsk", "travel_to": "Brussels", "departure_date": "2026-11-09",
        "return_date": "2026-11-11", "travel_mode": "rail", "distance_km": "1400", "rail_hours": "",
        "ticket_cost": "180.40", "accommodation_nights": "2", "accommodation_cost": "300.00",
        "other_costs": "12.60", "account_holder": "Marta Nowak",
        "iban": "PL61 1090 1014 0000 0712 1981 2874", "declaration": "true",
        "receipts": [(io.BytesIO(PDF), "train.pdf"), (io.BytesIO(PNG), "hotel.png")],
    }


def claim_data(group_id: int) -> dict:
    """The same claim as the start form's cleaned, typed values (what start_instance gets)."""
    from forms.rules import COMPUTATIONS

    data = {
        "working_group_id": group_id,
        "meeting_id": "other",
        "meeting": "Circular ICT, 3rd meeting, Brussels",
        "meeting_date": dt.date(2026, 11, 10),
        "travel_from": "Gdańsk",
        "travel_to": "Brussels",
        "departure_date": dt.date(2026, 11, 9),
        "return_date": dt.date(2026, 11, 11),
        "travel_mode": "rail",
        "distance_km": 1400,
        "rail_hours": None,
        "ticket_cost": Decimal("180.40"),
        "accommodation_nights": 2,
        "accommodation_cost": Decimal("300.00"),
        "other_costs": Decimal("12.60"),
        "account_holder": "Marta Nowak",
        "iban": "PL61109010140000071219812874",
        "declaration": True,
    }
    data["total_claimed"] = COMPUTATIONS["travel_claim_total"](dict(data))
    return data


def receipt_uploads() -> dict:
    """Two receipts as the start form hands them on (validated uploads). start_instance stores an
    attachment row for each; the content is already on disk after the claim filed over HTTP."""
    from forms.files import Upload

    return {"receipts": [
        Upload(field_id="receipts", filename=name, content_type=kind, data=blob, size=len(blob),
               sha256=hashlib.sha256(blob).hexdigest())
        for name, kind, blob in (("train.pdf", "application/pdf", PDF), ("hotel.png", "image/png", PNG))
    ]}


def check_claim_data(app: Flask, model) -> dict:
    """What the check_claim form hands complete_task for "approve" (its form.cleaned)."""
    from forms import build_form

    with app.test_request_context():
        form = build_form(model.tasks["check_claim"].form, formdata=MultiDict({"decision": "approve"}),
                          files=MultiDict(), instance_data={})
        if not form.validate():
            raise SystemExit(f"bench: the check_claim form refused approve: {form.error_list}")
        return form.cleaned


# -- one app on its own database ------------------------------------------------------------------
class Site:
    """The app on a fresh SQLite file (WAL, as the app runs), or on the empty PostgreSQL
    database ``url`` names, migrated, with the shipped processes and the demo people."""

    def __init__(self, folder: Path, name: str, url: str | None = None):
        self.app = create_app({
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / f'{name}.sqlite3'}",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "SERVER_NAME": "localhost",
            "PROPAGATE_EXCEPTIONS": True,
        })
        from flask_migrate import upgrade

        from app.cli import load_demo_data
        from app.services.versions import load_model, sync_workflows

        with self.app.app_context():
            upgrade()  # the app's own migrations, as `make run` applies them
            sync_workflows(WORKFLOWS)
            load_demo_data()
            db.session.commit()
            self.version_id = db.session.scalar(
                select(ProcessVersion.id).join(ProcessVersion.definition)
                .where(ProcessVersion.active.is_(True),
                       text("process_definition.process_id = 'travel_reimbursement'")))
            self.group_id = db.session.scalar(select(WorkingGroup.id).where(WorkingGroup.name == "Circular ICT"))
            self.claimant_id = db.session.scalar(select(User.id).where(User.email == CLAIMANT))
            self.coordinator_id = db.session.scalar(select(User.id).where(User.email == COORDINATOR))
            self.model = load_model(db.session.get(ProcessVersion, self.version_id))
            journal = db.session.execute(text("PRAGMA journal_mode")).scalar() if url is None else "wal"
        if journal != "wal":
            raise SystemExit(f"bench: expected SQLite in WAL mode, got {journal}")

    def service_context(self):
        """Where the bench calls services: an app context of its own, and so a fresh database
        session, as each request or worker job has."""
        return self.app.app_context()

    def client(self, email: str):
        """A test client signed in as ``email``, and its CSRF token (valid for the session)."""
        client = self.app.test_client()
        token = csrf_of(client, "/sign-in")
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
        if response.status_code != 302:
            raise SystemExit(f"bench: could not sign in {email}: {response.status_code}")
        return client, csrf_of(client, "/inbox")

    def file_claim_over_http(self) -> str:
        """File a claim with two receipts as the claimant does; its saved state."""
        client, token = self.client(CLAIMANT)
        form = claim_form(self.group_id)
        form["csrf_token"] = token
        response = client.post("/start/travel_reimbursement", data=form, content_type="multipart/form-data")
        if response.status_code != 302:
            raise SystemExit(f"bench: filing a claim over HTTP failed: {response.status_code}")
        with self.app.app_context():
            instance = db.session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
            if instance.current_step != "Check claim":
                raise SystemExit(f"bench: the filed claim waits at {instance.current_step!r}")
            return instance.state

    def start_claims(self, count: int) -> list[int]:
        """Start ``count`` claims through the service, with receipts; their check_claim task ids."""
        from app.services.instances import start_instance

        ids = []
        with self.service_context():
            actor = db.session.get(User, self.claimant_id)
            version = db.session.get(ProcessVersion, self.version_id)
            data = claim_data(self.group_id)
            for n in range(count):
                ids.append(start_instance(actor, version, dict(data), receipt_uploads()).instance.id)
                if n % 100 == 99:
                    db.session.commit()
            db.session.commit()
            tasks = dict(db.session.execute(
                select(HumanTask.instance_id, HumanTask.id)
                .where(HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == "check_claim",
                       HumanTask.state == TaskState.READY)).all())
        if len(tasks) != count:
            raise SystemExit("bench: not every prepared claim waits at check_claim")
        return [tasks[i] for i in ids]

    def moved_on(self, task_ids: list[int]) -> bool:
        """Whether each task is completed and its claim now waits at approve_payment."""
        with self.app.app_context():
            states = set(db.session.scalars(select(HumanTask.state).where(HumanTask.id.in_(task_ids))))
            instances = select(HumanTask.instance_id).where(HumanTask.id.in_(task_ids))
            waiting = db.session.scalar(
                select(func.count()).select_from(HumanTask)
                .where(HumanTask.instance_id.in_(instances), HumanTask.bpmn_id == "approve_payment",
                       HumanTask.state == TaskState.READY))
        return states == {TaskState.COMPLETED} and waiting == len(task_ids)

    def clone_claims(self, template_id: int, total: int) -> None:
        """Copy the template claim's rows (instance, tasks, candidates, history) until ``total``
        claims wait at check_claim; each copy a little older than the one before. The inbox never
        loads a workflow, so sharing the template's state is fine."""
        instances, tasks = ProcessInstance.__table__, HumanTask.__table__
        candidates, events = TaskCandidate.__table__, AuditEvent.__table__
        with self.app.app_context():
            session = db.session
            have = session.scalar(select(func.count()).select_from(instances))
            instance = session.execute(select(instances).where(instances.c.id == template_id)).mappings().one()
            task_rows = session.execute(select(tasks).where(tasks.c.instance_id == template_id)).mappings().all()
            candidate_rows = session.execute(select(candidates).where(
                candidates.c.task_id.in_([t["id"] for t in task_rows]))).mappings().all()
            event_rows = session.execute(select(events).where(events.c.instance_id == template_id)).mappings().all()
            next_instance = session.scalar(select(func.max(instances.c.id))) + 1
            next_task = session.scalar(select(func.max(tasks.c.id))) + 1
            next_event = session.scalar(select(func.max(events.c.id))) + 1
            rows: dict = {instances: [], tasks: [], candidates: [], events: []}
            for k in range(total - have):
                shift = dt.timedelta(minutes=7 * (have + k))
                iid = next_instance + k
                rows[instances].append({**instance, "id": iid, "started_at": instance["started_at"] - shift})
                task_map = {}
                for row in task_rows:
                    task_map[row["id"]] = next_task
                    rows[tasks].append({**row, "id": next_task, "instance_id": iid,
                                        "spiff_task_id": str(uuid.uuid4()),
                                        "created_at": row["created_at"] - shift})
                    next_task += 1
                for row in candidate_rows:
                    rows[candidates].append({**row, "task_id": task_map[row["task_id"]],
                                             "task_created_at": row["task_created_at"] - shift})
                for row in event_rows:
                    rows[events].append({**row, "id": next_event, "instance_id": iid,
                                         "task_id": task_map.get(row["task_id"]),
                                         "created_at": row["created_at"] - shift})
                    next_event += 1
            for table, new in rows.items():
                for at in range(0, len(new), 2000):
                    session.execute(table.insert(), new[at:at + 2000])
            session.commit()
            running = session.scalar(select(func.count()).select_from(instances)
                                     .where(instances.c.status == InstanceStatus.RUNNING))
            waiting = session.scalar(select(func.count()).select_from(candidates).where(
                candidates.c.user_id == self.coordinator_id, candidates.c.ready.is_(True)))
        if running != total or waiting != total:
            raise SystemExit(f"bench: {running} running and {waiting} waiting, wanted {total}")


def csrf_of(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    if not match:
        raise SystemExit(f"bench: no CSRF token on {url} ({page.status_code})")
    return match.group(1)


# -- the bench ------------------------------------------------------------------------------------
class Bench:
    def __init__(self, folder: Path, with_profile: bool):
        self.folder = folder
        self.with_profile = with_profile
        self.results: dict[str, float] = {}
        self.starved = 1.0  # the largest wall / CPU ratio of a median: > 1 when others took the CPU

    def note_samples(self, samples: dict[str, list[Sample]]) -> dict[str, Sample]:
        found = {key: medians(values) for key, values in samples.items()}
        self.starved = max([self.starved] + [wall / cpu for wall, cpu in found.values()])
        return found

    # (a) stock SpiffWorkflow --------------------------------------------------------------------
    def engine_step(self, site: Site, values: dict) -> Callable[[], None]:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: TID251
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: TID251
        from SpiffWorkflow.util.task import TaskState as SpiffState  # noqa: TID251

        from app.steps import engine

        model = parse_files({name: (WORKFLOWS / name).read_text(encoding="utf-8") for name in TRAVEL_FILES})
        with site.app.app_context():  # the app's engine is one per app, found through it
            script_engine = engine().script_engine
        serializer = BpmnWorkflowSerializer(full_registry())
        start = claim_data(site.group_id)
        start.update({"receipts": [1, 2], "initiator_id": site.claimant_id, "filed_on": dt.date.today()})
        wf = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=script_engine)
        wf.get_tasks(state=SpiffState.READY)[0].data.update(start)
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
        self.stock_state_bytes = len(state.encode("utf-8"))
        saved: list[str] = []

        def step() -> None:
            loaded = serializer.deserialize_json(state)
            loaded.script_engine = script_engine  # not serialized: attach it after every load
            [task] = loaded.get_tasks(state=SpiffState.READY, manual=True)
            task.data.update(values)
            task.run()
            loaded.do_engine_steps()
            saved[:] = [serializer.serialize_json(loaded)]

        [ready] = wf.get_tasks(state=SpiffState.READY, manual=True)
        step()
        [after] = serializer.deserialize_json(saved[0]).get_tasks(state=SpiffState.READY, manual=True)
        if (ready.task_spec.bpmn_id, after.task_spec.bpmn_id) != ("check_claim", "approve_payment"):
            raise SystemExit("bench: the stock engine step did not go from check_claim to approve_payment")
        return step

    # the app's engine alone, without the database: splits (b) into engine and the rest ---------
    def app_engine_step(self, site: Site, values: dict) -> Callable[[], None]:
        from app.steps import engine

        [task_id] = site.start_claims(1)
        with site.app.app_context():
            task = db.session.get(HumanTask, task_id)
            state, spiff_id = task.instance.state, task.spiff_task_id
            app_engine = engine()  # the app.engine.Engine create_app made, service tasks registered

        def step() -> None:
            wf = app_engine.load(site.model, state)
            app_engine.complete(wf, spiff_id, dict(values))
            app_engine.dump(wf)

        return step

    # (b) the service layer ----------------------------------------------------------------------
    def service_step(self, site: Site, task_ids: list[int], values: dict) -> Callable[[], Sample]:
        from app.services.tasks import complete_task

        pending = iter(task_ids)

        def step() -> Sample:
            task_id = next(pending)
            with site.service_context():
                actor = db.session.get(User, site.coordinator_id)
                with Clock() as clock:
                    complete_task(actor, task_id, dict(values))
                    db.session.commit()
            return clock.sample

        return step

    def service_step_without_email(self, site: Site, task_ids: list[int], values: dict) -> Callable[[], Sample]:
        """(b) with the e-mail rows switched off: the difference is what the outbox adds."""
        import app.steps.writer as runs

        measured = self.service_step(site, task_ids, values)

        def step() -> Sample:
            real, runs.queue_task_emails = runs.queue_task_emails, lambda *args: None
            try:
                return measured()
            finally:
                runs.queue_task_emails = real

        return step

    # (c) HTTP -----------------------------------------------------------------------------------
    def http_step(self, site: Site, task_ids: list[int]) -> Callable[[], Sample]:
        client, token = site.client(COORDINATOR)
        # As a browser sends the page's form: multipart only when it has a file field.
        has_files = site.model.tasks["check_claim"].form.has_files
        encoding = "multipart/form-data" if has_files else "application/x-www-form-urlencoded"
        pending = iter(task_ids)

        def step() -> Sample:
            task_id = next(pending)
            form = {"decision": "approve", "coordinator_comment": "", "csrf_token": token}
            with Clock() as clock:
                response = client.post(f"/tasks/{task_id}", data=form, content_type=encoding)
            if response.status_code != 302:
                raise SystemExit(f"bench: POST /tasks/{task_id} gave {response.status_code}")
            client.get(response.headers["Location"])  # as a browser does: shows, and so drops, the flash
            return clock.sample

        return step

    def run_steps(self) -> None:
        print("setting up: migrations, processes, demo people, one claim filed over HTTP ...", flush=True)
        site = Site(self.folder, "steps")
        self.state_bytes = len(site.file_claim_over_http().encode("utf-8"))
        values = check_claim_data(site.app, site.model)
        self.load_before = os.getloadavg()[0]
        engine_step, app_engine_step = self.engine_step(site, values), self.app_engine_step(site, values)
        need = WARMUP + ROUNDS + (PROFILED_CALLS if self.with_profile else 0)
        print(f"preparing {2 * need} claims waiting at check_claim (start_instance) ...", flush=True)
        service_ids, http_ids = site.start_claims(need), site.start_claims(need)
        quiet_ids = site.start_claims(WARMUP + ROUNDS)
        service_step = self.service_step(site, service_ids, values)
        quiet_step = self.service_step_without_email(site, quiet_ids, values)
        http_step = self.http_step(site, http_ids)

        samples = interleave({"a": timed(engine_step), "app": timed(app_engine_step),
                              "b": service_step, "b0": quiet_step, "c": http_step}, WARMUP, ROUNDS)
        used = WARMUP + ROUNDS
        if not (site.moved_on(service_ids[:used]) and site.moved_on(http_ids[:used])):
            raise SystemExit("bench: not every completed claim moved on to approve_payment")

        print("\ncomplete check_claim (approve) of a claim waiting there; it moves on to approve_payment")
        print(describe("(a) stock SpiffWorkflow, in memory", samples["a"]))
        print(describe("    app engine alone (lean state)", samples["app"]))
        print(describe("(b) service + commit, SQLite WAL", samples["b"]))
        print(describe("    (b) without writing e-mails", samples["b0"]))
        print(describe("(c) HTTP POST, test client", samples["c"]))
        found = self.note_samples(samples)
        share = (found["b"][0] - found["b0"][0]) / found["b"][0]
        print(f"  writing the step's e-mail (one outbox row, finance) is {share:.0%} of (b)")
        self.results["outbox_share_of_completion"] = share
        (a, a_cpu), (app, app_cpu), (b, b_cpu), (c, c_cpu) = found["a"], found["app"], found["b"], found["c"]
        print(f"  ratios of the wall medians:     service/engine {b / a:.2f}, HTTP/engine {c / a:.2f}; "
              f"service/app engine {b / app:.2f}, HTTP/app engine {c / app:.2f}")
        print(f"  ratios of the CPU-time medians: service/engine {b_cpu / a_cpu:.2f}, HTTP/engine {c_cpu / a_cpu:.2f}; "
              f"service/app engine {b_cpu / app_cpu:.2f}, HTTP/app engine {c_cpu / app_cpu:.2f}")
        self.results.update({
            "engine_ms": ms(a), "app_engine_ms": ms(app), "service_ms": ms(b), "http_ms": ms(c),
            "service_vs_engine_ratio": b / a, "http_vs_engine_ratio": c / a,
            "service_vs_app_engine_ratio": b / app, "http_vs_app_engine_ratio": c / app,
        })
        if self.with_profile:
            profile("(a) stock engine", [engine_step] * PROFILED_CALLS)
            profile("(b) service", [service_step] * PROFILED_CALLS)
            profile("(c) HTTP", [http_step] * PROFILED_CALLS)

    # (d) inbox ----------------------------------------------------------------------------------
    def run_inbox(self) -> None:
        print(f"\npreparing the inbox databases ({' and '.join(f'{n:,}' for n in INBOX_SIZES)} claims) ...",
              flush=True)
        gets = {}
        for size in INBOX_SIZES:
            site = Site(self.folder, f"inbox{size}")
            [task_id] = site.start_claims(1)
            with site.app.app_context():
                template_id = db.session.get(HumanTask, task_id).instance_id
            site.clone_claims(template_id, size)
            client, _ = site.client(COORDINATOR)
            page = client.get("/inbox").get_data(as_text=True)
            if f"{size} tasks are waiting" not in page or "Check claim" not in page:
                raise SystemExit(f"bench: the inbox does not list the {size} waiting tasks")
            gets[size] = (site, client)

        def get(client) -> Callable[[], Sample]:
            return timed_get(client, "/inbox")

        samples = interleave({size: get(client) for size, (_, client) in gets.items()},
                             INBOX_WARMUP, INBOX_ROUNDS)
        print("GET /inbox as a coordinator, page 1 (25 rows), rendered")
        for size, values in samples.items():
            print(describe(f"(d) {size:>6,} claims waiting", values))
        for size, (wall, _) in self.note_samples({str(k): v for k, v in samples.items()}).items():
            self.results[f"inbox_ms_{size}"] = ms(wall)
        if self.with_profile:
            site, client = gets[INBOX_SIZES[-1]]
            profile(f"(d) inbox, {INBOX_SIZES[-1]:,} waiting", [get(client)] * PROFILED_CALLS)
            explain_inbox(site)

    # report -------------------------------------------------------------------------------------
    # (e) the outbox: e-mails delivered per second to a local SMTP server ------------------------
    def run_outbox(self) -> None:
        """Deliver task e-mails (written, links minted and sent as the worker does) to aiosmtpd
        running in a process of its own on loopback, as a local relay would."""
        import socket

        from app.models import OutboxMessage, OutboxStatus
        from app.outbox.deliver import deliver_outbox

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        counter = self.folder / "smtp-received"
        server = subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
            [sys.executable, "-c", SMTP_COUNTER, str(port), str(counter)], stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("bench: the SMTP server did not start") from None
                    time.sleep(0.05)
            print("\npreparing the outbox: claims whose check_claim e-mails wait to be sent ...", flush=True)
            site = Site(self.folder, "outbox")
            site.app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
            rates, cpu_per_email, sent = [], [], 0

            def drain() -> None:
                while deliver_outbox(worker="bench").sent:
                    pass

            for _ in range(OUTBOX_ROUNDS + (1 if self.with_profile else 0)):
                site.start_claims(OUTBOX_CLAIMS)  # two coordinators: two e-mails a claim
                with site.service_context():
                    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.status == OutboxStatus.PENDING))
                    if len(rates) == OUTBOX_ROUNDS:  # the timed rounds are done: one more, profiled
                        profile(f"(e) outbox, {waiting} e-mails", [drain])
                    else:
                        began, cpu = time.perf_counter(), time.process_time()
                        drain()
                        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
                        rates.append(waiting / elapsed)
                        cpu_per_email.append(cpu / waiting)
                sent += waiting
            time.sleep(0.2)
            received = int(counter.read_text() or 0) if counter.exists() else 0
            if received != sent:
                raise SystemExit(f"bench: {sent} e-mails were sent, the SMTP server received {received}")
        finally:
            server.terminate()
            server.wait(10)
        rate, cpu = statistics.median(rates), statistics.median(cpu_per_email)
        print(f"(e) outbox to a local SMTP server: {OUTBOX_ROUNDS} rounds of {2 * OUTBOX_CLAIMS} task e-mails, "
              f"median {rate:.0f} e-mails/s (each written, its decision links minted, sent, marked sent); "
              f"this process's CPU time {ms(cpu):.2f} ms an e-mail")
        self.results["outbox_emails_per_s"] = rate
        self.results["outbox_cpu_ms_per_email"] = ms(cpu)

    # (f) one instance of a 50-instance parallel multi-instance, against a plain task's step ------
    def run_mi(self) -> None:
        from app.services.instances import start_instance
        from app.services.versions import store_version

        print(f"\npreparing requests with a {MI_MEMBERS}-instance parallel multi-instance task, and plain ones ...",
              flush=True)
        site = Site(self.folder, "mi")
        diagram = MI_FIXTURE.read_text(encoding="utf-8")
        marker = re.search(r"\s*<bpmn:multiInstanceLoopCharacteristics[^>]*/>", diagram)
        if marker is None:
            raise SystemExit("bench: the multi-instance fixture has no marker to take out")
        plain = diagram.replace("mi_parallel", "mi_plain").replace(marker.group(0), "")
        need = WARMUP + MI_ROUNDS + (PROFILED_CALLS if self.with_profile else 0)
        values = {"decision": "approve", "comment": ""}

        def waiting(process: str, requests: int, members: int) -> list[int]:
            ids = []
            with site.service_context():
                version, _ = store_version({f"{process}.bpmn": diagram if process == "mi_parallel" else plain},
                                           None, note="bench")
                actor = db.session.get(User, site.claimant_id)
                names = ", ".join(f"Member {n}" for n in range(members))
                for _ in range(requests):
                    instance = start_instance(actor, version, {"paper": "Bench paper", "member_names": names}).instance
                    ids += list(db.session.scalars(select(HumanTask.id).where(
                        HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
                        .order_by(HumanTask.id).limit(MI_USED if process == "mi_parallel" else 1)))
                    db.session.commit()
            return ids

        mi_ids = waiting("mi_parallel", -(-need // MI_USED), MI_MEMBERS)
        plain_ids = waiting("mi_plain", need, 1)
        with site.service_context():
            first = db.session.get(HumanTask, mi_ids[0])
            if (first.loop_total, first.name) != (MI_MEMBERS, "Endorse: Member 0"):
                raise SystemExit("bench: the multi-instance request does not wait for 50 endorsements")
            self.mi_state_bytes = len(first.instance.state.encode("utf-8"))
        steps = {"mi": self.service_step(site, mi_ids, values), "plain": self.service_step(site, plain_ids, values)}
        samples = interleave(steps, WARMUP, MI_ROUNDS)
        with site.service_context():
            done = db.session.scalar(select(func.count()).select_from(HumanTask).where(
                HumanTask.id.in_(mi_ids[:WARMUP + MI_ROUNDS]), HumanTask.state == TaskState.COMPLETED))
        if done != WARMUP + MI_ROUNDS:
            raise SystemExit("bench: not every multi-instance task measured was completed")
        print(f"complete one task: of a {MI_MEMBERS}-instance parallel multi-instance, and a plain one "
              "(service + commit, SQLite WAL)")
        print(describe(f"(f) one of {MI_MEMBERS} instances", samples["mi"]))
        print(describe("    plain task", samples["plain"]))
        found = self.note_samples(samples)
        (mi, mi_cpu), (one, one_cpu) = found["mi"], found["plain"]
        print(f"  ratio: wall {mi / one:.2f}, CPU time {mi_cpu / one_cpu:.2f}; saved state with "
              f"{MI_MEMBERS} instances waiting {self.mi_state_bytes} bytes")
        self.results.update({"mi_50_step_ms": ms(mi), "plain_step_ms": ms(one),
                             "mi_50_step_vs_plain_step_ratio": mi / one})
        if self.with_profile:
            profile(f"(f) one of {MI_MEMBERS} instances", [steps["mi"]] * PROFILED_CALLS)
            profile("(f) plain task", [steps["plain"]] * PROFILED_CALLS)

    # (g) reports --------------------------------------------------------------------------------
    def run_reports(self) -> None:
        began = time.perf_counter()
        self.time_reports("SQLite", "", {size: Site(self.folder, f"reports{size}") for size in REPORT_SIZES})
        cluster = pg.Cluster().start()  # PostgreSQL from Debian, a throwaway cluster (tests/pg.py)
        try:
            sites = {}
            for size in REPORT_SIZES:
                url = cluster.url(f"reports{size}")
                pg.recreate(url)
                sites[size] = Site(self.folder, f"pg{size}", url)
            server = int((cluster.data / "postmaster.pid").read_text().split()[0])
            self.time_reports("PostgreSQL", "pg_", sites, server)
            for site in sites.values():
                with site.app.app_context():
                    db.engine.dispose()
        finally:
            cluster.stop()
        print(f"(g) took {time.perf_counter() - began:.0f} s, the databases' making included")

    def time_reports(self, label: str, key: str, sites: dict[int, Site], server: int = 0) -> None:
        """(g) on one kind of database: ``sites`` by size, built here; results named
        reports_<key><page>_…; ``server``: the PostgreSQL server's pid, whose CPU per page is
        measured after the timings (its own processes', from /proc)."""
        print(f"\npreparing the reports databases on {label} "
              f"({' and '.join(f'{n:,}' for n in REPORT_SIZES)} requests) ...", flush=True)
        clients, paths = {}, {}
        for size, site in sites.items():
            build(site, size)
            if server:  # as autovacuum would have by then: statistics, and the visibility map for index-only scans
                with site.app.app_context(), db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            clients[size], _ = site.client(COORDINATOR)
            paths[size] = {name: path.format(group_id=site.group_id) for name, path in REPORT_PAGES.items()}
            for name, path in paths[size].items():
                page = clients[size].get(path)
                if page.status_code != 200 or REPORT_SHOWS[name] not in page.get_data(as_text=True):
                    raise SystemExit(f"bench: {path} does not show the {size:,} requests ({page.status_code})")
        largest = REPORT_SIZES[-1]
        for name in REPORT_PAGES:
            samples = interleave({size: timed_get(clients[size], paths[size][name]) for size in REPORT_SIZES},
                                 REPORT_WARMUP, REPORT_ROUNDS)
            print(f"GET {REPORT_PAGES[name]} as a coordinator, the current year's figures, rendered, on {label}")
            for size, values in samples.items():
                print(describe(f"(g) {size:>7,} requests", values))
            # On PostgreSQL the server does most of the work, so wall against this thread's CPU
            # says nothing of starvation there.
            found = ({str(k): medians(v) for k, v in samples.items()} if server
                     else self.note_samples({str(k): v for k, v in samples.items()}))
            for size, (wall, _) in found.items():
                self.results[f"reports_{key}{name}_ms_{size}"] = ms(wall)
            self.results[f"reports_{key}{name}_ratio"] = (self.results[f"reports_{key}{name}_ms_{largest}"]
                                                          / self.results[f"reports_{key}{name}_ms_{REPORT_SIZES[0]}"])
            if server:
                for size in REPORT_SIZES:
                    before = cpu_seconds([server])
                    for _ in range(REPORT_SERVER_ROUNDS):
                        timed_get(clients[size], paths[size][name])()
                    spent = (cpu_seconds([server]) - before) / REPORT_SERVER_ROUNDS
                    self.results[f"reports_{key}{name}_server_cpu_ms_{size}"] = ms(spent)
                    print(f"  (g) {size:>7,} requests: PostgreSQL's own CPU {ms(spent):.1f} ms a page "
                          f"(mean of {REPORT_SERVER_ROUNDS})")
            if self.with_profile:
                profile(f"(g) {name}, {largest:,} requests, {label}",
                        [timed_get(clients[largest], paths[largest][name])] * 5)

    def report(self) -> None:
        r = self.results
        print("\nmachine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
        if hasattr(self, "load_before"):
            print(f"load average (1 min, this bench included): {self.load_before:.2f} before the timed steps, "
                  f"{os.getloadavg()[0]:.2f} at the end")
        else:
            print(f"load average (1 min, this bench included): {os.getloadavg()[0]:.2f} at the end")
        if self.starved > 1.10:
            print(f"  note: a wall-clock median ran {self.starved:.2f}x its CPU time: other processes took "
                  "the CPU, so the wall-clock figures are inflated (the cpu column less so)")
        if hasattr(self, "state_bytes"):
            print(f"saved state of a claim waiting at check_claim: app {self.state_bytes} bytes; "
                  f"stock SpiffWorkflow, definition embedded, {self.stock_state_bytes} bytes")
        checks = []
        if "service_vs_engine_ratio" in r:
            checks += [
                (f"service <= {TARGET_SERVICE_RATIO}x engine", r["service_vs_engine_ratio"] <= TARGET_SERVICE_RATIO),
                (f"HTTP <= {TARGET_HTTP_RATIO:g}x engine", r["http_vs_engine_ratio"] <= TARGET_HTTP_RATIO),
                ("state <= 8 KB (8192 bytes)", self.state_bytes <= TARGET_STATE_BYTES),
                (f"outbox <= {TARGET_OUTBOX_SHARE:.0%} of a completion",
                 r["outbox_share_of_completion"] <= TARGET_OUTBOX_SHARE),
            ]
        if "inbox_ms_10000" in r:
            growth = r["inbox_ms_10000"] / r["inbox_ms_1000"]
            checks += [
                (f"inbox <= {TARGET_INBOX_MS:g} ms at 10 000", r["inbox_ms_10000"] <= TARGET_INBOX_MS),
                (f"inbox at 10 000 <= {TARGET_INBOX_GROWTH}x at 1 000 (is {growth:.2f}x)",
                 growth <= TARGET_INBOX_GROWTH),
            ]
        if "mi_50_step_vs_plain_step_ratio" in r:
            checks.append((f"one of {MI_MEMBERS} multi-instance tasks <= {TARGET_MI_RATIO:g}x a plain task's step",
                           r["mi_50_step_vs_plain_step_ratio"] <= TARGET_MI_RATIO))
        for name in (*REPORT_PAGES, *(f"pg_{page}" for page in REPORT_PAGES)):
            if f"reports_{name}_ms_100000" in r:
                checks.append((f"{name} report <= {TARGET_REPORT_MS:g} ms at 100 000 requests (at 1 000: "
                               f"{r[f'reports_{name}_ms_1000']:.0f} ms, ratio {r[f'reports_{name}_ratio']:.1f})",
                               r[f"reports_{name}_ms_100000"] <= TARGET_REPORT_MS))
        if "outbox_emails_per_s" in r:
            checks.append((f"outbox >= {TARGET_OUTBOX_RATE} e-mails/s", r["outbox_emails_per_s"] >= TARGET_OUTBOX_RATE))
        print("targets:")
        for label, ok in checks:
            print(f"  {'met   ' if ok else 'MISSED'} {label}")
        print()
        lines = [
            ("service_vs_engine_ratio", "{:.2f}"), ("http_vs_engine_ratio", "{:.2f}"),
            ("service_vs_app_engine_ratio", "{:.2f}"), ("http_vs_app_engine_ratio", "{:.2f}"),
            ("inbox_ms_1000", "{:.1f}"), ("inbox_ms_10000", "{:.1f}"),
        ]
        for name, form in lines:
            if name in r:
                print(f"{name}: {form.format(r[name])}")
        if hasattr(self, "state_bytes"):
            print(f"state_bytes_per_claim: {self.state_bytes}")
        for name, form in (("outbox_emails_per_s", "{:.0f}"), ("outbox_cpu_ms_per_email", "{:.2f}"),
                           ("outbox_share_of_completion", "{:.2f}"), ("mi_50_step_vs_plain_step_ratio", "{:.2f}"),
                           *((f"reports_{base}{page}_{figure}", form) for base in ("", "pg_") for page in REPORT_PAGES
                             for figure, form in (("ms_1000", "{:.1f}"), ("ms_100000", "{:.1f}"), ("ratio", "{:.2f}"),
                                                  ("server_cpu_ms_1000", "{:.1f}"),
                                                  ("server_cpu_ms_100000", "{:.1f}")))):
            if name in r:
                print(f"{name}: {form.format(r[name])}")


def explain_inbox(site: Site) -> None:
    """The SQL one inbox page runs, with SQLite's plan for each."""
    from app.services.tasks import inbox

    statements: list = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with site.app.app_context():
        user = db.session.get(User, site.coordinator_id)
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            inbox(user, 1, site.app.config["INBOX_PAGE_SIZE"])
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        print("==== the inbox's queries and SQLite's plans ====")
        for statement, parameters in statements:
            print(" ".join(statement.split())[:160])
            for row in db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters):
                print("    plan:", row[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true",
                        help="after the timings, print cProfile listings of each step and the inbox's query plans")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="run only this part (steps: (a)-(c), inbox: (d), outbox: (e), mi: (f), reports: (g)); "
                             "may be repeated")
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bbw-bench-") as folder:
        bench = Bench(Path(folder), args.profile)
        for part in PARTS:
            if part in parts:
                getattr(bench, f"run_{part}")()
        bench.report()
    print(f"# bench took {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
