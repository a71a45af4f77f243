"""``HyperPodCluster``: a SageMaker HyperPod cluster (Slurm or EKS orchestrated) as a construct.

Its props and enums are in :mod:`constructs_lib.training._cluster_spec`, their rules in
:mod:`constructs_lib.training._cluster_checks`, the execution role's policies in
:mod:`constructs_lib.training._cluster_role`; every public name is importable from here and from
:mod:`constructs_lib.training`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.aws_sagemaker import CfnCluster
from constructs import Construct

from constructs_lib._security_group_rules import wait_for_security_group_rules
from constructs_lib.errors import PlatformValidationError, Problem
from constructs_lib.limits import has_nvidia_gpus
from constructs_lib.sagemaker_events import SOURCE, DetailType
from constructs_lib.training import _lifecycle
from constructs_lib.training._cluster_checks import check_cluster_props, validate_cluster
from constructs_lib.training._cluster_role import (
    BUCKET_DEPLOYMENT_HANDLER_PREFIX,
    CLUSTER_LOG_GROUP_PREFIX,
    HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT,
    HYPERPOD_OBSERVABILITY_REPOSITORIES,
    SAGEMAKER_PRINCIPAL,
    acknowledge_deployment_handler,
    grant_execution_role,
)
from constructs_lib.training._cluster_spec import (
    ALL_DEEP_HEALTH_CHECKS,
    NODE_ROLES,
    DeepHealthCheck,
    EksOrchestration,
    HyperPodClusterOptions,
    InstanceGroup,
    NodeProvisioningMode,
    NodeRecovery,
    Orchestration,
    PrometheusRemoteWrite,
    SlurmConfigStrategy,
    SlurmNodeType,
    SlurmOrchestration,
)
from constructs_lib.training._resources import (
    access_logs_bucket,
    create_key,
    encrypted_log_group,
    secure_bucket,
)
from constructs_lib.training.collector import (
    SAMPLES_PER_HOUR,
    CollectorMetric,
    EfaCounter,
    NodeMonitoring,
    collector_config,
    dcgm_exporter_csv,
)
from constructs_lib.training.metrics import NAMESPACE, Dimension, MetricName, cloudwatch_agent_config
from constructs_lib.training.network import TrainingNetwork
from constructs_lib.training.storage import LustreStorage

__all__ = [  # the props, their rules and the construct: one import path for all of them
    "ALL_DEEP_HEALTH_CHECKS",
    "BUCKET_DEPLOYMENT_HANDLER_PREFIX",
    "CLUSTER_LOG_GROUP_PREFIX",
    "HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT",
    "HYPERPOD_OBSERVABILITY_REPOSITORIES",
    "LIFECYCLE_PREFIX",
    "SAGEMAKER_PRINCIPAL",
    "DeepHealthCheck",
    "EksOrchestration",
    "HyperPodCluster",
    "HyperPodClusterOptions",
    "InstanceGroup",
    "NodeProvisioningMode",
    "NodeRecovery",
    "Orchestration",
    "PrometheusRemoteWrite",
    "SlurmConfigStrategy",
    "SlurmNodeType",
    "SlurmOrchestration",
    "check_cluster_props",
]

LIFECYCLE_PREFIX = "hyperpod-lifecycle"


class HyperPodCluster(Construct):
    """A SageMaker HyperPod cluster with lifecycle scripts, a least-privilege role and GPU metrics.

    :param cluster_name: the cluster's name (its only physical name; changing it replaces the cluster).
    :param instance_groups: 1-100 groups. With Slurm: exactly one controller group (one instance),
        any number of login and compute groups.
    :param orchestration: ``SlurmOrchestration()`` or ``EksOrchestration(cluster_arn=...)``.
        Default: Slurm with HyperPod-managed slurm.conf.
    :param network: VPC, private subnets and EFA security group. Required with EKS orchestration
        (a network in the EKS cluster's VPC). Default for Slurm: a new :class:`TrainingNetwork` with
        its defaults (child id ``Network``).
    :param vpc_subnets: subnets of the cluster's network interfaces. Default: the shared storage's
        subnet when ``shared_storage`` is given (same AZ as the file system), else every private
        subnet of the network.
    :param shared_storage: FSx for Lustre file system the lifecycle scripts mount on Slurm nodes.
        Default: none (jobs must checkpoint elsewhere, e.g. to S3).
    :param lifecycle_bucket: bucket receiving the lifecycle scripts. Default: a new KMS-encrypted,
        versioned, access-logged bucket (retained on stack deletion).
    :param encryption_key: key for the created lifecycle bucket and log groups. Default: a new key
        (rotation on, retained).
    :param ebs_encryption_key: key for the instance groups' extra EBS volumes. Default: the AWS
        managed EBS key.
    :param node_recovery: Default ``AUTOMATIC``.
    :param node_provisioning_mode: Default ``CONTINUOUS``.
    :param ecr_repositories: repositories the nodes may pull images from. Default: none.
    :param node_monitoring: run the lifecycle scripts' node collector (idle GPUs below a floor, DCGM GPU
        health, the Slurm queue, EFA error counters; :mod:`constructs_lib.training.collector`).
        Default: none (CloudWatch agent metrics only).
    :param prometheus: GPU nodes run dcgm-exporter and an OpenTelemetry collector that remote-writes to
        this workspace (``aps:RemoteWrite`` on it only, image pulls from AWS's HyperPod registry).
        Default: none.
    """
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        instance_groups: Sequence[InstanceGroup],
        orchestration: Orchestration | None = None,
        network: TrainingNetwork | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        shared_storage: LustreStorage | None = None,
        lifecycle_bucket: s3.IBucket | None = None,
        encryption_key: kms.IKey | None = None,
        ebs_encryption_key: kms.IKey | None = None,
        node_recovery: NodeRecovery = NodeRecovery.AUTOMATIC,
        node_provisioning_mode: NodeProvisioningMode = NodeProvisioningMode.CONTINUOUS,
        ecr_repositories: Sequence[ecr.IRepository] = (),
        node_monitoring: NodeMonitoring | None = None,
        prometheus: PrometheusRemoteWrite | None = None,
    ) -> None:
        super().__init__(scope, id)
        orchestration = orchestration if orchestration is not None else SlurmOrchestration()
        groups = list(instance_groups)
        validate_cluster(
            self.node.path,
            cluster_name=cluster_name,
            instance_groups=groups,
            orchestration=orchestration,
            node_recovery=node_recovery,
            node_provisioning_mode=node_provisioning_mode,
            network=network,
            node_monitoring=node_monitoring,
        )
        self.cluster_name = cluster_name
        self.node_monitoring = node_monitoring
        self.prometheus = prometheus
        self.instance_groups: tuple[InstanceGroup, ...] = tuple(groups)
        self.orchestration = orchestration
        self.shared_storage = shared_storage
        self.network = network or TrainingNetwork(self, "Network")
        if vpc_subnets is not None:
            self.subnets: list[ec2.ISubnet] = list(self.network.vpc.select_subnets(vpc_subnets).subnets)
        elif shared_storage is not None:
            self.subnets = [shared_storage.subnet]
        else:
            self.subnets = list(self.network.private_subnets)
        self.security_group = self.network.security_group

        self.encryption_key: kms.IKey = encryption_key or create_key(
            self, "Key", description=f"{self.node.path} lifecycle scripts and logs"
        )
        if lifecycle_bucket is None:
            logs_bucket = access_logs_bucket(self, "AccessLogs")
            lifecycle_bucket = secure_bucket(
                self,
                "LifecycleBucket",
                key=self.encryption_key,
                access_logs=logs_bucket,
                access_logs_prefix="lifecycle-bucket/",
            )
        self.lifecycle_bucket: s3.IBucket = lifecycle_bucket

        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_PRINCIPAL),
            description=f"HyperPod cluster {cluster_name}: instance execution role",
        )

        # Lifecycle scripts: staged folder + generated agent config + the node layout (our own file;
        # no legacy provisioning_parameters.json: Slurm is configured through the API, see _lifecycle).
        self.node_layout = self._node_layout()
        agent_config = json.dumps(
            cloudwatch_agent_config(cluster_name=cluster_name), indent=2, sort_keys=True
        )
        collector = (
            json.dumps(collector_config(cluster_name=cluster_name, monitoring=node_monitoring), indent=2, sort_keys=True)
            if node_monitoring is not None
            else None
        )
        staged = _lifecycle.stage_scripts(agent_config, collector, dcgm_exporter_csv() if prometheus else None)
        digest = _lifecycle.content_hash(staged, Stack.of(self).resolve(self.node_layout))
        self.lifecycle_prefix = f"{LIFECYCLE_PREFIX}/{cluster_name}/{digest}"
        self.lifecycle_deployment = self._deploy_lifecycle_scripts(staged)
        # The cluster depends on the deployment (below), so the scripts are in place before any node starts.
        self.lifecycle_s3_uri = f"s3://{self.lifecycle_bucket.bucket_name}/{self.lifecycle_prefix}"

        self.resource = sagemaker.CfnCluster(
            self,
            "Resource",
            cluster_name=cluster_name,
            instance_groups=[self._render_group(g, ebs_encryption_key) for g in groups],
            orchestrator=self._render_orchestrator(),
            node_recovery=NodeRecovery(node_recovery).value,
            node_provisioning_mode=(
                None
                if NodeProvisioningMode(node_provisioning_mode) is NodeProvisioningMode.STANDARD
                else NodeProvisioningMode(node_provisioning_mode).value
            ),
            vpc_config=sagemaker.CfnCluster.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id, *self._eks_security_groups()],
                subnets=[s.subnet_id for s in self.subnets],
            ),
        )
        self.resource.node.add_dependency(self.lifecycle_deployment)
        # Nodes need the EFA self-rules (and Lustre's ports) from the start: wait for every rule resource.
        wait_for_security_group_rules(self.resource, [self.security_group])
        if shared_storage is not None:
            self.resource.node.add_dependency(shared_storage.file_system)
        self.execution_policies: list[iam.ManagedPolicy] = []
        grant_execution_role(self, ecr_repositories, ebs_encryption_key)
        # The role's policies must be attached before HyperPod assumes the role to provision nodes.
        for policy in self.execution_policies:
            self.resource.node.add_dependency(policy)

    def _eks_security_groups(self) -> list[str]:
        if isinstance(self.orchestration, EksOrchestration) and self.orchestration.cluster_security_group_id:
            return [self.orchestration.cluster_security_group_id]
        return []

    # -- attributes -------------------------------------------------------------------------------
    @property
    def cluster_arn(self) -> str:
        return self.resource.attr_cluster_arn

    @property
    def is_slurm(self) -> bool:
        return isinstance(self.orchestration, SlurmOrchestration)

    # -- grants -----------------------------------------------------------------------------------
    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Allow ``actions`` (``sagemaker:...``) on this cluster."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.cluster_arn]
        )

    def grant_describe(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe the cluster and list and describe its nodes (dashboards, operators, CI checks)."""
        return self.grant(
            grantee,
            "sagemaker:DescribeCluster",
            "sagemaker:ListClusterNodes",
            "sagemaker:DescribeClusterNode",
        )

    def grant_node_management(self, grantee: iam.IGrantable) -> iam.Grant:
        """Replace or reboot faulty nodes (``BatchReplaceClusterNodes``, ``BatchRebootClusterNodes``), plus describe."""
        return self.grant(
            grantee,
            "sagemaker:DescribeCluster",
            "sagemaker:ListClusterNodes",
            "sagemaker:DescribeClusterNode",
            "sagemaker:BatchReplaceClusterNodes",
            "sagemaker:BatchRebootClusterNodes",
        )

    def grant_software_update(self, grantee: iam.IGrantable) -> iam.Grant:
        """Patch the cluster's AMI (``UpdateClusterSoftware``)."""
        return self.grant(grantee, "sagemaker:DescribeCluster", "sagemaker:UpdateClusterSoftware")

    # -- events -----------------------------------------------------------------------------------
    def on_state_change(
        self, id: str, *, target: events.IRuleTarget | None = None, description: str | None = None
    ) -> events.Rule:
        """EventBridge rule for ``SageMaker HyperPod Cluster State Change`` events of this cluster."""
        return self._rule(
            id,
            DetailType.HYPERPOD_CLUSTER_STATE_CHANGE,
            {"ClusterArn": [self.cluster_arn]},
            target,
            description,
        )

    def on_node_health_event(
        self, id: str, *, target: events.IRuleTarget | None = None, description: str | None = None
    ) -> events.Rule:
        """EventBridge rule for ``SageMaker HyperPod Cluster Node Health Event`` events of this cluster."""
        return self._rule(
            id, DetailType.HYPERPOD_NODE_HEALTH_EVENT, {"ClusterArn": [self.cluster_arn]}, target, description
        )

    def on_cluster_event(
        self, id: str, *, target: events.IRuleTarget | None = None, description: str | None = None
    ) -> events.Rule:
        """EventBridge rule for ``SageMaker HyperPod Cluster Event`` (provisioning progress; Continuous mode only)."""
        return self._rule(
            id,
            DetailType.HYPERPOD_CLUSTER_EVENT,
            {"EventDetails": {"ClusterArn": [self.cluster_arn]}},
            target,
            description,
        )

    def _rule(
        self,
        id: str,
        detail_type: str,
        detail: dict[str, Any],
        target: events.IRuleTarget | None,
        description: str | None,
    ) -> events.Rule:
        return events.Rule(
            self,
            id,
            description=description or f"{detail_type} of HyperPod cluster {self.cluster_name}",
            event_pattern=events.EventPattern(source=[SOURCE], detail_type=[detail_type], detail=detail),
            targets=[target] if target is not None else None,
        )

    # -- metrics ----------------------------------------------------------------------------------
    def metric(
        self,
        metric_name: str,
        *,
        instance_group: str | None = None,
        statistic: str = cloudwatch.Stats.AVERAGE,
        period: Duration | None = None,
        label: str | None = None,
    ) -> cloudwatch.Metric:
        """A node metric published by the lifecycle scripts' CloudWatch agent (namespace ``AIPlatform/HyperPod``).

        Aggregated over the whole cluster, or over one instance group when ``instance_group`` is given.
        The ``metric_*`` helpers below take the same keywords (``instance_group``, ``period``, ``label``).
        """
        dimensions = {Dimension.CLUSTER_NAME: self.cluster_name}
        if instance_group is not None:
            names = [g.name for g in self.instance_groups]
            if instance_group not in names:
                raise PlatformValidationError(
                    f"HyperPodCluster {self.node.path}",
                    [Problem("metric.instance_group", instance_group, "one of " + ", ".join(names))],
                )
            dimensions[Dimension.INSTANCE_GROUP] = instance_group
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period or Duration.minutes(1),
            label=label,
        )

    def metric_gpu_utilization(self, *, statistic: str = cloudwatch.Stats.AVERAGE, **kw) -> cloudwatch.Metric:
        """Percent of time the GPUs were busy (``nvidia_smi_utilization_gpu``)."""
        return self.metric(MetricName.GPU_UTILIZATION, statistic=statistic, **kw)

    def metric_gpu_memory_utilization(self, *, statistic: str = cloudwatch.Stats.AVERAGE, **kw) -> cloudwatch.Metric:
        """Percent of time GPU memory was read or written (``nvidia_smi_utilization_memory``)."""
        return self.metric(MetricName.GPU_MEMORY_UTILIZATION, statistic=statistic, **kw)

    def metric_gpu_memory_used(self, *, statistic: str = cloudwatch.Stats.AVERAGE, **kw) -> cloudwatch.Metric:
        """GPU memory in use, MB (``nvidia_smi_memory_used``)."""
        return self.metric(MetricName.GPU_MEMORY_USED, statistic=statistic, **kw)

    def metric_gpu_temperature(self, *, statistic: str = cloudwatch.Stats.MAXIMUM, **kw) -> cloudwatch.Metric:
        """GPU temperature, degrees Celsius (``nvidia_smi_temperature_gpu``); the maximum by default."""
        return self.metric(MetricName.GPU_TEMPERATURE, statistic=statistic, **kw)

    def metric_gpu_power_draw(self, *, statistic: str = cloudwatch.Stats.AVERAGE, **kw) -> cloudwatch.Metric:
        """GPU power draw, watts (``nvidia_smi_power_draw``)."""
        return self.metric(MetricName.GPU_POWER_DRAW, statistic=statistic, **kw)

    def metric_memory_utilization(self, *, statistic: str = cloudwatch.Stats.AVERAGE, **kw) -> cloudwatch.Metric:
        """Host memory in use, percent (``mem_used_percent``)."""
        return self.metric(MetricName.MEMORY_UTILIZATION, statistic=statistic, **kw)

    def metric_disk_utilization(self, *, statistic: str = cloudwatch.Stats.MAXIMUM, **kw) -> cloudwatch.Metric:
        """Root volume in use, percent (``disk_used_percent``); the fullest node by default."""
        return self.metric(MetricName.DISK_UTILIZATION, statistic=statistic, **kw)

    # -- node collector metrics (node_monitoring) ----------------------------------------------------
    def metric_collector(
        self, metric: CollectorMetric | str, *, instance_group: str | None = None, statistic: str = cloudwatch.Stats.SUM,
        period: Duration | None = None, label: str | None = None,
    ) -> cloudwatch.Metric:
        """A metric of the node collector (:class:`~constructs_lib.training.collector.CollectorMetric` or an
        ``Efa*`` name). Published per ``ClusterName`` + ``InstanceGroup`` (Slurm metrics per ``ClusterName``):
        ``instance_group`` is required for all but the Slurm metrics."""
        name = metric.value if isinstance(metric, CollectorMetric) else metric
        slurm = name.startswith("Slurm")
        if not slurm and instance_group is None:
            raise PlatformValidationError(
                f"HyperPodCluster {self.node.path}",
                [Problem("metric_collector.instance_group", None, f"an instance group for {name} (published per group)")],
            )
        return self.metric(
            name, instance_group=None if slurm else instance_group, statistic=statistic,
            period=period or Duration.minutes(5), label=label,
        )

    def metric_idle_gpu_hours(self, *, instance_group: str, period: Duration = Duration.hours(1)) -> cloudwatch.MathExpression:
        """GPU-hours of ``instance_group`` spent below the idle floor in each period: the ``Sum`` of the
        per-minute idle-GPU samples divided by the samples per hour."""
        key = "idle_" + _metric_id(instance_group)
        return cloudwatch.MathExpression(
            expression=f"{key} / {SAMPLES_PER_HOUR}",
            using_metrics={key: self.metric_collector(CollectorMetric.IDLE_GPUS, instance_group=instance_group,
                                                      period=period)},
            label=f"{instance_group}: idle GPU-hours", period=period,
        )

    def metric_gpu_hours(self, *, instance_group: str, period: Duration = Duration.hours(1)) -> cloudwatch.MathExpression:
        """GPU-hours of ``instance_group`` reporting in each period (allocated GPUs x time)."""
        key = "gpus_" + _metric_id(instance_group)
        return cloudwatch.MathExpression(
            expression=f"{key} / {SAMPLES_PER_HOUR}",
            using_metrics={key: self.metric_collector(CollectorMetric.GPU_COUNT, instance_group=instance_group,
                                                      period=period)},
            label=f"{instance_group}: GPU-hours", period=period,
        )

    def metric_efa_errors(self, counter: EfaCounter, *, instance_group: str, **kw) -> cloudwatch.Metric:
        """New EFA errors of one driver counter on ``instance_group`` (Sum)."""
        return self.metric_collector(counter.metric_name, instance_group=instance_group, **kw)

    @property
    def gpu_instance_groups(self) -> tuple[str, ...]:
        """Groups whose instance type has NVIDIA GPUs (``ml.g*``, ``ml.p*``): the groups with GPU metrics."""
        return tuple(g.name for g in self.instance_groups if has_nvidia_gpus(g.instance_type))

    # -- construction -----------------------------------------------------------------------------
    def _node_layout(self) -> dict[str, Any]:
        if self.is_slurm:
            roles = {g.name: NODE_ROLES[SlurmNodeType(g.slurm_node_type)] for g in self.instance_groups}
            manager = "slurm"
        else:
            roles, manager = {g.name: "compute" for g in self.instance_groups}, "eks"
        storage = self.shared_storage
        layout = _lifecycle.node_layout(
            workload_manager=manager,
            cluster_name=self.cluster_name,
            groups=roles,
            fsx_dns_name=storage.dns_name if storage else None,
            fsx_mount_name=storage.mount_name if storage else None,
            fsx_mount_point=storage.mount_point if storage else None,
        )
        if self.prometheus is not None:
            layout["prometheus"] = {"remote_write_url": self.prometheus.remote_write_url}
        return layout

    def _deploy_lifecycle_scripts(self, staged: str) -> s3deploy.BucketDeployment:
        asset = s3_assets.Asset(self, "LifecycleScriptsAsset", path=staged)
        deployment = s3deploy.BucketDeployment(
            self,
            "LifecycleScripts",
            destination_bucket=self.lifecycle_bucket,
            destination_key_prefix=self.lifecycle_prefix + "/",
            sources=[
                s3deploy.Source.bucket(asset.bucket, asset.s3_object_key),
                s3deploy.Source.json_data(_lifecycle.NODE_LAYOUT, self.node_layout),
            ],
            log_group=encrypted_log_group(self, "LifecycleDeploymentLogs", key=self.encryption_key),
            prune=False,
        )
        acknowledge_deployment_handler(self, deployment, asset)
        return deployment


    def _render_orchestrator(self) -> sagemaker.CfnCluster.OrchestratorProperty:
        if isinstance(self.orchestration, EksOrchestration):
            return sagemaker.CfnCluster.OrchestratorProperty(
                eks=sagemaker.CfnCluster.ClusterOrchestratorEksConfigProperty(
                    cluster_arn=self.orchestration.cluster_arn
                )
            )
        return sagemaker.CfnCluster.OrchestratorProperty(
            slurm=sagemaker.CfnCluster.ClusterOrchestratorSlurmConfigProperty(
                slurm_config_strategy=SlurmConfigStrategy(self.orchestration.config_strategy).value
            )
        )

    def _render_group(
        self, group: InstanceGroup, ebs_encryption_key: kms.IKey | None
    ) -> sagemaker.CfnCluster.ClusterInstanceGroupProperty:
        storage: list[Any] = []
        if group.ebs_volume_size_gb is not None:
            storage.append(
                CfnCluster.ClusterInstanceStorageConfigProperty(
                    ebs_volume_config=CfnCluster.ClusterEbsVolumeConfigProperty(
                        volume_size_in_gb=group.ebs_volume_size_gb,
                        volume_kms_key_id=ebs_encryption_key.key_arn if ebs_encryption_key else None,
                    )
                )
            )
        slurm = None
        if self.is_slurm:
            slurm = CfnCluster.ClusterSlurmConfigProperty(
                node_type=SlurmNodeType(group.slurm_node_type).value,
                partition_names=[group.partition_name] if group.partition_name else None,
            )
            if self.shared_storage is not None:
                # API-driven FSx mount (ClusterInstanceStorageConfig.FsxLustreConfig: DnsName, MountName,
                # MountPath; botocore sagemaker CreateCluster, CFN AWS::SageMaker::Cluster): HyperPod
                # mounts the file system itself; mount_fsx.sh only waits until it is writable.
                fsx = self.shared_storage
                storage.append(
                    CfnCluster.ClusterInstanceStorageConfigProperty(
                        fsx_lustre_config=CfnCluster.ClusterFsxLustreConfigProperty(
                            dns_name=fsx.dns_name, mount_name=fsx.mount_name, mount_path=fsx.mount_point
                        )
                    )
                )
            # OnInitComplete runs after HyperPod's AMI-based initialization (Slurm configured from
            # SlurmConfig and started); OnCreate would leave starting Slurm to the scripts (the legacy
            # model of the AWS reference scripts' start_slurm.sh). API reference ClusterLifeCycleConfig.
            life_cycle = CfnCluster.ClusterLifeCycleConfigProperty(
                source_s3_uri=self.lifecycle_s3_uri, on_init_complete=_lifecycle.ON_INIT_COMPLETE
            )
        else:
            life_cycle = CfnCluster.ClusterLifeCycleConfigProperty(
                source_s3_uri=self.lifecycle_s3_uri, on_create=_lifecycle.ON_CREATE
            )
        return CfnCluster.ClusterInstanceGroupProperty(
            instance_group_name=group.name,
            instance_type=group.instance_type,
            instance_count=group.instance_count,
            execution_role=self.execution_role.role_arn,
            life_cycle_config=life_cycle,
            threads_per_core=group.threads_per_core,
            instance_storage_configs=storage or None,
            on_start_deep_health_checks=(
                [DeepHealthCheck(c).value for c in group.deep_health_checks]
                if group.deep_health_checks
                else None
            ),
            training_plan_arn=group.training_plan_arn,
            slurm_config=slurm,
        )



def _metric_id(name: str) -> str:
    """A metric-math id part from an instance group name (ids: letters, digits, underscores)."""
    return "".join(c if c.isalnum() else "_" for c in name).lower()


