"""``endpoints`` section: one entry per SageMaker endpoint."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

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


SageMakerName = Annotated[str, StringConstraints(pattern=limits.NAME_PATTERN.pattern)]
EndpointInstanceType = Annotated[str, AfterValidator(_endpoint_instance_type)]
S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", max_length=1024)]
EcrImage = Annotated[
    str,
    StringConstraints(
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]{1,128}|@sha256:[a-f0-9]{64})$"
    ),
]


class ModelSection(Section):
    image: EcrImage = Field(description="ECR image URI (account.dkr.ecr.region.amazonaws.com/repo:tag).")
    model_data_url: S3Uri | None = Field(default=None, description="s3:// URI of model.tar.gz.")
    model_data_prefix: S3Uri | None = Field(default=None, description="Multi-model endpoints: S3 prefix.")
    environment: dict[Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")], str] = Field(
        default_factory=dict
    )


class AutoscalingSection(Section):
    min: int = Field(ge=0)
    max: int = Field(ge=1)
    target_invocations_per_instance: float | None = Field(default=None, gt=0)
    target_backlog_per_instance: float | None = Field(default=None, gt=0)
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)


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


class AlarmsSection(Section):
    errors_5xx_threshold: int = Field(default=5, ge=1, description="5XX responses per minute.")
    p99_latency_ms: int | None = Field(default=None, ge=1, description="p99 ModelLatency threshold.")
    evaluation_periods: int = Field(default=3, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=2, ge=1, le=60)


class EndpointSection(Section):
    name: SageMakerName
    type: Literal["realtime", "serverless", "async", "inference-components", "multi-model"] = "realtime"
    model: ModelSection | None = None
    instance_type: EndpointInstanceType | None = None
    instance_count: int = Field(default=1, ge=1)
    volume_size_gb: int | None = Field(default=None, ge=limits.VARIANT_VOLUME_GB[0], le=limits.VARIANT_VOLUME_GB[1])
    container_startup_timeout_seconds: int | None = Field(
        default=None, ge=limits.VARIANT_TIMEOUT_S[0], le=limits.VARIANT_TIMEOUT_S[1]
    )
    model_download_timeout_seconds: int | None = Field(
        default=None, ge=limits.VARIANT_TIMEOUT_S[0], le=limits.VARIANT_TIMEOUT_S[1]
    )
    network_isolation: bool = True
    autoscaling: AutoscalingSection | None = None
    deployment: DeploymentSection | None = None
    data_capture: DataCaptureSection | None = None
    alarms: AlarmsSection = Field(default_factory=AlarmsSection)
    # Keys of the inference issue (variants, serverless, async, components) are declared there.
    variants: list[dict] = Field(default_factory=list)
    shadow_variants: list[dict] = Field(default_factory=list)
    serverless: dict | None = None
    async_inference: dict | None = None
    components: list[dict] = Field(default_factory=list)
