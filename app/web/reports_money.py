"""Money and the initiative: reports built by another change, on the pattern of app/web/reports.py
(its ``report_filters``, ``active_args`` and ``table_download``, and a line in its ``REPORTS``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports_money", __name__, url_prefix="/reports")
