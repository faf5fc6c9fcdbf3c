"""``make bench-load``: the app as deployed, many people at once (docs/PERFORMANCE.md, "Load").

    python -m tests.load                 # BENCH_PEOPLE (50) people for BENCH_SECONDS (60)
    python -m tests.load --short         # the smoke test's size: 4 people, 4 seconds
    python -m tests.load --profile       # also py-spy on gunicorn and pg_stat_statements' top queries

Prints one ``name value`` line per figure, for a script to read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

from tests.load.checks import drained, lost_or_doubled
from tests.load.people import play
from tests.load.profile import SpyOnWeb, top_statements
from tests.load.stack import ROOT, Stack, cpu_seconds


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def email_rate(stack: Stack, workers: int, count: int, label: str) -> tuple[float, int]:
    """Emails per second ``workers`` ``flask worker`` processes send: ``count`` copies of a
    task email (the common kind, written and its decision links minted as it is sent) are queued
    at once, once that many workers run (the run's own, and more started as needed), and timed
    until the outbox has none waiting. Returns the rate and how many went out other than once."""
    more = workers - len(stack.workers)
    before = stack.log("worker.log").count(" started;")
    stack.start_workers(more)
    deadline = time.monotonic() + 60
    while stack.log("worker.log").count(" started;") < before + more:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start:\n{stack.log('worker.log')}")
        time.sleep(0.1)
    prefix = f"<bench-{label}-"
    queued = stack.sql("""
        INSERT INTO outbox_message (message_id, kind, template, recipient_id, to_address, subject, text_body,
            html_body, instance_id, task_id, status, attempts, next_attempt_at, claimed_by, last_error, transport,
            delivered_text, delivered_html, created_at)
        SELECT %s || g || '@bbw.example>', kind, template, recipient_id, to_address, subject, text_body, html_body,
            instance_id, task_id, 'PENDING', 0, now(), '', '', '', '', '', now()
        FROM outbox_message, generate_series(1, %s) AS g
        WHERE id = (SELECT min(id) FROM outbox_message WHERE kind = 'task')
        RETURNING id""", prefix, count)
    if len(queued) != count:
        raise RuntimeError("no task email to copy")
    started = time.monotonic()
    if not drained(stack, timeout=300, poll=0.05):
        raise RuntimeError(f"{workers} worker(s) did not send {count} emails in 300 s:\n{stack.log('worker.log')}")
    seconds = time.monotonic() - started
    sent = [n for message_id, n in stack.sink.ids.items() if message_id.startswith(prefix)]
    wrong = abs(count - len(sent)) + sum(n - 1 for n in sent)
    return count / seconds, wrong


BEGUN = time.monotonic()


def phase(what: str) -> None:
    """Where the harness's own time goes, on stderr."""
    print(f"# {time.monotonic() - BEGUN:6.1f} s  {what}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="a few people for a few seconds (the smoke test)")
    parser.add_argument("--profile", action="store_true", help="py-spy on gunicorn; pg_stat_statements' top")
    parser.add_argument("--url", default="", help="a database on a running PostgreSQL (default: a cluster of its own)")
    parser.add_argument("--template", default="", help="copy this seeded database instead of migrating and seeding")
    args = parser.parse_args()
    people = int(os.environ.get("BENCH_PEOPLE", 4 if args.short else 50))
    seconds = float(os.environ.get("BENCH_SECONDS", 4 if args.short else 60))
    think = float(os.environ.get("BENCH_THINK_SECONDS", 0.1))  # mean pause between a person's clicks
    emails = int(os.environ.get("BENCH_EMAILS", 40 if args.short else 1000))

    stack = Stack(args.url, template=args.template).start()
    phase("database, gunicorn and the SMTP sink ready")
    try:
        stack.start_workers(1)  # README: one flask worker beside the web service
        if args.profile:
            stack.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            stack.sql("SELECT pg_stat_statements_reset()")
        done_before = {row[0] for row in stack.sql("SELECT id FROM human_task WHERE completed_at IS NOT NULL")}
        last_task = stack.sql("SELECT coalesce(max(id), 0) FROM human_task")[0][0]
        last_request = stack.sql("SELECT coalesce(max(id), 0) FROM process_instance")[0][0]
        load = os.getloadavg()[0]
        spies: list[SpyOnWeb] = []
        begun: list[float] = []  # CPU seconds when the work begins, sign-ins done: generator's, server's

        def at_work() -> None:
            begun[:] = [time.process_time(), *(cpu_seconds(pids) for pids in stack.server_parts().values())]
            if args.profile:  # the work, not the sign-ins
                spies.append(SpyOnWeb(stack, seconds))

        tally, elapsed = asyncio.run(play(stack.port, people, seconds, think, at_work=at_work))
        cpu = time.process_time() - begun[0]  # the load generator's own share of the two cores
        parts = {name: cpu_seconds(pids) - before
                 for (name, pids), before in zip(stack.server_parts().items(), begun[1:], strict=True)}
        server = sum(parts.values())
        for spy in spies:
            spy.report()
        phase(f"{people} people done")
        if not drained(stack, timeout=300):
            tally.error("outbox", "the worker did not send every email within 300 s")
        wrong = lost_or_doubled(stack, tally, done_before, last_task, last_request)
        phase("outbox drained, checked")
        if args.profile:
            top_statements(stack, sum(len(times) for times in tally.ms.values()))
        one, doubled_one = email_rate(stack, 1, emails, "one")
        two, doubled_two = email_rate(stack, 2, emails, "two")
        phase("emails timed")

        print(f"people {people}")
        print(f"seconds {elapsed:.1f}")
        print(f"load_average_before {load:.2f}")
        print(f"generator_cpu_seconds {cpu:.1f}")
        print(f"server_cpu_seconds {server:.1f}")  # gunicorn, the worker (and PostgreSQL, when its own)
        cycles = len(tally.completed) + len(tally.filed)
        print(f"server_cpu_ms_per_click_cycle {1000 * server / max(cycles, 1):.0f}")
        for name, seconds_spent in parts.items():  # web, worker, database: where that CPU went
            print(f"server_cpu_ms_per_click_cycle.{name} {1000 * seconds_spent / max(cycles, 1):.0f}")
        print(f"http_completions_per_s {len(tally.completed) / elapsed:.1f}")
        print(f"claims_filed_per_s {len(tally.filed) / elapsed:.1f}")
        print(f"conflicts {tally.conflicts}")
        for kind in sorted(tally.ms):
            values = tally.ms[kind]
            print(f"requests.{kind} {len(values)}")
            for share in (50, 95, 99):
                print(f"p{share}_ms.{kind} {percentile(values, share):.1f}")
        print(f"errors {len(tally.errors)}")
        for error in tally.errors[:10]:
            print(f"# {error}", file=sys.stderr)
        print(f"lost_or_doubled {wrong + doubled_one + doubled_two}")
        print(f"emails_per_s_one_worker {one:.1f}")
        print(f"emails_per_s_two_workers {two:.1f}")
        sys.stdout.flush()
        if not args.short and (ROOT / "tests" / "load" / "million.py").exists():  # minutes: not the smoke test's
            subprocess.run([sys.executable, "-m", "tests.load.million", "--url", stack.url],  # noqa: S603
                           cwd=ROOT, check=False)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
