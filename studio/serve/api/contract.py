"""The OpenAPI description of one bundle's requests and answers, from its manifest.

The examples come from the manifest's example, which Prepare makes up
(column medians rounded, categories, placeholder text): never a training
row, since the document is shown to every client.
"""

from __future__ import annotations

from typing import Any

_NUMBER_TYPES = {"float64": "number", "float32": "number", "int64": "integer",
                 "int32": "integer"}


def input_record(manifest: dict[str, Any]) -> dict[str, Any]:
    """The schema of one request record."""
    properties = {}
    for entry in manifest.get("input_schema", []):
        dtype = entry["dtype"]
        if dtype in _NUMBER_TYPES:
            kinds = [_NUMBER_TYPES[dtype], "string"]
            text = f"{dtype}: a JSON number, or a number in a string (\"5.1\")"
        elif dtype == "bool":
            kinds = ["boolean", "string", "integer"]
            text = "bool: true/false, 'true'/'false'/'yes'/'no', or 1/0"
        else:
            kinds = ["string", "number", "boolean"]
            text = f"{dtype}: text"
        if not entry["required"]:
            kinds.append("null")
            text += "; optional"
        properties[entry["name"]] = {"type": kinds, "description": text}
    schema: dict[str, Any] = {
        "type": "object", "properties": properties,
        "required": [e["name"] for e in manifest.get("input_schema", []) if e["required"]]}
    if manifest.get("unknown_columns", "reject") == "reject":
        schema["additionalProperties"] = False
    return schema


def output_record(manifest: dict[str, Any]) -> dict[str, Any]:
    """The schema of one answer record (a missing score is null)."""
    properties = {}
    for entry in manifest.get("output_schema", []):
        kind = _NUMBER_TYPES.get(entry["dtype"], "boolean" if entry["dtype"] == "bool"
                                 else "string")
        properties[entry["name"]] = {"type": [kind, "null"]}
    return {"type": "object", "properties": properties}


def example_request(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict((manifest.get("example") or {}).get("request") or {})


def example_response(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict((manifest.get("example") or {}).get("response") or {})


def global_parameters(manifest: dict[str, Any]) -> dict[str, Any]:
    described = manifest.get("global_parameters") or []
    return {"type": "object", "description": "Node parameters a request may set: " + (
        ", ".join(f"'{p['name']}' ({p['help']})" for p in described) or "none"),
            "properties": {p["name"]: {} for p in described},
            "additionalProperties": False}


def modern_request(manifest: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["records"], "properties": {
        "records": {"type": "array", "minItems": 1, "items": input_record(manifest)},
        "global_parameters": global_parameters(manifest)}}


def modern_answer(manifest: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["results"], "properties": {
        "results": {"type": "array", "items": output_record(manifest)}}}


def classic_table(manifest: dict[str, Any], *, strings: bool = True) -> dict[str, Any]:
    return {"type": "object", "required": ["ColumnNames", "Values"], "properties": {
        "ColumnNames": {"type": "array", "items": {"type": "string"}},
        "ColumnTypes": {"type": "array", "items": {"type": "string"},
                        "description": "Numeric, Boolean or String (details=true only)"},
        "Values": {"type": "array", "items": {"type": "array", "items": {
            "type": ["string", "null"] if strings else ["string", "number", "boolean",
                                                          "null"]}}}}}


def classic_request(manifest: dict[str, Any], *, batch: bool = False) -> dict[str, Any]:
    forms: list[dict[str, Any]] = [classic_table(manifest, strings=False),
                                   {"type": "array", "items": input_record(manifest)}]
    if batch:
        forms.append({"type": "object", "required": ["RelativeLocation"], "properties": {
            "RelativeLocation": {"type": "string", "description": "a CSV file under the "
                                 "server's --data-dir"}}})
    schema: dict[str, Any] = {"type": "object", "required": ["Inputs"], "properties": {
        "Inputs": {"type": "object", "required": ["input1"], "additionalProperties": False,
                   "properties": {"input1": {"oneOf": forms}}},
        "GlobalParameters": global_parameters(manifest)}}
    if batch:
        schema["properties"]["Outputs"] = {"type": "object", "properties": {"output1": {
            "type": "object", "properties": {"RelativeLocation": {"type": "string"}}}}}
    return schema


def classic_answer(manifest: dict[str, Any]) -> dict[str, Any]:
    record = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
    return {"type": "object", "required": ["Results"], "properties": {"Results": {
        "type": "object", "properties": {"output1": {"oneOf": [
            {"type": "object", "properties": {"type": {"const": "DataTable"},
                                              "value": classic_table(manifest)}},
            {"type": "array", "items": record}]}}}}}


def classic_example(manifest: dict[str, Any]) -> dict[str, Any]:
    request = example_request(manifest)
    return {"Inputs": {"input1": {"ColumnNames": list(request),
                                  "Values": [[str(v) for v in request.values()]]}},
            "GlobalParameters": {}}


def classic_answer_example(manifest: dict[str, Any]) -> dict[str, Any]:
    response = example_response(manifest)
    return {"Results": {"output1": {"type": "DataTable", "value": {
        "ColumnNames": list(response),
        "Values": [[None if v is None else repr(v) if isinstance(v, float) else str(v)
                    for v in response.values()]]}}}}


def body(schema: dict[str, Any], example: Any, *, csv: bool = False) -> dict[str, Any]:
    """``openapi_extra`` declaring a route's request body."""
    content: dict[str, Any] = {"application/json": {"schema": schema, "example": example}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"},
                               "example": ",".join(example["records"][0]) + "\n" + ",".join(
                                   str(v) for v in example["records"][0].values()) + "\n"}
    return {"requestBody": {"required": True, "content": content}}


def answer(schema: dict[str, Any], example: Any, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema, "example": example}}}


JOB = {"type": "object", "properties": {
    "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    "status": {"enum": ["not_started", "queued", "running", "succeeded", "failed",
                        "cancelled"]},
    "rows": {"type": "integer"}, "created": {"type": "string"},
    "started": {"type": ["string", "null"]}, "finished": {"type": ["string", "null"]},
    "expires": {"type": "string", "description": "when the job and its result are deleted"},
    "error": {"type": ["string", "null"]}}}

CLASSIC_JOB = {"type": "object", "properties": {
    "StatusCode": {"enum": ["NotStarted", "Running", "Failed", "Cancelled", "Finished"]},
    "Results": {"type": ["object", "null"]}, "Details": {"type": ["string", "null"]},
    "CreatedAt": {"type": "string"}, "StartTime": {"type": ["string", "null"]},
    "EndTime": {"type": ["string", "null"]}}}
