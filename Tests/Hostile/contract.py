"""The contract (Sources/ReferenceServer/openapi.yaml) as the hostile suite reads it: every
operation with its parameters and body schema, whether a query value fits a parameter's schema,
and the fields of a JSON body, for hostile_test.py.
"""
import copy
import dataclasses
import datetime
import re

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclasses.dataclass
class Operation:
    method: str          # upper case
    path: str            # the template, such as /v1/campaigns/{campaignId}
    operation_id: str
    parameters: list     # resolved parameter objects (path-level ones included)
    body_types: list     # the request body's media types ([] without a body)
    body_schema: dict    # the JSON body's schema, resolved at its top (None when not JSON)
    body_required: bool  # whether the contract requires a body

    def parameters_in(self, where):
        return [parameter for parameter in self.parameters if parameter["in"] == where]


class Contract:
    def __init__(self, path):
        with open(path, encoding="utf-8") as file:
            self.document = yaml.safe_load(file)

    def resolve(self, node):
        """node with its $ref followed (local references only), as often as it takes."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def operations(self):
        found = []
        for path, item in self.document["paths"].items():
            shared = [self.resolve(parameter) for parameter in item.get("parameters", [])]
            for method in METHODS:
                if method not in item:
                    continue
                operation = item[method]
                parameters = shared + [self.resolve(parameter) for parameter in operation.get("parameters", [])]
                body = self.resolve(operation.get("requestBody", {}))
                types = list(body.get("content", {}))
                schema = None
                if "application/json" in types:
                    schema = self.resolve(body["content"]["application/json"].get("schema", {}))
                found.append(Operation(method.upper(), path, operation["operationId"], parameters, types, schema,
                                       bool(body.get("required", False))))
        return found

    def fits(self, schema, raw):
        """Whether the query value raw (a string as sent) is valid for schema."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        if "enum" in schema and raw not in [str(value).lower() if isinstance(value, bool) else str(value) for value in schema["enum"]]:
            return False
        if kind == "integer":
            if not re.fullmatch(r"-?[0-9]+", raw):
                return False
            value = int(raw)
            if not -(1 << 63) <= value < (1 << 63):
                return False
            return schema.get("minimum", value) <= value <= schema.get("maximum", value)
        if kind == "number":
            try:
                value = float(raw)
            except ValueError:
                return False
            return value == value and abs(value) != float("inf")
        if kind == "boolean":
            return raw in ("true", "false")
        if kind == "string":
            if not schema.get("minLength", 0) <= len(raw) <= schema.get("maxLength", len(raw)):
                return False
            if "pattern" in schema and not re.search(schema["pattern"], raw):
                return False
            if schema.get("format") == "date-time":
                return is_date_time(raw)
            return True
        return True

    def fields(self, schema, example, pointer=""):
        """(JSON pointer, resolved schema) of every field of a body: each property of an object
        (given in example or not), the entries example gives of a map (additionalProperties), and
        the first element example gives of an array, recursively."""
        schema = self.resolve(schema)
        if schema.get("type") == "object" or "properties" in schema:
            example = example if isinstance(example, dict) else {}
            for name, property_schema in schema.get("properties", {}).items():
                property_schema = self.resolve(property_schema)
                yield f"{pointer}/{name}", property_schema
                yield from self.fields(property_schema, example.get(name), f"{pointer}/{name}")
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for name in example:
                    if name not in schema.get("properties", {}):
                        yield f"{pointer}/{name}", self.resolve(extra)
                        yield from self.fields(extra, example[name], f"{pointer}/{name}")
        elif schema.get("type") == "array" and isinstance(example, list) and example:
            items = self.resolve(schema.get("items", {}))
            yield f"{pointer}/0", items
            yield from self.fields(items, example[0], f"{pointer}/0")


def is_date_time(raw):
    """RFC 3339 date-time, as the contract's format means."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", raw):
        return False
    try:
        datetime.datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


class Raw:
    """A JSON literal written as is (1e309, 9223372036854775808), which json.dumps cannot."""

    def __init__(self, text):
        self.text = text


def with_value(body, pointer, value):
    """A copy of body with the field at pointer set to value (a Raw stays a placeholder until
    dump writes it)."""
    body = copy.deepcopy(body)
    parts = pointer.strip("/").split("/")
    node = body
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


def dump(body):
    """body as JSON bytes, Raw values written as their text."""
    import json
    raws = []

    def placeholder(value):
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\u0000raw{len(raws) - 1}\u0000"
        if isinstance(value, dict):
            return {key: placeholder(item) for key, item in value.items()}
        if isinstance(value, list):
            return [placeholder(item) for item in value]
        return value

    text = json.dumps(placeholder(body), ensure_ascii=False)
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\u0000raw{index}\u0000"), raw)
    return text.encode("utf-8")


def wrong_values(schema):
    """(what, value) pairs of the wrong type for a field of schema: a number for a string, a
    string for a number, an object for an array, null; and for integers the literals a 64-bit
    integer cannot hold and a fraction."""
    kind = schema.get("type")
    values = []
    if kind == "string":
        values.append(("a number for a string", 12345))
    elif kind in ("integer", "number"):
        values.append(("a string for a number", "12"))
    elif kind == "boolean":
        values.append(("a string for a boolean", "true"))
    elif kind == "array":
        values.append(("an object for an array", {"0": "x"}))
    elif kind == "object":
        values.append(("an array for an object", ["x"]))
    values.append(("null", None))
    if kind == "integer":
        values += [("1e309", Raw("1e309")), ("2^63", Raw("9223372036854775808")),
                   ("-2^63-1", Raw("-9223372036854775809")), ("a fraction", Raw("1.5"))]
    return values
