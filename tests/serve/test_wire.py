"""Issue 15, finding 5: every bad request is a 4xx naming the field, never a 500, and the
two ways of reading a body (whole, or scanned in parts) give the same answer.

Property-based (Hypothesis): bodies built from the request forms with hostile values
(1e308, 400-digit integers, lone surrogates, deep nesting, wrong types at every
level), then cut, flipped and padded at the byte level. ``AXON_FUZZ_REQUESTS`` sets
how many (default 2,000 in process, 1,000 read both ways, 600 over HTTP);
``AXON_FUZZ_NO_SHRINK=1`` reports a failure without shrinking it.
"""

from __future__ import annotations

import contextlib
import json
import os
import string
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from serve_helpers import CLASSIC, auth

from nodes.errors import StudioError
from studio.serve import wire
from studio.serve.api.classic import render_table
from studio.serve.api.modern import render_records
from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.schema import concat_tables
from studio.serve.service import Service, ServiceSettings

CASES = int(os.environ.get("AXON_FUZZ_REQUESTS", "2000"))
PHASES = [Phase.explicit, Phase.generate] if os.environ.get("AXON_FUZZ_NO_SHRINK") \
    else list(Phase)
HTTP_CASES = max(50, CASES * 3 // 10)
FUZZ = settings(max_examples=CASES, deadline=None, derandomize=True, phases=PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# -- strategies ------------------------------------------------------------------

_NASTY_NUMBERS = [1e308, -1e308, 5e-324, 1.7976931348623157e308, 0.0, -0.0, 2**53 + 1,
                  10**400, -(10**400), 10**20, 1e-300]
_NASTY_TEXT = ["", " ", "1_0", "١٢", "nan", "inf", "-Infinity", "1e400", "0x10", "1,5",
               " 17.99 ", "\ud800", "a\udfffb", "\x00", "true", "null", "M", "B"]
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
                     max_size=3)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**450), max_value=10**450),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_NASTY_NUMBERS),
    st.text(max_size=12), st.sampled_from(_NASTY_TEXT), surrogates,
    st.floats(min_value=-1e6, max_value=1e6).map(repr))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


def _column_names(schema: list[dict]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([e["name"] for e in schema]), st.text(max_size=8),
                     surrogates, st.just(""))


def _records(schema: list[dict], example: dict[str, Any]) -> st.SearchStrategy[list]:
    """Lists of records near the service's own: the example with values changed, columns
    dropped or added, and now and then something that is not a record at all."""
    names = [e["name"] for e in schema]

    @st.composite
    def record(draw: Any) -> Any:
        if draw(st.integers(0, 12)) == 0:
            return draw(json_values)
        value = dict(example) if draw(st.booleans()) else {}
        for name in draw(st.lists(st.sampled_from(names), max_size=4)):
            value[name] = draw(st.one_of(scalars, json_values))
        for name in draw(st.lists(_column_names(schema), max_size=2)):
            value[name] = draw(scalars)
        for name in draw(st.lists(st.sampled_from(names), max_size=2)):
            value.pop(name, None)
        if draw(st.booleans()):
            value = {k: (repr(v) if isinstance(v, float) else v) for k, v in value.items()}
        return value

    return st.lists(record(), max_size=6)


@st.composite
def bodies(draw: Any, schema: list[dict], example: dict[str, Any]) -> tuple[str, bytes]:
    """(form, body): 'modern' or 'classic' JSON, sometimes damaged bytes."""
    rows = draw(_records(schema, example))
    form = draw(st.sampled_from(["modern", "classic table", "classic records", "raw"]))
    extra = draw(st.one_of(st.none(), st.dictionaries(st.text(max_size=4), json_values,
                                                      max_size=2)))
    if form == "modern":
        document: Any = {"records": rows}
        if draw(st.booleans()):
            document["global_parameters"] = draw(json_values)
    elif form == "classic table":
        names = draw(st.one_of(st.just(list(example)), st.lists(_column_names(schema),
                                                                 max_size=5)))
        values = [[row.get(n) if isinstance(row, dict) else row for n in names]
                  for row in rows]
        if draw(st.integers(0, 5)) == 0:
            values = draw(json_values)
        table = {"ColumnNames": names, "Values": values}
        name = draw(st.sampled_from(["input1", "input1", "input2", "\ud800"]))
        document = {"Inputs": {name: table}, "GlobalParameters": {}}
        if draw(st.booleans()):
            document = {"Inputs": {name: dict(reversed(list(table.items())))}}
    elif form == "classic records":
        document = {"Inputs": {"input1": rows}, "GlobalParameters": draw(json_values)}
    else:
        document = draw(json_values)
    if isinstance(document, dict) and extra:
        document.update(extra)
    body = json.dumps(document, allow_nan=False).encode()
    damage = draw(st.integers(0, 9))
    if damage == 0:
        body = body[:draw(st.integers(0, len(body)))]
    elif damage == 1 and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1:]
    elif damage == 2:
        depth = draw(st.integers(60, 5000))
        body = b'{"records": [' + b"[" * depth + b"]" * depth + b"]}"
    return ("classic" if form.startswith("classic") else "modern"), body


# -- the request path in process -------------------------------------------------------

@pytest.fixture(scope="module")
def service(breast_cancer, signer) -> Service:
    from studio.serve import load_bundle

    return Service(load_bundle(breast_cancer.bundle_dir, trust_keys=signer.trusted),
                   ServiceSettings(), None)


def _answer(service: Service, form: str, body: bytes) -> tuple[str, Any]:
    """What a client would get: ("ok", answer bytes) or (status, message)."""
    schema = service.pipeline.schema
    try:
        if form == "modern":
            answers = service.answer(wire.parse_modern(body, schema))
            return "ok", render_records(answers, b'{"results":[', b"]}")
        parsed = wire.parse_classic(body, schema)
        answers = service.answer(parsed)
        if parsed.records_form:
            return "ok", render_records(answers, b"[", b"]")
        return "ok", render_table(answers, True)
    except ServiceError as error:
        assert 400 <= error.status < 500, error
        return str(error.status), "malformed" if error.status == 400 else str(error)
    except (RequestDataError, StudioError) as error:
        return "422", str(error)


@contextlib.contextmanager
def _scanned(part_bytes: int = 48) -> Iterator[None]:
    """Read every body with the scanner, in tiny parts."""
    saved = wire.WHOLE_BODY_LIMIT, wire.PART_BYTES
    wire.WHOLE_BODY_LIMIT, wire.PART_BYTES = 0, part_bytes
    try:
        yield
    finally:
        wire.WHOLE_BODY_LIMIT, wire.PART_BYTES = saved


def test_no_request_body_gets_anything_but_a_4xx_or_an_answer(service):
    schema, example = service.pipeline.schema, service.pipeline.example

    @FUZZ
    @given(bodies(schema, example))
    def check(case: tuple[str, bytes]) -> None:
        form, body = case
        outcome, detail = _answer(service, form, body)
        assert outcome in ("ok", "400", "413", "422"), (outcome, detail)
        if outcome == "ok":
            json.loads(detail)  # a valid JSON answer, whatever the rows held

    check()


def test_the_scanner_and_the_whole_body_parser_agree(service):
    """Large bodies are scanned in parts; small ones parsed whole. On the same body both
    give the same answer, or the same refusal (the same message, for a 422)."""
    schema, example = service.pipeline.schema, service.pipeline.example

    @settings(FUZZ, max_examples=max(50, CASES // 2))  # each case is read both ways
    @given(bodies(schema, example), st.sampled_from([1, 48, 300, 10**6]))
    def check(case: tuple[str, bytes], part_bytes: int) -> None:
        form, body = case
        whole = _answer(service, form, body)
        with _scanned(part_bytes):
            scanned = _answer(service, form, body)
        assert whole == scanned, (body[:300], whole, scanned)

    check()


def test_the_tables_of_both_ways_are_the_same(service):
    """Not only the answers: the parsed tables (what both scoring paths read) agree."""
    schema, example = service.pipeline.schema, service.pipeline.example
    rows = [dict(example, **{"mean radius": str(v)}) for v in (1, 2.5, "3", 4e-3)] * 40
    body = json.dumps({"records": rows}).encode()
    whole = concat_tables(list(wire.parse_modern(body, schema).rows.tables(schema, "reject")))
    with _scanned(200):
        parts = list(wire.parse_modern(body, schema).rows.tables(schema, "reject"))
    assert len(parts) > 10
    pd.testing.assert_frame_equal(concat_tables(parts), whole)


@pytest.mark.parametrize(("body", "status", "says"), [
    (json.dumps({"records": [{"mean radius": 1e308}]}), "422", "row 0"),
    ("{\"records\": [{\"mean radius\": " + "9" * 400 + "}]}", "422", "400-digit whole number"),
    ("{\"records\": [{\"mean radius\": " + "9" * 5000 + "}]}", "400", "malformed"),
    (json.dumps({"records": [{"\ud800": 1}]}), "422", "'\\ud800'"),
    ('{"records": ' + "[" * 500 + "]" * 500 + "}", "422",
     "row 0: a record must be a JSON object, not a list"),
    ('{"records": ' + "[" * 5000 + "]" * 5000 + "}", "422",  # deeper than json.loads goes
     "row 0: a record must be a JSON object, not a list"),
    ('{"records": ' + "[" * 150_000 + "]" * 150_000 + "}", "413", "nests more"),
    ('{"records": [], "junk": ' + "[" * 300_000 + "]" * 300_000 + "}", "413", "nests more"),
    ('{"records": [NaN]}', "400", "malformed"),
    ('{"records": [{"mean radius": Infinity}]}', "400", "malformed"),
    ("\ufeff{}", "400", "malformed"),
    ('{"records": {}}', "422", "no records"),
    ('{"Inputs": {"input2": []}}', "422", "'input2'"),
])
def test_the_issues_cases(service, body, status, says):
    form = "classic" if "Inputs" in body else "modern"
    data = body.encode("utf-8", "surrogatepass")
    for reading in (contextlib.nullcontext(), _scanned()):
        with reading:
            outcome, detail = _answer(service, form, data)
        assert outcome == status and says in detail, (outcome, detail)


# -- over HTTP: the whole stack, connection kept ---------------------------------------

def test_over_http_every_bad_request_is_a_4xx_in_the_error_shape(breast_cancer_server):
    pipeline = breast_cancer_server.bundle.pipeline
    schema, example = pipeline.schema, pipeline.example
    client = httpx.Client(base_url=breast_cancer_server.url, headers=auth(breast_cancer_server),
                          timeout=30)
    paths = st.one_of(st.text(string.ascii_letters + string.digits + "-._~%/", max_size=300),
                      st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")
                                               .hex()))

    @settings(FUZZ, max_examples=HTTP_CASES)
    @given(bodies(schema, example), paths, st.sampled_from(["score", "execute", "job",
                                                            "classic job"]))
    def check(case: tuple[str, bytes], job_id: str, where: str) -> None:
        form, body = case
        if where == "job":
            answer = client.get(f"/v1/jobs/{job_id}")
        elif where == "classic job":
            answer = client.get(f"{CLASSIC}/jobs/{job_id}?api-version=2.0")
        else:
            path = "/v1/score" if form == "modern" else CLASSIC + "/execute?api-version=2.0"
            answer = client.post(path, content=body,
                                 headers={"Content-Type": "application/json"})
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            error = answer.json()["error"]
            assert error["code"] and error["message"]
            assert answer.headers.get("connection") != "close"

    try:
        check()
    finally:
        client.close()
