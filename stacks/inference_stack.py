"""Inference: one ``InferenceEndpoint`` per entry of ``endpoints`` in the config."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.inference import (
    AlarmSpec,
    AutoScalingSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    InferenceEndpoint,
    ModelSpec,
    VariantSpec,
)

from .config import PlatformConfig
from .config.endpoints import EndpointSection
from .data_stack import artifact_bucket_name


def endpoint_physical_name(config: PlatformConfig, endpoint: EndpointSection) -> str:
    return f"{config.prefix}-{endpoint.name}"


class InferenceStack(Stack):
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
        capture_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactsBucket", bucket_name=artifact_bucket_name(config), encryption_key=key
        )
        for ep in config.endpoints:
            self.endpoints[ep.name] = InferenceEndpoint(
                self, _construct_id(ep.name), **endpoint_props(config, ep),
                encryption_key=key, alarm_topic=topic, data_capture_bucket=capture_bucket,
            )


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Endpoint"


def endpoint_props(config: PlatformConfig, ep: EndpointSection) -> dict:
    """Config entry -> ``InferenceEndpoint`` keyword arguments (realtime, single model)."""
    assert ep.model is not None and ep.instance_type is not None  # guaranteed by config semantics
    variant = VariantSpec(
        model=ModelSpec(image=ep.model.image, model_data_url=ep.model.model_data_url, environment=ep.model.environment),
        instance_type=ep.instance_type,
        instance_count=ep.instance_count,
        volume_size_gb=ep.volume_size_gb,
        container_startup_timeout_seconds=ep.container_startup_timeout_seconds,
        model_download_timeout_seconds=ep.model_download_timeout_seconds,
    )
    a = ep.autoscaling
    d = ep.deployment
    return dict(
        endpoint_name=endpoint_physical_name(config, ep),
        variants=[variant],
        network_isolation=ep.network_isolation,
        autoscaling=AutoScalingSpec(
            min_capacity=a.min, max_capacity=a.max,
            target_invocations_per_instance=a.target_invocations_per_instance,
            scale_in_cooldown_seconds=a.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=a.scale_out_cooldown_seconds,
        ) if a else None,
        deployment=DeploymentSpec(
            strategy=DeploymentStrategy(d.strategy), canary_percent=d.canary_percent, step_percent=d.step_percent,
            wait_minutes=d.wait_minutes, termination_wait_minutes=d.termination_wait_minutes,
            max_execution_minutes=d.max_execution_minutes,
        ) if d else None,
        data_capture=DataCaptureSpec(
            sampling_percent=ep.data_capture.sampling_percent,
            capture_input="input" in ep.data_capture.capture,
            capture_output="output" in ep.data_capture.capture,
        ) if ep.data_capture else None,
        alarms=AlarmSpec(
            errors_5xx_threshold=ep.alarms.errors_5xx_threshold, p99_latency_ms=ep.alarms.p99_latency_ms,
            evaluation_periods=ep.alarms.evaluation_periods, datapoints_to_alarm=ep.alarms.datapoints_to_alarm,
        ),
    )
