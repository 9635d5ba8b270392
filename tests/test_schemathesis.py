"""Schemathesis over the whole OpenAPI: every operation, with an administrator's token (so the
routes are reached past authentication) and without one, answers without a server error and,
where it answers a documented status, with the documented content type and shape.

Bounded: a few examples per operation and generation mode on SQLite, so the whole run stays
well under two minutes. The data are two towns with one of everything (tests/world.py), and
one strategy per operation fills its path with those records' ids, so generated requests
reach real records too, not only 404s.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from cordon.app import create_app
from tests import world as worlds

# Examples per operation and strategy; a longer exploration: CORDON_SCHEMATHESIS_EXAMPLES=50.
EXAMPLES = int(os.environ.get("CORDON_SCHEMATHESIS_EXAMPLES", "4"))
# Each token request hashes a password on purpose (~0.3 s): a single example per strategy.
SLOW = {"POST /api/v1/auth/token": 1}
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _operations() -> list[str]:
    """Every operation's label ("GET /api/v1/people/{person_id}"), read from the app's own
    OpenAPI at collection time, so a new route is covered without touching this test."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(worlds.settings_in(Path(folder)))
        try:
            paths = app.openapi()["paths"]
        finally:
            app.state.engine.dispose()
    return [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[worlds.World]:
    built = worlds.build(tmp_path_factory.mktemp("schemathesis"))
    yield built
    worlds.close(built)


@pytest.fixture(scope="module")
def api_schema(world: worlds.World) -> Any:
    return schemathesis.openapi.from_asgi(f"{worlds.API}/openapi.json", world.app)


def real_ids(world: worlds.World) -> dict[str, object]:
    town = world.towns["dongxing"]
    return {
        "person_id": town.person_id,
        "case_id": town.case_id,
        "round_id": town.round_id,
        "task_id": town.task_id,
        "proposal_id": town.proposal_id,
        "job_id": 1,
        "code": town.village,
    }


@pytest.mark.parametrize("label", _operations())
def test_no_operation_answers_a_server_error(
    label: str, api_schema: Any, world: worlds.World
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    ids = real_ids(world)
    admin = world.token("admin")  # its own token: the logout operation revokes the one it gets
    names = {p.name for p in operation.path_parameters}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if names:
        fixed = {name: ids[name] for name in names if name in ids}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=SLOW.get(label, EXAMPLES) * len(strategies),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not os.environ.get("CORDON_SCHEMATHESIS_EXAMPLES"),
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=admin, checks=CHECKS)
        case.call_and_validate(checks=CHECKS)

    run()
