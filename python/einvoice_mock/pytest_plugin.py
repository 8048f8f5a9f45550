"""The pytest plugin of the einvoice-mock wheel (entry point ``pytest11``).

Fixtures:

- ``einvoice_fake``: the fake (:class:`einvoice_mock.Fake`), one per session; the scenarios a
  test armed are disarmed after it.
- ``einvoice_fake_session``: the same fake, without the disarming.

Options: ``--einvoice-mock-junit FILE`` (a JUnit report of every request),
``--einvoice-mock-config FILE`` (a TOML configuration).
"""

from __future__ import annotations

from typing import Iterator

import pytest

from ._fake import Fake, start_fake


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("einvoice-mock")
    group.addoption("--einvoice-mock-junit", metavar="FILE", default=None,
                    help="keep a JUnit report of every request the fake received at FILE")
    group.addoption("--einvoice-mock-config", metavar="FILE", default=None,
                    help="the fake's TOML configuration (the embedded default otherwise)")


@pytest.fixture(scope="session")
def einvoice_fake_session(request: pytest.FixtureRequest) -> Iterator[Fake]:
    fake = start_fake(
        config=request.config.getoption("einvoice_mock_config"),
        junit=request.config.getoption("einvoice_mock_junit"),
    )
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def einvoice_fake(einvoice_fake_session: Fake) -> Iterator[Fake]:
    yield einvoice_fake_session
    einvoice_fake_session.disarm()
