"""Inference: one ``InferenceEndpoint`` per entry of ``endpoints`` in the config, of the entry's ``type``."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.inference import (
    AlarmSpec,
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    InferenceEndpoint,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    RoutingStrategy,
    ScheduledScalingSpec,
    ServerlessSpec,
    ShadowVariantSpec,
    VariantSpec,
)

from .config import PlatformConfig
from .config.endpoints import EndpointSection, ModelSection
from .config.semantics import component_physical_name
from .data_stack import artifact_bucket_name


def endpoint_physical_name(config: PlatformConfig, endpoint: EndpointSection) -> str:
    return f"{config.prefix}-{endpoint.name}"


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
                encryption_key=key, alarm_topic=topic,
                data_capture_bucket=bucket if ep.data_capture else None,
                async_output_bucket=bucket if kind is EndpointKind.ASYNC else None,
            )


def _construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-")) + "Endpoint"


def _model(m: ModelSection) -> ModelSpec:
    return ModelSpec(
        image=m.image, model_data_url=m.model_data_url, environment=dict(m.environment), model_data_prefix=m.model_data_prefix
    )


def _capacity(section) -> dict:
    """Keys shared by the shorthand, ``variants`` and ``shadow_variants`` entries."""
    return dict(
        volume_size_gb=section.volume_size_gb,
        container_startup_timeout_seconds=section.container_startup_timeout_seconds,
        model_download_timeout_seconds=section.model_download_timeout_seconds,
        routing=RoutingStrategy(section.routing) if section.routing else None,
        fallback_instance_types=tuple(section.fallback_instance_types),
        provision_timeout_seconds=section.provision_timeout_seconds,
    )


def _variants(ep: EndpointSection) -> list[VariantSpec]:
    if ep.variants:
        return [
            VariantSpec(
                name=v.name, model=_model(v.model), instance_type=v.instance_type, instance_count=v.instance_count,
                weight=v.weight, **_capacity(v),
            )
            for v in ep.variants
        ]
    kind = EndpointKind(ep.type)
    if kind is EndpointKind.SERVERLESS:
        assert ep.model is not None and ep.serverless is not None  # guaranteed by config semantics
        s = ep.serverless
        return [
            VariantSpec(
                model=_model(ep.model),
                serverless=ServerlessSpec(
                    memory_mb=s.memory_mb, max_concurrency=s.max_concurrency, provisioned_concurrency=s.provisioned_concurrency
                ),
                container_startup_timeout_seconds=ep.container_startup_timeout_seconds,
                model_download_timeout_seconds=ep.model_download_timeout_seconds,
            )
        ]
    a = ep.autoscaling
    return [
        VariantSpec(
            model=_model(ep.model) if ep.model else None,
            instance_type=ep.instance_type,
            instance_count=ep.instance_count,
            managed_scaling=ManagedInstanceScalingSpec(min_instances=a.min, max_instances=a.max)
            if a and kind is EndpointKind.INFERENCE_COMPONENTS else None,
            **_capacity(ep),
        )
    ]


def _autoscaling(ep: EndpointSection) -> AutoScalingSpec | None:
    a = ep.autoscaling
    if a is None or ep.type == "inference-components":  # there it is managed instance scaling (see _variants)
        return None
    return AutoScalingSpec(
        min_capacity=a.min, max_capacity=a.max,
        target_invocations_per_instance=a.target_invocations_per_instance,
        target_concurrent_requests_per_model=a.target_concurrent_requests_per_model,
        target_backlog_per_instance=a.target_backlog_per_instance,
        target_provisioned_concurrency_utilization=a.target_provisioned_concurrency_utilization,
        metric_targets=tuple(MetricTargetSpec(metric_name=m.metric, target_value=m.target) for m in a.metric_targets),
        schedules=_schedules(a.schedules),
        scale_in_cooldown_seconds=a.scale_in_cooldown_seconds,
        scale_out_cooldown_seconds=a.scale_out_cooldown_seconds,
    )


def _schedules(schedules) -> tuple[ScheduledScalingSpec, ...]:
    return tuple(
        ScheduledScalingSpec(name=s.name, schedule=s.schedule, time_zone=s.time_zone, min_capacity=s.min, max_capacity=s.max)
        for s in schedules
    )


def _components(config: PlatformConfig, ep: EndpointSection) -> list[ComponentSpec]:
    return [
        ComponentSpec(
            name=component_physical_name(endpoint_physical_name(config, ep), c.name),
            model=_model(c.model),
            memory_mb=c.memory_mb,
            accelerators=c.accelerators,
            cpu_cores=c.cpu_cores,
            copies=c.copies,
            autoscaling=ComponentAutoScalingSpec(
                min_copies=c.autoscaling.min_copies, max_copies=c.autoscaling.max_copies,
                target_concurrent_requests_per_copy=c.autoscaling.target_concurrent_requests_per_copy,
                target_invocations_per_copy=c.autoscaling.target_invocations_per_copy,
                scale_in_cooldown_seconds=c.autoscaling.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=c.autoscaling.scale_out_cooldown_seconds,
                schedules=_schedules(c.autoscaling.schedules),
            ) if c.autoscaling else None,
            container_startup_timeout_seconds=c.container_startup_timeout_seconds,
            model_download_timeout_seconds=c.model_download_timeout_seconds,
        )
        for c in ep.components
    ]


def endpoint_props(config: PlatformConfig, ep: EndpointSection) -> dict:
    """Config entry -> ``InferenceEndpoint`` keyword arguments (every kind)."""
    d = ep.deployment
    return dict(
        endpoint_name=endpoint_physical_name(config, ep),
        kind=EndpointKind(ep.type),
        variants=_variants(ep),
        shadow_variants=[
            ShadowVariantSpec(
                name=v.name, model=_model(v.model), instance_type=v.instance_type, instance_count=v.instance_count,
                sampling_percent=v.sampling_percent, **_capacity(v),
            )
            for v in ep.shadow_variants
        ],
        network_isolation=ep.network_isolation,
        autoscaling=_autoscaling(ep),
        deployment=DeploymentSpec(
            strategy=DeploymentStrategy(d.strategy), canary_percent=d.canary_percent, step_percent=d.step_percent,
            wait_minutes=d.wait_minutes, termination_wait_minutes=d.termination_wait_minutes,
            max_execution_minutes=d.max_execution_minutes, rollback_alarms=d.rollback_alarms,
        ) if d else None,
        data_capture=DataCaptureSpec(
            sampling_percent=ep.data_capture.sampling_percent,
            capture_input="input" in ep.data_capture.capture,
            capture_output="output" in ep.data_capture.capture,
        ) if ep.data_capture else None,
        alarms=AlarmSpec(
            errors_5xx_threshold=ep.alarms.errors_5xx_threshold, p99_latency_ms=ep.alarms.p99_latency_ms,
            latency_alarm=ep.alarms.latency_alarm,
            evaluation_periods=ep.alarms.evaluation_periods, datapoints_to_alarm=ep.alarms.datapoints_to_alarm,
        ),
        async_inference=AsyncInferenceSpec(
            max_concurrent_invocations_per_instance=ep.async_inference.max_concurrent_invocations_per_instance
        ) if ep.async_inference else None,
        components=_components(config, ep),
    )
