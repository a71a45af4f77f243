"""Rules that exist only in the config, checked after the schema passed. Each returns key-path problems.

Only what the constructs cannot know lives here: unique names across entries, physical name lengths
(the config builds ``<platform>-<environment>-<name>``) and references between sections. Which keys
each endpoint type has is the schema's (one model per type); every endpoint rule proper is the library's
(see ``endpoints``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.errors import Problem, Problems

from ..naming import physical_name
from .endpoints import (
    EndpointSection,
    InferenceComponentsEndpoint,
    component_physical_name,
    component_sections,
    endpoint_rule_problems,
    variant_sections,
)
from .lifecycle import lifecycle_problems
from .training import training_problems

if TYPE_CHECKING:
    from . import PlatformConfig

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
        problems.extend(endpoint_problems(config.prefix, where, endpoint))
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


def _set(ep, key: str) -> bool:
    value = getattr(ep, key)
    return key in ep.model_fields_set and value not in (None, [], {}, False)


def endpoint_problems(prefix: str | None, where: str, ep: EndpointSection) -> list[Problem]:
    """Every problem of one endpoint entry: the config-only rules below, then the library's rules.

    ``prefix`` (``acme-ml-dev``) is None when the platform section itself is invalid: the physical
    name lengths are then not checked (the rules run on the bare name).
    """
    problems = Problems("config")
    full = physical_name(prefix, ep.name) if prefix is not None else ep.name
    if prefix is not None:
        problems.check(
            len(full) <= 63, f"{where}.name", ep.name,
            f"a name short enough that '{full}' (platform-environment-name) has at most 63 characters",
        )
    # Which keys each type has is the schema's (one model per type: an other type's key is unknown there).
    if variant_sections(ep):
        for key in _SHORTHAND_KEYS:
            if _set(ep, key):
                problems.add(f"{where}.{key}", "(set)", "set it per variant: variants replaces the single-model shorthand")
    if isinstance(ep, InferenceComponentsEndpoint) and not ep.components:
        problems.add(f"{where}.components", [], "at least one component (name, model, memory_mb)")
    for j, c in enumerate(component_sections(ep)):
        physical = component_physical_name(full, c.name)
        if prefix is not None:
            problems.check(
                len(physical) <= 63, f"{where}.components[{j}].name", c.name,
                f"a name short enough that '{physical}' (endpoint-component) has at most 63 characters",
            )
    # Without a valid platform section the rules run on a stand-in prefix (the lengths were skipped above).
    return problems.items + endpoint_rule_problems(prefix if prefix is not None else "platform-env", where, ep)
