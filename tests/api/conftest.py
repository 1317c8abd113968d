"""The API tests share the reports tests' fixed day."""

from tests.reports.conftest import frozen_clock  # noqa: F401 - an autouse fixture
