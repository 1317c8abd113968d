"""Languages, time zones and formats for the user's locale."""

from __future__ import annotations

import datetime as dt
import glob
import os
from decimal import Decimal

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_currency, format_date, format_datetime
from flask_login import current_user


def select_locale() -> str:
    """The user's saved language, else the one picked before sign-in, else the browser's."""
    languages = list(current_app.config["LANGUAGES"])
    if not has_request_context():
        # Command-line output (flask users ..., demo-data) is in English unless configured.
        return current_app.config.get("CLI_LOCALE", "en")
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def money(value) -> str:
    """An amount as CNY in the user's locale."""
    if value is None:
        return ""
    return format_currency(Decimal(value), "CNY")


def local_datetime(value: dt.datetime | None) -> str:
    """A UTC datetime in the portal's time zone, formatted for the locale."""
    if value is None:
        return ""
    return format_datetime(value, "medium")


def local_date(value: dt.date | None) -> str:
    if value is None:
        return ""
    return format_date(value, "medium")


def translation_directories(root: str) -> list[str]:
    """portal/translations plus each module's own portal/<module>/translations."""
    found = [os.path.join(root, "translations")]
    found += sorted(glob.glob(os.path.join(root, "*", "translations")))
    return [d for d in found if os.path.isdir(d)]


def init_i18n(app: Flask) -> None:
    from portal.extensions import babel

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=";".join(translation_directories(app.root_path)),
    )
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
