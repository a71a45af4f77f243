"""Synth-time checks of the inference constructs: every SageMaker limit and kind exclusion in one place.

Each check names the prop path, the value received and what is allowed, and says *why* when a
combination is excluded (REFERENCE.md, "Deploy-time rules" and "Input limits").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from .. import limits
from ..errors import Problems, is_token
from ..observability.endpoint_signals import (
    EndpointAlarmThresholds,
    alarm_count,
    check_rollback,
    check_thresholds,
)
from .kinds import traits_of
from .metrics import INSTANCE_METRICS, SUMMED_INSTANCE_METRICS, ScalableDimension
from .specs import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ModelSpec,
    ScheduledScalingSpec,
    ShadowVariantSpec,
    VariantSpec,
)

ECR_IMAGE = limits.ECR_IMAGE
S3_URI = limits.S3_URI
SCHEDULE_EXPRESSION = re.compile(r"^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\))$")
SCHEDULE_NAME = re.compile(r"^[a-zA-Z0-9-]{1,64}$")
ENVIRONMENT_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")  # botocore shape EnvironmentKey
MAX_BUCKET_NAME = 63
# Bounds live in ``limits`` (one copy, read by the config schema's documentation too).
MAX_FALLBACK_INSTANCE_TYPES = limits.MAX_FALLBACK_INSTANCE_TYPES
PROVISION_TIMEOUT_S = limits.PROVISION_TIMEOUT_S
MAX_SECURITY_GROUPS = limits.MAX_SECURITY_GROUPS
MAX_SUBNETS = limits.MAX_SUBNETS
COOLDOWN_S = limits.COOLDOWN_S
MIN_COMPONENT_MEMORY_MB = limits.MIN_COMPONENT_MEMORY_MB
MIN_COMPONENT_CPU_CORES = limits.MIN_COMPONENT_CPU_CORES


@cache
def time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def s3_path_length(bucket_name: str | None, *parts: str) -> int:
    """Length of ``s3://<bucket>/<parts...>``; an unresolved bucket name counts as the 63-char maximum."""
    bucket_len = MAX_BUCKET_NAME if bucket_name is None or is_token(bucket_name) else len(bucket_name)
    return len("s3://") + bucket_len + sum(1 + len(part) for part in parts)


def _an(kind: EndpointKind) -> str:
    """``a realtime`` / ``an async``: the kind with its article."""
    return ("an " if kind.value[0] in "aeiou" else "a ") + kind.value


def _an_endpoint(kind: EndpointKind) -> str:
    """``a serverless endpoint`` / ``an inference-component endpoint``: ``KindTraits.called``."""
    return traits_of(kind).called


def check_model(p: Problems, where: str, model: ModelSpec, *, multi_model: bool, promotable: bool = False) -> None:
    """``promotable``: a production variant of a real-time or serverless endpoint (``promoted`` allowed)."""
    p.check(
        bool(ECR_IMAGE.match(model.image)), f"{where}.image", model.image, limits.ECR_IMAGE_RULE,
    )
    for key in model.environment:
        p.check(
            bool(ENVIRONMENT_KEY.match(key)), f"{where}.environment", key,
            "variable names of 1-1024 letters, digits and underscores, not starting with a digit",
        )
    p.check(
        len(model.environment) <= limits.MAX_ENVIRONMENT_VARIABLES, f"{where}.environment", len(model.environment),
        f"at most {limits.MAX_ENVIRONMENT_VARIABLES} variables",
    )
    if model.model_data_url is not None:
        p.check(bool(S3_URI.match(model.model_data_url)), f"{where}.model_data_url", model.model_data_url, limits.S3_URI_RULE)
    if multi_model:
        prefix = model.model_data_prefix
        if prefix is None:
            p.add(f"{where}.model_data_prefix", None, "the s3://bucket/prefix/ of the models (multi-model endpoints load models from it)")
        else:
            p.check(
                bool(S3_URI.match(prefix)) and prefix.endswith("/"), f"{where}.model_data_prefix", prefix,
                "an s3://bucket/prefix/ URI ending with '/'",
            )
        if model.model_data_url is not None:
            p.add(f"{where}.model_data_url", model.model_data_url, "not on a multi-model endpoint: use model_data_prefix")
    elif model.model_data_prefix is not None:
        p.add(f"{where}.model_data_prefix", model.model_data_prefix, "only on a multi-model endpoint")
    if model.promoted is not None:
        _check_promoted(p, f"{where}.promoted", model, promotable)


def _check_promoted(p: Problems, where: str, model: ModelSpec, promotable: bool) -> None:
    promoted = model.promoted
    if not promotable:
        p.add(where, "(set)", "only on production variants of realtime or serverless endpoints (promotion replaces only those models)")
        return
    names = [("image_parameter", promoted.image_parameter)]
    if promoted.model_data_parameter is not None:
        names.append(("model_data_parameter", promoted.model_data_parameter))
    for attr, name in names:
        if not is_token(name):
            p.check(
                limits.is_ssm_parameter_name(name), f"{where}.{attr}", name, limits.SSM_PARAMETER_NAME_RULE,
            )
    if (promoted.model_data_parameter is None) != (model.model_data_url is None):
        p.add(
            f"{where}.model_data_parameter", promoted.model_data_parameter,
            "a parameter exactly when the model has model_data_url (an SSM String parameter cannot be empty, "
            "and the template's model must take the promoted model data whenever it has any)",
        )
    if promoted.model_data_parameter is not None and promoted.model_data_parameter == promoted.image_parameter:
        p.add(f"{where}.model_data_parameter", promoted.model_data_parameter, "a parameter other than image_parameter")
    for i, image in enumerate(promoted.image_repositories):
        if not is_token(image):
            p.check(bool(ECR_IMAGE.match(image)), f"{where}.image_repositories[{i}]", image, limits.ECR_IMAGE_RULE)
    for i, prefix in enumerate(promoted.model_data_prefixes):
        if not is_token(prefix):
            p.check(bool(S3_URI.match(prefix)), f"{where}.model_data_prefixes[{i}]", prefix, limits.S3_URI_RULE)


def check_timeouts(p: Problems, where: str, spec) -> None:
    for attr in ("container_startup_timeout_seconds", "model_download_timeout_seconds"):
        value = getattr(spec, attr)
        if value is not None:
            lo, hi = limits.VARIANT_TIMEOUT_S
            p.check(lo <= value <= hi, f"{where}.{attr}", value, f"{lo}-{hi} seconds")


def check_instance_type(p: Problems, where: str, instance_type: str) -> None:
    p.check(
        instance_type in limits.endpoint_instance_types(), where, instance_type,
        limits.describe_choices(limits.endpoint_instance_types()) + " (botocore ProductionVariantInstanceType)",
    )


def _variant(p: Problems, w: str, v: VariantSpec, kind: EndpointKind) -> None:
    p.check(bool(limits.NAME_PATTERN.match(v.name)), f"{w}.name", v.name, limits.NAME_RULE)
    serverless = kind is EndpointKind.SERVERLESS
    if kind is EndpointKind.INFERENCE_COMPONENTS:
        if v.model is not None:
            p.add(f"{w}.model", "(set)", "none on an inference-component endpoint: models belong to its components")
    elif v.model is None:
        p.add(f"{w}.model", None, "a model (image and model data)")
    else:
        check_model(
            p, f"{w}.model", v.model, multi_model=kind is EndpointKind.MULTI_MODEL,
            promotable=not traits_of(kind).promotion_not and not isinstance(v, ShadowVariantSpec),
        )
    if serverless:
        if v.instance_type is not None:
            p.add(f"{w}.instance_type", v.instance_type, "none on a serverless endpoint (no instances, no GPUs): set serverless memory and concurrency")
        if v.serverless is None:
            p.add(f"{w}.serverless", None, "memory and max concurrency (serverless capacity) on a serverless endpoint")
        for attr, why in (
            ("fallback_instance_types", "no instances to fall back from"),
            ("routing", "no instances to route between"),
            ("volume_size_gb", "no storage volume"),
            ("managed_scaling", "no instances to scale"),
            ("provision_timeout_seconds", "no instances to provision"),
        ):
            if getattr(v, attr):
                p.add(f"{w}.{attr}", getattr(v, attr), f"none on a serverless endpoint ({why})")
    else:
        if v.instance_type is None:
            p.add(f"{w}.instance_type", None, "an instance type (only serverless endpoints have none)")
        if v.serverless is not None:
            p.add(f"{w}.serverless", "(set)", "only on a serverless endpoint")
        p.check(
            isinstance(v.instance_count, int) and v.instance_count >= 1, f"{w}.instance_count", v.instance_count, "an integer >= 1"
        )
    for t in v.instance_types:
        check_instance_type(p, f"{w}.instance_type" if t == v.instance_type else f"{w}.fallback_instance_types", t)
    if v.fallback_instance_types:
        p.check(
            len(v.fallback_instance_types) <= MAX_FALLBACK_INSTANCE_TYPES, f"{w}.fallback_instance_types",
            list(v.fallback_instance_types), f"at most {MAX_FALLBACK_INSTANCE_TYPES} (InstancePools holds 1-5 pools)",
        )
        p.check(
            len(set(v.instance_types)) == len(v.instance_types), f"{w}.fallback_instance_types",
            list(v.fallback_instance_types), "instance types different from each other and from instance_type",
        )
    if v.provision_timeout_seconds is not None:
        lo, hi = PROVISION_TIMEOUT_S
        p.check(lo <= v.provision_timeout_seconds <= hi, f"{w}.provision_timeout_seconds", v.provision_timeout_seconds, f"{lo}-{hi} seconds")
    p.check(v.weight >= 0, f"{w}.weight", v.weight, "a weight >= 0")
    if v.volume_size_gb is not None:
        lo, hi = limits.VARIANT_VOLUME_GB
        p.check(lo <= v.volume_size_gb <= hi, f"{w}.volume_size_gb", v.volume_size_gb, f"{lo}-{hi} GB")
    check_timeouts(p, w, v)
    if v.serverless is not None and serverless:
        s = v.serverless
        p.check(
            s.memory_mb in limits.SERVERLESS_MEMORY_MB, f"{w}.serverless.memory_mb", s.memory_mb,
            "one of " + ", ".join(map(str, limits.SERVERLESS_MEMORY_MB)) + " MB",
        )
        lo, hi = limits.SERVERLESS_MAX_CONCURRENCY
        p.check(lo <= s.max_concurrency <= hi, f"{w}.serverless.max_concurrency", s.max_concurrency, f"{lo}-{hi}")
        if s.provisioned_concurrency is not None:
            p.check(
                lo <= s.provisioned_concurrency <= min(hi, s.max_concurrency), f"{w}.serverless.provisioned_concurrency",
                s.provisioned_concurrency, f"{lo}-{hi} and at most max_concurrency ({s.max_concurrency})",
            )
    if v.managed_scaling is not None:
        m = v.managed_scaling
        if kind is not EndpointKind.INFERENCE_COMPONENTS:
            p.add(f"{w}.managed_scaling", "(set)", "only on inference-component endpoints (SageMaker places component copies on the instances it scales)")
        else:
            p.check(m.min_instances >= 0, f"{w}.managed_scaling.min_instances", m.min_instances, ">= 0")
            p.check(m.max_instances >= 1, f"{w}.managed_scaling.max_instances", m.max_instances, ">= 1")
            p.check(
                m.min_instances <= v.instance_count <= m.max_instances, f"{w}.instance_count", v.instance_count,
                f"between managed_scaling.min_instances ({m.min_instances}) and max_instances ({m.max_instances})",
            )


def validate_endpoint(path: str, **props) -> None:
    """Raise one :class:`PlatformValidationError` with every problem of an endpoint's props."""
    p = Problems(f"InferenceEndpoint {path}")
    check_endpoint_props(p, **props)
    p.raise_if_any()


def check_endpoint_props(
    p: Problems,
    *,
    name: str,
    kind: EndpointKind,
    variants: Sequence[VariantSpec],
    shadow_variants: Sequence[ShadowVariantSpec],
    scaling: AutoScalingSpec | None,
    deployment: DeploymentSpec | None,
    capture: DataCaptureSpec | None,
    capture_bucket_name: str | None,
    has_capture_bucket: bool,
    alarms: EndpointAlarmThresholds,
    async_spec: AsyncInferenceSpec | None,
    async_bucket_name: str | None,
    has_async_bucket: bool,
    has_key: bool,
    components: Sequence[ComponentSpec],
    network_isolation: bool | None,
    has_vpc: bool,
    security_group_count: int,
    subnet_count: int | None,
) -> None:
    """Every rule of an endpoint's props, recorded in ``p`` with prop paths (``autoscaling.min_capacity``).

    The one copy of the endpoint rules: :class:`InferenceEndpoint` raises what it records, and the
    platform config runs it on the props it builds, renaming the paths to its keys.
    """
    p.check(bool(limits.NAME_PATTERN.match(name)), "endpoint_name", name, limits.NAME_RULE)
    p.check(
        1 <= len(variants) <= limits.MAX_PRODUCTION_VARIANTS, "variants", len(variants),
        f"1-{limits.MAX_PRODUCTION_VARIANTS} production variants",
    )
    seen: dict[str, str] = {}
    for i, v in enumerate(variants):
        w = f"variants[{i}]"
        p.check(v.name not in seen, f"{w}.name", v.name, "a variant name unique within the endpoint")
        seen.setdefault(v.name, w)
        _variant(p, w, v, kind)
    if variants and not any(is_token(v.weight) for v in variants):
        p.check(sum(v.weight for v in variants) > 0, "variants[*].weight", [v.weight for v in variants], "a total weight > 0")
    if traits_of(kind).multiple_variants_not:
        p.check(len(variants) <= 1, "variants", len(variants), f"one production variant: {traits_of(kind).multiple_variants_not}")

    _shadow(p, kind, variants, shadow_variants, seen)
    _kind_exclusions(p, kind, capture, network_isolation, has_vpc, components, deployment, scaling)
    _async(p, name, kind, async_spec, async_bucket_name, has_async_bucket, has_key)
    if scaling is not None and not traits_of(kind).endpoint_scaling_not:
        _autoscaling(p, kind, variants, scaling)
    if deployment is not None:
        _deployment(p, kind, variants, deployment)
    if capture is not None:
        lo, hi = limits.SAMPLING_PERCENT
        p.check(lo <= capture.sampling_percent <= hi, "data_capture.sampling_percent", capture.sampling_percent, f"{lo}-{hi}")
        p.check(
            capture.capture_input or capture.capture_output, "data_capture.capture_input", "neither input nor output",
            "capture input, output or both",
        )
        p.check(has_capture_bucket, "data_capture_bucket", None, "a bucket when data_capture is set")
        length = s3_path_length(capture_bucket_name, capture.prefix, name)
        p.check(
            length <= limits.S3_PATH_MAX_LEN, "data_capture.prefix", capture.prefix,
            f"a prefix short enough that the capture path has at most {limits.S3_PATH_MAX_LEN} characters (got {length})",
        )
    check_thresholds(p, "alarms", alarms, kind)
    if deployment is not None and not traits_of(kind).deployment_not:
        check_rollback(p, deployment, alarms, kind, groups=_alarm_groups(kind, variants))
    if has_vpc:
        p.check(
            1 <= security_group_count <= MAX_SECURITY_GROUPS, "security_groups", security_group_count,
            f"1-{MAX_SECURITY_GROUPS} security groups",
        )
        if subnet_count is not None:
            p.check(1 <= subnet_count <= MAX_SUBNETS, "vpc_subnets", subnet_count, f"1-{MAX_SUBNETS} subnets")
    names: set[str] = set()
    for i, c in enumerate(components):
        p.check(c.name not in names, f"components[{i}].name", c.name, "a component name unique within the endpoint")
        names.add(c.name)
        instance_types = tuple(t for v in variants[:1] for t in v.instance_types)
        validate_component(p, f"components[{i}]", c, instance_types)


def _shadow(p: Problems, kind, variants, shadow_variants, seen: dict[str, str]) -> None:
    if not shadow_variants:
        return
    if not traits_of(kind).shadow_variants:
        p.add("shadow_variants", len(shadow_variants), f"none on {_an(kind)} endpoint: shadow variants exist only on real-time endpoints")
        return
    p.check(
        len(variants) == 1 and len(shadow_variants) == 1, "shadow_variants", len(shadow_variants),
        f"exactly one shadow variant next to exactly one production variant (got {len(variants)} production "
        "variants): CreateEndpointConfig allows one of each when ShadowProductionVariants is set",
    )
    for i, v in enumerate(shadow_variants):
        w = f"shadow_variants[{i}]"
        p.check(v.name not in seen, f"{w}.name", v.name, f"a variant name unique within the endpoint ({seen.get(v.name)} has it)")
        seen.setdefault(v.name, w)
        _variant(p, w, v, kind)
        p.check(1 <= v.sampling_percent <= 100, f"{w}.sampling_percent", v.sampling_percent, "1-100 % of the production requests")
    for where, group in (("variants", variants), ("shadow_variants", shadow_variants)):
        for i, v in enumerate(group):
            inf1 = [t for t in v.instance_types if limits.instance_family(t) == "inf1"]
            if inf1:
                p.add(f"{where}[{i}].instance_type", inf1[0], "no Inf1 instances with shadow variants (SageMaker excludes them from shadow tests)")


def _kind_exclusions(p: Problems, kind, capture, network_isolation, has_vpc, components, deployment, scaling) -> None:
    """What the kind does not support (``KindTraits.*_not``: the reason, in the message)."""
    t = traits_of(kind)
    on = f"on {_an_endpoint(kind)}"
    if capture is not None and t.data_capture_not:
        p.add("data_capture", "(set)", f"none {on}: {t.data_capture_not}")
    if network_isolation and t.network_isolation_not:
        p.add("network_isolation", True, f"False or unset {on}: {t.network_isolation_not}")
    if has_vpc and t.vpc_not:
        p.add("vpc", "(set)", f"none {on}: {t.vpc_not}")
    if deployment is not None and t.deployment_not:
        p.add("deployment", deployment.strategy.value, f"none {on}: {t.deployment_not}")
    if scaling is not None and t.endpoint_scaling_not:
        p.add("autoscaling", "(set)", f"none {on}: {t.endpoint_scaling_not}")
    if kind is not EndpointKind.INFERENCE_COMPONENTS and components:
        p.add("components", len(components), "only on an inference-component endpoint")


def _async(p: Problems, name, kind, spec: AsyncInferenceSpec | None, bucket_name, has_bucket, has_key) -> None:
    if kind is not EndpointKind.ASYNC:
        if spec is not None:
            p.add("async_inference", "(set)", "only on an asynchronous endpoint")
        return
    spec = spec or AsyncInferenceSpec()
    p.check(has_bucket, "async_output_bucket", None, "a bucket for the results and failures of an asynchronous endpoint")
    p.check(has_key, "encryption_key", None, "a KMS key on an asynchronous endpoint (it encrypts the results and the notification topics)")
    if spec.max_concurrent_invocations_per_instance is not None:
        lo, hi = limits.ASYNC_MAX_CONCURRENT_INVOCATIONS
        p.check(
            lo <= spec.max_concurrent_invocations_per_instance <= hi, "async_inference.max_concurrent_invocations_per_instance",
            spec.max_concurrent_invocations_per_instance, f"{lo}-{hi}",
        )
    p.check(
        bool(re.fullmatch(r"[a-zA-Z0-9!_.*'()-]+(/[a-zA-Z0-9!_.*'()-]+)*", spec.prefix)), "async_inference.prefix", spec.prefix,
        "an S3 key prefix without leading or trailing '/'",
    )
    length = s3_path_length(bucket_name, spec.prefix, name, "failure")
    p.check(
        length <= limits.S3_PATH_MAX_LEN, "async_inference.prefix", spec.prefix,
        f"a prefix short enough that the output and failure paths have at most {limits.S3_PATH_MAX_LEN} characters (got {length})",
    )


def _autoscaling(p: Problems, kind: EndpointKind, variants: Sequence[VariantSpec], s: AutoScalingSpec) -> None:
    a = "autoscaling"
    traits = traits_of(kind)
    floor = traits.scaling_floor
    p.check(s.min_capacity >= floor, f"{a}.min_capacity", s.min_capacity, traits.scaling_floor_rule)
    p.check(s.max_capacity >= 1, f"{a}.max_capacity", s.max_capacity, ">= 1")
    p.check(s.min_capacity <= s.max_capacity, f"{a}.min_capacity", s.min_capacity, f"<= max_capacity ({s.max_capacity})")
    for i, v in enumerate(variants):
        if traits.scalable_dimension == ScalableDimension.VARIANT_PROVISIONED_CONCURRENCY:
            prov = v.serverless.provisioned_concurrency if v.serverless else None
            if prov is None:
                p.add(
                    f"variants[{i}].serverless.provisioned_concurrency", None,
                    "a provisioned concurrency when a serverless endpoint autoscales (it scales provisioned concurrency)",
                )
            else:
                p.check(
                    s.min_capacity <= prov <= s.max_capacity, f"variants[{i}].serverless.provisioned_concurrency", prov,
                    f"between autoscaling.min_capacity ({s.min_capacity}) and autoscaling.max_capacity ({s.max_capacity})",
                )
            if v.serverless is not None:
                p.check(
                    s.max_capacity <= v.serverless.max_concurrency, f"{a}.max_capacity", s.max_capacity,
                    f"<= serverless.max_concurrency ({v.serverless.max_concurrency})",
                )
        else:
            p.check(
                s.min_capacity <= v.instance_count <= s.max_capacity, f"variants[{i}].instance_count",
                v.instance_count,
                f"between autoscaling.min_capacity ({s.min_capacity}) and autoscaling.max_capacity ({s.max_capacity})",
            )
            for t in v.instance_types:
                if limits.is_burstable(t):
                    p.add(f"variants[{i}].instance_type", t, "no autoscaling on burstable ml.t* instances (Application Auto Scaling refuses them)")
    allowed = traits_of(kind).scaling_targets
    why = {
        "target_invocations_per_instance": "InvocationsPerInstance",
        "target_concurrent_requests_per_model": "ConcurrentRequestsPerModel",
        "target_backlog_per_instance": "ApproximateBacklogSizePerInstance",
        "target_provisioned_concurrency_utilization": "ServerlessProvisionedConcurrencyUtilization",
        "metric_targets": "instance metrics",
    }
    targets = 0
    for attr, metric in why.items():
        value = getattr(s, attr)
        if not value:
            continue
        targets += 1
        if attr not in allowed:
            p.add(f"{a}.{attr}", value, f"not on {_an(kind)} endpoint: it has no {metric} to track; use {' or '.join(sorted(allowed))}")
        elif attr != "metric_targets":
            p.check(value > 0, f"{a}.{attr}", value, "> 0")
    if s.target_provisioned_concurrency_utilization is not None:
        p.check(
            0 < s.target_provisioned_concurrency_utilization <= 1, f"{a}.target_provisioned_concurrency_utilization",
            s.target_provisioned_concurrency_utilization, "a utilization in (0, 1], e.g. 0.7",
        )
    if kind is EndpointKind.ASYNC:
        p.check(
            len(variants) == 1, a, f"{len(variants)} variants",
            "one production variant on an autoscaled asynchronous endpoint: its backlog metrics exist per endpoint, not per variant",
        )
    if targets == 0 and not s.schedules:
        p.add(a, "no target and no schedule", f"at least one target ({', '.join(sorted(allowed))}) or a schedule")
    accelerated = any(limits.is_accelerated(t) for v in variants for t in v.instance_types)
    for j, m in enumerate(s.metric_targets):
        w = f"{a}.metric_targets[{j}]"
        p.check(
            m.metric_name in INSTANCE_METRICS, f"{w}.metric_name", m.metric_name,
            "one of " + ", ".join(sorted(INSTANCE_METRICS)) + " (/aws/sagemaker/Endpoints)",
        )
        if m.metric_name.startswith("GPU") and not accelerated:
            p.add(f"{w}.metric_name", m.metric_name, "a CPU metric: the variants' instance types have no GPUs")
        if m.metric_name in SUMMED_INSTANCE_METRICS:
            p.check(m.target_value > 0, f"{w}.target_value", m.target_value, "> 0 (percent summed over cores/devices)")
        else:
            p.check(0 < m.target_value <= 100, f"{w}.target_value", m.target_value, "a percentage in (0, 100]")
    for attr in ("scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
        lo, hi = COOLDOWN_S
        p.check(lo <= getattr(s, attr) <= hi, f"{a}.{attr}", getattr(s, attr), f"{lo}-{hi} seconds")
    check_schedules(p, a, s.schedules, floor)


def check_schedules(p: Problems, a: str, schedules: Sequence[ScheduledScalingSpec], floor: int) -> None:
    names: set[str] = set()
    for j, sch in enumerate(schedules):
        w = f"{a}.schedules[{j}]"
        p.check(bool(SCHEDULE_NAME.match(sch.name)), f"{w}.name", sch.name, "1-64 letters, digits and hyphens")
        p.check(sch.name not in names, f"{w}.name", sch.name, "a schedule name unique within the endpoint")
        names.add(sch.name)
        p.check(
            bool(SCHEDULE_EXPRESSION.match(sch.schedule)), f"{w}.schedule", sch.schedule,
            "cron(minutes hours day-of-month month day-of-week year), rate(N minutes|hours|days) or at(yyyy-mm-ddThh:mm:ss)",
        )
        if sch.time_zone is not None:
            p.check(sch.time_zone in time_zones(), f"{w}.time_zone", sch.time_zone, "an IANA time zone such as Europe/Berlin")
        if sch.min_capacity is None and sch.max_capacity is None:
            p.add(w, sch.name, "min_capacity, max_capacity or both")
        if sch.min_capacity is not None:
            p.check(sch.min_capacity >= floor, f"{w}.min_capacity", sch.min_capacity, f">= {floor}")
        if sch.max_capacity is not None:
            p.check(sch.max_capacity >= 1, f"{w}.max_capacity", sch.max_capacity, ">= 1")
        if sch.min_capacity is not None and sch.max_capacity is not None:
            p.check(sch.min_capacity <= sch.max_capacity, f"{w}.min_capacity", sch.min_capacity, f"<= max_capacity ({sch.max_capacity})")


def _deployment(p: Problems, kind: EndpointKind, variants: Sequence[VariantSpec], d: DeploymentSpec) -> None:
    lo, hi = limits.CANARY_PERCENT
    p.check(lo <= d.canary_percent <= hi, "deployment.canary_percent", d.canary_percent, f"{lo}-{hi} % of the fleet")
    lo, hi = limits.STEP_PERCENT
    p.check(lo <= d.step_percent <= hi, "deployment.step_percent", d.step_percent, f"{lo}-{hi} %")
    lo, hi = limits.DEPLOYMENT_WAIT_MINUTES
    p.check(lo <= d.wait_minutes <= hi, "deployment.wait_minutes", d.wait_minutes, f"{lo}-{hi} minutes")
    p.check(
        lo <= d.termination_wait_minutes <= hi, "deployment.termination_wait_minutes", d.termination_wait_minutes,
        f"{lo}-{hi} minutes",
    )
    if d.max_execution_minutes is not None:
        lo, hi = limits.DEPLOYMENT_MAX_EXECUTION_MINUTES
        p.check(
            lo <= d.max_execution_minutes <= hi and d.max_execution_minutes > d.wait_minutes + d.termination_wait_minutes,
            "deployment.max_execution_minutes", d.max_execution_minutes,
            f"{lo}-{hi} minutes and more than wait_minutes + termination_wait_minutes",
        )
    if d.strategy is DeploymentStrategy.ROLLING:
        if traits_of(kind).rolling_update_not:  # "Deployment guardrails: Exclusions"
            p.add("deployment.strategy", d.strategy.value, f"blue/green on {_an_endpoint(kind)}: {traits_of(kind).rolling_update_not}")
        else:
            p.check(
                len(variants) == 1, "deployment.strategy", d.strategy.value,
                "rolling updates only for single-variant endpoints; use blue/green (all-at-once, canary, linear)",
            )
    if d.strategy is not DeploymentStrategy.ALL_AT_ONCE:
        inf1 = sorted({t for v in variants for t in v.instance_types if limits.instance_family(t) == "inf1"})
        if inf1:
            p.add(
                "deployment.strategy", d.strategy.value,
                f"all-at-once on {', '.join(inf1)}: Inf1 endpoints support only all-at-once blue/green updates",
            )


def _alarm_groups(kind: EndpointKind, variants: Sequence[VariantSpec]) -> int:
    """Alarms per invocation signal of the variants (``endpoint_signals.alarm_count``: 2 metrics each)."""
    return alarm_count(len(variants))


def validate_component(p: Problems, w: str, c: ComponentSpec, instance_types: Sequence[str]) -> None:
    """Checks of one inference component; ``instance_types`` are the hosting variant's (may be empty)."""
    p.check(bool(limits.NAME_PATTERN.match(c.name)), f"{w}.name", c.name, limits.NAME_RULE)
    check_model(p, f"{w}.model", c.model, multi_model=False)
    p.check(
        c.memory_mb >= MIN_COMPONENT_MEMORY_MB, f"{w}.memory_mb", c.memory_mb, f">= {MIN_COMPONENT_MEMORY_MB} MB (MinMemoryRequiredInMb)"
    )
    if c.accelerators is not None:
        p.check(c.accelerators >= 1, f"{w}.accelerators", c.accelerators, ">= 1 accelerator device")
        cpu_only = [t for t in instance_types if not limits.is_accelerated(t)]
        if cpu_only:
            p.add(f"{w}.accelerators", c.accelerators, f"none: the endpoint's {cpu_only[0]} has no accelerators")
    if c.cpu_cores is not None:
        p.check(c.cpu_cores >= MIN_COMPONENT_CPU_CORES, f"{w}.cpu_cores", c.cpu_cores, f">= {MIN_COMPONENT_CPU_CORES} cores")
    p.check(isinstance(c.copies, int) and c.copies >= 0, f"{w}.copies", c.copies, "an integer >= 0")
    check_timeouts(p, w, c)
    s = c.autoscaling
    if s is None:
        return
    a = f"{w}.autoscaling"
    p.check(s.min_copies >= 0, f"{a}.min_copies", s.min_copies, ">= 0")
    p.check(s.max_copies >= 1, f"{a}.max_copies", s.max_copies, ">= 1")
    p.check(s.min_copies <= s.max_copies, f"{a}.min_copies", s.min_copies, f"<= max_copies ({s.max_copies})")
    p.check(
        s.min_copies <= c.copies <= s.max_copies, f"{w}.copies", c.copies,
        f"between autoscaling.min_copies ({s.min_copies}) and max_copies ({s.max_copies})",
    )
    targets = [t for t in (s.target_concurrent_requests_per_copy, s.target_invocations_per_copy) if t is not None]
    if not targets and not s.schedules:
        p.add(a, "no target", "target_concurrent_requests_per_copy, target_invocations_per_copy, both, or a schedule")
    check_schedules(p, a, s.schedules, 0)
    for attr in ("target_concurrent_requests_per_copy", "target_invocations_per_copy"):
        value = getattr(s, attr)
        if value is not None:
            p.check(value > 0, f"{a}.{attr}", value, "> 0")
    for attr in ("scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
        lo, hi = COOLDOWN_S
        p.check(lo <= getattr(s, attr) <= hi, f"{a}.{attr}", getattr(s, attr), f"{lo}-{hi} seconds")
