"""``training_clusters``, ``training`` and ``training_pipelines``: HyperPod clusters, the training platform
and Step Functions training pipelines.

The schema below fixes the contract's keys and value types. Every HyperPod and FSx for Lustre limit
(names, 1-100 groups, unique group names, counts, instance types, threads per core, deep health
checks, EBS size, one Slurm controller, the EKS cluster ARN, FSx storage and throughput per
deployment type, model package group names, pipeline instance types and spot waits) is checked by
the rule functions of ``constructs_lib.training`` (``check_cluster_props``, ``check_lustre_props``,
``check_platform_props``, ``check_pipeline_props``): :func:`training_problems` runs them on the very props the training stack
will pass to the constructs, and renames the construct's prop paths to config key paths. Each rule
therefore lives in one place, and config and constructs cannot drift.

Each section builds its library type with ``to_spec()``, in that type's own field names: a cluster
entry gives ``HyperPodCluster``'s keywords (``HyperPodClusterOptions``), ``fsx_lustre``
``LustreStorage``'s (``LustreStorageOptions``, given a bucket resolver for the data repositories), a
pipeline entry ``TrainingPipeline``'s (``TrainingPipelineOptions``), and each sub-section its spec
(``InstanceGroup``, ``NodeMonitoring`` (and ``health_spec()``: ``NodeHealthMonitoring``), ``DataRepository``,
``ManagedSpot``, ``DistributionConfig``, ``EntryPoint``, ``DataChannel``, ``MetricDefinition``,
``TrainingMonitoringSpec``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, cast

from aws_cdk import Duration, Size
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from pydantic import Field, StringConstraints

from constructs_lib import limits
from constructs_lib.errors import Problem, Problems
from constructs_lib.observability.alarms import SeverityThresholds
from constructs_lib.observability.cluster_monitoring import NodeHealthMonitoring, check_idle_gpu_hours
from constructs_lib.observability.training_monitoring import TrainingMonitoringSpec, check_training_monitoring
from constructs_lib.training import (
    DataRepository,
    DeepHealthCheck,
    EksOrchestration,
    HyperPodClusterOptions,
    InstanceGroup,
    LustreDeploymentType,
    LustreStorageOptions,
    NodeProvisioningMode,
    NodeRecovery,
    SlurmNodeType,
    SlurmOrchestration,
    TrainingPipelineOptions,
)
from constructs_lib.training.cluster import Orchestration, check_cluster_props
from constructs_lib.training.collector import NodeMonitoring, check_node_monitoring
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
from constructs_lib.training.job_metrics import (
    MetricDefinition,
    job_name_prefix,
    search_matches_any_job,
    search_may_match,
    search_tokens,
)
from constructs_lib.training.pipeline import ManagedSpot, check_pipeline_props
from constructs_lib.training.platform import check_platform_props
from constructs_lib.training.storage import DEFAULT_STORAGE_GIB, check_lustre_props

from ..naming import PlatformNames
from .base import Section, matching
from .eks import EksSection, eks_problems
from .endpoints import StackKey

if TYPE_CHECKING:
    from . import PlatformConfig

Role = Literal["controller", "login", "worker"]
SLURM_NODE_TYPES: dict[str, SlurmNodeType] = {
    "controller": SlurmNodeType.CONTROLLER,
    "login": SlurmNodeType.LOGIN,
    "worker": SlurmNodeType.COMPUTE,
}
NODE_RECOVERY = {"automatic": NodeRecovery.AUTOMATIC, "none": NodeRecovery.NONE}
NODE_PROVISIONING = {"continuous": NodeProvisioningMode.CONTINUOUS, "standard": NodeProvisioningMode.STANDARD}
DEFAULT_DATASETS_PATH = "/datasets"
S3Uri = Annotated[str, StringConstraints(max_length=1024), matching(limits.S3_URI, "an s3://bucket/prefix URI")]


class InstanceGroupSection(Section):
    name: str = Field(description="Unique within the cluster; 1-63 letters, digits, hyphens.")
    role: Role = Field(
        default="worker",
        description="Slurm: exactly one controller group (one instance), any login and worker groups. "
        "EKS: worker (every node runs pods).",
    )
    instance_type: str = Field(description="botocore enum ClusterInstanceType, e.g. ml.p5.48xlarge.")
    count: int = Field(description="Instances in the group, 0-6758.")
    threads_per_core: int | None = Field(default=None, description="1 (multithreading off) or 2. Default: the type's.")
    deep_health_checks: list[str] = Field(
        default_factory=list, description="Subset of InstanceStress, InstanceConnectivity, run when a node starts."
    )
    ebs_volume_gb: int | None = Field(default=None, description="Extra EBS volume at /opt/sagemaker, 1-16384 GB.")
    training_plan_arn: str | None = Field(default=None, description="A SageMaker training plan reserving the capacity.")

    def to_spec(self, *, slurm: bool) -> InstanceGroup:
        """The group of a Slurm cluster (``slurm``) or an EKS one."""
        return InstanceGroup(
            name=self.name,
            instance_type=self.instance_type,
            instance_count=self.count,
            # EKS groups have no Slurm role; a controller or login group there is refused by the
            # construct's rule ("unset with EKS orchestration").
            slurm_node_type=SLURM_NODE_TYPES[self.role] if slurm or self.role != "worker" else None,
            threads_per_core=self.threads_per_core,
            ebs_volume_size_gb=self.ebs_volume_gb,
            # The names as given (DeepHealthCheck is a str enum): check_cluster_props refuses unknown ones in its words.
            deep_health_checks=cast(tuple[DeepHealthCheck, ...], tuple(self.deep_health_checks)),
            training_plan_arn=self.training_plan_arn,
        )


class DataRepositorySection(Section):
    import_path: S3Uri = Field(description="s3://bucket/prefix linked to file_system_path (imported on change).")
    file_system_path: str = Field(default=DEFAULT_DATASETS_PATH, description="Directory of the file system.")

    def to_spec(self, *, bucket: Callable[[str], s3.IBucket]) -> DataRepository:
        """``bucket(name)`` returns the ``s3.IBucket`` of the import path's bucket."""
        bucket_name, prefix = split_s3_uri(self.import_path)
        return DataRepository(bucket=bucket(bucket_name), prefix=prefix, file_system_path=self.file_system_path)


class FsxLustreSection(Section):
    storage_gib: int = Field(default=DEFAULT_STORAGE_GIB, description="1200, 2400 or a multiple of 2400 GiB.")
    throughput_mbps_per_tib: int | None = Field(
        default=None, description="PERSISTENT_2: 125, 250 (default), 500, 1000; PERSISTENT_1: 50, 100, 200 (default)."
    )
    deployment_type: str = Field(default=LustreDeploymentType.PERSISTENT_2.value, description="PERSISTENT_2 or PERSISTENT_1.")
    data_repositories: list[DataRepositorySection] = Field(default_factory=list, description="At most 8, not nested.")

    def to_spec(self, *, bucket: Callable[[str], s3.IBucket]) -> LustreStorageOptions:
        """``LustreStorage``'s keywords (all but ``network`` and the key); ``bucket(name)`` returns the
        ``s3.IBucket`` of a data repository's import path."""
        known = self.deployment_type in tuple(LustreDeploymentType)
        return LustreStorageOptions(
            storage_capacity_gib=self.storage_gib,
            # An unknown name goes through as it is, for check_lustre_props to refuse in its words.
            deployment_type=LustreDeploymentType(self.deployment_type) if known
            else cast(LustreDeploymentType, self.deployment_type),
            per_unit_storage_throughput=self.throughput_mbps_per_tib,
            data_repositories=[r.to_spec(bucket=bucket) for r in self.data_repositories],
        )


class ClusterMonitoringSection(Section):
    idle_gpu_floor_percent: float = Field(
        default=10, description="A GPU below this utilization (percent) counts as idle (idle GPU-hours, warning alarm)."
    )
    dcgm: bool = Field(default=False, description="GPU health from NVIDIA DCGM: XID, ECC, throttling, NVLink errors.")
    idle_gpu_hours_per_hour: float | None = Field(
        default=NodeHealthMonitoring.idle_gpu_hours_per_hour,
        description="Warning when an instance group spends this many GPU-hours idle in an hour; null: off.",
    )

    def to_spec(self) -> NodeMonitoring:
        """The cluster's ``node_monitoring`` (what the node collector publishes)."""
        return NodeMonitoring(idle_gpu_floor_percent=self.idle_gpu_floor_percent, dcgm=self.dcgm)

    def health_spec(self, *, gpu_instance_groups: Sequence[str], slurm: bool) -> NodeHealthMonitoring:
        """The dashboard rows and alarms of what the collector publishes (observability), for the built
        cluster's GPU groups and orchestrator."""
        return NodeHealthMonitoring(
            gpu_instance_groups=tuple(gpu_instance_groups), idle_gpu_floor_percent=self.idle_gpu_floor_percent,
            dcgm=self.dcgm, slurm=slurm, idle_gpu_hours_per_hour=self.idle_gpu_hours_per_hour,
        )


# ``training_clusters[].stack`` / ``training_pipelines[].stack``: the same keys as ``endpoints[].stack``.
TRAINING_SHARD_RULE = (
    "Training shard stack <prefix>-training-<stack> holding this {what} and its dashboard and alarms (with the "
    "other entries of the same key); default: the training and observability stacks."
)


class TrainingClusterSection(Section):
    name: str = Field(description="Cluster name; the physical name is <platform>-<environment>-<name> (<= 63).")
    orchestrator: Literal["slurm", "eks"] = "slurm"
    eks_cluster_arn: str | None = Field(default=None, description="With orchestrator eks: the EKS cluster (in the platform VPC).")
    node_recovery: Literal["automatic", "none"] = "automatic"
    node_provisioning_mode: Literal["continuous", "standard"] = "continuous"
    instance_groups: list[InstanceGroupSection]
    fsx_lustre: FsxLustreSection | None = Field(default=None, description="Shared file system mounted at /fsx.")
    eks: EksSection | None = Field(default=None, description="With orchestrator eks: create the EKS cluster, add-ons, charts.")
    monitoring: ClusterMonitoringSection | None = Field(
        default=None, description="Node collector in the lifecycle scripts: idle GPUs, GPU health (DCGM), Slurm queue, EFA errors."
    )
    stack: StackKey | None = Field(
        default=None, description=TRAINING_SHARD_RULE.format(what="cluster, its file system") + " Changing it replaces "
        "the cluster and its file system.",
    )

    def orchestration_spec(self) -> SlurmOrchestration | EksOrchestration:
        """The orchestration of an existing EKS cluster, or Slurm (a created EKS cluster supplies its own)."""
        if self.orchestrator == "eks":
            group = self.eks.cluster_security_group_id if self.eks else None
            return EksOrchestration(cluster_arn=self.eks_cluster_arn, cluster_security_group_id=group)  # type: ignore[arg-type]
        return SlurmOrchestration()

    def to_spec(self, *, cluster_name: str, orchestration: Orchestration | None = None) -> HyperPodClusterOptions:
        """``HyperPodCluster``'s keywords of this entry, named ``cluster_name`` (the physical name) and
        orchestrated by ``orchestration`` (a created EKS cluster's) or else :meth:`orchestration_spec`."""
        slurm = self.orchestrator == "slurm"
        return HyperPodClusterOptions(
            cluster_name=cluster_name,
            instance_groups=[g.to_spec(slurm=slurm) for g in self.instance_groups],
            orchestration=orchestration if orchestration is not None else self.orchestration_spec(),
            node_recovery=NODE_RECOVERY[self.node_recovery],
            node_provisioning_mode=NODE_PROVISIONING[self.node_provisioning_mode],
            node_monitoring=self.monitoring.to_spec() if self.monitoring is not None else None,
        )


class ManagedSpotSection(Section):
    # ge=0: a CDK Duration cannot be negative (jsii raises before any rule runs); the bounds are the library's.
    max_wait_hours: int = Field(ge=0, description="Longest run including waits for spot capacity; >= max_runtime_hours.")

    def to_spec(self) -> ManagedSpot:
        return ManagedSpot(max_wait=Duration.hours(self.max_wait_hours))


DistributionKind = Literal["torch_distributed", "pytorchddp", "mpi"]


class DistributionSection(Section):
    kind: DistributionKind = Field(description="The launcher of the framework container.")
    data_parallel: Literal["smddp"] | None = Field(
        default=None, description="SageMaker distributed data parallelism (torch_distributed or pytorchddp)."
    )
    model_parallel: dict[str, int | bool] | None = Field(
        default=None, description="SMP v2 parameters (torch_distributed), e.g. {hybrid_shard_degree: 8}."
    )
    processes_per_host: int | None = Field(default=None, description="mpi only: processes per instance.")

    def to_spec(self) -> DistributionConfig:
        return DistributionConfig(
            kind=Distribution(self.kind),
            data_parallel=DataParallel(self.data_parallel) if self.data_parallel else None,
            model_parallel=ModelParallel(parameters=dict(self.model_parallel)) if self.model_parallel is not None else None,
            processes_per_host=self.processes_per_host,
        )


class EntryPointSection(Section):
    script: str = Field(description="Script inside the code archive, e.g. train.py (sagemaker_program).")
    source_prefix: str = Field(description="Key prefix of the artifact bucket holding sourcedir.tar.gz; ends with /.")

    def to_spec(self) -> EntryPoint:
        return EntryPoint(script=self.script, source_prefix=self.source_prefix)


class ChannelSection(Section):
    name: str = Field(description="Channel name (/opt/ml/input/data/<name>).")
    s3_prefix: str = Field(description="Key prefix in the artifact bucket.")
    distribution: Literal["FullyReplicated", "ShardedByS3Key"] = "FullyReplicated"
    input_mode: Literal["File", "FastFile", "Pipe"] | None = None

    def to_spec(self) -> DataChannel:
        return DataChannel(
            name=self.name,
            s3_prefix=self.s3_prefix,
            distribution=DataDistribution(self.distribution),
            input_mode=InputMode(self.input_mode) if self.input_mode else None,
        )


class MetricDefinitionSection(Section):
    name: str = Field(description="CloudWatch metric name, e.g. train_loss (letters, digits, _ . : / # % + -).")
    regex: str = Field(description="Regex over the job's logs; its first group is the value, e.g. loss=([0-9\\.]+).")

    def to_spec(self) -> MetricDefinition:
        return MetricDefinition(name=self.name, regex=self.regex)


class TrainingMonitoringSection(Section):
    progress_metric: str | None = Field(
        default=None, description="One of metric_definitions: a running job is stalled (critical, its own alarm) when "
        "it is absent for stall_minutes. Default: no stall alarm.",
    )
    stall_minutes: int = Field(default=30, description="A multiple of 5 from 10 to 180; also the job's start-up allowance "
                               "(the alarm is created when the job turns InProgress).")
    gpu_utilization_floor_percent: float | None = Field(
        default=40.0, description="Per GPU: warning when a running job's hosts' mean stays below it for "
        "gpu_underuse_minutes (hosts in groups of 10); null: off.",
    )
    gpu_underuse_minutes: int = Field(default=30, description="A multiple of 5 from 10 to 180.")
    disk_utilization_warning_percent: float | None = Field(default=80.0, description="A running job's host volume; null: off.")
    disk_utilization_critical_percent: float | None = Field(default=90.0, description="A running job's host volume; null: off.")

    def to_spec(self) -> TrainingMonitoringSpec:
        """The pipeline's alarm settings (observability stack)."""
        return TrainingMonitoringSpec(
            progress_metric=self.progress_metric,
            stall_minutes=self.stall_minutes,
            gpu_utilization_floor_percent=self.gpu_utilization_floor_percent,
            gpu_underuse_minutes=self.gpu_underuse_minutes,
            disk_percent=SeverityThresholds(warning=self.disk_utilization_warning_percent,
                                            critical=self.disk_utilization_critical_percent),
        )


class TrainingPipelineSection(Section):
    name: str = Field(description="1-26 letters, digits, hyphens; jobs are named <name>-<uuid>.")
    image_tag: Annotated[
        str, matching(r"^[\w][\w.-]{0,127}$", "1-128 letters, digits, underscores, dots and hyphens, not starting with a dot or hyphen")
    ] = Field(
        description="Tag of the training image in the training platform's ECR repository."
    )
    instance_type: str = Field(description="botocore enum TrainingInstanceType, e.g. ml.p4d.24xlarge.")
    instance_count: int = 1
    distribution: DistributionKind | DistributionSection | None = Field(
        default=None, description="A launcher, or {kind, data_parallel, model_parallel, processes_per_host}."
    )
    entry_point: EntryPointSection | None = Field(default=None, description="Script and code archive (framework images).")
    channels: list[ChannelSection] | None = Field(default=None, description="Input channels (instead of input_prefix).")
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    # ge=0: a CDK Size or Duration cannot be negative (jsii raises before any rule runs); the bounds
    # (at least 1 GiB, 1 minute to 28 days) are check_pipeline_props'.
    volume_size_gb: int = Field(default=100, ge=0, description="Storage volume per instance, at least 1 GiB.")
    max_runtime_hours: int = Field(default=24, ge=0, description="Longest run, 1 minute to 28 days.")
    managed_spot: ManagedSpotSection | None = Field(default=None, description="Spot capacity, resumed from checkpoints.")
    input_prefix: str | None = Field(default=None, description="Key prefix in the artifact bucket. Default datasets/<name>/.")
    model_package_group: str | None = Field(
        default=None, description="One of training.model_package_groups: versions registered there. Default: train only."
    )
    inference_image: str | None = Field(
        default=None, description="Serving image of the registered version; required with model_package_group."
    )
    schedule: Annotated[str, matching(r"^(cron|rate)\(.+\)$", "an EventBridge schedule expression: cron(...) or rate(...)")] | None = Field(
        default=None, description="EventBridge schedule expression; omitted: started on demand only."
    )
    metric_definitions: list[MetricDefinitionSection] = Field(
        default_factory=list, description="Algorithm metrics SageMaker parses from the job's logs (at most 40).",
    )
    monitoring: TrainingMonitoringSection = Field(
        default_factory=TrainingMonitoringSection, description="Dashboard and alarms of the pipeline's executions and jobs.",
    )
    stack: StackKey | None = Field(
        default=None, description=TRAINING_SHARD_RULE.format(what="pipeline") + " Changing it re-creates the "
        "pipeline's state machine, schedule and alarms.",
    )

    def to_spec(self) -> TrainingPipelineOptions:
        """``TrainingPipeline``'s keywords of this entry (all but the platform, topic, network and tag)."""
        distribution = self.distribution
        return TrainingPipelineOptions(
            pipeline_name=self.name,
            image_tag=self.image_tag,
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            distribution=Distribution(distribution) if isinstance(distribution, str)
            else distribution.to_spec() if distribution is not None else None,
            entry_point=self.entry_point.to_spec() if self.entry_point else None,
            channels=[c.to_spec() for c in self.channels] if self.channels is not None else None,
            hyperparameters=dict(self.hyperparameters),
            input_prefix=self.input_prefix,
            volume_size=Size.gibibytes(self.volume_size_gb),
            max_runtime=Duration.hours(self.max_runtime_hours),
            managed_spot=self.managed_spot.to_spec() if self.managed_spot else None,
            model_package_group=self.model_package_group,
            inference_image=self.inference_image,
            schedule=events.Schedule.expression(self.schedule) if self.schedule else None,
            metric_definitions=[d.to_spec() for d in self.metric_definitions],
        )


class TrainingSection(Section):
    model_package_groups: list[str] = Field(
        default_factory=list,
        description="Model registry groups, created with these names (the names lifecycle's model_package_group "
        "keys refer to; unique per account and region).",
    )
    parameter_prefix: str | None = Field(
        default=None, description="SSM path the training platform publishes under. Default /<platform>/<environment>/training."
    )


# -- physical names ----------------------------------------------------------------------------------


def parameter_prefix(config: PlatformConfig) -> str:
    training = config.training
    if training is not None and training.parameter_prefix is not None:
        return training.parameter_prefix
    return PlatformNames.of(config).training_parameters


# Stands for a created EKS cluster's ARN while validating (the real one is a deploy-time token).
_CREATED_EKS_ARN = "arn:aws:eks:us-east-1:000000000000:cluster/created"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


# -- validation ----------------------------------------------------------------------------------------
# Construct prop names -> config keys (relative to the entry), per construct.
_CLUSTER_KEYS = {
    "cluster_name": "name",
    "orchestration.cluster_arn": "eks_cluster_arn",
    "orchestration.cluster_security_group_id": "eks.cluster_security_group_id",
    "instance_count": "count",
    "slurm_node_type": "role",
    "ebs_volume_size_gb": "ebs_volume_gb",
}
_LUSTRE_KEYS = {
    "storage_capacity_gib": "storage_gib",
    "per_unit_storage_throughput": "throughput_mbps_per_tib",
    "prefix": "import_path",
}
# The construct's wording -> the config's (values and "allowed" texts naming construct props).
_CLUSTER_WORDS = {
    "slurm_node_type CONTROLLER": "role controller",
    "unset with EKS orchestration": "worker (or unset) with orchestrator eks",
}
_PIPELINE_KEYS = {
    "pipeline_name": "name",
    "max_runtime": "max_runtime_hours",
    "managed_spot.max_wait": "managed_spot.max_wait_hours",
    "volume_size": "volume_size_gb",
}
_ROLES = {node_type: role for role, node_type in SLURM_NODE_TYPES.items()}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


@dataclass(frozen=True)
class _NamedBucket:
    """Stands for an ``s3.IBucket`` while validating: the rules only read the prefix and paths."""

    bucket_name: str


def _named_bucket(name: str) -> s3.IBucket:
    return cast(s3.IBucket, _NamedBucket(name))


def _translated(problems: list[Problem], prefix: str, keys: dict[str, str], words: dict[str, str]) -> list[Problem]:
    def key(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in keys:
            return keys[word]
        head, dot, tail = word.partition(".")
        return keys.get(head, head) + dot + keys.get(tail, tail) if dot else word

    out = []
    for p in problems:
        where = _WORD.sub(key, p.where)
        value = _ROLES.get(p.value, p.value) if isinstance(p.value, SlurmNodeType) else p.value
        allowed = p.allowed
        for construct_words, config_words in words.items():
            allowed = allowed.replace(construct_words, config_words)
        out.append(Problem(f"{prefix}.{where}", value, allowed))
    return out


def training_problems(config: PlatformConfig) -> list[Problem]:
    """Rules of the ``training_clusters``, ``training_pipelines`` and ``training`` sections (run after the
    schema passed)."""
    problems = Problems("config")
    names: dict[str, int] = {}
    for i, cluster in enumerate(config.training_clusters):
        where = f"training_clusters[{i}]"
        if cluster.name in names:
            problems.add(f"{where}.name", cluster.name, f"a unique name (training_clusters[{names[cluster.name]}] has it)")
        names.setdefault(cluster.name, i)
        full = PlatformNames.of(config).cluster(cluster.name)
        problems.check(
            len(full) <= 63, f"{where}.name", cluster.name,
            f"a name short enough that '{full}' (platform-environment-name) has at most 63 characters",
        )
        if cluster.orchestrator != "eks" and cluster.eks_cluster_arn is not None:
            problems.add(f"{where}.eks_cluster_arn", cluster.eks_cluster_arn, "only with orchestrator eks")
        found = Problems(where)
        created = cluster.eks is not None and cluster.eks.create is not None
        spec = cluster.to_spec(
            cluster_name=cluster.name, orchestration=EksOrchestration(cluster_arn=_CREATED_EKS_ARN) if created else None,
        )
        check_cluster_props(
            found,
            cluster_name=spec["cluster_name"],
            instance_groups=list(spec["instance_groups"]),
            orchestration=spec["orchestration"],
            node_recovery=spec["node_recovery"],
            node_provisioning_mode=spec["node_provisioning_mode"],
            has_network=True,  # the platform's network section (required, see semantics._network)
        )
        problems.extend(_translated(found.items, where, _CLUSTER_KEYS, _CLUSTER_WORDS))
        if cluster.monitoring is not None:
            found = Problems(where)
            check_node_monitoring(found, "monitoring", cluster.monitoring.to_spec())
            check_idle_gpu_hours(found, "monitoring.idle_gpu_hours_per_hour", cluster.monitoring.idle_gpu_hours_per_hour)
            problems.extend(_translated(found.items, where, {}, {"or None": "or null"}))
        seen = {(p.where, repr(p.value)) for p in problems.items}
        problems.extend([p for p in eks_problems(config, where, cluster) if (p.where, repr(p.value)) not in seen])
        if cluster.fsx_lustre is not None:
            found = Problems(where)
            check_lustre_props(found, **cluster.fsx_lustre.to_spec(bucket=_named_bucket))
            problems.extend(_translated(found.items, f"{where}.fsx_lustre", _LUSTRE_KEYS, {}))
    net = config.network
    if config.training_clusters and net is not None and net.max_azs is not None:
        problems.check(
            net.nat_gateways >= 1, "network.nat_gateways", net.nat_gateways,
            "at least 1 with training_clusters: HyperPod nodes reach SageMaker, ECR, CloudWatch and SSM "
            "through NAT (the training stack adds no interface endpoints)",
        )
    groups = config.training.model_package_groups if config.training else []
    pipeline_names: dict[str, int] = {}
    for i, pipeline in enumerate(config.training_pipelines):
        where = f"training_pipelines[{i}]"
        if pipeline.name in pipeline_names:
            problems.add(f"{where}.name", pipeline.name, f"a unique name (training_pipelines[{pipeline_names[pipeline.name]}] has it)")
        pipeline_names.setdefault(pipeline.name, i)
        # The job alarms' EventBridge rule and function take a job "<other>-..." for <other>'s
        # (job_alarm_requests.JobAlarmsConfig.pipeline_of): no name may extend another with a hyphen.
        for j, other in enumerate(config.training_pipelines):
            if j != i and pipeline.name.startswith(job_name_prefix(other.name)):
                problems.add(
                    f"{where}.name", pipeline.name,
                    f"a name that does not start with '{job_name_prefix(other.name)}' (training_pipelines[{j}]'s "
                    "job alarms select its jobs by that prefix)",
                )
        # The dashboard graphs the jobs with SEARCH Host=<name>, a partial match of CloudWatch's tokens
        # (job_metrics.search_may_match): it must not find another pipeline's jobs.
        if search_matches_any_job(pipeline.name):
            problems.add(
                f"{where}.name", pipeline.name,
                "a name with a search token other than numbers, 'algo' and the letters a-f "
                "(CloudWatch search tokens of a job's id and host suffix would match it)",
            )
        for j, other in enumerate(config.training_pipelines):
            if j != i and other.name != pipeline.name and not search_matches_any_job(pipeline.name) \
                    and search_may_match(pipeline.name, other.name):
                problems.add(
                    f"{where}.name", pipeline.name,
                    f"a name whose CloudWatch search tokens ({', '.join(search_tokens(pipeline.name))}) do not occur "
                    f"in that order in training_pipelines[{j}]'s name {other.name!r}: the dashboard's SEARCH "
                    "Host=<name> is a partial match and would graph that pipeline's jobs too",
                )
        if pipeline.model_package_group is not None:
            problems.check(
                pipeline.model_package_group in groups, f"{where}.model_package_group", pipeline.model_package_group,
                "one of training.model_package_groups (the training stack creates them): " + (", ".join(groups) or "none"),
            )
        found = Problems(where)
        check_pipeline_props(found, pipeline.to_spec())
        check_training_monitoring(
            found, pipeline.monitoring.to_spec(), metric_names=[d.name for d in pipeline.metric_definitions],
        )
        problems.extend(_translated(found.items, where, _PIPELINE_KEYS, {}))
    training = config.training
    if training is not None:
        found = Problems("training")
        check_platform_props(
            found, model_package_groups=list(training.model_package_groups), parameter_prefix=parameter_prefix(config)
        )
        problems.extend(_translated(found.items, "training", {}, {}))
    return problems.items


__all__ = [
    "ChannelSection",
    "ClusterMonitoringSection",
    "DataRepositorySection",
    "DistributionSection",
    "EntryPointSection",
    "FsxLustreSection",
    "InstanceGroupSection",
    "MetricDefinitionSection",
    "TrainingClusterSection",
    "TrainingMonitoringSection",
    "TrainingPipelineSection",
    "TrainingSection",
    "parameter_prefix",
    "training_problems",
]
