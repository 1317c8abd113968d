"""Which new passwords are accepted: long enough, and not common, guessable or published.

Common and breached passwords are found by zxcvbn (Dropbox's estimator, maintained Python
port): it knows the 30,000 most common passwords of breach lists, keyboard walks, repeats,
sequences, dates and l33t variants, and estimates how many guesses a password takes. A password
it scores below MIN_SCORE (under a million guesses: `password`, `12345678`, `password123`,
`88888888`, `qwertyuiop`) is refused. Passwords this project itself publishes (the demo
password) are refused too: only the demo-data loader may set them.
"""

from __future__ import annotations

import contextlib
import contextvars

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 200
# zxcvbn's scores: 0 under 10^3 guesses, 1 under 10^6, 2 under 10^8, 3 under 10^10.
MIN_SCORE = 2
# zxcvbn analyses at most 72 characters; a longer password is judged by its start.
ZXCVBN_MAX = 72
# Published in the README and on the demo banner: never acceptable for a real account.
PUBLISHED = frozenset({"portal-demo"})
# Words an attacker would try first against this portal.
CONTEXT_WORDS = ("portal", "demo", "station", "service", "network", "admin", "password")

_demo_loading: contextvars.ContextVar[bool] = contextvars.ContextVar("demo_loading", default=False)


@contextlib.contextmanager
def demo_passwords_allowed():
    """While loading demo data, the published demo password may be set (nothing else)."""
    token = _demo_loading.set(True)
    try:
        yield
    finally:
        _demo_loading.reset(token)


def problem(password: str | None, *, username: str = "") -> str | None:
    """Why a new password is refused (a message for the user), or None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return _l("The password needs at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("The password may have at most %(n)d characters.", n=MAX_LENGTH)
    if password.strip().lower() in PUBLISHED:
        if _demo_loading.get():
            return None
        return _l("This password is published (it is the demo password). Choose another.")
    name = (username or "").strip().lower()
    # zxcvbn counts the username and the portal's own words as the first guesses.
    inputs = [w for w in (name, *CONTEXT_WORDS) if w]
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        return _l(
            "This password is too common or too easy to guess (it appears in lists of breached "
            "passwords or follows a simple pattern). Choose a longer, less predictable one."
        )
    return None
