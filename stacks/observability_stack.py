"""Observability: alarm topics per severity, a dashboard and alarms per endpoint, the platform overview.

The severity topics live here rather than in the stateful data stack: they hold no data (a replaced
topic only asks its e-mail subscribers to confirm again, and their logical ids are pinned by tests),
every alarm that publishes to them is in this stack, and keeping them here adds no cross-stack export
to the termination-protected data stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.inference import EndpointBase, EndpointKind
from constructs_lib.observability import (
    ClusterMetricsSource,
    ClusterMonitoring,
    EndpointMonitoring,
    LustreFileSystem,
    NodeHealthMonitoring,
    PlatformOverview,
    SeverityTopics,
    SlackChannel,
    TrainingPipelineMetricsSource,
    TrainingPipelineMonitoring,
)

from .config import PlatformConfig
from .config.endpoints import EndpointSection, endpoint_slo, endpoint_thresholds
from .config.training import pipeline_monitoring


@dataclass(frozen=True)
class MonitoredCluster:
    """A HyperPod cluster to monitor: its name, its GPU metrics (e.g. the ``HyperPodCluster``) and its
    FSx for Lustre file system (``LustreFileSystem(storage.file_system_id, capacity_gib)``)."""

    cluster_name: str
    metrics: ClusterMetricsSource
    file_system: LustreFileSystem | None = None
    node_health: NodeHealthMonitoring | None = None


# Kinds whose autoscaling min/max are instance counts (the dashboard draws them, "at max" alarms on them).
_INSTANCE_SCALED = (EndpointKind.REALTIME, EndpointKind.MULTI_MODEL)


class ObservabilityStack(Stack):
    """``severity_topics`` (routing), ``monitoring`` (config name -> :class:`EndpointMonitoring`),
    ``dashboards`` (config name -> dashboard) and ``overview`` (:class:`PlatformOverview`).

    :param clusters: HyperPod clusters to monitor (``clusters`` maps their names to
        :class:`ClusterMonitoring`); the platform passes every configured training cluster.
    :param pipelines: config name -> training pipeline (``TrainingPipeline``); ``training`` maps the
        names to their :class:`TrainingPipelineMonitoring` (dashboard and alarm prefix ``<prefix>-pipeline-<name>``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        endpoints: Mapping[str, EndpointBase],
        key: kms.IKey,
        clusters: Sequence[MonitoredCluster] = (),
        pipelines: Mapping[str, TrainingPipelineMetricsSource] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        slack = config.notifications.slack
        self.severity_topics = SeverityTopics(
            self, "AlarmTopics", key=key, name_prefix=config.prefix, emails=config.notifications.emails,
            slack=SlackChannel(workspace_id=slack.workspace_id, channel_id=slack.channel_id) if slack else None,
        )
        self.monitoring: dict[str, EndpointMonitoring] = {}
        for section in config.endpoints:
            endpoint = endpoints[section.name]
            self.monitoring[section.name] = EndpointMonitoring(
                # The id the foundation's dashboard had: the dashboard (child "Resource") keeps its logical id.
                self, _construct_id(section.name) + "Dashboard",
                endpoint=endpoint, routing=self.severity_topics.routing,
                thresholds=endpoint_thresholds(section.alarms, section.type), slo=endpoint_slo(section),
                **_capacity(section),
            )
        self.clusters: dict[str, ClusterMonitoring] = {
            c.cluster_name: ClusterMonitoring(
                self, _construct_id(c.cluster_name) + "Cluster", cluster_name=c.cluster_name, metrics=c.metrics,
                file_system=c.file_system, routing=self.severity_topics.routing, encryption_key=key,
                node_health=c.node_health,
            )
            for c in clusters
        }
        pipelines = pipelines or {}
        self.training: dict[str, TrainingPipelineMonitoring] = {
            section.name: TrainingPipelineMonitoring(
                self, _construct_id(section.name) + "Training", pipeline=pipelines[section.name],
                spec=pipeline_monitoring(section),
                # "pipeline-": an endpoint or cluster may have the same name (alarm names are unique).
                prefix=f"{config.prefix}-pipeline-{section.name}", dashboard_name=f"{config.prefix}-pipeline-{section.name}",
                routing=self.severity_topics.routing,
            )
            for section in config.training_pipelines if section.name in pipelines
        }
        self.dashboards: dict[str, cw.Dashboard] = {n: m.dashboard for n, m in self.monitoring.items()}
        rollups = [m.unhealthy for m in self.monitoring.values() if m.unhealthy is not None]
        rollups += [c.unhealthy for c in self.clusters.values() if c.unhealthy is not None]
        rollups += [t.unhealthy for t in self.training.values() if t.unhealthy is not None]
        others = [a for m in self.monitoring.values() for a in m.alarm_factory.notifying() if a not in rollups]
        others += [a for c in self.clusters.values() for a in c.alarm_factory.notifying() if a not in rollups]
        # Every training alarm, the stall alarm's inputs too: "job running" is a state worth seeing.
        others += [a for t in self.training.values() for a in t.alarm_factory.alarms if a not in rollups]
        self.overview = PlatformOverview(
            self, "Overview", dashboard_name=f"{config.prefix}-overview",
            endpoints=[endpoints[s.name] for s in config.endpoints], clusters=list(self.clusters.values()),
            alarms=[*rollups, *others],
        )


def _capacity(section: EndpointSection) -> dict:
    scaling = section.autoscaling
    if scaling is None or EndpointKind(section.type) not in _INSTANCE_SCALED:
        return {}
    return {"min_capacity": scaling.min, "max_capacity": scaling.max}


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
