"""The Prometheus metrics each process counts (prometheus_client), read at ``/metrics``.

Measured where they happen: HTTP requests by the access log's hook (app/web/access_log.py),
steps by ``app.steps.step``. What the database knows (the outbox queue, timers due, requests
in error) is read when Prometheus scrapes (app/web/metrics.py), so every web node answers the
same and no process has to keep it up to date.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder, emptied
at each start) before gunicorn starts: prometheus_client then keeps each process's counts in
files there, and ``/metrics`` adds them up (README, "Operating").
"""

from __future__ import annotations

from prometheus_client import Histogram

# Seconds: a page is expected in tens of milliseconds; the slow tail is what to see.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Histogram(
    "bbw_http_request_duration_seconds", "HTTP requests: how long each took, by route, method and status",
    ["endpoint", "method", "status"], buckets=BUCKETS)
STEPS = Histogram(
    "bbw_step_duration_seconds", "Steps of requests run and written (engine and step writer), by kind",
    ["kind"], buckets=BUCKETS)


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(endpoint, method, str(status)).observe(seconds)


def observe_step(kind: str, seconds: float) -> None:
    STEPS.labels(kind).observe(seconds)
