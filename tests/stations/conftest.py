"""Station tests run on a fixed day (10:00 on 24 November 2026 in Shanghai)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

# 10:00 on 24 November 2026 in Shanghai. Tests that need another day travel further themselves.
FROZEN_AT = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(FROZEN_AT, tick=False):
        yield
