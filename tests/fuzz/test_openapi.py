"""Schemathesis over Bantico's OpenAPI document: every documented route and method, sent with a
valid project secret key to a project seeded with real rows, and Dodo pointed at the emulator.

Checked on every response: no 5xx (`not_a_server_error`), and, where the document describes
the answer, its content type and body (`content_type_conformance`,
`response_schema_conformance`). Each request is held to the budget of tests/fuzz/budget.py.
Generation is deterministic (derandomized, fixed seed), with `MAX_EXAMPLES` fuzzed cases per
operation on top of schemathesis's examples phase, and no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlencode

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import create_engine

from bantico.app import create_app
from bantico.config import Settings
from bantico.integrations.dodo.client import DodoClient
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.ratelimit import TIER_2
from bantico_emulators.dodo.server import RunningEmulator, run_emulator
from bantico_emulators.dodo.state import TEST_KEY, EmulatorState
from tests.fuzz.budget import within_budget
from tests.fuzz.conftest import Seed

MAX_EXAMPLES = 20
SEED = 20_261_110
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _document() -> dict[str, Any]:
    """The OpenAPI document; it does not depend on the database or the settings' values."""
    settings = Settings(database_url="sqlite://", secret_key="fuzz-openapi-document-only")
    return create_app(settings, engine=create_engine("sqlite://")).openapi()


DOCUMENT = _document()
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}},
        "max-redirects": 0,  # a short link's 302 is the answer under test, not its target
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture(scope="module")
def dodo() -> Iterator[RunningEmulator]:
    """One emulated Dodo for the module (starting one per operation costs more than its calls),
    with Dodo's Tier 2 rate limit. It is asked once before the fuzzing, so that the SDK's
    modules, imported by a process's first call to Dodo (half a second under tracemalloc), do
    not count as a request's time."""
    with EmulatorState(EmulatorOptions(rate_limit=TIER_2)) as state, run_emulator(state) as running:
        client = DodoClient(TEST_KEY, running.test_url, max_retries=0)
        try:
            assert client.probe() == "accepted"
        finally:
            client.close()
        yield running


@pytest.fixture
def settings(settings: Settings, dodo: RunningEmulator) -> Settings:
    """Dodo's hosts are the emulator's: connecting, syncing and disconnecting talk to it."""
    return settings.model_copy(
        update={"dodo_test_url": dodo.test_url, "dodo_live_url": dodo.live_url}
    )


@pytest.fixture
def asgi_app(app: FastAPI) -> Iterator[FastAPI]:
    """The app schemathesis calls; its lifespan (started by schemathesis) ends with the test."""
    yield app
    shutdown_lifespans()


# Path parameters that name rows: a fuzzed value, or the id of a seeded row.
def _real_ids(seeded: Seed) -> dict[str, list[str]]:
    return {
        "link_id": seeded.link_ids,
        "payment_id": seeded.payment_ids,
        "project_id": [seeded.project.id],
        "key": seeded.link_keys,
    }


def _name_real_rows(case: schemathesis.Case, data: st.DataObject, seeded: Seed) -> None:
    for name, ids in _real_ids(seeded).items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = data.draw(
                st.sampled_from([case.path_parameters[name], *ids]), label=name
            )


def _label(case: schemathesis.Case) -> str:
    """The request as the summary names it: method, path and query, cut to 120 characters."""
    query = urlencode(case.query or {}, doseq=True, errors="surrogatepass")
    return f"{case.method} {case.formatted_path}{'?' + query if query else ''}"[:120]


@schema.parametrize()
@schema.given(data=st.data())
# The seeded project is shared by an operation's cases on purpose (a case may archive a link
# or disconnect Dodo; later ones then meet that state).
@hypothesis.settings(
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_documented_operation(
    case: schemathesis.Case, data: st.DataObject, seeded: Seed, asgi_app: FastAPI
) -> None:
    _name_real_rows(case, data, seeded)
    call = partial(case.call, app=asgi_app, headers=seeded.project.headers)
    response = within_budget(_label(case), call)
    case.validate_response(response, checks=CHECKS)


def test_every_documented_operation_is_fuzzed() -> None:
    documented = {
        (method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops
    }
    fuzzed = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert fuzzed == documented
    assert len(documented) >= 24  # as many as when this suite was written, or more
