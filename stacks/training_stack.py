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
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.observability.prometheus import PrometheusWorkspace
from constructs_lib.training import HyperPodCluster, LustreStorage, TrainingNetwork, TrainingPlatform
from constructs_lib.training.eks import EksAddon, HyperPodEksCluster, HyperPodEksDependencies
from constructs_lib.training.eks_observability import HyperPodObservabilityAddon
from constructs_lib.training.pipeline import TrainingPipeline

from .config import PlatformConfig
from .config import eks as eks_config
from .config import observability as observability_config
from .config.training import (
    NODE_PROVISIONING,
    NODE_RECOVERY,
    instance_groups,
    lustre_props,
    node_monitoring,
    orchestration,
    parameter_prefix,
    pipeline_props,
)
from .naming import PlatformNames


class TrainingStack(Stack):
    """``platform`` (:class:`TrainingPlatform`), ``clusters``, ``storage``, ``eks_clusters`` (created EKS
    clusters), ``eks_dependencies`` and ``pipelines`` keyed by config name.

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
        self._names = names = names or PlatformNames.of(config)
        # Imported by its account/region-derived name: no cross-stack export pins the bucket.
        bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=names.artifact_bucket, encryption_key=key
        )
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
        self.clusters: dict[str, HyperPodCluster] = {}
        self.storage: dict[str, LustreStorage] = {}
        self.eks_clusters: dict[str, HyperPodEksCluster] = {}
        self.eks_dependencies: dict[str, HyperPodEksDependencies] = {}
        self.observability_addons: dict[str, HyperPodObservabilityAddon] = {}
        self._imported_buckets: dict[str, s3.IBucket] = {}
        # observability.prometheus: the workspace every cluster's GPU nodes remote-write to.
        self.prometheus = self._prometheus(config, key)
        for section in config.training_clusters:
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
                    **lustre_props(section.fsx_lustre, bucket=self._bucket),
                )
                self.storage[section.name] = storage
            orchestrated = orchestration(section)
            dependencies = None
            # EKS nodes get AWS's HyperPod observability add-on instead of the lifecycle scripts'
            # forwarder (which needs docker, which HyperPod's EKS nodes do not run).
            observability_addon = self.prometheus is not None and eks_config.hyperpod_observability(config, section)
            if section.orchestrator == "eks":
                orchestrated, dependencies = self._eks(unit, config, section, vpc, network, key, storage)
            cluster = HyperPodCluster(
                unit,
                "Cluster",
                cluster_name=names.cluster(section.name),
                instance_groups=instance_groups(section),
                orchestration=orchestrated,
                network=network,
                shared_storage=storage,
                lifecycle_bucket=bucket,
                encryption_key=key,
                node_recovery=NODE_RECOVERY[section.node_recovery],
                node_provisioning_mode=NODE_PROVISIONING[section.node_provisioning_mode],
                ecr_repositories=[self.platform.repository],
                node_monitoring=node_monitoring(section),
                prometheus=None if observability_addon else self.prometheus,
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

        self.pipelines: dict[str, TrainingPipeline] = {
            p.name: TrainingPipeline(
                self,
                f"Pipeline-{p.name}",
                platform=self.platform,
                notification_topic=topic,
                network=self.network,
                # The aiplatform:platform tag the lifecycle glue matches (PlatformTag).
                platform_tag=names.prefix,
                **pipeline_props(p),
            )
            for p in config.training_pipelines
        }

    def _observability_addon(self, unit, section, orchestrated, dependencies, cluster) -> HyperPodObservabilityAddon:
        """AWS's HyperPod observability add-on, after the HyperPod cluster (it needs a node) and the Pod
        Identity agent (its credentials)."""
        settings = (section.eks or eks_config.EksSection()).observability
        addon = HyperPodObservabilityAddon(
            unit, "Observability", cluster_name=dependencies.cluster_name, cluster_arn=orchestrated.cluster_arn,
            workspace=self.prometheus, instance_types=[g.instance_type for g in section.instance_groups],
            metric_levels=dict(settings.metric_levels), scrape_interval_s=settings.scrape_interval_s,
            logging=settings.logging,
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
                version=eks.create.version,
                admins=list(eks.create.admins),
                public_access_cidrs=list(eks.create.public_access_cidrs),
            )
            self.eks_clusters[section.name] = created
            orchestrated = created.orchestration()
            eks_name = created.cluster_name
            CfnOutput(unit, "EksClusterName", value=eks_name,
                      description=f"EKS cluster of {section.name}: aws eks update-kubeconfig --name <this>")
        else:
            orchestrated = orchestration(section)
            eks_name = str(section.eks_cluster_arn).rsplit("/", 1)[-1]
        dependencies = HyperPodEksDependencies(
            unit,
            "EksDependencies",
            cluster_name=eks_name,
            cluster_security_group_id=orchestrated.cluster_security_group_id,
            vpc=vpc,
            subnets=network.private_subnets,
            addons=eks_config.addons(section),
            dependencies_chart=eks_config.dependencies_chart(section),
            lustre_volumes=[storage] if storage is not None else [],
            installer=eks_config.installer(section),
        )
        self.eks_dependencies[section.name] = dependencies
        return orchestrated, dependencies

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

    def _bucket(self, name: str) -> s3.IBucket:
        """The bucket of a data repository's import path, imported once per name."""
        if name not in self._imported_buckets:
            self._imported_buckets[name] = s3.Bucket.from_bucket_name(self, f"DataRepositoryBucket-{name}", name)
        return self._imported_buckets[name]
