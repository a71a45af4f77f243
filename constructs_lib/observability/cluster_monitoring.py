"""``ClusterMonitoring``: dashboard and alarms of a SageMaker HyperPod cluster and its FSx for Lustre file system."""

from __future__ import annotations

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
from .alarms import AlarmFactory, AlarmRouting, Datapoints, Severity, SeverityThresholds

WIDTH = 8
HEIGHT = 6
FULL_WIDTH = 24
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


@dataclass(frozen=True)
class LustreFileSystem:
    """The cluster's FSx for Lustre file system: ``file_system_id`` (``fs-...`` or a token) and its
    provisioned ``storage_capacity_gib`` (turns free bytes into a used percentage)."""

    file_system_id: str
    storage_capacity_gib: int


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
    ) -> None:
        super().__init__(scope, id)
        _validate(self.node.path, cluster_name, metrics, file_system, thresholds)
        self.cluster_name = cluster_name
        self.metrics = metrics
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
        self.dead_letter_queue.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgeDeadLetters",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[self.dead_letter_queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": self.node_health_rule.rule_arn}},
        ))
        if health_event_log_group is None:
            self._allow_eventbridge(self.health_event_log_group, self.node_health_rule)
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
        critical = f.notifying(Severity.CRITICAL)
        self.unhealthy: cw.CompositeAlarm | None = None
        if critical:
            self.unhealthy = f.composite_alarm(
                signal="unhealthy", severity=Severity.CRITICAL, rule=cw.AlarmRule.any_of(*critical),
                summary=f"HyperPod cluster {self.cluster_name} is unhealthy: at least one critical alarm is in ALARM.",
                look_first_at=self._look("unhealthy"),
            )

    # -- dashboard -------------------------------------------------------------------------------
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
                cw.LogQueryWidget(
                    title="Latest unhealthy-node events",
                    log_group_names=[self.health_event_log_group.log_group_name],
                    query_lines=[
                        (
                            "fields @timestamp, detail.InstanceId, detail.HealthSummary.HealthStatus, "
                            "detail.HealthSummary.HealthStatusReason, detail.HealthSummary.RepairAction"
                        ),
                        "sort @timestamp desc",
                        "limit 20",
                    ],
                    width=2 * WIDTH, height=HEIGHT,
                ),
            ],
        ]
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
                _graph("FSx for Lustre throughput (MB/s)", [self.metric_fsx_throughput()]),
            ])
        alarms = self.alarm_factory.notifying()
        for i in range(0, len(alarms), _quotas.MAX_ALARMS_PER_STATUS_WIDGET):
            rows.append([cw.AlarmStatusWidget(
                title="Alarms", alarms=alarms[i: i + _quotas.MAX_ALARMS_PER_STATUS_WIDGET], width=FULL_WIDTH, height=3,
            )])
        return rows

    def _allow_eventbridge(self, log_group: logs.ILogGroup, rule: events.Rule) -> None:
        """The log group's resource policy: EventBridge (this rule only) may write events into it."""
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
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
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


def _graph(title: str, left: list[cw.IMetric], **kw) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=left, width=WIDTH, height=HEIGHT, **kw)


def _validate(path, cluster_name, metrics, file_system, t: ClusterAlarmThresholds) -> None:
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
    p.raise_if_any()
