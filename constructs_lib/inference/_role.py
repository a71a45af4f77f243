"""The least-privilege execution role SageMaker assumes for an endpoint's or a component's models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..compliance import acknowledge, nag_resource_id
from ..errors import is_token
from ._validation import ECR_IMAGE, S3_URI
from .specs import ModelSpec


@dataclass
class Grant:
    """A statement for the execution policy plus the wildcard resources it needs acknowledged, and why."""

    statement: iam.PolicyStatement
    wildcard_resources: Sequence[str] = ()
    reason: str = ""


@dataclass
class ExecutionRoleRequest:
    endpoint_name: str
    description: str
    models: Sequence[ModelSpec]
    key: kms.IKey | None = None
    grants: list[Grant] = field(default_factory=list)
    in_vpc: bool = False
    # CloudWatch log groups the containers write to; default the endpoint's
    log_groups: Sequence[str] = ()


def build_execution_role(scope: Construct, request: ExecutionRoleRequest) -> tuple[iam.Role, iam.PolicyDocument]:
    """The ``ExecutionRole`` child of ``scope`` and its inline policy ``ExecutionPolicy`` (returned, so
    callers can add statements until synth): pull only the models' repositories, read only their model
    data (or multi-model prefix), write only the endpoint's logs, plus ``grants``.

    One role per endpoint (or component), never shared: each role reads only its own models' data and
    writes only its own logs. The policy is inline (the role's ``Policies``), so it exists as soon as the
    role does: a model or config that names the role's ARN cannot be created before its permissions
    (a separate policy resource needed an explicit ``DependsOn``), and it is one resource, not two. IAM
    allows 10,240 characters of inline policy per role, more than a managed policy's 6,144 (IAM User
    Guide, "IAM and AWS STS quotas")."""
    stack = Stack.of(scope)
    document = iam.PolicyDocument()
    role = iam.Role(
        scope, "ExecutionRole",
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description=request.description,
        inline_policies={"ExecutionPolicy": document},
    )
    statements: list[iam.PolicyStatement] = []
    repos, objects, prefixes, promoted_prefixes = set(), set(), set(), set()
    for model in request.models:
        promoted = model.promoted
        for image in (model.image, *(promoted.image_repositories if promoted else ())):
            m = ECR_IMAGE.match(image) if not is_token(image) else None
            if m:
                repos.add(
                    stack.format_arn(
                        service="ecr", account=m["account"], region=m["region"], resource="repository",
                        resource_name=m["repo"],
                    )
                )
        for url, into in ((model.model_data_url, objects), (model.model_data_prefix, prefixes)):
            s = S3_URI.match(url) if url and not is_token(url) else None
            if s:
                into.add((s["bucket"], s["key"] or ""))
        # Promoted versions' data: the bucket may be a token (the artifact bucket is named after the account).
        for url in promoted.model_data_prefixes if promoted else ():
            if url.startswith("s3://"):
                bucket, _, key = url.removeprefix("s3://").partition("/")
                promoted_prefixes.add((bucket, key))
    if repos:
        statements.append(
            iam.PolicyStatement(
                sid="PullModelImages",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=sorted(repos),
            )
        )
    if objects:
        statements.append(
            iam.PolicyStatement(
                sid="ReadModelData", actions=["s3:GetObject"],
                resources=sorted(f"arn:{stack.partition}:s3:::{b}/{k}" for b, k in objects),
            )
        )
    promoted_objects = sorted(f"arn:{stack.partition}:s3:::{b}/{k}*" for b, k in promoted_prefixes)
    if promoted_objects:
        statements.append(
            iam.PolicyStatement(sid="ReadPromotedModelData", actions=["s3:GetObject"], resources=promoted_objects)
        )
    prefix_objects = sorted(f"arn:{stack.partition}:s3:::{b}/{k}*" for b, k in prefixes)
    if prefixes:
        statements.append(iam.PolicyStatement(sid="ReadMultiModelData", actions=["s3:GetObject"], resources=prefix_objects))
        for bucket in sorted({b for b, _ in prefixes}):
            statements.append(
                iam.PolicyStatement(
                    sid="ListMultiModelPrefix" + ("" if len({b for b, _ in prefixes}) == 1 else bucket.replace("-", "").replace(".", "")),
                    actions=["s3:ListBucket"],
                    resources=[f"arn:{stack.partition}:s3:::{bucket}"],
                    conditions={"StringLike": {"s3:prefix": sorted(f"{k}*" for b, k in prefixes if b == bucket)}},
                )
            )
    log_groups = [
        stack.format_arn(
            service="logs", resource="log-group", arn_format=ArnFormat.COLON_RESOURCE_NAME, resource_name=name
        )
        for name in (request.log_groups or [f"/aws/sagemaker/Endpoints/{request.endpoint_name}"])
    ]
    statements.append(
        iam.PolicyStatement(
            sid="WriteEndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[*log_groups, *(f"{g}:log-stream:*" for g in log_groups)],
        )
    )
    statements.append(
        iam.PolicyStatement(
            sid="AuthenticateToEcrAndPublishMetrics",
            actions=["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"],
            resources=["*"],
        )
    )
    if request.in_vpc:
        statements.append(
            iam.PolicyStatement(
                sid="ManageVpcNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],
            )
        )
    statements.extend(g.statement for g in request.grants)
    # Promoted model data may be in a bucket encrypted with the key (the platform's artifact bucket).
    if request.key is not None and (request.grants or promoted_objects):
        statements.append(
            iam.PolicyStatement(
                sid="UseEncryptionKey", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[request.key.key_arn]
            )
        )
    document.add_statements(*statements)
    policy = role  # cdk-nag reports an inline policy's findings on its role
    acknowledge(
        role,
        "The execution policy belongs to this one role (one role per endpoint or component) and is deleted "
        "with it; a managed policy would be a second resource per endpoint (CloudFormation: 500 per stack) "
        "and, attached separately, could be missing when SageMaker first assumes the role.",
        "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy",
    )
    star_reason = (
        "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; "
        "image pulls themselves are scoped to the model repositories."
    )
    if request.in_vpc:
        star_reason += (
            " SageMaker creates and describes the elastic network interfaces of VPC-placed models; "
            "those EC2 actions support no resource-level scoping before the interfaces exist."
        )
    acknowledge(policy, star_reason, "AwsSolutions-IAM5[Resource::*]")
    acknowledge(
        policy,
        "Log streams are created by SageMaker per instance under this endpoint's own log group.",
        *(f"AwsSolutions-IAM5[Resource::{nag_resource_id(scope, g)}:log-stream:*]" for g in log_groups),
    )
    if prefix_objects:
        acknowledge(
            policy,
            "A multi-model endpoint loads whichever model a request names, from its own model prefix only.",
            *(f"AwsSolutions-IAM5[Resource::{nag_resource_id(scope, arn)}]" for arn in prefix_objects),
        )
    if promoted_objects:
        acknowledge(
            policy,
            "A promotion may deploy any approved version whose model data lies under these prefixes; CloudFormation "
            "then creates the endpoint's model from the version recorded in the promotion parameters.",
            *(f"AwsSolutions-IAM5[Resource::{nag_resource_id(scope, arn)}]" for arn in promoted_objects),
        )
    for grant in request.grants:
        if grant.wildcard_resources:
            acknowledge(
                policy, grant.reason,
                *(f"AwsSolutions-IAM5[Resource::{nag_resource_id(scope, arn)}]" for arn in grant.wildcard_resources),
            )
    return role, document
