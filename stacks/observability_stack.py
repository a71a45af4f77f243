"""Observability: alarm topics per severity, the HyperPod clusters' dashboards and alarms, the
overview's front page (every endpoint's state, every cluster). Each endpoint's own dashboard and
alarms, and the overview's page of its shard, live with the endpoint in its inference shard
(:mod:`stacks.inference_stack`).

The severity topics live here rather than in the stateful data stack: they hold no data (a replaced
topic only asks its e-mail subscribers to confirm again, and their logical ids are pinned by tests),
and keeping them here adds no cross-stack export to the termination-protected data stack. The
shards' alarms refer to them, so this stack deploys before the shards; it therefore imports nothing
from a shard: the front page shows the endpoints' rollup alarms by fixed name. The training shards'
clusters and pipelines (``stack`` key) have their monitoring in their shard (:class:`TrainingMonitoring`,
the same construct ids as here) and their alarms on the front page by name too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.inference import EndpointBase
from constructs_lib.lifecycle import TrainingJobAlarms, pack_pipelines
from constructs_lib.observability import (
    AlarmRouting,
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
from .config.training import TrainingPipelineSection
from .naming import PlatformNames, construct_id


@dataclass(frozen=True)
class MonitoredCluster:
    """A HyperPod cluster to monitor: its name, its GPU metrics (e.g. the ``HyperPodCluster``) and its
    FSx for Lustre file system (``LustreFileSystem(storage.file_system_id, capacity_gib)``)."""

    cluster_name: str
    metrics: ClusterMetricsSource
    file_system: LustreFileSystem | None = None
    node_health: NodeHealthMonitoring | None = None


class ObservabilityStack(Stack):
    """``severity_topics`` (routing), ``clusters`` (cluster name -> :class:`ClusterMonitoring`) and,
    after :meth:`add_overview`, ``overview`` (:class:`PlatformOverview`).

    :param clusters: HyperPod clusters to monitor; the platform passes every configured training cluster.
    :param pipelines: config name -> training pipeline (``TrainingPipeline``); ``training`` maps the
        names to their :class:`TrainingPipelineMonitoring` (dashboard and alarm prefix ``<prefix>-pipeline-<name>``);
        ``job_alarms`` (:class:`TrainingJobAlarms`, one per group of about ten pipelines) gives each running
        job of them its own alarms.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        key: kms.IKey,
        clusters: Sequence[MonitoredCluster] = (),
        pipelines: Mapping[str, TrainingPipelineMetricsSource] | None = None,
        names: PlatformNames | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._names = names = names or PlatformNames.of(config)
        slack = config.notifications.slack
        self.severity_topics = SeverityTopics(
            self, "AlarmTopics", key=key, name_prefix=names.prefix, emails=config.notifications.emails,
            slack=SlackChannel(workspace_id=slack.workspace_id, channel_id=slack.channel_id) if slack else None,
        )
        monitoring = TrainingMonitoring(
            self, config=config, names=names, key=key, routing=self.severity_topics.routing, clusters=clusters,
            pipelines=pipelines or {}, sections=config.training_pipelines,
        )
        self.clusters, self.training, self.job_alarms = monitoring.clusters, monitoring.training, monitoring.job_alarms
        # The alarms of the training shards' clusters and pipelines, shown on the overview by name.
        self._shard_alarms: list[cw.IAlarm] = []
        self.overview: PlatformOverview | None = None

    @property
    def overview_name(self) -> str:
        """The overview's front page: ``<prefix>-overview``."""
        return self._names.overview

    def add_overview(
        self, endpoints: Sequence[tuple[EndpointBase, EndpointMonitoring]], shard_pages: Sequence[str] = (),
    ) -> PlatformOverview:
        """The overview's front page: every endpoint's state (its rollup alarms ``unhealthy`` and
        ``degraded``, ALARM while any of its alarms of that severity is; config order), every cluster
        and training pipeline with its alarms, and links to ``shard_pages`` (each shard's page with its endpoints' metrics).
        Endpoint alarms are named, not referenced: this stack imports nothing from a shard (no cycle, no
        export), and its size grows by two alarm ARNs per endpoint only."""
        rollups: list[cw.IAlarm] = []
        for endpoint, monitoring in endpoints:
            for rollup, suffix in ((monitoring.unhealthy, "Unhealthy"), (monitoring.degraded, "Degraded")):
                if rollup is not None:
                    rollups.append(cw.CompositeAlarm.from_composite_alarm_name(
                        self, f"{construct_id(endpoint.endpoint_name)}{suffix}",
                        monitoring.alarm_factory.name_of(rollup),
                    ))
        rollups += [c.unhealthy for c in self.clusters.values() if c.unhealthy is not None]
        rollups += [t.unhealthy for t in self.training.values() if t.unhealthy is not None]
        others = TrainingMonitoring.overview_alarms(self.clusters.values(), self.training.values(), rollups)
        self.overview = PlatformOverview(
            self, "Overview", dashboard_name=self.overview_name, clusters=list(self.clusters.values()),
            alarms=[*rollups, *others, *self._shard_alarms], links=shard_pages,
        )
        return self.overview

    def add_training_shard(self, monitoring: TrainingMonitoring) -> None:
        """Show a training shard's cluster and pipeline alarms on the overview (call before
        :meth:`add_overview`). By name, like the endpoints': this stack imports nothing from a shard
        (the shard refers to this stack's topics), so the overview shows their states, not their graphs
        (each cluster and pipeline keeps its own dashboard in the shard)."""
        for m in (*monitoring.clusters.values(), *monitoring.training.values()):
            rollups = [m.unhealthy] if m.unhealthy is not None else []
            clusters, training = ([m], []) if isinstance(m, ClusterMonitoring) else ([], [m])
            for alarm in [*rollups, *TrainingMonitoring.overview_alarms(clusters, training, rollups)]:
                name = m.alarm_factory.name_of(alarm)
                of_name = (cw.CompositeAlarm.from_composite_alarm_name if isinstance(alarm, cw.CompositeAlarm)
                           else cw.Alarm.from_alarm_name)
                self._shard_alarms.append(of_name(self, f"Shard-{name}".replace("/", "-"), name))


class TrainingMonitoring:
    """The monitoring of some training clusters and pipelines, built in ``scope`` (the observability
    stack, or a training shard): ``clusters`` (cluster name -> :class:`ClusterMonitoring`), ``training``
    (pipeline config name -> :class:`TrainingPipelineMonitoring`, dashboard and alarm prefix
    ``<prefix>-pipeline-<name>``) and ``job_alarms`` (:class:`TrainingJobAlarms`, one per group of about
    ten pipelines: each running job of them gets its own alarms). Alarms notify ``routing``'s topics.

    :param sections: the config entries of the pipelines to monitor (those in ``pipelines``).
    """

    def __init__(
        self, scope: Construct, *, config: PlatformConfig, names: PlatformNames, key: kms.IKey, routing: AlarmRouting,
        clusters: Sequence[MonitoredCluster], pipelines: Mapping[str, TrainingPipelineMetricsSource],
        sections: Sequence[TrainingPipelineSection],
    ) -> None:
        self.clusters: dict[str, ClusterMonitoring] = {
            c.cluster_name: ClusterMonitoring(
                scope, construct_id(c.cluster_name) + "Cluster", cluster_name=c.cluster_name, metrics=c.metrics,
                file_system=c.file_system, routing=routing, encryption_key=key, node_health=c.node_health,
            )
            for c in clusters
        }
        self.training: dict[str, TrainingPipelineMonitoring] = {
            section.name: TrainingPipelineMonitoring(
                scope, construct_id(section.name) + "Training", pipeline=pipelines[section.name],
                spec=section.monitoring.to_spec(),
                # "pipeline-": an endpoint or cluster may have the same name (alarm names are unique).
                prefix=names.pipeline(section.name), dashboard_name=names.pipeline(section.name),
                routing=routing,
            )
            for section in sections if section.name in pipelines
        }
        # Each running job of the pipelines gets its own alarms (exact dimension values), deleted when it
        # ends: one function per group of pipelines that fits a Lambda environment (about ten).
        topics = {severity.value: topic for severity, topic in routing.items()}
        self.job_alarms: list[TrainingJobAlarms] = [
            TrainingJobAlarms(scope, "TrainingJobAlarms" + (str(i + 1) if i else ""), pipelines=group, topics=topics,
                              key=key)
            for i, group in enumerate(pack_pipelines([t.job_alarms for t in self.training.values()], topics))
        ]

    @staticmethod
    def overview_alarms(
        clusters: Iterable[ClusterMonitoring], training: Iterable[TrainingPipelineMonitoring], rollups: Sequence[cw.IAlarm],
    ) -> list[cw.AlarmBase]:
        """The overview's alarms of these clusters and pipelines besides their ``rollups``: every notifying
        cluster alarm and every training alarm (the stall alarm's inputs too: "job running" is a state
        worth seeing)."""
        others = [a for c in clusters for a in c.alarm_factory.notifying() if a not in rollups]
        others += [a for t in training for a in t.alarm_factory.alarms if a not in rollups]
        return others
