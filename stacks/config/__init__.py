"""The platform config contract: YAML validated by pydantic v2 before any construct is created.

``load_config(path)`` merges an overlay onto the base its ``extends`` key names, fills the
environment's defaults (``prod`` is stricter, see :mod:`.environments`) and returns a
:class:`PlatformConfig` or raises
:class:`constructs_lib.errors.PlatformValidationError` naming every problem: file, key path
(``endpoints[1].autoscaling.max``), the value received and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError

from constructs_lib.errors import PlatformValidationError, Problem

from ..naming import PlatformNames
from .base import Section
from .budgets import BudgetsSection, budgets_problems
from .endpoints import ENDPOINT_ADAPTER, ENDPOINT_TYPES, KIND_SECTIONS, REPLACED_KEYS, EndpointSection
from .environments import PROD_RULES, apply_environment_defaults, environment_problems, load_merged
from .lifecycle import LifecycleSection
from .observability import ObservabilitySection, observability_problems
from .platform import NetworkSection, NotificationsSection, PlatformSection
from .regions import region_problems
from .semantics import endpoint_problems, semantic_problems
from .training import TrainingClusterSection, TrainingPipelineSection, TrainingSection

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


ProdRule = Literal[tuple(PROD_RULES)]  # type: ignore[valid-type]


class ProdOverride(Section):
    """A prod rule this config deliberately breaks, and why (printed at synth)."""

    rule: ProdRule = Field(description="One of " + ", ".join(PROD_RULES) + ".")
    reason: Annotated[str, StringConstraints(min_length=10, max_length=500)] = Field(
        description="Why prod may break the rule here (at least 10 characters)."
    )


class InferenceSection(Section):
    """Where the endpoints' shard stacks are (see README "Endpoint shards")."""

    shards: int = Field(
        default=1, ge=1, le=100,
        description="Stacks the endpoints without a stack key are hashed into (stable per name): <prefix>-inference, "
        "<prefix>-inference-2, ... Fixed once chosen: raising it moves the endpoints the new shards take (delete + create).",
    )


class PlatformConfig(Section):
    platform: PlatformSection
    notifications: NotificationsSection = Field(default_factory=NotificationsSection)
    network: NetworkSection | None = None
    training_clusters: list[TrainingClusterSection] = Field(default_factory=list)
    training: TrainingSection | None = None
    training_pipelines: list[TrainingPipelineSection] = Field(default_factory=list)
    inference: InferenceSection = Field(default_factory=InferenceSection)
    endpoints: list[EndpointSection] = Field(default_factory=list)
    lifecycle: LifecycleSection = Field(default_factory=LifecycleSection)
    budgets: BudgetsSection | None = None
    observability: ObservabilitySection | None = None
    prod_overrides: list[ProdOverride] = Field(default_factory=list)

    @property
    def prefix(self) -> str:
        """``acme-ml-dev``: the prefix of stack names and physical names (``PlatformNames.prefix``)."""
        return PlatformNames.of(self).prefix


def _endpoint_tag(loc: tuple[Any, ...], i: int) -> bool:
    """Whether ``loc[i]`` is the kind pydantic's discriminated union puts after ``endpoints[n]``."""
    return i >= 2 and loc[i - 2] == "endpoints" and isinstance(loc[i - 1], int) and loc[i] in ENDPOINT_TYPES


def format_location(loc: tuple[Any, ...]) -> str:
    """``("endpoints", 1, "async", "autoscaling", "max")`` -> ``endpoints[1].autoscaling.max``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "[key]") or str(part).startswith("function-") or _endpoint_tag(loc, i):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _endpoint_type(loc: tuple[Any, ...]) -> str | None:
    """The kind of the endpoint entry ``loc`` lies in (``endpoints``, n, kind, ...), if it does."""
    return loc[2] if len(loc) > 2 and _endpoint_tag(loc, 2) else None


def _parent_model(model: type[Section], loc: tuple[Any, ...]) -> Any:
    """The model found by walking ``loc`` (the location of the unknown key's parent), if any."""
    import typing

    current: Any = model
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if _endpoint_tag(loc, i):
            current = ENDPOINT_TYPES[part]
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        current = fields[part].annotation
        # unwrap Optional[...] / list[...]
        for _ in range(3):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if hasattr(current, "model_fields") or not args:
                break
            current = args[0]
    return current if hasattr(current, "model_fields") else None


def _problems_from_pydantic(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        where = format_location(loc)
        if e["type"] == "extra_forbidden":
            parent = _parent_model(PlatformConfig, loc[:-1])
            allowed = sorted(parent.model_fields) if parent is not None else None
            hint = f"allowed keys: {', '.join(allowed)}" if allowed else "remove it"
            close = difflib.get_close_matches(str(loc[-1]), allowed or [], n=1)
            if close:
                hint = f"did you mean '{close[0]}'? {hint}"
            if len(loc) >= 2 and (loc[-2], loc[-1]) in REPLACED_KEYS:
                hint = f"replaced by {REPLACED_KEYS[loc[-2], loc[-1]]}"
            # A key of the entry itself, or of a section whose keys depend on the type: "for type <kind>".
            kind = _endpoint_type(loc)
            if kind and (len(loc) == 4 or parent in KIND_SECTIONS):
                note = KIND_SECTIONS.get(parent)
                problems.append(Problem(where, e["input"], f"unknown key for type {kind}{f' ({note})' if note else ''}; {hint}"))
            else:
                problems.append(Problem(where, e["input"], f"unknown key; {hint}"))
        elif e["type"] == "missing":
            problems.append(Problem(where, None, "required key is missing"))
        elif e["type"] == "union_tag_invalid":  # endpoints[i].type names no kind
            given = e["input"].get("type") if isinstance(e["input"], dict) else e["ctx"]["tag"]
            problems.append(Problem(f"{where}.type", given, "one of " + ", ".join(ENDPOINT_TYPES)))
        else:
            msg = e["msg"]
            msg = msg.removeprefix("Value error, ")
            problems.append(Problem(where, e["input"], msg))
    return problems


def _without(entry: Any, locations: list[tuple[Any, ...]]) -> Any:
    """A copy of ``entry`` without the (unknown) keys at ``locations``."""
    entry = copy.deepcopy(entry)
    for loc in locations:
        node = entry
        for part in loc[:-1]:
            node = node[part]
        node.pop(loc[-1], None)
    return entry


def _entry_rule_problems(data: dict[str, Any], err: ValidationError) -> list[Problem]:
    """The rules of every endpoint entry whose schema passed, while another part of the file failed it.

    One entry's schema errors never hide another entry's rule errors: each entry is validated on its
    own, and an entry whose only schema errors are unknown keys is checked without them (they are
    reported already). Rules that span entries or sections wait until the whole schema passes.
    """
    entries = data.get("endpoints")
    if not isinstance(entries, list):
        return []
    by_entry: dict[int, list[dict[str, Any]]] = {}
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        if len(loc) >= 2 and loc[0] == "endpoints" and isinstance(loc[1], int):
            by_entry.setdefault(loc[1], []).append(e)
    # the key path inside the entry: after endpoints, n and the kind
    inside = {i: [tuple(e["loc"][3:]) for e in errors if _endpoint_type(tuple(e["loc"]))] for i, errors in by_entry.items()}
    try:
        platform = PlatformSection.model_validate(data.get("platform"))
        prefix: str | None = PlatformNames(platform.name, platform.environment).prefix
    except ValidationError:
        prefix = None
    problems: list[Problem] = []
    for i, raw in enumerate(entries):
        errors = by_entry.get(i, [])
        if any(e["type"] != "extra_forbidden" for e in errors):
            continue
        try:
            entry = ENDPOINT_ADAPTER.validate_python(_without(raw, inside.get(i, [])))
        except (ValidationError, KeyError, IndexError, TypeError):
            continue
        problems.extend(endpoint_problems(prefix, f"endpoints[{i}]", entry))
    return problems


def parse_config(data: Any, *, source: str = "config") -> PlatformConfig:
    """Validate already-loaded YAML data; raises PlatformValidationError listing every problem."""
    if not isinstance(data, dict):
        raise PlatformValidationError(source, [Problem("(top level)", type(data).__name__, "a mapping of sections")])
    data = apply_environment_defaults(data)
    try:
        config = PlatformConfig.model_validate(data)
    except ValidationError as err:
        raise PlatformValidationError(source, _problems_from_pydantic(err) + _entry_rule_problems(data, err)) from None
    problems = semantic_problems(config) + environment_problems(config) + budgets_problems(config) + region_problems(config)
    problems += observability_problems(config)
    if problems:
        raise PlatformValidationError(source, problems)
    return config


def load_config(path: str | Path = DEFAULT_CONFIG) -> PlatformConfig:
    """Read, merge (``extends``), fill environment defaults and validate the config at ``path``."""
    return parse_config(load_merged(path), source=str(path))


def merged_config_data(path: str | Path) -> Any:
    """The merged data of ``path`` with its environment's defaults filled in, before validation."""
    return apply_environment_defaults(load_merged(path))


__all__ = [
    "DEFAULT_CONFIG", "PlatformConfig", "ProdOverride", "format_location", "load_config", "merged_config_data",
    "parse_config",
]
