"""``endpoints`` section: one entry per SageMaker endpoint, of any kind (``type``).

The schema below fixes the contract's keys and value types (and the endpoint name, whose physical
form the config builds): one model per kind (``RealtimeEndpoint``, ``ServerlessEndpoint``, ...), chosen
by ``type`` (a discriminated union, ``realtime`` when left out), each with only that kind's keys, so a
key of another kind is an unknown key for the entry's type. Every endpoint rule (bounds, formats, what each kind allows, scaling,
deployment and alarm rules) lives once, in the library: :func:`endpoint_rule_problems` builds the very
props the inference and observability stacks pass to ``InferenceEndpoint`` and ``EndpointMonitoring``
(:func:`endpoint_props`, :func:`endpoint_thresholds`, :func:`endpoint_slo`), runs the constructs'
own checkers (``check_endpoint_props``, ``check_monitoring_props``) and renames the prop paths to
config key paths (``variants[0].instance_count`` -> ``endpoints[2].instance_count``). Rules that exist
only in the config (unique names, physical name lengths, references between sections) live in
:mod:`.semantics`.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, TypeAdapter, create_model

from constructs_lib import limits
from constructs_lib.errors import Problem, Problems
from constructs_lib.inference import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    RoutingStrategy,
    ScheduledScalingSpec,
    ServerlessSpec,
    ShadowVariantSpec,
    VariantSpec,
    check_endpoint_props,
)
from constructs_lib.lifecycle import ScaleToZero, WatchedEndpoint
from constructs_lib.observability import (
    ROLLBACK_SIGNALS,
    SIGNALS,
    EndpointAlarmThresholds,
    ServiceLevelObjective,
    SeverityThresholds,
    Signal,
    check_monitoring_props,
)

from ..naming import physical_name
from .base import Section, matching

SageMakerName = Annotated[str, matching(limits.NAME_PATTERN, limits.NAME_RULE)]
S3Uri = Annotated[str, matching(limits.S3_URI, limits.S3_URI_RULE)]
EcrImage = Annotated[str, matching(limits.ECR_IMAGE, limits.ECR_IMAGE_RULE)]
RoutingStrategyName = Literal["LEAST_OUTSTANDING_REQUESTS", "RANDOM"]
# ``endpoints[].stack``: starts with a letter, so it never collides with a numbered hash shard (``-2``).
STACK_KEY_PATTERN = r"^[a-z](-?[a-z0-9]){0,31}$"
StackKey = Annotated[
    str, matching(STACK_KEY_PATTERN, "lower-case letters, digits and single hyphens, 1-32 characters, starting with a letter")
]


def _default(spec: type, name: str) -> Any:
    """The library's default of the spec field ``name``: a config key left out means what the construct's
    prop left out means, written once (in the spec)."""
    value = next(f.default for f in dataclasses.fields(spec) if f.name == name)
    return value.value if isinstance(value, Enum) else value


class ModelSection(Section):
    image: str = Field(description="ECR image URI (account.dkr.ecr.region.amazonaws.com/repo:tag).")
    model_data_url: str | None = Field(default=None, description="s3:// URI of model.tar.gz.")
    model_data_prefix: str | None = Field(default=None, description="Multi-model endpoints: S3 prefix ending in '/'.")
    environment: dict[str, str] = Field(default_factory=dict, description="Container environment variables.")

    def to_spec(self) -> ModelSpec:
        return ModelSpec(image=self.image, model_data_url=self.model_data_url, environment=dict(self.environment),
                         model_data_prefix=self.model_data_prefix)


class _InstanceCapacity(Section):
    """Keys shared by the single-model shorthand and each entry of ``variants``/``shadow_variants``."""

    volume_size_gb: int | None = Field(default=None, description="Storage volume in GB.")
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None
    routing: RoutingStrategyName | None = Field(default=None, description="RoutingConfig.RoutingStrategy.")
    fallback_instance_types: list[str] = Field(
        default_factory=list, description="Capacity fallback: InstancePools after instance_type."
    )
    provision_timeout_seconds: int | None = None

    def capacity_props(self) -> dict[str, Any]:
        """The ``VariantSpec`` / ``ShadowVariantSpec`` fields these keys set (same names but ``routing``)."""
        return dict(
            volume_size_gb=self.volume_size_gb,
            container_startup_timeout_seconds=self.container_startup_timeout_seconds,
            model_download_timeout_seconds=self.model_download_timeout_seconds,
            routing=RoutingStrategy(self.routing) if self.routing else None,
            fallback_instance_types=tuple(self.fallback_instance_types),
            provision_timeout_seconds=self.provision_timeout_seconds,
        )


class VariantSection(_InstanceCapacity):
    name: str
    model: ModelSection
    instance_type: str
    instance_count: int = _default(VariantSpec, "instance_count")
    weight: float = _default(VariantSpec, "weight")

    def to_spec(self) -> VariantSpec:
        return VariantSpec(name=self.name, model=self.model.to_spec(), instance_type=self.instance_type,
                           instance_count=self.instance_count, weight=self.weight, **self.capacity_props())


class ShadowVariantSection(_InstanceCapacity):
    name: str
    model: ModelSection
    instance_type: str
    instance_count: int = _default(ShadowVariantSpec, "instance_count")
    sampling_percent: int = Field(
        default=_default(ShadowVariantSpec, "sampling_percent"), description="Share of production requests copied to it."
    )

    def to_spec(self) -> ShadowVariantSpec:
        return ShadowVariantSpec(name=self.name, model=self.model.to_spec(), instance_type=self.instance_type,
                                 instance_count=self.instance_count, sampling_percent=self.sampling_percent,
                                 **self.capacity_props())


class ServerlessSection(Section):
    memory_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None

    def to_spec(self) -> ServerlessSpec:
        return ServerlessSpec(memory_mb=self.memory_mb, max_concurrency=self.max_concurrency,
                              provisioned_concurrency=self.provisioned_concurrency)


class AsyncInferenceSection(Section):
    max_concurrent_invocations_per_instance: int | None = None

    def to_spec(self) -> AsyncInferenceSpec:
        return AsyncInferenceSpec(max_concurrent_invocations_per_instance=self.max_concurrent_invocations_per_instance)


class MetricTargetSection(Section):
    metric: str = Field(description="An instance metric of /aws/sagemaker/Endpoints, e.g. GPUUtilization.")
    target: float = Field(description="Percent; CPU and GPU metrics are summed over cores/devices.")

    def to_spec(self) -> MetricTargetSpec:
        return MetricTargetSpec(metric_name=self.metric, target_value=self.target)


class ScheduleSection(Section):
    name: str
    schedule: str = Field(description="cron(...), rate(...) or at(...) expression.")
    time_zone: str | None = Field(default=None, description="IANA time zone, e.g. Europe/Berlin; default UTC.")
    min: int | None = None
    max: int | None = None

    def to_spec(self) -> ScheduledScalingSpec:
        return ScheduledScalingSpec(name=self.name, schedule=self.schedule, time_zone=self.time_zone,
                                    min_capacity=self.min, max_capacity=self.max)


class AutoscalingSection(Section):
    min: int
    max: int
    target_invocations_per_instance: float | None = None
    target_concurrent_requests_per_model: float | None = None
    target_backlog_per_instance: float | None = None
    target_provisioned_concurrency_utilization: float | None = None
    metric_targets: list[MetricTargetSection] = Field(default_factory=list)
    schedules: list[ScheduleSection] = Field(default_factory=list)
    scale_in_cooldown_seconds: int = _default(AutoScalingSpec, "scale_in_cooldown_seconds")
    scale_out_cooldown_seconds: int = _default(AutoScalingSpec, "scale_out_cooldown_seconds")

    def to_spec(self) -> AutoScalingSpec:
        return AutoScalingSpec(
            min_capacity=self.min, max_capacity=self.max,
            target_invocations_per_instance=self.target_invocations_per_instance,
            target_concurrent_requests_per_model=self.target_concurrent_requests_per_model,
            target_backlog_per_instance=self.target_backlog_per_instance,
            target_provisioned_concurrency_utilization=self.target_provisioned_concurrency_utilization,
            metric_targets=tuple(m.to_spec() for m in self.metric_targets),
            schedules=tuple(s.to_spec() for s in self.schedules),
            scale_in_cooldown_seconds=self.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=self.scale_out_cooldown_seconds,
        )


class ComponentAutoscalingSection(Section):
    min_copies: int
    max_copies: int
    target_concurrent_requests_per_copy: float | None = None
    target_invocations_per_copy: float | None = None
    schedules: list[ScheduleSection] = Field(default_factory=list, description="min/max are copies.")
    scale_in_cooldown_seconds: int = _default(ComponentAutoScalingSpec, "scale_in_cooldown_seconds")
    scale_out_cooldown_seconds: int = _default(ComponentAutoScalingSpec, "scale_out_cooldown_seconds")

    def to_spec(self) -> ComponentAutoScalingSpec:
        return ComponentAutoScalingSpec(
            min_copies=self.min_copies, max_copies=self.max_copies,
            target_concurrent_requests_per_copy=self.target_concurrent_requests_per_copy,
            target_invocations_per_copy=self.target_invocations_per_copy,
            scale_in_cooldown_seconds=self.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=self.scale_out_cooldown_seconds,
            schedules=tuple(s.to_spec() for s in self.schedules),
        )


class ComponentSection(Section):
    name: SageMakerName
    model: ModelSection
    memory_mb: int = Field(description="MinMemoryRequiredInMb.")
    accelerators: int | None = Field(default=None, description="NumberOfAcceleratorDevicesRequired.")
    cpu_cores: float | None = Field(default=None, description="NumberOfCpuCoresRequired.")
    copies: int = Field(default=_default(ComponentSpec, "copies"), description="Initial RuntimeConfig.CopyCount.")
    autoscaling: ComponentAutoscalingSection | None = None
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None

    def to_spec(self, endpoint_physical_name: str) -> ComponentSpec:
        """The component of the endpoint named ``endpoint_physical_name`` (its name is prefixed with it)."""
        return ComponentSpec(
            name=component_physical_name(endpoint_physical_name, self.name), model=self.model.to_spec(),
            memory_mb=self.memory_mb, accelerators=self.accelerators, cpu_cores=self.cpu_cores, copies=self.copies,
            autoscaling=self.autoscaling.to_spec() if self.autoscaling else None,
            container_startup_timeout_seconds=self.container_startup_timeout_seconds,
            model_download_timeout_seconds=self.model_download_timeout_seconds,
        )


class DeploymentSection(Section):
    strategy: Literal["all-at-once", "canary", "linear", "rolling"] = _default(DeploymentSpec, "strategy")
    canary_percent: int = _default(DeploymentSpec, "canary_percent")
    step_percent: int = _default(DeploymentSpec, "step_percent")
    wait_minutes: int = _default(DeploymentSpec, "wait_minutes")
    termination_wait_minutes: int = _default(DeploymentSpec, "termination_wait_minutes")
    max_execution_minutes: int | None = None
    rollback_alarms: bool = Field(
        default=_default(DeploymentSpec, "rollback_alarms"), description="Roll back on the critical alarms of rollback_signals."
    )
    rollback_signals: list[str] | None = Field(
        default=None,
        description=f"Signals whose critical alarms the deployment rolls back on; default {', '.join(ROLLBACK_SIGNALS)}.",
    )

    def to_spec(self) -> DeploymentSpec:
        return DeploymentSpec(
            strategy=DeploymentStrategy(self.strategy), canary_percent=self.canary_percent,
            step_percent=self.step_percent, wait_minutes=self.wait_minutes,
            termination_wait_minutes=self.termination_wait_minutes, max_execution_minutes=self.max_execution_minutes,
            rollback_alarms=self.rollback_alarms,
            rollback_signals=tuple(self.rollback_signals) if self.rollback_signals is not None else None,
        )


class DataCaptureSection(Section):
    sampling_percent: int
    capture: list[Literal["input", "output"]] = Field(default_factory=lambda: ["input", "output"])

    def to_spec(self) -> DataCaptureSpec:
        return DataCaptureSpec(sampling_percent=self.sampling_percent, capture_input="input" in self.capture,
                               capture_output="output" in self.capture)


class SeverityThresholdsSection(Section):
    """Observability thresholds keyed by severity; a key left out keeps the library default, null switches it off."""

    warning: float | None = None
    critical: float | None = None


class SloSection(Section):
    """30-day service level objective; burn-rate alarms replace the static 5XX / latency alarms."""

    availability_percent: float | None = Field(default=None, description="e.g. 99.9")
    latency_ms: int | None = Field(
        default=None, description="ModelLatency objective in milliseconds (not OverheadLatency: SageMaker's own time)."
    )
    latency_percentile: float = Field(
        default=_default(ServiceLevelObjective, "latency_percentile"), description="Share of requests within latency_ms."
    )
    min_requests: int | None = Field(
        default=None, description="Low-traffic guard: requests a burn-rate window needs; default per paging tier."
    )

    def to_spec(self) -> ServiceLevelObjective:
        return ServiceLevelObjective(
            availability_percent=self.availability_percent, latency_ms=self.latency_ms,
            latency_percentile=self.latency_percentile, min_requests=self.min_requests,
        )


def _signal_field(signal: Signal) -> tuple[Any, Any]:
    """One ``alarms`` key per signal of the library's registry: ``{warning, critical}`` (a number too
    where the signal takes one, e.g. ``at_max_capacity_minutes: 15``)."""
    defaults = signal.defaults(EndpointKind.REALTIME)
    shown = "/".join("off" if v is None else f"{v:g}" for v in (defaults.warning, defaults.critical))
    kinds = "every kind" if signal.kinds == frozenset(EndpointKind) else ", ".join(sorted(k.value for k in signal.kinds))
    described = f"{signal.unit}; warning/critical default {shown}; {kinds}"
    if signal.key == "model_latency_p99_ms":
        described = f"{signal.unit}; default critical at half the invocation timeout (30000, async 450000); {kinds}"
    kind = SeverityThresholdsSection | float | None if signal.number_is else SeverityThresholdsSection | None
    return (kind, Field(default=None, description=described))


# Keys of earlier releases -> what replaced them, said instead of "unknown key" ((parent, key) -> words).
REPLACED_KEYS = {
    ("alarms", "errors_5xx_threshold"): "error_rate_5xx_percent.critical (the rollback alarm is the critical 5XX rate, "
                                        "% of requests, default 5)",
    ("alarms", "p99_latency_ms"): "model_latency_p99_ms.critical (the rollback alarm is the critical p99 latency)",
    ("alarms", "latency_alarm"): "model_latency_p99_ms: null (switches the latency alarms off)",
}


# ``endpoints[].alarms``: one key per signal of the library's registry (``constructs_lib.observability.SIGNALS``),
# plus the window of the 1-minute error and latency alarms. A signal added to the registry is a key here.
AlarmsSection = create_model(
    "AlarmsSection",
    __base__=Section,
    __doc__="Alarm thresholds by signal, keyed by severity: a key left out keeps the default, null switches it off.",
    evaluation_periods=(int, EndpointAlarmThresholds().evaluation_periods),
    datapoints_to_alarm=(int, EndpointAlarmThresholds().datapoints_to_alarm),
    **{signal.key: _signal_field(signal) for signal in SIGNALS},
)


class _EndpointBase(Section):
    """Keys every kind of endpoint has."""

    name: SageMakerName
    stack: StackKey | None = Field(
        default=None,
        description="Shard stack <prefix>-inference-<stack> shared with the endpoints of the same key (e.g. a team); "
        "default: placed by a hash of the name into one of inference.shards stacks. Changing it moves the endpoint "
        "(delete + create).",
    )
    volume_kms_key: bool = Field(
        default=True, description="false: no KmsKeyId on the endpoint config (accounts refusing it on local-NVMe types)."
    )
    deployment: DeploymentSection | None = None
    alarms: AlarmsSection = Field(default_factory=AlarmsSection)
    slo: SloSection | None = None
    customer_facing: bool | None = Field(default=None, description="Default true for realtime: prod requires an slo.")
    if TYPE_CHECKING:  # each kind's model declares its own literal (the union's discriminator)
        type: str

    def watched_endpoint(self, physical_name: str) -> WatchedEndpoint:
        """What the idle guard watches of this endpoint, named ``physical_name``: its kind and inference
        components (the kind decides which metrics show traffic)."""
        return WatchedEndpoint(endpoint_name=physical_name, kind=EndpointKind(self.type),
                               inference_components=self._component_names(physical_name))

    def scale_to_zero(self, physical_name: str) -> ScaleToZero:
        """The idle guard's scale-to-zero target of this endpoint, named ``physical_name``."""
        return ScaleToZero(endpoint_name=physical_name, kind=EndpointKind(self.type),
                           inference_components=self._component_names(physical_name))

    def _component_names(self, physical_name: str) -> tuple[str, ...]:
        return tuple(component_physical_name(physical_name, c.name) for c in component_sections(self))


class _InstanceEndpoint(_EndpointBase, _InstanceCapacity):
    """Keys of the kinds that run on instances (every kind but serverless)."""

    model: ModelSection | None = None
    instance_type: str | None = None
    instance_count: int = _default(VariantSpec, "instance_count")
    network_isolation: bool | None = Field(default=None, description="Default true.")
    data_capture: DataCaptureSection | None = None


class RealtimeEndpoint(_InstanceEndpoint):
    """``type: realtime`` (the default). ``model``/``instance_type``/``instance_count`` are the single-variant
    shorthand; ``variants`` replaces them with 1-10 named variants."""

    type: Literal["realtime"] = "realtime"
    autoscaling: AutoscalingSection | None = None
    variants: list[VariantSection] = Field(default_factory=list)
    shadow_variants: list[ShadowVariantSection] = Field(default_factory=list)


class MultiModelEndpoint(_InstanceEndpoint):
    """``type: multi-model``: one container serving the models under ``model.model_data_prefix``."""

    type: Literal["multi-model"]
    autoscaling: AutoscalingSection | None = None


class AsyncEndpoint(_InstanceEndpoint):
    """``type: async``: requests queued, results written to the artifact bucket."""

    type: Literal["async"]
    autoscaling: AutoscalingSection | None = None
    async_inference: AsyncInferenceSection | None = None


class ManagedScalingSection(Section):
    """Managed instance scaling of an inference-components endpoint: instances only (copies scale per
    component: ``components[].autoscaling``)."""

    min: int
    max: int

    def to_spec(self) -> ManagedInstanceScalingSpec:
        return ManagedInstanceScalingSpec(min_instances=self.min, max_instances=self.max)


class InferenceComponentsEndpoint(_InstanceEndpoint):
    """``type: inference-components``: models are its components, each with its own copies."""

    type: Literal["inference-components"]
    autoscaling: ManagedScalingSection | None = Field(
        default=None, description="min and max instances only (managed instance scaling); copies scale per component."
    )
    components: list[ComponentSection] = Field(default_factory=list)


class ServerlessEndpoint(_EndpointBase):
    """``type: serverless``: no instances; memory and concurrency instead."""

    type: Literal["serverless"]
    model: ModelSection | None = None
    serverless: ServerlessSection | None = None
    autoscaling: AutoscalingSection | None = None
    container_startup_timeout_seconds: int | None = None
    model_download_timeout_seconds: int | None = None


# ``endpoints[]``: one model per kind, chosen by ``type`` (``realtime`` when left out).
ENDPOINT_TYPES: dict[str, type[_EndpointBase]] = {
    "realtime": RealtimeEndpoint,
    "serverless": ServerlessEndpoint,
    "async": AsyncEndpoint,
    "inference-components": InferenceComponentsEndpoint,
    "multi-model": MultiModelEndpoint,
}
assert set(ENDPOINT_TYPES) == {k.value for k in EndpointKind}, "one config model per EndpointKind"
# Sections of one type whose unknown keys are reported "for type <kind>", with what to use instead.
KIND_SECTIONS: dict[type[Section], str] = {
    ManagedScalingSection: "managed instance scaling takes only min and max; copies scale per component: "
                           "components[].autoscaling",
}
EndpointType = Literal["realtime", "serverless", "async", "inference-components", "multi-model"]


def _default_type(entry: Any) -> Any:
    """An entry without ``type`` is a realtime endpoint (the discriminator needs the key)."""
    if isinstance(entry, dict) and "type" not in entry:
        return {**entry, "type": "realtime"}
    return entry


EndpointSection = Annotated[
    Annotated[
        RealtimeEndpoint | ServerlessEndpoint | AsyncEndpoint | InferenceComponentsEndpoint | MultiModelEndpoint,
        Field(discriminator="type"),
    ],
    BeforeValidator(_default_type),
]
ENDPOINT_ADAPTER: TypeAdapter[Any] = TypeAdapter(EndpointSection)


# -- what an entry has, whatever its kind ------------------------------------------------------------
def entry_model(ep: Any) -> ModelSection | None:
    """The single-model shorthand's model (none on inference-components endpoints' components)."""
    return ep.model if isinstance(ep, (_InstanceEndpoint, ServerlessEndpoint)) else None


def variant_sections(ep: Any) -> list[VariantSection]:
    return list(ep.variants) if isinstance(ep, RealtimeEndpoint) else []


def shadow_variant_sections(ep: Any) -> list[ShadowVariantSection]:
    return list(ep.shadow_variants) if isinstance(ep, RealtimeEndpoint) else []


def component_sections(ep: Any) -> list[ComponentSection]:
    return list(ep.components) if isinstance(ep, InferenceComponentsEndpoint) else []


def data_capture_section(ep: Any) -> DataCaptureSection | None:
    return ep.data_capture if isinstance(ep, _InstanceEndpoint) else None


# -- physical names ----------------------------------------------------------------------------------
def endpoint_physical_name(prefix: str, endpoint: EndpointSection) -> str:
    """``acme-ml-dev`` + ``ranker``: endpoint names are unique per account and region (``PlatformNames.endpoint``)."""
    return physical_name(prefix, endpoint.name)


def component_physical_name(endpoint_physical_name: str, component: str) -> str:
    """``acme-ml-dev-llm-hosting`` + ``llama-8b``: inference component names are unique per region."""
    return physical_name(endpoint_physical_name, component)


# -- config -> construct props (used by the validation below and by the stacks) ----------------------
# Each section converts itself (``to_spec``, in the spec's own field names); the entry's props combine them.
def _variants(ep: EndpointSection) -> list[VariantSpec]:
    if isinstance(ep, RealtimeEndpoint) and ep.variants:
        return [v.to_spec() for v in ep.variants]
    if isinstance(ep, ServerlessEndpoint):
        return [
            VariantSpec(
                model=ep.model.to_spec() if ep.model else None,
                instance_type=None,
                instance_count=1,  # no instances: the spec's default, unused
                serverless=ep.serverless.to_spec() if ep.serverless else None,
                container_startup_timeout_seconds=ep.container_startup_timeout_seconds,
                model_download_timeout_seconds=ep.model_download_timeout_seconds,
            )
        ]
    a = ep.autoscaling
    return [
        VariantSpec(
            model=ep.model.to_spec() if ep.model else None,
            instance_type=ep.instance_type,
            instance_count=ep.instance_count,
            # inference components: the entry's autoscaling is managed instance scaling of the variant
            managed_scaling=a.to_spec() if a and isinstance(ep, InferenceComponentsEndpoint) else None,
            **ep.capacity_props(),
        )
    ]


def endpoint_props(prefix: str, ep: EndpointSection) -> dict[str, Any]:
    """Config entry -> ``InferenceEndpoint`` keyword arguments that come from the entry (every kind)."""
    physical = endpoint_physical_name(prefix, ep)
    scaling = ep.autoscaling if not isinstance(ep, InferenceComponentsEndpoint) else None  # see _variants
    capture = data_capture_section(ep)
    return dict(
        endpoint_name=physical,
        kind=EndpointKind(ep.type),
        variants=_variants(ep),
        shadow_variants=[v.to_spec() for v in shadow_variant_sections(ep)],
        network_isolation=ep.network_isolation if isinstance(ep, _InstanceEndpoint) else None,
        volume_kms_key=ep.volume_kms_key,
        autoscaling=scaling.to_spec() if scaling else None,
        deployment=ep.deployment.to_spec() if ep.deployment else None,
        data_capture=capture.to_spec() if capture else None,
        alarms=endpoint_thresholds(ep.alarms, ep.type),
        async_inference=ep.async_inference.to_spec() if isinstance(ep, AsyncEndpoint) and ep.async_inference else None,
        components=[c.to_spec(physical) for c in component_sections(ep)],
    )


def endpoint_thresholds(alarms: Any, kind: EndpointKind | str = EndpointKind.REALTIME) -> EndpointAlarmThresholds:
    """``endpoints[].alarms`` -> the library's thresholds: keys given in the config override the signal's
    defaults for ``kind`` severity by severity; ``null`` switches a signal off."""
    kind = EndpointKind(kind)
    given = dict(alarms)  # the section's fields by name
    out: dict[str, SeverityThresholds | float | None] = {}
    for signal in SIGNALS:
        if signal.key not in alarms.model_fields_set:
            continue
        section = given[signal.key]
        if section is None or isinstance(section, (int, float)):
            out[signal.key] = section
            continue
        base = signal.defaults(kind)
        values = {"warning": base.warning, "critical": base.critical}
        values.update({k: v for k, v in dict(section).items() if k in section.model_fields_set})
        out[signal.key] = SeverityThresholds(**values)
    return EndpointAlarmThresholds(
        evaluation_periods=alarms.evaluation_periods, datapoints_to_alarm=alarms.datapoints_to_alarm, **out,
    )


def endpoint_slo(section: EndpointSection) -> ServiceLevelObjective | None:
    return section.slo.to_spec() if section.slo is not None else None


# -- validation: the library's rules, renamed to config key paths ------------------------------------
# Construct prop names -> config keys (one path segment each).
_SEGMENTS = {
    "endpoint_name": "name",
    "min_capacity": "min",
    "max_capacity": "max",
    "metric_name": "metric",
    "target_value": "target",
}
# Whole prop paths whose config key differs in more than a name (relative to the entry).
_PATHS = {
    "managed_scaling.min_instances": "autoscaling.min",
    "managed_scaling.max_instances": "autoscaling.max",
    "data_capture.capture_input": "data_capture.capture",  # neither input nor output captured
    "data_capture.prefix": "name",  # the capture path's length grows with the endpoint name
    "async_inference.prefix": "name",  # likewise the async output and failure paths
}
# Prop names inside the "allowed" texts -> config words.
_WORDS = [
    (re.compile(r"\bmanaged_scaling\.min_instances\b"), "autoscaling.min"),
    (re.compile(r"\b(managed_scaling\.)?max_instances\b"), "autoscaling.max"),
    (re.compile(r"\bmin_capacity\b"), "min"),
    (re.compile(r"\bmax_capacity\b"), "max"),
    (re.compile(r"\btarget_value\b"), "target"),
]
# Library problems the config reports in its own words: the names it builds physical names from.
_CONFIG_NAMED = re.compile(r"^(name|components\[\d+\]\.name)$")
_INDEX = re.compile(r"^(?P<key>[^\[]+)(?P<index>(\[[^\]]*\])*)$")


def _config_path(where: str, shorthand: bool) -> str:
    """``variants[0].managed_scaling.min_instances`` -> ``autoscaling.min`` (shorthand entry)."""
    if shorthand and (where == "variants[0]" or where.startswith("variants[0].")):
        where = where.removeprefix("variants[0]").removeprefix(".")
    if where in _PATHS:
        return _PATHS[where]
    parts = []
    for part in where.split(".") if where else []:
        m = _INDEX.match(part)
        key, index = (m.group("key"), m.group("index")) if m else (part, "")
        parts.append(_SEGMENTS.get(key, key) + index)
    return ".".join(parts)


def _config_value(value: Any, ep: EndpointSection, path: str) -> Any:
    if path == "name":
        return ep.name
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _config_words(allowed: str) -> str:
    for pattern, words in _WORDS:
        allowed = pattern.sub(words, allowed)
    return allowed


def endpoint_rule_problems(prefix: str, where: str, ep: EndpointSection) -> list[Problem]:
    """The library's endpoint and monitoring rules run on the props the stacks will pass, with config paths.

    ``where`` is the entry's path (``endpoints[2]``); the inference stack passes the platform key, the
    artifact bucket (named with the account and region: unresolved at synth) and no VPC.
    """
    props = endpoint_props(prefix, ep)
    found = Problems("config")
    check_endpoint_props(
        found,
        name=props["endpoint_name"], kind=props["kind"], variants=props["variants"],
        shadow_variants=props["shadow_variants"], scaling=props["autoscaling"], deployment=props["deployment"],
        capture=props["data_capture"], capture_bucket_name=None, has_capture_bucket=props["data_capture"] is not None,
        alarms=props["alarms"], async_spec=props["async_inference"] or (
            AsyncInferenceSpec() if props["kind"] is EndpointKind.ASYNC else None
        ),
        async_bucket_name=None, has_async_bucket=props["kind"] is EndpointKind.ASYNC, has_key=True,
        components=props["components"], network_isolation=props["network_isolation"], has_vpc=False,
        security_group_count=1, subnet_count=None,
    )
    # The thresholds are the endpoint's "alarms" (checked above with the endpoint's kind): once, not again here.
    check_monitoring_props(found, thresholds=None, slo=endpoint_slo(ep), gpus_per_instance=None)
    shorthand = not variant_sections(ep)
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for p in found.items:
        path = _config_path(p.where, shorthand)
        if _CONFIG_NAMED.match(path) and p.allowed == limits.NAME_RULE:
            continue  # the schema checks these names; semantics checks their physical lengths
        allowed = _config_words(p.allowed)
        if (path, allowed) in seen:
            continue
        seen.add((path, allowed))
        out.append(Problem(f"{where}.{path}" if path else where, _config_value(p.value, ep, path), allowed))
    return out
