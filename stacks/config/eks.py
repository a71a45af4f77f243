"""``training_clusters[].eks``: HyperPod on EKS, with an EKS cluster the platform creates or an existing one.

```yaml
training_clusters:
  - name: eks-train
    orchestrator: eks
    eks:
      create: {version: "1.33", admins: [arn:aws:iam::123456789012:role/MlAdmin]}
      # defaults: the vendored hyperpod-dependencies chart and (created cluster) the cert-manager add-on
      dependencies_chart_values: {mlflow: {enabled: false}}
```

or, for an existing cluster (same account and region, in the existing platform VPC ``network.vpc_id``):

```yaml
    eks_cluster_arn: arn:aws:eks:us-east-1:123456789012:cluster/ml
    eks: {cluster_security_group_id: sg-0123456789abcdef0}
```

The rules live in ``constructs_lib.training.eks`` (``check_eks_cluster_props``,
``check_dependencies_props``); :func:`eks_problems` runs them on the props the training stack will
pass and renames prop paths to key paths, plus the rules that need the whole platform config
(account, region, network). Those props are the sections' ``to_spec()``: ``eks.create`` gives
``HyperPodEksClusterOptions``, ``eks`` ``HyperPodEksDependenciesOptions`` (add-ons, chart, kubectl
handler) and ``eks.observability`` ``HyperPodObservabilityAddonOptions``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field

from constructs_lib.errors import Problem, Problems
from constructs_lib.training import EKS_CLUSTER_ARN_PATTERN
from constructs_lib.training.eks import (
    CREATED_CLUSTER_ADDONS,
    DEFAULT_KUBERNETES_VERSION,
    EXISTING_CLUSTER_ADDONS,
    EksAddon,
    HyperPodDependenciesChart,
    HyperPodEksClusterOptions,
    HyperPodEksDependenciesOptions,
    check_dependencies_props,
    check_eks_cluster_props,
    check_existing_cluster_security_group,
)
from constructs_lib.training.eks_observability import (
    DEFAULT_METRIC_LEVELS,
    HyperPodObservabilityAddonOptions,
    check_observability_addon_props,
)

from ..naming import PlatformNames
from .base import Section

if TYPE_CHECKING:
    from . import PlatformConfig
    from .training import TrainingClusterSection


class EksCreateSection(Section):
    version: str = Field(default=DEFAULT_KUBERNETES_VERSION, description="Kubernetes version: 1.32, 1.33 or 1.34.")
    admins: list[str] = Field(
        default_factory=list, description="IAM role/user ARNs given AmazonEKSClusterAdminPolicy (access entries)."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list, description="CIDRs allowed on the public API endpoint; none = private endpoint only."
    )

    def to_spec(self) -> HyperPodEksClusterOptions:
        """``HyperPodEksCluster``'s keywords of the created cluster (all but its name, network and key)."""
        return HyperPodEksClusterOptions(
            version=self.version, admins=list(self.admins), public_access_cidrs=list(self.public_access_cidrs),
        )


class EksAddonsSection(Section):
    """``true``/``false`` per EKS add-on; omitted = the default for created or existing clusters."""

    vpc_cni: bool | None = None
    kube_proxy: bool | None = None
    coredns: bool | None = None
    pod_identity_agent: bool | None = None
    cert_manager: bool | None = None
    fsx_csi_driver: bool | None = None
    cloudwatch_observability: bool | None = None
    hyperpod_observability: bool | None = Field(
        default=None,
        description="AWS's HyperPod observability add-on (amazon-sagemaker-hyperpod-observability), installed after "
        "the HyperPod cluster and remote-writing to observability.prometheus; default: on with observability.prometheus.",
    )


_ADDON_KEYS: dict[str, EksAddon] = {
    "vpc_cni": EksAddon.VPC_CNI,
    "kube_proxy": EksAddon.KUBE_PROXY,
    "coredns": EksAddon.COREDNS,
    "pod_identity_agent": EksAddon.POD_IDENTITY_AGENT,
    "cert_manager": EksAddon.CERT_MANAGER,
    "fsx_csi_driver": EksAddon.FSX_CSI_DRIVER,
    "cloudwatch_observability": EksAddon.CLOUDWATCH_OBSERVABILITY,
}


class EksObservabilitySection(Section):
    """Settings of the HyperPod observability add-on (``eks.addons.hyperpod_observability``)."""

    metric_levels: dict[str, str] = Field(
        default_factory=dict,
        description="BASIC, ADVANCED or DISABLED per metric category over the defaults: " + ", ".join(
            f"{k} {v.value}" for k, v in DEFAULT_METRIC_LEVELS.items()),
    )
    scrape_interval_s: int = Field(default=30, description="Scrape interval of every category, 10-300 seconds.")
    logging: bool = Field(default=False, description="Container logs to CloudWatch Logs (/aws/sagemaker/Clusters/...).")

    def to_spec(self) -> HyperPodObservabilityAddonOptions:
        return HyperPodObservabilityAddonOptions(
            metric_levels=dict(self.metric_levels), scrape_interval_s=self.scrape_interval_s, logging=self.logging,
        )


class EksSection(Section):
    create: EksCreateSection | None = Field(default=None, description="Create the EKS cluster (instead of eks_cluster_arn).")
    cluster_security_group_id: str | None = Field(
        default=None, description="With eks_cluster_arn: the EKS cluster security group HyperPod nodes join."
    )
    addons: EksAddonsSection = Field(default_factory=EksAddonsSection)
    dependencies_chart: bool | str = Field(
        default=True,
        description="AWS's hyperpod-dependencies Helm chart: true = the copy vendored in constructs_lib "
        "(sagemaker-hyperpod-cli helm_chart/HyperPodHelmChart), false = not installed, or the folder of your "
        "own copy (after `helm dependencies update`).",
    )
    dependencies_chart_values: dict[str, Any] = Field(default_factory=dict, description="Helm values for that chart.")
    installer: bool | None = Field(
        default=None,
        description="aws-cdk-lib's kubectl handler + its access entry; default: on when a chart or fsx_lustre needs it.",
    )
    observability: EksObservabilitySection = Field(
        default_factory=EksObservabilitySection, description="The HyperPod observability add-on's metric levels and logs.",
    )

    def to_spec(self, *, lustre: bool) -> HyperPodEksDependenciesOptions:
        """``HyperPodEksDependencies``' keywords (all but the cluster, network and volumes) for a cluster
        with an FSx for Lustre file system (``lustre``) or without.

        ``addons``: the defaults for a created or existing cluster, the FSx CSI driver with ``lustre``,
        then the section's ``true``/``false`` overrides. ``dependencies_chart``: the vendored copy by
        default, a folder when one is named, none with ``false``. ``installer``: as configured, else
        when the chart or a volume needs it."""
        chosen = list(CREATED_CLUSTER_ADDONS if self.create is not None else EXISTING_CLUSTER_ADDONS)
        if lustre:
            chosen.append(EksAddon.FSX_CSI_DRIVER)
        for key, addon in _ADDON_KEYS.items():
            wanted = getattr(self.addons, key)
            if wanted is True and addon not in chosen:
                chosen.append(addon)
            elif wanted is False and addon in chosen:
                chosen.remove(addon)
        values = dict(self.dependencies_chart_values)
        chart = (
            None if self.dependencies_chart is False
            else HyperPodDependenciesChart(values=values) if self.dependencies_chart is True
            else HyperPodDependenciesChart(directory=self.dependencies_chart, values=values)
        )
        installer = self.installer if self.installer is not None else chart is not None or lustre
        return HyperPodEksDependenciesOptions(addons=chosen, dependencies_chart=chart, installer=installer)




def hyperpod_observability(config: PlatformConfig, cluster: TrainingClusterSection) -> bool:
    """Whether the HyperPod observability add-on goes in: as configured, else with ``observability.prometheus``."""
    if cluster.orchestrator != "eks":
        return False
    wanted = (cluster.eks or EksSection()).addons.hyperpod_observability
    has_workspace = config.observability is not None and config.observability.prometheus is not None
    return has_workspace if wanted is None else wanted


_CREATE_KEYS = {"version": "eks.create.version", "admins": "eks.create.admins",
                "public_access_cidrs": "eks.create.public_access_cidrs"}
_DEPENDENCY_KEYS = {"dependencies_chart.directory": "eks.dependencies_chart", "installer": "eks.installer",
                    "addons": "eks.addons"}
_VALUES_PATH = "dependencies_chart.values."
_BARE_PROP = re.compile(r"(?<![.\w])(dependencies_chart|addons)(?![_\w])")


def _renamed(problems: list[Problem], where: str, keys: dict[str, str]) -> list[Problem]:
    out = []
    for p in problems:
        head, bracket, tail = p.where.partition("[")
        key = keys.get(p.where) or (keys.get(head, head) + bracket + tail if bracket else keys.get(head, head))
        if p.where.startswith(_VALUES_PATH):
            key = "eks.dependencies_chart_values." + p.where[len(_VALUES_PATH):]
        allowed = _BARE_PROP.sub(r"eks.\1", p.allowed).replace("lustre_volumes", "fsx_lustre")
        out.append(Problem(f"{where}.{key}", p.value, allowed))
    return out


def eks_problems(config: PlatformConfig, where: str, cluster: TrainingClusterSection) -> list[Problem]:
    """Rules of one cluster's EKS keys (after the schema passed)."""
    problems = Problems("config")
    eks = cluster.eks
    if cluster.orchestrator != "eks":
        if eks is not None:
            problems.add(f"{where}.eks", "...", "only with orchestrator eks")
        return problems.items
    eks = eks or EksSection()
    arn = cluster.eks_cluster_arn
    if eks.create is not None:
        if arn is not None:
            problems.add(f"{where}.eks_cluster_arn", arn, "omit it with eks.create (the platform creates the EKS cluster)")
        if eks.cluster_security_group_id is not None:
            problems.add(f"{where}.eks.cluster_security_group_id", eks.cluster_security_group_id,
                         "omit it with eks.create (the created cluster's security group is used)")
        found = Problems(where)
        created = eks.create.to_spec()
        check_eks_cluster_props(
            found,
            cluster_name=PlatformNames.of(config).cluster(cluster.name),  # named like its HyperPod cluster
            version=created["version"],
            admins=list(created["admins"]),
            public_access_cidrs=list(created["public_access_cidrs"]),
        )
        problems.extend(_renamed(found.items, where, {**_CREATE_KEYS, "cluster_name": "name"}))
    else:
        if arn is None:
            problems.add(f"{where}.eks_cluster_arn", None,
                         "an EKS cluster ARN, arn:<partition>:eks:<region>:<account>:cluster/<name>, or eks.create")
        elif EKS_CLUSTER_ARN_PATTERN.match(arn):
            region, account = _arn_region_account(arn)
            platform = config.platform
            if platform.account and account != platform.account:
                problems.add(f"{where}.eks_cluster_arn", arn,
                             f"an EKS cluster of platform.account {platform.account} (HyperPod joins clusters of its own account)")
            if platform.region and region != platform.region:
                problems.add(f"{where}.eks_cluster_arn", arn,
                             f"an EKS cluster in platform.region {platform.region} (HyperPod joins clusters of its own region)")
        if arn is not None and config.network is not None and config.network.vpc_id is None:
            problems.add("network.vpc_id", None,
                         f"the existing EKS cluster's VPC with {where}.eks_cluster_arn (a new platform VPC cannot hold "
                         "an existing cluster's nodes): set network.vpc_id and private_subnet_ids, or use eks.create")
        if eks.cluster_security_group_id is None:
            problems.add(f"{where}.eks.cluster_security_group_id", None,
                         "the EKS cluster security group id with eks_cluster_arn (sg-..., `aws eks describe-cluster "
                         "--query cluster.resourcesVpcConfig.clusterSecurityGroupId`): HyperPod nodes join it so the "
                         "control plane reaches kubelet and nodes reach the API and CoreDNS")
        else:
            check_existing_cluster_security_group(problems, f"{where}.eks.cluster_security_group_id",
                                                  eks.cluster_security_group_id)
    found = Problems(where)
    dependencies = eks.to_spec(lustre=cluster.fsx_lustre is not None)
    check_dependencies_props(
        found,
        addons=list(dependencies["addons"]),
        dependencies_chart=dependencies["dependencies_chart"],
        lustre_volume_count=1 if cluster.fsx_lustre is not None else 0,
        installer=bool(dependencies["installer"]),
    )
    problems.extend(_renamed(found.items, where, _DEPENDENCY_KEYS))
    if hyperpod_observability(config, cluster):
        if config.observability is None or config.observability.prometheus is None:
            problems.add(f"{where}.eks.addons.hyperpod_observability", True,
                         "observability.prometheus with it (the add-on remote-writes to that workspace), or false")
        if eks.create is not None and EksAddon.POD_IDENTITY_AGENT not in dependencies["addons"]:
            problems.add(f"{where}.eks.addons.pod_identity_agent", False,
                         "true with eks.addons.hyperpod_observability (the add-on gets its credentials through EKS "
                         "Pod Identity: SageMaker guide, 'Setting up the SageMaker HyperPod observability add-on')")
        found = Problems(where)
        observability = eks.observability.to_spec()
        check_observability_addon_props(
            found, metric_levels=dict(observability["metric_levels"] or {}),
            scrape_interval_s=observability["scrape_interval_s"],
            instance_types=[g.instance_type for g in cluster.instance_groups],
        )
        problems.extend([Problem(f"{where}.{p.where if p.where == 'instance_groups' else 'eks.observability.' + p.where}",
                                 p.value, p.allowed) for p in found.items])
    return problems.items


def _arn_region_account(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return parts[3], parts[4]


__all__ = [
    "EksAddonsSection",
    "EksCreateSection",
    "EksObservabilitySection",
    "EksSection",
    "eks_problems",
    "hyperpod_observability",
]
