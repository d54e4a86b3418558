"""The fuzz suites' session-wide parts, a pytest plugin listed in tests/conftest.py (so that
it is loaded before collection, and by the xdist controller too): Hypothesis's caches kept out
of the repository, and the one-line summary of the fuzz requests at the end of the session,
`fuzz: N cases, worst …`, added up from every xdist worker."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.fuzz.budget import TALLY


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis (and schemathesis, while collecting) keep caches (Unicode tables, constants
    found in the code) in `.hypothesis/` of the working directory, whatever the example
    database: in the system's temporary directory instead, outside the repository, kept from
    one run to the next (rebuilding them costs a few seconds)."""
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "bantico-hypothesis-cache")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, send this worker's tally to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fuzz_tally"] = TALLY.as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller, add up the workers' tallies."""
    sent = getattr(node, "workeroutput", {}).get("fuzz_tally")
    if sent:
        TALLY.merge(sent)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.cases:
        terminalreporter.write_line(TALLY.summary())
