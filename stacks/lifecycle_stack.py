"""Lifecycle glue: EventBridge rules and functions reacting to the platform's SageMaker events,
composed from the ``lifecycle`` section (and the endpoints it names)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.inference import DataCaptureSpec, InferenceEndpoint
from constructs_lib.lifecycle import (
    ApprovedModelDeployer,
    EndpointFailureNotifications,
    HyperPodEventNotifications,
    IdleEndpointGuard,
    S3Prefix,
    TrainingJobNotifications,
)

from .config import PlatformConfig
from .config.endpoints import data_capture_section
from .config.lifecycle import hyperpod_events_of, training_job_notifications_on
from .naming import PlatformNames
from .promotion import MODELS_PREFIX, promotion_sources

_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)")
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")


class LifecycleStack(Stack):
    """Endpoint failure notifications for every endpoint, plus what ``lifecycle`` switches on: training
    job notifications (and model registration), approved-model deployment, the idle endpoint guard and
    HyperPod event notifications (and node repair). Each is ``None`` when not configured."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        endpoints: Mapping[str, InferenceEndpoint],
        topic: sns.ITopic,
        key: kms.IKey,
        names: PlatformNames | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._config = config
        self._names = names = names or PlatformNames.of(config)
        lifecycle = config.lifecycle
        platform_name = names.prefix
        physical = {ep.name: names.endpoint(ep.name) for ep in config.endpoints}
        common = dict(topic=topic, key=key, platform_name=platform_name)

        self.endpoint_notifications: EndpointFailureNotifications | None = None
        if physical:
            # Every platform endpoint is named <prefix>-<name> (PlatformNames.endpoint): one
            # prefix pattern and one ARN pattern, of the same size for 5 endpoints or 500 (a list of names
            # passes EventBridge's 4096-character pattern limit at about 180 endpoints).
            self.endpoint_notifications = EndpointFailureNotifications(
                self, "EndpointNotifications", endpoint_name_prefix=names.endpoint_prefix, **common
            )

        self.training_job_notifications: TrainingJobNotifications | None = None
        if training_job_notifications_on(config):
            registration = lifecycle.register_models_from_training
            self.training_job_notifications = TrainingJobNotifications(
                self, "TrainingJobNotifications",
                registration=registration.to_spec() if registration else None,
                **common,
            )

        self.model_deployer: ApprovedModelDeployer | None = None
        if lifecycle.auto_deploy_approved_models:
            self.model_deployer = self._model_deployer(endpoints, common)

        self.idle_endpoint_guard: IdleEndpointGuard | None = None
        if lifecycle.idle_endpoint_hours is not None:
            by_name = {ep.name: ep for ep in config.endpoints}
            self.idle_endpoint_guard = IdleEndpointGuard(
                self, "IdleEndpointGuard",
                # Each with its kind: the kind decides which metrics show traffic.
                endpoint_names=[ep.watched_endpoint(physical[ep.name]) for ep in config.endpoints],
                idle_hours=lifecycle.idle_endpoint_hours,
                endpoint_name_prefix=names.endpoint_prefix,  # one ARN pattern, like the notifications'
                scale_to_zero=[by_name[name].scale_to_zero(physical[name]) for name in lifecycle.scale_idle_to_zero],
                **common,
            )

        self.hyperpod_event_notifications: HyperPodEventNotifications | None = None
        hyperpod = hyperpod_events_of(config)
        if hyperpod is not None:
            self.hyperpod_event_notifications = HyperPodEventNotifications(
                self, "HyperPodEventNotifications",
                # Default: the platform's own clusters (none configured: every cluster of the account).
                cluster_names=hyperpod.clusters
                or [names.cluster(c.name) for c in config.training_clusters],
                auto_repair=[c.to_spec() for c in hyperpod.auto_repair],
                **common,
            )

    def _model_deployer(self, endpoints: Mapping[str, InferenceEndpoint], common: dict) -> ApprovedModelDeployer:
        config = self._config
        lifecycle = config.lifecycle
        by_name = {ep.name: ep for ep in config.endpoints}
        # Imported by its account/region-derived name, as the inference stack does: no cross-stack export.
        artifacts = s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=self._names.artifact_bucket, encryption_key=common["key"]
        )
        targets = []
        images, data_urls = promotion_sources(config)
        for entry in lifecycle.auto_deploy_approved_models:
            ep = by_name[entry.endpoint]
            capture = (
                S3Prefix(artifacts, f"{DataCaptureSpec.prefix}/{self._names.endpoint(ep.name)}/")
                if data_capture_section(ep) else None
            )
            targets.append(entry.to_spec(endpoints[entry.endpoint], data_capture=capture))
        return ApprovedModelDeployer(
            self, "ApprovedModelDeployer",
            targets=targets,
            # Two tags of one repository (a new serving image next to the registration image) are one grant.
            image_repositories=list({id(r): r for r in (self._repository(image) for image in images)}.values()),
            model_data=[S3Prefix(artifacts, MODELS_PREFIX), *(self._s3_prefix(url) for url in data_urls)],
            **common,
        )

    def _repository(self, image: str) -> ecr.IRepository:
        m = _ECR_IMAGE.match(image)
        assert m, image  # EcrImage in the config schema guarantees the form
        arn = self.format_arn(
            service="ecr", account=m["account"], region=m["region"], resource="repository", resource_name=m["repo"]
        )
        repository_id = f"Repository{_id(m['account'] + m['repo'])}"
        return self.node.try_find_child(repository_id) or ecr.Repository.from_repository_attributes(
            self, repository_id, repository_arn=arn, repository_name=m["repo"]
        )

    def _s3_prefix(self, url: str) -> S3Prefix:
        m = _S3_URI.match(url)
        assert m, url  # S3Uri in the config schema guarantees the form
        bucket_id = f"ModelDataBucket{_id(m['bucket'])}"
        bucket = self.node.try_find_child(bucket_id) or s3.Bucket.from_bucket_name(self, bucket_id, m["bucket"])
        return S3Prefix(bucket, m["key"])


def _id(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", text) if part)
