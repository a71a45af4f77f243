"""``lifecycle`` section: what reacts to SageMaker events (and idleness), checked against ``endpoints``.

```yaml
lifecycle:
  auto_deploy_approved_models:
    - {model_package_group: chat-llm-models, endpoint: chat-llm}   # endpoint = a config endpoint name
  idle_endpoint_hours: 24
  scale_idle_to_zero: [batch-scoring]
  training_job_notifications: true
  register_models_from_training: {model_package_group: chat-llm-models, inference_image: <ECR image>}
  hyperpod_events: {clusters: [acme-ml-dev-llm-pretrain], auto_repair: [{name: acme-ml-dev-llm-pretrain, arn: <cluster ARN>}]}
```

Every key is optional. Failure notifications are on by default where there is something to fail:
with ``training_clusters`` (or ``training_pipelines``) and no key, HyperPod events (clusters) and
training-job failures are notified; ``false`` switches each off (:func:`training_job_notifications_on`,
:func:`hyperpod_events_of`). Otherwise an empty section creates nothing beyond the endpoint failure
notifications. :func:`lifecycle_problems` holds the rules that span sections (endpoint names, kinds,
platform).

Sections that become a library type build it with ``to_spec()`` in that type's own field names
(``register_models_from_training`` -> ``ModelRegistration``, ``hyperpod_events.auto_repair[]`` ->
``HyperPodClusterRef``, ``auto_deploy_approved_models[]`` -> ``DeployTarget``, given the endpoint
construct); the idle guard's ``WatchedEndpoint`` and ``ScaleToZero`` come from the endpoint entries
(``watched_endpoint``, ``scale_to_zero``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from constructs_lib.errors import Problem, Problems
from constructs_lib.inference import KIND_TRAITS, EndpointKind, traits_of
from constructs_lib.inference.specs import DEFAULT_VARIANT_NAME
from constructs_lib.lifecycle import DeployTarget, HyperPodClusterRef, ModelRegistration, S3Prefix

from .base import Section, matching
from .endpoints import EcrImage, S3Uri, SageMakerName, variant_sections

if TYPE_CHECKING:
    from constructs_lib.inference import InferenceEndpoint

    from . import PlatformConfig

ClusterArn = Annotated[
    str,
    matching(
        r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:cluster/[a-z0-9]{12}$",
        "a HyperPod cluster ARN arn:aws:sagemaker:<region>:<account>:cluster/<12-character id>",
    ),
]
# Endpoint types an approved model can be rolled out to ("" = can; else why not): the library's kind traits.
AUTO_DEPLOY_TYPES = {kind.value: traits.promotion_not for kind, traits in KIND_TRAITS.items()}
# Endpoint types the idle guard can take to zero capacity ("" = can; else why not).
SCALE_TO_ZERO_TYPES = {kind.value: traits.scale_to_zero_not for kind, traits in KIND_TRAITS.items()}


class AutoDeploySection(Section):
    model_package_group: SageMakerName = Field(description="Model package group whose approved versions deploy.")
    endpoint: SageMakerName = Field(description="Name of an endpoint of the endpoints section.")
    variants: list[SageMakerName] = Field(
        default_factory=list, description="Variants that get the new model; default every variant."
    )
    keep_promoted_version: bool = Field(
        default=True,
        description="The template's model of these variants reads its image and model data at deploy time from "
        "SSM parameters (/<platform>/<environment>/promotion/<endpoint>/<variant>/image and .../model-data) that "
        "the promotion writes before it deploys, so a later cdk deploy deploys the promoted version; the data "
        "stack creates them with the config's image and model data. false: CloudFormation keeps the config's "
        "model, and a deploy that changes the endpoint puts it back.",
    )

    def to_spec(self, endpoint: InferenceEndpoint, *, data_capture: S3Prefix | None) -> DeployTarget:
        """The deployer's target: ``endpoint`` (the construct of this entry's endpoint), its variants
        (``variants``; default every variant) and where its data capture writes (``None``: no capture)."""
        return DeployTarget.for_endpoint(endpoint, model_package_group=self.model_package_group,
                                         variant_names=self.variants, data_capture=data_capture)


class ModelRegistrationSection(Section):
    model_package_group: SageMakerName
    inference_image: EcrImage | None = Field(
        default=None, description="Image of the registered version when the training event names none."
    )

    def to_spec(self) -> ModelRegistration:
        return ModelRegistration(model_package_group=self.model_package_group, inference_image=self.inference_image)


class AutoRepairSection(Section):
    name: SageMakerName
    arn: ClusterArn = Field(description="The cluster ARN (its last part is an id SageMaker generates).")

    def to_spec(self) -> HyperPodClusterRef:
        return HyperPodClusterRef(cluster_name=self.name, cluster_arn=self.arn)


class HyperPodEventsSection(Section):
    enabled: bool = Field(default=True, description="false (or hyperpod_events: false) switches them off.")
    clusters: list[SageMakerName] = Field(
        default_factory=list, description="Cluster names as SageMaker knows them (physical names); default: every cluster."
    )
    auto_repair: list[AutoRepairSection] = Field(default_factory=list)


class LifecycleSection(Section):
    auto_deploy_approved_models: list[AutoDeploySection] = Field(default_factory=list)
    model_data_prefixes: list[S3Uri] = Field(
        default_factory=list,
        description="Where approved versions' model data may be, besides the artifact bucket's models/ prefix "
        "and the target endpoints' current model data folders.",
    )
    idle_endpoint_hours: int | None = Field(default=None, ge=1, le=720, description="Default: no idle check.")
    scale_idle_to_zero: list[SageMakerName] = Field(default_factory=list)
    training_job_notifications: bool | None = Field(
        default=None,
        description="Failed and stopped training jobs notified; default: on with training_clusters, "
        "training_pipelines or register_models_from_training.",
    )
    register_models_from_training: ModelRegistrationSection | None = None
    hyperpod_events: HyperPodEventsSection | None = Field(
        default=None, description="true/false or the settings; default: on with training_clusters."
    )

    @field_validator("hyperpod_events", mode="before")
    @classmethod
    def _switch(cls, value: object) -> object:
        """``true`` = the defaults, ``false`` = off; a mapping gives the settings."""
        if value is True:
            return {}
        if value is False:
            return {"enabled": False}
        return value


def training_job_notifications_on(config: PlatformConfig) -> bool:
    """Whether failed/stopped training jobs are notified: the key when given, else on for a platform
    that trains (clusters, pipelines) or registers models from training. Silence must be a choice."""
    lifecycle = config.lifecycle
    if lifecycle.training_job_notifications is not None:
        return lifecycle.training_job_notifications
    return bool(config.training_clusters or config.training_pipelines or lifecycle.register_models_from_training)


def hyperpod_events_of(config: PlatformConfig) -> HyperPodEventsSection | None:
    """The HyperPod notification settings in force: the section when given (``None`` if switched off),
    else the defaults for a platform with ``training_clusters``."""
    hyperpod = config.lifecycle.hyperpod_events
    if hyperpod is None:
        return HyperPodEventsSection() if config.training_clusters else None
    return hyperpod if hyperpod.enabled else None


def lifecycle_problems(config: PlatformConfig) -> list[Problem]:
    """Rules of ``lifecycle`` that look at other sections; every problem names its key path."""
    lifecycle = config.lifecycle
    problems = Problems("config", prefix="lifecycle")
    endpoints = {ep.name: ep for ep in config.endpoints}
    known = ", ".join(endpoints) or "(none: the endpoints section is empty)"
    pairs: set[tuple[str, str]] = set()
    keeps: dict[str, tuple[bool, int]] = {}
    for i, entry in enumerate(lifecycle.auto_deploy_approved_models):
        where = f"auto_deploy_approved_models[{i}]"
        ep = endpoints.get(entry.endpoint)
        if ep is None:
            problems.add(f"{where}.endpoint", entry.endpoint, f"the name of a configured endpoint; known: {known}")
            continue
        if AUTO_DEPLOY_TYPES[ep.type]:
            problems.add(
                f"{where}.endpoint", entry.endpoint, f"a realtime or serverless endpoint ({ep.type}: {AUTO_DEPLOY_TYPES[ep.type]})"
            )
        variant_names = [v.name for v in variant_sections(ep)] or [DEFAULT_VARIANT_NAME]
        for j, variant in enumerate(entry.variants):
            problems.check(
                variant in variant_names, f"{where}.variants[{j}]", variant,
                f"a variant of endpoint {ep.name}: {', '.join(variant_names)}",
            )
        pair = (entry.model_package_group, entry.endpoint)
        problems.check(pair not in pairs, where, list(pair), "each model_package_group and endpoint pair once")
        pairs.add(pair)
        keep = keeps.setdefault(entry.endpoint, (entry.keep_promoted_version, i))
        problems.check(
            keep[0] == entry.keep_promoted_version, f"{where}.keep_promoted_version", entry.keep_promoted_version,
            f"{keep[0]} as in auto_deploy_approved_models[{keep[1]}] for the same endpoint: a promotion that does not "
            "record its version would leave the promotion parameters naming another one",
        )
    if lifecycle.model_data_prefixes and not lifecycle.auto_deploy_approved_models:
        problems.add("model_data_prefixes", lifecycle.model_data_prefixes, "only with auto_deploy_approved_models")

    if lifecycle.idle_endpoint_hours is not None and not endpoints:
        problems.add("idle_endpoint_hours", lifecycle.idle_endpoint_hours, "endpoints to watch (the endpoints section is empty)")
    if lifecycle.scale_idle_to_zero and lifecycle.idle_endpoint_hours is None:
        problems.add("scale_idle_to_zero", lifecycle.scale_idle_to_zero, "idle_endpoint_hours too: it says when an endpoint is idle")
    for i, name in enumerate(lifecycle.scale_idle_to_zero):
        where = f"scale_idle_to_zero[{i}]"
        ep = endpoints.get(name)
        if ep is None:
            problems.add(where, name, f"the name of a configured endpoint; known: {known}")
        elif SCALE_TO_ZERO_TYPES[ep.type]:
            kinds = " or ".join(t for t, why in SCALE_TO_ZERO_TYPES.items() if not why)
            problems.add(where, name, f"an {kinds} endpoint ({ep.type}: {SCALE_TO_ZERO_TYPES[ep.type]})")
        elif ep.autoscaling is None and traits_of(EndpointKind(ep.type)).scalable_dimension is not None:
            # zero through the variants' scalable target (async); inference components by their copy counts
            problems.add(
                where, name,
                "an async endpoint with autoscaling: the guard lowers the minimum of its scalable target, "
                "and its scaling policy then scales it in",
            )
        if name in lifecycle.scale_idle_to_zero[:i]:
            problems.add(where, name, "each endpoint once")

    if lifecycle.register_models_from_training is not None and lifecycle.training_job_notifications is False:
        problems.add(
            "register_models_from_training", "(set)",
            "training_job_notifications not false (the same function notifies and registers)",
        )

    hyperpod = lifecycle.hyperpod_events
    if hyperpod is not None and not hyperpod.enabled and (hyperpod.clusters or hyperpod.auto_repair):
        problems.add("hyperpod_events.enabled", False, "true when clusters or auto_repair are given")
    if hyperpod is not None:
        names: list[str] = []
        for i, cluster in enumerate(hyperpod.auto_repair):
            where = f"hyperpod_events.auto_repair[{i}]"
            if hyperpod.clusters and cluster.name not in hyperpod.clusters:
                problems.add(
                    f"{where}.name", cluster.name,
                    f"one of hyperpod_events.clusters ({', '.join(hyperpod.clusters)}): only their events arrive",
                )
            if cluster.name in names:
                problems.add(f"{where}.name", cluster.name, "each cluster once")
            names.append(cluster.name)
            _, _, _, region, account, _ = cluster.arn.split(":", 5)
            platform = config.platform
            if platform.region:
                problems.check(region == platform.region, f"{where}.arn", cluster.arn, f"a cluster in platform.region {platform.region}")
            if platform.account:
                problems.check(account == platform.account, f"{where}.arn", cluster.arn, f"a cluster in platform.account {platform.account}")
    return problems.items
