"""The fund's alerts run with the fund enforced and a funded agreement, as the fund's own
tests do (tests/funding/conftest.py)."""

from tests.funding.conftest import admins, agreement, fund, funding_enforced  # noqa: F401
