"""``HyperPodCluster``: a SageMaker HyperPod cluster (Slurm or EKS orchestrated) as a construct."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

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
from constructs import Construct

from constructs_lib import limits
from constructs_lib._security_group_rules import wait_for_security_group_rules
from constructs_lib.compliance import acknowledge
from constructs_lib.errors import PlatformValidationError, Problem, Problems, is_token
from constructs_lib.sagemaker_events import SOURCE, DetailType
from constructs_lib.training import _lifecycle, _limits
from constructs_lib.training._iam import (
    ECR_PULL_ACTIONS,
    SSM_SESSION_CHANNEL_ACTIONS,
    add_network_interface_policy,
    log_group_arn,
)
from constructs_lib.training._nag import wildcard_action, wildcard_resource
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
    check_node_monitoring,
    collector_config,
    dcgm_exporter_csv,
)
from constructs_lib.training.metrics import NAMESPACE, Dimension, MetricName, cloudwatch_agent_config
from constructs_lib.training.network import TrainingNetwork
from constructs_lib.training.storage import LustreStorage

LIFECYCLE_PREFIX = "hyperpod-lifecycle"
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
# Log groups HyperPod writes node and lifecycle logs to: /aws/sagemaker/Clusters/<name>/<cluster id>.
CLUSTER_LOG_GROUP_PREFIX = "/aws/sagemaker/Clusters"
# Construct id prefix of aws-cdk-lib's BucketDeployment handler (a singleton per stack).
BUCKET_DEPLOYMENT_HANDLER_PREFIX = "Custom::CDKBucketDeployment"


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


_NODE_ROLES = {SlurmNodeType.CONTROLLER: "controller", SlurmNodeType.LOGIN: "login", SlurmNodeType.COMPUTE: "compute"}


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

# AWS's HyperPod registry of the reference observability images (dcgm-exporter, OpenTelemetry
# collector): awsome-distributed-training base-config/observability/install_*.sh pull from it.
HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT = "602401143452"
HYPERPOD_OBSERVABILITY_REPOSITORIES = ("hyperpod/dcgm_exporter", "hyperpod/otel_collector")


@runtime_checkable
class PrometheusRemoteWrite(Protocol):
    """An Amazon Managed Service for Prometheus workspace the nodes remote-write to
    (``constructs_lib.observability.PrometheusWorkspace`` or its ``from_workspace_arn``)."""

    @property
    def workspace_arn(self) -> str: ...

    @property
    def remote_write_url(self) -> str: ...


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
        _validate(
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
        self._grant_execution_role(ecr_repositories, ebs_encryption_key)
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
        return tuple(g.name for g in self.instance_groups if _has_nvidia_gpus(g.instance_type))

    # -- construction -----------------------------------------------------------------------------
    def _node_layout(self) -> dict[str, Any]:
        if self.is_slurm:
            roles = {g.name: _NODE_ROLES[SlurmNodeType(g.slurm_node_type)] for g in self.instance_groups}
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
        self._acknowledge_deployment_handler(deployment, asset)
        return deployment

    def _acknowledge_deployment_handler(
        self, deployment: s3deploy.BucketDeployment, asset: s3_assets.Asset
    ) -> None:
        """Acknowledge what aws-cdk-lib's BucketDeployment handler (one per stack) knowingly does.

        HyperPod reads lifecycle scripts as separate objects under a prefix, which only a deploy-time
        copy can produce from a CDK asset; the copy is aws-cdk-lib's BucketDeployment handler.
        """
        stack = Stack.of(self)
        handlers = [
            child
            for child in stack.node.children
            if child.node.id.startswith(BUCKET_DEPLOYMENT_HANDLER_PREFIX)
        ]
        bucket_key = self.lifecycle_bucket.encryption_key
        s3_actions = ["s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"]
        kms_actions = ["kms:ReEncrypt*", "kms:GenerateDataKey*"] if bucket_key is not None else []
        for handler in handlers:
            acknowledge(
                handler,
                "aws-cdk-lib's BucketDeployment handler: a CloudFormation custom resource run only at deploy "
                "time to unpack the lifecycle-script asset into the lifecycle bucket. Its grants come from "
                "Bucket.grantRead/grantReadWrite on the CDK asset bucket and the lifecycle bucket "
                "(and their KMS key).",
                *(wildcard_action(a) for a in s3_actions + kms_actions),
                wildcard_resource(handler, asset.bucket.arn_for_objects("*")),
                wildcard_resource(handler, self.lifecycle_bucket.arn_for_objects("*")),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "HIPAA.Security-IAMNoInlinePolicy",
                "NIST.800.53.R5-IAMNoInlinePolicy",
                "PCI.DSS.321-IAMNoInlinePolicy",
            )
            acknowledge(
                handler,
                "The runtime of aws-cdk-lib's BucketDeployment handler is chosen by the pinned aws-cdk-lib.",
                "AwsSolutions-L1",
                "Serverless-LambdaLatestVersion",
            )
            acknowledge(
                handler,
                "CloudFormation invokes this custom-resource handler synchronously, a few times per deployment: "
                "a failure fails the deployment and shows in the stack events, so there is no asynchronous "
                "event to dead-letter, no concurrency to reserve and nothing to trace across services. It "
                "talks only to S3, outside the training VPC.",
                "HIPAA.Security-LambdaConcurrency",
                "NIST.800.53.R5-LambdaConcurrency",
                "HIPAA.Security-LambdaDLQ",
                "NIST.800.53.R5-LambdaDLQ",
                "Serverless-LambdaDLQ",
                "HIPAA.Security-LambdaInsideVPC",
                "NIST.800.53.R5-LambdaInsideVPC",
                "PCI.DSS.321-LambdaInsideVPC",
                "Serverless-LambdaTracing",
            )

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
        P = sagemaker.CfnCluster
        storage: list[Any] = []
        if group.ebs_volume_size_gb is not None:
            storage.append(
                P.ClusterInstanceStorageConfigProperty(
                    ebs_volume_config=P.ClusterEbsVolumeConfigProperty(
                        volume_size_in_gb=group.ebs_volume_size_gb,
                        volume_kms_key_id=ebs_encryption_key.key_arn if ebs_encryption_key else None,
                    )
                )
            )
        slurm = None
        if self.is_slurm:
            slurm = P.ClusterSlurmConfigProperty(
                node_type=SlurmNodeType(group.slurm_node_type).value,
                partition_names=[group.partition_name] if group.partition_name else None,
            )
            if self.shared_storage is not None:
                # API-driven FSx mount (ClusterInstanceStorageConfig.FsxLustreConfig: DnsName, MountName,
                # MountPath; botocore sagemaker CreateCluster, CFN AWS::SageMaker::Cluster): HyperPod
                # mounts the file system itself; mount_fsx.sh only waits until it is writable.
                fsx = self.shared_storage
                storage.append(
                    P.ClusterInstanceStorageConfigProperty(
                        fsx_lustre_config=P.ClusterFsxLustreConfigProperty(
                            dns_name=fsx.dns_name, mount_name=fsx.mount_name, mount_path=fsx.mount_point
                        )
                    )
                )
            # OnInitComplete runs after HyperPod's AMI-based initialization (Slurm configured from
            # SlurmConfig and started); OnCreate would leave starting Slurm to the scripts (the legacy
            # model of the AWS reference scripts' start_slurm.sh). API reference ClusterLifeCycleConfig.
            life_cycle = P.ClusterLifeCycleConfigProperty(
                source_s3_uri=self.lifecycle_s3_uri, on_init_complete=_lifecycle.ON_INIT_COMPLETE
            )
        else:
            life_cycle = P.ClusterLifeCycleConfigProperty(
                source_s3_uri=self.lifecycle_s3_uri, on_create=_lifecycle.ON_CREATE
            )
        return P.ClusterInstanceGroupProperty(
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

    def _grant_execution_role(
        self, ecr_repositories: Sequence[ecr.IRepository], ebs_encryption_key: kms.IKey | None
    ) -> None:
        role = self.execution_role
        self.execution_policies.append(
            add_network_interface_policy(
                self,
                "NetworkInterfacePolicy",
                role=role,
                subnets=self.subnets,
                security_groups=[self.security_group],
            )
        )

        # Lifecycle scripts: read only this cluster's prefix.
        objects = self.lifecycle_bucket.arn_for_objects(f"{self.lifecycle_prefix}/*")
        lifecycle = iam.ManagedPolicy(
            self,
            "LifecycleScriptsPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadLifecycleScripts", actions=["s3:GetObject"], resources=[objects]
                ),
                iam.PolicyStatement(
                    sid="ListLifecycleScripts",
                    actions=["s3:ListBucket"],
                    resources=[self.lifecycle_bucket.bucket_arn],
                    conditions={
                        "StringLike": {"s3:prefix": [self.lifecycle_prefix, f"{self.lifecycle_prefix}/*"]}
                    },
                ),
            ],
        )
        bucket_key = self.lifecycle_bucket.encryption_key
        if bucket_key is not None:
            lifecycle.add_statements(
                iam.PolicyStatement(
                    sid="DecryptLifecycleScripts", actions=["kms:Decrypt"], resources=[bucket_key.key_arn]
                )
            )
        self.execution_policies.append(lifecycle)
        acknowledge(
            lifecycle,
            "HyperPod downloads every object under the lifecycle prefix of this cluster; the prefix is "
            "content-addressed and holds nothing else.",
            wildcard_resource(lifecycle, objects),
        )

        # Node logs and metrics: HyperPod writes to /aws/sagemaker/Clusters/<name>/<cluster id>,
        # the agent publishes to this construct's namespace.
        group_arn = log_group_arn(self, f"{CLUSTER_LOG_GROUP_PREFIX}/{self.cluster_name}/*")
        stream_arn = f"{group_arn}:log-stream:*"
        telemetry = iam.ManagedPolicy(
            self,
            "TelemetryPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="CreateClusterLogGroup", actions=["logs:CreateLogGroup"], resources=[group_arn]
                ),
                iam.PolicyStatement(
                    sid="WriteClusterLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[group_arn, stream_arn],
                ),
                iam.PolicyStatement(
                    sid="PutNodeMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {"cloudwatch:namespace": [NAMESPACE, CLUSTER_LOG_GROUP_PREFIX]}
                    },
                ),
                iam.PolicyStatement(
                    sid="SsmSessionChannels", actions=list(SSM_SESSION_CHANNEL_ACTIONS), resources=["*"]
                ),
            ],
        )
        self.execution_policies.append(telemetry)
        acknowledge(
            telemetry,
            "HyperPod names each cluster's log group /aws/sagemaker/Clusters/<name>/<cluster id> with an id "
            "known only after creation, so the group and its streams are matched by the cluster name's "
            "prefix. cloudwatch:PutMetricData and the ssmmessages channel actions (SSM sessions to nodes) "
            "support no resource-level permissions; metrics are limited by the cloudwatch:namespace condition.",
            wildcard_resource(telemetry, group_arn),
            wildcard_resource(telemetry, stream_arn),
            wildcard_resource(telemetry, "*"),
        )

        if self.shared_storage is not None:
            storage_policy = iam.ManagedPolicy(
                self,
                "SharedStoragePolicy",
                roles=[role],
                statements=[
                    iam.PolicyStatement(
                        sid="DescribeFileSystems", actions=["fsx:DescribeFileSystems"], resources=["*"]
                    )
                ],
            )
            self.execution_policies.append(storage_policy)
            acknowledge(
                storage_policy,
                "fsx:DescribeFileSystems supports no resource-level permissions (IAM action table); the "
                "lifecycle scripts only read the file system's state.",
                wildcard_resource(storage_policy, "*"),
            )

        if isinstance(self.orchestration, EksOrchestration) or ecr_repositories:
            registry = iam.ManagedPolicy(
                self,
                "ContainerRegistryPolicy",
                roles=[role],
                statements=[
                    iam.PolicyStatement(
                        sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
                    )
                ],
            )
            if ecr_repositories:
                registry.add_statements(
                    iam.PolicyStatement(
                        sid="PullImages",
                        actions=list(ECR_PULL_ACTIONS),
                        resources=[r.repository_arn for r in ecr_repositories],
                    )
                )
            findings = [wildcard_resource(registry, "*")]
            reason = "ecr:GetAuthorizationToken supports no resource-level permissions."
            if isinstance(self.orchestration, EksOrchestration):
                eks_cluster_arn = self.orchestration.cluster_arn
                registry.add_statements(
                    # EKS add-on and HyperPod agent images live in AWS-owned registries whose
                    # account differs per region, so the repository ARN cannot be named in advance.
                    iam.PolicyStatement(
                        sid="PullEksSystemImages", actions=list(ECR_PULL_ACTIONS), resources=["*"]
                    ),
                    iam.PolicyStatement(
                        sid="PodIdentity",
                        actions=["eks-auth:AssumeRoleForPodIdentity"],
                        resources=[eks_cluster_arn],
                    ),
                )
                reason += (
                    " EKS nodes pull add-on and HyperPod agent images from AWS-owned registries whose "
                    "account id differs per region."
                )
            self.execution_policies.append(registry)
            acknowledge(registry, reason, *findings)
        if isinstance(self.orchestration, EksOrchestration):
            from constructs_lib.training.eks import add_vpc_cni_policy

            # On HyperPod nodes the VPC CNI runs with the node's (execution) role.
            self.execution_policies.append(
                add_vpc_cni_policy(
                    self, "VpcCniPolicy", role=role, subnets=self.subnets, security_groups=[self.security_group]
                )
            )
        if self.prometheus is not None:
            stack = Stack.of(self)
            repositories = [
                stack.format_arn(service="ecr", account=HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT, resource="repository",
                                 resource_name=name)
                for name in HYPERPOD_OBSERVABILITY_REPOSITORIES
            ]
            remote_write = iam.ManagedPolicy(
                self,
                "PrometheusRemoteWritePolicy",
                roles=[role],
                statements=[
                    iam.PolicyStatement(
                        sid="RemoteWrite", actions=["aps:RemoteWrite"], resources=[self.prometheus.workspace_arn]
                    ),
                    iam.PolicyStatement(sid="EcrLoginForExporters", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                    iam.PolicyStatement(
                        sid="PullExporterImages", actions=list(ECR_PULL_ACTIONS), resources=repositories
                    ),
                ],
            )
            self.execution_policies.append(remote_write)
            acknowledge(
                remote_write,
                "ecr:GetAuthorizationToken supports no resource-level permissions; the exporter images are "
                "pulled from the two named repositories only.",
                wildcard_resource(remote_write, "*"),
            )
        if ebs_encryption_key is not None:
            self.execution_policies.append(
                iam.ManagedPolicy(
                    self,
                    "EbsVolumeKeyPolicy",
                    roles=[role],
                    statements=[
                        iam.PolicyStatement(
                            sid="UseEbsVolumeKey",
                            actions=[
                                "kms:CreateGrant",
                                "kms:Decrypt",
                                "kms:DescribeKey",
                                "kms:Encrypt",
                                "kms:GenerateDataKeyWithoutPlaintext",
                                "kms:ReEncryptFrom",
                                "kms:ReEncryptTo",
                            ],
                            resources=[ebs_encryption_key.key_arn],
                        )
                    ],
                )
            )


def _metric_id(name: str) -> str:
    """A metric-math id part from an instance group name (ids: letters, digits, underscores)."""
    return "".join(c if c.isalnum() else "_" for c in name).lower()


def _has_nvidia_gpus(instance_type: str) -> bool:
    """``ml.g5.2xlarge``, ``ml.p5.48xlarge``: the G and P families carry NVIDIA GPUs (Trainium ``trn``,
    Inferentia ``inf`` and CPU families do not)."""
    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    return family[:1] in ("g", "p") and not family.startswith("gr")


def _validate(
    path: str,
    *,
    cluster_name: str,
    instance_groups: list[InstanceGroup],
    orchestration: Any,
    node_recovery: Any,
    node_provisioning_mode: Any,
    network: TrainingNetwork | None = None,
    node_monitoring: NodeMonitoring | None = None,
) -> None:
    problems = Problems(f"HyperPodCluster {path}")
    if node_monitoring is not None:
        check_node_monitoring(problems, "node_monitoring", node_monitoring)
    check_cluster_props(
        problems,
        cluster_name=cluster_name,
        instance_groups=instance_groups,
        orchestration=orchestration,
        node_recovery=node_recovery,
        node_provisioning_mode=node_provisioning_mode,
        has_network=network is not None,
    )
    problems.raise_if_any()


def check_cluster_props(
    problems: Problems,
    *,
    cluster_name: str,
    instance_groups: list[InstanceGroup],
    orchestration: Any,
    node_recovery: Any,
    node_provisioning_mode: Any,
    has_network: bool,
) -> None:
    """Every rule on :class:`HyperPodCluster` props, recorded in ``problems`` under the props' names.

    The one copy of these rules: the construct runs it before creating anything, and the platform's
    config schema runs it on the props it will pass (translating the keys to its own).
    """
    problems.check(
        isinstance(cluster_name, str) and bool(limits.NAME_PATTERN.match(cluster_name)),
        "cluster_name",
        cluster_name,
        limits.NAME_RULE,
    )
    problems.check(
        node_recovery in tuple(NodeRecovery),
        "node_recovery",
        node_recovery,
        "one of " + ", ".join(r.value for r in NodeRecovery),
    )
    problems.check(
        node_provisioning_mode in tuple(NodeProvisioningMode),
        "node_provisioning_mode",
        node_provisioning_mode,
        "one of " + ", ".join(m.value for m in NodeProvisioningMode),
    )
    slurm = isinstance(orchestration, SlurmOrchestration)
    if isinstance(orchestration, EksOrchestration):
        arn = orchestration.cluster_arn
        problems.check(
            isinstance(arn, str) and bool(_limits.EKS_CLUSTER_ARN_PATTERN.match(arn)),
            "orchestration.cluster_arn",
            arn,
            "an EKS cluster ARN, arn:<partition>:eks:<region>:<account>:cluster/<name>",
        )
        sg = orchestration.cluster_security_group_id
        if sg is not None:
            from constructs_lib.training.eks import check_existing_cluster_security_group

            check_existing_cluster_security_group(problems, "orchestration.cluster_security_group_id", sg)
        problems.check(
            has_network,
            "network",
            None,
            "a TrainingNetwork in the EKS cluster's VPC, e.g. TrainingNetwork(scope, 'Network', vpc=eks_cluster.vpc)",
        )
    elif slurm:
        problems.check(
            orchestration.config_strategy in tuple(SlurmConfigStrategy),
            "orchestration.config_strategy",
            orchestration.config_strategy,
            "one of " + ", ".join(s.value for s in SlurmConfigStrategy),
        )
    else:
        problems.add("orchestration", orchestration, "SlurmOrchestration(...) or EksOrchestration(...)")

    low, high = _limits.INSTANCE_GROUPS
    problems.check(
        low <= len(instance_groups) <= high,
        "instance_groups",
        f"{len(instance_groups)} groups",
        f"{low}-{high} instance groups",
    )
    instance_types = limits.cluster_instance_types()
    first_use: dict[str, int] = {}
    controllers: list[int] = []
    for index, group in enumerate(instance_groups):
        where = f"instance_groups[{index}]"
        if not isinstance(group, InstanceGroup):
            problems.add(where, group, "an InstanceGroup(...)")
            continue
        if problems.check(
            bool(isinstance(group.name, str) and limits.NAME_PATTERN.match(group.name)),
            f"{where}.name",
            group.name,
            limits.NAME_RULE,
        ):
            if group.name in first_use:
                problems.add(
                    f"{where}.name",
                    group.name,
                    f"a unique name; instance_groups[{first_use[group.name]}] has it too",
                )
            else:
                first_use[group.name] = index
        problems.check(
            group.instance_type in instance_types,
            f"{where}.instance_type",
            group.instance_type,
            limits.describe_choices(instance_types),
        )
        low, high = _limits.INSTANCE_COUNT
        problems.check(
            _is_int(group.instance_count) and low <= group.instance_count <= high,
            f"{where}.instance_count",
            group.instance_count,
            f"an integer {low}-{high}",
        )
        if group.threads_per_core is not None:
            low, high = _limits.THREADS_PER_CORE
            problems.check(
                _is_int(group.threads_per_core) and low <= group.threads_per_core <= high,
                f"{where}.threads_per_core",
                group.threads_per_core,
                f"{low} (multithreading off) or {high} (on)",
            )
        if group.ebs_volume_size_gb is not None:
            low, high = _limits.EBS_VOLUME_GB
            problems.check(
                _is_int(group.ebs_volume_size_gb) and low <= group.ebs_volume_size_gb <= high,
                f"{where}.ebs_volume_size_gb",
                group.ebs_volume_size_gb,
                f"{low}-{high} GB",
            )
        checks = list(group.deep_health_checks)
        allowed_checks = "values among " + ", ".join(c.value for c in DeepHealthCheck)
        for c_index, check in enumerate(checks):
            problems.check(
                check in tuple(DeepHealthCheck),
                f"{where}.deep_health_checks[{c_index}]",
                check,
                allowed_checks,
            )
        problems.check(
            len(set(checks)) == len(checks), f"{where}.deep_health_checks", checks, "each check at most once"
        )
        if group.training_plan_arn is not None:
            problems.check(
                bool(_limits.TRAINING_PLAN_ARN_PATTERN.match(str(group.training_plan_arn))),
                f"{where}.training_plan_arn",
                group.training_plan_arn,
                "arn:<partition>:sagemaker:<region>:<account>:training-plan/<name>",
            )
        if slurm:
            node_type = group.slurm_node_type
            if problems.check(
                node_type in tuple(SlurmNodeType),
                f"{where}.slurm_node_type",
                node_type,
                "one of " + ", ".join(t.value for t in SlurmNodeType) + " with Slurm orchestration",
            ):
                if SlurmNodeType(node_type) is SlurmNodeType.CONTROLLER:
                    controllers.append(index)
                    problems.check(
                        group.instance_count == _limits.SLURM_CONTROLLER_COUNT
                        or is_token(group.instance_count),
                        f"{where}.instance_count",
                        group.instance_count,
                        f"{_limits.SLURM_CONTROLLER_COUNT} for the controller group (one slurmctld node)",
                    )
                if group.partition_name is not None:
                    problems.check(
                        SlurmNodeType(node_type) is SlurmNodeType.COMPUTE
                        and bool(_limits.PARTITION_NAME_PATTERN.match(group.partition_name)),
                        f"{where}.partition_name",
                        group.partition_name,
                        "letters, digits and hyphens, on compute groups only",
                    )
        else:
            problems.check(
                group.slurm_node_type is None,
                f"{where}.slurm_node_type",
                group.slurm_node_type,
                "unset with EKS orchestration",
            )
            problems.check(
                group.partition_name is None,
                f"{where}.partition_name",
                group.partition_name,
                "unset with EKS orchestration",
            )
    if slurm and len(controllers) != 1:
        problems.add(
            "instance_groups",
            [instance_groups[i].name for i in controllers],
            "exactly one group with slurm_node_type CONTROLLER",
        )


def _is_int(value: Any) -> bool:
    return is_token(value) or (isinstance(value, int) and not isinstance(value, bool))
