"""Thin views: load and authorise, validate, call one service, commit, redirect."""

from __future__ import annotations

from flask import Flask, current_app

from . import (
    access_log,
    account,
    admin,
    admin_mail,
    auth,
    decide,
    filters,
    groups,
    health,
    ids,
    login,
    meetings,
    messages,
    metrics,
    migration_admin,
    monitor,
    names_admin,
    processes_admin,
    profile,
    reports,
    reports_money,
    requests,
    responses,
    statements,
    tasks,
    two_step,
)

BLUEPRINTS = (health, metrics, auth, account, two_step, tasks, requests, decide, profile, groups, meetings, admin,
              admin_mail, processes_admin, monitor, migration_admin, names_admin, messages,
              statements, reports, reports_money)


def register_web(app: Flask) -> None:
    ids.init_app(app)  # first: the routes below are bound to its converter as they are added
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    for part in (access_log, login, filters, responses):
        part.init_app(app)
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def favicon():
    """The icon browsers ask for at the site's root, for every page and without signing in."""
    return current_app.send_static_file("favicon.ico")
