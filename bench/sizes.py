"""Where the platform's templates go, and what our constructs cost over plain L1 declarations.

- **per endpoint kind, per HyperPod cluster, per training pipeline**: resources and template bytes of
  each, attributed from one synthesized cloud assembly by the constructs that declared them (logical
  ids resolved from the construct tree, no path metadata needed): an endpoint owns its ``InferenceEndpoint`` and its ``EndpointMonitoring`` in its shard; a cluster its
  ``HyperPodCluster`` and file system in the training stack and its ``ClusterMonitoring`` in the
  observability stack; a pipeline its ``TrainingPipeline`` and ``TrainingPipelineMonitoring``. Bytes are
  the resource's share of the template as written (compact JSON: ``suppressTemplateIndentation``);
  what no endpoint, cluster or pipeline owns (topics, the shared layer, the guard function, the VPC) is
  reported as shared.
- **ours vs L1**: the same resources declared as ``CfnResource`` (aws-cdk-lib's L1 base class, the
  properties copied from our synthesized templates), built and synthesized in the same process with the
  same context: the construct library's overhead over writing every resource by hand.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from stacks.shards import StackSize

# Resources and template bytes of one owner (an endpoint, a cluster, a pipeline): the size check's record.
Owned = StackSize


def _resource_bytes(logical_id: str, resource: dict) -> int:
    # The resource's entry as the platform's stacks write it (no indentation: StackProps
    # suppress_template_indentation in stacks/platform.py), with its logical id key.
    return len(json.dumps({logical_id: resource}, separators=(",", ":"))) - 2


def owned_logical_ids(constructs: Iterable) -> set[tuple[str, str]]:
    """(stack name, logical id) of every CloudFormation resource in ``constructs``' subtrees."""
    from aws_cdk import CfnResource, Stack

    ids = set()
    for construct in constructs:
        stack = Stack.of(construct)
        for child in construct.node.find_all():
            if isinstance(child, CfnResource):
                ids.add((stack.stack_name, stack.resolve(child.logical_id)))
    return ids


def attribute(outdir: Path, owners: Mapping[str, Iterable], stack_names: Mapping[str, str]) -> tuple[dict[str, Owned], Owned]:
    """``owners``: owner -> the constructs it owns; ``stack_names``: template file stem -> stack name.
    Returns each owner's resources and template bytes, and what no owner holds (shared)."""
    owner_of = {key: owner for owner, constructs in owners.items() for key in owned_logical_ids(constructs)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for template in outdir.glob("*.template.json"):
        stack_name = stack_names[template.name.removesuffix(".template.json")]
        for logical_id, resource in json.loads(template.read_text()).get("Resources", {}).items():
            entry = counts[owner_of.get((stack_name, logical_id), "")]
            entry[0] += 1
            entry[1] += _resource_bytes(logical_id, resource)
    shared = counts.pop("", [0, 0])
    return {o: Owned(*counts[o]) for o in owners}, Owned(*shared)


def platform_owners(platform, config) -> dict[str, list]:
    """``endpoint:<kind>:<name>``, ``cluster:<name>`` and ``pipeline:<name>`` -> the constructs they own."""
    owners: dict[str, list] = {}
    kinds = {ep.name: ep.type for ep in config.endpoints}
    for shard in platform.shards:
        for name, endpoint in shard.endpoints.items():
            owners[f"endpoint:{kinds[name]}:{name}"] = [endpoint, shard.monitoring[name]]
    # The training stack with the observability stack's monitoring, then each training shard with its own.
    units = [(platform.training, platform.observability)] if platform.training is not None else []
    units += [(shard, shard.monitoring) for shard in platform.training_shards]
    for unit, monitoring in units:
        for name, cluster in unit.clusters.items():
            # A training stack groups a cluster's network, storage and cluster under one scope.
            scope = unit.node.try_find_child(name)
            owners[f"cluster:{name}"] = [
                *([scope] if scope is not None else
                  [cluster, *([unit.storage[name]] if name in unit.storage else [])]),
                *([monitoring.clusters[cluster.cluster_name]] if cluster.cluster_name in monitoring.clusters else []),
            ]
        for name, pipeline in unit.pipelines.items():
            owners[f"pipeline:{name}"] = [
                pipeline, *([monitoring.training[name]] if name in monitoring.training else []),
            ]
    return owners


def size_rows(owned: Mapping[str, Owned], shared: Owned) -> list[str]:
    """One row per owner (``resources``, ``KB``), endpoints averaged per kind."""
    by_kind: dict[str, list[Owned]] = defaultdict(list)
    rows = []
    for owner, size in owned.items():
        kind, *rest = owner.split(":")
        if kind == "endpoint":
            by_kind[rest[0]].append(size)
        else:
            rows.append(f"{f'{kind} {rest[0]}: resources, KB':<40}{size.resources:>12}{size.template_bytes / 1000:>10.1f}")
    for kind, sizes in sorted(by_kind.items()):
        n = len(sizes)
        rows.append(
            f"{f'endpoint {kind} (x{n}): resources, KB':<40}{sum(s.resources for s in sizes) / n:>12.1f}"
            f"{sum(s.template_bytes for s in sizes) / n / 1000:>10.1f}"
        )
    rows.append(f"{'shared (topics, VPC, layers, ...)':<40}{shared.resources:>12}{shared.template_bytes / 1000:>10.1f}")
    return rows


def l1_seconds(outdir: Path, context: Mapping) -> tuple[float, int, Path]:
    """Build and synthesize the resources of ``outdir``'s templates as ``CfnResource`` declarations
    (one stack per template, same logical ids, types and properties, with the parameters and outputs
    they reference; CDK adds its own bootstrap parameter, rule and metadata): (seconds, resources, the
    L1 app's cloud assembly directory)."""
    import tempfile

    from aws_cdk import App, CfnOutput, CfnParameter, CfnResource, Stack, Token

    bodies = {p.name.removesuffix(".template.json"): json.loads(p.read_text()) for p in outdir.glob("*.template.json")}
    start = time.perf_counter()
    l1_outdir = Path(tempfile.mkdtemp(prefix="bench-l1-"))
    app = App(context=dict(context), outdir=str(l1_outdir))
    count = 0
    for name, body in bodies.items():
        stack = Stack(app, name)
        for logical_id, parameter in body.get("Parameters", {}).items():
            if logical_id != "BootstrapVersion":
                CfnParameter(stack, logical_id, type=parameter["Type"], default=parameter.get("Default"))
        for logical_id, output in body.get("Outputs", {}).items():
            CfnOutput(stack, logical_id, value=Token.as_string(output["Value"]), export_name=output.get("Export", {}).get("Name"))
        for logical_id, resource in body.get("Resources", {}).items():
            if resource["Type"] == "AWS::CDK::Metadata":
                continue  # CDK adds its own
            CfnResource(stack, logical_id, type=resource["Type"], properties=resource.get("Properties"))
            count += 1
    app.synth()
    return time.perf_counter() - start, count, l1_outdir


def report(context: Mapping, config=None) -> list[str]:
    """The size rows of ``config`` (default: the embedded default config) and the L1 comparison, from
    one in-process synth with the project's context (no nag packs, in both runs)."""
    import tempfile

    from aws_cdk import App

    from stacks.config import DEFAULT_CONFIG, load_config
    from stacks.platform import build_platform

    config = config if config is not None else load_config(DEFAULT_CONFIG)
    # Twice, timing the second: the first pays the jsii runtime's start and the asset staging's
    # first hashing, which the L1 rebuild after it would not.
    for _ in range(2):
        outdir = Path(tempfile.mkdtemp(prefix="bench-sizes-"))
        start = time.perf_counter()
        app = App(context=context, outdir=str(outdir))
        platform = build_platform(app, config)
        app.synth()
        ours = time.perf_counter() - start
    owned, shared = attribute(outdir, platform_owners(platform, config), {s.artifact_id: s.stack_name for s in platform.stacks})
    l1, resources, _ = l1_seconds(outdir, context)
    return [
        *size_rows(owned, shared),
        f"{'ours / same resources as L1 (synth s)':<40}{ours:>11.2f}s{ours / l1:>10.2f}  ({resources} resources, L1 {l1:.2f} s)",
    ]


__all__ = ["Owned", "attribute", "l1_seconds", "owned_logical_ids", "platform_owners", "report", "size_rows"]
