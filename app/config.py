"""Every setting, read from the environment, with safe defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = "production"
DEVELOPMENT = "development"


class ConfigurationError(RuntimeError):
    """A setting the app cannot start without; the message is one line naming it."""


def generated_secret_key(instance_path: Path) -> str:
    """The key of one machine, for development: generated once and kept under instance/."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _external_base_url() -> str:
    """EXTERNAL_BASE_URL, else the address ``make run`` serves on (HOST and PORT, as it passes
    them to ``flask run``), so that emailed links reach this app."""
    if os.environ.get("EXTERNAL_BASE_URL"):
        return os.environ["EXTERNAL_BASE_URL"]
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "5000"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def engine_options(config: dict) -> dict:
    """SQLAlchemy's engine options for the configured database.

    On PostgreSQL a stopped or hung server must cost a request seconds, not a gunicorn worker:
    libpq gives up connecting after DATABASE_CONNECT_TIMEOUT, the server cancels a statement
    after DATABASE_STATEMENT_TIMEOUT (0: never), and a request waits at most
    DATABASE_POOL_TIMEOUT for a free connection. app/database.py bounds the waits a frozen
    server cannot end itself: the ping of a pooled connection, a statement past its timeout.
    """
    uri = str(config["SQLALCHEMY_DATABASE_URI"])
    if not uri.startswith("postgresql"):
        return {"pool_pre_ping": True}
    connect_args: dict = {"connect_timeout": max(int(config["DATABASE_CONNECT_TIMEOUT"]), 1)}
    statement_ms = int(float(config["DATABASE_STATEMENT_TIMEOUT"]) * 1000)
    if statement_ms > 0:
        connect_args["options"] = f"-c statement_timeout={statement_ms}"
    return {"pool_timeout": float(config["DATABASE_POOL_TIMEOUT"]), "connect_args": connect_args}


def check(config: dict) -> None:
    """Refuse to start on settings production must not run with.

    In production the local mailbox would let administrators read working decision links and
    decide as anyone, and a key generated under instance/ is for one machine only.
    """
    if config.get("LOG_FORMAT", "text") not in ("text", "json"):
        raise ConfigurationError(f"LOG_FORMAT must be text or json, not {config['LOG_FORMAT']!r}")
    app_env = config.get("APP_ENV")
    if app_env not in (DEVELOPMENT, PRODUCTION):
        raise ConfigurationError(f"APP_ENV must be {DEVELOPMENT} or {PRODUCTION}, not {app_env!r}")
    storage = config.get("ATTACHMENT_STORAGE", "folder")
    if storage not in ("folder", "s3"):
        raise ConfigurationError(f"ATTACHMENT_STORAGE must be folder or s3, not {storage!r}")
    if storage == "s3" and not config.get("S3_BUCKET"):
        raise ConfigurationError("ATTACHMENT_STORAGE=s3 needs S3_BUCKET, the bucket the files are stored in")
    if app_env != PRODUCTION:
        return
    if not config.get("MAIL_SERVER"):
        raise ConfigurationError("APP_ENV=production needs MAIL_SERVER, the SMTP relay: "
                                 "the local mailbox is for development only")
    if not config.get("SECRET_KEY"):
        raise ConfigurationError("APP_ENV=production needs SECRET_KEY in the environment: "
                                 "a key generated under instance/ is for one machine only")


def load(instance_path: Path) -> dict:
    """Return the configuration for an app whose instance folder is ``instance_path``."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'bbw.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        # Development: the local mailbox, a generated key. Production refuses both (check).
        "APP_ENV": (os.environ.get("APP_ENV") or DEVELOPMENT).strip().lower(),
        # From the environment only; create_app generates one under instance/ in development.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Seconds; the engine options are made from them in create_app (engine_options).
        "DATABASE_CONNECT_TIMEOUT": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
        "DATABASE_STATEMENT_TIMEOUT": float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "15")),
        "DATABASE_POOL_TIMEOUT": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
        # Where attachments live: "folder" (UPLOAD_FOLDER) or "s3", a bucket every node shares.
        "ATTACHMENT_STORAGE": (os.environ.get("ATTACHMENT_STORAGE") or "folder").strip().lower(),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),  # empty: AWS itself
        "S3_REGION": os.environ.get("S3_REGION", ""),
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID", ""),  # empty: boto3's own chain (AWS_*, a role)
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE", "auto"),  # "path" for most self-hosted servers
        "S3_TIMEOUT": float(os.environ.get("S3_TIMEOUT", "5")),  # seconds, to connect and per read
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "60")) * 1024 * 1024,
        "EXTERNAL_BASE_URL": _external_base_url(),
        "WORKFLOWS_FOLDER": os.environ.get("WORKFLOWS_FOLDER")
        or str(Path(__file__).resolve().parent.parent / "workflows"),
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "DISPLAY_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE", "Europe/Brussels"),
        "INBOX_PAGE_SIZE": int(os.environ.get("INBOX_PAGE_SIZE", "25")),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),  # reverse proxies in front
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # CSRF tokens live as long as the session: a long claim form must not expire mid-way.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_SUPPRESS_SEND": False,  # we choose: SMTP when MAIL_SERVER is set, else the mailbox
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "15")),
        "MAIL_BATCH_SIZE": int(os.environ.get("MAIL_BATCH_SIZE", "50")),
        "MAIL_LEASE_SECONDS": int(os.environ.get("MAIL_LEASE_SECONDS", "60")),
        "MAIL_RETRY_SECONDS": int(os.environ.get("MAIL_RETRY_SECONDS", "30")),
        "MAIL_RETRY_MAX_SECONDS": int(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600")),
        "MAIL_GIVE_UP_HOURS": float(os.environ.get("MAIL_GIVE_UP_HOURS", "48")),
        "ACTION_TOKEN_DAYS": float(os.environ.get("ACTION_TOKEN_DAYS", "7")),
        "DIGEST_HOUR": int(os.environ.get("DIGEST_HOUR", "7")),
        "WORKER_INTERVAL": float(os.environ.get("WORKER_INTERVAL", "5")),
        # What the diagram code of one step may use (app/engine/limits.py, docs/DIAGRAMS.md).
        "SCRIPT_CPU_SECONDS": float(os.environ.get("SCRIPT_CPU_SECONDS", "1")),
        "SCRIPT_MEMORY_MB": float(os.environ.get("SCRIPT_MEMORY_MB", "64")),
        # Sign-in (app/services/people/signins.py, two_step.py).
        "REMEMBER_ME_DAYS": float(os.environ.get("REMEMBER_ME_DAYS", "14")),
        "SIGN_IN_IDLE_HOURS": float(os.environ.get("SIGN_IN_IDLE_HOURS", "12")),
        "SIGN_IN_WINDOW_MINUTES": float(os.environ.get("SIGN_IN_WINDOW_MINUTES", "15")),
        "SIGN_IN_MAX_FAILURES": int(os.environ.get("SIGN_IN_MAX_FAILURES", "5")),
        "SIGN_IN_MAX_FAILURES_PER_CLIENT": int(os.environ.get("SIGN_IN_MAX_FAILURES_PER_CLIENT", "20")),
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", "7")),
        "KEPT_UPLOAD_HOURS": int(os.environ.get("KEPT_UPLOAD_HOURS", "24")),
        "PASSWORD_RESET_MINUTES": int(os.environ.get("PASSWORD_RESET_MINUTES", "60")),
        "PASSWORD_RESETS_PER_HOUR": int(os.environ.get("PASSWORD_RESETS_PER_HOUR", "5")),
        "TWO_STEP_MINUTES": float(os.environ.get("TWO_STEP_MINUTES", "10")),
        "TWO_STEP_MAX_TRIES": int(os.environ.get("TWO_STEP_MAX_TRIES", "5")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Big Buyers Workflow <noreply@localhost>"),
        # Operating (README, "Operating"): the log's shape, and Prometheus metrics at /metrics.
        "LOG_FORMAT": (os.environ.get("LOG_FORMAT") or "text").strip().lower(),
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").strip().upper(),
        "METRICS_ENABLED": _flag("METRICS_ENABLED", False),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or "",
        # The accessibility statement and the privacy notice (app/services/statements.py).
        "ACCESSIBILITY_CONTACT": os.environ.get("ACCESSIBILITY_CONTACT", ""),  # empty: an administrator's email
        "ACCESSIBILITY_PREPARED": os.environ.get("ACCESSIBILITY_PREPARED", "2026-12-03"),
        "ACCESSIBILITY_REVIEWED": os.environ.get("ACCESSIBILITY_REVIEWED", "2026-12-03"),
        "ACCESSIBILITY_ENFORCEMENT": os.environ.get("ACCESSIBILITY_ENFORCEMENT", ""),  # empty: the general text
        "PRIVACY_CONTROLLER": os.environ.get("PRIVACY_CONTROLLER", ""),  # empty: the secretariat
        "PRIVACY_LEGAL_BASIS": os.environ.get("PRIVACY_LEGAL_BASIS", ""),  # empty: the general text
        "PRIVACY_DPO_CONTACT": os.environ.get("PRIVACY_DPO_CONTACT", ""),  # empty: the accessibility contact's
        # Languages people may choose (app/locale.py); the first is the default and the fallback.
        "LANGUAGES": ["en", "fr", "de"],
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DISPLAY_TIMEZONE", "Europe/Brussels"),
    }
