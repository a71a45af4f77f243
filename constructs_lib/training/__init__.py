"""Training constructs: HyperPod clusters, their network and shared storage, and the training platform.

Public API (re-exported by ``constructs_lib``):

* :class:`HyperPodCluster` with :class:`InstanceGroup`, :class:`SlurmOrchestration`,
  :class:`EksOrchestration` and the enums :class:`SlurmNodeType`, :class:`DeepHealthCheck`,
  :class:`NodeRecovery`, :class:`NodeProvisioningMode`, :class:`SlurmConfigStrategy`;
* :class:`TrainingNetwork` (VPC, endpoints, flow logs, EFA security group);
* :class:`LustreStorage` with :class:`DataRepository`, :class:`LustreDeploymentType`,
  :class:`DataRepositoryEvent`;
* :class:`TrainingPlatform` (training-job role, key, artifacts bucket, ECR, model package groups, SSM);
* :class:`TrainingPipeline` with :class:`Distribution` and :class:`ManagedSpot` (Step Functions:
  multi-instance training job, model registration, failure notification, optional schedule);
* the metric vocabulary in :mod:`constructs_lib.training.metrics`.
"""

from constructs_lib.training.cluster import (
    ALL_DEEP_HEALTH_CHECKS,
    DeepHealthCheck,
    EksOrchestration,
    HyperPodCluster,
    InstanceGroup,
    NodeProvisioningMode,
    NodeRecovery,
    SlurmConfigStrategy,
    SlurmNodeType,
    SlurmOrchestration,
)
from constructs_lib.training.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    EKS_INTERFACE_ENDPOINTS,
    TrainingNetwork,
)
from constructs_lib.training.pipeline import Distribution, ManagedSpot, TrainingPipeline
from constructs_lib.training.platform import TrainingPlatform
from constructs_lib.training.storage import (
    DataRepository,
    DataRepositoryEvent,
    LustreDeploymentType,
    LustreStorage,
)

__all__ = [
    "ALL_DEEP_HEALTH_CHECKS",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "EKS_INTERFACE_ENDPOINTS",
    "DataRepository",
    "DataRepositoryEvent",
    "DeepHealthCheck",
    "Distribution",
    "EksOrchestration",
    "HyperPodCluster",
    "InstanceGroup",
    "LustreDeploymentType",
    "LustreStorage",
    "ManagedSpot",
    "NodeProvisioningMode",
    "NodeRecovery",
    "SlurmConfigStrategy",
    "SlurmNodeType",
    "SlurmOrchestration",
    "TrainingNetwork",
    "TrainingPipeline",
    "TrainingPlatform",
]
