"""Rules that span several keys, checked after the schema passed. Each returns key-path problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib import limits
from constructs_lib.errors import Problem, Problems

if TYPE_CHECKING:
    from . import PlatformConfig
    from .endpoints import EndpointSection

# Endpoint kinds whose stacks exist today; the others are validated by the schema and refused here.
SUPPORTED_ENDPOINT_TYPES = ("realtime",)
# Sections whose capabilities arrive with later issues: accepted keys, refused values.
NOT_YET_SUPPORTED_SECTIONS = ("training_clusters", "lifecycle", "budgets")


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
        _endpoint(endpoint, where, problems)
    for section in NOT_YET_SUPPORTED_SECTIONS:
        if getattr(config, section):
            problems.add(section, "(set)", "not supported yet: remove this section (it arrives with a later release)")
    return problems.items


def _network(config: PlatformConfig, problems: Problems) -> None:
    net = config.network
    needs_vpc = False  # later: training clusters and VPC-placed endpoints need one
    if net is None:
        if needs_vpc:
            problems.add("network", None, "a network section (max_azs or vpc_id)")
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


def _endpoint(ep: EndpointSection, where: str, problems: Problems) -> None:
    if ep.type not in SUPPORTED_ENDPOINT_TYPES:
        problems.add(f"{where}.type", ep.type, f"not supported yet; supported today: {', '.join(SUPPORTED_ENDPOINT_TYPES)}")
        return
    for key in ("variants", "shadow_variants", "components"):
        if getattr(ep, key):
            problems.add(f"{where}.{key}", "(set)", "not supported yet: use model/instance_type/instance_count")
    for key in ("serverless", "async_inference"):
        if getattr(ep, key) is not None:
            problems.add(f"{where}.{key}", "(set)", f"only for type {key.replace('_inference', '')} (not supported yet)")
    if ep.model is None:
        problems.add(f"{where}.model", None, "a model (image and model_data_url) for a realtime endpoint")
    elif ep.model.model_data_prefix is not None:
        problems.add(f"{where}.model.model_data_prefix", ep.model.model_data_prefix, "only for type multi-model")
    if ep.instance_type is None:
        problems.add(f"{where}.instance_type", None, "an instance type for a realtime endpoint")
    scaling = ep.autoscaling
    if scaling is not None:
        s = f"{where}.autoscaling"
        problems.check(scaling.min >= 1, f"{s}.min", scaling.min, "at least 1 for an instance-based real-time endpoint")
        problems.check(scaling.min <= scaling.max, f"{s}.min", scaling.min, f"at most max ({scaling.max})")
        problems.check(
            scaling.min <= ep.instance_count <= scaling.max, f"{where}.instance_count", ep.instance_count,
            f"between autoscaling.min ({scaling.min}) and autoscaling.max ({scaling.max})",
        )
        if ep.instance_type and limits.is_burstable(ep.instance_type):
            problems.add(s, ep.instance_type, "no autoscaling on burstable ml.t* instances (Application Auto Scaling refuses them)")
        if scaling.target_invocations_per_instance is None:
            problems.add(f"{s}.target_invocations_per_instance", None, "a target for a realtime endpoint")
        if scaling.target_backlog_per_instance is not None:
            problems.add(f"{s}.target_backlog_per_instance", scaling.target_backlog_per_instance, "only for type async")
    dep = ep.deployment
    if dep is not None:
        d = f"{where}.deployment"
        if dep.max_execution_minutes is not None:
            problems.check(
                dep.max_execution_minutes > dep.wait_minutes + dep.termination_wait_minutes,
                f"{d}.max_execution_minutes", dep.max_execution_minutes,
                "greater than wait_minutes + termination_wait_minutes",
            )
    al = ep.alarms
    problems.check(
        al.datapoints_to_alarm <= al.evaluation_periods, f"{where}.alarms.datapoints_to_alarm",
        al.datapoints_to_alarm, f"at most evaluation_periods ({al.evaluation_periods})",
    )
