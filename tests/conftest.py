import pytest

import option_coverage
from guest_fixtures import *  # noqa: F403


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a full unit run when an option row is never set by a test (option_coverage.py)."""
    option_coverage.check(session, exitstatus)


pytest_plugins = ["golden_plugin"]
