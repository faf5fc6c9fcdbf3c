"""After the load: was anything lost or done twice? Checked in the database and the SMTP sink,
once the worker has drained the outbox."""

from __future__ import annotations

import collections
import sys
import time

from tests.load.people import Tally
from tests.load.stack import Stack

WAITING = ("PENDING", "SENDING")  # OutboxStatus names, as SQLAlchemy's Enum stores them


def drained(stack: Stack, timeout: float, poll: float = 0.2) -> bool:
    """Wait until no email waits or is being sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not stack.sql("SELECT 1 FROM outbox_message WHERE status IN (%s, %s) LIMIT 1", *WAITING):
            return True
        time.sleep(poll)
    return False


def lost_or_doubled(stack: Stack, tally: Tally, done_before: set[int], last_task: int, last_request: int) -> int:
    """How many claims, completions or emails were lost or went through twice; each one named
    on stderr."""
    problems: list[str] = []
    # Claims: each one a buyer was told was sent is in the database; none that nobody was told of.
    filed = collections.Counter(tally.filed)
    stored = {row[0] for row in stack.sql("SELECT id FROM process_instance WHERE id > %s", last_request)}
    problems += [f"claim {i} told filed, not stored" for i in filed.keys() - stored]
    problems += [f"claim {i} stored, nobody told" for i in stored - filed.keys()]
    problems += [f"claim {i} told filed {n} times" for i, n in filed.items() if n > 1]
    # Completions: each one told "done" is completed; none completed that everyone was told was taken.
    told = collections.Counter(tally.completed)
    completed = {row[0] for row in stack.sql("SELECT id FROM human_task WHERE completed_at IS NOT NULL")} - done_before
    problems += [f"task {i} told done, not completed" for i in told.keys() - completed]
    problems += [f"task {i} completed, nobody told" for i in completed - told.keys()]
    problems += [f"task {i} told done {n} times" for i, n in told.items() if n > 1]
    # Task emails: every task the run opened asked its people by email, each person once.
    problems += [f"task {i} emailed nobody" for (i,) in stack.sql("""
        SELECT t.id FROM human_task t WHERE t.id > %s
        AND NOT EXISTS (SELECT 1 FROM outbox_message m WHERE m.task_id = t.id AND m.kind = 'task')""", last_task)]
    problems += [f"task {i} emailed person {p} {n} times" for i, p, n in stack.sql("""
        SELECT task_id, recipient_id, count(*) FROM outbox_message WHERE kind = 'task' AND task_id > %s
        GROUP BY task_id, recipient_id HAVING count(*) > 1""", last_task)]
    # The outbox against the sink: each email marked sent arrived once; none failed or still waits.
    outbox = dict(stack.sql(
        "SELECT message_id, status FROM outbox_message WHERE transport = 'smtp' OR status <> 'SENT'"))
    sink = dict(stack.sink.ids)
    problems += [f"email {m} is {s}" for m, s in outbox.items() if s != "SENT"]
    problems += [f"email {m} marked sent, not received" for m, s in outbox.items() if s == "SENT" and m not in sink]
    problems += [f"email {m} received {n} times" for m, n in sink.items() if n > 1]
    problems += [f"email {m} received, not in the outbox" for m in sink.keys() - outbox.keys()]
    for problem in problems[:20]:
        print(f"# {problem}", file=sys.stderr)
    return len(problems)
