"""Environments: a base config plus per-environment overlays, and the rules ``prod`` enforces.

Merge (``extends: base.yaml`` in an overlay, a path relative to the overlay; chains allowed):
mappings merge key by key, recursively; every other value of the overlay (lists included) replaces
the base's value; ``null`` replaces too (the merged file reads as if written in one piece). The
merged data is validated as a whole, so a key path in an error is the same as in a single file.

``prod`` is stricter in two ways:

* **defaults** filled in before validation where a key is left out: 2 instances per real-time
  variant, canary deployment guardrails with rollback alarms on real-time endpoints, a 99.9 %
  availability SLO on customer-facing endpoints, termination protection on every stack;
* **refusals** of a config that weakens them explicitly, each under a named rule
  (:data:`PROD_RULES`), unless ``prod_overrides: [{rule, reason}]`` names the rule with a reason;
  synth prints every override in use.

Data is retained in every environment (buckets, keys, file systems, repositories, model package
groups carry ``Retain`` unconditionally): no key weakens it, so it needs no rule here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.errors import PlatformValidationError, Problem

from .endpoints import variant_sections

if TYPE_CHECKING:
    from . import PlatformConfig

EXTENDS_KEY = "extends"

# rule name -> what prod requires (the text of the refusal)
PROD_RULES: dict[str, str] = {
    "realtime-two-instances": "at least 2 instances per real-time variant (instance_count and autoscaling minimums)",
    "deployment-guardrails": "deployment guardrails with rollback alarms on real-time endpoints "
    "(a deployment section with rollback_alarms: true and at least one rollback signal)",
    "slo-customer-facing": "an slo on every customer-facing endpoint (customer_facing defaults to true for realtime)",
    "termination-protection": "termination protection on every stack (platform.termination_protection: true)",
}
PROD_DEFAULT_INSTANCES = 2
PROD_DEFAULT_SLO = {"availability_percent": 99.9}
# Real-time endpoints: the kinds whose variants serve synchronous traffic on instances.
_REALTIME_KINDS = ("realtime", "multi-model")


def deep_merge(base: Any, overlay: Any) -> Any:
    """Mappings merge recursively; anything else in ``overlay`` (lists, scalars, null) replaces ``base``."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overlay)


def read_yaml(path: Path) -> Any:
    """The YAML document at ``path``; a missing file or bad YAML is a PlatformValidationError."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlatformValidationError(str(path), [Problem("(file)", str(path), f"a readable YAML file ({err.strerror})")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise PlatformValidationError(str(path), [Problem(where, None, f"valid YAML ({getattr(err, 'problem', err)})")]) from None


def load_merged(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> Any:
    """The YAML at ``path`` merged onto the file its ``extends`` key names (recursively)."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict) or EXTENDS_KEY not in data:
        return data
    data = dict(data)
    parent = data.pop(EXTENDS_KEY)
    if not isinstance(parent, str) or not parent.strip():
        raise PlatformValidationError(str(path), [Problem(EXTENDS_KEY, parent, "the path of the base config, relative to this file")])
    parent_path = (path.parent / parent).resolve()
    chain = (*_chain, path.resolve())
    if parent_path in chain:
        loop = " -> ".join(p.name for p in (*chain, parent_path))
        raise PlatformValidationError(str(path), [Problem(EXTENDS_KEY, parent, f"a base that does not extend this file again ({loop})")])
    return deep_merge(load_merged(parent_path, _chain=chain), data)


def environment_of(data: Any) -> str | None:
    platform = data.get("platform") if isinstance(data, dict) else None
    return platform.get("environment") if isinstance(platform, dict) else None


def apply_environment_defaults(data: Any) -> Any:
    """``prod``: fill the stricter defaults into keys the config leaves out (a copy; others unchanged)."""
    if environment_of(data) != "prod":
        return data
    data = copy.deepcopy(data)
    data["platform"].setdefault("termination_protection", True)
    for ep in data.get("endpoints") or []:
        if not isinstance(ep, dict):
            continue
        kind = ep.get("type", "realtime")
        if kind in _REALTIME_KINDS:
            variants = ep.get("variants")
            if isinstance(variants, list) and variants:
                for variant in variants:
                    if isinstance(variant, dict):
                        variant.setdefault("instance_count", PROD_DEFAULT_INSTANCES)
            elif ep.get("instance_type") is not None:
                ep.setdefault("instance_count", PROD_DEFAULT_INSTANCES)
        if kind == "realtime":
            ep.setdefault("deployment", {})  # canary with rollback alarms: DeploymentSection's defaults
        if _customer_facing(kind, ep.get("customer_facing")):
            ep.setdefault("slo", dict(PROD_DEFAULT_SLO))
    return data


def _customer_facing(kind: str, declared: Any) -> bool:
    return bool(declared) if declared is not None else kind == "realtime"


def prod_violations(config: PlatformConfig) -> dict[str, list[tuple[str, Any]]]:
    """Rule -> [(key path, value)] of every place a prod config is weaker than the rule."""
    found: dict[str, list[tuple[str, Any]]] = {rule: [] for rule in PROD_RULES}
    if config.platform.termination_protection is False:
        found["termination-protection"].append(("platform.termination_protection", False))
    for i, ep in enumerate(config.endpoints):
        where = f"endpoints[{i}]"
        if ep.type in _REALTIME_KINDS:
            hosts = (
                [(f"{where}.variants[{j}].instance_count", v.instance_count) for j, v in enumerate(variant_sections(ep))]
                if variant_sections(ep) else [(f"{where}.instance_count", ep.instance_count)]
            )
            for path, count in hosts:
                if count < PROD_DEFAULT_INSTANCES:
                    found["realtime-two-instances"].append((path, count))
            if ep.autoscaling is not None:
                if ep.autoscaling.min < PROD_DEFAULT_INSTANCES:
                    found["realtime-two-instances"].append((f"{where}.autoscaling.min", ep.autoscaling.min))
                for j, schedule in enumerate(ep.autoscaling.schedules):
                    if schedule.min is not None and schedule.min < PROD_DEFAULT_INSTANCES:
                        found["realtime-two-instances"].append((f"{where}.autoscaling.schedules[{j}].min", schedule.min))
        if ep.type == "realtime":
            if ep.deployment is None:
                found["deployment-guardrails"].append((f"{where}.deployment", None))
            elif not ep.deployment.rollback_alarms:
                found["deployment-guardrails"].append((f"{where}.deployment.rollback_alarms", False))
            elif ep.deployment.rollback_signals == []:  # no signal watched: no rollback alarm either
                found["deployment-guardrails"].append((f"{where}.deployment.rollback_signals", []))
        if _customer_facing(ep.type, ep.customer_facing) and ep.slo is None:
            found["slo-customer-facing"].append((f"{where}.slo", None))
    return {rule: places for rule, places in found.items() if places}


def environment_problems(config: PlatformConfig) -> list[Problem]:
    """Prod refusals not covered by an override, overrides outside prod, and overrides nothing needs."""
    problems: list[Problem] = []
    overridden = {o.rule for o in config.prod_overrides}
    if config.platform.environment != "prod":
        for j, o in enumerate(config.prod_overrides):
            problems.append(Problem(f"prod_overrides[{j}]", o.rule, "prod_overrides only in a prod config (platform.environment: prod)"))
        return problems
    violations = prod_violations(config)
    for rule, places in violations.items():
        if rule in overridden:
            continue
        for path, value in places:
            problems.append(Problem(
                path, value,
                f"prod rule '{rule}' requires {PROD_RULES[rule]}; to accept this, add "
                f"prod_overrides: [{{rule: {rule}, reason: ...}}]",
            ))
    seen: set[str] = set()
    for j, o in enumerate(config.prod_overrides):
        if o.rule in seen:
            problems.append(Problem(f"prod_overrides[{j}].rule", o.rule, "each rule overridden once"))
        seen.add(o.rule)
        if o.rule not in violations:
            problems.append(Problem(
                f"prod_overrides[{j}].rule", o.rule, "a rule this config breaks (it keeps this one: remove the override)"
            ))
    return problems


def override_report(config: PlatformConfig) -> list[str]:
    """One line per prod override in use, for synth to print."""
    return [f"prod override '{o.rule}' ({PROD_RULES[o.rule]}): {o.reason}" for o in config.prod_overrides]
