"""A property-based fuzzer over the workflow file format: whatever a file holds,
loading it gives a workflow or a WorkflowFileError listing the problems, and
checking a loaded workflow gives problems, never a traceback.

Mutations start from shipped examples and replace, delete or insert values
anywhere in the document with arbitrary JSON (huge and negative numbers,
deep nesting, long and odd text, wrong types). AXON_FUZZ_EXAMPLES sets the
number of cases per example (CI runs the default; a longer run finds more).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.engine import check_workflow
from studio.workflow import WorkflowFileError, loads, workflow_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOCUMENTS = {name: json.loads((EXAMPLES / f"{name}.axon.json").read_text())
             for name in ("housing_regression", "text_classification")}
CASES = int(os.environ.get("AXON_FUZZ_EXAMPLES", "400"))

_text = st.one_of(st.text(max_size=40), st.sampled_from(
    ["", "data", "split", "x" * 5000, "\ud800", "nodes", "../../etc/passwd", "a.b", " "]))
_numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([10**400, -1, 0, 2**63, 1e308]))
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _text)
_json = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(_text, children, max_size=4)),
    max_leaves=12)


def _paths(value: Any) -> list[tuple]:
    """Every path to a value inside a JSON document (the first 30 levels)."""
    found, stack = [], [((), value)]
    while stack:
        prefix, item = stack.pop()
        found.append(prefix)
        if len(prefix) >= 30:
            continue
        if isinstance(item, dict):
            stack.extend(((*prefix, key), child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend(((*prefix, index), child) for index, child in enumerate(item))
    return sorted(found, key=repr)


@st.composite
def mutated(draw: st.DrawFn, document: dict) -> Any:
    result: Any = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(result)
        path = draw(st.sampled_from(paths))
        replacement = draw(_json)
        action = draw(st.sampled_from(["replace", "delete", "insert", "nest"]))
        if not path:
            result = replacement if action == "replace" else result
            continue
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "replace":
            parent[key] = replacement
        elif action == "delete":
            del parent[key]
        elif action == "nest":  # the last mutation: deeper values are not walked again
            value: Any = parent[key]
            for _ in range(draw(st.sampled_from([3, 70, 1500]))):
                value = [value]
            parent[key] = value
            break
        elif isinstance(parent, list):
            parent.insert(key, replacement)
        else:
            parent[draw(_text)] = replacement
    return result


def _verdict(document: Any) -> None:
    try:
        text = json.dumps(document)
    except (ValueError, RecursionError):
        return  # not expressible as a file
    try:
        workflow = loads(text)
    except WorkflowFileError as error:
        assert error.problems and str(error)
        return
    check_workflow(workflow)  # problems are returned, never raised


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_any_mutation_of_a_workflow_file_gets_a_verdict(name):
    @settings(max_examples=CASES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(DOCUMENTS[name]))
    def check(document: Any) -> None:
        _verdict(document)

    check()


@settings(max_examples=CASES // 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_any_json_value_as_a_document_gets_a_verdict(document):
    _verdict(document)
    with contextlib.suppress(WorkflowFileError):
        workflow_from_dict(document)


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "1e999999", "\x00", '{"a": 1}' * 3,
                                  '"' + "x" * 100_000 + '"'])
def test_text_that_is_not_a_workflow_gets_a_verdict(text):
    with pytest.raises(WorkflowFileError):
        loads(text)
