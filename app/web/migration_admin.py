"""Moving running requests to another version of their process."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("migration_admin", __name__, url_prefix="/admin/migrations")
