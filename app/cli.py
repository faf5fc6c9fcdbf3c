"""Flask commands: demo data, people, workflow sync, timers."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import click
import pyotp
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import GroupMembership, Organisation, OrganisationType, Role, User, WorkingGroup

workflows_cli = AppGroup("workflows", help="Process versions.")
people_cli = AppGroup("people", help="Users, organisations and working groups.")
demo_cli = AppGroup("demo", help="Demonstration data.")
timers_cli = AppGroup("timers", help="Timers of running requests.")


@workflows_cli.command("sync")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None)
def workflows_sync(folder: Path | None) -> None:
    """Store each process in workflows/ as a version; a changed file becomes a new one."""
    from app.services.versions import sync_workflows

    folder = folder or Path(current_app.config["WORKFLOWS_FOLDER"])
    for version, created in sync_workflows(folder):
        state = "stored as a new version" if created else "unchanged"
        click.echo(f"{version.definition.process_id}: version {version.number} {state}")
    db.session.commit()


def _read_uploads(paths: tuple[Path, ...]):
    """Read the named files as an upload would arrive, each no further than its size cap allows."""
    from app.services.diagram_checks import MAX_FILE_BYTES, MAX_ZIP_BYTES

    uploads = []
    for path in paths:
        limit = MAX_ZIP_BYTES if path.suffix.lower() == ".zip" else MAX_FILE_BYTES
        with path.open("rb") as handle:
            uploads.append((path.name, handle.read(limit + 1)))  # one byte more shows "too large"
    return uploads


def _checked_upload(paths: tuple[Path, ...]):
    """Unpack and check files as the upload page does; print the report; exit 1 on refusal."""
    from app.services.diagram_checks import UploadRefused, check_upload, unpack_upload
    from app.services.versions.calls import check_calls

    try:
        files = unpack_upload(_read_uploads(paths))
    except UploadRefused as exc:
        click.echo(f"ERROR: {exc}")
        click.echo("refused: nothing was checked or stored")
        raise SystemExit(1) from None
    report = check_calls(check_upload(files))
    if report.findings:
        click.echo(report.as_text())
    name = report.process_id or ", ".join(files)
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "it can be uploaded" if report.ok else "it would be refused"
    click.echo(f"{name}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}: {verdict}")
    if not report.ok:
        raise SystemExit(1)
    return report


_UPLOAD_FILES = click.argument("paths", metavar="FILE...", nargs=-1, required=True,
                               type=click.Path(exists=True, dir_okay=False, path_type=Path))


@workflows_cli.command("check")
@_UPLOAD_FILES
def workflows_check(paths: tuple[Path, ...]) -> None:
    """Check a .bpmn with its .dmn files, or a .zip, as an upload would be; store nothing."""
    _checked_upload(paths)


@workflows_cli.command("translations")
@_UPLOAD_FILES
@click.option("--language", "languages", multiple=True, help="Also start a catalogue for this language (fr, de…)")
def workflows_translations(paths: tuple[Path, ...], languages: tuple[str, ...]) -> None:
    """Write the texts of a diagram to translate: NAME.pot beside the .bpmn, and bring each
    NAME.<language>.po there up to date (new texts added, texts no longer drawn dropped)."""
    from app.engine import parse_files
    from app.services.diagram_checks import translation_template, updated_translation

    report = _checked_upload(paths)
    model = parse_files(report.files)
    folder = next(p for p in paths if p.suffix.lower() == ".bpmn").parent if any(
        p.suffix.lower() == ".bpmn" for p in paths) else paths[0].parent
    template = folder / f"{model.process_id}.pot"
    template.write_text(translation_template(model), encoding="utf-8")
    click.echo(f"{template}: the texts to translate")
    existing = {path.name.split(".")[-2]: path for path in folder.glob(f"{model.process_id}.*.po")}
    for language in sorted(set(existing) | set(languages)):
        path = existing.get(language) or folder / f"{model.process_id}.{language}.po"
        path.write_text(updated_translation(model, language, path.read_text(encoding="utf-8")
                                            if path.exists() else None), encoding="utf-8")
        click.echo(f"{path}: up to date with the diagram")


@workflows_cli.command("upload")
@_UPLOAD_FILES
@click.option("--activate", is_flag=True, help="Make it the version new requests use")
@click.option("--note", default="", help="Why this version was uploaded (kept in its history)")
def workflows_upload(paths: tuple[Path, ...], activate: bool, note: str) -> None:
    """Check files as `workflows check` does and, when they pass, store them as a new version."""
    from app.services.versions import store_version

    report = _checked_upload(paths)
    version, created = store_version(report.files, None, note=note.strip(), activate=activate, channel="cli")
    db.session.commit()
    process_id = version.definition.process_id
    if not created:
        click.echo(f"{process_id}: unchanged, version {version.number} holds these files already")
    elif version.active:
        click.echo(f"{process_id}: version {version.number} stored and active")
    else:
        click.echo(f"{process_id}: version {version.number} stored, not active (new requests keep the "
                   "active version; upload with --activate to switch)")


@people_cli.command("add-organisation")
@click.option("--name", required=True)
@click.option("--type", "kind", type=click.Choice([t.value for t in OrganisationType]), required=True)
@click.option("--country", required=True, help="Two-letter EU country code, e.g. PT")
def add_organisation(name: str, kind: str, country: str) -> None:
    """Add a member organisation."""
    from app.services.people import create_organisation

    organisation = create_organisation(name, OrganisationType(kind), country)
    db.session.commit()
    click.echo(f"organisation {organisation.id}: {organisation.name}")


@people_cli.command("add-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--organisation", default=None, help="Organisation name")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]))
def add_user(email: str, name: str, organisation: str | None, roles: tuple[str, ...]) -> None:
    """Add a person; they get an email with a link to choose their password.

    Only the very first administrator (--role administrator while there is no active
    administrator) is asked for a password here: there is no one yet to invite them.
    """
    from app.services.people import create_user, has_administrator, invitation_days, invite_user_from_cli

    if Role.ADMINISTRATOR.value in roles and not has_administrator():
        password = click.prompt("Password (at least 10 characters)", hide_input=True, confirmation_prompt=True)
        user = create_user(email, name, password, roles, organisation)
        db.session.commit()
        click.echo(f"user {user.id}: {user.email} ({', '.join(sorted(user.roles))}), the first administrator: "
                   "sign in with the password you typed")
        return
    user = invite_user_from_cli(email, name, roles, organisation)
    db.session.commit()
    click.echo(f"user {user.id}: {user.email} ({', '.join(sorted(user.roles)) or 'no role'}); an invitation to "
               f"choose a password is queued (the worker sends it; its link works for {invitation_days()} days)")


@people_cli.command("add-group")
@click.option("--name", required=True)
@click.option("--sector", required=True)
@click.option("--lead", default=None, help="The lead's email address")
@click.option("--member", "members", multiple=True, help="A member organisation's name (repeatable)")
def add_group(name: str, sector: str, lead: str | None, members: tuple[str, ...]) -> None:
    """Add a working group with its lead and member organisations."""
    from app.services.people import create_group

    group = create_group(name, sector, lead, members)
    db.session.commit()
    click.echo(f"group {group.id}: {group.name}, {len(group.memberships)} members")


DEMO_PASSWORD = "bigbuyers-demo"  # noqa: S105 - the published demo password, README lists it
DEMO_ADMINISTRATOR = "admin@bigbuyers.example.eu"
DEMO_COORDINATOR = "clara.schmidt@iclei.example.eu"  # plans the demo meetings
DEMO_CLAIMANT = "marta.nowak@gdansk.example.eu"  # files the demo travel claim
# The demo administrator's published authenticator key (README, Demo logins): administrators
# sign in in two steps, and the demo's must be able to without a phone set up beforehand.
DEMO_TOTP_SECRET = "BIGBUYERSDEMOSECRETFORADMINSTOTP"  # noqa: S105 - published, like the password
DEMO_ORGANISATIONS = [
    ("City of Lisbon", OrganisationType.CITY, "PT"),
    ("City of Vienna", OrganisationType.CITY, "AT"),
    ("Helsinki Region", OrganisationType.REGION, "FI"),
    ("Consip", OrganisationType.CENTRAL_PURCHASING_BODY, "IT"),
    ("Ville de Lyon", OrganisationType.CITY, "FR"),
    ("Landeshauptstadt München", OrganisationType.CITY, "DE"),
    ("Ajuntament de Barcelona", OrganisationType.CITY, "ES"),
    ("City of Gdańsk", OrganisationType.CITY, "PL"),
    ("Gemeente Utrecht", OrganisationType.CITY, "NL"),
    ("Tallinn City", OrganisationType.CITY, "EE"),
    ("ICLEI Europe", OrganisationType.SECRETARIAT, "DE"),
    ("EUROCITIES", OrganisationType.SECRETARIAT, "BE"),
    ("European Commission, DG GROW", OrganisationType.COMMISSION, "BE"),
]
DEMO_USERS = [
    ("ana.costa@lisboa.example.eu", "Ana Costa", "City of Lisbon", [Role.BUYER]),
    ("lukas.berger@wien.example.eu", "Lukas Berger", "City of Vienna", [Role.BUYER]),
    ("marta.nowak@gdansk.example.eu", "Marta Nowak", "City of Gdańsk", [Role.BUYER]),
    ("pierre.martin@lyon.example.eu", "Pierre Martin", "Ville de Lyon", [Role.BUYER]),
    ("kati.tamm@tallinn.example.eu", "Kati Tamm", "Tallinn City", [Role.BUYER]),
    ("clara.schmidt@iclei.example.eu", "Clara Schmidt", "ICLEI Europe", [Role.COORDINATOR]),
    ("tom.peeters@eurocities.example.eu", "Tom Peeters", "EUROCITIES", [Role.COORDINATOR]),
    ("felix.wagner@iclei.example.eu", "Felix Wagner", "ICLEI Europe", [Role.FINANCE]),
    ("helena.rossi@ec.example.eu", "Helena Rossi", "European Commission, DG GROW", [Role.COMMISSION]),
    ("admin@bigbuyers.example.eu", "Platform Administrator", "EUROCITIES", [Role.ADMINISTRATOR]),
]
DEMO_GROUPS = [
    ("Zero-emission construction sites", "Construction machinery", "lukas.berger@wien.example.eu",
     ["City of Vienna", "City of Lisbon", "Helsinki Region", "Consip", "Ville de Lyon",
      "Landeshauptstadt München", "Ajuntament de Barcelona"]),
    ("Circular ICT", "ICT equipment", "ana.costa@lisboa.example.eu",
     ["City of Lisbon", "City of Gdańsk", "Gemeente Utrecht"]),
]


@demo_cli.command("load")
def demo_load() -> None:
    """Add the demo organisations, people and groups (skipping those already there)."""
    from app.services.meetings.demo import file_demo_claim

    load_demo_data()
    db.session.commit()
    marta = db.session.scalar(select(User).where(User.email == DEMO_CLAIMANT))
    if marta is not None and file_demo_claim(marta):  # not in load_demo_data: the tests start without it
        db.session.commit()
        click.echo("Marta Nowak filed a travel claim for the last meeting she attended")
    click.echo(f"demo data ready; every demo person signs in with the password {DEMO_PASSWORD!r}")
    click.echo(f"{DEMO_ADMINISTRATOR} also enters a code: add the key {DEMO_TOTP_SECRET} to an authenticator "
               "app, or run `flask --app wsgi demo code`")


@demo_cli.command("code")
def demo_code() -> None:
    """Print the demo administrator's current sign-in code (as an authenticator app would)."""
    click.echo(pyotp.TOTP(DEMO_TOTP_SECRET).now())


def load_demo_data() -> None:
    from app.services.meetings.demo import add_demo_meetings
    from app.services.people import create_group, create_organisation, create_user
    from app.services.people.two_step import enrol_with_secret, has_second_factor
    from app.steps.lanes import local_today

    for name, kind, country in DEMO_ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.name == name)) is None:
            create_organisation(name, kind, country)
    for email, name, organisation, roles in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            create_user(email, name, DEMO_PASSWORD, roles, organisation)
    # Also on a database made before two-step sign-in; never over an app set up since.
    administrator = db.session.scalar(select(User).where(User.email == DEMO_ADMINISTRATOR))
    if administrator is not None and not has_second_factor(administrator):
        enrol_with_secret(administrator, DEMO_TOTP_SECRET)
    for name, sector, lead, members in DEMO_GROUPS:
        if db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == name)) is None:
            create_group(name, sector, lead, members)
    coordinator = db.session.scalar(select(User).where(User.email == DEMO_COORDINATOR))
    if coordinator is not None:
        add_demo_meetings(coordinator, local_today())


@timers_cli.command("fire")
@click.option("--every", type=float, default=0, help="Keep firing every N seconds (0: once)")
def timers_fire(every: float) -> None:
    """Fire the timers that are due (reminders, escalations, deadlines)."""
    from app.services.instances import fire_due_timers

    while True:
        fired = fire_due_timers()
        if fired or not every:
            click.echo(f"fired the timers of {fired} request(s)")
        if not every:
            return
        time.sleep(every)


@click.command("worker")
@click.option("--once", is_flag=True, help="Do one round and stop (for cron or tests)")
@click.option("--interval", type=float, default=None, help="Seconds between rounds (WORKER_INTERVAL)")
def worker(once: bool, interval: float | None) -> None:
    """Fire due timers, queue daily digests and send the outbox, round after round.

    It outlives its dependencies: while the database or the SMTP server is away it says so
    once (in the log, with the time) and tries again every round; once it is back, it says so.
    SIGTERM (systemd's stop) or Ctrl-C lets it finish the email or timer in hand, give back
    the emails it claimed but did not begin, and exit 0.
    """
    from app.services.worker import Outages, log, run_round

    interval = interval if interval is not None else current_app.config["WORKER_INTERVAL"]
    name = f"{os.uname().nodename}-{os.getpid()}"
    stop = threading.Event()

    def stopping(signum, frame) -> None:
        if not stop.is_set():
            log.info("worker %s: %s received; finishing the job in hand", name, signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    log.info("worker %s started; Ctrl-C stops it", name)
    outages = Outages()
    while not stop.is_set():
        report = run_round(name, outages, stop)
        if report:
            log.info("%s", report)
        if once:
            break
        if not outages.backlog:  # a full batch: more is due, so go on at once
            stop.wait(interval)
    log.info("worker %s stopped", name)


@click.command("backfill")
def backfill_command() -> None:
    """Fill in what this release keeps for every request in the requests that ran before it."""
    from app.services.backfill import BACKFILLS, backfill

    for name, _fill in BACKFILLS:
        total = backfill(name)
        click.echo(f"{name} written for {total} request{'s' * (total != 1)}")


def register_cli(app: Flask) -> None:
    for group in (workflows_cli, people_cli, demo_cli, timers_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker)
    app.cli.add_command(backfill_command)


__all__ = ["GroupMembership", "register_cli"]
