"""``endpoints`` section: one entry per SageMaker endpoint, of any kind (``type``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from constructs_lib import limits

from .base import Section


def _endpoint_instance_type(value: str) -> str:
    if value not in limits.endpoint_instance_types():
        raise ValueError(
            "unknown endpoint instance type; allowed: "
            + limits.describe_choices(limits.endpoint_instance_types())
            + " (botocore enum ProductionVariantInstanceType)"
        )
    return value


def _serverless_memory(value: int) -> int:
    if value not in limits.SERVERLESS_MEMORY_MB:
        raise ValueError("serverless memory in MB; allowed: one of " + ", ".join(map(str, limits.SERVERLESS_MEMORY_MB)))
    return value


SageMakerName = Annotated[str, StringConstraints(pattern=limits.NAME_PATTERN.pattern)]
EndpointInstanceType = Annotated[str, AfterValidator(_endpoint_instance_type)]
S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", max_length=1024)]
EcrImage = Annotated[
    str,
    StringConstraints(
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]{1,128}|@sha256:[a-f0-9]{64})$"
    ),
]
Seconds = Annotated[int, Field(ge=limits.VARIANT_TIMEOUT_S[0], le=limits.VARIANT_TIMEOUT_S[1])]
Cooldown = Annotated[int, Field(ge=0, le=3600)]
RoutingStrategyName = Literal["LEAST_OUTSTANDING_REQUESTS", "RANDOM"]
InstanceMetricName = Literal["CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization", "DiskUtilization"]


class ModelSection(Section):
    image: EcrImage = Field(description="ECR image URI (account.dkr.ecr.region.amazonaws.com/repo:tag).")
    model_data_url: S3Uri | None = Field(default=None, description="s3:// URI of model.tar.gz.")
    model_data_prefix: S3Uri | None = Field(default=None, description="Multi-model endpoints: S3 prefix ending in '/'.")
    environment: dict[Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")], str] = Field(
        default_factory=dict
    )


class _InstanceCapacity(Section):
    """Keys shared by the single-model shorthand and each entry of ``variants``/``shadow_variants``."""

    volume_size_gb: int | None = Field(default=None, ge=limits.VARIANT_VOLUME_GB[0], le=limits.VARIANT_VOLUME_GB[1])
    container_startup_timeout_seconds: Seconds | None = None
    model_download_timeout_seconds: Seconds | None = None
    routing: RoutingStrategyName | None = Field(default=None, description="RoutingConfig.RoutingStrategy.")
    fallback_instance_types: list[EndpointInstanceType] = Field(
        default_factory=list, max_length=4, description="Capacity fallback: InstancePools after instance_type."
    )
    provision_timeout_seconds: int | None = Field(default=None, ge=300, le=3600)


class VariantSection(_InstanceCapacity):
    name: SageMakerName
    model: ModelSection
    instance_type: EndpointInstanceType
    instance_count: int = Field(default=1, ge=1)
    weight: float = Field(default=1.0, ge=0)


class ShadowVariantSection(_InstanceCapacity):
    name: SageMakerName
    model: ModelSection
    instance_type: EndpointInstanceType
    instance_count: int = Field(default=1, ge=1)
    sampling_percent: int = Field(default=100, ge=1, le=100, description="Share of production requests copied to it.")


class ServerlessSection(Section):
    memory_mb: Annotated[int, AfterValidator(_serverless_memory)]
    max_concurrency: int = Field(ge=limits.SERVERLESS_MAX_CONCURRENCY[0], le=limits.SERVERLESS_MAX_CONCURRENCY[1])
    provisioned_concurrency: int | None = Field(
        default=None, ge=limits.SERVERLESS_MAX_CONCURRENCY[0], le=limits.SERVERLESS_MAX_CONCURRENCY[1]
    )


class AsyncInferenceSection(Section):
    max_concurrent_invocations_per_instance: int | None = Field(
        default=None, ge=limits.ASYNC_MAX_CONCURRENT_INVOCATIONS[0], le=limits.ASYNC_MAX_CONCURRENT_INVOCATIONS[1]
    )


class MetricTargetSection(Section):
    metric: InstanceMetricName
    target: float = Field(gt=0, description="Percent; CPU and GPU metrics are summed over cores/devices.")


class ScheduleSection(Section):
    name: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9-]{1,64}$")]
    schedule: Annotated[str, StringConstraints(pattern=r"^(cron|rate|at)\(.+\)$")] = Field(
        description="cron(...), rate(...) or at(...) expression."
    )
    time_zone: str | None = Field(default=None, description="IANA time zone, e.g. Europe/Berlin; default UTC.")
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=1)


class AutoscalingSection(Section):
    min: int = Field(ge=0)
    max: int = Field(ge=1)
    target_invocations_per_instance: float | None = Field(default=None, gt=0)
    target_concurrent_requests_per_model: float | None = Field(default=None, gt=0)
    target_backlog_per_instance: float | None = Field(default=None, gt=0)
    target_provisioned_concurrency_utilization: float | None = Field(default=None, gt=0, le=1)
    metric_targets: list[MetricTargetSection] = Field(default_factory=list)
    schedules: list[ScheduleSection] = Field(default_factory=list)
    scale_in_cooldown_seconds: Cooldown = 300
    scale_out_cooldown_seconds: Cooldown = 60


class ComponentAutoscalingSection(Section):
    min_copies: int = Field(ge=0)
    max_copies: int = Field(ge=1)
    target_concurrent_requests_per_copy: float | None = Field(default=None, gt=0)
    target_invocations_per_copy: float | None = Field(default=None, gt=0)
    schedules: list[ScheduleSection] = Field(default_factory=list, description="min/max are copies.")
    scale_in_cooldown_seconds: Cooldown = 300
    scale_out_cooldown_seconds: Cooldown = 60


class ComponentSection(Section):
    name: SageMakerName
    model: ModelSection
    memory_mb: int = Field(ge=128, description="MinMemoryRequiredInMb.")
    accelerators: int | None = Field(default=None, ge=1, description="NumberOfAcceleratorDevicesRequired.")
    cpu_cores: float | None = Field(default=None, ge=0.25, description="NumberOfCpuCoresRequired.")
    copies: int = Field(default=1, ge=0, description="Initial RuntimeConfig.CopyCount.")
    autoscaling: ComponentAutoscalingSection | None = None
    container_startup_timeout_seconds: Seconds | None = None
    model_download_timeout_seconds: Seconds | None = None


class DeploymentSection(Section):
    strategy: Literal["all-at-once", "canary", "linear", "rolling"] = "canary"
    canary_percent: int = Field(default=10, ge=1, le=50)
    step_percent: int = Field(default=20, ge=10, le=50)
    wait_minutes: int = Field(default=10, ge=0, le=60)
    termination_wait_minutes: int = Field(default=5, ge=0, le=60)
    max_execution_minutes: int | None = Field(default=None, ge=10, le=480)
    rollback_alarms: bool = Field(default=True, description="Roll back on the 5XX and latency alarms.")


class DataCaptureSection(Section):
    sampling_percent: int = Field(ge=0, le=100)
    capture: list[Literal["input", "output"]] = Field(default_factory=lambda: ["input", "output"], min_length=1)


class _SeverityThresholdsSection(Section):
    """Observability thresholds keyed by severity; a key left out keeps the library default, null switches it off."""

    warning: float | None = None
    critical: float | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.warning is not None and self.critical is not None and self.warning > self.critical:
            raise ValueError(f"warning ({self.warning:g}) must not exceed critical ({self.critical:g})")
        return self


class PercentThresholdsSection(_SeverityThresholdsSection):
    warning: float | None = Field(default=None, gt=0, le=100)
    critical: float | None = Field(default=None, gt=0, le=100)


class MillisecondThresholdsSection(_SeverityThresholdsSection):
    warning: int | None = Field(default=None, ge=1)
    critical: int | None = Field(default=None, ge=1)


class MinuteThresholdsSection(_SeverityThresholdsSection):
    warning: int | None = Field(default=None, ge=1, le=1440)
    critical: int | None = Field(default=None, ge=1, le=1440)


class SloSection(Section):
    """30-day service level objective; burn-rate alarms replace the static 5XX / latency alarms."""

    availability_percent: float | None = Field(default=None, gt=0, lt=100, description="e.g. 99.9")
    latency_ms: int | None = Field(default=None, ge=1, description="ModelLatency objective in milliseconds.")
    latency_percentile: float = Field(default=99, gt=0, lt=100, description="Share of requests within latency_ms.")

    @model_validator(mode="after")
    def _something(self):
        if self.availability_percent is None and self.latency_ms is None:
            raise ValueError("an SLO needs availability_percent, latency_ms or both")
        return self


class AlarmsSection(Section):
    errors_5xx_threshold: int = Field(default=5, ge=1, description="5XX responses per minute.")
    p99_latency_ms: int | None = Field(
        default=None, ge=1, description="p99 ModelLatency threshold; default half the invocation timeout."
    )
    latency_alarm: bool = Field(default=True, description="false: no latency alarm.")
    evaluation_periods: int = Field(default=3, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=2, ge=1, le=60)
    # Severity-routed alarms (EndpointMonitoring); omitted: the library defaults.
    error_rate_5xx_percent: PercentThresholdsSection | None = Field(default=None, description="default 1 / 5 %")
    model_latency_p99_ms: MillisecondThresholdsSection | None = Field(default=None, description="default off")
    gpu_memory_percent: PercentThresholdsSection | None = Field(default=None, description="per GPU; default 95 / off")
    disk_percent: PercentThresholdsSection | None = Field(default=None, description="default 80 / 90 %")
    at_max_capacity_minutes: int | None = Field(default=15, ge=5, le=1440, multiple_of=5, description="null: off")
    backlog_without_capacity_minutes: MinuteThresholdsSection | None = Field(default=None, description="default 5 / 15")


EndpointType = Literal["realtime", "serverless", "async", "inference-components", "multi-model"]


class EndpointSection(_InstanceCapacity):
    """One endpoint. ``model``/``instance_type``/``instance_count`` are the single-variant shorthand;
    ``variants`` replaces them with 1-10 named variants."""

    name: SageMakerName
    type: EndpointType = "realtime"
    model: ModelSection | None = None
    instance_type: EndpointInstanceType | None = None
    instance_count: int = Field(default=1, ge=1)
    network_isolation: bool | None = Field(default=None, description="Default true (serverless: not supported).")
    autoscaling: AutoscalingSection | None = None
    deployment: DeploymentSection | None = None
    data_capture: DataCaptureSection | None = None
    alarms: AlarmsSection = Field(default_factory=AlarmsSection)
    slo: SloSection | None = None
    customer_facing: bool | None = Field(default=None, description="Default true for realtime: prod requires an slo.")
    variants: list[VariantSection] = Field(default_factory=list, max_length=limits.MAX_PRODUCTION_VARIANTS)
    shadow_variants: list[ShadowVariantSection] = Field(default_factory=list)
    serverless: ServerlessSection | None = None
    async_inference: AsyncInferenceSection | None = None
    components: list[ComponentSection] = Field(default_factory=list)
