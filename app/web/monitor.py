"""Coordinators and administrators follow every request: list, filters, CSV, diagram, admin actions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
