"""The model deployer's ``DEPLOY_TARGETS`` environment: one schema for the construct that writes it and the
handler that reads it.

``constructs_lib.lifecycle.DeployTarget.as_environment`` writes each target with :meth:`TargetEntry.to_environment`;
``lambda/model_deployer`` reads them back with :func:`parse_deploy_targets`. Like ``sagemaker_events.py``,
this module is copied next to the handler in its asset (``constructs_lib.functions_code``), so it imports
nothing but the standard library and ``sagemaker_events`` (copied next to it too).

Shape: ``{"<model package group>": [<entry>, ...]}``; an entry is an endpoint name or
``{"EndpointName": ..., "DeploymentConfig": {...UpdateEndpoint DeploymentConfig...}, "VariantNames": [...],
"Parameters": {"<variant>": {"Image": "<SSM name>", "ModelDataUrl": "<SSM name>"}}}``; a single entry
instead of a list is accepted too, and the group may be given by its ARN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

try:  # in constructs_lib
    from .sagemaker_events import NAME_PATTERN
except ImportError:  # in a function asset, where both files sit next to the handler
    from sagemaker_events import NAME_PATTERN

ENVIRONMENT_VARIABLE = "DEPLOY_TARGETS"

ENDPOINT_NAME = "EndpointName"
DEPLOYMENT_CONFIG = "DeploymentConfig"
VARIANT_NAMES = "VariantNames"
PARAMETERS = "Parameters"
# Keys of one variant's promotion parameters (SSM parameter names).
IMAGE = "Image"
MODEL_DATA_URL = "ModelDataUrl"


@dataclass(frozen=True)
class TargetEntry:
    """One endpoint a model package group deploys to, as the handler uses it.

    :param deployment_config: ``UpdateEndpoint`` ``DeploymentConfig``; ``None``: the endpoint's
        ``LastDeploymentConfig``.
    :param variant_names: variants that get the new model; empty: every variant that has a model.
    :param parameters: variant -> ``{"Image": <SSM name>, "ModelDataUrl": <SSM name>}``: where
        CloudFormation reads the variant's model at deploy time (the promotion records the version it
        deploys there).
    """

    endpoint_name: str
    deployment_config: dict[str, Any] | None = None
    variant_names: tuple[str, ...] = ()
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_environment(self) -> dict[str, Any]:
        """The entry as :func:`parse_deploy_targets` reads it; empty settings are left out."""
        entry: dict[str, Any] = {ENDPOINT_NAME: self.endpoint_name}
        if self.deployment_config:
            entry[DEPLOYMENT_CONFIG] = dict(self.deployment_config)
        if self.variant_names:
            entry[VARIANT_NAMES] = list(self.variant_names)
        if self.parameters:
            entry[PARAMETERS] = {variant: dict(names) for variant, names in self.parameters.items()}
        return entry


def parse_deploy_targets(raw: str) -> tuple[dict[str, tuple[TargetEntry, ...]], list[str]]:
    """``DEPLOY_TARGETS`` JSON -> entries by model package group name, plus every problem found."""
    problems: list[str] = []
    if not raw.strip():
        return {}, problems
    try:
        data = json.loads(raw)
    except ValueError as error:
        return {}, [f"{ENVIRONMENT_VARIABLE} is not JSON: {error}"]
    if not isinstance(data, dict):
        return {}, [f"{ENVIRONMENT_VARIABLE} must be a JSON object, got {type(data).__name__}"]
    targets: dict[str, tuple[TargetEntry, ...]] = {}
    for key, value in data.items():
        group = key.strip().rsplit("model-package-group/", 1)[-1]
        entries = value if isinstance(value, list) else [value]
        parsed: list[TargetEntry] = []
        for index, entry in enumerate(entries):
            path = f"{ENVIRONMENT_VARIABLE}[{key!r}][{index}]"
            if isinstance(entry, str):
                entry = {ENDPOINT_NAME: entry}
            if not isinstance(entry, dict):
                problems.append(f"{path}: expected an endpoint name or an object, got {type(entry).__name__}")
                continue
            name = entry.get(ENDPOINT_NAME)
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                problems.append(f"{path}.{ENDPOINT_NAME}: {name!r} is not a valid endpoint name")
                continue
            deployment = entry.get(DEPLOYMENT_CONFIG)
            if deployment is not None and not isinstance(deployment, dict):
                problems.append(f"{path}.{DEPLOYMENT_CONFIG}: expected an object, got {type(deployment).__name__}")
                deployment = None
            variants = entry.get(VARIANT_NAMES) or []
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                problems.append(f"{path}.{VARIANT_NAMES}: expected a list of variant names")
                variants = []
            parameters = entry.get(PARAMETERS) or {}
            if not isinstance(parameters, dict) or not all(
                isinstance(names, dict) and isinstance(names.get(IMAGE), str)
                and set(names) <= {IMAGE, MODEL_DATA_URL} and all(isinstance(n, str) for n in names.values())
                for names in parameters.values()
            ):
                problems.append(
                    f"{path}.{PARAMETERS}: expected {{variant: {{{IMAGE}, {MODEL_DATA_URL}}}}} parameter names"
                )
                parameters = {}
            parsed.append(TargetEntry(name, deployment or None, tuple(variants), dict(parameters)))
        if parsed:
            targets[group] = tuple(parsed)
    return targets, problems
