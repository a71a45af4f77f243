"""Training: the training platform, one HyperPod cluster per ``training_clusters`` entry and one
``TrainingPipeline`` (Step Functions: train, register, notify) per ``training_pipelines`` entry.

Everything lands in the platform's resources where one exists: the platform KMS key, the one
artifact bucket (training artifacts, checkpoints of training jobs and the clusters' lifecycle scripts
under ``hyperpod-lifecycle/``) and the platform VPC. Per cluster, a ``TrainingNetwork`` on that VPC
gives the cluster its own EFA security group (nodes of two clusters never share one), an optional
FSx for Lustre file system sits in the cluster's subnet, and the cluster mounts it at ``/fsx``.

Physical names: clusters ``<platform>-<environment>-<name>`` (like endpoints); model package groups
exactly as configured (the lifecycle section refers to them by those names). Stateful resources (FSx
file systems, the ECR repository, model package groups) are retained or keep their names; tests pin
their logical ids. Renaming a cluster in the config replaces it and its file system.

Entries with a ``stack`` key live in a :class:`TrainingShardStack` (``<prefix>-training-<key>``) with
their monitoring, built by the same code with the same construct ids; the training stack keeps the
training platform they use and the entries without a key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.observability import AlarmRouting, LustreFileSystem
from constructs_lib.observability.prometheus import PrometheusWorkspace
from constructs_lib.training import HyperPodCluster, LustreStorage, TrainingNetwork, TrainingPlatform
from constructs_lib.training.eks import EksAddon, HyperPodEksCluster, HyperPodEksDependencies
from constructs_lib.training.eks_observability import HyperPodObservabilityAddon
from constructs_lib.training.pipeline import TrainingPipeline

from .config import PlatformConfig
from .config import eks as eks_config
from .config import observability as observability_config
from .config.training import TrainingClusterSection, TrainingPipelineSection, parameter_prefix
from .naming import PlatformNames
from .observability_stack import MonitoredCluster, TrainingMonitoring


class _TrainingUnits(Stack):
    """What a training stack and a training shard share: HyperPod clusters (with their network, file
    system and EKS side) and training pipelines, keyed by config name, built from the training
    platform's shared pieces (repository, role, training network, Prometheus workspace)."""

    def _start_units(self, config: PlatformConfig, names: PlatformNames, key: kms.IKey) -> s3.IBucket:
        self._names = names
        self.clusters: dict[str, HyperPodCluster] = {}
        self.storage: dict[str, LustreStorage] = {}
        self.eks_clusters: dict[str, HyperPodEksCluster] = {}
        self.eks_dependencies: dict[str, HyperPodEksDependencies] = {}
        self.observability_addons: dict[str, HyperPodObservabilityAddon] = {}
        self.pipelines: dict[str, TrainingPipeline] = {}
        self._imported_buckets: dict[str, s3.IBucket] = {}
        # Imported by its account/region-derived name: no cross-stack export pins the bucket.
        return s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=names.artifact_bucket, encryption_key=key
        )

    def _add_clusters(
        self, config: PlatformConfig, sections: Sequence[TrainingClusterSection], *, vpc: ec2.IVpc | None,
        key: kms.IKey, bucket: s3.IBucket, platform: TrainingPlatform | SharedTrainingPlatform, prometheus: PrometheusWorkspace | None,
    ) -> None:
        names = self._names
        self.prometheus = prometheus
        for section in sections:
            if vpc is None:  # the config refuses training_clusters without a network section
                raise ValueError("training_clusters need the platform VPC")
            unit = Construct(self, section.name)
            network = TrainingNetwork(unit, "Network", vpc=vpc, interface_endpoints=())
            storage = None
            if section.fsx_lustre is not None:
                storage = LustreStorage(
                    unit,
                    "Storage",
                    network=network,
                    encryption_key=key,
                    **section.fsx_lustre.to_spec(bucket=self._bucket),
                )
                self.storage[section.name] = storage
            orchestrated = None  # the entry's own: Slurm, or the existing EKS cluster
            dependencies = None
            # EKS nodes get AWS's HyperPod observability add-on instead of the lifecycle scripts'
            # forwarder (which needs docker, which HyperPod's EKS nodes do not run).
            observability_addon = prometheus is not None and eks_config.hyperpod_observability(config, section)
            if section.orchestrator == "eks":
                orchestrated, dependencies = self._eks(unit, config, section, vpc, network, key, storage)
            cluster = HyperPodCluster(
                unit,
                "Cluster",
                network=network,
                shared_storage=storage,
                lifecycle_bucket=bucket,
                encryption_key=key,
                ecr_repositories=[platform.repository],
                prometheus=None if observability_addon else prometheus,
                **section.to_spec(cluster_name=names.cluster(section.name), orchestration=orchestrated),
            )
            if dependencies is not None:
                # Nodes join only once the add-ons, the HyperPod chart and volumes are in the EKS cluster.
                cluster.resource.node.add_dependency(dependencies)
                if observability_addon:
                    self.observability_addons[section.name] = self._observability_addon(
                        unit, section, orchestrated, dependencies, cluster)
            self.clusters[section.name] = cluster
            CfnOutput(unit, "ClusterArn", value=cluster.cluster_arn, description=f"HyperPod cluster {section.name}")
            CfnOutput(
                unit,
                "SecurityGroupId",
                value=network.security_group.security_group_id,
                description=f"EFA security group of {section.name}",
            )

    def _add_pipelines(
        self, sections: Sequence[TrainingPipelineSection], *, platform: TrainingPlatform | SharedTrainingPlatform, topic: sns.ITopic,
        network: TrainingNetwork | None,
    ) -> None:
        for p in sections:
            self.pipelines[p.name] = TrainingPipeline(
                self,
                f"Pipeline-{p.name}",
                platform=platform,
                notification_topic=topic,
                network=network,
                # The aiplatform:platform tag the lifecycle glue matches (PlatformTag).
                platform_tag=self._names.prefix,
                **p.to_spec(),
            )


    def _observability_addon(self, unit, section, orchestrated, dependencies, cluster) -> HyperPodObservabilityAddon:
        """AWS's HyperPod observability add-on, after the HyperPod cluster (it needs a node) and the Pod
        Identity agent (its credentials)."""
        settings = (section.eks or eks_config.EksSection()).observability
        addon = HyperPodObservabilityAddon(
            unit, "Observability", cluster_name=dependencies.cluster_name, cluster_arn=orchestrated.cluster_arn,
            workspace=self.prometheus, instance_types=[g.instance_type for g in section.instance_groups],
            **settings.to_spec(),
        )
        agent = dependencies.addons.get(EksAddon.POD_IDENTITY_AGENT)
        return addon.after(cluster.resource, *([agent] if agent is not None else []))

    def _eks(self, unit, config, section, vpc, network, key, storage):
        """The EKS side of an ``orchestrator: eks`` cluster: the EKS cluster when ``eks.create`` asks for
        it, and the add-ons, HyperPod chart and FSx volume inside it (``HyperPodEksDependencies``)."""
        eks = section.eks or eks_config.EksSection()
        if eks.create is not None:
            created = HyperPodEksCluster(
                unit,
                "Eks",
                cluster_name=self._names.cluster(section.name),  # named like its HyperPod cluster
                vpc=vpc,
                subnets=network.private_subnets,
                encryption_key=key,
                **eks.create.to_spec(),
            )
            self.eks_clusters[section.name] = created
            orchestrated = created.orchestration()
            eks_name = created.cluster_name
            CfnOutput(unit, "EksClusterName", value=eks_name,
                      description=f"EKS cluster of {section.name}: aws eks update-kubeconfig --name <this>")
        else:
            orchestrated = section.orchestration_spec()
            eks_name = str(section.eks_cluster_arn).rsplit("/", 1)[-1]
        dependencies = HyperPodEksDependencies(
            unit,
            "EksDependencies",
            cluster_name=eks_name,
            cluster_security_group_id=orchestrated.cluster_security_group_id,
            vpc=vpc,
            subnets=network.private_subnets,
            lustre_volumes=[storage] if storage is not None else [],
            **eks.to_spec(lustre=storage is not None),
        )
        self.eks_dependencies[section.name] = dependencies
        return orchestrated, dependencies

    def _bucket(self, name: str) -> s3.IBucket:
        """The bucket of a data repository's import path, imported once per name."""
        if name not in self._imported_buckets:
            self._imported_buckets[name] = s3.Bucket.from_bucket_name(self, f"DataRepositoryBucket-{name}", name)
        return self._imported_buckets[name]


class TrainingStack(_TrainingUnits):
    """``platform`` (:class:`TrainingPlatform`), ``clusters``, ``storage``, ``eks_clusters`` (created EKS
    clusters), ``eks_dependencies`` and ``pipelines`` keyed by config name: the entries without a
    ``stack`` key (the others are in :class:`TrainingShardStack`).

    :param vpc: the platform VPC (network stack). Required with ``training_clusters``; without it
        the training platform publishes no subnets and pipelines run their jobs outside a VPC.
    :param topic: the platform's notification topic: failed pipeline executions are published there.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        key: kms.IKey,
        vpc: ec2.IVpc | None,
        topic: sns.ITopic,
        names: PlatformNames | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        names = names or PlatformNames.of(config)
        bucket = self._start_units(config, names, key)
        # Security group and private subnets for VPC-attached training jobs (published in SSM).
        # The platform VPC's owner (network stack) keeps its endpoints and flow logs.
        self.network: TrainingNetwork | None = (
            TrainingNetwork(self, "Network", vpc=vpc, interface_endpoints=()) if vpc is not None else None
        )
        training = config.training
        self.platform = TrainingPlatform(
            self,
            "Platform",
            encryption_key=key,
            artifacts_bucket=bucket,
            network=self.network,
            model_package_groups=list(training.model_package_groups) if training else [],
            parameter_prefix=parameter_prefix(config),
            # An explicit, lower-case name: a generated one keeps the stack's mixed case, which ECR refuses
            # (moto's CloudFormation creates it in mixed case and then fails; CloudFormation lower-cases it).
            repository_name=names.training,
        )
        # observability.prometheus: the workspace every cluster's GPU nodes remote-write to (shards' too).
        self._add_clusters(
            config, [c for c in config.training_clusters if c.stack is None], vpc=vpc, key=key, bucket=bucket,
            platform=self.platform, prometheus=self._prometheus(config, key),
        )
        self._add_pipelines(
            [p for p in config.training_pipelines if p.stack is None], platform=self.platform, topic=topic,
            network=self.network,
        )

    def _prometheus(self, config, key):
        settings = config.observability.prometheus if config.observability else None
        if settings is None or not config.training_clusters:
            return None
        if settings.workspace == observability_config.CREATE:
            workspace = PrometheusWorkspace(self, "PrometheusWorkspace", alias=self._names.training, encryption_key=key)
            CfnOutput(self, "PrometheusRemoteWriteUrl", value=workspace.remote_write_url,
                      description="Remote-write URL of the training clusters' Prometheus workspace")
            return workspace
        return PrometheusWorkspace.from_workspace_arn(self, "PrometheusWorkspace", settings.workspace)


@dataclass(frozen=True)
class SharedTrainingPlatform:
    """What a shard's clusters and pipelines use of the training stack's :class:`TrainingPlatform`
    (``TrainingPipeline`` reads these four attributes): the data stack's key, the artifact bucket and the
    repository imported in the shard by name, and the training-job role (its ARN a cross-stack reference)."""

    encryption_key: kms.IKey
    artifacts_bucket: s3.IBucket
    repository: ecr.IRepository
    training_job_role: iam.IRole


class TrainingShardStack(_TrainingUnits):
    """A training shard: the ``training_clusters`` and ``training_pipelines`` entries of one ``stack`` key,
    with their monitoring (``monitoring``: :class:`TrainingMonitoring`, alarms routed to the observability
    stack's severity topics), so the training and observability stacks stop growing with them.

    It refers to the data stack (key, topic; the bucket by name), the network stack (VPC), the training
    stack's :class:`TrainingPlatform` (repository, role, training network, model package groups, Prometheus
    workspace) and the severity topics; no stack imports from it (the overview names its alarms).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        shard_key: str,
        training: TrainingStack,
        key: kms.IKey,
        vpc: ec2.IVpc | None,
        topic: sns.ITopic,
        routing: AlarmRouting,
        names: PlatformNames | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        names = names or PlatformNames.of(config)
        self.shard_key = shard_key
        bucket = self._start_units(config, names, key)
        clusters = [c for c in config.training_clusters if c.stack == shard_key]
        pipelines = [p for p in config.training_pipelines if p.stack == shard_key]
        # The training platform's ECR repository by its fixed name: an image URI built from an imported ARN
        # would split an Fn::GetStackOutput, which Fn::Split does not take (cfn-lint E1022).
        platform = SharedTrainingPlatform(
            encryption_key=key, artifacts_bucket=bucket, training_job_role=training.platform.training_job_role,
            repository=ecr.Repository.from_repository_name(self, "TrainingRepository", names.training),
        )
        self._add_clusters(config, clusters, vpc=vpc, key=key, bucket=bucket, platform=platform,
                           prometheus=training.prometheus)
        self._add_pipelines(pipelines, platform=platform, topic=topic, network=training.network)
        self.monitoring = TrainingMonitoring(
            self, config=config, names=names, key=key, routing=routing,
            clusters=monitored_clusters(clusters, self), pipelines=self.pipelines, sections=pipelines,
        )


def monitored_clusters(sections: Sequence[TrainingClusterSection], units: _TrainingUnits) -> list[MonitoredCluster]:
    """The HyperPod clusters of ``sections`` built in ``units``, each with its FSx for Lustre file system
    when it has one."""
    monitored = []
    for section in sections:
        cluster = units.clusters[section.name]
        storage = units.storage.get(section.name)
        monitored.append(
            MonitoredCluster(
                cluster_name=cluster.cluster_name,
                metrics=cluster,
                file_system=LustreFileSystem(storage.file_system_id, section.fsx_lustre.storage_gib,
                                             storage.per_unit_storage_throughput)
                if storage is not None and section.fsx_lustre is not None
                else None,
                node_health=section.monitoring.health_spec(gpu_instance_groups=cluster.gpu_instance_groups,
                                                           slurm=cluster.is_slurm)
                if section.monitoring is not None
                else None,
            )
        )
    return monitored
