"""Settings from the environment; the secret key is generated once, never a constant."""

from __future__ import annotations

from datetime import timedelta

from portal.config import build_config, load_secret_key


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_secret_key(str(tmp_path))
    assert len(first) == 64
    assert (tmp_path / "secret_key").read_text() == first
    assert load_secret_key(str(tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert build_config(str(tmp_path))["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_database_and_redis_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    settings = build_config(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = build_config(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    # Set in the environment after the module was imported: read when the app is built.
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@db/portal")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = build_config(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://portal@db/portal"
    assert settings["REDIS_URL"] == "redis://cache:6379/0"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"


def test_every_documented_setting_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    values = {
        "IDLE_TIMEOUT_HOURS": ("2", "IDLE_TIMEOUT", timedelta(hours=2)),
        "SESSION_MAX_AGE_DAYS": ("7", "SESSION_MAX_AGE", timedelta(days=7)),
        "TRUSTED_PROXIES": ("2", "TRUSTED_PROXIES", 2),
        "SESSION_COOKIE_SECURE": ("true", "SESSION_COOKIE_SECURE", True),
        "FORCE_HTTPS": ("1", "FORCE_HTTPS", True),
        "MAX_UPLOAD_MB": ("3", "MAX_CONTENT_LENGTH", 3 * 1024 * 1024),
        "PORTAL_TIMEZONE": ("Asia/Urumqi", "BABEL_DEFAULT_TIMEZONE", "Asia/Urumqi"),
        "UPLOAD_FOLDER": ("/srv/uploads", "UPLOAD_FOLDER", "/srv/uploads"),
        "ATTACHMENT_MAX_MB": ("4", "ATTACHMENT_MAX_MB", 4),
        "SIGNUP_LIMIT": ("3 per hour", "SIGNUP_LIMIT", "3 per hour"),
        "API_RATE_LIMIT": ("9 per minute", "API_RATE_LIMIT", "9 per minute"),
        "RATELIMIT_STORAGE_URI": ("redis://other:6379/1", "RATELIMIT_STORAGE_URI", None),
    }
    for name in values:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    defaults = build_config(str(tmp_path))
    for name, (raw, _key, _expected) in values.items():
        monkeypatch.setenv(name, raw)
    settings = build_config(str(tmp_path))
    for name, (raw, key, expected) in values.items():
        expected = raw if expected is None else expected
        assert settings[key] == expected, name
        assert defaults[key] != expected, name


def test_session_and_proxy_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    for name in ("SESSION_MAX_AGE_DAYS", "TRUSTED_PROXIES", "IDLE_TIMEOUT_HOURS"):
        monkeypatch.delenv(name, raising=False)
    settings = build_config(str(tmp_path))
    assert settings["SESSION_MAX_AGE"] == timedelta(days=30)
    assert settings["IDLE_TIMEOUT"] == timedelta(hours=8)
    assert settings["TRUSTED_PROXIES"] == 0
