"""`make test`: the whole suite, saying plainly whether the browser tests run."""

from __future__ import annotations

import os
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    database = os.environ.get("PORTAL_TEST_DATABASE_URL") or "SQLite (temporary file)"
    print(f"Test database: {database}", flush=True)
    if os.path.exists(CHROMIUM):
        print(f"Browser tests: on ({CHROMIUM})", flush=True)
    elif os.environ.get("CI") == "true":
        print(f"Browser tests: {CHROMIUM} is missing, and CI requires them.", flush=True)
        return 1
    else:
        print(
            f"Browser tests: SKIPPED — {CHROMIUM} not found. "
            "Install it with `apt-get install -y chromium` to run tests/e2e.",
            flush=True,
        )
    command = [sys.executable, "-m", "pytest", *sys.argv[1:]]
    return subprocess.call(command)  # noqa: S603 - our own interpreter and pytest


if __name__ == "__main__":
    sys.exit(main())
