"""What a CloudFormation update from one synthesized platform to another would do, decided offline.

A resource is *replaced* when, in the same stack under the same logical id, its type changes or a
property the resource's CloudFormation schema lists as ``createOnlyProperties`` changes (the schemas
cfn-lint bundles, us-east-1), or such a property refers (Ref / Fn::GetAtt / Fn::Sub) to a resource that is
itself replaced (a new physical id). It is *removed* when its logical id disappears from its stack, and
*moved* when the same logical id or physical name appears in another stack (CloudFormation would delete
it from one stack and create it in the other: with a fixed physical name the create fails).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

# The resources whose loss or replacement loses data, an identity others depend on, or a running service.
STATEFUL_TYPES = frozenset({
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::FSx::FileSystem",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::SageMaker::Cluster",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::ECR::Repository",
    "AWS::DynamoDB::Table",
})

# Physical-name properties (all create-only in their schemas): a change is a new resource under a new name.
PHYSICAL_NAME = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::SageMaker::Cluster": "ClusterName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::DynamoDB::Table": "TableName",
}


OUTPUT, EXPORT = "output:", "export:"


@cache
def create_only_properties(cfn_type: str) -> tuple[tuple[str, ...], ...]:
    """The type's ``createOnlyProperties`` as property paths, from the schema bundled with cfn-lint."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", cfn_type).schema
    except Exception:  # noqa: BLE001 - a custom resource type has no schema: treat as updatable
        return ()
    pointers = schema.get("createOnlyProperties", [])
    return tuple(tuple(p.removeprefix("/properties/").split("/")) for p in pointers)


def _at(value, path: tuple[str, ...]):
    for part in path:
        if part == "*" and isinstance(value, list):
            return [_at(v, ()) for v in value]
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _targets(value) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::GetStackOutput":  # CDK's weak cross-stack reference
                found.add(f"{OUTPUT}{inner['StackName']}/{inner['OutputName']}")
            elif key == "Fn::ImportValue" and isinstance(inner, str):
                found.add(f"{EXPORT}{inner}")
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {p.split("}")[0].split(".")[0] for p in str(text).split("${")[1:]}
                if isinstance(inner, list):
                    found |= _targets(inner[1])
            else:
                found |= _targets(inner)
    elif isinstance(value, list):
        for item in value:
            found |= _targets(item)
    return found


@dataclass
class UpdatePlan:
    """Keys are (stack concern, logical id)."""

    added: set[tuple[str, str]] = field(default_factory=set)
    removed: set[tuple[str, str]] = field(default_factory=set)
    replaced: dict[tuple[str, str], str] = field(default_factory=dict)  # -> why
    moved: dict[tuple[str, str], str] = field(default_factory=dict)  # -> the stack it moves to
    types: dict[tuple[str, str], str] = field(default_factory=dict)

    def stateful_problems(self) -> list[str]:
        """Every stateful resource this update would replace, remove or move."""
        problems = []
        for key in sorted(self.removed):
            if self.types[key] in STATEFUL_TYPES:
                where = f" (moves to {self.moved[key]})" if key in self.moved else ""
                problems.append(f"{key[0]}/{key[1]} {self.types[key]} removed{where}")
        for key, why in sorted(self.replaced.items()):
            if self.types[key] in STATEFUL_TYPES:
                problems.append(f"{key[0]}/{key[1]} {self.types[key]} replaced: {why}")
        return problems

    def replaced_types(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for key in self.replaced:
            out.setdefault(self.types[key], set()).add(key[1])
        return out


def plan_update(
    before: dict[str, dict], after: dict[str, dict], stack_names: dict[str, str] | None = None
) -> UpdatePlan:
    """Compare {stack key: template body} before and after; see the module docstring.

    ``stack_names`` maps a stack key to its CloudFormation stack name (for ``Fn::GetStackOutput``).
    """
    stack_names = stack_names or {}
    plan = UpdatePlan()
    located_after: dict[str, str] = {}
    names_after: dict[tuple[str, str], str] = {}
    for stack, template in after.items():
        for logical_id, resource in template.get("Resources", {}).items():
            plan.types.setdefault((stack, logical_id), resource["Type"])
            located_after.setdefault(logical_id, stack)
            prop = PHYSICAL_NAME.get(resource["Type"])
            name = resource.get("Properties", {}).get(prop) if prop else None
            if name is not None:
                names_after[(resource["Type"], json.dumps(name, sort_keys=True))] = stack
    for stack, template in before.items():
        old = template.get("Resources", {})
        new = after.get(stack, {}).get("Resources", {})
        for logical_id, resource in old.items():
            key = (stack, logical_id)
            plan.types[key] = resource["Type"]
            if logical_id not in new:
                plan.removed.add(key)
                prop = PHYSICAL_NAME.get(resource["Type"])
                name = resource.get("Properties", {}).get(prop) if prop else None
                target = located_after.get(logical_id) or names_after.get(
                    (resource["Type"], json.dumps(name, sort_keys=True))
                )
                if target and target != stack:
                    plan.moved[key] = target
        plan.added |= {(stack, lid) for lid in new if lid not in old}
    changed = True
    while changed:  # a create-only property that refers to a replaced resource gets a new value at deploy
        changed = False
        replaced_outputs = _replaced_outputs(after, plan, stack_names)
        for stack, template in before.items():
            new = after.get(stack, {}).get("Resources", {})
            replaced_here = {lid for (s, lid) in plan.replaced if s == stack} | replaced_outputs
            for logical_id, resource in template.get("Resources", {}).items():
                key = (stack, logical_id)
                if key in plan.replaced or logical_id not in new:
                    continue
                why = _replacement(resource, new[logical_id], replaced_here)
                if why:
                    plan.replaced[key] = why
                    changed = True
    return plan


def _replaced_outputs(after: dict[str, dict], plan: UpdatePlan, stack_names: dict[str, str]) -> set[str]:
    """Outputs (as weak-reference and export tokens) whose value refers to a replaced resource."""
    found = set()
    for stack, template in after.items():
        replaced = {lid for (s, lid) in plan.replaced if s == stack}
        stack_name = stack_names.get(stack, stack)
        for name, output in template.get("Outputs", {}).items():
            if _targets(output.get("Value")) & replaced:
                found.add(f"{OUTPUT}{stack_name}/{name}")
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    found.add(f"{EXPORT}{export}")
    return found


def _replacement(old: dict, new: dict, replaced: set[str]) -> str | None:
    if old["Type"] != new["Type"]:
        return f"type {old['Type']} -> {new['Type']}"
    for path in create_only_properties(old["Type"]):
        before, after = _at(old.get("Properties", {}), path), _at(new.get("Properties", {}), path)
        if json.dumps(before, sort_keys=True) != json.dumps(after, sort_keys=True):
            return f"create-only {'/'.join(path)} changed"
        if after is not None and _targets(after) & replaced:
            return f"create-only {'/'.join(path)} refers to replaced {sorted(_targets(after) & replaced)}"
    return None
