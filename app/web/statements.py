"""The accessibility statement and the privacy notice: public pages, linked from every footer."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.services import statements

bp = Blueprint("statements", __name__)


@bp.route("/accessibility")
def accessibility():
    return render_template("statements/accessibility.html", **statements.accessibility(current_app.config))


@bp.route("/privacy")
def privacy():
    return render_template("statements/privacy.html", **statements.privacy(current_app.config))
