"""Updates CloudFormation cannot apply in one step: an instance-type change of an autoscaled variant.

SageMaker refuses ``UpdateEndpoint`` when it would change the instance type of, or remove, a variant
registered with Application Auto Scaling (SageMaker Developer Guide, "Update endpoints that use auto
scaling": deregister, update, register again), and an inference-component endpoint refuses any other
instance type. Two custom resources (``lambda/endpoint_scaling_guard``) around the endpoint make the
first deploy in one ``cdk deploy`` and stop the second before anything changes:

``ScalingGuard`` (phase ``before``) <- endpoint config, endpoint <- ``ScalingRestore`` (phase ``after``)
<- scalable targets <- scaling policies (named after the variant's instance types, so replaced).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..compliance import acknowledge, nag_resource_id
from .specs import ScheduledScalingSpec, VariantSpec

RESOURCE_TYPE = "Custom::EndpointScalingGuard"
CODE_NAME = "endpoint_scaling_guard"
FUNCTION_ID = "EndpointScalingGuardFunction"
KIND_INSTANCES = "instances"
KIND_INFERENCE_COMPONENTS = "inference-components"


def instance_types_fingerprint(variant: VariantSpec) -> str:
    """8 hex digits naming the variant's instance types (with fallbacks): part of its policy names."""
    return hashlib.sha256(",".join(variant.instance_types).encode()).hexdigest()[:8]


def _function(scope: Construct, key: kms.IKey | None):
    """One guard function per stack, shared by its endpoints."""
    from ..lifecycle.reliable_function import ReliableFunction  # lifecycle imports inference

    stack = Stack.of(scope)
    existing = stack.node.try_find_child(FUNCTION_ID)
    if existing is not None:
        return existing
    guard = ReliableFunction(
        stack, FUNCTION_ID, code_name=CODE_NAME, key=key, reserved_concurrency=2, timeout=Duration.minutes(2),
        description="CloudFormation custom resource: deregisters/registers SageMaker variants' scalable targets "
        "around an instance-type change (UpdateEndpoint refuses it for registered variants)",
    )
    targets = stack.format_arn(
        service="application-autoscaling", resource="scalable-target", resource_name="*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    guard.add_to_role_policy(
        iam.PolicyStatement(
            sid="ReRegisterVariantTargets",
            actions=[
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:PutScheduledAction",
            ],
            resources=[targets],
        )
    )
    configs = stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name="*")
    guard.add_to_role_policy(
        iam.PolicyStatement(sid="ReadEndpointConfigs", actions=["sagemaker:DescribeEndpointConfig"], resources=[configs])
    )
    acknowledge(
        guard.role,
        "Scalable targets are named by an id Application Auto Scaling generates at registration "
        "(scalable-target/<id>), and endpoint configs by CloudFormation: neither name is known at synth. "
        "The handler acts only on the resource ids of its own endpoints' variants.",
        f"AwsSolutions-IAM5[Resource::{nag_resource_id(stack, targets)}]",
        f"AwsSolutions-IAM5[Resource::{nag_resource_id(stack, configs)}]",
    )
    return guard


def _variants(variants: Sequence[VariantSpec], scaling: Mapping[str, dict] | None) -> list[dict]:
    return [
        {"VariantName": v.name, "InstanceTypes": list(v.instance_types),
         **({"Scaling": scaling[v.name]} if scaling and v.name in scaling else {})}
        for v in variants
    ]


def scaling_properties(
    *, resource_id: str, dimension: str, min_capacity: int, max_capacity: int, schedules: Sequence[ScheduledScalingSpec]
) -> dict:
    """A variant's target as the handler re-registers it (the same values as the ScalableTarget)."""
    return {
        "ResourceId": resource_id, "ScalableDimension": dimension,
        "MinCapacity": min_capacity, "MaxCapacity": max_capacity,
        "ScheduledActions": [
            {k: v for k, v in (("Name", s.name), ("Schedule", s.schedule), ("Timezone", s.time_zone),
                               ("MinCapacity", s.min_capacity), ("MaxCapacity", s.max_capacity)) if v is not None}
            for s in schedules
        ],
    }


class UpdateGuard(Construct):
    """``before`` and (for scaled variants) ``after``: the two custom resources of one endpoint."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        endpoint_arn: str,
        kind: str,
        variants: Sequence[VariantSpec],
        scaling: Mapping[str, dict] | None,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, id)
        guard = _function(self, key)
        guard.add_to_role_policy(
            iam.PolicyStatement(
                sid=None, actions=["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"],
                resources=[endpoint_arn],
            )
        )
        common = {"EndpointName": endpoint_name, "Kind": kind, "Variants": _variants(variants, scaling)}

        def resource(name: str, phase: str) -> CustomResource:
            return CustomResource(
                self, name, service_token=guard.function.function_arn, resource_type=RESOURCE_TYPE,
                properties={"Phase": phase, **common}, service_timeout=Duration.minutes(5),
            )

        self.before = resource("Before", "before")
        self.after = resource("After", "after") if scaling else None
