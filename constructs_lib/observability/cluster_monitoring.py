"""``ClusterMonitoring``: dashboard and alarms of a SageMaker HyperPod cluster and its FSx for Lustre file system."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import jsii
from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import sagemaker_events as ev
from ..compliance import acknowledge
from ..errors import Problems
from . import _quotas
from ._layout import FULL_WIDTH, HEIGHT, WIDTH
from .alarms import AlarmFactory, AlarmRouting, Datapoints, Severity, SeverityThresholds

GIB = 1024**3
RETRY_ATTEMPTS = 8
MAX_EVENT_AGE = Duration.hours(2)


class FsxMetric:
    """``AWS/FSx`` metrics of FSx for Lustre (dimension ``FileSystemId``; FSx for Lustre user guide,
    "Amazon FSx for Lustre metrics and dimensions"). ``Sum`` is the file-system total.

    FSx for Lustre emits one data point per disk per minute ("Monitoring with Amazon CloudWatch"):
    for a counter (``DataReadBytes``) a ``Sum`` over any period is the period's total, but for a
    gauge (``FreeDataStorageCapacity``) a ``Sum`` over ``n`` minutes counts every disk ``n`` times.
    """

    NAMESPACE = "AWS/FSx"
    DIMENSION = "FileSystemId"
    FREE_DATA_STORAGE_CAPACITY = "FreeDataStorageCapacity"  # bytes, gauge
    EMISSION_PERIOD = Duration.minutes(1)
    DATA_READ_BYTES = "DataReadBytes"
    DATA_WRITE_BYTES = "DataWriteBytes"


class NodeHealthMetric:
    """The metric :class:`ClusterMonitoring` derives from HyperPod node health events (metric filter)."""

    NAMESPACE = "AIPlatform/Observability"
    UNHEALTHY_NODE_EVENTS = "UnhealthyNodeEvents"
    DIMENSION = "ClusterName"


@runtime_checkable
class ClusterMetricsSource(Protocol):
    """GPU metrics of a cluster's nodes, published by the CloudWatch agent.

    ``HyperPodCluster`` provides them (``metric_gpu_utilization()``...); any object with these
    methods returning metrics aggregated over the cluster works, so this construct does not depend
    on how the cluster is built. Each accepts ``statistic`` and ``period`` keywords.
    """

    def metric_gpu_utilization(self, **kwargs) -> cw.IMetric: ...
    def metric_gpu_memory_utilization(self, **kwargs) -> cw.IMetric: ...
    def metric_gpu_temperature(self, **kwargs) -> cw.IMetric: ...


@runtime_checkable
class ClusterNodeMetricsSource(Protocol):
    """Metrics of the lifecycle scripts' node collector (``HyperPodCluster`` with ``node_monitoring``):
    per instance group, from :mod:`constructs_lib.training.collector`."""

    def metric_collector(self, metric, **kwargs) -> cw.IMetric: ...
    def metric_idle_gpu_hours(self, **kwargs) -> cw.IMetric: ...
    def metric_gpu_hours(self, **kwargs) -> cw.IMetric: ...


@dataclass(frozen=True, kw_only=True)
class NodeHealthMonitoring:
    """Dashboard rows and alarms from the node collector.

    :param gpu_instance_groups: instance groups with GPUs (idle GPU-hours, GPU health, EFA per group).
    :param idle_gpu_floor_percent: the floor the collector uses (shown in titles and alarm texts).
    :param dcgm: the collector publishes DCGM GPU health (XID, ECC, throttling, NVLink); default False.
    :param slurm: the cluster is Slurm-orchestrated (queue widgets); default False.
    :param idle_gpu_hours_per_hour: warning when a group spends at least this many GPU-hours below the
        floor in an hour; default 1 (one GPU idle all hour); ``None`` switches the alarm off.
    """

    gpu_instance_groups: tuple[str, ...]
    idle_gpu_floor_percent: float
    dcgm: bool = False
    slurm: bool = False
    idle_gpu_hours_per_hour: float | None = 1.0


@dataclass(frozen=True)
class LustreFileSystem:
    """The cluster's FSx for Lustre file system: ``file_system_id`` (``fs-...`` or a token), its
    provisioned ``storage_capacity_gib`` (turns free bytes into a used percentage) and, optionally, its
    ``throughput_mbps_per_tib`` (``PerUnitStorageThroughput``: draws the provisioned throughput)."""

    file_system_id: str
    storage_capacity_gib: int
    throughput_mbps_per_tib: int | None = None

    @property
    def provisioned_throughput_mbps(self) -> float | None:
        """Storage (TiB) x throughput per TiB (FSx for Lustre user guide, "Amazon FSx for Lustre
        performance": throughput capacity = storage capacity x PerUnitStorageThroughput), with FSx's
        own TiB: its 1200 GiB and 2400 GiB capacities are "1.2 TiB" and "2.4 TiB" in the guide."""
        if self.throughput_mbps_per_tib is None:
            return None
        return self.storage_capacity_gib / 1000 * self.throughput_mbps_per_tib


# Free bytes of the file system from the ``Sum`` of FreeDataStorageCapacity over its disks: divided
# by the number of one-minute emissions in the period, so any period gives the per-minute total.
_FREE_BYTES = "(free / (PERIOD(free) / 60))"

DEFAULT_FSX_USED_PERCENT = SeverityThresholds(warning=80.0, critical=90.0)
DEFAULT_UNHEALTHY_NODE_EVENTS = SeverityThresholds(warning=1, critical=3)


@dataclass(frozen=True)
class ClusterAlarmThresholds:
    """Defaults for a GPU training cluster.

    :param fsx_used_percent: file system used; default warning 80 %, critical 90 %.
    :param unhealthy_node_events: unhealthy-node events in 15 minutes; default warning 1, critical 3.
    :param low_gpu_utilization_percent: cost warning when the average GPU utilization of the running
        cluster stays below it for an hour; default 20; ``None`` switches it off.
    """

    fsx_used_percent: SeverityThresholds = DEFAULT_FSX_USED_PERCENT
    unhealthy_node_events: SeverityThresholds = DEFAULT_UNHEALTHY_NODE_EVENTS
    low_gpu_utilization_percent: float | None = 20.0


_LOOK_FIRST = {
    "fsx": "the largest directories on {fs} (lfs find / du on a login node) and the checkpoint retention; "
           "increase the file system's storage capacity (FSx UpdateFileSystem)",
    "nodes": "the latest unhealthy-node events on the dashboard {dashboard} (instance id, HealthStatusReason, "
             "RepairAction), then ListClusterNodes for {name} and whether node recovery replaced the nodes",
    "gpu": "whether jobs are queued or stuck (sinfo/squeue or kubectl on {name}) and idle nodes; scale "
           "instance groups down if the cluster is idle",
    "unhealthy": "the triggering child alarm in this notification, then the dashboard {dashboard}",
    "idle": "squeue / sinfo (or kubectl get pods) on {name} for jobs using fewer GPUs than the group has, "
            "jobs waiting on other groups, and nodes left allocated after a job ended; scale the group down "
            "when nothing is queued",
    "xid": "dmesg / journalctl -k on the nodes of the group for 'NVRM: Xid' (the code names the fault: 48 = "
           "double-bit ECC, 79 = GPU fell off the bus, 94/95 = contained/uncontained ECC), then the "
           "unhealthy-node events on {dashboard}; HyperPod's health agent replaces nodes it finds faulty",
    "ecc": "nvidia-smi -q -d ECC,ROW_REMAPPER on the nodes of the group: an uncorrectable error ends the "
           "job's process on that GPU; replace the node (BatchReplaceClusterNodes) if rows cannot be remapped",
    "nvlink": "nvidia-smi nvlink -e on the nodes of the group (which GPU and link); growing CRC or replay "
              "counts slow every collective: drain the node and run dcgmi diag -r 3 on it",
}


class ClusterMonitoring(Construct):
    """Dashboard and alarms of one HyperPod cluster: GPU utilization, GPU memory and GPU health
    (temperature) from the CloudWatch agent, unhealthy-node events counted as a metric, and FSx for
    Lustre free capacity and throughput.

    Node health events become a metric through an EventBridge rule on ``SageMaker HyperPod Cluster
    Node Health Event`` (this cluster, ``HealthStatus`` other than healthy) that writes each event to
    a CloudWatch Logs log group (``health_event_log_group``, kept one year, queryable from the
    dashboard) and a metric filter counting them (:class:`NodeHealthMetric`). The log group's
    resource policy lets EventBridge write to it (one CloudWatch Logs resource policy per log group:
    the account has a quota of 10 per region; pass ``health_event_log_group`` with a shared policy
    when monitoring many clusters).

    :param cluster_name: the HyperPod cluster's name.
    :param metrics: the cluster's GPU metrics (:class:`ClusterMetricsSource`, e.g. ``HyperPodCluster``).
    :param file_system: default none (no FSx widgets or alarms).
    :param routing: severity -> SNS topic; default none (alarms without actions).
    :param thresholds: default :class:`ClusterAlarmThresholds` ().
    :param encryption_key: encrypts the created log group and the rule target's dead-letter queue; its
        policy must let CloudWatch Logs and EventBridge use it (:class:`PlatformKey` does); default
        none (service-managed keys).
    :param health_event_log_group: bring your own (with its resource policy); default created.
    :param dashboard_name: default ``<cluster_name>-cluster``.
    :param node_health: rows and alarms from the node collector (``metrics`` must then also be a
        :class:`ClusterNodeMetricsSource`): idle GPU-hours per instance group (warning alarm), DCGM GPU
        health, the Slurm queue and EFA errors; default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_name: str,
        metrics: ClusterMetricsSource,
        file_system: LustreFileSystem | None = None,
        routing: AlarmRouting | None = None,
        thresholds: ClusterAlarmThresholds = ClusterAlarmThresholds(),
        encryption_key: kms.IKey | None = None,
        health_event_log_group: logs.ILogGroup | None = None,
        dashboard_name: str | None = None,
        node_health: NodeHealthMonitoring | None = None,
    ) -> None:
        super().__init__(scope, id)
        _validate(self.node.path, cluster_name, metrics, file_system, thresholds, node_health)
        self.cluster_name = cluster_name
        self.metrics = metrics
        self.node_health = node_health
        self.file_system = file_system
        self.dashboard_name = dashboard_name or f"{cluster_name}-cluster"

        self.health_event_log_group = health_event_log_group or logs.LogGroup(
            self, "NodeHealthEvents", encryption_key=encryption_key, retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Events EventBridge could not deliver after its retries land here instead of vanishing.
        self.dead_letter_queue = sqs.Queue(
            self, "NodeHealthEventsDeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=encryption_key, enforce_ssl=True, retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "This queue is the dead-letter queue of the node-health rule's target; it needs none of its own.",
            "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        )
        self.node_health_rule = events.Rule(
            self, "NodeHealthRule",
            description=f"Unhealthy-node events of HyperPod cluster {cluster_name} -> log group (metric filter)",
            event_pattern=events.EventPattern(
                source=[ev.SOURCE],
                detail_type=[ev.DetailType.HYPERPOD_NODE_HEALTH_EVENT],
                detail={
                    "ClusterName": [cluster_name],
                    "HealthSummary": {"HealthStatus": events.Match.anything_but_equals_ignore_case("healthy")},
                },
            ),
            targets=[_LogGroupTarget(self.health_event_log_group, self.dead_letter_queue)],
        )
        rules = [self.node_health_rule]
        # Node health events name the instance but not its instance group; HyperPod's cluster events
        # (Continuous provisioning) name both (EventDetails.InstanceId, InstanceGroupName), so they go
        # to the same log group and the dashboard's query links each node to its group.
        self.node_event_rule: events.Rule | None = None
        if node_health is not None:
            self.node_event_rule = events.Rule(
                self, "NodeEventRule",
                description=f"Instance events of HyperPod cluster {cluster_name} (node -> instance group) -> log group",
                event_pattern=events.EventPattern(
                    source=[ev.SOURCE],
                    detail_type=[ev.DetailType.HYPERPOD_CLUSTER_EVENT],
                    detail={"EventDetails": {"ClusterName": [cluster_name], "InstanceId": events.Match.exists()}},
                ),
                targets=[_LogGroupTarget(self.health_event_log_group, self.dead_letter_queue)],
            )
            rules.append(self.node_event_rule)
        self.dead_letter_queue.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgeDeadLetters",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[self.dead_letter_queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": _source_arns(rules)}},
        ))
        if health_event_log_group is None:
            self._allow_eventbridge(self.health_event_log_group, rules)
        self.unhealthy_node_metric_filter = logs.MetricFilter(
            self, "UnhealthyNodeEvents",
            log_group=self.health_event_log_group,
            filter_pattern=logs.FilterPattern.string_value("$.detail.ClusterName", "=", cluster_name),
            metric_namespace=NodeHealthMetric.NAMESPACE,
            metric_name=NodeHealthMetric.UNHEALTHY_NODE_EVENTS,
            metric_value="1",
            dimensions={NodeHealthMetric.DIMENSION: "$.detail.ClusterName"},
        )

        self.alarm_factory = AlarmFactory(self, prefix=cluster_name, routing=routing)
        self._create_alarms(thresholds)
        self.alarms = list(self.alarm_factory.alarms)
        self.dashboard = cw.Dashboard(
            self, "Resource", dashboard_name=self.dashboard_name, default_interval=Duration.hours(6),
        )
        for row in self._rows():
            self.dashboard.add_widgets(*row)

    # -- metrics ---------------------------------------------------------------------------------
    def metric_unhealthy_node_events(self, *, period: Duration = Duration.minutes(15)) -> cw.Metric:
        """Unhealthy-node events of this cluster (Sum), from the metric filter."""
        return cw.Metric(
            namespace=NodeHealthMetric.NAMESPACE, metric_name=NodeHealthMetric.UNHEALTHY_NODE_EVENTS,
            dimensions_map={NodeHealthMetric.DIMENSION: self.cluster_name},
            statistic=cw.Stats.SUM, period=period, label="unhealthy-node events",
        )

    def metric_fsx(self, metric_name: str, *, period: Duration = Duration.minutes(5), label: str | None = None) -> cw.Metric:
        """An ``AWS/FSx`` metric of the file system (Sum); requires ``file_system``."""
        if self.file_system is None:
            raise ValueError(f"ClusterMonitoring {self.node.path} has no file_system")
        return cw.Metric(
            namespace=FsxMetric.NAMESPACE, metric_name=metric_name,
            dimensions_map={FsxMetric.DIMENSION: self.file_system.file_system_id},
            statistic=cw.Stats.SUM, period=period, label=label,
        )

    def metric_fsx_used_percent(self, *, period: Duration = FsxMetric.EMISSION_PERIOD) -> cw.MathExpression:
        """Percent of the provisioned storage in use: ``100 * (1 - free bytes / capacity bytes)``.

        Free bytes are the ``Sum`` of FreeDataStorageCapacity over the disks at the one-minute
        emission period; over a longer period (a dashboard over a long range widens it) the Sum is
        divided by ``PERIOD(free) / 60``, the number of times each disk was counted.
        """
        assert self.file_system is not None
        capacity = self.file_system.storage_capacity_gib * GIB
        return cw.MathExpression(
            expression=f"100 * (1 - {_FREE_BYTES} / {capacity})",
            using_metrics={"free": self.metric_fsx(FsxMetric.FREE_DATA_STORAGE_CAPACITY, period=period)},
            label="FSx used (%)", period=period,
        )

    def metric_fsx_throughput(self, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
        """Client throughput of the file system, MB/s: ``(read + write bytes) / PERIOD / 10^6``."""
        return cw.MathExpression(
            expression="(readbytes + writebytes) / PERIOD(readbytes) / 1000000",
            using_metrics={
                "readbytes": self.metric_fsx(FsxMetric.DATA_READ_BYTES, period=period),
                "writebytes": self.metric_fsx(FsxMetric.DATA_WRITE_BYTES, period=period),
            },
            label="FSx throughput (MB/s)", period=period,
        )

    def metric_fsx_throughput_percent(self, *, period: Duration = Duration.minutes(1)) -> cw.MathExpression:
        """Client throughput as a percentage of the provisioned throughput; requires the file system's
        ``throughput_mbps_per_tib``."""
        assert self.file_system is not None and self.file_system.provisioned_throughput_mbps is not None
        provisioned = self.file_system.provisioned_throughput_mbps
        return cw.MathExpression(
            expression=f"100 * ((readbytes + writebytes) / PERIOD(readbytes) / 1000000) / {provisioned:g}",
            using_metrics={
                "readbytes": self.metric_fsx(FsxMetric.DATA_READ_BYTES, period=period),
                "writebytes": self.metric_fsx(FsxMetric.DATA_WRITE_BYTES, period=period),
            },
            label="FSx throughput (% of provisioned)", period=period,
        )

    def _fsx_throughput_widget(self) -> cw.GraphWidget:
        assert self.file_system is not None
        provisioned = self.file_system.provisioned_throughput_mbps
        if provisioned is None:
            return _graph("FSx for Lustre throughput (MB/s)", [self.metric_fsx_throughput()])
        return _graph(
            f"FSx for Lustre throughput vs provisioned {provisioned:g} MB/s",
            [self.metric_fsx_throughput()], right=[self.metric_fsx_throughput_percent()],
            left_annotations=[cw.HorizontalAnnotation(
                value=provisioned, label=f"provisioned {provisioned:g} MB/s "
                f"({self.file_system.storage_capacity_gib} GiB x {self.file_system.throughput_mbps_per_tib} MB/s/TiB)",
            )],
            right_y_axis=cw.YAxisProps(min=0, show_units=False, label="% of provisioned"),
        )

    # -- alarms ----------------------------------------------------------------------------------
    def _look(self, key: str) -> str:
        return _LOOK_FIRST[key].format(
            name=self.cluster_name, dashboard=self.dashboard_name,
            fs=self.file_system.file_system_id if self.file_system else "the file system",
        )

    def _create_alarms(self, t: ClusterAlarmThresholds) -> None:
        f = self.alarm_factory
        if self.file_system is not None:
            for severity, threshold in t.fsx_used_percent.items():
                f.metric_alarm(
                    signal="fsx-used", severity=severity, metric=self.metric_fsx_used_percent(),
                    threshold=threshold, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    # One-minute periods: the metric's emission period (a longer Sum over-counts the disks).
                    datapoints=Datapoints(FsxMetric.EMISSION_PERIOD, 15, 15),
                    summary=f"FSx for Lustre file system of {self.cluster_name} is >= {threshold:g} % full "
                            f"(of {self.file_system.storage_capacity_gib} GiB) for 15 minutes.",
                    look_first_at=self._look("fsx"),
                )
        for severity, threshold in t.unhealthy_node_events.items():
            f.metric_alarm(
                signal="unhealthy-nodes", severity=severity, metric=self.metric_unhealthy_node_events(),
                threshold=threshold, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                datapoints=Datapoints(Duration.minutes(15), 1, 1),
                summary=f"{threshold:g} or more unhealthy-node events on HyperPod cluster {self.cluster_name} "
                        "in 15 minutes.",
                look_first_at=self._look("nodes"),
            )
        if t.low_gpu_utilization_percent is not None:
            f.metric_alarm(
                signal="low-gpu-utilization", severity=Severity.WARNING,
                metric=self.metrics.metric_gpu_utilization(statistic=cw.Stats.AVERAGE),
                threshold=t.low_gpu_utilization_percent, comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                datapoints=Datapoints(Duration.minutes(15), 4, 4),
                summary=f"Average GPU utilization of running cluster {self.cluster_name} below "
                        f"{t.low_gpu_utilization_percent:g} % for an hour: paying for idle GPUs (cost warning; "
                        "no data, i.e. no running node, never alarms).",
                look_first_at=self._look("gpu"),
            )
        if self.node_health is not None:
            self._create_node_alarms(self.node_health)
        critical = f.notifying(Severity.CRITICAL)
        self.unhealthy: cw.CompositeAlarm | None = None
        if critical:
            self.unhealthy = f.composite_alarm(
                signal="unhealthy", severity=Severity.CRITICAL, rule=cw.AlarmRule.any_of(*critical),
                summary=f"HyperPod cluster {self.cluster_name} is unhealthy: at least one critical alarm is in ALARM.",
                look_first_at=self._look("unhealthy"),
            )

    def _create_node_alarms(self, h: NodeHealthMonitoring) -> None:
        from constructs_lib.training.collector import CollectorMetric

        f, m = self.alarm_factory, self.metrics
        for group in h.gpu_instance_groups:
            if h.idle_gpu_hours_per_hour is not None:
                f.metric_alarm(
                    signal=f"idle-gpu-hours-{group}", severity=Severity.WARNING,
                    metric=m.metric_idle_gpu_hours(instance_group=group),
                    threshold=h.idle_gpu_hours_per_hour, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    datapoints=Datapoints(Duration.hours(1), 1, 1),
                    summary=f"Instance group {group} of {self.cluster_name} spent {h.idle_gpu_hours_per_hour:g} or more "
                            f"GPU-hours below {h.idle_gpu_floor_percent:g} % utilization in the last hour: allocated "
                            "GPUs are idle (cost warning; no running node, no data, never alarms).",
                    look_first_at=self._look("idle"),
                )
            if not h.dcgm:
                continue
            f.metric_alarm(
                signal=f"gpu-xid-{group}", severity=Severity.WARNING,
                metric=m.metric_collector(CollectorMetric.GPU_LAST_XID, instance_group=group, statistic=cw.Stats.MAXIMUM),
                threshold=0, comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                datapoints=Datapoints(Duration.minutes(5), 1, 1),
                summary=f"A GPU of instance group {group} of {self.cluster_name} reported an XID error "
                        "(DCGM_FI_DEV_XID_ERRORS > 0): a driver-reported GPU fault, often before the node fails.",
                look_first_at=self._look("xid"),
            )
            f.metric_alarm(
                signal=f"gpu-ecc-dbe-{group}", severity=Severity.CRITICAL,
                metric=m.metric_collector(CollectorMetric.GPU_ECC_DBE_ERRORS, instance_group=group),
                threshold=1, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                datapoints=Datapoints(Duration.minutes(5), 1, 1),
                summary=f"New uncorrectable (double-bit) ECC errors on a GPU of instance group {group} of "
                        f"{self.cluster_name} (DCGM_FI_DEV_ECC_DBE_VOL_TOTAL increased): the job on that GPU is "
                        "likely corrupted or dead.",
                look_first_at=self._look("ecc"),
            )
            f.metric_alarm(
                signal=f"nvlink-errors-{group}", severity=Severity.WARNING,
                metric=m.metric_collector(CollectorMetric.GPU_NVLINK_ERRORS, instance_group=group),
                threshold=1, comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                datapoints=Datapoints(Duration.minutes(5), 3, 2),
                summary=f"NVLink CRC, replay or recovery errors keep growing on instance group {group} of "
                        f"{self.cluster_name} (2 of the last 3 five-minute periods).",
                look_first_at=self._look("nvlink"),
            )

    # -- dashboard -------------------------------------------------------------------------------
    def _node_rows(self, h: NodeHealthMonitoring) -> list[list[cw.IWidget]]:
        from constructs_lib.training.collector import CollectorMetric, EfaCounter

        m, groups = self.metrics, h.gpu_instance_groups
        rows: list[list[cw.IWidget]] = []
        if groups:
            share = [cw.MathExpression(
                expression=f"IF(gpus_{i} > 0, 100 * idle_{i} / gpus_{i}, 0)",
                using_metrics={
                    f"idle_{i}": m.metric_collector(CollectorMetric.IDLE_GPUS, instance_group=g),
                    f"gpus_{i}": m.metric_collector(CollectorMetric.GPU_COUNT, instance_group=g),
                },
                label=g, period=Duration.minutes(5),
            ) for i, g in enumerate(groups)]
            rows.append([
                _graph(f"Idle GPU-hours per hour (GPUs < {h.idle_gpu_floor_percent:g} %)",
                       [m.metric_idle_gpu_hours(instance_group=g) for g in groups],
                       right=[m.metric_gpu_hours(instance_group=g) for g in groups],
                       left_y_axis=cw.YAxisProps(min=0, show_units=False, label="idle GPU-hours"),
                       right_y_axis=cw.YAxisProps(min=0, show_units=False, label="GPU-hours")),
                _graph(f"Idle GPUs (% of GPUs < {h.idle_gpu_floor_percent:g} %)", share,
                       left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
                _graph("EFA errors (new per 5 minutes)", [
                    m.metric_collector(c.metric_name, instance_group=g, label=f"{g}: {c.value}")
                    for g in groups for c in EfaCounter
                ]),
            ])
        if h.dcgm and groups:
            rows.append([
                _graph("GPU health: last XID error code (DCGM, max)", [
                    m.metric_collector(CollectorMetric.GPU_LAST_XID, instance_group=g, statistic=cw.Stats.MAXIMUM, label=g)
                    for g in groups
                ], width=6),
                _graph("GPU health: new ECC errors (DCGM)", [
                    m.metric_collector(metric, instance_group=g, label=f"{g}: {kind}")
                    for g in groups
                    for metric, kind in ((CollectorMetric.GPU_ECC_DBE_ERRORS, "double-bit"),
                                         (CollectorMetric.GPU_ECC_SBE_ERRORS, "single-bit"))
                ], width=6),
                _graph("GPU health: throttled GPUs (DCGM clocks event reasons, max per node)", [
                    m.metric_collector(metric, instance_group=g, statistic=cw.Stats.MAXIMUM, label=f"{g}: {kind}")
                    for g in groups
                    for metric, kind in ((CollectorMetric.GPUS_THERMAL_THROTTLED, "thermal"),
                                         (CollectorMetric.GPUS_POWER_THROTTLED, "power"))
                ], width=6),
                _graph("GPU health: new NVLink errors (DCGM)", [
                    m.metric_collector(CollectorMetric.GPU_NVLINK_ERRORS, instance_group=g, label=g) for g in groups
                ], width=6),
            ])
        if h.slurm:
            rows.append([
                _graph("Slurm queue (jobs, squeue)", [
                    m.metric_collector(metric, statistic=cw.Stats.MAXIMUM, label=label)
                    for metric, label in ((CollectorMetric.SLURM_JOBS_RUNNING, "running"),
                                          (CollectorMetric.SLURM_JOBS_PENDING, "pending"),
                                          (CollectorMetric.SLURM_QUEUE_DEPTH, "queue depth (all states)"))
                ], width=FULL_WIDTH),
            ])
        return rows

    def _rows(self) -> list[list[cw.IWidget]]:
        m = self.metrics
        header = f"**{self.cluster_name}** - SageMaker HyperPod cluster"
        if self.file_system is not None:
            header += f" | FSx for Lustre {self.file_system.storage_capacity_gib} GiB"
        rows: list[list[cw.IWidget]] = [
            [cw.TextWidget(markdown=header + "\n\nGPU metrics from the CloudWatch agent on the nodes.",
                           width=FULL_WIDTH, height=2)],
            [
                _graph("GPU utilization (%)", [
                    m.metric_gpu_utilization(statistic=cw.Stats.AVERAGE, label="average"),
                    m.metric_gpu_utilization(statistic=cw.Stats.MINIMUM, label="least busy"),
                ], left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
                _graph("GPU memory utilization (%)", [
                    m.metric_gpu_memory_utilization(statistic=cw.Stats.AVERAGE, label="average"),
                    m.metric_gpu_memory_utilization(statistic=cw.Stats.MAXIMUM, label="max"),
                ], left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
                _graph("GPU health: temperature (max, Celsius)", [
                    m.metric_gpu_temperature(statistic=cw.Stats.MAXIMUM, label="hottest GPU"),
                ]),
            ],
            [
                _graph("Unhealthy-node events (per 15 minutes)", [self.metric_unhealthy_node_events()]),
                self._health_events_widget(),
            ],
        ]
        if self.node_health is not None:
            rows.append([cw.LogQueryWidget(
                title="Nodes by instance group (HyperPod cluster events: instance -> group)",
                log_group_names=[self.health_event_log_group.log_group_name],
                query_lines=[
                    "filter ispresent(detail.EventDetails.InstanceId)",
                    ("stats count(*) as events, max(@timestamp) as last_event by detail.EventDetails.InstanceGroupName "
                    "as instance_group, detail.EventDetails.InstanceId as instance_id"),
                    "sort instance_group asc",
                    "limit 100",
                ],
                width=FULL_WIDTH, height=HEIGHT,
            )])
            rows.extend(self._node_rows(self.node_health))
        if self.file_system is not None:
            rows.append([
                _graph("FSx for Lustre used (%)", [self.metric_fsx_used_percent()],
                       left_y_axis=cw.YAxisProps(min=0, max=100, show_units=False)),
                _graph("FSx for Lustre free capacity (GiB)", [cw.MathExpression(
                    expression=f"{_FREE_BYTES} / {GIB}",
                    using_metrics={"free": self.metric_fsx(FsxMetric.FREE_DATA_STORAGE_CAPACITY,
                                                           period=FsxMetric.EMISSION_PERIOD)},
                    label="free (GiB)", period=FsxMetric.EMISSION_PERIOD,
                )]),
                self._fsx_throughput_widget(),
            ])
        alarms = self.alarm_factory.notifying()
        for i in range(0, len(alarms), _quotas.MAX_ALARMS_PER_STATUS_WIDGET):
            rows.append([cw.AlarmStatusWidget(
                title="Alarms", alarms=alarms[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET], width=FULL_WIDTH, height=3,
            )])
        return rows

    def _health_events_widget(self) -> cw.LogQueryWidget:
        """Latest unhealthy-node events; with node health, interleaved with the same instances' cluster
        events, which carry the instance group (``coalesce`` of the two events' instance id fields)."""
        if self.node_health is None:
            lines = [
                ("fields @timestamp, detail.InstanceId, detail.HealthSummary.HealthStatus, "
                "detail.HealthSummary.HealthStatusReason, detail.HealthSummary.RepairAction"),
                "sort @timestamp desc",
                "limit 20",
            ]
        else:
            lines = [
                ("fields @timestamp, coalesce(detail.InstanceId, detail.EventDetails.InstanceId) as instance_id, "
                "detail.EventDetails.InstanceGroupName as instance_group, detail.HealthSummary.HealthStatus as health, "
                "detail.HealthSummary.HealthStatusReason as reason, detail.HealthSummary.RepairAction as repair_action, "
                "detail.EventDetails.Description as cluster_event"),
                "sort @timestamp desc",
                "limit 50",
            ]
        return cw.LogQueryWidget(
            title="Latest unhealthy-node events" + (" (with each node's cluster events)" if self.node_health else ""),
            log_group_names=[self.health_event_log_group.log_group_name], query_lines=lines,
            width=2 * WIDTH, height=HEIGHT,
        )

    def _allow_eventbridge(self, log_group: logs.ILogGroup, rules: list[events.Rule]) -> None:
        """The log group's resource policy: EventBridge (these rules only) may write events into it."""
        arn = _log_group_arn(self, log_group)
        logs.CfnResourcePolicy(
            self, "NodeHealthEventsPolicy",
            policy_name=Names.unique_resource_name(self, max_length=255),
            policy_document=Stack.of(self).to_json_string({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "EventBridgeWritesNodeHealthEvents",
                    "Effect": "Allow",
                    "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{arn}:*",
                    "Condition": {"ArnEquals": {
                        "aws:SourceArn": _source_arns(rules),
                    }},
                }],
            }),
        )


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """EventBridge target writing events to a log group, without the custom resource that
    ``aws_events_targets.CloudWatchLogGroup`` adds for the log group's resource policy."""

    def __init__(self, log_group: logs.ILogGroup, dead_letter_queue: sqs.IQueue) -> None:
        self._log_group = log_group
        self._dead_letter_queue = dead_letter_queue

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(
            arn=_log_group_arn(self._log_group, self._log_group),
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()),
            ),
        )


def _log_group_arn(scope: Construct, log_group: logs.ILogGroup) -> str:
    return Stack.of(scope).format_arn(
        service="logs", resource="log-group", resource_name=log_group.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _graph(title: str, left: list[cw.IMetric], *, width: int = WIDTH, **kw) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=left, width=width, height=HEIGHT, **kw)


def _validate(path, cluster_name, metrics, file_system, t: ClusterAlarmThresholds,
              node_health: NodeHealthMonitoring | None = None) -> None:
    from .. import limits

    p = Problems(f"ClusterMonitoring {path}")
    p.check(bool(limits.NAME_PATTERN.match(cluster_name)), "cluster_name", cluster_name, limits.NAME_RULE)
    required = ("metric_gpu_utilization", "metric_gpu_memory_utilization", "metric_gpu_temperature")
    missing = [n for n in required if not callable(getattr(metrics, n, None))]
    p.check(not missing, "metrics", type(metrics).__name__, f"an object with {'(), '.join(required)}()")
    if file_system is not None:
        p.check(file_system.storage_capacity_gib >= 1, "file_system.storage_capacity_gib",
                file_system.storage_capacity_gib, ">= 1 GiB")
    for severity, value in t.fsx_used_percent.items():
        p.check(0 < value <= 100, f"thresholds.fsx_used_percent.{severity.value}", value, "a percentage in (0, 100]")
    for severity, value in t.unhealthy_node_events.items():
        p.check(value >= 1, f"thresholds.unhealthy_node_events.{severity.value}", value, ">= 1 event")
    if t.low_gpu_utilization_percent is not None:
        p.check(0 < t.low_gpu_utilization_percent <= 100, "thresholds.low_gpu_utilization_percent",
                t.low_gpu_utilization_percent, "a percentage in (0, 100]")
    if node_health is not None:
        node_methods = ("metric_collector", "metric_idle_gpu_hours", "metric_gpu_hours")
        missing = [n for n in node_methods if not callable(getattr(metrics, n, None))]
        p.check(not missing, "metrics", type(metrics).__name__,
                f"with node_health, an object with {'(), '.join(node_methods)}() (HyperPodCluster with node_monitoring)")
        p.check(0 < node_health.idle_gpu_floor_percent <= 100, "node_health.idle_gpu_floor_percent",
                node_health.idle_gpu_floor_percent, "a percentage in (0, 100]")
        check_idle_gpu_hours(p, "node_health.idle_gpu_hours_per_hour", node_health.idle_gpu_hours_per_hour)
    p.raise_if_any()


def check_idle_gpu_hours(p: Problems, where: str, value: float | None) -> None:
    """The rule on ``NodeHealthMonitoring.idle_gpu_hours_per_hour`` (run by ``ClusterMonitoring`` and the config)."""
    if value is not None:
        p.check(value > 0, where, value, "> 0 GPU-hours, or None (no alarm)")


def _source_arns(rules: Sequence[events.IRule]) -> str | list[str]:
    """The rules allowed to deliver, as a policy condition value (one ARN, or the list)."""
    return rules[0].rule_arn if len(rules) == 1 else [r.rule_arn for r in rules]
