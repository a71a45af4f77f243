"""Training constructs: HyperPod clusters, their network and shared storage, and the training platform.

Public API (re-exported by ``constructs_lib``):

* :class:`HyperPodCluster` (and :class:`HyperPodClusterOptions`, its keywords a config sets) with :class:`InstanceGroup`, :class:`SlurmOrchestration`,
  :class:`EksOrchestration` and the enums :class:`SlurmNodeType`, :class:`DeepHealthCheck`,
  :class:`NodeRecovery`, :class:`NodeProvisioningMode`, :class:`SlurmConfigStrategy`;
* :class:`TrainingNetwork` (VPC, endpoints, flow logs, EFA security group);
* :class:`LustreStorage` with :class:`DataRepository`, :class:`LustreDeploymentType`,
  :class:`DataRepositoryEvent` (and :class:`LustreStorageOptions`, its keywords a config sets);
* :class:`TrainingPlatform` (training-job role, key, artifacts bucket, ECR, model package groups, SSM);
* :class:`TrainingPipeline` with :class:`TrainingPipelineOptions` (its keywords a config sets),
  :class:`ManagedSpot` and, from :mod:`constructs_lib.training.distribution`,
  :class:`Distribution`, :class:`DistributionConfig`, :class:`DataParallel`, :class:`ModelParallel`,
  :class:`DataChannel`, :class:`DataDistribution`, :class:`InputMode`, :class:`EntryPoint` (Step
  Functions: multi-instance training job, model registration, failure notification, optional schedule);
* the metric vocabulary in :mod:`constructs_lib.training.metrics` (HyperPod nodes, CloudWatch agent),
  :mod:`constructs_lib.training.collector` (HyperPod node collector: idle GPUs, DCGM health, Slurm,
  EFA) and :mod:`constructs_lib.training.job_metrics` (training jobs, with :class:`MetricDefinition`).
"""

from constructs_lib.training.cluster import (
    ALL_DEEP_HEALTH_CHECKS,
    DeepHealthCheck,
    EksOrchestration,
    HyperPodCluster,
    HyperPodClusterOptions,
    InstanceGroup,
    NodeProvisioningMode,
    NodeRecovery,
    SlurmConfigStrategy,
    SlurmNodeType,
    SlurmOrchestration,
)
from constructs_lib.training.collector import CollectorMetric, EfaCounter, NodeMonitoring
from constructs_lib.training.distribution import (
    DataChannel,
    DataDistribution,
    DataParallel,
    Distribution,
    DistributionConfig,
    EntryPoint,
    InputMode,
    ModelParallel,
)
from constructs_lib.training.job_metrics import MetricDefinition
from constructs_lib.training.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    EKS_INTERFACE_ENDPOINTS,
    TrainingNetwork,
)
from constructs_lib.training.pipeline import ManagedSpot, TrainingPipeline, TrainingPipelineOptions
from constructs_lib.training.platform import TrainingPlatform
from constructs_lib.training.storage import (
    DataRepository,
    DataRepositoryEvent,
    LustreDeploymentType,
    LustreStorage,
    LustreStorageOptions,
)

from ._limits import EKS_CLUSTER_ARN_PATTERN  # the config checks ARNs with the construct's pattern

__all__ = [
    "ALL_DEEP_HEALTH_CHECKS",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "EKS_CLUSTER_ARN_PATTERN",
    "EKS_INTERFACE_ENDPOINTS",
    "CollectorMetric",
    "DataChannel",
    "DataDistribution",
    "DataParallel",
    "DataRepository",
    "DataRepositoryEvent",
    "DeepHealthCheck",
    "Distribution",
    "DistributionConfig",
    "EfaCounter",
    "EksOrchestration",
    "EntryPoint",
    "HyperPodCluster",
    "HyperPodClusterOptions",
    "InputMode",
    "InstanceGroup",
    "LustreDeploymentType",
    "LustreStorage",
    "LustreStorageOptions",
    "ManagedSpot",
    "MetricDefinition",
    "ModelParallel",
    "NodeMonitoring",
    "NodeProvisioningMode",
    "NodeRecovery",
    "SlurmConfigStrategy",
    "SlurmNodeType",
    "SlurmOrchestration",
    "TrainingNetwork",
    "TrainingPipeline",
    "TrainingPipelineOptions",
    "TrainingPlatform",
]
