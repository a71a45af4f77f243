"""Compose the platform's stacks from a validated config. No file, context or environment reads here."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Environment, Fn, Stack, Stage, Tags, Validations

from constructs_lib.inference import InferenceEndpoint

from .config import PlatformConfig, regions
from .cost_stack import CostStack
from .data_stack import DataStack
from .inference_stack import InferenceStack
from .lifecycle_stack import LifecycleStack
from .naming import PlatformNames
from .network_stack import NetworkStack
from .observability_stack import ObservabilityStack
from .shards import PlatformStack, ShardSizeCheck, shards_in_order
from .training_stack import TrainingShardStack, TrainingStack, monitored_clusters


@dataclass
class Platform:
    data: DataStack
    network: NetworkStack | None
    observability: ObservabilityStack
    lifecycle: LifecycleStack
    training: TrainingStack | None = None
    cost: CostStack | None = None
    #: The inference shards that hold endpoints (see stacks/shards.py), hash shards first.
    shards: list[InferenceStack] = field(default_factory=list)
    #: The training shards (``training_clusters[].stack``, ``training_pipelines[].stack``), by key.
    training_shards: list[TrainingShardStack] = field(default_factory=list)

    @property
    def endpoints(self) -> dict[str, InferenceEndpoint]:
        """Every endpoint by config name, whichever shard holds it."""
        return {name: ep for shard in self.shards for name, ep in shard.endpoints.items()}

    @property
    def stacks(self) -> list[Stack]:
        return [
            s for s in (
                self.network, self.data, *self.shards, self.observability, self.lifecycle, self.training,
                *self.training_shards, self.cost,
            ) if s
        ]


# Templates are written without indentation (StackProps.suppressTemplateIndentation): CloudFormation's
# template-size quota (1 MB from S3) counts every byte, and aws-cdk-lib's one-space indentation is
# about a third of a shard's. CloudFormation and `cdk diff` parse the JSON, so nothing else changes.
_TEMPLATE_FORMAT = {"suppress_template_indentation": True}


def build_platform(app: Stage, config: PlatformConfig) -> Platform:
    """The platform's stacks in ``app``: the App, or a Stage (one per environment in a CDK pipeline)."""
    p = config.platform
    env = Environment(account=p.account, region=p.region) if (p.account or p.region) else None
    names = PlatformNames.of(config)  # every stack and physical name; passed to each stack
    if p.account and p.region and config.network and config.network.availability_zones:
        # Answer CDK's availability-zone lookup from config, so synth needs no credentials.
        app.node.set_context(
            f"availability-zones:account={p.account}:region={p.region}", list(config.network.availability_zones)
        )

    def kw(concern: str, description: str) -> dict:
        return dict(
            env=env, stack_name=names.stack(concern), description=names.description(description), **_TEMPLATE_FORMAT,
        )

    data = DataStack(
        app, names.stack("data"), config=config, names=names, **kw("data", "KMS key, artifact bucket, notification topic")
    )
    network = (
        NetworkStack(
            app, names.stack("network"), network=config.network, key=data.key,
            **kw("network", "VPC, subnets and flow logs"),
        )
        if config.network
        else None
    )
    training = (
        TrainingStack(
            app, names.stack("training"), config=config, names=names, key=data.key, vpc=network.vpc if network else None,
            topic=data.topic, **kw("training", "HyperPod clusters, FSx for Lustre, training pipelines, training platform"),
        )
        if config.training_clusters or config.training or config.training_pipelines
        else None
    )
    if training is not None:
        training.add_stack_dependency(data)  # the artifact bucket is imported by name
    observability = ObservabilityStack(
        app, names.stack("observability"), config=config, names=names, key=data.key,
        clusters=monitored_clusters([c for c in config.training_clusters if c.stack is None], training)
        if training is not None else [],
        pipelines=dict(training.pipelines) if training is not None else {},
        **kw("observability", "dashboards, severity-routed alarms and their topics"),
    )
    # One training shard per training_clusters[].stack / training_pipelines[].stack key (sorted): the
    # entries of that key and their monitoring, alarms on the observability stack's severity topics.
    training_shards = []
    for shard_key in sorted({e.stack for e in (*config.training_clusters, *config.training_pipelines)} - {None}):
        shard_name = names.training_shard_stack(shard_key)
        stack = TrainingShardStack(
            app, shard_name, config=config, names=names, shard_key=shard_key, training=training, key=data.key,
            vpc=network.vpc if network else None, topic=data.topic, routing=observability.severity_topics.routing,
            env=env, stack_name=shard_name, **_TEMPLATE_FORMAT,
            description=names.description(f"training shard {shard_key} (training_clusters[].stack, "
                                          "training_pipelines[].stack): HyperPod clusters, training pipelines, "
                                          "their dashboards and alarms"),
        )
        stack.add_stack_dependency(data)  # the artifact bucket is imported by name
        observability.add_training_shard(stack.monitoring)
        training_shards.append(stack)
    # One stack per shard that holds endpoints (a training-only platform has none: an empty stack is
    # invalid). Each depends on the data stack (key; the bucket by name) and the severity topics only.
    shards, placed = [], shards_in_order(config)
    pages = [names.overview_page(shard.key) for shard, _ in placed]
    for (shard, entries), page in zip(placed, pages, strict=True):
        stack = InferenceStack(
            app, shard.stack_name, config=config, names=names, endpoints=entries, key=data.key, topic=data.topic,
            routing=observability.severity_topics.routing,
            overview_page=page, overview_links=[observability.overview_name],
            env=env, stack_name=shard.stack_name, **_TEMPLATE_FORMAT,
            description=names.description(
                f"SageMaker endpoints of shard {shard.key} "
                f"({'endpoints[].stack' if shard.explicit else 'hash of the name'}), their dashboards and alarms"
            ),
        )
        stack.add_stack_dependency(data)
        shards.append(stack)
    monitored = {name: (s.endpoints[name], s.monitoring[name]) for s in shards for name in s.endpoints}
    observability.add_overview([monitored[ep.name] for ep in config.endpoints], shard_pages=pages)
    endpoints = {name: pair[0] for name, pair in monitored.items()}
    lifecycle = LifecycleStack(
        app, names.stack("lifecycle"), config=config, names=names, endpoints=endpoints,
        topic=data.topic, key=data.key, **kw("lifecycle", "EventBridge rules and functions for SageMaker events"),
    )
    cost = (
        CostStack(
            app, names.stack("cost"), config=config, names=names, topic=data.topic, key=data.key,
            **kw("cost", "AWS Budgets for the platform and its teams"),
        )
        if config.budgets is not None
        else None
    )
    platform = Platform(
        data=data, network=network, observability=observability, lifecycle=lifecycle,
        training=training, cost=cost, shards=shards, training_shards=training_shards,
    )
    if p.region is None:  # with platform.region the config already refused images of other regions
        for concern, stacks in ((regions.INFERENCE, shards), (regions.LIFECYCLE, [lifecycle]),
                                (regions.TRAINING, [training, *training_shards] if training else [])):
            region = regions.images_region(config, concern)
            for stack in stacks if region is not None else ():
                require_region(stack, region)
    # Cost allocation tags: every taggable resource carries platform, environment and platform.tags;
    # the resources a budgets team owns carry its team tag (the nearer tag wins over platform.tags').
    Tags.of(app).add("platform", p.name)
    Tags.of(app).add("environment", p.environment)
    for key, value in p.tags.items():
        Tags.of(app).add(key, value)
    units = [training, *training_shards] if training is not None else []
    clusters = {name: c for u in units for name, c in u.clusters.items()}
    storage = {name: s for u in units for name, s in u.storage.items()}
    for team in config.budgets.teams if config.budgets else ():
        for name in team.endpoints:
            Tags.of(endpoints[name]).add(config.budgets.team_tag, team.name)
        for name in team.training_clusters:
            Tags.of(clusters[name]).add(config.budgets.team_tag, team.name)
            if name in storage:
                Tags.of(storage[name]).add(config.budgets.team_tag, team.name)
    # After synthesis: refuse any stack over 80 % of CloudFormation's resource or template-size limit,
    # naming what makes it grow (a deploy would fail on the limit after the other stacks changed).
    Validations.of(app).add_plugins(ShardSizeCheck([*(shard for shard, _ in placed), *_growing_stacks(platform)]))
    if termination_protected(config):
        for stack in platform.stacks:
            stack.termination_protection = True
    return platform


# What grows each non-shard stack, and the config to change (checked with the shards, stacks/shards.py).
_GROWTH = {
    "training": "it holds every HyperPod cluster (with its file system and lifecycle scripts) and every training "
                "pipeline without a stack key: give some training_clusters[] or training_pipelines[] a stack key "
                "(a training shard; each moved cluster or pipeline is deleted and re-created)",
    "observability": "it holds the platform overview and the dashboard and alarms of every training cluster and "
                     "pipeline without a stack key: give some training_clusters[] or training_pipelines[] a stack "
                     "key (a training shard; each moved cluster or pipeline is deleted and re-created)",
    "lifecycle": "its functions' permissions name the endpoints and clusters they act on "
                 "(lifecycle.auto_deploy_approved_models, lifecycle.scale_idle_to_zero, HyperPod auto-repair): "
                 "split those entries between platform configs",
}


def _training_shard_hint(key: str) -> str:
    return (f"give some of its training_clusters[] or training_pipelines[] another stack than '{key}' "
            "(each moved cluster or pipeline is deleted and re-created)")


def _growing_stacks(platform: Platform) -> list[PlatformStack]:
    """The platform's stacks other than endpoint shards that a config can grow, with what to change (the
    training shards too)."""
    stacks = {"training": platform.training, "observability": platform.observability, "lifecycle": platform.lifecycle}
    return [
        *(PlatformStack(stack.stack_name, _GROWTH[concern]) for concern, stack in stacks.items() if stack is not None),
        *(PlatformStack(s.stack_name, _training_shard_hint(s.shard_key), label="training shard")
          for s in platform.training_shards),
    ]


def termination_protected(config: PlatformConfig) -> bool:
    """Every stack: ``platform.termination_protection``, default true in prod (the data stack is
    protected in prod whatever the key says: it holds the retained data)."""
    explicit = config.platform.termination_protection
    return explicit if explicit is not None else config.platform.environment == "prod"


def require_region(stack: Stack, region: str) -> CfnRule:
    """A template ``Rules`` assertion: deploying ``stack`` outside ``region`` fails before any resource is
    created (CloudFormation validates rules first). Its container images are in ``region``, and SageMaker
    needs them in the region of the model (``CreateModel``: ``ContainerDefinition.Image``)."""
    return CfnRule(
        stack,
        "ImagesRegion",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_equals(Aws.REGION, region),
                assert_description=(
                    f"This stack's container images are in {region}: deploy it to {region} "
                    "(or set platform.region and use images of that region)."
                ),
            )
        ],
    )
