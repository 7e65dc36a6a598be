"""The OpenAPI document: well formed, complete, and true to what the endpoints answer.

openapi-spec-validator is not a dependency, so the structure is checked by hand here, and
each endpoint's answer is checked against its documented schema by a small validator for
the parts of JSON Schema the document uses.
"""

from __future__ import annotations

import re

import pytest

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


@pytest.fixture()
def document(client):
    response = client.get("/api/openapi.json")  # public: no token
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _resolve(document, ref):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _openapi_path(rule):
    """/api/v1/indicators/<key> -> /api/v1/indicators/{key}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_openapi_3_1_with_bearer_security(document):
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]
    assert "null" in document["info"]["description"]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]
    for ref in _refs(document):
        _resolve(document, ref)


def test_every_operation_is_complete(document):
    operation_ids = []
    for path, item in document["paths"].items():
        assert path.startswith("/api/")
        template_names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS, (path, method)
            operation_ids.append(operation["operationId"])
            assert operation["summary"] and "200" in operation["responses"]
            for response in operation["responses"].values():
                response = _resolve(document, response["$ref"]) if "$ref" in response else response
                assert response["description"]
            parameters = [
                _resolve(document, p["$ref"]) if "$ref" in p else p
                for p in operation.get("parameters", [])
            ]
            for parameter in parameters:
                assert parameter["in"] in {"query", "path", "header", "cookie"}
                assert parameter["name"] and "schema" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
            path_names = {p["name"] for p in parameters if p["in"] == "path"}
            assert path_names == template_names, path
            if path.startswith("/api/v1/"):
                assert {"year", "round", "age_band", "group"} <= {p["name"] for p in parameters}
                assert {"200", "400", "401", "404", "429"} <= set(operation["responses"])
                assert "security" not in operation  # the global bearer requirement applies
    assert len(operation_ids) == len(set(operation_ids))


def test_every_api_route_is_documented_and_nothing_else(app, document):
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    assert any(path.startswith("/api/v1/") for path, _method in routes)


def _check(document, schema, value, where="$", named=False):
    """Raise AssertionError where ``value`` does not fit ``schema`` (the subset we use).

    A named schema (reached through $ref) must document every field the value has.
    """
    if "$ref" in schema:
        return _check(document, _resolve(document, schema["$ref"]), value, where, named=True)
    for part in schema.get("allOf", []):
        _check(document, part, value, where)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        fits = [
            t
            for t in types
            if isinstance(value, _TYPES[t])
            and not (t in ("integer", "number") and value is True)
            and not (t in ("integer", "number") and value is False)
        ]
        assert fits, f"{where}: {value!r} is not {types}"
    if value is None:
        return None
    if "enum" in schema:
        assert value in schema["enum"], where
    if "const" in schema:
        assert value == schema["const"], where
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value), where
        assert value <= schema.get("maximum", value), where
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{where}: {name} missing"
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                _check(document, properties[name], item, f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{where}: {name} is not documented")
        if named and properties:
            # Every field an answer carries is documented.
            assert set(value) <= set(properties), f"{where}: {set(value) - set(properties)}"
    if isinstance(value, list) and "items" in schema:
        for number, item in enumerate(value):
            _check(document, schema["items"], item, f"{where}[{number}]")
    return None


def test_every_answer_fits_its_documented_schema(
    app, document, answered, council, token_for, api_get
):
    token = token_for(council)
    checked = 0
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path.replace("{key}", "feel_safe")
        for query in ({}, {"group": answered["tiny"].id, "age_band": "8-11"}):
            response = api_get(url, token, **query)
            assert response.status_code == 200
            schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            _check(document, schema, response.get_json())
            checked += 1
        bad = api_get(url, token, year="abc")
        assert bad.status_code == 400
        error_schema = _resolve(document, item["get"]["responses"]["400"]["$ref"])
        _check(document, error_schema["content"]["application/json"]["schema"], bad.get_json())
        refused = api_get(url, None)
        assert refused.status_code == 401
        _check(document, {"$ref": "#/components/schemas/Error"}, refused.get_json())
    assert checked == 10


def test_the_checker_notices_a_wrong_answer(document):
    row = {
        "key": "feel_safe",
        "figure_key": "question:feel_safe@y-.r-.b-.g-",
        "text": "Do you feel safe?",
        "base": 3.5,
        "share": None,
    }
    with pytest.raises(AssertionError):
        _check(document, {"$ref": "#/components/schemas/Indicator"}, row)
    with pytest.raises(AssertionError):
        _check(document, {"$ref": "#/components/schemas/Indicator"}, {**row, "base": 35, "x": 1})
    _check(document, {"$ref": "#/components/schemas/Indicator"}, {**row, "base": 35})
