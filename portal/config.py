"""Settings from the environment; SQLite in the instance folder by default."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else generated once into instance/secret_key."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: when two processes start at once, one writes and both read the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def from_environment() -> dict:
    """Defaults, each overridable from the environment, read when the app is built."""
    env = os.environ.get
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "REDIS_URL": env("REDIS_URL") or None,
        # Sessions: the cookie holds only a server-side session token (see portal/auth).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_NAME": "portal_session",
        "IDLE_TIMEOUT": timedelta(hours=_float("IDLE_TIMEOUT_HOURS", 8)),
        # However active, a session ends this long after sign-in.
        "SESSION_MAX_AGE": timedelta(days=_float("SESSION_MAX_AGE_DAYS", 30)),
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": env("PORTAL_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": {"zh": "中文", "en": "English"},
        "BOOTSTRAP_SERVE_LOCAL": True,
        # Login throttling: more than LOGIN_FAILURE_LIMIT failures for one username in the window.
        "LOGIN_FAILURE_LIMIT": "5 per 15 minutes",
        # ...and failures from one client address, whatever the usernames tried.
        "LOGIN_ADDRESS_LIMIT": "50 per 15 minutes",
        "RATELIMIT_HEADERS_ENABLED": False,
        "FORCE_HTTPS": _bool("FORCE_HTTPS", False),
        # How many reverse proxies in front of the portal append X-Forwarded-*; 0 (no proxy)
        # means those headers are ignored, so a client cannot choose its own address.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER", "portal@localhost"),
        "PAGE_SIZE": 50,
        # Attachments and uploads; UPLOAD_FOLDER defaults to instance/uploads (see build_config).
        "UPLOAD_FOLDER": env("UPLOAD_FOLDER") or None,
        "ATTACHMENT_MAX_MB": _int("ATTACHMENT_MAX_MB", 10),
        "ATTACHMENT_MAX_COUNT": _int("ATTACHMENT_MAX_COUNT", 20),
        "ATTACHMENT_MAX_TOTAL_MB": _int("ATTACHMENT_MAX_TOTAL_MB", 50),
        "INSPECTION_PHOTO_MAX_MB": _int("INSPECTION_PHOTO_MAX_MB", 15),
        # Daily reports: Excel uploads per station, and how far back a new report may be made.
        "UPLOAD_RATE_LIMIT": env("UPLOAD_RATE_LIMIT", "10 per minute"),
        "REPORT_MAX_DAYS_BACK": _int("REPORT_MAX_DAYS_BACK", 60),
        "SIGNUP_LIMIT": env("SIGNUP_LIMIT", "10 per hour"),
        "API_RATE_LIMIT": env("API_RATE_LIMIT", "120 per minute"),
        # Background jobs (portal/core/jobs.py): thread, rq or manual; rq by default with Redis.
        "JOBS_RUNNER": env("JOBS_RUNNER") or None,
        "JOBS_QUEUE": env("JOBS_QUEUE", "portal"),
        "JOBS_THREADS": _int("JOBS_THREADS", 2),
        "JOB_HEARTBEAT_SECONDS": _float("JOB_HEARTBEAT_SECONDS", 5),
        "JOB_STALE_SECONDS": _float("JOB_STALE_SECONDS", 120),
        "JOB_TIMEOUT_SECONDS": _int("JOB_TIMEOUT_SECONDS", 4 * 3600),
        # Finished exports (settlement workbooks) are kept here; default UPLOAD_FOLDER/exports.
        "EXPORT_FOLDER": env("EXPORT_FOLDER") or None,
    }


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """The effective settings for one app instance."""
    settings = from_environment()
    settings["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "portal.db")
    )
    redis_url = settings["REDIS_URL"]
    settings["RATELIMIT_STORAGE_URI"] = os.environ.get("RATELIMIT_STORAGE_URI") or (
        redis_url if redis_url else "memory://"
    )
    settings["UPLOAD_FOLDER"] = settings["UPLOAD_FOLDER"] or str(Path(instance_path) / "uploads")
    if overrides:
        settings.update(overrides)
    if not settings.get("JOBS_RUNNER"):
        settings["JOBS_RUNNER"] = "rq" if settings.get("REDIS_URL") else "thread"
    settings["EXPORT_FOLDER"] = settings.get("EXPORT_FOLDER") or str(
        Path(settings["UPLOAD_FOLDER"]) / "exports"
    )
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = load_secret_key(instance_path)
    uri = settings["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    settings["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        # Several processes may share the SQLite file: wait for a writer instead of failing.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    return settings
