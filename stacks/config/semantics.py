"""Rules that span several keys, checked after the schema passed. Each returns key-path problems."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from constructs_lib import limits
from constructs_lib.errors import Problem, Problems

from .lifecycle import lifecycle_problems
from .training import training_problems

if TYPE_CHECKING:
    from . import PlatformConfig
    from .endpoints import EndpointSection

# Endpoint kinds whose stacks exist today: every type the schema accepts.
SUPPORTED_ENDPOINT_TYPES = ("realtime", "serverless", "async", "inference-components", "multi-model")
# Sections whose capabilities arrive with later issues: accepted keys, refused values.
NOT_YET_SUPPORTED_SECTIONS: tuple[str, ...] = ()


def semantic_problems(config: PlatformConfig) -> list[Problem]:
    problems = Problems("config")
    _network(config, problems)
    names: dict[str, int] = {}
    for i, endpoint in enumerate(config.endpoints):
        where = f"endpoints[{i}]"
        if endpoint.name in names:
            problems.add(f"{where}.name", endpoint.name, f"a unique name (endpoints[{names[endpoint.name]}] has it)")
        names.setdefault(endpoint.name, i)
        full = f"{config.prefix}-{endpoint.name}"
        problems.check(
            len(full) <= 63, f"{where}.name", endpoint.name,
            f"a name short enough that '{full}' (platform-environment-name) has at most 63 characters",
        )
        _endpoint(endpoint, where, problems, full)
    for section in NOT_YET_SUPPORTED_SECTIONS:
        if getattr(config, section):
            problems.add(section, "(set)", "not supported yet: remove this section (it arrives with a later release)")
    problems.extend(lifecycle_problems(config))
    problems.extend(training_problems(config))
    return problems.items


def _network(config: PlatformConfig, problems: Problems) -> None:
    net = config.network
    needs_vpc = bool(config.training_clusters)  # HyperPod nodes and FSx live in the platform VPC
    if net is None:
        if needs_vpc:
            problems.add("network", None, "a network section (max_azs or vpc_id): training_clusters run in the platform VPC")
        return
    if (net.max_azs is None) == (net.vpc_id is None):
        problems.add("network", {"max_azs": net.max_azs, "vpc_id": net.vpc_id}, "exactly one of max_azs (new VPC) or vpc_id (existing VPC)")
        return
    if net.max_azs is not None:
        if net.availability_zones and len(net.availability_zones) != net.max_azs:
            problems.add("network.availability_zones", net.availability_zones, f"exactly max_azs ({net.max_azs}) zones")
        if config.platform.account and not net.availability_zones:
            problems.add(
                "network.availability_zones", [], "the zone names when platform.account is set (synth must not look them up)"
            )
        if net.private_subnet_ids:
            problems.add("network.private_subnet_ids", net.private_subnet_ids, "only with vpc_id (an existing VPC)")
    else:
        if not net.private_subnet_ids:
            problems.add("network.private_subnet_ids", [], "the existing VPC's private subnet ids (not looked up at synth)")
        if len(net.availability_zones) != len(net.private_subnet_ids):
            problems.add(
                "network.availability_zones", net.availability_zones,
                "one zone per private subnet id, in the same order",
            )
    if config.platform.region:
        for j, zone in enumerate(net.availability_zones):
            if not zone.startswith(config.platform.region):
                problems.add(f"network.availability_zones[{j}]", zone, f"a zone of platform.region {config.platform.region}")


# Keys of the single-model shorthand that ``variants`` replaces (set per variant instead).
_SHORTHAND_KEYS = (
    "model", "instance_type", "instance_count", "volume_size_gb", "container_startup_timeout_seconds",
    "model_download_timeout_seconds", "routing", "fallback_instance_types", "provision_timeout_seconds",
)
# Keys that belong to one endpoint type only.
_TYPE_ONLY_KEYS = {
    "variants": "realtime",
    "shadow_variants": "realtime",
    "serverless": "serverless",
    "async_inference": "async",
    "components": "inference-components",
}
# Autoscaling targets that exist per type (the metric each tracks), and the capacity floor.
_SCALING_TARGETS = {
    "realtime": ("target_invocations_per_instance", "target_concurrent_requests_per_model", "metric_targets"),
    "multi-model": ("target_invocations_per_instance", "target_concurrent_requests_per_model", "metric_targets"),
    "async": ("target_backlog_per_instance", "metric_targets"),
    "serverless": ("target_provisioned_concurrency_utilization",),
    "inference-components": (),
}
_ALL_TARGETS = (
    "target_invocations_per_instance", "target_concurrent_requests_per_model", "target_backlog_per_instance",
    "target_provisioned_concurrency_utilization", "metric_targets",
)


@cache
def time_zones() -> frozenset[str]:
    """IANA zone names known offline (the ``tzdata`` the interpreter ships with)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def component_physical_name(endpoint_physical_name: str, component: str) -> str:
    """``acme-ml-dev-llm-hosting`` + ``llama-8b``: inference component names are unique per region."""
    return f"{endpoint_physical_name}-{component}"


def _set(ep, key: str) -> bool:
    value = getattr(ep, key)
    return key in ep.model_fields_set and value not in (None, [], {}, False)


def _endpoint(ep: EndpointSection, where: str, problems: Problems, full_name: str) -> None:
    t = ep.type
    if t not in SUPPORTED_ENDPOINT_TYPES:
        problems.add(f"{where}.type", t, f"not supported yet; supported today: {', '.join(SUPPORTED_ENDPOINT_TYPES)}")
        return
    for key, only in _TYPE_ONLY_KEYS.items():
        if only != t and _set(ep, key):
            problems.add(f"{where}.{key}", "(set)", f"only for type {only}")
    # -- what hosts the model(s) ------------------------------------------------------------------
    if ep.variants:
        for key in _SHORTHAND_KEYS:
            if _set(ep, key):
                problems.add(f"{where}.{key}", "(set)", "set it per variant: variants replaces the single-model shorthand")
        names = [v.name for v in ep.variants] + [v.name for v in ep.shadow_variants]
        for j, name in enumerate(names):
            if name in names[:j]:
                problems.add(f"{where}.variants", name, "variant names unique within the endpoint (shadow variants included)")
    elif t == "inference-components":
        if ep.model is not None:
            problems.add(f"{where}.model", "(set)", "none on an inference-components endpoint: each of its components has a model")
        if ep.instance_type is None:
            problems.add(f"{where}.instance_type", None, "the instance type hosting the components")
        if not ep.components:
            problems.add(f"{where}.components", [], "at least one component (name, model, memory_mb)")
    elif t == "serverless":
        if ep.model is None:
            problems.add(f"{where}.model", None, "a model (image and model data) for type serverless")
        if ep.serverless is None:
            problems.add(f"{where}.serverless", None, "memory_mb and max_concurrency for a serverless endpoint")
        for key, why in (
            ("instance_type", "serverless endpoints have no instances (and no GPUs)"),
            ("instance_count", "serverless endpoints have no instances"),
            ("volume_size_gb", "serverless endpoints have no storage volume"),
            ("routing", "serverless endpoints have no instances to route between"),
            ("fallback_instance_types", "serverless endpoints have no instances"),
            ("provision_timeout_seconds", "serverless endpoints have no instances"),
            ("data_capture", "serverless endpoints support no data capture"),
        ):
            if _set(ep, key):
                problems.add(f"{where}.{key}", getattr(ep, key) if key != "data_capture" else "(set)", f"none on a serverless endpoint: {why}")
        if ep.network_isolation:
            problems.add(f"{where}.network_isolation", True, "false or unset: serverless endpoints support no network isolation")
    else:
        if ep.model is None:
            problems.add(f"{where}.model", None, f"a model (image and model data) for type {t}")
        if ep.instance_type is None:
            problems.add(f"{where}.instance_type", None, f"an instance type for type {t}")
    models = [("model", ep.model)] + [(f"variants[{j}].model", v.model) for j, v in enumerate(ep.variants)]
    models += [(f"shadow_variants[{j}].model", v.model) for j, v in enumerate(ep.shadow_variants)]
    models += [(f"components[{j}].model", c.model) for j, c in enumerate(ep.components)]
    for key, model in models:
        if model is None:
            continue
        if t == "multi-model":
            if model.model_data_prefix is None:
                problems.add(f"{where}.{key}.model_data_prefix", None, "the S3 prefix holding the models of a multi-model endpoint")
            elif not model.model_data_prefix.endswith("/"):
                problems.add(f"{where}.{key}.model_data_prefix", model.model_data_prefix, "an S3 prefix ending with '/'")
            if model.model_data_url is not None:
                problems.add(f"{where}.{key}.model_data_url", model.model_data_url, "none on a multi-model endpoint: use model_data_prefix")
        elif model.model_data_prefix is not None:
            problems.add(f"{where}.{key}.model_data_prefix", model.model_data_prefix, "only for type multi-model")
    if ep.serverless is not None and ep.serverless.provisioned_concurrency is not None:
        problems.check(
            ep.serverless.provisioned_concurrency <= ep.serverless.max_concurrency, f"{where}.serverless.provisioned_concurrency",
            ep.serverless.provisioned_concurrency, f"at most max_concurrency ({ep.serverless.max_concurrency})",
        )
    if ep.shadow_variants:
        production = len(ep.variants) or 1
        problems.check(
            production == 1 and len(ep.shadow_variants) == 1, f"{where}.shadow_variants", len(ep.shadow_variants),
            f"exactly one shadow variant next to exactly one production variant (got {production}): "
            "SageMaker allows one of each when shadow variants are set",
        )
    # (path, instance_count, instance types) of every instance-based variant
    hosts = (
        [(f"{where}.variants[{j}]", v.instance_count, [v.instance_type, *v.fallback_instance_types]) for j, v in enumerate(ep.variants)]
        if ep.variants
        else [(where, ep.instance_count, [ep.instance_type, *ep.fallback_instance_types])] if ep.instance_type else []
    )
    shadow_types = [x for v in ep.shadow_variants for x in (v.instance_type, *v.fallback_instance_types)]
    all_types = [x for _, _, types in hosts for x in types] + shadow_types
    if ep.shadow_variants and any(limits.instance_family(x) == "inf1" for x in all_types):
        problems.add(f"{where}.shadow_variants", "(set)", "no shadow variants on Inf1 instances (SageMaker excludes them from shadow tests)")
    for j, c in enumerate(ep.components):
        w = f"{where}.components[{j}]"
        if c.name in [d.name for d in ep.components[:j]]:
            problems.add(f"{w}.name", c.name, "a component name unique within the endpoint")
        physical = component_physical_name(full_name, c.name)
        problems.check(
            len(physical) <= 63, f"{w}.name", c.name,
            f"a name short enough that '{physical}' (endpoint-component) has at most 63 characters",
        )
        if c.accelerators and ep.instance_type and not limits.is_accelerated(ep.instance_type):
            problems.add(f"{w}.accelerators", c.accelerators, f"none: {ep.instance_type} has no accelerators")
        if c.autoscaling is not None:
            a = c.autoscaling
            problems.check(a.min_copies <= a.max_copies, f"{w}.autoscaling.min_copies", a.min_copies, f"at most max_copies ({a.max_copies})")
            problems.check(
                a.min_copies <= c.copies <= a.max_copies, f"{w}.copies", c.copies,
                f"between autoscaling.min_copies ({a.min_copies}) and autoscaling.max_copies ({a.max_copies})",
            )
            if a.target_concurrent_requests_per_copy is None and a.target_invocations_per_copy is None and not a.schedules:
                problems.add(
                    f"{w}.autoscaling", "no target",
                    "target_concurrent_requests_per_copy, target_invocations_per_copy, both, or a schedule",
                )
            _schedules(problems, f"{w}.autoscaling", a.schedules, 0)
    _autoscaling(ep, where, problems, hosts)
    dep = ep.deployment
    if dep is not None:
        d = f"{where}.deployment"
        if dep.max_execution_minutes is not None:
            problems.check(
                dep.max_execution_minutes > dep.wait_minutes + dep.termination_wait_minutes,
                f"{d}.max_execution_minutes", dep.max_execution_minutes,
                "greater than wait_minutes + termination_wait_minutes",
            )
        if t == "inference-components":
            problems.add(f"{d}", dep.strategy, "none on an inference-components endpoint: its components roll their copies on update")
        elif dep.strategy == "rolling":
            if t == "serverless":
                problems.add(f"{d}.strategy", dep.strategy, "blue/green on a serverless endpoint: rolling updates need instances")
            elif len(ep.variants) > 1:
                problems.add(f"{d}.strategy", dep.strategy, "rolling updates only for single-variant endpoints; use all-at-once, canary or linear")
        if dep.strategy != "all-at-once" and any(limits.instance_family(x) == "inf1" for x in all_types):
            problems.add(f"{d}.strategy", dep.strategy, "all-at-once: Inf1 endpoints support only all-at-once blue/green updates")
    al = ep.alarms
    problems.check(
        al.datapoints_to_alarm <= al.evaluation_periods, f"{where}.alarms.datapoints_to_alarm",
        al.datapoints_to_alarm, f"at most evaluation_periods ({al.evaluation_periods})",
    )


def _autoscaling(ep: EndpointSection, where: str, problems: Problems, hosts: list) -> None:
    scaling = ep.autoscaling
    if scaling is None:
        return
    t = ep.type
    s = f"{where}.autoscaling"
    floor = 0 if t in ("async", "inference-components") else 1
    floor_why = {
        "async": "at least 0",
        "inference-components": "at least 0 (managed instance scaling may scale to zero)",
        "serverless": "at least 1 provisioned concurrency",
    }.get(t, "at least 1 for an instance-based real-time endpoint")
    problems.check(scaling.min >= floor, f"{s}.min", scaling.min, floor_why)
    problems.check(scaling.min <= scaling.max, f"{s}.min", scaling.min, f"at most max ({scaling.max})")
    if t == "serverless":
        prov = ep.serverless.provisioned_concurrency if ep.serverless else None
        if prov is None:
            problems.add(f"{where}.serverless.provisioned_concurrency", None, "a provisioned concurrency: a serverless endpoint autoscales it")
        else:
            problems.check(
                scaling.min <= prov <= scaling.max, f"{where}.serverless.provisioned_concurrency", prov,
                f"between autoscaling.min ({scaling.min}) and autoscaling.max ({scaling.max})",
            )
        if ep.serverless is not None:
            problems.check(
                scaling.max <= ep.serverless.max_concurrency, f"{s}.max", scaling.max,
                f"at most serverless.max_concurrency ({ep.serverless.max_concurrency})",
            )
    for path, count, types in hosts:
        problems.check(
            scaling.min <= count <= scaling.max, f"{path}.instance_count", count,
            f"between autoscaling.min ({scaling.min}) and autoscaling.max ({scaling.max})",
        )
        burstable = [x for x in types if x and limits.is_burstable(x)]
        if burstable:
            problems.add(s, burstable[0], "no autoscaling on burstable ml.t* instances (Application Auto Scaling refuses them)")
    allowed = _SCALING_TARGETS[t]
    targets = 0
    for key in _ALL_TARGETS:
        value = getattr(scaling, key)
        if not value:
            continue
        targets += 1
        if key not in allowed:
            why = (
                "copies scale per component (components[].autoscaling); min/max set managed instance scaling"
                if t == "inference-components" else f"use {' or '.join(allowed)}"
            )
            problems.add(f"{s}.{key}", value, f"not for type {t}: {why}")
    if t == "inference-components":
        for key in ("schedules", "scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
            if key in scaling.model_fields_set:
                problems.add(
                    f"{s}.{key}", "(set)",
                    "not for type inference-components: managed instance scaling takes only min and max "
                    "(schedules and cooldowns go to components[].autoscaling)",
                )
    elif targets == 0 and not scaling.schedules:
        problems.add(f"{s}.{allowed[0]}", None, f"a target for type {t} ({', '.join(allowed)}) or a schedule")
    accelerated = any(limits.is_accelerated(x) for _, _, types in hosts for x in types if x)
    for j, m in enumerate(scaling.metric_targets):
        w = f"{s}.metric_targets[{j}]"
        if m.metric.startswith("GPU") and not accelerated:
            problems.add(f"{w}.metric", m.metric, "a CPU metric: the endpoint's instance types have no GPUs")
        if m.metric in ("MemoryUtilization", "DiskUtilization"):
            problems.check(m.target <= 100, f"{w}.target", m.target, "a percentage in (0, 100]")
    _schedules(problems, s, scaling.schedules, floor)


def _schedules(problems: Problems, s: str, schedules: list, floor: int) -> None:
    names: list[str] = []
    for j, sch in enumerate(schedules):
        w = f"{s}.schedules[{j}]"
        if sch.name in names:
            problems.add(f"{w}.name", sch.name, "a schedule name unique within the endpoint")
        names.append(sch.name)
        if sch.time_zone is not None:
            problems.check(sch.time_zone in time_zones(), f"{w}.time_zone", sch.time_zone, "an IANA time zone such as Europe/Berlin")
        if sch.min is None and sch.max is None:
            problems.add(w, sch.name, "min, max or both")
        if sch.min is not None:
            problems.check(sch.min >= floor, f"{w}.min", sch.min, f"at least {floor}")
            if sch.max is not None:
                problems.check(sch.min <= sch.max, f"{w}.min", sch.min, f"at most max ({sch.max})")
