"""Inference shards: each stack holds some of the config's endpoints and everything that is theirs
alone (model, endpoint config, endpoint, scaling, rollback alarms, dashboard, severity alarms), so a
shard deploys, updates and rolls back on its own and in parallel with the others.

Which endpoints a shard holds is decided in :mod:`stacks.shards`. A shard refers to the data stack
(platform key; the artifact bucket by name) and to the observability stack's severity topics, nothing
else; no other stack imports a value from a shard (the overview and the lifecycle glue name its
endpoints and alarms by their fixed names), so a shard can be deleted on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.inference import EndpointKind, InferenceEndpoint, traits_of
from constructs_lib.observability import AlarmRouting, EndpointMonitoring, PlatformOverview

from .config import PlatformConfig
from .config import endpoints as endpoint_config
from .config.endpoints import EndpointSection, data_capture_section, endpoint_slo, endpoint_thresholds
from .naming import PlatformNames, construct_id
from .promotion import with_promoted_models


def endpoint_props(config: PlatformConfig, ep: EndpointSection) -> dict:
    """Config entry -> ``InferenceEndpoint`` keyword arguments (the props the config validated), promoted
    variants reading their model from the promotion parameters (``stacks.promotion``)."""
    return with_promoted_models(config, ep, endpoint_config.endpoint_props(config.prefix, ep))


class InferenceStack(Stack):
    """One shard. ``endpoints`` and ``monitoring`` map config names to each endpoint's
    ``InferenceEndpoint`` and ``EndpointMonitoring``; ``dashboards`` to its dashboard. Async endpoints
    write to the artifact bucket and create their own success/error topics.

    Construct ids are the ones the single inference and observability stacks gave (``<Name>Endpoint``,
    ``<Name>Dashboard``), so logical ids do not depend on the shard, nor on the other endpoints.

    :param endpoints: this shard's config entries.
    :param routing: the severity topics every endpoint's alarms notify.
    :param overview_page: name of this shard's page of the platform overview (``overview``: its endpoints'
        key metrics), which links to ``overview_links`` (the overview's front page).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        endpoints: Sequence[EndpointSection],
        key: kms.IKey,
        topic: sns.ITopic,
        routing: AlarmRouting,
        overview_page: str,
        overview_links: Sequence[str] = (),
        names: PlatformNames | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        names = names or PlatformNames.of(config)
        self.endpoints: dict[str, InferenceEndpoint] = {}
        self.monitoring: dict[str, EndpointMonitoring] = {}
        # Imported by its account/region-derived name: no cross-stack export pins the bucket.
        bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=names.artifact_bucket, encryption_key=key
        )
        for ep in endpoints:
            traits = traits_of(EndpointKind(ep.type))
            endpoint = self.endpoints[ep.name] = InferenceEndpoint(
                self, construct_id(ep.name) + "Endpoint", **endpoint_props(config, ep),
                # No alarm_topic: the rollback alarms are the endpoint's critical alarms, which notify
                # the critical topic through the monitoring's rollup (one incident, one notification).
                encryption_key=key,
                data_capture_bucket=bucket if data_capture_section(ep) else None,
                async_output_bucket=bucket if traits.queued else None,  # results and failures land in S3
            )
            # The monitoring reads the endpoint's own facts (kind, capacity bounds) and its kind's traits.
            self.monitoring[ep.name] = EndpointMonitoring(
                # The id the foundation's dashboard had: the dashboard (child "Resource") keeps its logical id.
                self, construct_id(ep.name) + "Dashboard",
                endpoint=endpoint, routing=routing,
                thresholds=endpoint_thresholds(ep.alarms, ep.type), slo=endpoint_slo(ep),
            )
        self.dashboards = {name: m.dashboard for name, m in self.monitoring.items()}
        # The overview's page of this shard: with the shard, so the overview grows with the shards, not in one stack.
        self.overview = PlatformOverview(
            self, "Overview", dashboard_name=overview_page, endpoints=list(self.endpoints.values()),
            links=overview_links,
        )
