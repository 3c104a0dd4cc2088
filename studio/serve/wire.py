"""Request bodies: the modern and classic JSON forms, read with bounded memory.

    request = parse_modern(body, schema)        # {"records": [...], "global_parameters": {}}
    request = parse_classic(body, schema)       # {"Inputs": {"input1": ...}, "GlobalParameters"}
    for table in request.tables(schema, unknown_columns):   # RequestTable parts, in order
        ...

A body up to ``WHOLE_BODY_LIMIT`` (256 KiB) is parsed by ``json.loads``
at once: fast, and at most a few MiB of Python objects. A larger one is
never turned into Python objects all at once (a 16 MiB body of ``[{},
{}, ...]`` would make half a gigabyte of them): a scanner finds the
envelope's parts and the rows array with regular expressions over the
bytes, then the rows are decoded in slices of about ``PART_BYTES``, each
checked into a typed ``RequestTable`` before the next is read. Values
are scalars, so a row is a flat JSON object or array that one expression
recognises; a row that is not flat is an error whatever it holds, and is
read only at its top level (its nested values stand as
``schema.Nested``) to say which column is wrong.

Both ways give the same tables and the same first error
(tests/serve/test_wire.py checks them against each other); malformed
JSON is a 400 either way, though the two may describe it differently. A
body nested deeper than ``json.loads`` goes is read by the scanner too
(it walks with an explicit stack), and the scanner's work on nested
values is bounded (``MAX_NESTED_STEPS``).
Every problem is a ``ServiceError`` (400/413) or a ``RequestDataError``
(422) naming the field; nothing else escapes.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.serve.errors import RequestDataError, ServiceError
from studio.serve.schema import Nested, RequestTable, table_from_records, table_from_rows

WHOLE_BODY_LIMIT = 256 * 1024
PART_BYTES = 256 * 1024
#: A row larger than this is refused (a record holds one value per input column).
ROW_LIMIT = 1024 * 1024
#: Any part of the body other than the rows (GlobalParameters, ColumnNames...).
SMALL_VALUE_LIMIT = 64 * 1024
#: Values inside values the scanner steps through one by one (rows are flat, so a
#: real request needs a handful); past this a body is refused, its cost bounded.
MAX_NESTED_STEPS = 200_000
CLASSIC_INPUT = "input1"
CLASSIC_OUTPUT = "output1"

_W = rb"[ \t\n\r]*+"
_STRING = rb'"(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"'
_NUMBER = rb"-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+"
_SCALAR = rb"(?:" + _STRING + rb"|" + _NUMBER + rb"|true|false|null)"
_FLAT_ARRAY = (rb"\[" + _W + rb"(?:" + _SCALAR + _W + rb"(?:," + _W + _SCALAR + _W
               + rb")*+)?+\]")
_PAIR = _STRING + _W + rb":" + _W + _SCALAR + _W
_FLAT_OBJECT = rb"\{" + _W + rb"(?:" + _PAIR + rb"(?:," + _W + _PAIR + rb")*+)?+\}"
_ITEM = rb"(?:" + _SCALAR + rb"|" + _FLAT_ARRAY + rb"|" + _FLAT_OBJECT + rb")"

_WS_RE = re.compile(_W)
_STRING_RE = re.compile(_STRING)
_NUMBER_RE = re.compile(_NUMBER)
_FLAT_RE = re.compile(_ITEM)
#: An array of flat items, whole.
_FLAT_ITEMS_RE = re.compile(rb"\[" + _W + rb"(?:" + _ITEM + _W + rb"(?:," + _W + _ITEM + _W
                            + rb")*+)?+\]")
#: As many whole "item," (or "item" before the closing bracket) as fit in a window;
#: group 1 ends where the last item does.
_ROWS_RE = re.compile(rb"(?:(" + _ITEM + rb")" + _W + rb"(?:," + _W + rb"|(?=\])))*+")


@dataclass
class Rows:
    """The rows of a request, not yet checked: records, or the classic table's rows."""

    parts: Any  # () -> iterator of (first row, list of rows), in the order sent
    names: list[str] | None = None  # the classic ColumnNames; None: records
    optional_names: set[str] | None = None  # optional columns named anywhere (large bodies)
    in_parts: bool = False  # read by the scanner: the rows may come in several parts

    def tables(self, schema: Sequence[dict[str, Any]], unknown_columns: str
               ) -> Iterator[RequestTable]:
        """The checked tables of the parts, in order; raises the first problem."""
        seen = 0
        for first_row, items in self.parts():
            if self.names is None:
                yield table_from_records(items, schema, unknown_columns, first_row=first_row,
                                         optional_names=self.optional_names)
            else:
                yield table_from_rows(self.names, items, schema, unknown_columns,
                                      first_row=first_row)
            seen += len(items)
        if not seen:
            if self.names is None:
                raise RequestDataError("the request has no records: send a non-empty list "
                                       "of {column: value} objects.")
            raise RequestDataError("the request has no rows: 'Values' is empty.")


@dataclass
class Request:
    """A parsed request body: its rows and the other fields of its form."""

    rows: Rows | None
    global_parameters: dict[str, Any] | None = None
    location: str | None = None  # classic batch input: a file under --data-dir
    output_location: str | None = None  # classic batch output file
    records_form: bool = False  # classic: the input was a list of records (swagger form)
    extra: dict[str, Any] = field(default_factory=dict)


def parse_modern(body: bytes, schema: Sequence[dict[str, Any]]) -> Request:
    """``{"records": [...], "global_parameters": {...}}``."""
    document = _Document(body, schema)
    top = document.top()
    if "records" not in top:
        raise RequestDataError('the body must be {"records": [{column: value}, ...]}.')
    return Request(document.rows(top["records"], None, "records"),
                   _global_parameters(document.value(top.get("global_parameters"),
                                                     "global_parameters")))


def parse_classic(body: bytes, schema: Sequence[dict[str, Any]], *,
                  batch: bool = False) -> Request:
    """The Azure ML Studio (classic) forms: ``{"Inputs": {"input1": TABLE or RECORDS},
    "GlobalParameters": {...}}``, and for batch jobs ``{"RelativeLocation": ...}``
    inputs and ``Outputs``."""
    document = _Document(body, schema)
    top = document.top()
    form = ('{"Inputs": {"input1": {"ColumnNames": [...], "Values": [[...]]}}, '
            '"GlobalParameters": {}}')
    if "Inputs" not in top:
        raise RequestDataError(f"the body must be {form}.")
    inputs = document.members(top["Inputs"], "Inputs")
    if inputs is None:
        raise RequestDataError(f"'Inputs' must be an object: {form}.")
    others = sorted(name for name in inputs if name != CLASSIC_INPUT)
    if others:
        named = ", ".join(repr(n) for n in others[:5])
        raise RequestDataError(
            f"the service has one input, {CLASSIC_INPUT!r}; the request names {named}.",
            fix=f"Send the rows as 'Inputs': {{'{CLASSIC_INPUT}': ...}} (the name the "
                "service's Web Service Input is published under).")
    if CLASSIC_INPUT not in inputs:
        raise RequestDataError(f"'Inputs' names no input; send {form}.")
    request = Request(None, _global_parameters(
        document.value(top.get("GlobalParameters"), "GlobalParameters")))
    source = inputs[CLASSIC_INPUT]
    if document.is_array(source):
        request.rows = document.rows(source, None, f"Inputs.{CLASSIC_INPUT}")
        request.records_form = True
    else:
        table = document.members(source, f"Inputs.{CLASSIC_INPUT}")
        if table is None:
            raise RequestDataError(f"'{CLASSIC_INPUT}' must be {{\"ColumnNames\": [...], "
                                   "\"Values\": [[...]]} or a list of {column: value} "
                                   "records.")
        if batch and "RelativeLocation" in table:
            request.location = document.value(table["RelativeLocation"], "RelativeLocation")
        elif "ColumnNames" in table:
            names = document.value(table["ColumnNames"], "ColumnNames",
                                   limit=SMALL_VALUE_LIMIT + 256 * len(schema))
            if "Values" not in table:
                raise RequestDataError(f"'{CLASSIC_INPUT}' has 'ColumnNames' but no 'Values'.")
            if type(names) is not list or not all(type(n) is str for n in names):
                raise RequestDataError("'ColumnNames' must be a list of column names (text).")
            request.rows = document.rows(table["Values"], names, "Values")
        else:
            raise RequestDataError(f"'{CLASSIC_INPUT}' must be {{\"ColumnNames\": [...], "
                                   "\"Values\": [[...]]} or a list of {column: value} "
                                   "records.")
    if batch and "Outputs" in top:
        outputs = document.value(top["Outputs"], "Outputs")
        target = outputs.get(CLASSIC_OUTPUT) if isinstance(outputs, dict) else None
        if isinstance(target, dict) and target.get("RelativeLocation"):
            request.output_location = target["RelativeLocation"]
    return request


def loads(data: bytes | str, what: str = "the body") -> Any:
    """``json.loads`` with the service's refusals: NaN/Infinity (not JSON), nesting
    beyond Python's limit, text that is not UTF-8."""
    try:
        return json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise _bad_json(what, "it is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        if isinstance(error, json.JSONDecodeError):
            reason = error.msg
        elif isinstance(error, UnicodeDecodeError):
            reason = "it is not UTF-8"
        else:  # e.g. a whole number of more than 4300 digits
            reason = str(error)[:200]
        raise _bad_json(what, reason) from None


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not a JSON number", constant, 0)


def _bad_json(what: str, reason: str) -> ServiceError:
    return ServiceError(400, "BadArgument", f"{what} is not valid JSON: {reason}.",
                        fix="Send a JSON document (UTF-8) in the form the endpoint shows in "
                            "/openapi.json.")


def _check_utf8(body: bytes | bytearray) -> None:
    """Refuse a body that is not UTF-8 as json.loads would, a slice at a time (decoding
    it whole would hold up to four times its size as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    view = memoryview(body)
    try:
        for start in range(0, len(body), 1 << 20):
            decoder.decode(view[start:start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _bad_json("the body", "it is not UTF-8") from None


def _global_parameters(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestDataError("global parameters must be an object {name: value}.")
    return value or None


# -- the two ways of reading a body ------------------------------------------------

class _Document:
    """A body, read whole (small) or by the scanner (large); the same questions either way.

    Positions are either Python values (whole) or ``_Span`` (scanned)."""

    def __init__(self, body: bytes, schema: Sequence[dict[str, Any]]) -> None:
        if body[:4].count(0) or body.startswith(b"\xef\xbb\xbf"):
            raise _bad_json("the body", "it is not UTF-8 without a byte order mark")
        self.body = body
        self.schema = schema
        self.part_bytes = PART_BYTES  # read now: tests make them small to exercise the scanner
        self.whole = len(body) <= WHOLE_BODY_LIMIT
        self.scanner = _Scanner(body)
        if not self.whole:
            _check_utf8(body)  # json.loads checks a whole body before anything else

    def top(self) -> dict[str, Any]:
        if self.whole:
            try:
                document = json.loads(self.body, parse_constant=_not_json)
            except RecursionError:
                # Deeper than json.loads goes: read it as a large body is read, so that
                # the answer does not depend on the size of the body.
                self.whole = False
                return self.top()
            except ValueError:
                document = loads(self.body)  # raises the refusal
            if not isinstance(document, dict):
                raise RequestDataError("the body must be a JSON object.")
            return document
        members = self.scanner.members(_Span(self.scanner.skip_ws(0), len(self.body)),
                                       "the body", top=True)
        if members is None:
            raise RequestDataError("the body must be a JSON object.")
        return members

    def members(self, value: Any, what: str) -> dict[str, Any] | None:
        """An object's members (None when it is not an object)."""
        if isinstance(value, _Span):
            return self.scanner.members(value, what)
        return value if isinstance(value, dict) else None

    def is_array(self, value: Any) -> bool:
        if isinstance(value, _Span):
            return self.body[value.start:value.start + 1] == b"["
        return isinstance(value, list)

    def value(self, value: Any, what: str, limit: int = SMALL_VALUE_LIMIT) -> Any:
        """A small part of the body, as Python values."""
        if not isinstance(value, _Span):
            return value
        if value.end - value.start > limit:
            raise ServiceError(413, "PayloadTooLarge", f"the body's '{what}' is larger than "
                               f"{limit // 1024} KiB; only the rows may be that large.")
        return loads(self.body[value.start:value.end], f"the body's '{what}'")

    def rows(self, value: Any, names: list[str] | None, what: str) -> Rows:
        if not isinstance(value, _Span):
            if type(value) is not list:
                if names is None:
                    raise RequestDataError("the request has no records: send a non-empty "
                                           "list of {column: value} objects.")
                raise RequestDataError("'Values' must be a list of rows.")
            return Rows(lambda: iter([(0, value)] if value else []), names)
        if self.body[value.start:value.start + 1] != b"[":
            if names is None:
                raise RequestDataError("the request has no records: send a non-empty list "
                                       "of {column: value} objects.")
            raise RequestDataError("'Values' must be a list of rows.")
        optional = None
        if names is None:
            optional = self._optional_names(value)
        return Rows(lambda: self.scanner.parts(value, self.part_bytes), names, optional, True)

    def _optional_names(self, span: _Span) -> set[str]:
        """Optional columns any record may name: those whose JSON spelling occurs in the
        rows (all of them when escapes could spell a name another way)."""
        optional = [e["name"] for e in self.schema if not e["required"]]
        if self.body.find(b"\\u", span.start, span.end) >= 0:
            return set(optional)
        return {name for name in optional
                if self.body.find(json.dumps(name).encode(), span.start, span.end) >= 0}


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


class _Scanner:
    """Finds the parts of a JSON body with regular expressions over its bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.steps = 0

    def skip_ws(self, pos: int) -> int:
        return _WS_RE.match(self.data, pos).end()

    def members(self, span: _Span, what: str, *, top: bool = False) -> dict[str, Any] | None:
        """{key: _Span} of the object at ``span`` (the last of a repeated key wins, as in
        json.loads), or None when it is not an object."""
        data = self.data
        pos = span.start
        if data[pos:pos + 1] != b"{":
            if top:  # malformed JSON is a 400 first, as json.loads would say
                end = self.skip_ws(self.skip_value(pos, len(data)))
                if end != len(data):
                    raise self._syntax(end, "extra data after the JSON document")
            return None
        members: dict[str, Any] = {}
        pos = self.skip_ws(pos + 1)
        if data[pos:pos + 1] == b"}":
            pos += 1
        else:
            while True:
                key, pos = self._key(pos)
                start = pos
                pos = self.skip_value(pos, len(data))
                members[key] = _Span(start, pos)
                pos = self.skip_ws(pos)
                mark = data[pos:pos + 1]
                pos += 1
                if mark == b"}":
                    break
                if mark != b",":
                    raise self._syntax(pos - 1, "expecting ',' or '}'")
                pos = self.skip_ws(pos)
        if top and self.skip_ws(pos) != len(data):
            raise self._syntax(pos, "extra data after the JSON document")
        return members

    def _key(self, pos: int) -> tuple[str, int]:
        match = _STRING_RE.match(self.data, pos)
        if match is None:
            raise self._syntax(pos, "expecting a property name in double quotes")
        key = loads(match.group(), "a property name")
        pos = self.skip_ws(match.end())
        if self.data[pos:pos + 1] != b":":
            raise self._syntax(pos, "expecting ':' delimiter")
        return key, self.skip_ws(pos + 1)

    def skip_value(self, pos: int, budget: int) -> int:
        """The end of the JSON value at ``pos``, found without decoding it.

        Flat values take one regular expression; nested ones are walked with an
        explicit stack (no recursion, so no depth at which it fails), each element
        counted against MAX_NESTED_STEPS and the extent against ``budget``."""
        data, start = self.data, pos
        closers: list[bytes] = []
        while True:
            match = _FLAT_RE.match(data, pos)
            if match is None and data[pos:pos + 1] == b"[":
                match = _FLAT_ITEMS_RE.match(data, pos)
            if match is not None:
                pos = match.end()
            else:
                opening = data[pos:pos + 1]
                if opening not in (b"[", b"{"):
                    raise self._syntax(pos, "expecting a value")
                closers.append(b"]" if opening == b"[" else b"}")
                self._step()
                pos = self.skip_ws(pos + 1)
                if data[pos:pos + 1] == closers[-1]:
                    pos += 1
                    closers.pop()
                else:
                    if opening == b"{":
                        _, pos = self._key(pos)
                    continue  # the container's first value
            # After a value: close what ends here, or go on to the next value.
            while closers:
                pos = self.skip_ws(pos)
                mark = data[pos:pos + 1]
                if mark == closers[-1]:
                    closers.pop()
                    pos += 1
                    continue
                if mark != b",":
                    raise self._syntax(pos, f"expecting ',' or '{closers[-1].decode()}'")
                pos = self.skip_ws(pos + 1)
                if closers[-1] == b"}":
                    _, pos = self._key(pos)
                break
            if not closers:
                return pos
            self._step()
            if pos - start > budget:
                raise _TooLarge

    def _step(self) -> None:
        self.steps += 1
        if self.steps > MAX_NESTED_STEPS:
            raise ServiceError(413, "PayloadTooLarge", f"the body nests more than "
                               f"{MAX_NESTED_STEPS:,} values in arrays or objects; rows "
                               "must be flat (one value per column).")

    def parts(self, span: _Span, part_bytes: int) -> Iterator[tuple[int, list[Any]]]:
        """(first row, rows) slices of the array at ``span``."""
        data = self.data
        close = span.end - 1  # the array's ']'
        pos = self.skip_ws(span.start + 1)
        row = 0
        while pos < close:
            match = _ROWS_RE.match(data, pos, min(close + 1, pos + part_bytes))
            if match.end() > pos:
                piece = data[pos:match.end(1)]
                if match.end() == close and b"," in data[match.end(1):close]:
                    raise self._syntax(close, "expecting a value after ','")
                items = loads(b"[" + piece + b"]")
                yield row, items
                row += len(items)
                pos = match.end()
                continue
            item, end = self._one_row(pos, row)
            yield row, [item]
            row += 1
            pos = self.skip_ws(end)
            if data[pos:pos + 1] == b",":
                pos = self.skip_ws(pos + 1)
            elif pos != close:
                raise self._syntax(pos, "expecting ',' or ']'")

    def _one_row(self, pos: int, row: int) -> tuple[Any, int]:
        """A row that is not flat or larger than a part: flat ones whole, others only
        at their top level (nested values become ``Nested``)."""
        data = self.data
        match = _FLAT_RE.match(data, pos)
        try:
            end = match.end() if match else self.skip_value(pos, ROW_LIMIT)
        except _TooLarge:
            end = pos + ROW_LIMIT + 1
        if end - pos > ROW_LIMIT:
            raise ServiceError(413, "PayloadTooLarge", f"row {row} is larger than "
                               f"{ROW_LIMIT // 1024} KiB; a row holds one value per input "
                               "column.", fix="Send long texts in fewer, smaller rows.")
        if match:
            return loads(data[pos:end]), end
        opening = data[pos:pos + 1]
        closing = b"]" if opening == b"[" else b"}"
        shallow: Any = [] if opening == b"[" else {}
        pos = self.skip_ws(pos + 1)
        if data[pos:pos + 1] == closing:
            return shallow, pos + 1
        while True:
            key = None
            if opening == b"{":
                key, pos = self._key(pos)
            value_end = self.skip_value(pos, ROW_LIMIT)
            value = (loads(data[pos:value_end]) if _FLAT_RE.fullmatch(data, pos, value_end)
                     and data[pos:pos + 1] not in (b"[", b"{")
                     else Nested("list" if data[pos:pos + 1] == b"[" else "object"))
            if opening == b"{":
                shallow[key] = value
            else:
                shallow.append(value)
            pos = self.skip_ws(value_end)
            mark = data[pos:pos + 1]
            if mark == closing:
                return shallow, pos + 1
            if mark != b",":
                raise self._syntax(pos, f"expecting ',' or '{closing.decode()}'")
            pos = self.skip_ws(pos + 1)

    def _syntax(self, pos: int, reason: str) -> ServiceError:
        return _bad_json("the body", f"{reason} (at byte {pos})")


class _TooLarge(Exception):
    pass
