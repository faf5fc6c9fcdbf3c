"""Administrators upload, compare, activate and download process versions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("processes_admin", __name__, url_prefix="/admin/processes")
