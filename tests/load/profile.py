"""``--profile``: where the web processes spend their time (py-spy, sampling every gunicorn
worker while the people click) and which statements cost the database most
(pg_stat_statements, loaded by the bench's own cluster). Printed on stderr, so the figures on
stdout stay a script's to read."""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.load.stack import Stack

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")
PACKAGES = ("sqlalchemy", "psycopg", "jinja2", "werkzeug", "flask_wtf", "wtforms", "flask", "SpiffWorkflow",
            "gunicorn", "markupsafe", "email", "json", "hashlib", "app/", "forms/", "templates/")


def _package(path: str) -> str:
    for name in PACKAGES:
        if f"/{name}" in path or path.startswith(name):
            return name.rstrip("/")
    return Path(path).name


class SpyOnWeb:
    """py-spy record on gunicorn and its workers for ``seconds``; ``report()`` waits for it and
    prints the functions and the packages the samples were in."""

    def __init__(self, stack: Stack, seconds: float) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.output = stack.folder / "py-spy.txt"
        self.process = subprocess.Popen(  # noqa: S603 - py-spy from the venv
            [spy, "record", "--pid", str(stack.web.pid), "--subprocesses", "--format", "raw", "--rate", "50",
             "--duration", str(int(seconds)), "--nonblocking", "--output", str(self.output)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def report(self, shown: int = 25) -> None:
        _, error = self.process.communicate(timeout=120)
        if not self.output.exists():
            print(f"# py-spy recorded nothing: {error.decode(errors='replace')[-500:]}", file=sys.stderr)
            return
        own: collections.Counter[str] = collections.Counter()  # samples in the function itself
        ours: collections.Counter[str] = collections.Counter()  # samples with the app's function on the stack
        within: collections.Counter[str] = collections.Counter()  # samples with the package on the stack
        total = 0
        for line in self.output.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [FRAME.match(frame) for frame in stack.split(";")]
            frames = [frame for frame in frames if frame]
            if not frames:
                continue
            n = int(count)
            total += n
            leaf = frames[-1]
            own[f"{leaf['function']} ({_package(leaf['file'])})"] += n
            for name in {_package(frame["file"]) for frame in frames}:
                within[name] += n
            for name in {f"{frame['function']} ({frame['file'].rsplit('/', 2)[-2]})" for frame in frames
                         if _package(frame["file"]) in ("app", "forms")}:
                ours[name] += n
        print(f"# py-spy: {total} samples of the gunicorn workers (idle waits included)", file=sys.stderr)
        print("# the functions samples were in:", file=sys.stderr)
        for name, n in own.most_common(shown):
            print(f"#   {100 * n / total:5.1f} %  {name}", file=sys.stderr)
        print("# the app's functions on the stack (with what they call):", file=sys.stderr)
        for name, n in ours.most_common(shown):
            print(f"#   {100 * n / total:5.1f} %  {name}", file=sys.stderr)
        print("# the packages on the stack:", file=sys.stderr)
        for name, n in within.most_common(shown):
            print(f"#   {100 * n / total:5.1f} %  {name}", file=sys.stderr)


def top_statements(stack: Stack, requests: int, shown: int = 15) -> None:
    """The statements that cost the server most, and how many statements each HTTP request
    made on average (the worker's included): round trips, each a wait for the server."""
    calls = stack.sql("""
        SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())""")[0][0]
    print(f"# pg_stat_statements: {calls} statements, {calls / max(requests, 1):.1f} per HTTP request", file=sys.stderr)
    rows = stack.sql("""
        SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3), rows,
               regexp_replace(query, '\\s+', ' ', 'g')
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT %s""", shown)
    print("# pg_stat_statements: calls, total ms, mean ms, rows, statement", file=sys.stderr)
    for calls, total, mean, count, query in rows:
        print(f"#   {calls:7d} {total:10} {mean:8} {count:8d}  {query[:220]}", file=sys.stderr)
