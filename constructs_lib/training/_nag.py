"""Exact cdk-nag finding ids for wildcard permissions, derived from the values the policies use.

cdk-nag 3 acknowledges findings one by one (``AwsSolutions-IAM5[Resource::<...>]``); for resources
built from tokens the finding text contains the flattened CloudFormation reference
(``<LogicalId.Arn>/prefix/*``). This is a complete port of cdk-nag's ``flattenCfnReference``:
unlike ``constructs_lib.compliance.nag_resource_id`` it also renders ``Fn::Sub``, which the CDK
asset bucket's name uses (``cdk-<qualifier>-assets-${AWS::AccountId}-${AWS::Region}``).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from constructs import IConstruct


def flatten_reference(node: Any) -> str:
    """Python port of cdk-nag's ``flattenCfnReference`` (src/utils/flatten-cfn-reference.ts)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def wildcard_resource(scope: IConstruct, resource: str) -> str:
    """``AwsSolutions-IAM5[Resource::...]`` for a policy resource (literal or token)."""
    return f"AwsSolutions-IAM5[Resource::{flatten_reference(Stack.of(scope).resolve(resource))}]"


def wildcard_action(action: str) -> str:
    return f"AwsSolutions-IAM5[Action::{action}]"
