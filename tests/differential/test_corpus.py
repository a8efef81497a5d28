"""The differential corpus replayed against Ember: for every case, what real Heat 27 answered
(``recorded.json``, made by ``record.py``) is what Ember must answer: the validate outcome,
the create outcome, the outputs, the resources and each resource's event states. Where
Heat is wrong, ``divergences.yaml`` says what Ember answers instead and why (the same cases
are listed in ``docs/compatibility.md``)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api.helpers import need
from tests.differential.observe import RECORDED, Case, load_corpus, observe

httpx = need("httpx")

CASES = load_corpus()
DIVERGENCES = Path(__file__).parent / "divergences.yaml"
PARALLEL = 6


@functools.cache
def _recorded() -> dict[str, Any]:
    return dict(json.loads(RECORDED.read_text(encoding="utf-8"))["cases"])


@functools.cache
def _divergences() -> dict[str, Any]:
    return dict(yaml.safe_load(DIVERGENCES.read_text(encoding="utf-8")) or {})


def test_every_case_is_recorded() -> None:
    recorded = _recorded()
    assert sorted(recorded) == sorted(c.name for c in CASES)
    assert not [n for n, o in recorded.items() if "unrecorded" in o]
    assert len(CASES) >= 150


def test_every_divergence_names_a_case_and_a_reason() -> None:
    names = {c.name for c in CASES}
    for name, divergence in _divergences().items():
        assert name in names, name
        assert str(divergence.get("reason", "")).strip(), name
        assert isinstance(divergence.get("ember"), dict), name


@pytest.fixture(scope="module")
def observed(heat_server: Any, project: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Ember's observations of the cases this run selected, made several at a time."""
    prefix = f"{test_ember_answers_as_heat.__name__}["
    selected = {
        item.name[len(prefix) : -1]
        for item in request.session.items
        if item.name.startswith(prefix) and item.path == Path(__file__)
    }

    def one(case: Case) -> tuple[str, dict[str, Any]]:
        with httpx.Client(base_url=heat_server.endpoint(project), timeout=60.0) as http:
            return case.name, observe(http, case, f"diff-{uuid.uuid4().hex[:8]}", project)

    with ThreadPoolExecutor(PARALLEL) as pool:
        yield dict(pool.map(one, [c for c in CASES if c.name in selected]))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ember_answers_as_heat(case: Case, observed: dict[str, Any]) -> None:
    expected = dict(_recorded()[case.name])
    divergence = _divergences().get(case.name)
    if divergence is not None:
        for key, value in divergence["ember"].items():
            if value is None:
                expected.pop(key, None)  # what Ember does not come to (a refused create)
            else:
                expected[key] = value
    assert observed[case.name] == expected
