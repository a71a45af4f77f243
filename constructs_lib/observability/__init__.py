"""Observability: dashboards and severity-routed alarms for endpoints and clusters, and the platform overview."""

from .alarms import AlarmFactory, AlarmRouting, Datapoints, Severity, SeverityThresholds
from .cluster_monitoring import (
    ClusterAlarmThresholds,
    ClusterMetricsSource,
    ClusterMonitoring,
    ClusterNodeMetricsSource,
    FsxMetric,
    LustreFileSystem,
    NodeHealthMetric,
    NodeHealthMonitoring,
)
from .endpoint_dashboard import EndpointDashboard
from .endpoint_monitoring import EndpointAlarmThresholds, EndpointMonitoring, check_monitoring_props
from .endpoint_signals import ROLLBACK_SIGNALS, SIGNALS, SIGNALS_BY_KEY, Signal
from .platform_overview import PlatformOverview
from .prometheus import ImportedPrometheusWorkspace, PrometheusWorkspace
from .severity_topics import SeverityTopics, SlackChannel
from .slo import SRE_WORKBOOK_TIERS, BurnRateTier, ServiceLevelObjective
from .training_monitoring import (
    TrainingMonitoringSpec,
    TrainingPipelineMetricsSource,
    TrainingPipelineMonitoring,
    check_training_monitoring,
)

__all__ = [
    "ROLLBACK_SIGNALS",
    "SIGNALS",
    "SIGNALS_BY_KEY",
    "SRE_WORKBOOK_TIERS",
    "AlarmFactory",
    "AlarmRouting",
    "BurnRateTier",
    "ClusterAlarmThresholds",
    "ClusterMetricsSource",
    "ClusterMonitoring",
    "ClusterNodeMetricsSource",
    "Datapoints",
    "EndpointAlarmThresholds",
    "EndpointDashboard",
    "EndpointMonitoring",
    "FsxMetric",
    "ImportedPrometheusWorkspace",
    "LustreFileSystem",
    "NodeHealthMetric",
    "NodeHealthMonitoring",
    "PlatformOverview",
    "PrometheusWorkspace",
    "ServiceLevelObjective",
    "Severity",
    "SeverityThresholds",
    "SeverityTopics",
    "Signal",
    "SlackChannel",
    "TrainingMonitoringSpec",
    "TrainingPipelineMetricsSource",
    "TrainingPipelineMonitoring",
    "check_monitoring_props",
    "check_training_monitoring",
]
