"""Inference: one ``InferenceEndpoint`` per entry of ``endpoints`` in the config, of the entry's ``type``."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.inference import EndpointKind, InferenceEndpoint

from .config import PlatformConfig
from .config import endpoints as endpoint_config
from .config.endpoints import EndpointSection
from .data_stack import artifact_bucket_name
from .promotion import with_promoted_models


def endpoint_physical_name(config: PlatformConfig, endpoint: EndpointSection) -> str:
    return endpoint_config.endpoint_physical_name(config.prefix, endpoint)


def endpoint_props(config: PlatformConfig, ep: EndpointSection) -> dict:
    """Config entry -> ``InferenceEndpoint`` keyword arguments (the props the config validated), promoted
    variants reading their model from the promotion parameters (``stacks.promotion``)."""
    return with_promoted_models(config, ep, endpoint_config.endpoint_props(config.prefix, ep))


class InferenceStack(Stack):
    """``endpoints`` maps config names to the endpoints; async endpoints write to the artifact bucket
    and create their own success/error topics (``endpoint.async_success_topic``/``async_error_topic``)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        key: kms.IKey,
        topic: sns.ITopic,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.endpoints: dict[str, InferenceEndpoint] = {}
        # Imported by its account/region-derived name: no cross-stack export pins the bucket.
        bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=artifact_bucket_name(config), encryption_key=key
        )
        for ep in config.endpoints:
            kind = EndpointKind(ep.type)
            self.endpoints[ep.name] = InferenceEndpoint(
                self, _construct_id(ep.name), **endpoint_props(config, ep),
                # No alarm_topic: the rollback alarms are the endpoint's critical alarms, which notify
                # the critical topic through the monitoring's rollup (one incident, one notification).
                encryption_key=key,
                data_capture_bucket=bucket if ep.data_capture else None,
                async_output_bucket=bucket if kind is EndpointKind.ASYNC else None,
            )


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Endpoint"
