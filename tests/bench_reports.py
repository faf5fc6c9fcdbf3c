"""(g) reports: every report page (flow, money, the initiative, the summary, a group's figures)
as a coordinator, the current year's figures, at 1 000 and at 100 000 requests, each in its own
database; each page requested at both sizes alternately.

The requests are copies of four travel claims the app's services took to four places (paid,
rejected, waiting for payment, waiting at the check), spread over the current year: those of
the last month of all four, older ones of the two finished claims, as a real year has mostly
finished requests. So the report has finished and open requests, completed and waiting tasks
to count, rank and find overdue. Each copy keeps its template's saved state, so the rows are as large as real ones,
and its template's ``request_figures`` row (what the money, initiative and summary pages add up).
Part of ``make bench`` (tests/bench.py ``run_reports``; ``--only reports`` runs it alone).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import HumanTask, ProcessInstance, RequestFigures, TaskCandidate, User
from app.steps.figures import whole_hours

REPORT_SIZES = (1_000, 100_000)
REPORT_WARMUP = 3
REPORT_ROUNDS = 20  # of each page at both sizes; five pages
REPORT_SERVER_ROUNDS = 10  # of each page at each size on PostgreSQL, for the server's CPU (read from /proc)
# Each page the bench times, by the name its result lines carry, and its address (a group's
# figures: the group the copies were filed for).
REPORT_PAGES = {"flow": "/reports/flow", "money": "/reports/money", "initiative": "/reports/initiative",
                "summary": "/reports/summary", "group": "/reports/groups/{group_id}"}
# What each page must show, checked once before timing: the copies are counted there.
REPORT_SHOWS = {"flow": "Check claim", "money": "Circular ICT", "initiative": "Circular ICT",
                "summary": "Circular ICT", "group": "Circular ICT"}
FINANCE = "felix.wagner@iclei.example.eu"


def cleaned(site, bpmn_id: str, data: dict) -> dict:
    """What the task's form hands complete_task for ``data`` (its form.cleaned)."""
    from forms import build_form

    with site.app.test_request_context():
        form = build_form(site.model.tasks[bpmn_id].form, formdata=MultiDict(data), files=MultiDict(),
                          instance_data={})
        if not form.validate():
            raise SystemExit(f"bench: the {bpmn_id} form refused {data}: {form.error_list}")
        return form.cleaned


def templates(site) -> list[int]:
    """Four claims taken by the services to four places; their instance ids."""
    from app.services.tasks import complete_task

    check_ids = site.start_claims(4)
    approve = cleaned(site, "check_claim", {"decision": "approve"})
    reject = cleaned(site, "check_claim", {"decision": "reject", "coordinator_comment": "Not a group meeting."})
    pay = cleaned(site, "approve_payment", {"decision": "approve", "payment_date": dt.date.today().isoformat(),
                                            "payment_reference": "BB-1"})
    with site.service_context():
        coordinator = db.session.get(User, site.coordinator_id)
        finance = db.session.scalar(select(User).where(User.email == FINANCE))
        complete_task(coordinator, check_ids[0], dict(approve))
        complete_task(coordinator, check_ids[1], dict(reject))
        complete_task(coordinator, check_ids[2], dict(approve))
        db.session.commit()
        payment = db.session.scalar(select(HumanTask.id).where(
            HumanTask.bpmn_id == "approve_payment", HumanTask.instance_id == select(HumanTask.instance_id)
            .where(HumanTask.id == check_ids[0]).scalar_subquery()))
        complete_task(finance, payment, dict(pay))
        db.session.commit()
        return list(db.session.scalars(select(HumanTask.instance_id).where(HumanTask.id.in_(check_ids))
                                       .order_by(HumanTask.id)))


def clone_requests(site, template_ids: list[int], total: int) -> None:
    """Copy the templates' request, task and candidate rows, in turn, until ``total`` requests;
    started over the current year up to now, each wait a little longer than the one before."""
    instances, tasks, candidates = ProcessInstance.__table__, HumanTask.__table__, TaskCandidate.__table__
    now = dt.datetime.now(dt.UTC)
    span = now - dt.datetime(now.year, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=1)
    with site.app.app_context():
        session = db.session
        have = session.scalar(select(func.count()).select_from(instances))
        shapes = []
        for template_id in template_ids:
            instance = session.execute(select(instances).where(instances.c.id == template_id)).mappings().one()
            task_rows = session.execute(select(tasks).where(tasks.c.instance_id == template_id)).mappings().all()
            shapes.append((instance, task_rows, session.execute(select(candidates).where(
                candidates.c.task_id.in_([t["id"] for t in task_rows]))).mappings().all()))
        next_instance = session.scalar(select(func.max(instances.c.id))) + 1
        next_task = session.scalar(select(func.max(tasks.c.id))) + 1
        rows: dict = {instances: [], tasks: [], candidates: []}

        def later(moment: dt.datetime | None, shift: dt.timedelta, wait: dt.timedelta) -> dt.datetime | None:
            return None if moment is None else moment - shift + wait

        for k in range(total - have):
            shift = span * (k / total)  # the k-th copy starts k/total of the year earlier
            # A month on, a request has mostly finished: older copies are of the paid and the
            # rejected claim; the last month's of all four.
            shapes_now = shapes if shift < dt.timedelta(days=30) else shapes[:2]
            instance, task_rows, candidate_rows = shapes_now[k % len(shapes_now)]
            wait = dt.timedelta(hours=k % 240)
            iid = next_instance + k
            started, ended = instance["started_at"] - shift, later(instance["ended_at"], shift, wait)
            rows[instances].append({**instance, "id": iid, "started_at": started, "ended_at": ended,
                                    "started_year": started.year, "hours_to_end": whole_hours(started, ended)})
            task_map = {}
            for row in task_rows:
                task_map[row["id"]] = next_task
                created, completed = row["created_at"] - shift, later(row["completed_at"], shift, wait)
                rows[tasks].append({**row, "id": next_task, "instance_id": iid, "spiff_task_id": str(uuid.uuid4()),
                                    "created_at": created, "completed_at": completed, "request_year": started.year,
                                    "request_started_at": started,
                                    "hours_waited": whole_hours(created, completed) if row["hours_waited"] is not None
                                    else None})
                next_task += 1
            for row in candidate_rows:
                rows[candidates].append({**row, "task_id": task_map[row["task_id"]],
                                         "task_created_at": row["task_created_at"] - shift})
            if len(rows[instances]) >= 5000 or k == total - have - 1:
                for table, new in rows.items():
                    for at in range(0, len(new), 2000):
                        session.execute(table.insert(), new[at:at + 2000])
                    new.clear()
        session.commit()
        made = session.scalar(select(func.count()).select_from(instances))
    if made != total:
        raise SystemExit(f"bench: {made} requests, wanted {total}")


def clone_figures(site, template_ids: list[int]) -> None:
    """A figures row for every copied request: its own columns, its template's figures (the
    template of the same status and outcome)."""
    with site.app.app_context():
        kept = {(row.status, row.outcome): row.figures for row in db.session.scalars(
            select(RequestFigures).where(RequestFigures.instance_id.in_(template_ids)))}
        have = set(db.session.scalars(select(RequestFigures.instance_id)))
        columns = (ProcessInstance.id, ProcessInstance.process_id, ProcessInstance.version_id,
                   ProcessInstance.working_group_id, ProcessInstance.initiator_id, ProcessInstance.started_at,
                   ProcessInstance.status, ProcessInstance.outcome)
        rows = [{"instance_id": iid, "process_id": process, "version_id": version, "working_group_id": group,
                 "initiator_id": initiator, "started_at": started, "status": status, "outcome": outcome,
                 "figures": kept[(status, outcome)]}
                for iid, process, version, group, initiator, started, status, outcome
                in db.session.execute(select(*columns)) if iid not in have and (status, outcome) in kept]
        for at in range(0, len(rows), 5000):
            db.session.execute(RequestFigures.__table__.insert(), rows[at:at + 5000])
        db.session.commit()


def build(site, total: int) -> None:
    """The year of ``total`` requests every report page counts: the templates, their copies and
    the copies' figures rows."""
    ids = templates(site)
    clone_requests(site, ids, total)
    clone_figures(site, ids)
