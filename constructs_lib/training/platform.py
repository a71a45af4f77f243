"""``TrainingPlatform``: what SageMaker training jobs of a team share (role, key, buckets, images, registry)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.errors import Problems
from constructs_lib.training import _limits
from constructs_lib.training._iam import ECR_PULL_ACTIONS, add_network_interface_policy, log_group_arn
from constructs_lib.training._nag import wildcard_resource
from constructs_lib.training._resources import access_logs_bucket, create_key, secure_bucket
from constructs_lib.training.network import TrainingNetwork

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TRAINING_METRIC_NAMESPACE = "/aws/sagemaker/TrainingJobs"
DEFAULT_PARAMETER_PREFIX = "/aiplatform/training"
_PARAMETER_PREFIX = re.compile(r"^/[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$")


class ParameterName:
    """Leaf names of the SSM parameters under ``parameter_prefix``."""

    EXECUTION_ROLE_ARN = "execution-role-arn"
    ARTIFACTS_BUCKET = "artifacts-bucket-name"
    KMS_KEY_ARN = "kms-key-arn"
    ECR_REPOSITORY_URI = "ecr-repository-uri"
    SUBNET_IDS = "subnet-ids"
    SECURITY_GROUP_ID = "security-group-id"


class TrainingPlatform(Construct):
    """Training-job execution role, KMS key, artifacts bucket, ECR repository, model registry, SSM parameters.

    :param encryption_key: key for the bucket, repository and training volumes. Default: a new key
        (rotation on, retained).
    :param artifacts_bucket: an existing bucket for training data, checkpoints and model artifacts
        (e.g. the platform's one bucket). Objects it holds must be readable with ``encryption_key``
        or with a key the training-job role may use. Default: a new KMS-encrypted, versioned,
        access-logged bucket (and its access-log bucket), retained.
    :param network: where VPC-attached training jobs run; the role gets the network-interface
        permissions for its private subnets and security group, and both are published. Default:
        none (jobs without VPC configuration).
    :param model_package_groups: names of SageMaker model package groups (model registry) to create.
        Default: none.
    :param parameter_prefix: SSM parameter path the platform publishes under. Default
        ``/aiplatform/training``.
    :param repository_removal_policy: Default ``RETAIN`` (images are build outputs other stacks pin).
    :param untagged_image_expiry: untagged images (superseded pushes, failed builds) expire this long
        after they were pushed. Default 7 days.
    :param max_image_count: the repository keeps the newest this many images (pinned tags beyond it
        expire: keep it above the number of tags pipelines and clusters refer to). Default 100.
    :param model_package_group_removal_policy: Default ``RETAIN`` (the registry holds every model
        version and its approval history; CloudFormation cannot delete a group with versions anyway).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        artifacts_bucket: s3.IBucket | None = None,
        network: TrainingNetwork | None = None,
        model_package_groups: Sequence[str] = (),
        parameter_prefix: str = DEFAULT_PARAMETER_PREFIX,
        repository_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        untagged_image_expiry: Duration = Duration.days(7),
        max_image_count: int = 100,
        model_package_group_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        _validate(
            self.node.path, model_package_groups=list(model_package_groups), parameter_prefix=parameter_prefix
        )
        self.encryption_key: kms.IKey = encryption_key or create_key(
            self, "Key", description=f"{self.node.path} training data, artifacts and images"
        )
        # Created only without an existing bucket (its access logs are then its owner's business).
        self.access_logs_bucket: s3.Bucket | None = None
        if artifacts_bucket is None:
            self.access_logs_bucket = access_logs_bucket(self, "AccessLogsBucket")
            artifacts_bucket = secure_bucket(
                self,
                "ArtifactsBucket",
                key=self.encryption_key,
                access_logs=self.access_logs_bucket,
                access_logs_prefix="artifacts-bucket/",
            )
        self.artifacts_bucket: s3.IBucket = artifacts_bucket
        self.repository = ecr.Repository(
            self,
            "Repository",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=self.encryption_key,
            removal_policy=repository_removal_policy,
            # Images do not pile up: untagged ones expire, and only the newest ``max_image_count`` stay.
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1, description="Expire untagged images",
                    tag_status=ecr.TagStatus.UNTAGGED, max_image_age=untagged_image_expiry,
                ),
                ecr.LifecycleRule(
                    rule_priority=2, description=f"Keep the newest {max_image_count} images",
                    tag_status=ecr.TagStatus.ANY, max_image_count=max_image_count,
                ),
            ],
        )
        self.training_job_role = iam.Role(
            self,
            "TrainingJobRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_PRINCIPAL),
            description="SageMaker training jobs: artifacts, images, logs and metrics of the training platform",
        )
        self._grant_training_job_role(network)

        self.model_package_groups: dict[str, sagemaker.CfnModelPackageGroup] = {
            name: sagemaker.CfnModelPackageGroup(
                self,
                f"ModelPackageGroup-{name}",
                model_package_group_name=name,
                model_package_group_description=f"Models trained on {self.node.path}",
            )
            for name in model_package_groups
        }
        for group in self.model_package_groups.values():
            group.apply_removal_policy(model_package_group_removal_policy)

        self.parameters: dict[str, ssm.StringParameter | ssm.StringListParameter] = {}
        self._publish(
            parameter_prefix,
            ParameterName.EXECUTION_ROLE_ARN,
            self.training_job_role.role_arn,
            "Execution role ARN for SageMaker training jobs",
        )
        self._publish(
            parameter_prefix,
            ParameterName.ARTIFACTS_BUCKET,
            self.artifacts_bucket.bucket_name,
            "Bucket for training data and model artifacts",
        )
        self._publish(
            parameter_prefix,
            ParameterName.KMS_KEY_ARN,
            self.encryption_key.key_arn,
            "KMS key for training volumes, outputs and artifacts",
        )
        self._publish(
            parameter_prefix,
            ParameterName.ECR_REPOSITORY_URI,
            self.repository.repository_uri,
            "ECR repository for training images",
        )
        if network is not None:
            self.parameters[ParameterName.SUBNET_IDS] = ssm.StringListParameter(
                self,
                "Parameter-" + ParameterName.SUBNET_IDS,
                parameter_name=f"{parameter_prefix}/{ParameterName.SUBNET_IDS}",
                string_list_value=[s.subnet_id for s in network.private_subnets],
                description="Private subnets for VPC-attached training jobs",
            )
            self._publish(
                parameter_prefix,
                ParameterName.SECURITY_GROUP_ID,
                network.security_group.security_group_id,
                "Security group for training jobs",
            )

    # -- grants -----------------------------------------------------------------------------------
    def grant_pass_training_role(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start training jobs with the platform's role (``iam:PassRole`` to SageMaker)."""
        return self.training_job_role.grant_pass_role(grantee)

    # -- construction -----------------------------------------------------------------------------
    def _publish(self, prefix: str, name: str, value: str, description: str) -> None:
        self.parameters[name] = ssm.StringParameter(
            self,
            f"Parameter-{name}",
            parameter_name=f"{prefix}/{name}",
            string_value=value,
            description=description,
        )

    def _key_arns(self) -> list[str]:
        """The platform key, plus the artifacts bucket's own key when an existing bucket uses another one."""
        keys = [self.encryption_key]
        bucket_key = self.artifacts_bucket.encryption_key
        if bucket_key is not None and bucket_key is not self.encryption_key:
            keys.append(bucket_key)
        return [k.key_arn for k in keys]

    def _grant_training_job_role(self, network: TrainingNetwork | None) -> None:
        role = self.training_job_role
        objects = self.artifacts_bucket.arn_for_objects("*")
        group_arn = log_group_arn(self, TRAINING_LOG_GROUP)
        stream_arn = f"{group_arn}:log-stream:*"
        policy = iam.ManagedPolicy(
            self,
            "TrainingJobPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadWriteArtifacts",
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[objects],
                ),
                iam.PolicyStatement(
                    sid="ListArtifacts",
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[self.artifacts_bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="UsePlatformKey",
                    actions=[
                        "kms:Decrypt",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                        "kms:DescribeKey",
                        "kms:CreateGrant",
                    ],
                    resources=self._key_arns(),
                ),
                iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                iam.PolicyStatement(
                    sid="PullTrainingImages",
                    actions=list(ECR_PULL_ACTIONS),
                    resources=[self.repository.repository_arn],
                ),
                iam.PolicyStatement(
                    sid="CreateTrainingLogGroup", actions=["logs:CreateLogGroup"], resources=[group_arn]
                ),
                iam.PolicyStatement(
                    sid="WriteTrainingLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[group_arn, stream_arn],
                ),
                iam.PolicyStatement(
                    sid="PutTrainingMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": TRAINING_METRIC_NAMESPACE}},
                ),
            ],
        )
        acknowledge(
            policy,
            "Training jobs read inputs and write checkpoints and model artifacts under keys chosen per job, "
            "so object access covers the platform's artifacts bucket only. Training jobs log to streams "
            "named per job in /aws/sagemaker/TrainingJobs. ecr:GetAuthorizationToken and "
            "cloudwatch:PutMetricData support no resource-level permissions; metrics are limited by the "
            "cloudwatch:namespace condition.",
            wildcard_resource(policy, objects),
            wildcard_resource(policy, stream_arn),
            wildcard_resource(policy, "*"),
        )
        if network is not None:
            add_network_interface_policy(
                self,
                "NetworkInterfacePolicy",
                role=role,
                subnets=network.private_subnets,
                security_groups=[network.security_group],
            )


def _validate(path: str, *, model_package_groups: list[str], parameter_prefix: str) -> None:
    problems = Problems(f"TrainingPlatform {path}")
    check_platform_props(problems, model_package_groups=model_package_groups, parameter_prefix=parameter_prefix)
    problems.raise_if_any()


def check_platform_props(problems: Problems, *, model_package_groups: list[str], parameter_prefix: str) -> None:
    """Every rule on :class:`TrainingPlatform` props (shared by the construct and the config schema)."""
    seen: dict[str, int] = {}
    for index, name in enumerate(model_package_groups):
        where = f"model_package_groups[{index}]"
        if problems.check(
            isinstance(name, str) and bool(_limits.MODEL_PACKAGE_GROUP_NAME_PATTERN.match(name)),
            where,
            name,
            "1-63 letters, digits and hyphens, starting and ending with a letter or digit",
        ):
            if name in seen:
                problems.add(where, name, f"a unique name; model_package_groups[{seen[name]}] has it too")
            seen.setdefault(name, index)
    problems.check(
        isinstance(parameter_prefix, str)
        and bool(_PARAMETER_PREFIX.match(parameter_prefix))
        and not parameter_prefix.lower().startswith(("/aws", "/ssm")),
        "parameter_prefix",
        parameter_prefix,
        "an SSM path such as /aiplatform/training (no trailing /, not under /aws or /ssm)",
    )
