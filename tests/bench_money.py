"""The money, initiative and summary reports' pages at 1 000 and 100 000 requests, on SQLite
files as ``make bench`` builds them: ``python -m tests.bench_money``.

The requests are the reports bench's copies of four travel claims (tests/bench_reports.py)
spread over the current year; each copy gets its template's figures row too (the step writer
writes it for the templates; the copies are made with SQL, so their rows are copied here).
Each page is requested alternately at both sizes as a coordinator; the median, and the target
of issue 17: 200 ms at 100 000 requests. Not yet a case of ``make bench`` (tests/bench.py).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

from app.extensions import db
from app.models import ProcessInstance, RequestFigures
from tests.bench import COORDINATOR, Clock, Sample, Site, describe, interleave, medians, ms
from tests.bench_reports import REPORT_ROUNDS, REPORT_SIZES, REPORT_WARMUP, clone_requests, templates

PAGES = ("/reports/money", "/reports/initiative", "/reports/summary")
TARGET_MS = 200.0


def clone_figures(site: Site, template_ids: list[int]) -> None:
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
            db.session.execute(insert(RequestFigures), rows[at:at + 5000])
        db.session.commit()


def main() -> int:
    clients = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in REPORT_SIZES:
            site = Site(Path(folder), f"money{size}")
            ids = templates(site)
            clone_requests(site, ids, size)
            clone_figures(site, ids)
            clients[size], _ = site.client(COORDINATOR)

        def get(client, url: str) -> Callable[[], Sample]:
            def run() -> Sample:
                with Clock() as clock:
                    response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"bench: GET {url} gave {response.status_code}")
                return clock.sample
            return run

        missed = []
        for url in PAGES:
            samples = interleave({size: get(client, url) for size, client in clients.items()},
                                 REPORT_WARMUP, REPORT_ROUNDS)
            print(f"GET {url} as a coordinator, the current year's figures, rendered")
            for size, values in samples.items():
                print(describe(f"{size:>7,} requests", values))
            if ms(medians(samples[REPORT_SIZES[-1]])[0]) > TARGET_MS:
                missed.append(url)
    print("target: each page <= 200 ms at 100 000 requests:", "missed by " + ", ".join(missed) if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
