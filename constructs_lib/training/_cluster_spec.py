"""Props of :class:`~constructs_lib.training.cluster.HyperPodCluster`: instance groups, orchestration and
the enums of ``AWS::SageMaker::Cluster`` they map to.

Kept apart from the construct so the config (``stacks/config/training.py``) and the checks
(:mod:`constructs_lib.training._cluster_checks`) read the same types without the construct's imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypedDict, runtime_checkable

from constructs_lib.training.collector import NodeMonitoring


class SlurmNodeType(str, Enum):
    """``SlurmConfig.NodeType`` of an instance group."""

    CONTROLLER = "Controller"
    LOGIN = "Login"
    COMPUTE = "Compute"


class DeepHealthCheck(str, Enum):
    """``OnStartDeepHealthChecks`` values: stress tests run before a node joins the cluster."""

    INSTANCE_STRESS = "InstanceStress"
    INSTANCE_CONNECTIVITY = "InstanceConnectivity"


ALL_DEEP_HEALTH_CHECKS = (DeepHealthCheck.INSTANCE_STRESS, DeepHealthCheck.INSTANCE_CONNECTIVITY)


class NodeRecovery(str, Enum):
    AUTOMATIC = "Automatic"  # faulty nodes are replaced or rebooted
    NONE = "None"  # faulty nodes are only labelled


class NodeProvisioningMode(str, Enum):
    CONTINUOUS = "Continuous"  # provisions nodes as capacity arrives; emits "HyperPod Cluster Event"s
    STANDARD = "Standard"  # the property is omitted: all-or-nothing provisioning of the earlier API



NODE_ROLES = {SlurmNodeType.CONTROLLER: "controller", SlurmNodeType.LOGIN: "login", SlurmNodeType.COMPUTE: "compute"}


class SlurmConfigStrategy(str, Enum):
    """How HyperPod treats slurm.conf (``Orchestrator.Slurm.SlurmConfigStrategy``)."""

    MANAGED = "Managed"
    MERGE = "Merge"
    OVERWRITE = "Overwrite"


@dataclass(frozen=True, kw_only=True)
class InstanceGroup:
    """One instance group of the cluster.

    :param name: group name (1-63 letters, digits, hyphens); unique within the cluster.
    :param instance_type: a HyperPod instance type (botocore enum ``ClusterInstanceType``), e.g. ``ml.p5.48xlarge``.
    :param instance_count: number of instances, 0-6758.
    :param slurm_node_type: role in a Slurm cluster: required with Slurm orchestration, not allowed with EKS.
    :param partition_name: Slurm partition of a compute group. Default: HyperPod's default partition.
    :param threads_per_core: 1 turns simultaneous multithreading off, 2 keeps it on. Default: the
        instance type's default.
    :param ebs_volume_size_gb: extra EBS volume per instance, mounted at ``/opt/sagemaker`` (1-16384 GB).
        Default: none.
    :param deep_health_checks: stress and connectivity tests run when a node starts. Default: none;
        use :data:`ALL_DEEP_HEALTH_CHECKS` for GPU and Trainium worker groups.
    :param training_plan_arn: a SageMaker training plan reserving the capacity. Default: on-demand.
    """

    name: str
    instance_type: str
    instance_count: int
    slurm_node_type: SlurmNodeType | None = None
    partition_name: str | None = None
    threads_per_core: int | None = None
    ebs_volume_size_gb: int | None = None
    deep_health_checks: Sequence[DeepHealthCheck] = ()
    training_plan_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class SlurmOrchestration:
    """Slurm orchestration configured by HyperPod (``Orchestrator.Slurm``).

    :param config_strategy: how HyperPod manages slurm.conf. Default ``MANAGED`` (the lifecycle
        scripts of this construct never edit slurm.conf).
    """

    config_strategy: SlurmConfigStrategy = SlurmConfigStrategy.MANAGED


@runtime_checkable
class _HasClusterArn(Protocol):
    @property
    def cluster_arn(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class EksOrchestration:
    """Nodes join an existing EKS cluster (``Orchestrator.Eks``; create-only: changing it replaces the cluster).

    The EKS cluster must use the ``API`` or ``API_AND_CONFIG_MAP`` authentication mode.

    :param cluster_arn: ARN of the EKS cluster.
    :param cluster_security_group_id: the EKS cluster security group (the one EKS creates, which lets
        the control plane and its members talk on every port). HyperPod nodes join it next to their
        EFA group, so the control plane reaches kubelet (10250) and nodes reach the API (443) and
        CoreDNS (53) as the EKS User Guide's security group requirements ask. Default: none (then
        that group must accept HTTPS from the EFA group and allow kubelet/DNS to it by other means).
    """

    cluster_arn: str
    cluster_security_group_id: str | None = None

    @classmethod
    def from_cluster(cls, cluster: _HasClusterArn) -> EksOrchestration:
        """From an ``aws_eks.ICluster`` (or anything with ``cluster_arn``)."""
        return cls(cluster_arn=cluster.cluster_arn)


Orchestration = SlurmOrchestration | EksOrchestration


@runtime_checkable
class PrometheusRemoteWrite(Protocol):
    """An Amazon Managed Service for Prometheus workspace the nodes remote-write to
    (``constructs_lib.observability.PrometheusWorkspace`` or its ``from_workspace_arn``)."""

    @property
    def workspace_arn(self) -> str: ...

    @property
    def prometheus_endpoint(self) -> str: ...

    @property
    def remote_write_url(self) -> str: ...


class _HyperPodClusterOptionsRequired(TypedDict):
    """The keywords :class:`HyperPodClusterOptions` must hold (the constructor's required ones)."""

    cluster_name: str
    instance_groups: Sequence[InstanceGroup]


class HyperPodClusterOptions(_HyperPodClusterOptionsRequired, total=False):
    """The keyword arguments of :class:`~constructs_lib.training.cluster.HyperPodCluster` that shape the
    cluster itself: every one but the deploy-time objects (network, storage, buckets, keys,
    repositories, Prometheus workspace), with the constructor's names, types and defaults.

    ``HyperPodCluster(scope, id, network=..., **options)`` (type checkers check the splat). The
    platform's config builds one per ``training_clusters`` entry (``TrainingClusterSection.to_spec()``).
    """

    orchestration: Orchestration | None
    node_recovery: NodeRecovery
    node_provisioning_mode: NodeProvisioningMode
    node_monitoring: NodeMonitoring | None
