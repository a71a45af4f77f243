"""Estimated monthly cost of a config's always-on capacity, from an embedded, dated price table.

An estimate, not a bill: on-demand list prices of one region (``PRICE_REGION``) as recorded on
``PRICES_AS_OF``, times 730 hours a month, for capacity that runs whatever the traffic:

* endpoint instances: each production and shadow variant's ``instance_count``, or its autoscaling
  minimum when autoscaling is set (scheduled scale-ups, scale-out and blue/green update fleets are
  not included); asynchronous and inference-component endpoints may scale to zero;
* HyperPod instance groups: ``count`` instances of each group;
* FSx for Lustre: storage GiB x the per-GB-month price of its deployment type and throughput tier;
* NAT gateways of a VPC the platform creates (hourly charge only, no data processing);
* EKS clusters the platform creates (``eks.create``): the control-plane hour in standard support.

Not included: serverless inference (billed per request and provisioned-concurrency second),
training jobs (on demand), storage, data transfer, Savings Plans and other discounts. Instance
types missing from the table are listed as "not priced" and left out of the total.

Prices: SageMaker AI pricing page (on-demand, real-time inference and HyperPod instance prices,
which are the same per instance type for the types below), FSx for Lustre pricing page, Amazon VPC
pricing page (NAT gateway hour). Update ``PRICES_AS_OF`` whenever a price here changes.

Usage: ``python -m stacks.cost configs/prod.yaml`` prints the summary synth prints.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.config import PlatformConfig

PRICES_AS_OF = "2026-12-01"
PRICE_REGION = "us-east-1"
HOURS_PER_MONTH = 730

# USD per instance-hour, on demand, SageMaker AI (endpoint and HyperPod cluster usage).
INSTANCE_USD_PER_HOUR: dict[str, float] = {
    "ml.t2.medium": 0.056, "ml.t3.medium": 0.05,
    "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.m5.12xlarge": 2.765,
    "ml.c5.large": 0.102, "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816,
    "ml.c6i.large": 0.102, "ml.c6i.xlarge": 0.204, "ml.c6i.2xlarge": 0.408, "ml.c6i.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.7364, "ml.g4dn.2xlarge": 0.94, "ml.g4dn.12xlarge": 4.89,
    "ml.g5.xlarge": 1.408, "ml.g5.2xlarge": 1.515, "ml.g5.4xlarge": 2.03, "ml.g5.8xlarge": 3.06,
    "ml.g5.12xlarge": 7.09, "ml.g5.16xlarge": 5.12, "ml.g5.24xlarge": 10.18, "ml.g5.48xlarge": 20.36,
    "ml.inf2.xlarge": 0.99, "ml.inf2.8xlarge": 2.36,
    "ml.p4d.24xlarge": 37.688, "ml.p5.48xlarge": 113.07,
    "ml.trn1.32xlarge": 28.497,
}
# USD per GB-month of FSx for Lustre SSD storage, by deployment type and MB/s/TiB throughput tier.
LUSTRE_USD_PER_GB_MONTH: dict[tuple[str, int], float] = {
    ("PERSISTENT_2", 125): 0.145, ("PERSISTENT_2", 250): 0.21, ("PERSISTENT_2", 500): 0.34, ("PERSISTENT_2", 1000): 0.60,
    ("PERSISTENT_1", 50): 0.14, ("PERSISTENT_1", 100): 0.194, ("PERSISTENT_1", 200): 0.29,
}
LUSTRE_DEFAULT_THROUGHPUT = {"PERSISTENT_2": 250, "PERSISTENT_1": 200}
NAT_GATEWAY_USD_PER_HOUR = 0.045
# Amazon EKS pricing page: per cluster-hour in standard Kubernetes version support.
EKS_CLUSTER_USD_PER_HOUR = 0.10


@dataclass(frozen=True)
class CostItem:
    label: str  # "endpoint chat-llm: 2 x ml.g5.2xlarge"
    monthly_usd: float | None  # None: not priced (unknown instance type)


@dataclass
class CostEstimate:
    items: list[CostItem] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        return sum(i.monthly_usd for i in self.items if i.monthly_usd is not None)

    @property
    def unpriced(self) -> list[CostItem]:
        return [i for i in self.items if i.monthly_usd is None]

    @property
    def basis(self) -> str:
        return f"estimate: on-demand {PRICE_REGION} prices as of {PRICES_AS_OF}, {HOURS_PER_MONTH} h/month"

    def biggest(self, n: int) -> list[CostItem]:
        priced = [i for i in self.items if i.monthly_usd]
        return sorted(priced, key=lambda i: i.monthly_usd, reverse=True)[:n]

    def summary(self) -> str:
        lines = [f"Estimated monthly cost of always-on capacity: ${self.total_usd:,.0f} ({self.basis})"]
        for item in sorted(self.items, key=lambda i: -(i.monthly_usd or 0)):
            amount = f"${item.monthly_usd:>10,.0f}" if item.monthly_usd is not None else "  not priced"
            lines.append(f"  {amount}  {item.label}")
        lines.append("  Not included: serverless inference, training jobs, storage, data transfer, discounts.")
        return "\n".join(lines)


def _instances(label: str, instance_type: str, count: int) -> CostItem | None:
    if count <= 0:
        return None
    price = INSTANCE_USD_PER_HOUR.get(instance_type)
    text = f"{label}: {count} x {instance_type}"
    return CostItem(text, None if price is None else round(price * count * HOURS_PER_MONTH, 2))


def estimate(config: PlatformConfig) -> CostEstimate:
    """Always-on capacity of ``config`` priced from the table (see the module docstring)."""
    est = CostEstimate()

    def add(item: CostItem | None) -> None:
        if item is not None:
            est.items.append(item)

    from constructs_lib.inference import EndpointKind, traits_of

    from .config.endpoints import shadow_variant_sections, variant_sections

    for ep in config.endpoints:
        floor = ep.autoscaling.min if ep.autoscaling is not None else None
        if not traits_of(EndpointKind(ep.type)).has_instances:  # serverless: billed per request, not always on
            continue
        if variant_sections(ep):
            for v in variant_sections(ep):
                add(_instances(f"endpoint {ep.name}/{v.name}", v.instance_type, floor if floor is not None else v.instance_count))
        elif ep.instance_type:
            add(_instances(f"endpoint {ep.name}", ep.instance_type, floor if floor is not None else ep.instance_count))
        for s in shadow_variant_sections(ep):
            add(_instances(f"endpoint {ep.name}/{s.name} (shadow)", s.instance_type, s.instance_count))
    for cluster in config.training_clusters:
        for group in cluster.instance_groups:
            add(_instances(f"HyperPod {cluster.name}/{group.name}", group.instance_type, group.count))
        fsx = cluster.fsx_lustre
        if fsx is not None:
            tier = fsx.throughput_mbps_per_tib or LUSTRE_DEFAULT_THROUGHPUT.get(fsx.deployment_type, 0)
            price = LUSTRE_USD_PER_GB_MONTH.get((fsx.deployment_type, tier))
            add(CostItem(
                f"FSx for Lustre {cluster.name}: {fsx.storage_gib} GiB {fsx.deployment_type} {tier} MB/s/TiB",
                None if price is None else round(price * fsx.storage_gib, 2),
            ))
        if cluster.eks is not None and cluster.eks.create is not None:
            add(CostItem(f"EKS cluster of {cluster.name}: control plane",
                         round(EKS_CLUSTER_USD_PER_HOUR * HOURS_PER_MONTH, 2)))
    net = config.network
    if net is not None and net.max_azs is not None and net.nat_gateways:
        add(CostItem(f"NAT gateways: {net.nat_gateways}", round(NAT_GATEWAY_USD_PER_HOUR * net.nat_gateways * HOURS_PER_MONTH, 2)))
    return est


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from constructs_lib import PlatformValidationError
    from stacks.config import DEFAULT_CONFIG, load_config

    try:
        config = load_config(argv[0] if argv else DEFAULT_CONFIG)
    except PlatformValidationError as err:
        print(f"error: invalid platform configuration\n{err}", file=sys.stderr)
        return 1
    print(estimate(config).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
