"""Export the config contract: JSON Schema for editors and a generated config reference.

``python -m stacks.config.schema`` (``make schema``) writes

* ``schema/platform.schema.json``: a whole config (``configs/default.yaml``, ``base.yaml``);
* ``schema/overlay.schema.json``: an environment overlay (``extends`` plus any subset of keys);
* ``docs/config-reference.md``: every key path with its type, default and description.

Both schemas come from the pydantic model (``PlatformConfig.model_json_schema()``); rules checked
in Python (instance-type enums, cross-key rules, prod rules) are not in them: synth still checks.
A test fails when the committed files differ from what this writes.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PLATFORM_SCHEMA = REPO / "schema" / "platform.schema.json"
OVERLAY_SCHEMA = REPO / "schema" / "overlay.schema.json"
REFERENCE = REPO / "docs" / "config-reference.md"
SCHEMA_ID = "https://github.com/aiplatform-cdk/schema/platform.schema.json"


def platform_schema() -> dict[str, Any]:
    from . import PlatformConfig

    schema = PlatformConfig.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aiplatform-cdk platform config",
        "description": "One YAML file per platform environment; unknown keys are errors.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _drop_required(node: Any) -> Any:
    """Every key optional, but ``type`` where a model requires it: it picks the endpoint's model (``oneOf``)."""
    if isinstance(node, dict):
        out = {k: _drop_required(v) for k, v in node.items() if k != "required"}
        if "type" in node.get("required", []):
            out["required"] = ["type"]
        return out
    if isinstance(node, list):
        return [_drop_required(v) for v in node]
    return node


def overlay_schema() -> dict[str, Any]:
    """An overlay names its base and any subset of the keys (checked complete after the merge)."""
    schema = _drop_required(copy.deepcopy(platform_schema()))
    schema["title"] = "aiplatform-cdk environment overlay"
    schema["description"] = "Merged onto the config named by extends (mappings merge, lists and scalars replace)."
    schema["properties"] = {
        "extends": {"type": "string", "description": "Path of the base config, relative to this file."},
        **schema["properties"],
    }
    schema["required"] = ["extends"]
    return schema


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _type_of(schema: dict, node: dict) -> str:
    if "$ref" in node:
        return "mapping"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return "mapping"
    if "anyOf" in node:
        return " or ".join(_type_of(schema, n) for n in node["anyOf"] if n.get("type") != "null")
    t = node.get("type", "any")
    if t == "array":
        return f"list of {_type_of(schema, node.get('items', {}))}"
    if t == "object":
        return "mapping"
    return t


def _merged(schema: dict, options: list[dict]) -> dict:
    """One object of a ``oneOf`` (``endpoints[]``: one model per type): every key of every option, each
    saying which types have it when not all do; ``type`` lists every type."""
    models = [_resolve(schema, o) for o in options]
    kinds = [m["properties"]["type"].get("const", m["properties"]["type"].get("default")) for m in models]
    properties: dict[str, dict] = {}
    for key in dict.fromkeys(k for m in models for k in m["properties"]):
        having = [(kind, m["properties"][key]) for kind, m in zip(kinds, models) if key in m["properties"]]
        node = dict(having[0][1])
        if key == "type":
            node = {"enum": kinds, "default": kinds[0], "description": "The endpoint's kind: decides which keys it has."}
        elif len(having) < len(models):
            node["description"] = (node.get("description", "") + f" Types: {', '.join(k for k, _ in having)}.").strip()
        for kind, other in having[1:]:  # a key whose section differs by type (inference-components autoscaling)
            if other != having[0][1] and other.get("description"):
                node["description"] = (node.get("description", "") + f" {kind}: {other['description']}").strip()
        properties[key] = node
    first = [k for k in ("name", "type") if k in properties]
    properties = {k: properties[k] for k in [*first, *(k for k in properties if k not in first)]}
    required = set.intersection(*(set(m.get("required", [])) for m in models))
    return {"properties": properties, "required": sorted(required)}


def _children(schema: dict, node: dict) -> tuple[str, dict] | None:
    """(suffix, object schema) when the node holds keys of its own: a mapping or a list of mappings."""
    node = _resolve(schema, node)
    if "oneOf" in node:
        return ("", _merged(schema, node["oneOf"]))
    for option in node.get("anyOf", []):
        found = _children(schema, option)
        if found:
            return found
    if node.get("type") == "array":
        items = _resolve(schema, node.get("items", {}))
        if "oneOf" in items:
            return ("[]", _merged(schema, items["oneOf"]))
        return ("[]", items) if "properties" in items else None
    return ("", node) if "properties" in node else None


def reference_rows(schema: dict) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    def walk(prefix: str, obj: dict) -> None:
        required = set(obj.get("required", []))
        for key, node in obj.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            default = "required" if key in required else json.dumps(node["default"]) if "default" in node else ""
            resolved = _resolve(schema, node)
            description = node.get("description") or resolved.get("description", "")
            rows.append((path, _type_of(schema, node), default, " ".join(description.split())))
            child = _children(schema, node)
            if child:
                walk(path + child[0], child[1])

    walk("", schema)
    return rows


def reference_markdown(schema: dict) -> str:
    lines = [
        "# Config reference",
        "",
        "Generated from the pydantic model by `make schema` (`stacks/config/schema.py`); do not edit.",
        "Cross-key rules, instance-type enums and the prod rules are checked at synth and described in",
        "the README's config contract. Editors validate with `schema/platform.schema.json` (whole configs)",
        "and `schema/overlay.schema.json` (environment overlays).",
        "",
        "| key | type | default | description |",
        "|---|---|---|---|",
    ]
    for path, type_, default, description in reference_rows(schema):
        cell = default.replace("|", r"\|")
        text = description.replace("|", r"\|").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"| `{path}` | {type_} | {cell} | {text} |")
    return "\n".join(lines) + "\n"


def rendered() -> dict[Path, str]:
    schema = platform_schema()
    return {
        PLATFORM_SCHEMA: json.dumps(schema, indent=2, sort_keys=False) + "\n",
        OVERLAY_SCHEMA: json.dumps(overlay_schema(), indent=2, sort_keys=False) + "\n",
        REFERENCE: reference_markdown(schema),
    }


def main() -> int:
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
