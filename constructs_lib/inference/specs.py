"""Frozen settings groups for :class:`InferenceEndpoint`; every default is documented here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class ModelSpec:
    """A serving container.

    :param image: ECR image URI; the execution role may pull only this repository.
    :param model_data_url: ``s3://bucket/key`` of the model archive; the role may read only it.
        Default none (weights baked into the image).
    :param environment: container environment variables; default none.
    """

    image: str
    model_data_url: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)


DEFAULT_VARIANT_NAME = "AllTraffic"


class EndpointKind(Enum):
    """What an endpoint is; decides which metrics, scaling and deployment options exist for it."""

    REALTIME = "realtime"
    SERVERLESS = "serverless"
    ASYNC = "async"
    INFERENCE_COMPONENTS = "inference-components"
    MULTI_MODEL = "multi-model"


@dataclass(frozen=True)
class VariantSpec:
    """One production variant. Keep ``name`` stable: blue/green updates require the same names.

    :param weight: relative traffic weight; default 1.0.
    :param volume_size_gb: storage volume (1-512 GB); default the instance's default.
    :param container_startup_timeout_seconds / model_download_timeout_seconds: 60-3600 s;
        default SageMaker's.
    """

    model: ModelSpec
    instance_type: str
    instance_count: int = 1
    name: str = DEFAULT_VARIANT_NAME
    weight: float = 1.0
    volume_size_gb: int | None = None
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None


@dataclass(frozen=True)
class AutoScalingSpec:
    """Target tracking on ``SageMakerVariantInvocationsPerInstance`` for every variant.

    :param target_invocations_per_instance: invocations per instance per minute to hold.
    :param scale_in_cooldown_seconds: default 300; ``scale_out_cooldown_seconds``: default 60.
    """

    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    @staticmethod
    def target_from_rps(max_rps_per_instance: float, safety_factor: float = 0.5) -> float:
        """Target invocations per instance per minute from a load-tested max RPS and a safety factor."""
        if max_rps_per_instance <= 0 or not 0 < safety_factor <= 1:
            raise ValueError("max_rps_per_instance must be > 0 and safety_factor in (0, 1]")
        return round(max_rps_per_instance * 60 * safety_factor, 2)


class DeploymentStrategy(Enum):
    ALL_AT_ONCE = "all-at-once"
    CANARY = "canary"
    LINEAR = "linear"
    ROLLING = "rolling"


@dataclass(frozen=True)
class DeploymentSpec:
    """Blue/green (all-at-once, canary, linear) or rolling updates, rolled back on the endpoint's alarms.

    :param canary_percent: canary capacity, 1-50 % (canary only); default 10.
    :param step_percent: linear step / rolling batch, 10-50 %; default 20.
    :param wait_minutes: bake time between steps; default 10.
    :param termination_wait_minutes: keep the old fleet before terminating; default 5.
    :param max_execution_minutes: bound on the whole deployment; default SageMaker's.
    """

    strategy: DeploymentStrategy = DeploymentStrategy.CANARY
    canary_percent: int = 10
    step_percent: int = 20
    wait_minutes: int = 10
    termination_wait_minutes: int = 5
    max_execution_minutes: int | None = None


@dataclass(frozen=True)
class DataCaptureSpec:
    """Capture requests/responses to ``s3://<bucket>/<prefix>/<endpoint>``, KMS-encrypted.

    :param sampling_percent: 0-100.
    :param capture_input / capture_output: default both True.
    """

    sampling_percent: int
    capture_input: bool = True
    capture_output: bool = True
    prefix: str = "data-capture"


@dataclass(frozen=True)
class AlarmSpec:
    """Thresholds of the alarms every endpoint gets (and rolls back on).

    :param errors_5xx_threshold: Invocation5XXErrors per minute summed over variants; default 5.
    :param p99_latency_ms: p99 ModelLatency alarm threshold; default none (no latency alarm).
    """

    errors_5xx_threshold: int = 5
    p99_latency_ms: int | None = None
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
