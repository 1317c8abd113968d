"""Security events as structured log lines (one JSON object a line) on `portal.security`.

Each line carries the event, the user (or the username typed at sign-in), the client address
and the request id, and what the event needs besides (method, path, status). It never carries
passwords, tokens, cookies, form fields or query strings. JSON escapes CR, LF and every other
control character in user-supplied values, so a value cannot forge a second line; the Unicode
line and paragraph separators are escaped too.
"""

from __future__ import annotations

import json
import logging

from flask import has_request_context, request

logger = logging.getLogger("portal.security")

# Events that are refusals or attacks are warnings; the rest is information.
WARNINGS = frozenset(
    {"login.failure", "access.denied", "csrf.failure", "rate.limited", "input.refused"}
)
_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}


def _current_username() -> str | None:
    from flask_login import current_user

    try:
        if current_user and current_user.is_authenticated:
            return current_user.username
    except Exception:  # a broken session must not stop the log line
        return None
    return None


def init_logging(app) -> None:
    """Security events at INFO and above reach the log (stderr unless logging is configured)."""
    logger.setLevel(logging.INFO)
    # Flask's app logger ("portal", the parent of this one) gets its stderr handler now,
    # unless the deployment configured logging; gunicorn passes stderr to its error log.
    _ = app.logger


def format_event(name: str, **fields) -> str:
    """The log line of one event: a JSON object, one line whatever the values hold."""
    line = json.dumps({"event": name, **fields}, ensure_ascii=False, default=str)
    for char, escaped in _SEPARATORS.items():
        line = line.replace(char, escaped)
    return line


def event(name: str, *, user: str | None = None, **fields) -> None:
    """Log one security event with the request's user, address and request id."""
    from portal.core.security import request_id

    record: dict = {}
    if has_request_context():
        record = {
            "user": user if user is not None else _current_username(),
            "ip": request.remote_addr or "",
            "request_id": request_id(),
            "method": request.method,
            "path": request.path,
        }
    elif user is not None:
        record["user"] = user
    record.update(fields)
    level = logging.WARNING if name in WARNINGS else logging.INFO
    logger.log(level, format_event(name, **record))
