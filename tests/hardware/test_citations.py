"""Every hardware constant has a source, a status and its row in docs/hardware.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nodes.hardware.registry import registered_backends
from nodes.hardware.sources import (
    CONSTANT_STATUSES,
    CONSTANTS,
    SOURCES,
    constant_row,
    source_row,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "hardware.md"
BACKENDS = ("spinnaker", "graphcore", "pcm", "tensai")
registered_backends()          # imports every backend module, so every constant is declared


@pytest.fixture(scope="module")
def docs() -> list[str]:
    return DOCS.read_text().splitlines()


def test_every_backend_declares_its_constants(docs):
    for backend in BACKENDS:
        assert any(name.startswith(backend + ".") for name in CONSTANTS), backend


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_a_constant_has_a_source_a_status_and_its_row_in_the_docs(name, docs):
    constant = CONSTANTS[name]
    assert constant.status in CONSTANT_STATUSES
    if constant.status in ("derived", "estimate"):
        assert constant.note, f"{name}: a {constant.status} figure says how it is obtained"
    else:
        assert constant.source in SOURCES, f"{name} cites no known source"
    assert constant_row(constant) in docs, (
        f"docs/hardware.md has no up-to-date row for {name}; it should read:\n"
        f"{constant_row(constant)}")


def test_the_docs_list_no_constant_the_code_does_not_have(docs):
    named = {m.group(1) for line in docs
             if (m := re.match(r"^\| `([a-z0-9_]+\.[a-z0-9_]+)` \|", line))}
    assert named <= set(CONSTANTS), sorted(named - set(CONSTANTS))


def test_every_source_is_listed_with_where_to_find_it(docs):
    for source in SOURCES.values():
        assert source.locator and source.citation and source.short
        assert re.search(r"doi:|arXiv:|github\.com/|\.org|\.com|\.ai|IEEE Std|IEC|HARDWARE\.md",
                         source.locator), source.key
        assert source_row(source) in docs, f"docs/hardware.md lacks the source {source.key}"


def test_every_assumption_of_a_default_report_rests_on_something_real(iris_model, iris_split):
    from nodes.hardware.graphcore import RunOnGraphcore
    from nodes.hardware.pcm import RunOnPCM
    from nodes.hardware.spinnaker import RunOnSpiNNaker
    from nodes.hardware.tensai import RunOnTensai
    from nodes.testing import run_node

    citations = {s.citation for s in SOURCES.values()}
    notes = {c.note for c in CONSTANTS.values()}
    for node, params in ((RunOnSpiNNaker, {"timesteps": 20, "sweep_timesteps": []}),
                         (RunOnGraphcore, {"max_batch": 4}), (RunOnPCM, {"drift_sweep": False}),
                         (RunOnTensai, {})):
        report = run_node(node, params, model=iris_model, data=iris_split["test"])["report"]
        for assumption in report.assumptions:
            grounded = (assumption.source in citations or assumption.source in notes
                        or assumption.status in ("setting", "modelling choice"))
            assert grounded, (node.title, assumption)
