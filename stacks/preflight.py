"""Quota preflight: compare the instances a config asks for with the account's SageMaker quotas.

Run before a deploy, with credentials for the target account (never at synth)::

    python -m stacks.preflight configs/prod.yaml [--region us-east-1]    # make preflight CONFIG=...

Needs per (instance type, usage), where usage is the Service Quotas name suffix
(``ml.g5.xlarge for endpoint usage`` / ``for cluster usage`` / ``for training job usage``):

* endpoints: each production and shadow variant at its largest (autoscaling ``max`` or
  ``instance_count``); a blue/green update (canary, linear, all-at-once) provisions the new fleet
  next to the old one, so the update need is twice that (rolling updates and inference-component
  endpoints count once);
* HyperPod clusters: every instance group's ``count``;
* training pipelines: each pipeline's ``instance_count`` (pipelines may run at the same time).

Quotas come from Service Quotas ``ListServiceQuotas`` (applied values) with
``ListAWSDefaultServiceQuotas`` for quotas that have no applied value (service code ``sagemaker``).
Current usage is not subtracted: an account already running endpoints needs their instances on
top. Zones: SageMaker has no instance-type offering API; for HyperPod instance groups, whose nodes
attach to the configured subnets, EC2 ``DescribeInstanceTypeOfferings`` on the type without its
``ml.`` prefix is reported as a hint (a type EC2 does not offer in a zone is unlikely to be there).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.config import PlatformConfig

SERVICE_CODE = "sagemaker"
ENDPOINT, CLUSTER, TRAINING = "endpoint usage", "cluster usage", "training job usage"


def quota_name(instance_type: str, usage: str) -> str:
    """``ml.g5.xlarge for endpoint usage``: the Service Quotas name of a SageMaker instance quota."""
    return f"{instance_type} for {usage}"


@dataclass(frozen=True)
class Need:
    instance_type: str
    usage: str
    steady: int  # instances at full scale
    during_update: int  # with a blue/green update fleet next to the old one
    sources: tuple[str, ...]

    @property
    def quota_name(self) -> str:
        return quota_name(self.instance_type, self.usage)


@dataclass(frozen=True)
class Finding:
    need: Need
    quota: float | None  # None: no such quota in the account's region

    @property
    def shortfall(self) -> bool:
        return self.quota is None or self.quota < self.need.steady

    @property
    def update_shortfall(self) -> bool:
        return not self.shortfall and self.quota < self.need.during_update

    def __str__(self) -> str:
        n = self.need
        quota = "no such quota" if self.quota is None else f"quota {self.quota:g}"
        verdict = "SHORTFALL" if self.shortfall else "updates short" if self.update_shortfall else "ok"
        update = f", {n.during_update} during a blue/green update" if n.during_update != n.steady else ""
        return f"{verdict:>13}  {n.quota_name}: needs {n.steady}{update}; {quota} ({', '.join(n.sources)})"


def needs(config: PlatformConfig) -> list[Need]:
    steady: dict[tuple[str, str], int] = defaultdict(int)
    update: dict[tuple[str, str], int] = defaultdict(int)
    sources: dict[tuple[str, str], list[str]] = defaultdict(list)

    def add(instance_type: str, usage: str, count: int, source: str, *, blue_green: bool) -> None:
        if count <= 0:
            return
        key = (instance_type, usage)
        steady[key] += count
        update[key] += count * (2 if blue_green else 1)
        sources[key].append(source)

    from constructs_lib.inference import EndpointKind, traits_of

    from .config.endpoints import shadow_variant_sections, variant_sections

    for ep in config.endpoints:
        traits = traits_of(EndpointKind(ep.type))
        if not traits.has_instances:  # serverless: no instance quota
            continue
        top = ep.autoscaling.max if ep.autoscaling is not None else None
        # A blue/green update runs both fleets; a rolling one (or an endpoint without deployment
        # guardrails, whose components roll their copies) replaces instances in place.
        blue_green = not traits.deployment_not and (ep.deployment is None or ep.deployment.strategy != "rolling")
        variants = (
            [(f"{ep.name}/{v.name}", v.instance_type, v.instance_count) for v in variant_sections(ep)]
            if variant_sections(ep) else [(ep.name, ep.instance_type, ep.instance_count)] if ep.instance_type else []
        )
        for source, instance_type, count in variants:
            add(instance_type, ENDPOINT, max(count, top or 0), f"endpoint {source}", blue_green=blue_green)
        for s in shadow_variant_sections(ep):
            add(s.instance_type, ENDPOINT, s.instance_count, f"endpoint {ep.name}/{s.name}", blue_green=blue_green)
    for cluster in config.training_clusters:
        for group in cluster.instance_groups:
            add(group.instance_type, CLUSTER, group.count, f"cluster {cluster.name}/{group.name}", blue_green=False)
    for pipeline in config.training_pipelines:
        add(pipeline.instance_type, TRAINING, pipeline.instance_count, f"pipeline {pipeline.name}", blue_green=False)
    return [
        Need(t, u, steady[t, u], update[t, u], tuple(sources[t, u])) for (t, u) in sorted(steady)
    ]


def sagemaker_quotas(client: Any) -> dict[str, float]:
    """Quota name -> value: applied values, defaults where the account has no applied value."""
    quotas: dict[str, float] = {}
    for operation in ("list_aws_default_service_quotas", "list_service_quotas"):  # applied values win
        for page in client.get_paginator(operation).paginate(ServiceCode=SERVICE_CODE):
            for q in page.get("Quotas", []):
                quotas[q["QuotaName"]] = q["Value"]
    return quotas


def zone_offerings(ec2: Any, instance_types: list[str], zones: list[str]) -> dict[str, list[str]]:
    """ml.* type -> the configured zones where EC2 does not offer the underlying instance type."""
    missing: dict[str, list[str]] = {}
    for instance_type in instance_types:
        ec2_type = instance_type.removeprefix("ml.")
        offered = set()
        for page in ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [ec2_type]}]
        ):
            offered |= {o["Location"] for o in page.get("InstanceTypeOfferings", [])}
        absent = [z for z in zones if z not in offered]
        if absent:
            missing[instance_type] = absent
    return missing


@dataclass
class Report:
    findings: list[Finding]
    zones_missing: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        return not any(f.shortfall for f in self.findings)

    def __str__(self) -> str:
        lines = [str(f) for f in self.findings] or ["  (the config asks for no SageMaker instances)"]
        for instance_type, zones in self.zones_missing.items():
            lines.append(f"{'zone hint':>13}  {instance_type}: EC2 does not offer {instance_type.removeprefix('ml.')} in {', '.join(zones)}")
        short = sum(f.shortfall for f in self.findings)
        lines.append(f"preflight: {short} shortfall(s)" if short else "preflight: quotas suffice")
        return "\n".join(lines)


def preflight(config: PlatformConfig, *, quotas_client: Any, ec2_client: Any | None = None) -> Report:
    quotas = sagemaker_quotas(quotas_client)
    findings = [Finding(n, quotas.get(n.quota_name)) for n in needs(config)]
    zones = list(config.network.availability_zones) if config.network else []
    cluster_types = sorted({g.instance_type for c in config.training_clusters for g in c.instance_groups})
    missing = zone_offerings(ec2_client, cluster_types, zones) if ec2_client is not None and zones and cluster_types else {}
    return Report(findings, missing)


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import boto3

    from constructs_lib import PlatformValidationError
    from stacks.config import DEFAULT_CONFIG, load_config

    parser = argparse.ArgumentParser(prog="preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default=str(DEFAULT_CONFIG))
    parser.add_argument("--region", help="default: platform.region, else the AWS SDK's region")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except PlatformValidationError as err:
        print(f"error: invalid platform configuration\n{err}", file=sys.stderr)
        return 1
    region = args.region or config.platform.region
    session = boto3.Session(region_name=region) if region else boto3.Session()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        report = preflight(config, quotas_client=session.client("service-quotas"), ec2_client=session.client("ec2"))
    except (BotoCoreError, ClientError) as err:  # credentials, permissions, throttling: no traceback
        print(f"error: preflight could not read quotas ({type(err).__name__}: {err})", file=sys.stderr)
        return 2
    print(f"SageMaker quotas in {session.region_name} for {args.config}:")
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
