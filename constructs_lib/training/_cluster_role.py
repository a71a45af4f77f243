"""IAM of :class:`~constructs_lib.training.cluster.HyperPodCluster`: the execution role's policies and the
acknowledged grants of the lifecycle-script deployment handler.

Which actions accept resource-level permissions: see :mod:`constructs_lib.training._iam`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy

from constructs_lib.compliance import acknowledge
from constructs_lib.training._cluster_spec import EksOrchestration
from constructs_lib.training._iam import (
    ECR_PULL_ACTIONS,
    SSM_SESSION_CHANNEL_ACTIONS,
    add_network_interface_policy,
    log_group_arn,
)
from constructs_lib.training._nag import wildcard_action, wildcard_resource
from constructs_lib.training.metrics import NAMESPACE

if TYPE_CHECKING:
    from constructs_lib.training.cluster import HyperPodCluster

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
# Log groups HyperPod writes node and lifecycle logs to: /aws/sagemaker/Clusters/<name>/<cluster id>.
CLUSTER_LOG_GROUP_PREFIX = "/aws/sagemaker/Clusters"
# Construct id prefix of aws-cdk-lib's BucketDeployment handler (a singleton per stack).
BUCKET_DEPLOYMENT_HANDLER_PREFIX = "Custom::CDKBucketDeployment"

# AWS's HyperPod registry of the reference observability images (dcgm-exporter, OpenTelemetry
# collector): awsome-distributed-training base-config/observability/install_*.sh pull from it.
HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT = "602401143452"
HYPERPOD_OBSERVABILITY_REPOSITORIES = ("hyperpod/dcgm_exporter", "hyperpod/otel_collector")


def acknowledge_deployment_handler(
    cluster: HyperPodCluster, deployment: s3deploy.BucketDeployment, asset: s3_assets.Asset
) -> None:
    """Acknowledge what aws-cdk-lib's BucketDeployment handler (one per stack) knowingly does.

    HyperPod reads lifecycle scripts as separate objects under a prefix, which only a deploy-time
    copy can produce from a CDK asset; the copy is aws-cdk-lib's BucketDeployment handler.
    """
    stack = Stack.of(cluster)
    handlers = [
        child
        for child in stack.node.children
        if child.node.id.startswith(BUCKET_DEPLOYMENT_HANDLER_PREFIX)
    ]
    bucket_key = cluster.lifecycle_bucket.encryption_key
    s3_actions = ["s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"]
    kms_actions = ["kms:ReEncrypt*", "kms:GenerateDataKey*"] if bucket_key is not None else []
    for handler in handlers:
        acknowledge(
            handler,
            "aws-cdk-lib's BucketDeployment handler: a CloudFormation custom resource run only at deploy "
            "time to unpack the lifecycle-script asset into the lifecycle bucket. Its grants come from "
            "Bucket.grantRead/grantReadWrite on the CDK asset bucket and the lifecycle bucket "
            "(and their KMS key).",
            *(wildcard_action(a) for a in s3_actions + kms_actions),
            wildcard_resource(handler, asset.bucket.arn_for_objects("*")),
            wildcard_resource(handler, cluster.lifecycle_bucket.arn_for_objects("*")),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
        acknowledge(
            handler,
            "The runtime of aws-cdk-lib's BucketDeployment handler is chosen by the pinned aws-cdk-lib.",
            "AwsSolutions-L1",
            "Serverless-LambdaLatestVersion",
        )
        acknowledge(
            handler,
            "CloudFormation invokes this custom-resource handler synchronously, a few times per deployment: "
            "a failure fails the deployment and shows in the stack events, so there is no asynchronous "
            "event to dead-letter, no concurrency to reserve and nothing to trace across services. It "
            "talks only to S3, outside the training VPC.",
            "HIPAA.Security-LambdaConcurrency",
            "NIST.800.53.R5-LambdaConcurrency",
            "HIPAA.Security-LambdaDLQ",
            "NIST.800.53.R5-LambdaDLQ",
            "Serverless-LambdaDLQ",
            "HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
            "Serverless-LambdaTracing",
        )


def grant_execution_role(
    cluster: HyperPodCluster, ecr_repositories: Sequence[ecr.IRepository], ebs_encryption_key: kms.IKey | None
) -> None:
    role = cluster.execution_role
    cluster.execution_policies.append(
        add_network_interface_policy(
            cluster,
            "NetworkInterfacePolicy",
            role=role,
            subnets=cluster.subnets,
            security_groups=[cluster.security_group],
        )
    )

    # Lifecycle scripts: read only this cluster's prefix.
    objects = cluster.lifecycle_bucket.arn_for_objects(f"{cluster.lifecycle_prefix}/*")
    lifecycle = iam.ManagedPolicy(
        cluster,
        "LifecycleScriptsPolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="ReadLifecycleScripts", actions=["s3:GetObject"], resources=[objects]
            ),
            iam.PolicyStatement(
                sid="ListLifecycleScripts",
                actions=["s3:ListBucket"],
                resources=[cluster.lifecycle_bucket.bucket_arn],
                conditions={
                    "StringLike": {"s3:prefix": [cluster.lifecycle_prefix, f"{cluster.lifecycle_prefix}/*"]}
                },
            ),
        ],
    )
    bucket_key = cluster.lifecycle_bucket.encryption_key
    if bucket_key is not None:
        lifecycle.add_statements(
            iam.PolicyStatement(
                sid="DecryptLifecycleScripts", actions=["kms:Decrypt"], resources=[bucket_key.key_arn]
            )
        )
    cluster.execution_policies.append(lifecycle)
    acknowledge(
        lifecycle,
        "HyperPod downloads every object under the lifecycle prefix of this cluster; the prefix is "
        "content-addressed and holds nothing else.",
        wildcard_resource(lifecycle, objects),
    )

    # Node logs and metrics: HyperPod writes to /aws/sagemaker/Clusters/<name>/<cluster id>,
    # the agent publishes to this construct's namespace.
    group_arn = log_group_arn(cluster, f"{CLUSTER_LOG_GROUP_PREFIX}/{cluster.cluster_name}/*")
    stream_arn = f"{group_arn}:log-stream:*"
    telemetry = iam.ManagedPolicy(
        cluster,
        "TelemetryPolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="CreateClusterLogGroup", actions=["logs:CreateLogGroup"], resources=[group_arn]
            ),
            iam.PolicyStatement(
                sid="WriteClusterLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[group_arn, stream_arn],
            ),
            iam.PolicyStatement(
                sid="PutNodeMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": [NAMESPACE, CLUSTER_LOG_GROUP_PREFIX]}
                },
            ),
            iam.PolicyStatement(
                sid="SsmSessionChannels", actions=list(SSM_SESSION_CHANNEL_ACTIONS), resources=["*"]
            ),
        ],
    )
    cluster.execution_policies.append(telemetry)
    acknowledge(
        telemetry,
        "HyperPod names each cluster's log group /aws/sagemaker/Clusters/<name>/<cluster id> with an id "
        "known only after creation, so the group and its streams are matched by the cluster name's "
        "prefix. cloudwatch:PutMetricData and the ssmmessages channel actions (SSM sessions to nodes) "
        "support no resource-level permissions; metrics are limited by the cloudwatch:namespace condition.",
        wildcard_resource(telemetry, group_arn),
        wildcard_resource(telemetry, stream_arn),
        wildcard_resource(telemetry, "*"),
    )

    if cluster.shared_storage is not None:
        storage_policy = iam.ManagedPolicy(
            cluster,
            "SharedStoragePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeFileSystems", actions=["fsx:DescribeFileSystems"], resources=["*"]
                )
            ],
        )
        cluster.execution_policies.append(storage_policy)
        acknowledge(
            storage_policy,
            "fsx:DescribeFileSystems supports no resource-level permissions (IAM action table); the "
            "lifecycle scripts only read the file system's state.",
            wildcard_resource(storage_policy, "*"),
        )

    if isinstance(cluster.orchestration, EksOrchestration) or ecr_repositories:
        registry = iam.ManagedPolicy(
            cluster,
            "ContainerRegistryPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
                )
            ],
        )
        if ecr_repositories:
            registry.add_statements(
                iam.PolicyStatement(
                    sid="PullImages",
                    actions=list(ECR_PULL_ACTIONS),
                    resources=[r.repository_arn for r in ecr_repositories],
                )
            )
        findings = [wildcard_resource(registry, "*")]
        reason = "ecr:GetAuthorizationToken supports no resource-level permissions."
        if isinstance(cluster.orchestration, EksOrchestration):
            eks_cluster_arn = cluster.orchestration.cluster_arn
            registry.add_statements(
                # EKS add-on and HyperPod agent images live in AWS-owned registries whose
                # account differs per region, so the repository ARN cannot be named in advance.
                iam.PolicyStatement(
                    sid="PullEksSystemImages", actions=list(ECR_PULL_ACTIONS), resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="PodIdentity",
                    actions=["eks-auth:AssumeRoleForPodIdentity"],
                    resources=[eks_cluster_arn],
                ),
            )
            reason += (
                " EKS nodes pull add-on and HyperPod agent images from AWS-owned registries whose "
                "account id differs per region."
            )
        cluster.execution_policies.append(registry)
        acknowledge(registry, reason, *findings)
    if isinstance(cluster.orchestration, EksOrchestration):
        from constructs_lib.training.eks import add_vpc_cni_policy

        # On HyperPod nodes the VPC CNI runs with the node's (execution) role.
        cluster.execution_policies.append(
            add_vpc_cni_policy(
                cluster, "VpcCniPolicy", role=role, subnets=cluster.subnets, security_groups=[cluster.security_group]
            )
        )
    if cluster.prometheus is not None:
        stack = Stack.of(cluster)
        repositories = [
            stack.format_arn(service="ecr", account=HYPERPOD_OBSERVABILITY_REGISTRY_ACCOUNT, resource="repository",
                             resource_name=name)
            for name in HYPERPOD_OBSERVABILITY_REPOSITORIES
        ]
        remote_write = iam.ManagedPolicy(
            cluster,
            "PrometheusRemoteWritePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="RemoteWrite", actions=["aps:RemoteWrite"], resources=[cluster.prometheus.workspace_arn]
                ),
                iam.PolicyStatement(sid="EcrLoginForExporters", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                iam.PolicyStatement(
                    sid="PullExporterImages", actions=list(ECR_PULL_ACTIONS), resources=repositories
                ),
            ],
        )
        cluster.execution_policies.append(remote_write)
        acknowledge(
            remote_write,
            "ecr:GetAuthorizationToken supports no resource-level permissions; the exporter images are "
            "pulled from the two named repositories only.",
            wildcard_resource(remote_write, "*"),
        )
    if ebs_encryption_key is not None:
        cluster.execution_policies.append(
            iam.ManagedPolicy(
                cluster,
                "EbsVolumeKeyPolicy",
                roles=[role],
                statements=[
                    iam.PolicyStatement(
                        sid="UseEbsVolumeKey",
                        actions=[
                            "kms:CreateGrant",
                            "kms:Decrypt",
                            "kms:DescribeKey",
                            "kms:Encrypt",
                            "kms:GenerateDataKeyWithoutPlaintext",
                            "kms:ReEncryptFrom",
                            "kms:ReEncryptTo",
                        ],
                        resources=[ebs_encryption_key.key_arn],
                    )
                ],
            )
        )
