"""A corpus of realistic stacks, each checked end to end as a client would submit it.

Every directory under ``corpus/`` holds one stack: ``template.yaml`` or ``template.json``,
optional ``env*.yaml`` environment files (merged in name order, as ``environment_files``),
optional nested templates and scripts, and ``expect.yaml`` saying whether the stack is
valid and, when it is not, substrings that must appear among the diagnostics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ember.common.errors import EmberError
from ember.template import (
    VERSIONS,
    StackDefinition,
    StackIdentity,
    Template,
    define,
    merge_environment_files,
    parse_text,
)
from tests.template.conftest import FakeCatalog, FakeResources

CORPUS = Path(__file__).parent / "corpus"
TEMPLATE_NAMES = ("template.yaml", "template.json")
EXPECT_NAME = "expect.yaml"
MIN_CORPUS_SIZE = 30


@dataclass
class Case:
    name: str
    template_name: str
    template: dict[str, Any]
    files: dict[str, str]
    environment_files: list[str]
    valid: bool
    errors: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    # Attribute values the fake resources report, keyed "resource.attribute".
    attributes: dict[str, Any] = field(default_factory=dict)


def corpus_dirs() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


def load_case(directory: Path) -> Case:
    """Read a corpus directory the way python-heatclient builds a create request.

    The client parses the root template and sends it as JSON; every other file travels as
    text in ``files``, keyed by its name, and environment files are named in
    ``environment_files`` for the service to merge in order.
    """
    names = sorted(p.name for p in directory.iterdir() if p.is_file())
    template_names = [n for n in names if n in TEMPLATE_NAMES]
    assert len(template_names) == 1, f"{directory.name}: needs exactly one template file"
    template_name = template_names[0]
    expect = yaml.safe_load((directory / EXPECT_NAME).read_text(encoding="utf-8"))
    assert isinstance(expect, dict), f"{directory.name}: expect.yaml must be a map"
    assert isinstance(expect.get("valid"), bool), f"{directory.name}: expect.yaml needs valid"
    files = {
        n: (directory / n).read_text(encoding="utf-8")
        for n in names
        if n not in (template_name, EXPECT_NAME)
    }
    parsed = parse_text(files_text(directory, template_name))
    assert isinstance(parsed, dict), f"{directory.name}: the template must be a mapping"
    # Through JSON, as on the wire.
    template = json.loads(json.dumps(parsed))
    return Case(
        name=directory.name,
        template_name=template_name,
        template=template,
        files=files,
        environment_files=[n for n in names if n.startswith("env") and n.endswith(".yaml")],
        valid=expect["valid"],
        errors=list(expect.get("errors") or []),
        parameters=dict(expect.get("parameters") or {}),
        attributes=dict(expect.get("attributes") or {}),
    )


def files_text(directory: Path, name: str) -> str:
    return (directory / name).read_text(encoding="utf-8")


def build_case(case: Case, catalog: FakeCatalog | None = None) -> StackDefinition:
    template = Template.load(case.template, case.files)
    param_types = {name: s.type for name, s in template.parameter_schemas().items()}
    env = merge_environment_files(case.environment_files, case.files, param_types=param_types)
    if case.parameters:
        env = env.with_parameters(case.parameters)
    return define(
        template,
        env,
        identity=StackIdentity(stack_name="corpus", stack_id="c0ffee", project_id="demo"),
        catalog=catalog or FakeCatalog(),
        require_parameters=True,
    )


CASES = [p.name for p in corpus_dirs()]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= MIN_CORPUS_SIZE
    expectations = [load_case(CORPUS / name).valid for name in CASES]
    assert expectations.count(False) >= 8
    assert expectations.count(True) >= 20


def test_corpus_covers_every_version() -> None:
    seen = set()
    for name in CASES:
        case = load_case(CORPUS / name)
        if case.valid:
            seen.add(Template.load(case.template).version.name)
    assert {v.name for v in VERSIONS} <= seen


@pytest.mark.parametrize("name", CASES)
def test_corpus(name: str) -> None:
    case = load_case(CORPUS / name)
    try:
        defn = build_case(case)
    except EmberError as exc:
        # Refused before a definition exists (bad version, bad environment): a 400.
        assert not case.valid, f"{name}: {exc.message}"
        defn, messages = None, [exc.message]
    else:
        messages = defn.diags.messages()
        for diag in defn.diags:
            assert diag.message, f"empty diagnostic at {diag.path}"
    if case.valid:
        assert defn is not None
        assert messages == [], "\n".join(messages)
        check_resolves(defn, case.attributes)
        return
    assert messages, "expected the stack to be invalid"
    assert case.errors, f"{name}: an invalid case must list the errors it expects"
    text = "\n".join(messages)
    for expected in case.errors:
        assert expected in text, f"{expected!r} not in:\n{text}"
    if defn is not None:
        with pytest.raises(EmberError):
            defn.diags.raise_if_errors()


def check_resolves(defn: StackDefinition, attributes: dict[str, Any]) -> None:
    """A valid stack's properties and outputs compute against a fake set of resources."""
    fake = FakeResources({tuple(k.split(".", 1)): v for k, v in attributes.items()})
    ctx = defn.resolve_context(fake)
    for rd in defn.resources.values():
        assert isinstance(rd.resolved_properties(ctx), dict)
        rd.resolved_metadata(ctx)
    for value in defn.resolve_outputs(ctx):
        assert value.error is None, f"output {value.name}: {value.error}"
    assert not defn.graph().cycles()
