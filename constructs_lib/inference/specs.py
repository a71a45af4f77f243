"""Frozen settings groups for :class:`InferenceEndpoint` and :class:`InferenceComponent`.

Every default is documented here; the constructs validate the values at synth (see ``_validation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from .metrics import Statistic


@dataclass(frozen=True)
class PromotedModel:
    """Where a promotion records the version it deploys, so that CloudFormation deploys that version too.

    The model's image (and model data) are read at deploy time from SSM ``String`` parameters through
    template parameters of type ``AWS::SSM::Parameter::Value<String>``: CloudFormation fetches their
    latest values on every create and update, also when the CLI passes ``UsePreviousValue`` (AWS
    CloudFormation User Guide, "Systems Manager parameter types"), and the CDK CLI always deploys a
    stack with such parameters. ``ApprovedModelDeployer`` writes them before ``UpdateEndpoint`` and puts
    back what the endpoint serves after a rollback.

    The parameters must exist when the endpoint's stack is deployed: CloudFormation resolves them
    when it creates the change set, before any resource of that stack exists, so they cannot be
    created in the same stack. Create them with :class:`PromotionParameters` in a stack deployed first.

    :param image_parameter: SSM parameter name of the image URI.
    :param model_data_parameter: SSM parameter name of the ``s3://`` model data URL; required exactly
        when the model has ``model_data_url``.
    :param image_repositories: ECR image URIs (``account.dkr.ecr.region.amazonaws.com/repo:tag``) whose
        repositories promoted versions' images come from: the endpoint's execution role may pull them.
        Default none (only the model's own repository).
    :param model_data_prefixes: ``s3://bucket/prefix/`` URIs promoted versions' model data lie under: the
        execution role may read them. Default none (only the model's own data).
    """

    image_parameter: str
    model_data_parameter: str | None = None
    image_repositories: tuple[str, ...] = ()
    model_data_prefixes: tuple[str, ...] = ()

    @classmethod
    def under(
        cls,
        path: str,
        *,
        model_data: bool,
        image_repositories: tuple[str, ...] = (),
        model_data_prefixes: tuple[str, ...] = (),
    ) -> PromotedModel:
        """``<path>/image`` and, with ``model_data``, ``<path>/model-data``."""
        return cls(
            image_parameter=f"{path}/image",
            model_data_parameter=f"{path}/model-data" if model_data else None,
            image_repositories=tuple(image_repositories),
            model_data_prefixes=tuple(model_data_prefixes),
        )


@dataclass(frozen=True)
class ModelSpec:
    """A serving container.

    :param image: ECR image URI; the execution role may pull only this repository.
    :param model_data_url: ``s3://bucket/key`` of the model archive; the role may read only it.
        Default none (weights baked into the image).
    :param environment: container environment variables; default none.
    :param model_data_prefix: multi-model endpoints only: ``s3://bucket/prefix/`` holding the
        models' archives (``ModelDataUrl`` of a ``Mode: MultiModel`` container); the role may list
        and read only that prefix. Default none.
    :param promoted: production variants of real-time and serverless endpoints only: read the image and
        model data at deploy time from the SSM parameters a promotion writes (``image`` and
        ``model_data_url`` are then the parameters' initial values). Default none (the template holds
        ``image`` and ``model_data_url``).
    """

    image: str
    model_data_url: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    model_data_prefix: str | None = None
    promoted: PromotedModel | None = None


DEFAULT_VARIANT_NAME = "AllTraffic"


class EndpointKind(Enum):
    """What an endpoint is; decides which metrics, scaling and deployment options exist for it."""

    REALTIME = "realtime"
    SERVERLESS = "serverless"
    ASYNC = "async"
    INFERENCE_COMPONENTS = "inference-components"
    MULTI_MODEL = "multi-model"


class RoutingStrategy(Enum):
    """``RoutingConfig.RoutingStrategy`` of a variant: how requests are spread over its instances."""

    LEAST_OUTSTANDING_REQUESTS = "LEAST_OUTSTANDING_REQUESTS"
    RANDOM = "RANDOM"


@dataclass(frozen=True)
class ServerlessSpec:
    """Serverless capacity of the (single) variant of a serverless endpoint.

    :param memory_mb: 1024, 2048, 3072, 4096, 5120 or 6144.
    :param max_concurrency: 1-200 concurrent invocations.
    :param provisioned_concurrency: 1-200 and at most ``max_concurrency``; default none
        (cold starts possible). Required for provisioned-concurrency autoscaling.
    """

    memory_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class ManagedInstanceScalingSpec:
    """Managed instance scaling of an inference-component endpoint's variant (``ManagedInstanceScaling``).

    SageMaker adds instances when component copies need room and removes idle ones; ``min_instances``
    may be 0 (scale to zero, with copies scaled to zero by their own autoscaling).
    """

    min_instances: int
    max_instances: int


@dataclass(frozen=True)
class VariantSpec:
    """One production variant. Keep ``name`` stable: blue/green updates require the same names.

    :param model: the variant's container; required except on inference-component endpoints (where
        the models belong to the components).
    :param instance_type: botocore ``ProductionVariantInstanceType``; required except on serverless
        endpoints (which have no instance type).
    :param weight: relative traffic weight; default 1.0.
    :param volume_size_gb: storage volume (1-512 GB); default the instance's default.
    :param container_startup_timeout_seconds / model_download_timeout_seconds: 60-3600 s;
        default SageMaker's.
    :param serverless: serverless capacity (serverless endpoints only); default none.
    :param routing: how requests are routed to instances; default SageMaker's (RANDOM).
    :param fallback_instance_types: capacity fallback: up to 4 instance types tried, in order, when
        ``instance_type`` has no capacity. They become ``InstancePools`` (``instance_type`` priority 1,
        then 2, 3, ...) instead of ``InstanceType``. Default none.
    :param provision_timeout_seconds: ``VariantInstanceProvisionTimeoutInSeconds`` (300-3600): how
        long SageMaker waits for capacity before trying the next pool; default SageMaker's.
    :param managed_scaling: managed instance scaling (inference-component endpoints only); default none.
    """

    model: ModelSpec | None = None
    instance_type: str | None = None
    instance_count: int = 1
    name: str = DEFAULT_VARIANT_NAME
    weight: float = 1.0
    volume_size_gb: int | None = None
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None
    serverless: ServerlessSpec | None = None
    routing: RoutingStrategy | None = None
    fallback_instance_types: tuple[str, ...] = ()
    provision_timeout_seconds: int | None = None
    managed_scaling: ManagedInstanceScalingSpec | None = None

    @property
    def instance_types(self) -> tuple[str, ...]:
        """``instance_type`` followed by the fallback types (empty for serverless)."""
        return tuple(t for t in (self.instance_type, *self.fallback_instance_types) if t)


@dataclass(frozen=True)
class ShadowVariantSpec(VariantSpec):
    """A shadow variant (``ShadowProductionVariants``): receives a copy of ``sampling_percent`` % of the
    production variant's requests; its responses are logged, never returned. ``weight`` is ignored:
    the shadow weight is the production weight times ``sampling_percent`` / 100.

    :param sampling_percent: 1-100; default 100.
    """

    sampling_percent: int = 100


@dataclass(frozen=True)
class MetricTargetSpec:
    """Target tracking on an instance metric of ``/aws/sagemaker/Endpoints`` (EndpointName, VariantName).

    :param metric_name: one of :class:`InstanceMetric` (e.g. ``GPUUtilization``).
    :param target_value: percent; CPU and GPU metrics are summed over cores/devices (may exceed 100).
    :param statistic: default Average.
    """

    metric_name: str
    target_value: float
    statistic: str = Statistic.AVERAGE


@dataclass(frozen=True)
class ScheduledScalingSpec:
    """A scheduled change of the capacity bounds, e.g. office hours.

    :param name: action name, unique per endpoint (letters, digits, hyphens, 1-64).
    :param schedule: ``cron(...)``, ``rate(...)`` or ``at(...)`` expression (Application Auto Scaling syntax).
    :param time_zone: IANA name such as ``Europe/Berlin``; default UTC.
    :param min_capacity / max_capacity: bounds from then on; at least one is required.
    """

    name: str
    schedule: str
    time_zone: str | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class AutoScalingSpec:
    """Autoscaling of every variant; the policies depend on the endpoint kind.

    Instance-based variants (``sagemaker:variant:DesiredInstanceCount``): target tracking on
    ``target_invocations_per_instance`` (predefined ``SageMakerVariantInvocationsPerInstance``, per
    minute), ``target_concurrent_requests_per_model`` (high-resolution predefined metric),
    ``metric_targets`` (instance metrics such as GPUUtilization), and for asynchronous endpoints
    ``target_backlog_per_instance`` (``ApproximateBacklogSizePerInstance``) plus, with
    ``min_capacity`` 0, a step policy that scales out from zero on ``HasBacklogWithoutCapacity``.
    Serverless variants (``sagemaker:variant:DesiredProvisionedConcurrency``):
    ``target_provisioned_concurrency_utilization`` (0-1). ``schedules`` apply to every kind.

    :param min_capacity: >= 1, or 0 for asynchronous endpoints.
    :param scale_in_cooldown_seconds: default 300; ``scale_out_cooldown_seconds``: default 60.
    """

    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float | None = None
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    target_concurrent_requests_per_model: float | None = None
    target_backlog_per_instance: float | None = None
    target_provisioned_concurrency_utilization: float | None = None
    metric_targets: tuple[MetricTargetSpec, ...] = ()
    schedules: tuple[ScheduledScalingSpec, ...] = ()

    @staticmethod
    def target_from_rps(max_rps_per_instance: float, safety_factor: float = 0.5) -> float:
        """Target invocations per instance per minute from a load-tested max RPS and a safety factor."""
        if max_rps_per_instance <= 0 or not 0 < safety_factor <= 1:
            raise ValueError("max_rps_per_instance must be > 0 and safety_factor in (0, 1]")
        return round(max_rps_per_instance * 60 * safety_factor, 2)


@dataclass(frozen=True)
class ComponentAutoScalingSpec:
    """Copy-count autoscaling of an inference component (``sagemaker:inference-component:DesiredCopyCount``).

    Target tracking on ``target_concurrent_requests_per_copy`` (predefined
    ``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``) and/or
    ``target_invocations_per_copy`` (``SageMakerInferenceComponentInvocationsPerCopy``, per minute).
    With ``min_copies`` 0 the component scales to zero, and a step policy on a
    ``NoCapacityInvocationFailures`` alarm adds a copy when a request finds none. ``schedules`` change
    the copy bounds on a schedule (``min_capacity``/``max_capacity`` are copies).

    :param scale_in_cooldown_seconds: default 300; ``scale_out_cooldown_seconds``: default 60.
    """

    min_copies: int
    max_copies: int
    target_concurrent_requests_per_copy: float | None = None
    target_invocations_per_copy: float | None = None
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    schedules: tuple[ScheduledScalingSpec, ...] = ()


@dataclass(frozen=True)
class ComponentSpec:
    """One inference component (a model with reserved compute) on an inference-component endpoint.

    :param name: ``InferenceComponentName``, a stable physical name (1-63, letters, digits, hyphens):
        autoscaling addresses the component by it.
    :param memory_mb: ``MinMemoryRequiredInMb`` (>= 128).
    :param accelerators: ``NumberOfAcceleratorDevicesRequired`` (>= 1); default none (CPU model).
    :param cpu_cores: ``NumberOfCpuCoresRequired`` (>= 0.25); default none.
    :param copies: initial ``RuntimeConfig.CopyCount`` (>= 0); default 1.
    :param autoscaling: default none (fixed copy count).
    """

    name: str
    model: ModelSpec
    memory_mb: int
    accelerators: int | None = None
    cpu_cores: float | None = None
    copies: int = 1
    autoscaling: ComponentAutoScalingSpec | None = None
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None


@dataclass(frozen=True)
class AsyncInferenceSpec:
    """Asynchronous inference: results go to ``s3://<bucket>/<prefix>/<endpoint>/output``, failures to
    ``.../failure``; callers upload payloads under ``.../input``. Success and error notifications go
    to two SNS topics the endpoint creates.

    :param max_concurrent_invocations_per_instance: 1-1000; default SageMaker's choice.
    :param prefix: key prefix in the bucket; default ``async``.
    """

    max_concurrent_invocations_per_instance: int | None = None
    prefix: str = "async"


class DeploymentStrategy(Enum):
    ALL_AT_ONCE = "all-at-once"
    CANARY = "canary"
    LINEAR = "linear"
    ROLLING = "rolling"


@dataclass(frozen=True)
class DeploymentSpec:
    """Blue/green (all-at-once, canary, linear) or rolling updates, rolled back on the critical alarms
    of the signals it watches.

    :param canary_percent: canary capacity, 1-50 % (canary only); default 10.
    :param step_percent: linear step / rolling batch, 10-50 %; default 20.
    :param wait_minutes: bake time between steps; default 10.
    :param termination_wait_minutes: keep the old fleet before terminating; default 5.
    :param max_execution_minutes: bound on the whole deployment; default SageMaker's.
    :param rollback_alarms: roll back on the endpoint's alarms; default True.
    :param rollback_signals: the signals whose critical alarms the deployment rolls back on (keys of the
        signal registry, e.g. ``("error_rate_5xx_percent",)``); default every rollback signal
        (``error_rate_5xx_percent``, ``model_latency_p99_ms``).
    """

    strategy: DeploymentStrategy = DeploymentStrategy.CANARY
    canary_percent: int = 10
    step_percent: int = 20
    wait_minutes: int = 10
    termination_wait_minutes: int = 5
    max_execution_minutes: int | None = None
    rollback_alarms: bool = True
    rollback_signals: tuple[str, ...] | None = None


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
