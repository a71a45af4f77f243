"""The exported JSON Schema: current with the pydantic model, valid for every shipped config, strict."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from stacks.config import merged_config_data
from stacks.config.schema import OVERLAY_SCHEMA, PLATFORM_SCHEMA, rendered
from tests.conftest import REPO

CONFIGS = sorted((REPO / "configs").glob("*.yaml")) + sorted((REPO / "templates").glob("*/config.yaml"))
PLATFORM = json.loads(PLATFORM_SCHEMA.read_text())
OVERLAY = json.loads(OVERLAY_SCHEMA.read_text())


def test_committed_schema_and_reference_are_current():
    """Run `make schema` when this fails: the model changed after the files were generated."""
    stale = [str(path.relative_to(REPO)) for path, text in rendered().items() if path.read_text() != text]
    assert stale == []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_config_validates_and_names_its_schema(path):
    text = path.read_text()
    data = yaml.safe_load(text)
    overlay = "extends" in data
    schema_file = OVERLAY_SCHEMA if overlay else PLATFORM_SCHEMA
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("=", 1)[1]).resolve() == schema_file
    jsonschema.Draft202012Validator(OVERLAY if overlay else PLATFORM).validate(data)
    if overlay:
        jsonschema.Draft202012Validator(PLATFORM).validate(merged_config_data(path))


def test_schema_rejects_an_unknown_key():
    data = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    data["endpoints"][0]["instnce_count"] = 2
    errors = list(jsonschema.Draft202012Validator(PLATFORM).iter_errors(data))
    # endpoints[] is one model per type (oneOf): the entry fits none, and the realtime model says why.
    assert [(list(e.absolute_path), e.validator) for e in errors] == [(["endpoints", 0], "oneOf")]
    realtime = [e.message for e in errors[0].context if e.relative_schema_path[0] == 0 and e.validator == "additionalProperties"]
    assert realtime == ["Additional properties are not allowed ('instnce_count' was unexpected)"]


def test_schema_has_one_model_per_endpoint_type_chosen_by_type():
    """A key of another type is unknown for the entry's type; an entry without ``type`` is realtime."""
    items = PLATFORM["properties"]["endpoints"]["items"]
    assert items["discriminator"] == {
        "propertyName": "type",
        "mapping": {kind: f"#/$defs/{model}" for kind, model in (
            ("async", "AsyncEndpoint"), ("inference-components", "InferenceComponentsEndpoint"),
            ("multi-model", "MultiModelEndpoint"), ("realtime", "RealtimeEndpoint"), ("serverless", "ServerlessEndpoint"),
        )},
    }
    assert [o["$ref"] for o in items["oneOf"]] == [
        "#/$defs/RealtimeEndpoint", "#/$defs/ServerlessEndpoint", "#/$defs/AsyncEndpoint",
        "#/$defs/InferenceComponentsEndpoint", "#/$defs/MultiModelEndpoint",
    ]
    validator = jsonschema.Draft202012Validator(PLATFORM)
    data = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    serverless = next(i for i, e in enumerate(data["endpoints"]) if e["type"] == "serverless")
    data["endpoints"][serverless]["instance_count"] = 2
    del data["endpoints"][0]["type"]  # realtime by default
    errors = list(validator.iter_errors(data))
    assert [(list(e.absolute_path), e.validator) for e in errors] == [(["endpoints", serverless], "oneOf")]
    assert "'instance_count' was unexpected" in str([e.message for e in errors[0].context])
    overlay = jsonschema.Draft202012Validator(OVERLAY)
    assert not list(overlay.iter_errors({"extends": "base.yaml", "endpoints": [{"name": "a", "model": {"image": "x"}}]}))


def test_overlay_schema_needs_extends_and_is_strict_too():
    validator = jsonschema.Draft202012Validator(OVERLAY)
    assert [e.message for e in validator.iter_errors({"platform": {"environment": "prod"}})] == ["'extends' is a required property"]
    assert not list(validator.iter_errors({"extends": "base.yaml", "platform": {"environment": "prod"}}))
    errors = list(validator.iter_errors({"extends": "base.yaml", "platfrom": {}}))
    assert [e.validator for e in errors] == ["additionalProperties"]


def test_changelog_names_the_package_version():
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    first = next(line for line in (REPO / "CHANGELOG.md").read_text().splitlines() if line.startswith("## "))
    assert first.startswith(f"## {version} ")
