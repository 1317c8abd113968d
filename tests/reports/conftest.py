"""The reports and API tests use dates of November 2026: they run on a fixed day of it."""

import datetime as dt

import pytest
import time_machine

# Monday 23 November 2026, 12:00 China time; the clock runs on from there.
TODAY_NOON = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    """Hard-coded days stay within the reporting window whenever the suite runs."""
    with time_machine.travel(TODAY_NOON, tick=True):
        yield
