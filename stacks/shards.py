"""Endpoint shards: which stack each endpoint lives in, and the size check every shard passes at synth.

Placement is a pure function of the endpoint's own entry, never of the list around it, so adding,
removing or reordering endpoints moves no other endpoint (moving one means deleting and re-creating
an endpoint whose physical name is fixed, which CloudFormation cannot do in one deploy):

* ``endpoints[].stack: <key>`` -> stack ``<prefix>-inference-<key>`` (a team, a product line);
* no key -> one of ``inference.shards`` hash shards, chosen by rendezvous (highest random weight)
  hashing of the endpoint's config name with SHA-256 (stable across processes and machines, unlike
  Python's ``hash()``): shard 1 is ``<prefix>-inference`` (the single inference stack of earlier
  versions keeps its name and its endpoints), shard ``k`` is ``<prefix>-inference-<k>``. Raising the
  shard count moves only the endpoints the new shards win (about ``(new - old) / new`` of them);
  shrinking it moves only the endpoints of the removed shards.

The config name (not the physical name) is hashed, so dev, staging and prod place an endpoint alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from .config import PlatformConfig
from .naming import shard_stack_name

# CloudFormation quotas (AWS CloudFormation User Guide, "Understand CloudFormation quotas"): 500
# resources per stack; 1 MB for a template body uploaded to S3 (the CDK CLI uploads every template).
RESOURCE_LIMIT = 500
TEMPLATE_BYTES_LIMIT = 1_000_000
# A shard is refused above this share of either limit: headroom for the next endpoint and for CDK.
SHARD_BUDGET = 0.8
RULE = "ShardSize"
PLUGIN_NAME = "endpoint-shards"


@dataclass(frozen=True)
class Shard:
    """One shard stack: ``key`` is ``endpoints[].stack``'s value, or the hash shard's number (``"1"`` ...)."""

    key: str
    stack_name: str
    explicit: bool

    label = "endpoint shard"

    @property
    def hint(self) -> str:
        """The config key that changes this shard's size."""
        if self.explicit:
            return (f"give some of its endpoints another endpoints[].stack than '{self.key}' "
                    "(each moved endpoint is deleted and re-created)")
        return ("give new endpoints an endpoints[].stack key (moves nothing), or raise inference.shards "
                "(moves the endpoints the new shards take: each is deleted and re-created)")


def hash_shard(name: str, shards: int) -> int:
    """The shard (1..``shards``) of endpoint ``name``: the highest SHA-256 score of ``name`` and a shard."""
    return max(range(1, shards + 1), key=lambda k: hashlib.sha256(f"{name}\n{k}".encode()).digest())


def place(prefix: str, name: str, stack: str | None, shards: int) -> Shard:
    """The shard of one endpoint, from its own name and ``stack`` key only."""
    key = stack if stack is not None else str(hash_shard(name, shards))
    return Shard(key=key, stack_name=shard_stack_name(prefix, key), explicit=stack is not None)


def placement(config: PlatformConfig) -> dict[str, Shard]:
    """Config endpoint name -> its shard, for every endpoint of ``config``."""
    return {ep.name: place(config.prefix, ep.name, ep.stack, config.inference.shards) for ep in config.endpoints}


def shards_in_order(config: PlatformConfig) -> list[tuple[Shard, list]]:
    """The shards that hold endpoints with their entries (config order): hash shards by number, then
    explicit keys alphabetically (the order only names stacks in listings, never decides a placement)."""
    where = placement(config)
    shards: dict[Shard, list] = {}
    for ep in config.endpoints:
        shards.setdefault(where[ep.name], []).append(ep)
    return sorted(shards.items(), key=lambda item: (item[0].explicit, int(item[0].key) if not item[0].explicit else 0,
                                                    item[0].key))


@dataclass(frozen=True)
class PlatformStack:
    """A stack that is not a shard, checked against the same budget: ``hint`` says what makes it grow
    and what to change."""

    stack_name: str
    hint: str
    label: str = "stack"


# -- the size check ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StackSize:
    resources: int
    template_bytes: int


def measure(template_path: str | Path) -> StackSize:
    """Resources and bytes of a synthesized template, as CloudFormation receives it."""
    raw = Path(template_path).read_bytes()
    return StackSize(resources=len(json.loads(raw).get("Resources", {})), template_bytes=len(raw))


def size_problems(
    sizes: Mapping[str, StackSize], shards: Mapping[str, Shard | PlatformStack], *,
    resource_limit: int = RESOURCE_LIMIT, bytes_limit: int = TEMPLATE_BYTES_LIMIT, budget: float = SHARD_BUDGET,
) -> dict[str, str]:
    """Stack name -> what is wrong, for each checked stack over ``budget`` of either limit (stacks not in
    ``shards`` are ignored)."""
    max_resources, max_bytes = int(resource_limit * budget), int(bytes_limit * budget)
    problems = {}
    for stack_name, size in sizes.items():
        shard = shards.get(stack_name)
        if shard is None:
            continue
        over = []
        if size.resources > max_resources:
            over.append(f"{size.resources} resources (more than {max_resources}, {budget:.0%} of CloudFormation's "
                        f"{resource_limit} per stack)")
        if size.template_bytes > max_bytes:
            over.append(f"{size.template_bytes} template bytes (more than {max_bytes}, {budget:.0%} of "
                        f"CloudFormation's {bytes_limit})")
        if over:
            problems[stack_name] = f"{shard.label} {stack_name} has {' and '.join(over)}: {shard.hint}"
    return problems


@jsii.implements(IPolicyValidationPlugin)
class ShardSizeCheck:
    """A CDK validation plugin: after synthesis, refuses every checked stack over ``budget`` of
    CloudFormation's resource or template-size limit (synth fails with the report, no traceback).

    :param shards: the stacks to check (endpoint shards and the platform's other stacks), matched by
        stack id (``build_platform`` gives every stack its name as id); other stacks are not checked.
    """

    def __init__(
        self, shards: Iterable[Shard | PlatformStack], *, resource_limit: int = RESOURCE_LIMIT,
        bytes_limit: int = TEMPLATE_BYTES_LIMIT, budget: float = SHARD_BUDGET,
    ) -> None:
        self._shards = {s.stack_name: s for s in shards}
        self._limits = dict(resource_limit=resource_limit, bytes_limit=bytes_limit, budget=budget)

    # jsii reads the interface's properties through Python properties.
    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return [RULE]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        # The stack id is the last part of its construct path (a Stage adds its own path in front).
        stacks = {s.stack_construct_path.rsplit("/", 1)[-1]: s for s in context.stack_templates}
        checked = {name: stacks[name] for name in self._shards if name in stacks}
        problems = size_problems(
            {name: measure(s.template_path) for name, s in checked.items()}, self._shards, **self._limits
        )
        violations = [
            PolicyViolation(
                rule_name=RULE, description=message,
                fix=self._shards[name].hint,
                violating_resources=[PolicyViolatingResource(
                    resource_logical_id="Resources", construct_path=checked[name].stack_construct_path,
                    template_path=checked[name].template_path, locations=["Resources"],
                )],
            )
            for name, message in problems.items()
        ]
        return PolicyValidationPluginReport(success=not violations, violations=violations)
